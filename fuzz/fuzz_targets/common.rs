//! What every target shares: a throw-away workspace with a fixed identity, and a clock.

#![allow(dead_code)]

use std::path::Path;

use closebook_engine::OpContext;
use closebook_engine::secrets::MemorySecrets;
use closebook_engine::workspace::{DbKey, FreshIdentity, InitOptions, KeySource, Mode, Workspace};
use jiff::Timestamp;

pub fn op() -> OpContext {
    OpContext::new("fuzz", Timestamp::from_second(1_735_700_000).unwrap())
}

/// A new workspace in `dir` whose keys live in `secrets` (nothing reaches the OS keychain).
pub fn workspace(dir: &Path, secrets: &MemorySecrets) -> Workspace {
    Workspace::init(
        &dir.join("ws"),
        InitOptions {
            name: "Fuzz Platform".into(),
            mode: Mode::Test,
            timezone: "UTC".into(),
            demo: false,
        },
        &KeySource::Keychain,
        secrets,
        FreshIdentity {
            workspace_id: "ws_fuzz0000000000000000000000000000".into(),
            key: DbKey::from_bytes([7; 32]),
        },
        &op(),
    )
    .expect("a fresh workspace")
}

/// How many rows every table holds, in one comparable value: a refused operation must
/// leave it unchanged.
pub fn footprint(ws: &Workspace) -> Vec<(String, i64)> {
    let conn = ws.connection();
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .unwrap();
    let tables: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    tables
        .into_iter()
        .map(|t| {
            let n = conn
                .query_row(&format!("SELECT count(*) FROM \"{t}\""), [], |r| r.get(0))
                .unwrap();
            (t, n)
        })
        .collect()
}
