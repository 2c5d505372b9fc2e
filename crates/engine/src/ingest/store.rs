//! Writing parsed rows into the workspace, with the mirror's rules:
//! - a ledger entry arrives whole, balances per currency, and never changes afterwards;
//! - a row of the platform's other tables is replaced only by a newer version of itself
//!   (a later `updated_at`, or a status change), never by different content under the
//!   same version.
//!
//! Long: the one writer of every import kind's rows (insert, newer version, unchanged or
//! refused), each kind a short function sharing the transaction and the kept totals.

use std::collections::HashMap;

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use rustc_hash::FxHashMap;

use super::read::{self, Format};
use super::rows::{self, Cells, LedgerRow};
use super::{Control, ImportStage, Kind, PROGRESS_EVERY, Problem, Problems};
use crate::OpContext;
use crate::ledger::TotalsDelta;
use crate::money::{Money, UnitRegistry};
use crate::workspace::Workspace;

/// Parsed rows of one kind.
pub enum Parsed {
    Ledger(Vec<LedgerRow>),
    Table(Kind, Vec<(u64, Vec<Value>)>),
}

impl Parsed {
    pub fn len(&self) -> usize {
        match self {
            Parsed::Ledger(v) => v.len(),
            Parsed::Table(_, v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub added: u64,
    pub updated: u64,
    pub unchanged: u64,
}

impl Counts {
    pub fn add(&mut self, other: Counts) {
        self.added += other.added;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
    }
}

pub fn parse(
    ws: &Workspace,
    kind: Kind,
    file: &str,
    format: Format,
    bytes: &[u8],
    problems: &mut Problems,
    control: &mut Control<'_>,
) -> Parsed {
    let units = ws.units();
    let live = ws.info().mode.is_live();
    let mut ledger = Vec::new();
    let mut table = Vec::new();
    let mut read_rows = 0u64;
    read::for_each_record(
        format,
        bytes,
        file,
        kind.required_columns(),
        problems,
        |rec, problems| {
            let mut cells = Cells::new(rec, file, problems);
            read_rows += 1;
            if read_rows.is_multiple_of(PROGRESS_EVERY) {
                control.report(ImportStage::Reading, read_rows, None);
            }
            if kind == Kind::Ledger {
                if let Some(row) = rows::parse_ledger(&mut cells, units, live) {
                    ledger.push(row);
                }
            } else if let Some(values) = rows::parse_table_row(kind, &mut cells, units) {
                table.push((rec.line(), values));
            }
            !control.cancelled()
        },
    );
    if kind == Kind::Ledger {
        Parsed::Ledger(ledger)
    } else {
        Parsed::Table(kind, table)
    }
}

pub fn find_import(conn: &Connection, kind: Kind, sha256: &str) -> rusqlite::Result<Option<i64>> {
    conn.query_row(
        "SELECT id FROM imports WHERE kind = ?1 AND content_sha256 = ?2 ORDER BY id LIMIT 1",
        params![kind.name(), sha256],
        |r| r.get(0),
    )
    .optional()
}

pub fn begin_import(
    conn: &Connection,
    kind: Kind,
    source: &str,
    sha256: Option<&str>,
    ctx: &OpContext,
) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO imports (kind, source, content_sha256, rows_read, rows_added, rows_updated, at, actor)
         VALUES (?1, ?2, ?3, 0, 0, 0, ?4, ?5)",
        params![kind.name(), source, sha256, ctx.now.as_microsecond(), ctx.actor],
    )?;
    Ok(conn.last_insert_rowid())
}

pub fn finish_import(
    conn: &Connection,
    import_id: i64,
    rows_read: u64,
    counts: Counts,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE imports SET rows_read = ?2, rows_added = ?3, rows_updated = ?4 WHERE id = ?1",
        params![
            import_id,
            rows_read as i64,
            counts.added as i64,
            counts.updated as i64
        ],
    )?;
    Ok(())
}

