//! Importing the platform's export files: every kind, both formats, and every kind of bad
//! input, each rejected with file / line / column and nothing half-written.

mod common;

use closebook_engine::ingest::{self, Format, ImportError, Kind, Problem};
use closebook_engine::ledger;
use closebook_engine::workspace::Mode;
use common::{count, ctx, footprint, workspace, write};

const LEDGER_HEADER: &str = "id,entry_id,account,amount_minor,currency,entry_type,stripe_object_id,event_id,livemode,created_at,description\n";

fn ledger_csv(rows: &[&str]) -> String {
    let mut s = LEDGER_HEADER.to_string();
    for r in rows {
        s.push_str(r);
        s.push('\n');
    }
    s
}

const GOOD: &[&str] = &[
    "1,e1,assets:stripe:payments,1000,usd,subscription_payment,ch_1,evt_1,false,2026-10-01T10:00:00Z,Sub",
    "2,e1,liabilities:subscribers:u1,-1000,usd,subscription_payment,ch_1,evt_1,false,2026-10-01T10:00:00Z,Sub",
    "3,e2,expenses:stripe_fees,59,usd,stripe_fee,ch_1,evt_1,false,2026-10-01T10:00:00Z,Fee",
    "4,e2,assets:stripe:payments,-59,usd,stripe_fee,ch_1,evt_1,false,2026-10-01T10:00:00Z,Fee",
];

