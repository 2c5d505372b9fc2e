//! The desktop API without a window: the same calls the Tauri shell forwards.
//!
//! Long: one test per screen flow, on the demo workspace and its fixtures, which they share.

use std::sync::{Arc, Mutex};

use closebook_engine::ErrorCode;
use closebook_engine::secrets::{MemorySecrets, SecretError, SecretStore};
use jiff::Timestamp;

use super::*;
use crate::accounts::*;
use crate::reconcile::*;

#[derive(Default)]
struct Recorder(Mutex<Vec<ProgressEvent>>);

impl EventSink for Recorder {
    fn progress(&self, event: ProgressEvent) {
        self.0.lock().unwrap().push(event);
    }
}

fn app(dir: &Path) -> (App, Arc<Recorder>) {
    let events = Arc::new(Recorder::default());
    let now: Timestamp = "2026-11-02T09:00:00Z".parse().unwrap();
    let app = App::new(
        dir.to_path_buf(),
        Arc::new(MemorySecrets::new()),
        events.clone(),
        Arc::new(move || now),
    );
    (app, events)
}

fn demo_app(dir: &Path) -> (App, Arc<Recorder>) {
    let (app, events) = app(dir);
    app.open_demo("op-demo".into()).expect("demo opens");
    (app, events)
}

#[test]
fn nothing_open_is_a_clear_error_not_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let (app, _) = app(tmp.path());
    let overview = app.app_overview().unwrap();
    assert!(overview.open.is_none());
    assert!(overview.recent.is_empty());
    assert!(overview.keychain.available);
    let err = app.ledger_tree(None).unwrap_err();
    assert_eq!(err.code, ErrorCode::WorkspaceNotFound);
    assert!(
        err.message.contains("no workspace is open"),
        "{}",
        err.message
    );
}

/// The desktop's start: the workspace opens at once and its summary is computed behind;
/// the first overview has the same counts as an ordinary open, and the workspace is
/// remembered.
#[test]
fn a_workspace_opened_at_start_has_its_summary_by_the_first_overview() {
    let tmp = tempfile::tempdir().unwrap();
    let (app, _) = demo_app(tmp.path());
    let opened = app.app_overview().unwrap().open.unwrap();
    app.close_workspace().unwrap();
    let (fresh, _) = self::app(tmp.path());
    fresh
        .open_workspace_at_start(OpenArgs {
            path: opened.path.clone(),
            key_file: None,
        })
        .unwrap_err(); // Another App, another (in-memory) keychain: the key is not there.
    app.open_workspace_at_start(OpenArgs {
        path: opened.path.clone(),
        key_file: None,
    })
    .unwrap();
    let overview = app.app_overview().unwrap();
    let view = overview.open.unwrap();
    assert_eq!(view.summary.postings, opened.summary.postings);
    assert!(view.summary.postings > 0);
    assert_eq!(overview.recent[0].path, opened.path);
}

#[test]
fn demo_opens_and_is_remembered() {
    let tmp = tempfile::tempdir().unwrap();
    let (app, events) = demo_app(tmp.path());
    let overview = app.app_overview().unwrap();
    let open = overview.open.expect("demo is open");
    assert!(open.demo);
    assert_eq!(open.mode, "test");
    assert_eq!(open.timezone, "America/New_York");
    assert!(open.summary.postings > 0);
    assert_eq!(overview.recent.len(), 1);
    assert_eq!(overview.recent[0].path, open.path);
    assert_eq!(overview.recent[0].last_opened, "2026-11-02T09:00:00Z");
    let seen = events.0.lock().unwrap();
    assert!(seen.iter().all(|e| e.op_id == "op-demo"));
    assert_eq!(seen.last().unwrap().stage, "opened");
}

#[test]
fn tree_rolls_up_and_amounts_arrive_formatted_by_the_engine() {
    let tmp = tempfile::tempdir().unwrap();
    let (app, _) = demo_app(tmp.path());
    let tree = app.ledger_tree(None).unwrap();
    assert_eq!(tree.as_of_label, "All postings");
    let stripe = tree
        .nodes
        .iter()
        .find(|n| n.account == "assets:stripe")
        .expect("assets:stripe node");
    assert!(stripe.has_children);
    let usd = stripe.total.iter().find(|a| a.currency == "USD").unwrap();
    let minor: i64 = usd.minor.parse().unwrap();
    let expected = closebook_engine::money::Money::new(
        minor,
        closebook_engine::money::Unit::iso("usd").unwrap(),
    );
    assert_eq!(usd.formatted, expected.format_number());
    assert_eq!(usd.negative, minor < 0);
    // The tree as of a day before any posting holds nothing.
    let early = app.ledger_tree(Some("2000-01-01".into())).unwrap();
    assert!(early.nodes.is_empty());
    assert_eq!(early.as_of_label, "End of 2000-01-01, America/New_York");
}

#[test]
fn postings_page_by_cursor_without_gaps_or_repeats() {
    let tmp = tempfile::tempdir().unwrap();
    let (app, _) = demo_app(tmp.path());
    let total = app.app_overview().unwrap().open.unwrap().summary.postings;
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = app
            .ledger_postings(PostingQuery {
                after: after.clone(),
                limit: Some(97),
                ..PostingQuery::default()
            })
            .unwrap();
        seen.extend(page.rows.iter().map(|r| r.seq));
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(seen.len() as u64, total);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len());
}

