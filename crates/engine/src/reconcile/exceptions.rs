//! The exceptions workflow: list what reconciliation found, show an exception with its
//! history, and resolve it — with a note, recorded with who and when, carried to every
//! later snapshot. An adjustment resolution books a balanced entry of Closebook's own,
//! exportable in the platform's ledger file format.

use std::path::Path;

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::params;
use serde::{Deserialize, Serialize};

use super::ReconcileError;
use super::matching::{FEE_ENTRY_TYPE, Kind};
use super::snapshot::{SnapshotException, exception_from_row};
use crate::workspace::Workspace;
use crate::{OpContext, audit};

/// How a person closed an exception.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// A balanced adjustment entry was booked (Closebook's own, exportable).
    BookedAdjustment,
    /// A timing difference that cleared on the next day(s).
    Timing,
    /// The difference is written off.
    WriteOff,
    /// The duplicate booking is confirmed and will be reversed on the platform.
    DuplicateConfirmed,
    /// Accepted as it is, with the reason in the note.
    Accepted,
}

impl Resolution {
    pub const ALL: [Resolution; 5] = [
        Resolution::BookedAdjustment,
        Resolution::Timing,
        Resolution::WriteOff,
        Resolution::DuplicateConfirmed,
        Resolution::Accepted,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Resolution::BookedAdjustment => "booked_adjustment",
            Resolution::Timing => "timing",
            Resolution::WriteOff => "write_off",
            Resolution::DuplicateConfirmed => "duplicate_confirmed",
            Resolution::Accepted => "accepted",
        }
    }

    pub fn parse(s: &str) -> Option<Resolution> {
        Resolution::ALL.into_iter().find(|r| r.name() == s)
    }

    /// Whether this resolution fits an exception of `kind`.
    pub fn fits(self, kind: Kind) -> bool {
        match self {
            Resolution::Timing => kind == Kind::TimingDifference,
            Resolution::DuplicateConfirmed => kind == Kind::Duplicate,
            Resolution::BookedAdjustment => {
                !matches!(kind, Kind::TimingDifference | Kind::DataChanged)
            }
            Resolution::WriteOff | Resolution::Accepted => true,
        }
    }
}

/// The longest note accepted.
pub const MAX_NOTE_CHARS: usize = 2_000;
/// The default counter-account of an adjustment other than a fee's: a suspense account the
/// finance team clears once the cause is known. (The Stripe side of an adjustment goes to
/// the workspace's `stripe_balance` role, a fee's counter-account to its `stripe_fees`.)
pub const DEFAULT_SUSPENSE_ACCOUNT: &str = "liabilities:reconciliation_suspense";

/// An exception with its latest evidence.
#[derive(Debug, Clone, Serialize)]
pub struct ExceptionRow {
    #[serde(flatten)]
    pub exception: SnapshotException,
    /// The last reconciled day that found it.
    pub last_day: Date,
    /// How many snapshots found it.
    pub appearances: u64,
    /// Whether the latest snapshot still finds it.
    pub current: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StateFilter {
    #[default]
    Open,
    Resolved,
    All,
}

#[derive(Debug, Clone, Default)]
pub struct ExceptionFilter {
    pub kind: Option<Kind>,
    pub state: StateFilter,
    pub currency: Option<String>,
    /// Only exceptions whose |effect| is at least this, minor units.
    pub min_amount: Option<i64>,
}

const ROW_SQL: &str = "SELECT e.id, e.key, e.kind, e.currency, e.stripe_object, x.effect, x.stripe_amount, x.ledger_amount, x.evidence, e.first_day,
        r.resolution, r.note, r.actor, r.at, r.adjustment_entry,
        s.day, (SELECT count(*) FROM recon_snapshot_exceptions c WHERE c.exception_id = e.id),
        EXISTS (SELECT 1 FROM recon_snapshot_exceptions c WHERE c.exception_id = e.id
                AND c.snapshot_id = (SELECT max(id) FROM recon_snapshots))
     FROM recon_exceptions e
     JOIN recon_snapshot_exceptions x ON x.exception_id = e.id
          AND x.snapshot_id = (SELECT max(snapshot_id) FROM recon_snapshot_exceptions m WHERE m.exception_id = e.id)
     JOIN recon_snapshots s ON s.id = x.snapshot_id
     LEFT JOIN recon_resolutions r ON r.exception_id = e.id";

fn row(r: &rusqlite::Row<'_>) -> Result<ExceptionRow, ReconcileError> {
    let exception = exception_from_row(r)?;
    let last: String = r.get(15)?;
    Ok(ExceptionRow {
        exception,
        last_day: last
            .parse()
            .map_err(|_| ReconcileError::Invariant(format!("bad day {last}")))?,
        appearances: r.get::<_, i64>(16)? as u64,
        current: r.get(17)?,
    })
}

/// Exceptions matching `filter`, oldest first.
pub fn list(ws: &Workspace, filter: &ExceptionFilter) -> Result<Vec<ExceptionRow>, ReconcileError> {
    let mut stmt = ws
        .conn
        .prepare(&format!("{ROW_SQL} ORDER BY e.first_day, e.id"))?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let x = row(r)?;
        let e = &x.exception;
        let keep = filter.kind.is_none_or(|k| k == e.kind)
            && match filter.state {
                StateFilter::Open => e.resolution.is_none(),
                StateFilter::Resolved => e.resolution.is_some(),
                StateFilter::All => true,
            }
            && filter.currency.as_ref().is_none_or(|c| c == &e.currency)
            && filter
                .min_amount
                .is_none_or(|m| e.effect.unsigned_abs() >= m.unsigned_abs());
        if keep {
            out.push(x);
        }
    }
    Ok(out)
}

