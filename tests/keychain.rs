//! The real OS keychain. On Linux that is the Secret Service: `scripts/test.sh` runs the
//! suite inside a private D-Bus session with a throw-away, unlocked gnome-keyring and sets
//! CLOSEBOOK_TEST_SECRET_SERVICE=1. Under CI the keychain is required, not optional.

mod common;

use closebook_engine::secrets::{OsKeychain, SecretStore};
use closebook_engine::workspace::{
    FreshIdentity, InitOptions, KeySource, Mode, Workspace, WorkspaceError,
};
use std::process::Command;

fn keychain_available() -> bool {
    if std::env::var_os("CLOSEBOOK_TEST_SECRET_SERVICE").is_some() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must run the keychain tests: run the suite through scripts/test.sh (dbus-run-session + gnome-keyring)"
    );
    eprintln!("keychain tests need a Secret Service: run through scripts/test.sh; not run here");
    false
}

#[test]
fn the_database_key_lives_in_the_os_keychain_and_goes_with_the_workspace() {
    if !keychain_available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ws");
    let fresh = FreshIdentity::generate().unwrap();
    let id = fresh.workspace_id.clone();
    let options = InitOptions {
        name: "Keychain Co".into(),
        mode: Mode::Live,
        timezone: "UTC".into(),
        demo: false,
    };
    let ws = Workspace::init(
        &dir,
        options,
        &KeySource::Keychain,
        &OsKeychain,
        fresh,
        &common::ctx(),
    )
    .unwrap();
    drop(ws);
    let stored = OsKeychain
        .get(&format!("workspace:{id}:database-key"))
        .unwrap()
        .expect("key in the keychain");
    assert_eq!(stored.len(), 64);
    // The key is nowhere in the workspace folder.
    for entry in std::fs::read_dir(&dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(!bytes.windows(64).any(|w| w == stored.as_bytes()));
    }
    let ws = Workspace::open(&dir, &KeySource::Keychain, &OsKeychain).unwrap();
    assert_eq!(ws.info().name, "Keychain Co");
    ws.destroy(&KeySource::Keychain, &OsKeychain).unwrap();
    assert_eq!(
        OsKeychain
            .get(&format!("workspace:{id}:database-key"))
            .unwrap(),
        None,
        "deleting a workspace removes its key"
    );
}

#[test]
fn a_key_missing_from_the_keychain_is_named() {
    if !keychain_available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ws");
    let fresh = FreshIdentity::generate().unwrap();
    let id = fresh.workspace_id.clone();
    let options = InitOptions {
        name: "Gone".into(),
        mode: Mode::Test,
        timezone: "UTC".into(),
        demo: false,
    };
    drop(
        Workspace::init(
            &dir,
            options,
            &KeySource::Keychain,
            &OsKeychain,
            fresh,
            &common::ctx(),
        )
        .unwrap(),
    );
    OsKeychain
        .delete(&format!("workspace:{id}:database-key"))
        .unwrap();
    let err = Workspace::open(&dir, &KeySource::Keychain, &OsKeychain).unwrap_err();
    assert!(matches!(err, WorkspaceError::KeyMissing { .. }), "{err}");
    assert!(err.to_string().contains("OS keychain"), "{err}");
}

#[test]
fn the_cli_uses_the_keychain_by_default() {
    if !keychain_available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ws");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_closebook"))
            .arg("-w")
            .arg(&dir)
            .args(args)
            .env_remove("CLOSEBOOK_KEY_FILE")
            .output()
            .unwrap()
    };
    assert!(run(&["init", "--mode", "test"]).status.success());
    let out = run(&["--json", "status"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = doc["workspace"]["id"].as_str().unwrap().to_string();
    assert!(
        OsKeychain
            .get(&format!("workspace:{id}:database-key"))
            .unwrap()
            .is_some()
    );
    OsKeychain
        .delete(&format!("workspace:{id}:database-key"))
        .unwrap();
}