#[test]
fn filters_narrow_and_bad_filters_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let (app, _) = demo_app(tmp.path());
    let transfers = app
        .ledger_postings(PostingQuery {
            entry_type: Some("transfer".into()),
            account: Some("liabilities:creators".into()),
            ..PostingQuery::default()
        })
        .unwrap();
    assert!(!transfers.rows.is_empty());
    assert!(
        transfers
            .rows
            .iter()
            .all(|r| r.entry_type == "transfer" && r.account.starts_with("liabilities:creators:"))
    );
    let one = &transfers.rows[0];
    let by_stripe = app
        .ledger_postings(PostingQuery {
            stripe_id: one.stripe_object_id.clone(),
            ..PostingQuery::default()
        })
        .unwrap();
    assert!(
        by_stripe
            .rows
            .iter()
            .all(|r| r.stripe_object_id == one.stripe_object_id)
    );
    let err = app
        .ledger_postings(PostingQuery {
            from: Some("31/10/2026".into()),
            ..PostingQuery::default()
        })
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput);
    assert!(err.message.contains("YYYY-MM-DD"));
    let err = app
        .ledger_postings(PostingQuery {
            after: Some("garbage".into()),
            ..PostingQuery::default()
        })
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput);
}

#[test]
fn an_entry_drills_down_to_balanced_postings_and_their_source_file() {
    let tmp = tempfile::tempdir().unwrap();
    let (app, _) = demo_app(tmp.path());
    let first = app
        .ledger_postings(PostingQuery {
            entry_type: Some("subscription_payment".into()),
            limit: Some(1),
            ..PostingQuery::default()
        })
        .unwrap();
    let entry = app.ledger_entry(first.rows[0].entry_id.clone()).unwrap();
    assert!(entry.balanced);
    assert!(entry.postings.len() >= 2);
    assert!(entry.totals.iter().all(|t| t.zero));
    assert_eq!(entry.sources.len(), 1);
    assert_eq!(entry.sources[0].source, "ledger.csv");
    assert_eq!(entry.sources[0].kind, "ledger");
    let err = app.ledger_entry("no-such-entry".into()).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput);
}

#[test]
fn a_bad_import_lists_every_problem_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (app, events) = demo_app(tmp.path());
    let before = app.app_overview().unwrap().open.unwrap().summary;
    let file = tmp.path().join("bad.csv");
    std::fs::write(
        &file,
        "entry_id,account,amount_minor,currency,entry_type,created_at\n\
         e1,assets:stripe:payments,12.50,usd,adjustment,2026-10-01T00:00:00Z\n\
         e1,income:other,-1250,usd,adjustment,2026-10-01T00:00:00Z\n\
         e2,assets:stripe:payments,100,xyz,adjustment,2026-10-01T00:00:00Z\n\
         e2,income:other,-100,xyz,adjustment,not-a-time\n",
    )
    .unwrap();
    let err = app
        .import_file(ImportArgs {
            kind: "ledger".into(),
            path: file.display().to_string(),
            format: None,
            op_id: "op-import".into(),
        })
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::ImportRejected);
    let lines: Vec<u64> = err.problems.iter().map(|p| p.line).collect();
    assert!(
        lines.contains(&2) && lines.contains(&4) && lines.contains(&5),
        "{lines:?}"
    );
    assert!(err.problems.iter().all(|p| p.file == "bad.csv"));
    let after = app.app_overview().unwrap().open.unwrap().summary;
    assert_eq!(before.postings, after.postings);
    assert_eq!(before.imports, after.imports);
    // The operation is over: its id can be used again, and cancelling it finds nothing.
    assert!(!app.cancel_operation("op-import".into()).unwrap());
    drop(events);
}

#[test]
fn a_good_import_reports_counts_and_a_second_is_a_no_op() {
    let tmp = tempfile::tempdir().unwrap();
    let (app, events) = demo_app(tmp.path());
    let file = tmp.path().join("adj.csv");
    std::fs::write(
        &file,
        "entry_id,account,amount_minor,currency,entry_type,created_at,description\n\
         adj-1,assets:stripe:payments,1250,usd,adjustment,2026-10-01T00:00:00Z,test\n\
         adj-1,income:other,-1250,usd,adjustment,2026-10-01T00:00:00Z,test\n",
    )
    .unwrap();
    let args = ImportArgs {
        kind: "ledger".into(),
        path: file.display().to_string(),
        format: Some("csv".into()),
        op_id: "op-1".into(),
    };
    let before = app.app_overview().unwrap().open.unwrap().summary.postings;
    let types = app.entry_types().unwrap();
    assert!(!types.contains(&"adjustment".to_string()), "{types:?}");
    assert_eq!(
        app.entry_types().unwrap(),
        types,
        "asked again: the same list"
    );
    let report = app.import_file(args.clone()).unwrap();
    assert_eq!((report.rows_read, report.rows_added), (2, 2));
    // The entry types (kept totals) follow the commit.
    assert!(
        app.entry_types()
            .unwrap()
            .contains(&"adjustment".to_string())
    );
    // The overview's cached counts follow the import.
    let after = app.app_overview().unwrap().open.unwrap().summary.postings;
    assert_eq!(after, before + 2);
    assert!(report.already_imported_as.is_none());
    let again = app.import_file(args).unwrap();
    assert!(again.already_imported_as.is_some());
    assert_eq!(again.rows_added, 0);
    assert!(events.0.lock().unwrap().iter().any(|e| e.op_id == "op-1"));
    // The reader connection sees what the writer committed.
    let page = app
        .ledger_postings(PostingQuery {
            text: Some("adj-1".into()),
            ..PostingQuery::default()
        })
        .unwrap();
    assert_eq!(page.rows.len(), 2);
}