fn one(ws: &Workspace, id: i64) -> Result<ExceptionRow, ReconcileError> {
    let mut stmt = ws
        .conn
        .prepare_cached(&format!("{ROW_SQL} WHERE e.id = ?1"))?;
    let mut rows = stmt.query([id])?;
    match rows.next()? {
        Some(r) => row(r),
        None => Err(ReconcileError::NoException(id)),
    }
}

/// One appearance of an exception in a snapshot.
#[derive(Debug, Clone, Serialize)]
pub struct Appearance {
    pub day: Date,
    pub version: i64,
    pub effect: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExceptionDetail {
    #[serde(flatten)]
    pub row: ExceptionRow,
    pub history: Vec<Appearance>,
}

pub fn show(ws: &Workspace, id: i64) -> Result<ExceptionDetail, ReconcileError> {
    let row = one(ws, id)?;
    let mut stmt = ws.conn.prepare_cached(
        "SELECT s.day, s.version, x.effect FROM recon_snapshot_exceptions x
         JOIN recon_snapshots s ON s.id = x.snapshot_id WHERE x.exception_id = ?1 ORDER BY s.day, s.version",
    )?;
    let history = stmt
        .query_map([id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?
        .into_iter()
        .map(|(d, version, effect)| Appearance {
            day: d.parse().unwrap_or(row.exception.first_day),
            version,
            effect,
        })
        .collect();
    Ok(ExceptionDetail { row, history })
}

/// One posting of a proposed adjustment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProposedPosting {
    pub account: String,
    pub amount_minor: i64,
}

/// A balanced entry Closebook would book to resolve an exception.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProposedEntry {
    pub entry_id: String,
    pub entry_type: String,
    pub stripe_object_id: Option<String>,
    pub currency: String,
    pub description: String,
    pub postings: Vec<ProposedPosting>,
}

/// A counter-account a person types: the ledger's rule, in letters, digits, `_ - .` and
/// single spaces between words (a stray character is a typo, not a new account).
fn valid_account(a: &str) -> bool {
    a.chars().count() <= crate::accounts::MAX_ACCOUNT_CHARS
        && crate::accounts::valid_account(a).is_ok()
        && a.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, ':' | '_' | '-' | '.' | ' '))
}

/// The adjustment that would bring the ledger to Stripe's figures for exception `id`: the
/// Stripe balance moved by the exception's effect against `counter_account` (default: the
/// fee account for a fee, the suspense account otherwise). A missing charge is booked as
/// Stripe booked it: its amount, and its fee as a `stripe_fee` entry.
pub fn propose_adjustment(
    ws: &Workspace,
    id: i64,
    counter_account: Option<&str>,
) -> Result<Vec<ProposedEntry>, ReconcileError> {
    let x = one(ws, id)?;
    proposal(&x, &crate::accounts::load(&ws.conn)?, counter_account)
}

