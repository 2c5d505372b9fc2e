//! Typed rows of each import kind, parsed from records. Every problem found in a row is
//! recorded with its column; a row with any problem is not produced.

use jiff::Timestamp;
use rusqlite::types::Value;

use super::read::{Cell, Record};
use super::{Kind, Problem, Problems};
use crate::money::{UnitRegistry, parse_minor_units};

/// Reads the cells of one record, collecting problems.
pub struct Cells<'a> {
    rec: &'a dyn Record,
    file: &'a str,
    problems: &'a mut Problems,
    failed: bool,
}

impl<'a> Cells<'a> {
    pub fn new(rec: &'a dyn Record, file: &'a str, problems: &'a mut Problems) -> Cells<'a> {
        Cells {
            rec,
            file,
            problems,
            failed: false,
        }
    }

    pub fn line(&self) -> u64 {
        self.rec.line()
    }

    pub fn failed(&self) -> bool {
        self.failed
    }

    pub fn problem(&mut self, column: &str, message: impl Into<String>) {
        self.failed = true;
        self.problems.push(Problem::new(
            self.file,
            self.rec.line(),
            Some(column),
            message.into(),
        ));
    }

    /// A required, non-empty text cell.
    pub fn text(&mut self, column: &str) -> Option<String> {
        match self.rec.cell(column) {
            Cell::Text(s) if !s.trim().is_empty() => Some(s.to_string()),
            Cell::Missing | Cell::Null | Cell::Text(_) => {
                self.problem(column, "a value is required");
                None
            }
            _ => {
                self.problem(column, "expected text");
                None
            }
        }
    }

    /// An optional text cell: absent, empty or null is `None`.
    pub fn opt_text(&mut self, column: &str) -> Option<String> {
        match self.rec.cell(column) {
            Cell::Text(s) if !s.is_empty() => Some(s.to_string()),
            Cell::Missing | Cell::Null | Cell::Text(_) => None,
            _ => {
                self.problem(column, "expected text");
                None
            }
        }
    }

    /// A required integer (minor units or an id). Decimals and exponents are errors.
    pub fn int(&mut self, column: &str) -> Option<i64> {
        match self.rec.cell(column) {
            Cell::Int(i) => Some(i),
            Cell::Text(s) => match parse_minor_units(s) {
                Ok(i) => Some(i),
                Err(why) => {
                    self.problem(column, format!("`{s}`: {why}"));
                    None
                }
            },
            Cell::NonInteger => {
                self.problem(column, "not an integer: amounts are integers in minor units (cents), never decimals or exponents");
                None
            }
            Cell::Missing | Cell::Null => {
                self.problem(column, "a value is required");
                None
            }
            _ => {
                self.problem(column, "expected an integer");
                None
            }
        }
    }

    pub fn opt_int(&mut self, column: &str) -> Option<i64> {
        match self.rec.cell(column) {
            Cell::Missing | Cell::Null => None,
            _ => self.int(column),
        }
    }

    pub fn bool_or(&mut self, column: &str, default: bool) -> bool {
        match self.rec.cell(column) {
            Cell::Missing | Cell::Null => default,
            Cell::Bool(b) => b,
            Cell::Text(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "t" | "1" => true,
                "false" | "f" | "0" => false,
                _ => {
                    self.problem(column, format!("`{s}` is not true or false"));
                    default
                }
            },
            _ => {
                self.problem(column, "expected true or false");
                default
            }
        }
    }

    /// A required RFC 3339 timestamp with an offset, as microseconds since the epoch (UTC).
    pub fn timestamp(&mut self, column: &str) -> Option<i64> {
        let text = self.text(column)?;
        self.parse_timestamp(column, &text)
    }

    pub fn opt_timestamp(&mut self, column: &str) -> Option<i64> {
        let text = self.opt_text(column)?;
        self.parse_timestamp(column, &text)
    }

    fn parse_timestamp(&mut self, column: &str, text: &str) -> Option<i64> {
        match text.trim().parse::<Timestamp>() {
            Ok(ts) if ts.subsec_nanosecond() % 1000 != 0 => {
                self.problem(
                    column,
                    format!("`{text}` is more precise than a microsecond"),
                );
                None
            }
            Ok(ts) => Some(ts.as_microsecond()),
            Err(_) => {
                self.problem(
                    column,
                    format!(
                        "`{text}` is not an RFC 3339 time with an offset, e.g. 2025-01-31T23:59:59Z"
                    ),
                );
                None
            }
        }
    }

    /// A required month, `YYYY-MM`.
    pub fn month(&mut self, column: &str) -> Option<String> {
        let text = self.text(column)?;
        if parse_month(&text).is_none() {
            self.problem(column, format!("`{text}` is not a month written YYYY-MM"));
            return None;
        }
        Some(text)
    }

    /// A required currency or declared unit, normalized to its lower-case code.
    pub fn unit(&mut self, column: &str, units: &UnitRegistry) -> Option<String> {
        let text = self.text(column)?;
        match units.lookup(text.trim()) {
            Ok(u) => Some(u.code().to_string()),
            Err(e) => {
                self.problem(column, e.to_string());
                None
            }
        }
    }

    pub fn non_negative(&mut self, column: &str) -> Option<i64> {
        let v = self.int(column)?;
        if v < 0 {
            self.problem(column, format!("{v} is negative"));
            return None;
        }
        Some(v)
    }
}

/// `YYYY-MM` → (year, month).
pub fn parse_month(text: &str) -> Option<(i16, i8)> {
    let (y, m) = text.split_once('-')?;
    if y.len() != 4 || m.len() != 2 || !y.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (y, m): (i16, i8) = (y.parse().ok()?, m.parse().ok()?);
    (1..=12).contains(&m).then_some((y, m))
}

/// A posting of the platform's `wallet_ledger`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerRow {
    pub line: u64,
    pub id: Option<i64>,
    pub entry_id: String,
    pub account: String,
    pub amount_minor: i64,
    pub currency: String,
    pub entry_type: String,
    pub stripe_object_id: Option<String>,
    pub event_id: Option<String>,
    pub idempotency_key: Option<String>,
    pub livemode: bool,
    pub created_at: i64,
    pub description: Option<String>,
}