#[test]
fn import_arguments_are_validated() {
    let tmp = tempfile::tempdir().unwrap();
    let (app, _) = demo_app(tmp.path());
    let base = ImportArgs {
        kind: "ledger".into(),
        path: "/nonexistent/file.csv".into(),
        format: None,
        op_id: "op".into(),
    };
    let e = app
        .import_file(ImportArgs {
            kind: "payments".into(),
            ..base.clone()
        })
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert!(e.message.contains("ledger, balances"));
    let e = app
        .import_file(ImportArgs {
            format: Some("xlsx".into()),
            ..base.clone()
        })
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    let e = app.import_file(base.clone()).unwrap_err();
    assert_eq!(e.code, ErrorCode::Io);
    let e = app
        .import_file(ImportArgs {
            op_id: String::new(),
            ..base
        })
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
}

#[test]
fn a_wrong_key_file_is_a_key_error_and_leaves_nothing_open() {
    let tmp = tempfile::tempdir().unwrap();
    let (app, _) = app(tmp.path());
    let ws = tmp.path().join("acme");
    let key = tmp.path().join("acme.key");
    app.create_workspace(CreateArgs {
        path: ws.display().to_string(),
        name: "Acme".into(),
        mode: "live".into(),
        timezone: "Europe/Paris".into(),
        key_file: Some(key.display().to_string()),
    })
    .unwrap();
    app.close_workspace().unwrap();
    // Another valid key in the same file.
    std::fs::write(&key, format!("{}\n", "ab".repeat(32))).unwrap();
    let open = |key_file: Option<String>| {
        app.open_workspace(OpenArgs {
            path: ws.display().to_string(),
            key_file,
        })
    };
    let err = open(Some(key.display().to_string())).unwrap_err();
    assert_eq!(err.code, ErrorCode::KeyWrong);
    assert!(app.app_overview().unwrap().open.is_none());
    let err = open(None).unwrap_err();
    assert_eq!(err.code, ErrorCode::KeyMissing);
    let err = open(Some(tmp.path().join("none.key").display().to_string())).unwrap_err();
    assert_eq!(err.code, ErrorCode::KeyMissing);
    let err = app
        .open_workspace(OpenArgs {
            path: tmp.path().join("nowhere").display().to_string(),
            key_file: None,
        })
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::WorkspaceNotFound);
}

#[test]
fn create_validates_and_recent_list_can_be_forgotten() {
    let tmp = tempfile::tempdir().unwrap();
    let (app, _) = app(tmp.path());
    let bad = app
        .create_workspace(CreateArgs {
            path: tmp.path().join("x").display().to_string(),
            name: "X".into(),
            mode: "production".into(),
            timezone: "UTC".into(),
            key_file: None,
        })
        .unwrap_err();
    assert_eq!(bad.code, ErrorCode::InvalidInput);
    let bad = app
        .create_workspace(CreateArgs {
            path: tmp.path().join("y").display().to_string(),
            name: "Y".into(),
            mode: "test".into(),
            timezone: "Mars/Olympus".into(),
            key_file: None,
        })
        .unwrap_err();
    assert_eq!(bad.code, ErrorCode::InvalidInput);
    assert!(!tmp.path().join("y").join("closebook.db").exists());
    let made = app
        .create_workspace(CreateArgs {
            path: tmp.path().join("z").display().to_string(),
            name: "Zed".into(),
            mode: "test".into(),
            timezone: "UTC".into(),
            key_file: None,
        })
        .unwrap();
    assert_eq!(made.summary.postings, 0);
    assert!(!made.demo);
    // Someone who can write the plaintext workspace.json cannot make a real workspace the
    // demo (which syncs with and pays through the simulator): the flag lives in the
    // encrypted database.
    let manifest = tmp.path().join("z").join("workspace.json");
    let mut m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    m["demo"] = serde_json::json!(true);
    std::fs::write(&manifest, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
    let reopened = app
        .open_workspace(OpenArgs {
            path: made.path.clone(),
            key_file: None,
        })
        .unwrap();
    assert!(!reopened.demo);
    assert!(
        !app.stripe_overview()
            .unwrap()
            .api_base
            .contains("simulator")
    );
    let settings = app.settings().unwrap();
    assert!(settings.pragmas.iter().any(|p| p.name == "journal_mode"));
    let overview = app.forget_recent(made.path.clone()).unwrap();
    assert!(overview.recent.is_empty());
}

#[test]
fn the_audit_log_pages_and_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let (app, _) = demo_app(tmp.path());
    let first = app
        .audit_log(AuditQuery {
            limit: Some(3),
            ..AuditQuery::default()
        })
        .unwrap();
    assert_eq!(first.rows.len(), 3);
    assert!(
        first.rows.windows(2).all(|w| w[0].seq > w[1].seq),
        "newest first"
    );
    let second = app
        .audit_log(AuditQuery {
            before_seq: first.next,
            limit: Some(100),
            ..AuditQuery::default()
        })
        .unwrap();
    assert!(second.next.is_none());
    assert_eq!(second.rows.last().unwrap().seq, 1);
    assert_eq!(second.rows.last().unwrap().action, "workspace.init");
    let imports = app
        .audit_log(AuditQuery {
            action_prefix: Some("import.".into()),
            ..AuditQuery::default()
        })
        .unwrap();
    assert_eq!(imports.rows.len(), 6, "one record per demo file");
    let v = app.audit_verify().unwrap();
    assert!(v.intact);
    assert_eq!(v.records, (first.rows.len() + second.rows.len()) as u64);
    assert!(v.broken_seq.is_none());
}