fn proposal(
    x: &ExceptionRow,
    map: &crate::accounts::RoleMap,
    counter_account: Option<&str>,
) -> Result<Vec<ProposedEntry>, ReconcileError> {
    use crate::accounts::Role;
    let stripe_account = map.get(Role::StripeBalance);
    let fee_account = map.get(Role::StripeFees);
    let e = &x.exception;
    let id = e.id.unwrap_or_default();
    if !Resolution::BookedAdjustment.fits(e.kind) {
        return Err(ReconcileError::Refused(format!(
            "exception #{id} is a {}: it needs no adjustment entry; resolve it as {}",
            e.kind.name(),
            if e.kind == Kind::TimingDifference {
                "timing"
            } else {
                "accepted"
            }
        )));
    }
    if e.effect == 0 {
        return Err(ReconcileError::Refused(format!(
            "exception #{id} moves nothing: there is nothing to adjust"
        )));
    }
    if let Some(a) = counter_account
        && !valid_account(a)
    {
        return Err(ReconcileError::Refused(format!(
            "`{a}` is not an account name: use colon-separated parts of letters, digits, _ - . and single spaces, at most {} characters",
            crate::accounts::MAX_ACCOUNT_CHARS
        )));
    }
    let what = e.stripe_object.clone().unwrap_or_else(|| e.key.clone());
    let entry =
        |suffix: &str, entry_type: &str, amount: i64, counter: &str, why: String| ProposedEntry {
            entry_id: format!("cb-adj-{id}{suffix}"),
            entry_type: entry_type.to_string(),
            stripe_object_id: e.stripe_object.clone(),
            currency: e.currency.clone(),
            description: why,
            postings: vec![
                ProposedPosting {
                    account: stripe_account.to_string(),
                    amount_minor: amount,
                },
                ProposedPosting {
                    account: counter.to_string(),
                    amount_minor: -amount,
                },
            ],
        };
    let suspense = counter_account.unwrap_or(DEFAULT_SUSPENSE_ACCOUNT);
    Ok(match e.kind {
        Kind::FeeMismatch => vec![entry(
            "",
            FEE_ENTRY_TYPE,
            e.effect,
            counter_account.unwrap_or(fee_account),
            format!("Reconciliation: Stripe's fee on {what} (exception #{id})"),
        )],
        Kind::MissingInLedger | Kind::MissedWebhook => {
            let fee = e.evidence.stripe_fee.unwrap_or(0);
            let gross = e
                .effect
                .checked_add(fee)
                .ok_or(ReconcileError::Overflow("adding amounts"))?;
            let mut v = vec![entry(
                "",
                "adjustment",
                gross,
                suspense,
                format!("Reconciliation: {what} missing in the ledger (exception #{id})"),
            )];
            if fee != 0 {
                v.push(entry(
                    "-fee",
                    FEE_ENTRY_TYPE,
                    -fee,
                    fee_account,
                    format!("Reconciliation: Stripe's fee on {what} (exception #{id})"),
                ));
            }
            v
        }
        _ => vec![entry(
            "",
            "adjustment",
            e.effect,
            suspense,
            format!(
                "Reconciliation: {} on {what} (exception #{id})",
                e.kind.name().replace('_', " ")
            ),
        )],
    })
}

/// A person's decision on one or more exceptions.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResolveRequest {
    pub ids: Vec<i64>,
    pub resolution: Resolution,
    pub note: String,
    /// For adjustments: the account the difference goes to (see [`propose_adjustment`]).
    pub counter_account: Option<String>,
}

/// Resolves every exception in the request, or none: each must exist, be open, and fit
/// the resolution. Recorded in the audit log with who and when.
pub fn resolve(
    ws: &Workspace,
    req: &ResolveRequest,
    ctx: &OpContext,
) -> Result<Vec<ExceptionRow>, ReconcileError> {
    let note = req.note.trim();
    if note.is_empty() {
        return Err(ReconcileError::Refused(
            "a resolution needs a note saying why".into(),
        ));
    }
    if note.chars().count() > MAX_NOTE_CHARS {
        return Err(ReconcileError::Refused(format!(
            "the note is longer than {MAX_NOTE_CHARS} characters"
        )));
    }
    // Kept as written and shown in reports and exports: one line, no control characters.
    if note.chars().any(char::is_control) {
        return Err(ReconcileError::Refused(
            "a note is one line of text: no line breaks, tabs or other control characters".into(),
        ));
    }
    if req.ids.is_empty() {
        return Err(ReconcileError::Refused("no exception to resolve".into()));
    }
    let mut ids = req.ids.clone();
    ids.sort_unstable();
    ids.dedup();
    let live: bool = ws.info().mode.is_live();
    let map = crate::accounts::load(&ws.conn)?;
    let tx = ws.conn.unchecked_transaction()?;
    for &id in &ids {
        let x = one(ws, id)?;
        let e = &x.exception;
        if let Some(r) = &e.resolution {
            // A re-run of the same resolution (after a kill, from a script) finds its work
            // done; anything else would overwrite a person's decision, which never happens.
            if r.resolution == req.resolution.name() && r.note == note {
                continue;
            }
            return Err(ReconcileError::Refused(format!(
                "exception #{id} was already resolved ({}) by {} at {}",
                r.resolution, r.actor, r.at
            )));
        }
        if !req.resolution.fits(e.kind) {
            return Err(ReconcileError::Refused(format!(
                "exception #{id} is a {}: it cannot be resolved as {}",
                e.kind.name(),
                req.resolution.name()
            )));
        }
        let mut adjustment: Option<String> = None;
        if req.resolution == Resolution::BookedAdjustment {
            let entries = proposal(&x, &map, req.counter_account.as_deref())?;
            for entry in &entries {
                book(&tx, entry, live, ctx.now, note)?;
            }
            adjustment = entries.first().map(|e| e.entry_id.clone());
        }
        tx.execute(
            "INSERT INTO recon_resolutions (exception_id, resolution, note, actor, at, adjustment_entry)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                id,
                req.resolution.name(),
                note,
                ctx.actor,
                ctx.now.as_microsecond(),
                adjustment
            ],
        )?;
        audit::append(
            &tx,
            ctx.now,
            &ctx.actor,
            "reconcile.resolve",
            &format!(
                "exception #{id} ({} {}{}) resolved as {}{}",
                e.kind.name(),
                e.currency,
                e.stripe_object
                    .as_ref()
                    .map(|o| format!(" {o}"))
                    .unwrap_or_default(),
                req.resolution.name(),
                adjustment
                    .as_ref()
                    .map(|a| format!(", adjustment {a} booked"))
                    .unwrap_or_default()
            ),
            &serde_json::json!({
                "exception": id,
                "key": e.key,
                "resolution": req.resolution.name(),
                "note": note,
                "adjustment_entry": adjustment,
                "effect": e.effect,
            }),
        )?;
    }
    tx.commit()?;
    ids.iter().map(|&id| one(ws, id)).collect()
}