impl LedgerRow {
    /// Same content, ignoring where it was read from.
    pub fn same_content(&self, other: &LedgerRow) -> bool {
        LedgerRow {
            line: 0,
            ..self.clone()
        } == LedgerRow {
            line: 0,
            ..other.clone()
        }
    }
}

pub use crate::accounts::valid_account;

pub fn parse_ledger(
    cells: &mut Cells<'_>,
    units: &UnitRegistry,
    live_workspace: bool,
) -> Option<LedgerRow> {
    let id = cells.opt_int("id");
    if let Some(i) = id
        && i <= 0
    {
        cells.problem("id", "ids are positive");
    }
    let entry_id = cells.text("entry_id");
    let account = cells.text("account");
    if let Some(a) = &account
        && let Err(why) = valid_account(a)
    {
        cells.problem("account", format!("`{a}`: {why}"));
    }
    let amount_minor = cells.int("amount_minor");
    let currency = cells.unit("currency", units);
    let entry_type = cells.text("entry_type");
    let stripe_object_id = cells.opt_text("stripe_object_id");
    let event_id = cells.opt_text("event_id");
    let idempotency_key = cells.opt_text("idempotency_key");
    let livemode = cells.bool_or("livemode", false);
    if livemode != live_workspace {
        let (row, ws) = if livemode {
            ("live", "test")
        } else {
            ("test", "live")
        };
        cells.problem(
            "livemode",
            format!("a {row}-mode posting cannot enter a {ws}-mode workspace: modes never mix"),
        );
    }
    let created_at = cells.timestamp("created_at");
    let description = cells.opt_text("description");
    if cells.failed() {
        return None;
    }
    Some(LedgerRow {
        line: cells.line(),
        id,
        entry_id: entry_id?,
        account: account?,
        amount_minor: amount_minor?,
        currency: currency?,
        entry_type: entry_type?,
        stripe_object_id,
        event_id,
        idempotency_key,
        livemode,
        created_at: created_at?,
        description,
    })
}