#[test]
fn reconciliation_catches_up_shows_a_day_and_resolves_an_exception() {
    let tmp = tempfile::tempdir().unwrap();
    let (app, events) = demo_app(tmp.path());
    app.sync_stripe("op-sync".into()).expect("demo sync");
    let before = app.recon_overview().unwrap();
    assert_eq!(before.last_day, None);
    // From the demo's first day to yesterday (the clock is 2026-11-02).
    assert_eq!(before.missing_days, 93);
    assert_eq!(
        before.rules.order,
        ["exact_reference", "amount_date", "one_to_many"]
    );
    let done = app.recon_catch_up("op-recon".into()).unwrap();
    assert_eq!(done.days_added, 93);
    assert_eq!(done.last_day.as_deref(), Some("2026-11-01"));
    let progress: Vec<_> = events
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.op_id == "op-recon")
        .cloned()
        .collect();
    assert_eq!(progress.len(), 93);
    assert_eq!(progress[0].stage, "reconciling 2026-08-01");
    assert_eq!(progress[92].total, Some(93));
    let overview = app.recon_overview().unwrap();
    assert_eq!(overview.missing_days, 0);
    assert_eq!(overview.days.len(), 93);
    assert_eq!(overview.open_exceptions, 8);
    let day = app.recon_day("2026-10-31".into()).unwrap();
    assert_eq!(day.status, "explained");
    let usd = &day.currencies[0];
    assert_eq!(usd.currency, "USD");
    assert_eq!(usd.remainder.minor, "0");
    assert_eq!(usd.explained.len(), 6, "{:?}", usd.explained);
    // A dry run writes nothing and says so.
    let dry = app
        .recon_snapshot(SnapshotArgs {
            day: "2026-10-31".into(),
            dry_run: true,
        })
        .unwrap();
    assert!(dry.dry_run && dry.id.is_none());
    assert_eq!(dry.digest, day.digest);
    // Exceptions by kind, one in detail, its adjustment proposed and booked.
    let dups = app
        .recon_exceptions(ExceptionQuery {
            kind: Some("duplicate".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(dups.len(), 1);
    let id = dups[0].id.unwrap() as i32;
    let detail = app.recon_exception(id).unwrap();
    assert_eq!(
        detail.exception.ledger_entries,
        ["je_00001546", "je_00001548"]
    );
    assert!(detail.allowed.contains(&"duplicate_confirmed".to_string()));
    assert!(!detail.allowed.contains(&"timing".to_string()));
    let proposal = app
        .recon_propose_adjustment(id, Some("liabilities:subscribers:u_000061".into()))
        .unwrap();
    assert_eq!(proposal[0].postings[0].amount.formatted, "-5.00");
    assert_eq!(
        proposal[0].postings[1].account,
        "liabilities:subscribers:u_000061"
    );
    let resolved = app
        .recon_resolve(ResolveArgs {
            ids: vec![i64::from(id)],
            resolution: "booked_adjustment".into(),
            note: "reversed the redelivered webhook's booking".into(),
            counter_account: Some("liabilities:subscribers:u_000061".into()),
        })
        .unwrap();
    let r = resolved[0].resolution.as_ref().unwrap();
    assert_eq!(
        r.adjustment_entry.as_deref(),
        Some(format!("cb-adj-{id}").as_str())
    );
    assert_eq!(app.recon_overview().unwrap().open_exceptions, 7);
    // The adjustment leaves for the platform in its own ledger format: a new file only.
    let adj = tmp.path().join("adjustments.csv");
    let written = app
        .recon_export_adjustments(adj.display().to_string())
        .unwrap();
    assert_eq!(written.postings, 2);
    let text = std::fs::read_to_string(&adj).unwrap();
    assert!(text.contains(&format!("cb-adj-{id}")), "{text}");
    let again = app
        .recon_export_adjustments(adj.display().to_string())
        .unwrap_err();
    assert_eq!(again.code, ErrorCode::Io, "{}", again.message);
    assert_eq!(
        app.recon_export_adjustments("  ".into()).unwrap_err().code,
        ErrorCode::InvalidInput
    );
    // Bad input is a clear error.
    for (day, code) in [
        ("31/10/2026", ErrorCode::InvalidInput),
        ("2026-12-01", ErrorCode::InvalidInput),
    ] {
        let err = app
            .recon_snapshot(SnapshotArgs {
                day: day.into(),
                dry_run: true,
            })
            .unwrap_err();
        assert_eq!(err.code, code, "{day}: {}", err.message);
    }
    assert_eq!(
        app.recon_day("2026-07-01".into()).unwrap_err().code,
        ErrorCode::NotFound
    );
    assert_eq!(
        app.recon_exception(99_999).unwrap_err().code,
        ErrorCode::NotFound
    );
    let err = app
        .recon_exceptions(ExceptionQuery {
            kind: Some("nonsense".into()),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput);
    // The minimum amount is typed in the chosen currency and read by the engine.
    let all = app.recon_exceptions(ExceptionQuery::default()).unwrap();
    let at_least = |typed: &str| {
        app.recon_exceptions(ExceptionQuery {
            currency: Some("usd".into()),
            min_amount: Some(typed.into()),
            ..Default::default()
        })
    };
    let big = at_least("$1,000").unwrap();
    assert!(big.len() < all.len(), "{} of {}", big.len(), all.len());
    assert!(big.iter().all(|x| {
        x.effect
            .minor
            .trim_start_matches('-')
            .parse::<i64>()
            .unwrap()
            >= 100_000
    }));
    assert_eq!(at_least("1000.00").unwrap().len(), big.len());
    for bad in ["5.001", "-5", "five"] {
        assert_eq!(
            at_least(bad).unwrap_err().code,
            ErrorCode::InvalidInput,
            "{bad}"
        );
    }
    let e = app
        .recon_exceptions(ExceptionQuery {
            min_amount: Some("5".into()),
            ..Default::default()
        })
        .unwrap_err();
    assert!(e.message.contains("choose a currency"), "{}", e.message);
    let err = app
        .recon_set_rules(MatchRulesArgs {
            order: vec!["exact_reference".into(), "exact_reference".into()],
            amount_tolerance_minor: 0,
            date_window_days: 3,
        })
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput);
    let rules = app
        .recon_set_rules(MatchRulesArgs {
            order: vec!["amount_date".into(), "exact_reference".into()],
            amount_tolerance_minor: 2,
            date_window_days: 5,
        })
        .unwrap();
    assert_eq!(rules.order, ["amount_date", "exact_reference"]);
}

#[test]
fn the_demo_month_is_prepared_signed_off_by_two_and_paid_once() {
    use crate::payouts::*;
    let tmp = tempfile::tempdir().unwrap();
    let (app, events) = demo_app(tmp.path());
    app.sync_stripe("op-sync".into()).expect("demo sync");
    let overview = app.payouts_overview().unwrap();
    let names: Vec<&str> = overview.people.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Ari Chen",
            "Dana Reyes",
            "Lee Park",
            "Morgan Blake",
            "Sam Okafor"
        ]
    );
    assert!(overview.people.iter().all(|p| p.key_here));
    // The admin, added last, rooted the signed roster and vouched for everyone.
    assert_eq!(overview.roster_root.as_deref(), Some("Morgan Blake"));
    assert!(
        overview
            .people
            .iter()
            .all(|p| p.vouched_by.as_deref() == Some("Morgan Blake")),
        "{:?}",
        overview.people
    );
    let october = overview
        .months
        .iter()
        .find(|m| m.month == "2026-10")
        .unwrap();
    assert!(october.over && october.state.is_none());
    // September was closed and paid by the platform itself: never a second time here.
    let e = app
        .payouts_prepare(PrepareArgs {
            month: "2026-09".into(),
            as_person: "Dana Reyes".into(),
        })
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidState);
    assert!(
        e.message.contains("already closed 2026-09"),
        "{}",
        e.message
    );

    let b = app
        .payouts_prepare(PrepareArgs {
            month: "2026-10".into(),
            as_person: "Dana Reyes".into(),
        })
        .unwrap();
    assert_eq!(b.state, "draft");
    assert_eq!(
        b.approvals_required, 2,
        "the demo asks two approvers from $1,000"
    );
    assert!(b.coverage.covered, "{:?}", b.coverage);
    // cr_00050 has no connected account: carried over with the reason shown.
    let held = b.lines.iter().find(|l| l.creator == "cr_00050").unwrap();
    assert_eq!(held.held.as_deref(), Some("no_connected_account"));
    // Three pending withdrawal requests are lines of their own.
    assert_eq!(b.lines.iter().filter(|l| l.kind == "withdrawal").count(), 3);

    let e = app
        .payouts_approve(DecisionArgs {
            batch_id: b.id.clone(),
            as_person: "Dana Reyes".into(),
            reason: None,
        })
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::PermissionDenied);
    let e = app
        .payouts_approve(DecisionArgs {
            batch_id: b.id.clone(),
            as_person: "Lee Park".into(),
            reason: None,
        })
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::PermissionDenied);
    let w = app
        .payouts_what_if(WhatIfArgs {
            batch_id: b.id.clone(),
            fee_bps: 500,
            minimum: "0".into(),
        })
        .unwrap();
    assert!(w.fees_change.negative);
    // An approval signed "on another desktop" travels as a file.
    let file = tmp.path().join("ari.approval.json");
    app.payouts_export_approval(ExportApprovalArgs {
        batch_id: b.id.clone(),
        as_person: "Ari Chen".into(),
        path: file.display().to_string(),
        reject_reason: None,
    })
    .unwrap();
    // Whatever path an IPC call names, nothing existing is replaced, nor written through a
    // symlink: the file stays as it was, and nothing was signed for it.
    let records = audit_count(&app);
    let precious = tmp.path().join("bashrc");
    std::fs::write(&precious, b"mine").unwrap();
    let link = tmp.path().join("link.json");
    #[cfg(unix)]
    std::os::unix::fs::symlink(&precious, &link).unwrap();
    for target in [&file, &precious, &link] {
        if !target.exists() && !target.is_symlink() {
            continue;
        }
        let e = app
            .payouts_export_approval(ExportApprovalArgs {
                batch_id: b.id.clone(),
                as_person: "Ari Chen".into(),
                path: target.display().to_string(),
                reject_reason: None,
            })
            .unwrap_err();
        assert!(e.message.contains("already"), "{}", e.message);
    }
    assert_eq!(std::fs::read(&precious).unwrap(), b"mine");
    assert_eq!(
        audit_count(&app),
        records,
        "nothing signed for a refused file"
    );
    let one = app
        .payouts_import_approval(file.display().to_string())
        .unwrap();
    assert_eq!((one.state.as_str(), one.approvals), ("draft", 1));
    let two = app
        .payouts_approve(DecisionArgs {
            batch_id: b.id.clone(),
            as_person: "Sam Okafor".into(),
            reason: None,
        })
        .unwrap();
    assert_eq!((two.state.as_str(), two.approvals), ("approved", 2));

    let r = app
        .payouts_execute(ExecuteArgs {
            batch_id: b.id.clone(),
            as_person: "Dana Reyes".into(),
            op_id: "op-pay".into(),
        })
        .unwrap();
    assert_eq!(r.state, "done");
    assert_eq!(r.paid_total, b.totals.paid_lines);
    assert!(events.0.lock().unwrap().iter().any(|e| e.op_id == "op-pay"));
    let done = app.payouts_batch(b.id.clone()).unwrap();
    assert!(
        done.lines
            .iter()
            .filter(|l| l.held.is_none())
            .all(|l| l.execution.as_deref() == Some("paid") && l.transfer_id.is_some())
    );
    let again = app
        .payouts_execute(ExecuteArgs {
            batch_id: b.id,
            as_person: "Dana Reyes".into(),
            op_id: "op-pay-2".into(),
        })
        .unwrap();
    // Done is done: the re-run succeeds and says nothing was left to pay.
    assert!(again.nothing_left);
    assert_eq!((again.paid_now, again.paid_total), (0, again.payable_lines));
}

