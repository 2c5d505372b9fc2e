//! A workspace driven through the `closebook` binary, its key in a file beside it (no
//! keychain needed), for the tests that run the CLI as a user or a scheduler would: killed,
//! on a full disk, beside a second process.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use closebook_engine::secrets::MemorySecrets;
use closebook_engine::workspace::{KeySource, Workspace};

pub struct CliWorkspace {
    pub dir: PathBuf,
    pub key: PathBuf,
    env: Vec<(&'static str, String)>,
}

impl CliWorkspace {
    /// `root/name`, its key in `root/name.key`; nothing created yet.
    pub fn at(root: &Path, name: &str) -> CliWorkspace {
        CliWorkspace {
            dir: root.join(name),
            key: root.join(format!("{name}.key")),
            env: Vec::new(),
        }
    }

    /// A new test-mode workspace at `root/name`.
    pub fn init(root: &Path, name: &str) -> CliWorkspace {
        let ws = CliWorkspace::at(root, name);
        ws.ok(&["init", "--mode", "test"]);
        ws
    }

    /// Sets an environment variable for every command run on this workspace.
    pub fn with_env(mut self, name: &'static str, value: impl Into<String>) -> CliWorkspace {
        self.env.push((name, value.into()));
        self
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_closebook"));
        c.arg("-w")
            .arg(&self.dir)
            .arg("--key-file")
            .arg(&self.key)
            .args(args)
            .env_remove("CLOSEBOOK_WORKSPACE");
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// Runs `args`, which must succeed; its standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "closebook {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Opens the workspace in this process (its key file, no keychain).
    pub fn open(&self) -> Workspace {
        Workspace::open(
            &self.dir,
            &KeySource::File(self.key.clone()),
            &MemorySecrets::new(),
        )
        .expect("the workspace opens")
    }

    /// Starts `args` with its output discarded.
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        self.cmd(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }
}

/// A synthetic platform's files of about `postings` ledger postings in `out`
/// (`closebook generate`, deterministic).
pub fn generate(out: &Path, postings: u64) {
    let done = Command::new(env!("CARGO_BIN_EXE_closebook"))
        .args(["generate", "--postings", &postings.to_string(), "--out"])
        .arg(out)
        .output()
        .unwrap();
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
}