/// Parses a record of one of the platform's other tables into the values of its
/// [`TableSpec`](super::store::TableSpec) columns, in order.
pub fn parse_table_row(
    kind: Kind,
    cells: &mut Cells<'_>,
    units: &UnitRegistry,
) -> Option<Vec<Value>> {
    let t = |v: Option<String>| v.map(Value::Text);
    let ot = |v: Option<String>| Some(v.map_or(Value::Null, Value::Text));
    let i = |v: Option<i64>| v.map(Value::Integer);
    let oi = |v: Option<i64>| Some(v.map_or(Value::Null, Value::Integer));
    let values: Vec<Option<Value>> = match kind {
        Kind::Balances => {
            let user = t(cells.text("user_id"));
            let month = t(cells.month("month"));
            let total = cells.non_negative("total_usd_cents");
            let allocated = cells.non_negative("allocated_usd_cents");
            if let (Some(tot), Some(alloc)) = (total, allocated)
                && alloc > tot
            {
                // Name the subscriber and the month, not only the cell: that is what a
                // person looks up in the platform.
                let who = match (&user, &month) {
                    (Some(Value::Text(u)), Some(Value::Text(m))) => {
                        format!("subscriber {u} allocated {alloc} in {m}")
                    }
                    _ => format!("{alloc} allocated"),
                };
                cells.problem(
                    "allocated_usd_cents",
                    format!(
                        "{who}, more than the {tot} they had to allocate (total_usd_cents): an over-allocation"
                    ),
                );
            }
            vec![
                user,
                month,
                i(total),
                i(allocated),
                i(cells.timestamp("updated_at")),
            ]
        }
        Kind::Allocations => vec![
            t(cells.text("id")),
            t(cells.text("user_id")),
            t(cells.text("page_id")),
            t(cells.text("author_id")),
            i(cells.non_negative("amount_cents")),
            t(cells.month("month")),
            i(cells.timestamp("updated_at")),
        ],
        Kind::Accounts => {
            let author = t(cells.text("author_id"));
            let acct = cells.text("stripe_account_id");
            if let Some(a) = &acct
                && !a.starts_with("acct_")
            {
                cells.problem(
                    "stripe_account_id",
                    format!("`{a}` is not a Stripe account id (acct_…)"),
                );
            }
            vec![author, t(acct), i(cells.timestamp("created_at"))]
        }
        Kind::WebhookEvents => {
            let status = cells.text("status");
            if let Some(s) = &status
                && !["received", "processed", "failed"].contains(&s.as_str())
            {
                cells.problem(
                    "status",
                    format!("`{s}` is not one of received, processed, failed"),
                );
            }
            vec![
                t(cells.text("event_id")),
                t(cells.text("type")),
                t(status),
                i(cells.timestamp("received_at")),
                oi(cells.opt_timestamp("processed_at")),
                ot(cells.opt_text("error")),
            ]
        }
        Kind::Withdrawals => {
            let amount = cells.int("amount_minor");
            if let Some(a) = amount
                && a <= 0
            {
                cells.problem(
                    "amount_minor",
                    format!("{a}: a withdrawal amount is positive"),
                );
            }
            let status = cells.text("status");
            if let Some(s) = &status
                && !["pending", "approved", "paid", "rejected", "failed"].contains(&s.as_str())
            {
                cells.problem(
                    "status",
                    format!("`{s}` is not one of pending, approved, paid, rejected, failed"),
                );
            }
            vec![
                t(cells.text("id")),
                t(cells.text("user_id")),
                i(amount),
                t(cells.unit("currency", units)),
                t(status),
                i(cells.timestamp("requested_at")),
                ot(cells.opt_text("stripe_transfer_id")),
            ]
        }
        Kind::Ledger => unreachable!("ledger rows have their own parser"),
    };
    if cells.failed() {
        return None;
    }
    values.into_iter().collect()
}