#[test]
fn reports_export_with_progress_verify_and_refuse_an_existing_folder() {
    use crate::reports::*;
    let tmp = tempfile::tempdir().unwrap();
    let (app, events) = demo_app(tmp.path());
    let overview = app.reports_overview().unwrap();
    assert_eq!(overview.kinds.len(), 7);
    assert!(
        overview
            .kinds
            .iter()
            .any(|k| k.name == "general_ledger" && k.needs == "period")
    );
    let dest = tmp.path().join("tb");
    let args = |kind: &str, dest: &std::path::Path, op: &str| ExportReportArgs {
        kind: kind.into(),
        format: "xlsx".into(),
        dest: dest.display().to_string(),
        day: None,
        batch: None,
        as_of: Some("2026-10-31".into()),
        from: None,
        to: None,
        account: None,
        op_id: op.into(),
    };
    let r = app
        .export_report(args("trial_balance", &dest, "op-tb"))
        .unwrap();
    assert_eq!(r.files.len(), 1);
    assert!(r.rows > 0);
    assert!(events.0.lock().unwrap().iter().any(|e| e.op_id == "op-tb"));
    let v = app.verify_export(dest.display().to_string()).unwrap();
    assert!(v.ok && v.recorded == Some(true), "{v:?}");
    let again = app
        .export_report(args("trial_balance", &dest, "op-tb2"))
        .unwrap_err();
    assert_eq!(again.code, ErrorCode::InvalidInput);
    let e = app
        .export_report(args("payout_batch", &tmp.path().join("b"), "op-b"))
        .unwrap_err();
    assert_eq!(
        e.code,
        ErrorCode::InvalidInput,
        "a batch report needs its batch"
    );
    let j = app
        .export_journal(ExportJournalArgs {
            dest: tmp.path().join("ledger.journal").display().to_string(),
            as_of: None,
            op_id: "op-j".into(),
        })
        .unwrap();
    assert!(j.postings > 1_000);
    assert_eq!(app.reports_overview().unwrap().recent.len(), 2);
}