pub fn write(
    conn: &Connection,
    parsed: &Parsed,
    import_id: i64,
    file: &str,
    units: &UnitRegistry,
    problems: &mut Problems,
    control: &mut Control<'_>,
) -> rusqlite::Result<Counts> {
    let total = Some(parsed.len() as u64);
    match parsed {
        Parsed::Ledger(rows) => write_ledger(conn, rows, import_id, file, units, problems, control),
        Parsed::Table(kind, rows) => {
            let spec = TableSpec::of(*kind);
            let mut counts = Counts::default();
            for (done, (line, values)) in rows.iter().enumerate() {
                counts.add(spec.upsert(conn, values, import_id, file, *line, problems)?);
                if (done as u64 + 1).is_multiple_of(PROGRESS_EVERY) {
                    control.report(ImportStage::Writing, done as u64 + 1, total);
                    if control.cancelled() {
                        break;
                    }
                }
            }
            Ok(counts)
        }
    }
}

/// The identity of a posting: the platform's id when the file has one, else its place
/// within its entry (`contracts/FILES.md`: "id optional: line order then").
pub fn posting_key(row: &LedgerRow, ordinal_in_entry: usize) -> String {
    match row.id {
        Some(id) => format!("id:{id}"),
        None => format!("line:{}:{}", row.entry_id, ordinal_in_entry),
    }
}

/// What [`posting_key`] is made of, borrowed: the platform's id, or the place in an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum PostingIdentity<'r> {
    Id(i64),
    Line(&'r str, usize),
}

/// Groups postings into entries in order of first appearance and checks, before anything
/// is written, that each entry balances per currency and that no key repeats with other
/// content. Returns (key, row) per entry.
pub fn group_entries<'r>(
    rows: &'r [LedgerRow],
    file: &str,
    units: &UnitRegistry,
    problems: &mut Problems,
) -> Vec<Vec<(String, &'r LedgerRow)>> {
    // Fx hashing and keys that borrow from the rows: a million postings hash and compare
    // without allocating (0.8 s → 0.4 s with SipHash and a String per key).
    let mut index: FxHashMap<&str, usize> = FxHashMap::default();
    let mut entries: Vec<Vec<(String, &LedgerRow)>> = Vec::new();
    let mut keys: FxHashMap<PostingIdentity<'_>, &LedgerRow> = FxHashMap::default();
    for row in rows {
        let slot = *index.entry(row.entry_id.as_str()).or_insert_with(|| {
            entries.push(Vec::new());
            entries.len() - 1
        });
        let ordinal = entries[slot].len() + 1;
        let identity = match row.id {
            Some(id) => PostingIdentity::Id(id),
            None => PostingIdentity::Line(row.entry_id.as_str(), ordinal),
        };
        if let Some(first) = keys.get(&identity) {
            if !first.same_content(row) {
                problems.push(Problem::new(
                    file,
                    row.line,
                    Some("id"),
                    format!(
                        "id {} is used again (first at line {}) with different content",
                        row.id.unwrap_or_default(),
                        first.line
                    ),
                ));
            }
            continue; // an exact repeat adds nothing
        }
        keys.insert(identity, row);
        entries[slot].push((posting_key(row, ordinal), row));
    }
    for entry in &entries {
        let mut sums: Vec<(&str, i128)> = Vec::new();
        for (_, row) in entry {
            match sums.iter_mut().find(|(c, _)| *c == row.currency) {
                Some((_, s)) => *s += i128::from(row.amount_minor),
                None => sums.push((row.currency.as_str(), i128::from(row.amount_minor))),
            }
        }
        let off: Vec<String> = sums
            .iter()
            .filter(|(_, s)| *s != 0)
            .map(|(c, s)| match (units.lookup(c), i64::try_from(*s)) {
                (Ok(u), Ok(m)) => Money::new(m, u).format(),
                _ => format!("{s} {c}"),
            })
            .collect();
        if !off.is_empty() {
            let first = entry[0].1;
            let lines: Vec<String> = entry.iter().map(|(_, r)| r.line.to_string()).collect();
            problems.push(Problem::new(
                file,
                first.line,
                Some("amount_minor"),
                format!(
                    "entry {} does not balance: its postings (lines {}) sum to {} instead of zero",
                    first.entry_id,
                    lines.join(", "),
                    off.join(" and ")
                ),
            ));
        }
    }
    entries
}

