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

/// Every secret the CLI is given goes to the keychain, under the workspace; deleting the
/// workspace (after typing its id) removes each entry and the folder, and a wrong id
/// deletes nothing.
#[test]
fn the_cli_keeps_every_secret_in_the_keychain_and_delete_workspace_removes_them_all() {
    if !keychain_available() {
        return;
    }
    use std::io::Write;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ws");
    let run_with = |args: &[&str], stdin: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_closebook"))
            .arg("-w")
            .arg(&dir)
            .args(args)
            .env_remove("CLOSEBOOK_KEY_FILE")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "closebook {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    let run = |args: &[&str]| run_with(args, "");
    run(&["init", "--mode", "test"]);
    let doc: serde_json::Value =
        serde_json::from_slice(&run(&["--json", "status"]).stdout).unwrap();
    let id = doc["workspace"]["id"].as_str().unwrap().to_string();
    run_with(&["stripe", "set-key"], "sk_test_keychain_cli_4242\n");
    run_with(&["postgres-password"], "pg-Keychain-Secret\n");
    run(&["people", "add", "Kim Prep", "--role", "preparer"]);
    run(&["people", "add", "Lou Approve", "--role", "approver"]);
    let roster: serde_json::Value =
        serde_json::from_slice(&run(&["--json", "people", "list"]).stdout).unwrap();
    let keys: Vec<String> = roster
        .as_array()
        .expect("a roster")
        .iter()
        .map(|p| p["public_key"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(keys.len(), 2);
    let mut entries = vec![
        format!("workspace:{id}:database-key"),
        format!("workspace:{id}:stripe-key"),
        format!("workspace:{id}:postgres-password"),
    ];
    entries.extend(
        keys.iter()
            .map(|k| format!("workspace:{id}:signing-key:{k}")),
    );
    for e in &entries {
        assert!(
            OsKeychain.get(e).unwrap().is_some(),
            "{e} is in the keychain"
        );
    }

    let wrong = Command::new(env!("CARGO_BIN_EXE_closebook"))
        .arg("-w")
        .arg(&dir)
        .args(["delete-workspace", "--confirm", "ws_not_this_one"])
        .env_remove("CLOSEBOOK_KEY_FILE")
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("nothing was deleted"));
    assert!(dir.join("closebook.db").exists());
    for e in &entries {
        assert!(
            OsKeychain.get(e).unwrap().is_some(),
            "{e} survives a wrong id"
        );
    }

    run(&["delete-workspace", "--confirm", &id]);
    assert!(!dir.exists(), "the folder is gone");
    for e in &entries {
        assert_eq!(OsKeychain.get(e).unwrap(), None, "{e} is removed");
    }
}

/// `closebook identity`: an identity made on this device keeps its private key in the OS
/// keychain only — the card and every file in the data folder hold the public half — and its
/// card travels to an admin as a file that verifies on its own.
#[test]
fn an_identity_is_made_here_and_only_its_card_leaves() {
    if !keychain_available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_closebook"))
            .args(args)
            .env("CLOSEBOOK_DATA_DIR", &data)
            .env_remove("CLOSEBOOK_WORKSPACE")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let card: serde_json::Value = serde_json::from_slice(&run(&[
        "--json", "identity", "create", "--name", "Ari Chen",
    ]))
    .unwrap();
    let public_key = card["public_key"].as_str().unwrap().to_string();
    let seed = OsKeychain
        .get(&closebook_engine::secrets::entries::identity_key(
            &public_key,
        ))
        .unwrap()
        .expect("the private key is in the keychain");
    let listed: serde_json::Value =
        serde_json::from_slice(&run(&["--json", "identity", "list"])).unwrap();
    assert_eq!(listed["identities"][0]["card"]["name"], "Ari Chen");
    assert_eq!(listed["identities"][0]["key_here"], true);
    let out = tmp.path().join("ari.card");
    run(&[
        "identity",
        "export-card",
        "Ari Chen",
        "--out",
        out.to_str().unwrap(),
    ]);
    let exported = closebook_engine::identity::read_card(&out).unwrap();
    assert_eq!(exported.public_key, public_key);
    // Byte for byte: no file the CLI wrote holds the private key.
    for f in common::files_below(tmp.path()) {
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(&seed),
            "{} holds the private key",
            f.display()
        );
    }
    // A second card to the same file is refused; nothing is replaced.
    let again = Command::new(env!("CARGO_BIN_EXE_closebook"))
        .args([
            "identity",
            "export-card",
            "Ari Chen",
            "--out",
            out.to_str().unwrap(),
        ])
        .env("CLOSEBOOK_DATA_DIR", &data)
        .output()
        .unwrap();
    assert!(!again.status.success());
    OsKeychain
        .delete(&closebook_engine::secrets::entries::identity_key(
            &public_key,
        ))
        .unwrap();
}