#[test]
fn payout_and_report_arguments_are_validated_before_anything_runs() {
    use crate::payouts::*;
    use crate::reports::*;
    let tmp = tempfile::tempdir().unwrap();
    let (app, _) = demo_app(tmp.path());
    let before = audit_count(&app);
    // Amounts are what the person typed, read by the engine: never rounded, never guessed.
    for (minimum, why) in [
        ("12.505", "refusing to round"),
        ("1e3", "expected digits"),
        ("ten", "expected digits"),
        ("", "no digits"),
        ("1 000", "spaces inside"),
        ("-5", "between 0 and"),
    ] {
        let e = app
            .payouts_set_settings(PayoutSettingsArgs {
                fee_bps: 700,
                minimum: minimum.into(),
                dual_approval_at: "1,000".into(),
                as_person: Some("Morgan Blake".into()),
            })
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput, "{minimum}");
        assert!(e.message.contains(why), "{minimum}: {}", e.message);
    }
    let e = app
        .payouts_set_settings(PayoutSettingsArgs {
            fee_bps: 9_000,
            minimum: "25".into(),
            dual_approval_at: "1,000.00".into(),
            as_person: Some("Morgan Blake".into()),
        })
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput, "a 90% fee is a typo");
    let e = app
        .payouts_add_person(AddPersonArgs {
            name: "a:b".into(),
            role: "approver".into(),
            as_person: None,
        })
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    let e = app
        .payouts_add_person(AddPersonArgs {
            name: "Zoe".into(),
            role: "boss".into(),
            as_person: None,
        })
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    for month in ["2026-13", "October", ""] {
        let e = app
            .payouts_prepare(PrepareArgs {
                month: month.into(),
                as_person: "Dana Reyes".into(),
            })
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput, "{month}");
    }
    let e = app.payouts_batch("pb_nope".into()).unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);
    let e = app
        .payouts_import_approval(tmp.path().join("missing.json").display().to_string())
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Io);
    let garbage = tmp.path().join("garbage.json");
    std::fs::write(&garbage, b"\x00\x01 not an approval").unwrap();
    let e = app
        .payouts_import_approval(garbage.display().to_string())
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ApprovalInvalid);
    for (kind, day, format) in [
        ("no_such_report", None, "xlsx"),
        ("trial_balance", None, "pdf"),
        ("reconciliation_snapshot", Some("31/10/2026"), "csv"),
    ] {
        let e = app
            .export_report(ExportReportArgs {
                kind: kind.into(),
                format: format.into(),
                dest: tmp.path().join(kind).display().to_string(),
                day: day.map(str::to_string),
                batch: None,
                as_of: None,
                from: None,
                to: None,
                account: None,
                op_id: "op-bad".into(),
            })
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput, "{kind} {format}");
        assert!(!tmp.path().join(kind).exists());
    }
    let e = app
        .verify_export(tmp.path().display().to_string())
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Io, "a folder without a manifest");
    // Nothing refused above reached the audit log.
    assert_eq!(audit_count(&app), before);
}