/// The posting columns a file carries, in the order rows bind them (a macro, so that the
/// statements below are constants: no SQL is formatted per entry of a million-row import).
macro_rules! posting_columns {
    () => {
        "posting_key, platform_id, entry_id, account, amount_minor, currency, entry_type, \
         stripe_object_id, event_id, idempotency_key, livemode, created_at, description"
    };
}
const SELECT_ENTRY_POSTINGS: &str = concat!(
    "SELECT ",
    posting_columns!(),
    " FROM ledger_postings WHERE entry_id = ?1"
);
const INSERT_POSTING: &str = concat!(
    "INSERT INTO ledger_postings (",
    posting_columns!(),
    ", origin, import_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
);

fn write_ledger(
    conn: &Connection,
    rows: &[LedgerRow],
    import_id: i64,
    file: &str,
    units: &UnitRegistry,
    problems: &mut Problems,
    control: &mut Control<'_>,
) -> rusqlite::Result<Counts> {
    let entries = group_entries(rows, file, units, problems);
    if !problems.is_empty() {
        return Ok(Counts::default());
    }
    let total = Some(rows.len() as u64);
    let mut counts = Counts::default();
    let mut done = 0u64;
    let known = known_entries(conn, &entries)?;
    let mut totals = TotalsDelta::default();
    for entry in &entries {
        let entry_id = entry[0].1.entry_id.as_str();
        counts.add(if known.contains(entry_id) {
            write_entry(
                conn,
                entry,
                import_id,
                "mirror",
                file,
                problems,
                &mut totals,
            )?
        } else {
            totals.new_entry();
            insert_postings(
                conn,
                entry,
                import_id,
                "mirror",
                file,
                problems,
                &mut totals,
            )?
        });
        let before = done;
        done += entry.len() as u64;
        if before / PROGRESS_EVERY != done / PROGRESS_EVERY {
            control.report(ImportStage::Writing, done, total);
            if control.cancelled() {
                break;
            }
        }
        if problems.is_full() {
            break;
        }
    }
    totals.apply(conn)?;
    Ok(counts)
}

