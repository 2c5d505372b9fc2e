//! A report as CSV (RFC 4180, UTF-8, header row): one file per section. Each money column
//! becomes two: `<name>` as an exact decimal in its currency's decimals and `<name>_minor`
//! as integer minor units; the row's currency is in its `currency` column (added last when
//! the section has none). Dates are
//! `YYYY-MM-DD`; instants are RFC 3339 in the workspace's time zone with their offset.

use std::path::{Path, PathBuf};

use super::{
    Cell, Column, ColumnKind, ManifestFile, ManifestTotal, ReportError, Sink, io_err, slug,
};
use crate::workspace::Workspace;

pub struct CsvSink {
    dir: PathBuf,
    tz: jiff::tz::TimeZone,
    open: Option<(
        PathBuf,
        csv::Writer<std::io::BufWriter<std::fs::File>>,
        Vec<Column>,
    )>,
    files: Vec<PathBuf>,
}

impl CsvSink {
    pub fn new(dir: &Path, ws: &Workspace) -> CsvSink {
        CsvSink {
            dir: dir.to_path_buf(),
            tz: ws.time_zone().clone(),
            open: None,
            files: Vec::new(),
        }
    }

    fn close(&mut self) -> Result<(), ReportError> {
        if let Some((path, mut w, _)) = self.open.take() {
            w.flush().map_err(|e| io_err(&path, e))?;
            let inner = w.into_inner().map_err(|e| io_err(&path, e.error()))?;
            let file = inner.into_inner().map_err(|e| io_err(&path, e.error()))?;
            file.sync_all().map_err(|e| io_err(&path, e))?;
            self.files.push(path);
        }
        Ok(())
    }

    /// Closes the last file; the files in section order.
    pub fn finish(mut self) -> Result<Vec<PathBuf>, ReportError> {
        self.close()?;
        Ok(self.files)
    }
}

fn has_money(columns: &[Column]) -> bool {
    columns.iter().any(|c| c.kind == ColumnKind::Money)
}

/// Sections with money and no currency column of their own get a `currency` column last.
fn adds_currency(columns: &[Column]) -> bool {
    has_money(columns)
        && !columns
            .iter()
            .any(|c| c.name.eq_ignore_ascii_case("currency"))
}

/// The header of a section's file.
pub fn header(columns: &[Column]) -> Vec<String> {
    let mut out = Vec::new();
    for c in columns {
        let name = slug(c.name).replace('-', "_");
        if c.kind == ColumnKind::Money {
            out.push(name.clone());
            out.push(format!("{name}_minor"));
        } else {
            out.push(name);
        }
    }
    if adds_currency(columns) {
        out.push("currency".into());
    }
    out
}

impl Sink for CsvSink {
    fn section(&mut self, name: &str, columns: &[Column]) -> Result<(), ReportError> {
        self.close()?;
        let path = self.dir.join(format!("{}.csv", slug(name)));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| io_err(&path, e))?;
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(std::io::BufWriter::new(file));
        w.write_record(header(columns))
            .map_err(|e| io_err(&path, e))?;
        self.open = Some((path, w, columns.to_vec()));
        Ok(())
    }

    fn row(&mut self, cells: Vec<Cell>) -> Result<(), ReportError> {
        let (path, w, columns) = self
            .open
            .as_mut()
            .ok_or_else(|| ReportError::Invariant("a row before any section".into()))?;
        let mut record: Vec<String> = Vec::with_capacity(cells.len() + 4);
        let mut currency: Option<String> = None;
        for (c, cell) in columns.iter().zip(cells) {
            match cell {
                Cell::Money(m) => {
                    let code = m.unit().code().to_string();
                    if currency.as_ref().is_some_and(|x| *x != code) {
                        return Err(ReportError::Invariant(format!(
                            "a row of {} mixes currencies",
                            path.display()
                        )));
                    }
                    currency = Some(code);
                    record.push(m.to_decimal_string());
                    record.push(m.minor().to_string());
                }
                Cell::Empty if c.kind == ColumnKind::Money => {
                    record.push(String::new());
                    record.push(String::new());
                }
                Cell::Empty => record.push(String::new()),
                Cell::Text(s) => record.push(neutralize(s)),
                Cell::Int(n) => record.push(n.to_string()),
                Cell::Date(d) => record.push(d.to_string()),
                Cell::Time(t) => record.push(
                    t.to_zoned(self.tz.clone())
                        .strftime("%Y-%m-%dT%H:%M:%S%.f%:z")
                        .to_string(),
                ),
            }
        }
        if adds_currency(columns) {
            record.push(currency.unwrap_or_default());
        }
        w.write_record(&record).map_err(|e| io_err(path, e))
    }
}