fn audit_count(app: &App) -> usize {
    app.audit_verify().unwrap().records as usize
}

/// A keychain whose Stripe-key lookups wait, once armed, until released: a permission
/// prompt nobody has answered yet.
#[derive(Default)]
struct StallingKeychain {
    inner: MemorySecrets,
    /// (armed, inside a stalled lookup, released)
    state: Mutex<(bool, bool, bool)>,
    changed: std::sync::Condvar,
}

impl StallingKeychain {
    fn wait_for(&self, what: impl Fn(&(bool, bool, bool)) -> bool) {
        let guard = self.state.lock().unwrap();
        let (_guard, timeout) = self
            .changed
            .wait_timeout_while(guard, std::time::Duration::from_secs(10), |s| !what(s))
            .unwrap();
        assert!(!timeout.timed_out(), "the keychain was never asked");
    }

    fn update(&self, f: impl FnOnce(&mut (bool, bool, bool))) {
        f(&mut self.state.lock().unwrap());
        self.changed.notify_all();
    }
}

impl SecretStore for StallingKeychain {
    fn get(&self, name: &str) -> std::result::Result<Option<String>, SecretError> {
        if name.contains("stripe") && self.state.lock().unwrap().0 {
            self.update(|s| s.1 = true);
            self.wait_for(|s| s.2);
        }
        self.inner.get(name)
    }
    fn set(&self, name: &str, value: &str) -> std::result::Result<(), SecretError> {
        self.inner.set(name, value)
    }
    fn delete(&self, name: &str) -> std::result::Result<(), SecretError> {
        self.inner.delete(name)
    }
    fn describe(&self) -> String {
        "a keychain that stalls".into()
    }
}

/// Regression: the Stripe overview asked the keychain while holding the workspace's reader,
/// so a keychain waiting on a permission prompt froze every screen's reads behind it.
#[test]
fn a_stalled_keychain_holds_up_no_read() {
    let tmp = tempfile::tempdir().unwrap();
    let keychain = Arc::new(StallingKeychain::default());
    let now: Timestamp = "2026-11-02T09:00:00Z".parse().unwrap();
    let app = Arc::new(App::new(
        tmp.path().join("data"),
        keychain.clone(),
        Arc::new(Recorder::default()),
        Arc::new(move || now),
    ));
    app.create_workspace(CreateArgs {
        path: tmp.path().join("acme").display().to_string(),
        name: "Acme".into(),
        mode: "test".into(),
        timezone: "UTC".into(),
        key_file: None,
    })
    .unwrap();
    keychain.update(|s| s.0 = true);
    let overview = std::thread::spawn({
        let app = app.clone();
        move || app.stripe_overview()
    });
    keychain.wait_for(|s| s.1);
    // While the overview waits on the keychain, another screen reads.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn({
        let app = app.clone();
        move || {
            tx.send(app.ledger_tree(None).map(|t| t.nodes.len()))
                .unwrap()
        }
    });
    let read = rx.recv_timeout(std::time::Duration::from_secs(10));
    keychain.update(|s| s.2 = true);
    assert_eq!(
        read.expect("a read finishes while the keychain stalls")
            .unwrap(),
        0
    );
    assert_eq!(overview.join().unwrap().unwrap().key_kind, None);
}

/// Settings › Accounts: the map with what each role needs, changed only by an admin once
/// the roster has one, refused when inconsistent (nothing changed), audited when saved.
#[test]
fn the_account_map_is_shown_refused_changed_by_an_admin_and_audited() {
    let tmp = tempfile::tempdir().unwrap();
    let (app, _) = demo_app(tmp.path());
    let v = app.account_roles().unwrap();
    assert_eq!(v.roles.len(), 9);
    assert!(v.roles.iter().all(|r| r.gap.is_none()), "{:?}", v.roles);
    assert!(v.accounts.iter().any(|a| a == "assets:stripe:payments"));
    let change = |role: &str, account: &str, as_person: Option<&str>| AccountRolesArgs {
        changes: vec![AccountRoleChange {
            role: role.into(),
            account: account.into(),
        }],
        as_person: as_person.map(String::from),
    };
    let records = audit_count(&app);
    if v.has_admin {
        let e = app
            .set_account_roles(change("bank", "1000 Operating Bank", None))
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::PermissionDenied, "{}", e.message);
    }
    let admin = v.admins_here.first().cloned();
    let e = app
        .set_account_roles(change(
            "stripe_fees",
            "assets:stripe:fees",
            admin.as_deref(),
        ))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert!(
        e.message.contains("reconciled against Stripe"),
        "{}",
        e.message
    );
    let e = app
        .set_account_roles(change("no_such_role", "x", admin.as_deref()))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert_eq!(audit_count(&app), records, "refusals change nothing");
    let done = app
        .set_account_roles(change("bank", "1000 Operating Bank", admin.as_deref()))
        .unwrap();
    assert_eq!(done.changed, ["bank: assets:bank → 1000 Operating Bank"]);
    let bank = done.view.roles.iter().find(|r| r.role == "bank").unwrap();
    assert_eq!(bank.account, "1000 Operating Bank");
    assert!(bank.gap.as_deref().unwrap().contains("--bank"), "{bank:?}");
    assert_eq!(audit_count(&app), records + 1);
}