/// Writes one whole entry, or checks that the identical entry is already there. What it
/// writes is added to `totals`, which the caller applies before its transaction commits.
pub(crate) fn write_entry(
    conn: &Connection,
    entry: &[(String, &LedgerRow)],
    import_id: i64,
    origin: &str,
    file: &str,
    problems: &mut Problems,
    totals: &mut TotalsDelta,
) -> rusqlite::Result<Counts> {
    let entry_id = &entry[0].1.entry_id;
    let mut existing_stmt = conn.prepare_cached(SELECT_ENTRY_POSTINGS)?;
    let existing: Vec<(String, LedgerRow)> = existing_stmt
        .query_map([entry_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                LedgerRow {
                    line: 0,
                    id: r.get(1)?,
                    entry_id: r.get(2)?,
                    account: r.get(3)?,
                    amount_minor: r.get(4)?,
                    currency: r.get(5)?,
                    entry_type: r.get(6)?,
                    stripe_object_id: r.get(7)?,
                    event_id: r.get(8)?,
                    idempotency_key: r.get(9)?,
                    livemode: r.get(10)?,
                    created_at: r.get(11)?,
                    description: r.get(12)?,
                },
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    // Mirrored postings never change. An entry already present may only gain postings
    // with new keys that balance on their own (an entry split across two pulls).
    let mut new_postings: Vec<&(String, &LedgerRow)> = Vec::new();
    let mut unchanged = 0u64;
    for posting in entry {
        let (key, row) = posting;
        match existing.iter().find(|(ek, _)| ek == key) {
            Some((_, erow)) if erow.same_content(row) => unchanged += 1,
            Some(_) => {
                problems.push(Problem::new(
                    file,
                    row.line,
                    Some("entry_id"),
                    format!(
                        "posting {key} of entry {entry_id} is already in the workspace with other content; \
                         mirrored postings never change: the platform must book a correction as a new entry"
                    ),
                ));
                return Ok(Counts::default());
            }
            None => new_postings.push(posting),
        }
    }
    if new_postings.is_empty() {
        return Ok(Counts {
            unchanged,
            ..Counts::default()
        });
    }
    if !existing.is_empty() {
        let mut sums: HashMap<&str, i128> = HashMap::new();
        for (_, row) in &new_postings {
            *sums.entry(row.currency.as_str()).or_default() += i128::from(row.amount_minor);
        }
        if sums.values().any(|s| *s != 0) {
            problems.push(Problem::new(
                file,
                new_postings[0].1.line,
                Some("entry_id"),
                format!(
                    "entry {entry_id} is already in the workspace with {} posting(s); the {} posting(s) this source adds to it do not balance on their own",
                    existing.len(),
                    new_postings.len()
                ),
            ));
            return Ok(Counts::default());
        }
    }
    if existing.is_empty() {
        totals.new_entry();
    }
    let added = insert_postings(
        conn,
        &new_postings.into_iter().cloned().collect::<Vec<_>>(),
        import_id,
        origin,
        file,
        problems,
        totals,
    )?;
    Ok(Counts { unchanged, ..added })
}

/// Which of `entries` the workspace already holds, in one query: the ids go to a temporary
/// table (in memory: `temp_store = MEMORY`) joined with the entry index, instead of one
/// lookup statement per entry. Only those are compared posting by posting.
///
/// Ids outside the range of those already in the ledger (two seeks, to the entry index's
/// ends) cannot be held and skip the temporary table: platforms number entries upward, so
/// a new month's file is mostly above the range (and the first file meets an empty one).
fn known_entries<'a>(
    conn: &Connection,
    entries: &'a [Vec<(String, &LedgerRow)>],
) -> rusqlite::Result<std::collections::HashSet<&'a str>> {
    let (low, high): (Option<String>, Option<String>) = conn.query_row(
        "SELECT (SELECT min(entry_id) FROM ledger_postings), (SELECT max(entry_id) FROM ledger_postings)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let (Some(low), Some(high)) = (low, high) else {
        return Ok(std::collections::HashSet::new());
    };
    let candidates: Vec<&str> = entries
        .iter()
        .map(|e| e[0].1.entry_id.as_str())
        .filter(|id| (low.as_str()..=high.as_str()).contains(id))
        .collect();
    if candidates.is_empty() {
        return Ok(std::collections::HashSet::new());
    }
    conn.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS import_entry_ids (entry_id TEXT PRIMARY KEY) WITHOUT ROWID;
         DELETE FROM temp.import_entry_ids;",
    )?;
    {
        let mut insert = conn
            .prepare_cached("INSERT OR IGNORE INTO temp.import_entry_ids (entry_id) VALUES (?1)")?;
        for id in &candidates {
            insert.execute([id])?;
        }
    }
    let mut found: std::collections::HashSet<String> = std::collections::HashSet::new();
    {
        let mut stmt = conn.prepare(
            "SELECT t.entry_id FROM temp.import_entry_ids t
             WHERE EXISTS (SELECT 1 FROM ledger_postings l WHERE l.entry_id = t.entry_id)",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            found.insert(r.get(0)?);
        }
    }
    conn.execute_batch("DELETE FROM temp.import_entry_ids;")?;
    Ok(candidates
        .into_iter()
        .filter(|id| found.contains(*id))
        .collect())
}

