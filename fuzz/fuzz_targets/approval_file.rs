//! Approval files (a signed decision carried on a USB stick or by mail) on arbitrary bytes,
//! against a real workspace holding a roster and a draft batch: a file is refused unless it
//! is the one the approver signed, and a refusal writes nothing.
//!
//! Inputs starting with 0 are whole files; any other input overwrites part of a genuine
//! approval file (offset from the first two bytes), so the fuzzer works past the JSON
//! parser into the signature, roster, digest and replay checks.

#![no_main]

use std::cell::RefCell;

use closebook_engine::ingest::{self, Format, Kind};
use closebook_engine::payouts::{Role, batch, people};
use closebook_engine::secrets::MemorySecrets;
use closebook_engine::workspace::Workspace;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

struct State {
    _dir: tempfile::TempDir,
    _secrets: MemorySecrets,
    ws: Workspace,
    genuine: Vec<u8>,
    signature: String,
}

const FIXTURES: [(Kind, &[u8]); 4] = [
    (Kind::Accounts, include_bytes!("../../fixtures/seed-example/accounts.csv")),
    (Kind::Ledger, include_bytes!("../../fixtures/seed-example/ledger.csv")),
    (Kind::Balances, include_bytes!("../../fixtures/seed-example/balances.csv")),
    (Kind::Allocations, include_bytes!("../../fixtures/seed-example/allocations.csv")),
];

fn setup() -> State {
    let dir = tempfile::tempdir().unwrap();
    let secrets = MemorySecrets::new();
    let mut ws = common::workspace(dir.path(), &secrets);
    let op = common::op();
    for (kind, bytes) in FIXTURES {
        ingest::import_bytes(&mut ws, kind, "seed-example", bytes, Format::Csv, &op).unwrap();
    }
    people::add(&ws, &secrets, "Pat", Role::Preparer, [1; 32], None, &op).unwrap();
    people::add(&ws, &secrets, "Avery", Role::Approver, [2; 32], None, &op).unwrap();
    // The first admin roots the signed roster and vouches for both.
    people::add(&ws, &secrets, "Kim", Role::Admin, [3; 32], None, &op).unwrap();
    let pat = people::authenticate(&ws, &secrets, "Pat").unwrap();
    let avery = people::authenticate(&ws, &secrets, "Avery").unwrap();
    let draft = batch::prepare(&ws, &pat, "2024-12", None, &op).unwrap();
    let file = batch::export_approval(&ws, &avery, &draft.id, None, &op).unwrap();
    State {
        _dir: dir,
        _secrets: secrets,
        ws,
        genuine: serde_json::to_vec_pretty(&file).unwrap(),
        signature: file.signature,
    }
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(setup());
}

fuzz_target!(|data: &[u8]| {
    STATE.with_borrow_mut(|s| {
        let bytes = match data {
            [] => return,
            [0, rest @ ..] => rest.to_vec(),
            [hi, lo, patch @ ..] => {
                let mut b = s.genuine.clone();
                let at = usize::from(u16::from_be_bytes([*hi, *lo])) % b.len();
                for (i, byte) in patch.iter().enumerate() {
                    match b.get_mut(at + i) {
                        Some(slot) => *slot = *byte,
                        None => b.push(*byte),
                    }
                }
                b
            }
            [_] => s.genuine.clone(),
        };
        let before = common::footprint(&s.ws);
        match batch::import_approval(&s.ws, &bytes, &common::op()) {
            Ok(_) => {
                // Only the approver's own signature can be accepted, whatever else changed
                // around it (whitespace, field order).
                let file: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                assert_eq!(file["signature"].as_str(), Some(s.signature.as_str()));
            }
            Err(e) => {
                assert!(!e.to_string().is_empty());
                assert_eq!(common::footprint(&s.ws), before, "a refused approval wrote: {e}");
            }
        }
    });
});