/// The Reconciliation screen's webhook health: the demo's two lost webhooks on their days.
#[test]
fn webhook_health_reaches_the_desktop() {
    let tmp = tempfile::tempdir().unwrap();
    let (app, _) = demo_app(tmp.path());
    app.sync_stripe("op-sync".into()).expect("demo sync");
    let days = app
        .recon_webhooks("2026-10-01".into(), "2026-10-31".into())
        .unwrap();
    let lost: u32 = days.iter().map(|d| d.missing + d.failed).sum();
    assert_eq!(lost, 2);
    assert!(days.iter().all(|d| d.subscribed));
    let e = app
        .recon_webhooks("2026-10-31".into(), "yesterday".into())
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
}

/// Settings › Units: a unit is declared once (the same declaration again changes nothing),
/// an ISO code or a different exponent is refused, and the reader knows it at once.
#[test]
fn units_are_declared_from_the_desktop() {
    let tmp = tempfile::tempdir().unwrap();
    let (app, _) = demo_app(tmp.path());
    assert!(app.settings().unwrap().units.is_empty());
    let declare = |code: &str, exponent: u8| {
        app.declare_unit(DeclareUnitArgs {
            code: code.into(),
            exponent,
            description: "AI credits".into(),
        })
    };
    let s = declare("ai_credit", 3).unwrap();
    assert_eq!(s.units.len(), 1);
    assert_eq!(s.units[0].code, "AI_CREDIT");
    assert_eq!(s.units[0].exponent, 3);
    let records = audit_count(&app);
    assert_eq!(declare("ai_credit", 3).unwrap().units.len(), 1);
    assert_eq!(
        audit_count(&app),
        records,
        "the same declaration again writes nothing"
    );
    for (code, exponent) in [("usd", 2), ("ai_credit", 2), ("", 0)] {
        let e = declare(code, exponent).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput, "{code}: {}", e.message);
    }
    // The reader connection formats the new unit (it reads units again after a declaration).
    let session = app.session().unwrap();
    assert!(lock(&session.reader).units().lookup("ai_credit").is_ok());
}

/// Settings › Delete: refused unless the id is typed, then the folder and every keychain
/// entry the workspace owned are gone, and nothing is open.
#[test]
fn a_workspace_is_deleted_from_the_desktop_after_typing_its_id() {
    let tmp = tempfile::tempdir().unwrap();
    let secrets = Arc::new(MemorySecrets::new());
    let now = jiff::Timestamp::from_second(1_790_000_000).unwrap();
    let app = App::new(
        tmp.path().join("data"),
        secrets.clone(),
        Arc::new(NoEvents),
        Arc::new(move || now),
    );
    let dir = tmp.path().join("books");
    let ws = app
        .create_workspace(CreateArgs {
            path: dir.display().to_string(),
            name: "Books".into(),
            mode: "test".into(),
            timezone: "UTC".into(),
            key_file: None,
        })
        .unwrap();
    let entry = format!("workspace:{}:database-key", ws.id);
    assert!(secrets.get(&entry).unwrap().is_some());
    let e = app.delete_workspace("ws_not_this_one".into()).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert!(e.message.contains("nothing was deleted"), "{}", e.message);
    assert!(dir.join("closebook.db").exists());
    let deleted = app.delete_workspace(format!(" {} ", ws.id)).unwrap();
    assert_eq!(deleted.id, ws.id);
    assert!(!dir.join("closebook.db").exists());
    assert!(
        secrets.get(&entry).unwrap().is_none(),
        "the key went with it"
    );
    assert!(app.app_overview().unwrap().open.is_none());
    assert_eq!(
        app.settings().unwrap_err().code,
        ErrorCode::WorkspaceNotFound
    );
}

/// The Ledger's pull from PostgreSQL: the password kept in (and forgotten from) the
/// keychain, never shown; a source that cannot be reached is a clear error naming no secret.
#[test]
fn the_desktop_pulls_from_postgres_and_keeps_its_password_in_the_keychain() {
    use crate::pull::PullArgs;
    let tmp = tempfile::tempdir().unwrap();
    let (app, _) = demo_app(tmp.path());
    let s = app.pull_source().unwrap();
    assert!(s.last_source.is_none() && !s.password_stored);
    assert!(
        app.set_postgres_password("pg-Desk-Secret".into())
            .unwrap()
            .password_stored
    );
    assert_eq!(
        app.set_postgres_password(String::new()).unwrap_err().code,
        ErrorCode::InvalidInput
    );
    let e = app
        .pull_postgres(PullArgs {
            url: Some("postgres://reader@127.0.0.1:1/platform?connect_timeout=2".into()),
            op_id: "op-pull".into(),
        })
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::SourceUnreachable, "{}", e.message);
    assert!(!e.message.contains("pg-Desk-Secret"), "{}", e.message);
    assert!(!app.forget_postgres_password().unwrap().password_stored);
}