/// Inserts postings of an entry the workspace does not hold yet (or the new postings of
/// one it does); a key or platform id already used elsewhere is reported, not written.
fn insert_postings(
    conn: &Connection,
    new_postings: &[(String, &LedgerRow)],
    import_id: i64,
    origin: &str,
    file: &str,
    problems: &mut Problems,
    totals: &mut TotalsDelta,
) -> rusqlite::Result<Counts> {
    let mut insert = conn.prepare_cached(INSERT_POSTING)?;
    for (key, row) in new_postings.iter().map(|p| (&p.0, p.1)) {
        let result = insert.execute(params![
            key,
            row.id,
            row.entry_id,
            row.account,
            row.amount_minor,
            row.currency,
            row.entry_type,
            row.stripe_object_id,
            row.event_id,
            row.idempotency_key,
            row.livemode,
            row.created_at,
            row.description,
            origin,
            import_id
        ]);
        match result {
            Ok(_) => totals.posting(
                &row.account,
                &row.currency,
                &row.entry_type,
                row.amount_minor,
            ),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                let owner: Option<String> = conn
                    .query_row(
                        "SELECT entry_id FROM ledger_postings WHERE posting_key = ?1 OR platform_id = ?2",
                        params![key, row.id],
                        |r| r.get(0),
                    )
                    .optional()?;
                problems.push(Problem::new(
                    file,
                    row.line,
                    Some("id"),
                    format!(
                        "id {} already belongs to a posting of entry {}: an id is never reused",
                        row.id.map_or_else(|| key.clone(), |i| i.to_string()),
                        owner.unwrap_or_else(|| "?".into())
                    ),
                ));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(Counts {
        added: new_postings.len() as u64,
        ..Counts::default()
    })
}

/// A column of a platform table and how its values are typed.
#[derive(Debug, Clone, Copy)]
pub enum Col {
    Text(&'static str),
    Int(&'static str),
    Bool(&'static str),
    /// A point in time: RFC 3339 in files, `timestamptz` in PostgreSQL, µs in the mirror.
    Time(&'static str),
}

impl Col {
    pub fn name(self) -> &'static str {
        match self {
            Col::Text(n) | Col::Int(n) | Col::Bool(n) | Col::Time(n) => n,
        }
    }
}

/// How one of the platform's mutable tables is mirrored.
pub struct TableSpec {
    pub table: &'static str,
    /// The columns, as in the platform's table (`contracts/platform.sql`) and in the
    /// mirror table, in the order rows carry their values.
    pub columns: &'static [Col],
    /// The first `key_len` columns identify a row.
    pub key_len: usize,
    /// A column whose larger value means a newer version of the row.
    pub version: Option<usize>,
    /// Columns that may never change for a key (checked when there is no version column).
    pub immutable: &'static [usize],
}

impl TableSpec {
    pub fn of(kind: Kind) -> &'static TableSpec {
        use Col::{Int, Text, Time};
        match kind {
            Kind::Balances => &TableSpec {
                table: "platform_balances",
                columns: &[
                    Text("user_id"),
                    Text("month"),
                    Int("total_usd_cents"),
                    Int("allocated_usd_cents"),
                    Time("updated_at"),
                ],
                key_len: 2,
                version: Some(4),
                immutable: &[],
            },
            Kind::Allocations => &TableSpec {
                table: "platform_allocations",
                columns: &[
                    Text("id"),
                    Text("user_id"),
                    Text("page_id"),
                    Text("author_id"),
                    Int("amount_cents"),
                    Text("month"),
                    Time("updated_at"),
                ],
                key_len: 1,
                version: Some(6),
                immutable: &[],
            },
            Kind::Accounts => &TableSpec {
                table: "platform_connected_accounts",
                columns: &[
                    Text("author_id"),
                    Text("stripe_account_id"),
                    Time("created_at"),
                ],
                key_len: 1,
                version: Some(2),
                immutable: &[],
            },
            Kind::WebhookEvents => &TableSpec {
                table: "platform_webhook_events",
                columns: &[
                    Text("event_id"),
                    Text("type"),
                    Text("status"),
                    Time("received_at"),
                    Time("processed_at"),
                    Text("error"),
                ],
                key_len: 1,
                version: None,
                immutable: &[1, 3],
            },
            Kind::Withdrawals => &TableSpec {
                table: "platform_withdrawals",
                columns: &[
                    Text("id"),
                    Text("user_id"),
                    Int("amount_minor"),
                    Text("currency"),
                    Text("status"),
                    Time("requested_at"),
                    Text("stripe_transfer_id"),
                ],
                key_len: 1,
                version: None,
                immutable: &[1, 2, 3, 5],
            },
            Kind::Ledger => unreachable!("the ledger has its own writer"),
        }
    }

    fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.columns.iter().map(|c| c.name())
    }

    fn key_where(&self) -> String {
        self.names()
            .take(self.key_len)
            .enumerate()
            .map(|(i, c)| format!("{c} = ?{}", i + 1))
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    pub fn upsert(
        &self,
        conn: &Connection,
        values: &[Value],
        import_id: i64,
        file: &str,
        line: u64,
        problems: &mut Problems,
    ) -> rusqlite::Result<Counts> {
        let cols = self.names().collect::<Vec<_>>().join(", ");
        let key = &values[..self.key_len];
        let mut select = conn.prepare_cached(&format!(
            "SELECT {cols} FROM {} WHERE {}",
            self.table,
            self.key_where()
        ))?;
        let existing: Option<Vec<Value>> = select
            .query_row(params_from_iter(key.iter()), |r| {
                (0..self.columns.len())
                    .map(|i| r.get::<_, Value>(i))
                    .collect()
            })
            .optional()?;
        let Some(existing) = existing else {
            let placeholders: Vec<String> = (1..=self.columns.len() + 1)
                .map(|i| format!("?{i}"))
                .collect();
            let mut insert = conn.prepare_cached(&format!(
                "INSERT INTO {} ({cols}, import_id) VALUES ({})",
                self.table,
                placeholders.join(", ")
            ))?;
            insert.execute(params_from_iter(
                values
                    .iter()
                    .chain(std::iter::once(&Value::Integer(import_id))),
            ))?;
            return Ok(Counts {
                added: 1,
                ..Counts::default()
            });
        };
        if existing == values {
            return Ok(Counts {
                unchanged: 1,
                ..Counts::default()
            });
        }
        let key_text = key.iter().map(value_text).collect::<Vec<_>>().join(", ");
        if let Some(v) = self.version {
            match compare(&values[v], &existing[v]) {
                std::cmp::Ordering::Less => {
                    return Ok(Counts {
                        unchanged: 1,
                        ..Counts::default()
                    });
                }
                std::cmp::Ordering::Equal => {
                    problems.push(Problem::new(
                        file,
                        line,
                        Some(self.columns[v].name()),
                        format!(
                            "{} ({key_text}) is already mirrored with the same {} but different content; a changed row must carry a later {}",
                            self.table, self.columns[v].name(), self.columns[v].name()
                        ),
                    ));
                    return Ok(Counts::default());
                }
                std::cmp::Ordering::Greater => {}
            }
        } else if let Some(&i) = self.immutable.iter().find(|&&i| values[i] != existing[i]) {
            problems.push(Problem::new(
                file,
                line,
                Some(self.columns[i].name()),
                format!(
                    "{} ({key_text}) is already mirrored with {} = {}; this row says {}: the same id cannot describe something else",
                    self.table,
                    self.columns[i].name(),
                    value_text(&existing[i]),
                    value_text(&values[i])
                ),
            ));
            return Ok(Counts::default());
        }
        let sets: Vec<String> = self
            .names()
            .enumerate()
            .skip(self.key_len)
            .map(|(i, c)| format!("{c} = ?{}", i + 1))
            .collect();
        let mut update = conn.prepare_cached(&format!(
            "UPDATE {} SET {}, import_id = ?{} WHERE {}",
            self.table,
            sets.join(", "),
            self.columns.len() + 1,
            self.key_where()
        ))?;
        update.execute(params_from_iter(
            values
                .iter()
                .chain(std::iter::once(&Value::Integer(import_id))),
        ))?;
        Ok(Counts {
            updated: 1,
            ..Counts::default()
        })
    }
}

fn compare(a: &Value, b: &Value) -> std::cmp::Ordering {
    match (a, b) {
        (Value::Integer(x), Value::Integer(y)) => x.cmp(y),
        (Value::Text(x), Value::Text(y)) => x.cmp(y),
        _ => std::cmp::Ordering::Equal,
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Integer(i) => i.to_string(),
        Value::Text(t) => t.clone(),
        Value::Real(_) | Value::Blob(_) => "?".into(),
    }
}
