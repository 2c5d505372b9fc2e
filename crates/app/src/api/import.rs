//! Importing the platform's files: the kind and format a person names, read once here.

use std::path::Path;

use closebook_engine::ingest::{self, Control, Format, ImportReport, Kind};
use closebook_engine::workspace::Workspace;
use closebook_engine::{Error, OpContext};

use super::Result;

/// An import kind by name (`ledger`, `balances`, …), or what the kinds are.
pub fn kind(text: &str) -> Result<Kind> {
    Kind::parse(text.trim()).ok_or_else(|| {
        Error::InvalidInput(format!(
            "unknown import kind `{}`; use one of {}",
            text.trim(),
            Kind::ALL.map(|k| k.name()).join(", ")
        ))
    })
}

/// A file format by name; none (or blank) means from the file's extension.
pub fn format(text: Option<&str>) -> Result<Option<Format>> {
    match text.map(str::trim).filter(|f| !f.is_empty()) {
        None => Ok(None),
        Some(f) => Format::parse(f)
            .map(Some)
            .ok_or_else(|| Error::InvalidInput(format!("the format is csv or jsonl, not `{f}`"))),
    }
}

/// Imports one file, all or nothing, with progress and cancel.
pub fn file(
    ws: &mut Workspace,
    kind: Kind,
    path: &Path,
    format: Option<Format>,
    ctx: &OpContext,
    control: &mut Control<'_>,
) -> Result<ImportReport> {
    Ok(ingest::import_file_with(
        ws, kind, path, format, ctx, control,
    )?)
}
