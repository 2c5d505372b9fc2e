//! Reading import files (CSV per RFC 4180 with a header row, or JSON Lines) into records
//! whose cells are looked up by column name, with the line each record starts on.

// Fx hashing: every cell of a million-row file is found by its column name (12M lookups).
use rustc_hash::FxHashMap as HashMap;
use std::io::{BufRead, BufReader, Read};

use super::{Problem, Problems};

/// The file formats of `contracts/FILES.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Csv,
    Jsonl,
}

impl Format {
    /// From its name: `csv` or `jsonl`.
    pub fn parse(name: &str) -> Option<Format> {
        match name {
            "csv" => Some(Format::Csv),
            "jsonl" => Some(Format::Jsonl),
            _ => None,
        }
    }

    /// From the file name: `.csv` is CSV; `.jsonl`, `.ndjson`, `.json` are JSON Lines.
    pub fn from_path(path: &std::path::Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "jsonl" | "ndjson" | "json" => Some(Format::Jsonl),
            _ => None,
        }
    }
}

/// One cell as the file wrote it.
#[derive(Debug, Clone, Copy)]
pub enum Cell<'a> {
    /// The column is not in the file (or the key not in the object).
    Missing,
    /// An empty CSV cell or a JSON `null`.
    Null,
    Text(&'a str),
    /// A JSON integer.
    Int(i64),
    Bool(bool),
    /// A JSON number that is not an integer (`12.5`, `1e3`): always an error for amounts.
    NonInteger,
    /// A JSON array or object.
    Nested,
}

/// A record: cells by column name, and where it starts in the file.
pub trait Record {
    fn line(&self) -> u64;
    fn cell(&self, column: &str) -> Cell<'_>;
}

pub struct CsvRecord<'h> {
    line: u64,
    columns: &'h HashMap<String, usize>,
    record: csv::StringRecord,
}

impl Record for CsvRecord<'_> {
    fn line(&self) -> u64 {
        self.line
    }

    fn cell(&self, column: &str) -> Cell<'_> {
        match self.columns.get(column).and_then(|&i| self.record.get(i)) {
            None => Cell::Missing,
            Some("") => Cell::Null,
            Some(s) => Cell::Text(s),
        }
    }
}

pub struct JsonRecord {
    line: u64,
    object: serde_json::Map<String, serde_json::Value>,
}

impl Record for JsonRecord {
    fn line(&self) -> u64 {
        self.line
    }

    fn cell(&self, column: &str) -> Cell<'_> {
        use serde_json::Value;
        match self.object.get(column) {
            None => Cell::Missing,
            Some(Value::Null) => Cell::Null,
            Some(Value::String(s)) => Cell::Text(s),
            Some(Value::Bool(b)) => Cell::Bool(*b),
            Some(Value::Number(n)) => n.as_i64().map_or(Cell::NonInteger, Cell::Int),
            Some(Value::Array(_) | Value::Object(_)) => Cell::Nested,
        }
    }
}

/// Reads every record of `input`, calling `each` for each one until it returns false. File-level problems (no
/// header, a missing required column, undecodable bytes, malformed JSON) go to `problems`.
pub fn for_each_record(
    format: Format,
    input: impl Read,
    file: &str,
    required: &[&str],
    problems: &mut Problems,
    mut each: impl FnMut(&dyn Record, &mut Problems) -> bool,
) {
    match format {
        Format::Csv => read_csv(input, file, required, problems, &mut each),
        Format::Jsonl => read_jsonl(input, file, required, problems, &mut each),
    }
}

fn read_csv(
    input: impl Read,
    file: &str,
    required: &[&str],
    problems: &mut Problems,
    each: &mut dyn FnMut(&dyn Record, &mut Problems) -> bool,
) {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(input);
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            problems.push(Problem::new(
                file,
                1,
                None,
                format!("cannot read the header row: {}", csv_error_text(&e)),
            ));
            return;
        }
    };
    if headers.is_empty() || (headers.len() == 1 && headers.get(0) == Some("")) {
        problems.push(Problem::new(
            file,
            1,
            None,
            "the file is empty: a header row naming the columns is required".into(),
        ));
        return;
    }
    let mut columns = HashMap::default();
    for (i, name) in headers.iter().enumerate() {
        let name = name.trim();
        if columns.insert(name.to_string(), i).is_some() {
            problems.push(Problem::new(
                file,
                1,
                Some(name),
                "this column appears twice in the header".into(),
            ));
        }
    }
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|c| !columns.contains_key(*c))
        .collect();
    if !missing.is_empty() {
        problems.push(Problem::new(
            file,
            1,
            None,
            format!(
                "required column(s) missing from the header: {}",
                missing.join(", ")
            ),
        ));
    }
    if !problems.is_empty() {
        return;
    }
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(0, |p| p.line());
                let rec = CsvRecord {
                    line,
                    columns: &columns,
                    record: std::mem::take(&mut record),
                };
                let go_on = each(&rec, problems);
                record = rec.record;
                if !go_on {
                    return;
                }
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                problems.push(Problem::new(file, line, None, csv_error_text(&e)));
                if !matches!(
                    e.kind(),
                    csv::ErrorKind::UnequalLengths { .. } | csv::ErrorKind::Utf8 { .. }
                ) {
                    return;
                }
            }
        }
        if problems.is_full() {
            problems.stopped_early();
            return;
        }
    }
}

fn csv_error_text(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("this row has {len} fields but the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { .. } => "the row is not valid UTF-8 text".to_string(),
        csv::ErrorKind::Io(io) => format!("read error: {io}"),
        _ => e.to_string(),
    }
}

fn read_jsonl(
    input: impl Read,
    file: &str,
    required: &[&str],
    problems: &mut Problems,
    each: &mut dyn FnMut(&dyn Record, &mut Problems) -> bool,
) {
    let mut reader = BufReader::new(input);
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                problems.push(Problem::new(
                    file,
                    line_no + 1,
                    None,
                    format!("read error: {e}"),
                ));
                return;
            }
        }
        line_no += 1;
        let text = match std::str::from_utf8(&buf) {
            Ok(t) => t.trim_end_matches(['\n', '\r']),
            Err(_) => {
                problems.push(Problem::new(
                    file,
                    line_no,
                    None,
                    "the line is not valid UTF-8 text".into(),
                ));
                continue;
            }
        };
        let text = if line_no == 1 {
            text.trim_start_matches('\u{feff}')
        } else {
            text
        };
        if text.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(object)) => {
                let missing: Vec<&str> = required
                    .iter()
                    .copied()
                    .filter(|c| !object.contains_key(*c))
                    .collect();
                if !missing.is_empty() {
                    problems.push(Problem::new(
                        file,
                        line_no,
                        None,
                        format!("required key(s) missing: {}", missing.join(", ")),
                    ));
                } else {
                    let record = JsonRecord {
                        line: line_no,
                        object,
                    };
                    if !each(&record, problems) {
                        return;
                    }
                }
            }
            Ok(_) => problems.push(Problem::new(
                file,
                line_no,
                None,
                "each line must be one JSON object".into(),
            )),
            Err(e) => problems.push(Problem::new(
                file,
                line_no,
                None,
                format!("malformed JSON: {e}"),
            )),
        }
        if problems.is_full() {
            problems.stopped_early();
            return;
        }
    }
}
