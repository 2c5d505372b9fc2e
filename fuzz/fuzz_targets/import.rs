//! Every importer (six kinds × CSV and JSON Lines) on arbitrary bytes, into a real encrypted
//! workspace: an import either succeeds or is refused with every table exactly as it was.
//! The first byte picks the kind (low bits) and the format (high bit); the rest is the file.

#![no_main]

use std::cell::RefCell;

use closebook_engine::ingest::{self, Format, Kind};
use closebook_engine::ledger;
use closebook_engine::secrets::MemorySecrets;
use closebook_engine::workspace::Workspace;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

struct State {
    _dir: tempfile::TempDir,
    _secrets: MemorySecrets,
    ws: Workspace,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new({
        let dir = tempfile::tempdir().unwrap();
        let secrets = MemorySecrets::new();
        let ws = common::workspace(dir.path(), &secrets);
        State { _dir: dir, _secrets: secrets, ws }
    });
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, file)) = data.split_first() else {
        return;
    };
    let kind = Kind::ALL[usize::from(selector & 0x7f) % Kind::ALL.len()];
    let format = if selector & 0x80 == 0 {
        Format::Csv
    } else {
        Format::Jsonl
    };
    STATE.with_borrow_mut(|s| {
        let before = common::footprint(&s.ws);
        match ingest::import_bytes(&mut s.ws, kind, "fuzz-input", file, format, &common::op()) {
            Ok(report) => {
                assert!(
                    report.rows_added + report.rows_updated <= report.rows_read,
                    "{report:?}"
                );
                // Whatever was written moved the ledger's kept totals exactly.
                if let Err(e) = ledger::prove_totals(&s.ws) {
                    panic!("the kept ledger totals after an import: {e}");
                }
            }
            Err(e) => {
                // The message is built (no panic in formatting) and nothing was written.
                assert!(!e.to_string().is_empty());
                assert_eq!(common::footprint(&s.ws), before, "a refused import wrote: {e}");
            }
        }
    });
});
