//! The ledger as a plain-text-accounting journal (hledger's format, which ledger-cli reads
//! too), so that anyone can recompute every balance with an independent tool. One
//! transaction per entry, dated in the workspace's time zone, postings in their exact
//! decimals with the unit's code as commodity (declared with its decimals first).

use std::io::Write;
use std::path::Path;

use jiff::Timestamp;
use rusqlite::params;
use serde::Serialize;

use super::{ExportProgress, ReportError, io_err};
use crate::OpContext;
use crate::money::Money;
use crate::workspace::Workspace;

#[derive(Debug, Clone, Serialize)]
pub struct JournalReport {
    pub path: String,
    pub entries: u64,
    pub postings: u64,
    pub sha256: String,
}

/// The commodity symbol of a unit: upper-case, and quoted when it is not all letters
/// (hledger's rule for symbols such as `AI_CREDIT`).
fn symbol(code: &str) -> String {
    let up = code.to_uppercase();
    if up.chars().all(|c| c.is_ascii_alphabetic()) {
        up
    } else {
        format!("\"{up}\"")
    }
}

/// A description on one line, without the characters that start comments.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c == '\n' || c == '\r' || c == ';' {
                ' '
            } else {
                c
            }
        })
        .collect::<String>()
        .trim()
        .to_string()
}

/// Writes every posting up to `as_of` (all when `None`) to `path` (a new file; written
/// beside it and renamed, never half-written), and records the export.
pub fn export(
    ws: &Workspace,
    path: &Path,
    as_of: Option<Timestamp>,
    ctx: &OpContext,
    progress: &mut dyn FnMut(&ExportProgress),
    cancel: &std::sync::atomic::AtomicBool,
) -> Result<JournalReport, ReportError> {
    if path.exists() {
        return Err(ReportError::BadInput(format!(
            "{} already exists: choose a new file",
            path.display()
        )));
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut n = [0u8; 8];
    getrandom::fill(&mut n).map_err(|e| io_err(dir, e))?;
    let tmp = dir.join(format!(".closebook-journal-{}.partial", hex::encode(n)));
    let result = write(ws, &tmp, as_of, progress, cancel);
    let (entries, postings) = match result {
        Ok(v) => v,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    };
    let (sha256, _) = super::sha256_file(&tmp)?;
    super::publish(
        ws,
        &tmp,
        path,
        ctx,
        "export.journal",
        &format!(
            "exported the ledger as a journal to {}: {entries} entries, {postings} postings, SHA-256 {}",
            path.display(),
            &sha256[..16]
        ),
        &serde_json::json!({"path": path.display().to_string(), "sha256": sha256, "entries": entries, "postings": postings}),
        None,
    )?;
    Ok(JournalReport {
        path: path.display().to_string(),
        entries,
        postings,
        sha256,
    })
}

fn write(
    ws: &Workspace,
    tmp: &Path,
    as_of: Option<Timestamp>,
    progress: &mut dyn FnMut(&ExportProgress),
    cancel: &std::sync::atomic::AtomicBool,
) -> Result<(u64, u64), ReportError> {
    let io = |e: std::io::Error| io_err(tmp, e);
    let file = crate::files::create_private(tmp).map_err(io)?;
    let mut w = std::io::BufWriter::new(file);
    let until = as_of.map_or(i64::MAX, |t| t.as_microsecond());
    let info = ws.info();
    writeln!(
        w,
        "; {} — the ledger of workspace {} ({} mode), written by {}\n; dates in {}; amounts exact in each unit's decimals\n",
        clean(&info.name),
        info.id,
        info.mode.as_str(),
        super::generator(),
        info.timezone
    )
    .map_err(io)?;
    let mut units = ws.conn.prepare(
        "SELECT DISTINCT currency FROM ledger_postings WHERE created_at <= ?1 ORDER BY currency",
    )?;
    let codes: Vec<String> = units
        .query_map([until], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for code in &codes {
        let unit = ws
            .units()
            .lookup(code)
            .map_err(|e| ReportError::Invariant(format!("{code}: {e}")))?;
        // hledger wants a decimal mark in every commodity directive: `1000.` for a unit
        // without decimals.
        let mut sample = Money::new(100_000, unit).to_decimal_string();
        if unit.exponent() == 0 {
            sample.push('.');
        }
        writeln!(w, "commodity {sample} {}", symbol(code)).map_err(io)?;
    }
    writeln!(w).map_err(io)?;
    let mut stmt = ws.conn.prepare(
        "SELECT entry_id, created_at, entry_type, description, stripe_object_id, account, amount_minor, currency, origin
         FROM ledger_postings WHERE created_at <= ?1 ORDER BY created_at, entry_id, seq",
    )?;
    let mut rows = stmt.query(params![until])?;
    let (mut entries, mut postings) = (0u64, 0u64);
    let mut current: Option<String> = None;
    let tz = ws.time_zone().clone();
    while let Some(r) = rows.next()? {
        let entry: String = r.get(0)?;
        if current.as_deref() != Some(entry.as_str()) {
            let at = Timestamp::from_microsecond(r.get(1)?).unwrap_or(Timestamp::UNIX_EPOCH);
            let date = at.to_zoned(tz.clone()).date();
            let kind: String = r.get(2)?;
            let description: Option<String> = r.get(3)?;
            let object: Option<String> = r.get(4)?;
            let origin: String = r.get(8)?;
            writeln!(
                w,
                "\n{date} {}  ; entry:{} type:{kind}{}{}",
                clean(description.as_deref().unwrap_or(&kind)),
                clean(&entry),
                object
                    .map(|o| format!(" stripe:{}", clean(&o)))
                    .unwrap_or_default(),
                if origin == "closebook" {
                    " origin:closebook"
                } else {
                    ""
                }
            )
            .map_err(io)?;
            current = Some(entry);
            entries += 1;
            if entries.is_multiple_of(4_096) {
                if cancel.load(std::sync::atomic::Ordering::Relaxed) {
                    return Err(ReportError::Cancelled);
                }
                progress(&ExportProgress {
                    section: "journal".into(),
                    rows: postings,
                });
            }
        }
        let account: String = r.get(5)?;
        let amount: i64 = r.get(6)?;
        let code: String = r.get(7)?;
        let unit = ws
            .units()
            .lookup(&code)
            .map_err(|e| ReportError::Invariant(format!("{code}: {e}")))?;
        writeln!(
            w,
            "    {account}  {} {}",
            Money::new(amount, unit).to_decimal_string(),
            symbol(&code)
        )
        .map_err(io)?;
        postings += 1;
    }
    w.flush().map_err(io)?;
    w.into_inner()
        .map_err(|e| io(e.into_error()))?
        .sync_all()
        .map_err(io)?;
    Ok((entries, postings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_and_descriptions_are_journal_safe() {
        assert_eq!(symbol("usd"), "USD");
        assert_eq!(symbol("ai_credit"), "\"AI_CREDIT\"");
        assert_eq!(clean("a;b\nc"), "a b c");
    }
}