/// Books one adjustment entry as Closebook's own postings (checked to balance and to be new).
fn book(
    conn: &rusqlite::Connection,
    entry: &ProposedEntry,
    live: bool,
    at: Timestamp,
    note: &str,
) -> Result<(), ReconcileError> {
    let postings: Vec<(&str, i64)> = entry
        .postings
        .iter()
        .map(|p| (p.account.as_str(), p.amount_minor))
        .collect();
    let description = format!("{} — {note}", entry.description);
    crate::ledger::book_own(
        conn,
        &crate::ledger::OwnEntry {
            entry_id: &entry.entry_id,
            entry_type: &entry.entry_type,
            currency: &entry.currency,
            stripe_object_id: entry.stripe_object_id.as_deref(),
            description: &description,
            postings: &postings,
        },
        live,
        at,
    )
    .map_err(|e| match e {
        crate::ledger::LedgerError::Invariant(m) => ReconcileError::Invariant(m),
        other => ReconcileError::Ledger(other),
    })
}

/// Writes Closebook's own entries (adjustments) in the platform's ledger file format
/// (`contracts/FILES.md`), for booking on the platform. Written to a temporary file and
/// renamed into place: never a half-written file. Returns the number of postings.
pub fn export_adjustments(ws: &Workspace, path: &Path) -> Result<u64, ReconcileError> {
    let io = |e: std::io::Error| ReconcileError::Io(path.display().to_string(), e.to_string());
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile_in(dir).map_err(io)?;
    let mut count = 0u64;
    {
        let mut w = csv::Writer::from_writer(&mut tmp.1);
        w.write_record([
            "entry_id",
            "account",
            "amount_minor",
            "currency",
            "entry_type",
            "stripe_object_id",
            "event_id",
            "idempotency_key",
            "livemode",
            "created_at",
            "description",
        ])
        .map_err(|e| ReconcileError::Io(path.display().to_string(), e.to_string()))?;
        let mut stmt = ws.conn.prepare(
            "SELECT entry_id, account, amount_minor, currency, entry_type, stripe_object_id, livemode, created_at, description
             FROM ledger_postings WHERE origin = 'closebook' ORDER BY seq",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let entry_id: String = r.get(0)?;
            let created: i64 = r.get(7)?;
            let created = Timestamp::from_microsecond(created).unwrap_or(Timestamp::UNIX_EPOCH);
            let live: bool = r.get(6)?;
            w.write_record([
                entry_id.clone(),
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?.to_string(),
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<String>>(5)?.unwrap_or_default(),
                String::new(),
                format!("closebook:{entry_id}"),
                live.to_string(),
                created.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
                r.get::<_, Option<String>>(8)?.unwrap_or_default(),
            ])
            .map_err(|e| ReconcileError::Io(path.display().to_string(), e.to_string()))?;
            count += 1;
        }
        w.flush().map_err(io)?;
    }
    tmp.1.sync_all().map_err(io)?;
    drop(tmp.1);
    crate::files::rename_no_replace(&tmp.0, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp.0);
        io(e)
    })?;
    Ok(count)
}

/// A new file next to the destination, with a name no one else uses.
fn tempfile_in(dir: &Path) -> std::io::Result<(std::path::PathBuf, std::fs::File)> {
    let mut n = [0u8; 8];
    getrandom::fill(&mut n).map_err(|e| std::io::Error::other(e.to_string()))?;
    let p = dir.join(format!(".closebook-export-{}.tmp", hex::encode(n)));
    let f = crate::files::create_private(&p)?;
    Ok((p, f))
}