fn rejected(result: Result<ingest::ImportReport, ImportError>) -> Vec<Problem> {
    match result {
        Err(ImportError::Rejected { problems, .. }) => problems,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[test]
fn a_good_ledger_file_imports_and_balances() {
    let mut t = workspace(Mode::Test);
    let path = write(t.dir.path(), "ledger.csv", &ledger_csv(GOOD));
    let report = ingest::import_file(&mut t.ws, Kind::Ledger, &path, None, &ctx()).unwrap();
    assert_eq!((report.rows_read, report.rows_added), (4, 4));
    let tb = ledger::trial_balance(&t.ws, None).unwrap();
    assert_eq!(tb.totals[0].debits.minor, 1000); // 941 Stripe + 59 fees = 1000 subscriber funds
    let stripe = ledger::balances(&t.ws, None, Some("assets:stripe")).unwrap();
    assert_eq!(stripe[0].balance.minor, 941);
    assert_eq!(
        count(&t.ws, "audit_log"),
        2,
        "init and the import are audited"
    );
}

#[test]
fn importing_the_same_file_twice_changes_nothing() {
    let mut t = workspace(Mode::Test);
    let path = write(t.dir.path(), "ledger.csv", &ledger_csv(GOOD));
    ingest::import_file(&mut t.ws, Kind::Ledger, &path, None, &ctx()).unwrap();
    let before = footprint(&t.ws);
    let again = ingest::import_file(&mut t.ws, Kind::Ledger, &path, None, &ctx()).unwrap();
    assert_eq!(again.already_imported_as, Some(1));
    assert_eq!(footprint(&t.ws), before);
    // A different file holding the same rows (reordered columns, JSON Lines) changes nothing either.
    let jsonl = GOOD
        .iter()
        .map(|r| {
            let f: Vec<&str> = r.split(',').collect();
            format!(
                r#"{{"created_at":"{}","entry_id":"{}","id":{},"account":"{}","amount_minor":{},"currency":"{}","entry_type":"{}","stripe_object_id":"{}","event_id":"{}","livemode":false,"description":"{}"}}"#,
                f[9], f[1], f[0], f[2], f[3], f[4], f[5], f[6], f[7], f[10]
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let path = write(t.dir.path(), "ledger.jsonl", &jsonl);
    let report = ingest::import_file(&mut t.ws, Kind::Ledger, &path, None, &ctx()).unwrap();
    assert_eq!((report.rows_added, report.rows_unchanged), (0, 4));
    assert_eq!(
        footprint(&t.ws),
        before,
        "an import that adds nothing leaves no trace"
    );
}

#[test]
fn an_unbalanced_entry_is_rejected_naming_its_lines() {
    let mut t = workspace(Mode::Test);
    let before = footprint(&t.ws);
    let mut rows = GOOD.to_vec();
    rows[1] = "2,e1,liabilities:subscribers:u1,-999,usd,subscription_payment,ch_1,evt_1,false,2026-10-01T10:00:00Z,Sub";
    let path = write(t.dir.path(), "ledger.csv", &ledger_csv(&rows));
    let problems = rejected(ingest::import_file(
        &mut t.ws,
        Kind::Ledger,
        &path,
        None,
        &ctx(),
    ));
    assert_eq!(problems.len(), 1);
    let p = &problems[0];
    assert_eq!(
        (p.file.as_str(), p.line, p.column.as_deref()),
        ("ledger.csv", 2, Some("amount_minor"))
    );
    assert!(
        p.message.contains("e1")
            && p.message.contains("lines 2, 3")
            && p.message.contains("0.01 USD"),
        "{}",
        p.message
    );
    assert_eq!(footprint(&t.ws), before, "nothing half-written");
}

#[test]
fn every_bad_row_is_reported_in_one_run() {
    let mut t = workspace(Mode::Test);
    let before = footprint(&t.ws);
    let rows = [
        GOOD[0],
        GOOD[1],
        "3,e2,expenses:stripe_fees,12.50,usd,stripe_fee,ch_1,evt_1,false,2026-10-01T10:00:00Z,decimal",
        "4,e2,assets:stripe:payments,1e3,usd,stripe_fee,ch_1,evt_1,false,2026-10-01T10:00:00Z,exponent",
        "5,e3,assets:stripe:payments,100,xyz,adjustment,,,false,2026-10-01T10:00:00Z,unknown currency",
        "6,e3,income:other,-100,xyz,adjustment,,,false,2026-10-01T10:00:00Z,unknown currency",
        "7,e4,assets:stripe:payments,100,usd,adjustment,,,true,2026-10-01T10:00:00Z,live row",
        "8,e4,income:other,-100,usd,adjustment,,,false,yesterday,bad time",
        "9,e5,assets::payments,100,usd,adjustment,,,false,2026-10-01T10:00:00Z,bad account",
        "9,e5,income:other,-100,usd,adjustment,,,false,2026-10-01T10:00:00Z,reused id",
    ];
    let path = write(t.dir.path(), "bad.csv", &ledger_csv(&rows));
    let problems = rejected(ingest::import_file(
        &mut t.ws,
        Kind::Ledger,
        &path,
        None,
        &ctx(),
    ));
    let located: Vec<(u64, Option<&str>)> = problems
        .iter()
        .map(|p| (p.line, p.column.as_deref()))
        .collect();
    for expected in [
        (4, Some("amount_minor")),
        (5, Some("amount_minor")),
        (6, Some("currency")),
        (7, Some("currency")),
        (8, Some("livemode")),
        (9, Some("created_at")),
        (10, Some("account")),
    ] {
        assert!(
            located.contains(&expected),
            "missing {expected:?} in {problems:#?}"
        );
    }
    let decimal = problems.iter().find(|p| p.line == 4).unwrap();
    assert!(
        decimal.message.contains("decimal") && decimal.message.contains("12.50"),
        "{}",
        decimal.message
    );
    assert!(
        problems
            .iter()
            .find(|p| p.line == 5)
            .unwrap()
            .message
            .contains("exponent")
    );
    assert!(
        problems
            .iter()
            .find(|p| p.line == 8)
            .unwrap()
            .message
            .contains("modes never mix")
    );
    assert_eq!(footprint(&t.ws), before);
}

#[test]
fn a_reused_id_with_other_content_is_refused_within_and_across_files() {
    let mut t = workspace(Mode::Test);
    let mut rows = GOOD.to_vec();
    rows.push(
        "4,e2,assets:stripe:payments,-60,usd,stripe_fee,ch_1,evt_1,false,2026-10-01T10:00:00Z,Fee",
    );
    let path = write(t.dir.path(), "dup.csv", &ledger_csv(&rows));
    let problems = rejected(ingest::import_file(
        &mut t.ws,
        Kind::Ledger,
        &path,
        None,
        &ctx(),
    ));
    assert!(
        problems
            .iter()
            .any(|p| p.line == 6 && p.message.contains("used again")),
        "{problems:#?}"
    );

    let path = write(t.dir.path(), "good.csv", &ledger_csv(GOOD));
    ingest::import_file(&mut t.ws, Kind::Ledger, &path, None, &ctx()).unwrap();
    let before = footprint(&t.ws);
    // Same id 1, other entry and amount: a different posting under an old id.
    let path = write(
        t.dir.path(),
        "later.csv",
        &ledger_csv(&[
            "1,e9,assets:stripe:payments,500,usd,adjustment,,,false,2026-10-02T10:00:00Z,x",
            "10,e9,income:other,-500,usd,adjustment,,,false,2026-10-02T10:00:00Z,x",
        ]),
    );
    let problems = rejected(ingest::import_file(
        &mut t.ws,
        Kind::Ledger,
        &path,
        None,
        &ctx(),
    ));
    assert!(
        problems[0]
            .message
            .contains("already belongs to a posting of entry e1"),
        "{problems:#?}"
    );
    // The same entry with a changed posting is refused: mirrored rows never change.
    let path = write(
        t.dir.path(),
        "changed.csv",
        &ledger_csv(&[
            "3,e2,expenses:stripe_fees,60,usd,stripe_fee,ch_1,evt_1,false,2026-10-01T10:00:00Z,Fee",
            "4,e2,assets:stripe:payments,-60,usd,stripe_fee,ch_1,evt_1,false,2026-10-01T10:00:00Z,Fee",
        ]),
    );
    let problems = rejected(ingest::import_file(
        &mut t.ws,
        Kind::Ledger,
        &path,
        None,
        &ctx(),
    ));
    assert!(
        problems[0].message.contains("never change"),
        "{problems:#?}"
    );
    assert_eq!(footprint(&t.ws), before);
}

#[test]
fn postings_without_ids_are_keyed_by_line_order() {
    let mut t = workspace(Mode::Test);
    let text = "entry_id,account,amount_minor,currency,entry_type,created_at\n\
                e1,assets:stripe:payments,700,usd,subscription_payment,2026-10-01T10:00:00+02:00\n\
                e1,liabilities:subscribers:u1,-700,usd,subscription_payment,2026-10-01T10:00:00+02:00\n";
    let path = write(t.dir.path(), "noid.csv", text);
    let r = ingest::import_file(&mut t.ws, Kind::Ledger, &path, None, &ctx()).unwrap();
    assert_eq!(r.rows_added, 2);
    let path = write(t.dir.path(), "noid-again.csv", &format!("{text}\n"));
    let r = ingest::import_file(&mut t.ws, Kind::Ledger, &path, None, &ctx()).unwrap();
    assert_eq!((r.rows_added, r.rows_unchanged), (0, 2));
    let page = ledger::postings(
        &t.ws,
        &ledger::PostingFilter {
            limit: 10,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        page.postings[0].created_at.to_string(),
        "2026-10-01T08:00:00Z",
        "offsets are honoured"
    );
}

#[test]
fn a_live_workspace_refuses_test_rows() {
    let mut t = workspace(Mode::Live);
    let path = write(t.dir.path(), "ledger.csv", &ledger_csv(GOOD));
    let problems = rejected(ingest::import_file(
        &mut t.ws,
        Kind::Ledger,
        &path,
        None,
        &ctx(),
    ));
    assert_eq!(problems.len(), 4);
    assert!(
        problems
            .iter()
            .all(|p| p.column.as_deref() == Some("livemode"))
    );
}

#[test]
fn declared_units_import_and_never_mix_with_money() {
    let mut t = workspace(Mode::Test);
    let rows = [
        "1,c1,assets:credits:ai,500,ai_credit,adjustment,,,false,2026-10-01T10:00:00Z,grant",
        "2,c1,liabilities:credits:org1,-500,ai_credit,adjustment,,,false,2026-10-01T10:00:00Z,grant",
    ];
    let path = write(t.dir.path(), "credits.csv", &ledger_csv(&rows));
    let problems = rejected(ingest::import_file(
        &mut t.ws,
        Kind::Ledger,
        &path,
        None,
        &ctx(),
    ));
    assert!(
        problems[0]
            .message
            .contains("unknown currency or unit `ai_credit`"),
        "{problems:#?}"
    );
    t.ws.declare_unit("ai_credit", 0, "AI credits (seed 003)", &ctx())
        .unwrap();
    // One entry with a usd leg and a credits leg: each unit must balance on its own.
    let mixed = [
        "1,c1,assets:credits:ai,500,ai_credit,adjustment,,,false,2026-10-01T10:00:00Z,grant",
        "2,c1,liabilities:credits:org1,-500,ai_credit,adjustment,,,false,2026-10-01T10:00:00Z,grant",
        "3,c1,assets:stripe:payments,500,usd,adjustment,,,false,2026-10-01T10:00:00Z,grant",
        "4,c1,liabilities:credits:org1,-499,usd,adjustment,,,false,2026-10-01T10:00:00Z,grant",
    ];
    let path = write(t.dir.path(), "mixed.csv", &ledger_csv(&mixed));
    let problems = rejected(ingest::import_file(
        &mut t.ws,
        Kind::Ledger,
        &path,
        None,
        &ctx(),
    ));
    assert!(
        problems[0].message.contains("0.01 USD") && !problems[0].message.contains("ai_credit"),
        "{problems:#?}"
    );
    let path = write(t.dir.path(), "credits2.csv", &ledger_csv(&rows));
    ingest::import_file(&mut t.ws, Kind::Ledger, &path, None, &ctx()).unwrap();
    let tb = ledger::trial_balance(&t.ws, None).unwrap();
    assert_eq!(tb.totals[0].currency, "ai_credit");
}

#[test]
fn file_level_problems_are_clear() {
    let mut t = workspace(Mode::Test);
    let cases: &[(&str, &str, &str)] = &[
        ("empty.csv", "", "empty"),
        (
            "missing.csv",
            "entry_id,account,amount_minor\ne1,a,1\n",
            "required column(s) missing from the header: currency, entry_type, created_at",
        ),
        (
            "dupcol.csv",
            "entry_id,entry_id,account,amount_minor,currency,entry_type,created_at\n",
            "appears twice",
        ),
        (
            "ragged.csv",
            "entry_id,account,amount_minor,currency,entry_type,created_at\ne1,a:b,1,usd\n",
            "has 4 fields but the header has 6",
        ),
        ("notjson.jsonl", "{\"entry_id\": \"e1\"\n", "malformed JSON"),
        ("array.jsonl", "[1,2]\n", "one JSON object"),
        (
            "floats.jsonl",
            r#"{"entry_id":"e1","account":"a:b","amount_minor":12.5,"currency":"usd","entry_type":"x","created_at":"2026-10-01T00:00:00Z"}"#,
            "never decimals",
        ),
        (
            "nokey.jsonl",
            r#"{"entry_id":"e1"}"#,
            "required key(s) missing",
        ),
    ];
    for (name, text, expect) in cases {
        let path = write(t.dir.path(), name, text);
        let problems = rejected(ingest::import_file(
            &mut t.ws,
            Kind::Ledger,
            &path,
            None,
            &ctx(),
        ));
        assert!(
            problems
                .iter()
                .any(|p| p.message.contains(expect) && p.file == *name),
            "{name}: {problems:#?}"
        );
    }
    let latin1 = t.dir.path().join("latin1.csv");
    std::fs::write(&latin1, b"entry_id,account,amount_minor,currency,entry_type,created_at\ne\xe9,a:b,1,usd,x,2026-10-01T00:00:00Z\n").unwrap();
    let problems = rejected(ingest::import_file(
        &mut t.ws,
        Kind::Ledger,
        &latin1,
        None,
        &ctx(),
    ));
    assert!(
        problems[0].message.contains("UTF-8") && problems[0].line == 2,
        "{problems:#?}"
    );
    let unknown = write(t.dir.path(), "ledger.txt", "x");
    assert!(matches!(
        ingest::import_file(&mut t.ws, Kind::Ledger, &unknown, None, &ctx()),
        Err(ImportError::UnknownFormat { .. })
    ));
    assert!(matches!(
        ingest::import_file(
            &mut t.ws,
            Kind::Ledger,
            &t.dir.path().join("absent.csv"),
            None,
            &ctx()
        ),
        Err(ImportError::Io { .. })
    ));
    assert_eq!(count(&t.ws, "imports"), 0);
}

#[test]
fn the_problem_list_is_bounded() {
    let mut t = workspace(Mode::Test);
    let mut text = String::from("entry_id,account,amount_minor,currency,entry_type,created_at\n");
    for i in 0..500 {
        text.push_str(&format!("e{i},a:b,1.5,usd,x,2026-10-01T00:00:00Z\n"));
    }
    let path = write(t.dir.path(), "many.csv", &text);
    match ingest::import_file(&mut t.ws, Kind::Ledger, &path, None, &ctx()) {
        Err(ImportError::Rejected {
            problems,
            truncated,
            ..
        }) => {
            assert_eq!(problems.len(), ingest::MAX_PROBLEMS);
            assert!(truncated);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_other_kind_imports_from_csv_and_jsonl() {
    let mut t = workspace(Mode::Test);
    let files: &[(Kind, &str, &str)] = &[
        (
            Kind::Balances,
            "balances.csv",
            "user_id,month,total_usd_cents,allocated_usd_cents,updated_at\nu1,2026-10,1000,700,2026-10-20T00:00:00Z\n",
        ),
        (
            Kind::Allocations,
            "allocations.jsonl",
            r#"{"id":"a1","user_id":"u1","page_id":"p1","author_id":"c1","amount_cents":700,"month":"2026-10","updated_at":"2026-10-20T00:00:00Z"}"#,
        ),
        (
            Kind::Accounts,
            "accounts.csv",
            "author_id,stripe_account_id,created_at\nc1,acct_123,2026-09-01T00:00:00Z\n",
        ),
        (
            Kind::WebhookEvents,
            "events.jsonl",
            r#"{"event_id":"evt_1","type":"charge.succeeded","status":"received","received_at":"2026-10-01T00:00:00Z","processed_at":null}"#,
        ),
        (
            Kind::Withdrawals,
            "withdrawals.csv",
            "id,user_id,amount_minor,currency,status,requested_at,stripe_transfer_id\nw1,c1,2500,usd,pending,2026-10-05T00:00:00Z,\n",
        ),
    ];
    for (kind, name, text) in files {
        let path = write(t.dir.path(), name, text);
        let r = ingest::import_file(&mut t.ws, *kind, &path, None, &ctx()).unwrap();
        assert_eq!(r.rows_added, 1, "{name}");
    }
    let s = ledger::summary(&t.ws).unwrap();
    assert_eq!(
        (
            s.balances,
            s.allocations,
            s.connected_accounts,
            s.webhook_events,
            s.withdrawals
        ),
        (1, 1, 1, 1, 1)
    );
}

#[test]
fn mutable_tables_take_newer_versions_only() {
    let mut t = workspace(Mode::Test);
    let imp = |t: &mut common::TestWorkspace, name: &str, kind: Kind, text: &str| {
        let path = write(t.dir.path(), name, text);
        ingest::import_file(&mut t.ws, kind, &path, Some(Format::Csv), &ctx())
    };
    let h = "user_id,month,total_usd_cents,allocated_usd_cents,updated_at\n";
    imp(
        &mut t,
        "b1",
        Kind::Balances,
        &format!("{h}u1,2026-10,1000,100,2026-10-02T00:00:00Z\n"),
    )
    .unwrap();
    let r = imp(
        &mut t,
        "b2",
        Kind::Balances,
        &format!("{h}u1,2026-10,1000,300,2026-10-03T00:00:00Z\n"),
    )
    .unwrap();
    assert_eq!(r.rows_updated, 1);
    let r = imp(
        &mut t,
        "b3",
        Kind::Balances,
        &format!("{h}u1,2026-10,1000,200,2026-10-01T00:00:00Z\n"),
    )
    .unwrap();
    assert_eq!(
        (r.rows_updated, r.rows_unchanged),
        (0, 1),
        "an older version is ignored"
    );
    let problems = rejected(imp(
        &mut t,
        "b4",
        Kind::Balances,
        &format!("{h}u1,2026-10,1000,999,2026-10-03T00:00:00Z\n"),
    ));
    assert!(
        problems[0]
            .message
            .contains("same updated_at but different content"),
        "{problems:#?}"
    );
    let problems = rejected(imp(
        &mut t,
        "b5",
        Kind::Balances,
        &format!(
            "{h}u2,2026-13,1000,2000,2026-10-03T00:00:00Z\nu3,2026-10,-5,0,2026-10-03T00:00:00Z\n"
        ),
    ));
    let cols: Vec<_> = problems
        .iter()
        .map(|p| (p.line, p.column.clone().unwrap()))
        .collect();
    assert!(
        cols.contains(&(2, "month".into()))
            && cols.contains(&(2, "allocated_usd_cents".into()))
            && cols.contains(&(3, "total_usd_cents".into())),
        "{cols:?}"
    );
    // An over-allocation names the subscriber and the month, not only the cell.
    let before = common::footprint(&t.ws);
    let problems = rejected(imp(
        &mut t,
        "b6",
        Kind::Balances,
        &format!("{h}u7,2026-10,1000,1500,2026-10-04T00:00:00Z\n"),
    ));
    assert_eq!(problems.len(), 1, "{problems:?}");
    let m = &problems[0].message;
    assert_eq!(problems[0].line, 2);
    assert_eq!(problems[0].column.as_deref(), Some("allocated_usd_cents"));
    assert!(
        m.contains("subscriber u7")
            && m.contains("2026-10")
            && m.contains("1500")
            && m.contains("1000"),
        "{m}"
    );
    assert_eq!(common::footprint(&t.ws), before, "nothing written");
    let allocated: i64 =
        t.ws.connection()
            .query_row(
                "SELECT allocated_usd_cents FROM platform_balances",
                [],
                |r| r.get(0),
            )
            .unwrap();
    assert_eq!(allocated, 300);

    let h = "event_id,type,status,received_at,processed_at,error\n";
    imp(
        &mut t,
        "w1",
        Kind::WebhookEvents,
        &format!("{h}evt_1,charge.succeeded,received,2026-10-01T00:00:00Z,,\n"),
    )
    .unwrap();
    let r = imp(
        &mut t,
        "w2",
        Kind::WebhookEvents,
        &format!(
            "{h}evt_1,charge.succeeded,failed,2026-10-01T00:00:00Z,2026-10-01T00:00:05Z,timeout\n"
        ),
    )
    .unwrap();
    assert_eq!(r.rows_updated, 1, "status may progress");
    let problems = rejected(imp(
        &mut t,
        "w3",
        Kind::WebhookEvents,
        &format!(
            "{h}evt_1,charge.refunded,failed,2026-10-01T00:00:00Z,2026-10-01T00:00:05Z,timeout\n"
        ),
    ));
    assert_eq!(problems[0].column.as_deref(), Some("type"));
    let problems = rejected(imp(
        &mut t,
        "w4",
        Kind::WebhookEvents,
        &format!("{h}evt_2,charge.succeeded,done,2026-10-01T00:00:00Z,,\n"),
    ));
    assert_eq!(problems[0].column.as_deref(), Some("status"));

    let h = "id,user_id,amount_minor,currency,status,requested_at\n";
    let problems = rejected(imp(
        &mut t,
        "x1",
        Kind::Withdrawals,
        &format!("{h}w1,c1,0,usd,pending,2026-10-05T00:00:00Z\nw2,c1,10,usd,pending,2026-10-05\n"),
    ));
    let cols: Vec<_> = problems
        .iter()
        .map(|p| (p.line, p.column.clone().unwrap()))
        .collect();
    assert_eq!(
        cols,
        vec![(2, "amount_minor".into()), (3, "requested_at".into())]
    );
    let problems = rejected(imp(
        &mut t,
        "a1",
        Kind::Accounts,
        "author_id,stripe_account_id,created_at\nc1,ba_123,2026-10-05T00:00:00Z\n",
    ));
    assert_eq!(problems[0].column.as_deref(), Some("stripe_account_id"));
}

#[test]
fn a_large_import_reports_progress_and_a_cancelled_one_leaves_nothing() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let mut t = workspace(Mode::Test);
    let mut text = String::from("entry_id,account,amount_minor,currency,entry_type,created_at\n");
    for i in 0..60_000 {
        text.push_str(&format!("e{i},assets:stripe:payments,1,usd,x,2026-10-01T00:00:00Z\ne{i},income:other,-1,usd,x,2026-10-01T00:00:00Z\n"));
    }
    let path = write(t.dir.path(), "big.csv", &text);
    let before = footprint(&t.ws);
    let cancel = AtomicBool::new(false);
    let mut seen = Vec::new();
    let mut progress = |p: ingest::ImportProgress| {
        seen.push((p.stage, p.rows, p.total));
        if p.stage == ingest::ImportStage::Writing {
            cancel.store(true, Ordering::Relaxed);
        }
    };
    let mut control = ingest::Control {
        progress: &mut progress,
        cancel: &cancel,
    };
    let err = ingest::import_file_with(&mut t.ws, Kind::Ledger, &path, None, &ctx(), &mut control)
        .unwrap_err();
    assert!(matches!(err, ImportError::Cancelled), "{err}");
    assert_eq!(
        footprint(&t.ws),
        before,
        "a cancelled import rolls back completely"
    );
    assert!(
        seen.contains(&(ingest::ImportStage::Reading, 50_000, None)),
        "{seen:?}"
    );
    assert!(
        seen.contains(&(ingest::ImportStage::Writing, 50_000, Some(120_000))),
        "{seen:?}"
    );
    let r = ingest::import_file(&mut t.ws, Kind::Ledger, &path, None, &ctx()).unwrap();
    assert_eq!(r.rows_added, 120_000);
}

/// The workspace summary answers its counts by index seeks (one per account, the ends of
/// the time index); they must equal the plain scans they replace, on the demo's ledger.
#[test]
fn the_summary_counts_equal_plain_scans() {
    let mut t = workspace(Mode::Test);
    let path = common::repo_root().join("fixtures/demo/ledger.csv");
    ingest::import_file(&mut t.ws, Kind::Ledger, &path, None, &ctx()).unwrap();
    let s = ledger::summary(&t.ws).unwrap();
    let one = |sql: &str| -> i64 { t.ws.connection().query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(
        s.accounts as i64,
        one("SELECT count(DISTINCT account) FROM ledger_postings")
    );
    assert_eq!(
        s.entries as i64,
        one("SELECT count(DISTINCT entry_id) FROM ledger_postings")
    );
    assert_eq!(
        s.first_posting.unwrap().as_microsecond(),
        one("SELECT min(created_at) FROM ledger_postings")
    );
    assert_eq!(
        s.last_posting.unwrap().as_microsecond(),
        one("SELECT max(created_at) FROM ledger_postings")
    );
    assert!(s.accounts > 10);
    // And on an empty ledger.
    let empty = workspace(Mode::Test);
    let e = ledger::summary(&empty.ws).unwrap();
    assert_eq!((e.accounts, e.postings), (0, 0));
    assert!(e.first_posting.is_none());
}

/// Balances as of any instant come from the kept totals (less the postings after it, when
/// few) or from a sum up to it (when many): every instant must give what the postings
/// themselves sum to, which `trial_balance_proven` checks.
#[test]
fn balances_at_any_instant_equal_the_postings_summed_up_to_it() {
    let mut t = workspace(Mode::Test);
    let path = common::repo_root().join("fixtures/demo/ledger.csv");
    ingest::import_file(&mut t.ws, Kind::Ledger, &path, None, &ctx()).unwrap();
    let s = ledger::summary(&t.ws).unwrap();
    let (first, last) = (
        s.first_posting.unwrap().as_microsecond(),
        s.last_posting.unwrap().as_microsecond(),
    );
    let span = last - first;
    // Before everything, at the first posting, through the middle (many after: summed),
    // just before the end (few after: kept totals less them), at and after the last.
    let instants = [
        first - 1,
        first,
        first + span / 3,
        first + span / 2,
        last - span / 50,
        last - 1,
        last,
        last + 1,
    ];
    let mut seen = std::collections::BTreeSet::new();
    for us in instants {
        let at = jiff::Timestamp::from_microsecond(us).unwrap();
        let proven = ledger::trial_balance_proven(&t.ws, Some(at))
            .unwrap_or_else(|e| panic!("as of {at}: {e}"));
        let kept = ledger::trial_balance(&t.ws, Some(at)).unwrap();
        let rows = |tb: &ledger::TrialBalance| -> Vec<(String, i64)> {
            tb.rows
                .iter()
                .map(|r| (r.account.clone(), r.balance.minor))
                .collect()
        };
        assert_eq!(rows(&proven), rows(&kept), "as of {at}");
        seen.insert(proven.rows.len());
    }
    assert!(
        seen.len() >= 3,
        "the instants must cut the ledger at different places: {seen:?}"
    );
    assert!(
        seen.contains(&0),
        "before the first posting nothing has a balance"
    );
    // A subtree as of an instant near the end, through the kept totals less the tail.
    let at = jiff::Timestamp::from_microsecond(last - span / 50).unwrap();
    let sub = ledger::balances(&t.ws, Some(at), Some("liabilities")).unwrap();
    let all = ledger::balances(&t.ws, Some(at), None).unwrap();
    let expected: Vec<_> = all
        .iter()
        .filter(|b| b.account == "liabilities" || b.account.starts_with("liabilities:"))
        .map(|b| (b.account.clone(), b.balance.minor, b.postings))
        .collect();
    let got: Vec<_> = sub
        .iter()
        .map(|b| (b.account.clone(), b.balance.minor, b.postings))
        .collect();
    assert!(!got.is_empty());
    assert_eq!(got, expected);
}

/// Regression guard for the kept totals: a total changed behind the engine's back is found
/// by the proof (naming the account), refused by the trial balance (debits ≠ credits) and
/// by the auditors' export, which sums the postings.
#[test]
fn a_kept_total_that_disagrees_with_the_postings_is_found() {
    let mut t = workspace(Mode::Test);
    let path = common::repo_root().join("fixtures/demo/ledger.csv");
    ingest::import_file(&mut t.ws, Kind::Ledger, &path, None, &ctx()).unwrap();
    let proof = ledger::prove_totals(&t.ws).unwrap();
    assert_eq!(proof.postings as i64, count(&t.ws, "ledger_postings"));
    let account: String =
        t.ws.connection()
            .query_row(
                "SELECT account FROM ledger_account_totals ORDER BY account LIMIT 1",
                [],
                |r| r.get(0),
            )
            .unwrap();
    t.ws.connection()
        .execute(
            "UPDATE ledger_account_totals SET balance_minor = balance_minor + 1 WHERE account = ?1",
            [&account],
        )
        .unwrap();
    let err = ledger::prove_totals(&t.ws).unwrap_err().to_string();
    assert!(
        err.contains(&account) && err.contains("kept totals"),
        "{err}"
    );
    let err = ledger::trial_balance(&t.ws, None).unwrap_err().to_string();
    assert!(err.contains("debits"), "{err}");
    let err = ledger::trial_balance_proven(&t.ws, None)
        .unwrap_err()
        .to_string();
    assert!(err.contains(&account), "{err}");
}

/// The kept totals follow every way postings arrive: an entry split across two files (the
/// second adds postings to an entry already there), new entries, and a repeated file.
#[test]
fn kept_totals_follow_entries_split_across_imports() {
    let mut t = workspace(Mode::Test);
    let header = "id,entry_id,account,amount_minor,currency,entry_type,stripe_object_id,event_id,idempotency_key,livemode,created_at,description\n";
    let first = format!(
        "{header}1,e1,assets:stripe:payments,1000,usd,subscription_payment,,,,false,2026-11-01T10:00:00Z,\n\
         2,e1,liabilities:subscribers:u1,-1000,usd,subscription_payment,,,,false,2026-11-01T10:00:00Z,\n"
    );
    let second = format!(
        "{header}3,e1,expenses:stripe_fees,30,usd,subscription_payment,,,,false,2026-11-01T10:00:00Z,\n\
         4,e1,assets:stripe:payments,-30,usd,subscription_payment,,,,false,2026-11-01T10:00:00Z,\n\
         5,e2,assets:stripe:payments,500,eur,subscription_payment,,,,false,2026-11-02T10:00:00Z,\n\
         6,e2,liabilities:subscribers:u2,-500,eur,subscription_payment,,,,false,2026-11-02T10:00:00Z,\n"
    );
    let a = write(t.dir.path(), "first.csv", &first);
    let b = write(t.dir.path(), "second.csv", &second);
    ingest::import_file(&mut t.ws, Kind::Ledger, &a, None, &ctx()).unwrap();
    ingest::import_file(&mut t.ws, Kind::Ledger, &b, None, &ctx()).unwrap();
    ingest::import_file(&mut t.ws, Kind::Ledger, &b, None, &ctx()).unwrap();
    let proof = ledger::prove_totals(&t.ws).unwrap();
    assert_eq!((proof.postings, proof.entries), (6, 2));
    let balance = |account: &str| -> Vec<(String, i64, u64)> {
        ledger::balances(&t.ws, None, Some(account))
            .unwrap()
            .into_iter()
            .map(|b| {
                (
                    b.balance.currency.code().to_string(),
                    b.balance.minor,
                    b.postings,
                )
            })
            .collect()
    };
    assert_eq!(
        balance("assets:stripe:payments"),
        [("eur".to_string(), 500, 1), ("usd".to_string(), 970, 2)]
    );
    let s = ledger::summary(&t.ws).unwrap();
    assert_eq!((s.postings, s.entries, s.accounts), (6, 2, 4));
    assert_eq!(s.currencies, ["eur", "usd"]);
    assert_eq!(
        ledger::entry_types(&t.ws).unwrap(),
        ["subscription_payment"]
    );
}