/// Whether a spreadsheet would run `cell` as a formula (OWASP's CSV injection rule: a cell
/// starting with `=`, `+`, `-`, `@`, a tab or a carriage return), a plain number excepted.
pub fn is_formula(cell: &str) -> bool {
    let Some(first) = cell.chars().next() else {
        return false;
    };
    if !matches!(first, '=' | '+' | '-' | '@' | '\t' | '\r') {
        return false;
    }
    let digits = cell.strip_prefix(['+', '-']).unwrap_or(cell);
    let mut parts = digits.splitn(2, '.');
    let whole = parts.next().unwrap_or("");
    let number = !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && parts
            .next()
            .is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
    !number
}

/// A text cell as it is written: one a spreadsheet would run as a formula gets a leading
/// apostrophe, which spreadsheets show as text (descriptions, Stripe's messages, reasons and
/// notes come from outside Closebook).
fn neutralize(s: String) -> String {
    if is_formula(&s) { format!("'{s}") } else { s }
}

/// Problems listed by a re-check at most: a wholly wrong file is one problem repeated.
const MAX_RECHECK_PROBLEMS: usize = 100;

/// Reads a CSV file of an export back: its row count and the totals of its `_minor`
/// columns per currency must be the manifest's, and no cell may be one a spreadsheet runs as
/// a formula (Closebook never writes one). At most [`MAX_RECHECK_PROBLEMS`] are listed.
pub fn recheck(path: &Path, file: &ManifestFile, totals: &[ManifestTotal]) -> Vec<String> {
    let mut problems = recheck_all(path, file, totals);
    if problems.len() > MAX_RECHECK_PROBLEMS {
        let more = problems.len() - MAX_RECHECK_PROBLEMS;
        problems.truncate(MAX_RECHECK_PROBLEMS);
        problems.push(format!("{}: and {more} more problems", file.path));
    }
    problems
}

fn recheck_all(path: &Path, file: &ManifestFile, totals: &[ManifestTotal]) -> Vec<String> {
    let name = &file.path;
    let mut problems = Vec::new();
    let mut r = match csv::Reader::from_path(path) {
        Ok(r) => r,
        Err(e) => return vec![format!("{name}: unreadable ({e})")],
    };
    let headers = match r.headers() {
        Ok(h) => h.clone(),
        Err(e) => return vec![format!("{name}: no header ({e})")],
    };
    let currency_at = headers.iter().position(|h| h == "currency");
    let minor_cols: Vec<(usize, String)> = headers
        .iter()
        .enumerate()
        .filter_map(|(i, h)| h.strip_suffix("_minor").map(|base| (i, base.to_string())))
        .collect();
    let mut sums: std::collections::BTreeMap<(String, String), i64> = Default::default();
    let mut rows = 0u64;
    for rec in r.records() {
        let rec = match rec {
            Ok(x) => x,
            Err(e) => {
                problems.push(format!("{name}: unreadable row ({e})"));
                break;
            }
        };
        rows += 1;
        if problems.len() <= MAX_RECHECK_PROBLEMS
            && let Some(cell) = rec.iter().find(|c| is_formula(c))
        {
            problems.push(format!(
                "{name}: row {rows} holds `{}`, which a spreadsheet would run as a formula",
                cell.chars().take(40).collect::<String>()
            ));
        }
        let cur = currency_at
            .and_then(|i| rec.get(i))
            .unwrap_or("")
            .to_lowercase();
        for (i, base) in &minor_cols {
            let v = rec.get(*i).unwrap_or("");
            if v.is_empty() {
                continue;
            }
            match v.parse::<i64>() {
                Ok(n) => {
                    let e = sums.entry((base.clone(), cur.clone())).or_default();
                    *e = e.saturating_add(n);
                }
                Err(_) if problems.len() <= MAX_RECHECK_PROBLEMS => {
                    problems.push(format!("{name}: `{v}` in {base}_minor is not an integer"))
                }
                Err(_) => {}
            }
        }
    }
    let expected_rows: u64 = file.sections.iter().map(|s| s.rows).sum();
    if rows != expected_rows {
        problems.push(format!(
            "{name}: {rows} rows, the manifest says {expected_rows}"
        ));
    }
    for s in &file.sections {
        for t in totals.iter().filter(|t| t.section == s.name) {
            let key = (slug(&t.column).replace('-', "_"), t.currency.clone());
            let got = sums.get(&key).copied().unwrap_or(0);
            if got != t.minor {
                problems.push(format!(
                    "{name}: {} in {} totals {got}, the manifest says {}",
                    t.column, t.currency, t.minor
                ));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_told_from_numbers_and_neutralized() {
        for f in [
            "=1+1",
            "+cmd",
            "-2+3",
            "@SUM(A1)",
            "\tx",
            "\rx",
            "=HYPERLINK(\"http://x\")",
            "-",
            "+.5",
            "-1e3",
        ] {
            assert!(is_formula(f), "{f:?}");
            assert_eq!(neutralize(f.to_string()), format!("'{f}"));
        }
        for ok in [
            "",
            "12.50",
            "-12.50",
            "+7",
            "-1250",
            "Refund of ch_1",
            "a=b",
            "'=already",
        ] {
            assert!(!is_formula(ok), "{ok:?}");
            assert_eq!(neutralize(ok.to_string()), ok);
        }
    }
}
