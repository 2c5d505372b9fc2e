//! A real PostgreSQL server for tests: a fresh cluster in a temporary folder, listening on
//! a free loopback port, stopped when dropped. As root it runs as the unprivileged
//! `postgres` user (PostgreSQL refuses to run as root).

use std::path::{Path, PathBuf};
use std::process::Command;

use postgres::{Client, NoTls};

pub const OWNER: &str = "platform_owner";
pub const OWNER_PASSWORD: &str = "owner-Secret-7f3a";
pub const READER: &str = "closebook_reader";
pub const READER_PASSWORD: &str = "reader-Secret-91bd";

pub struct PgServer {
    _dir: tempfile::TempDir,
    data: PathBuf,
    bin: PathBuf,
    pub port: u16,
    as_postgres_user: bool,
}

fn bin_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("CLOSEBOOK_PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path().join("bin")))
                .filter(|p| p.join("initdb").exists())
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    versions.pop().expect(
        "PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin and $CLOSEBOOK_PG_BIN): \
         install Debian's `postgresql` package — scripts/test.sh does",
    )
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false)
}

impl PgServer {
    pub fn start() -> PgServer {
        let bin = bin_dir();
        let dir = tempfile::Builder::new()
            .prefix("closebook-pg")
            .tempdir()
            .unwrap();
        let as_postgres_user = is_root();
        let data = dir.path().join("data");
        let pwfile = dir.path().join("pw");
        std::fs::write(&pwfile, OWNER_PASSWORD).unwrap();
        if as_postgres_user {
            chmod(dir.path(), 0o755);
            chmod(&pwfile, 0o644);
            run(Command::new("chown")
                .args(["postgres:postgres"])
                .arg(dir.path()));
        }
        let mut initdb = cmd(as_postgres_user, &bin.join("initdb"));
        initdb
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                OWNER,
                "--auth=scram-sha-256",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ])
            .arg(format!("--pwfile={}", pwfile.display()));
        run(&mut initdb);
        // A free port: bind, read it, release. The server binds it a moment later.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = dir.path().join("server.log");
        let mut ctl = cmd(as_postgres_user, &bin.join("pg_ctl"));
        ctl.arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(&log)
            .arg("-w")
            .arg("-o")
            .arg(format!(
                "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off -c max_connections=20",
                dir.path().display()
            ));
        ctl.arg("start");
        let status = ctl.stdout(std::process::Stdio::null()).status().unwrap();
        if !status.success() {
            panic!(
                "PostgreSQL did not start: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        let server = PgServer {
            _dir: dir,
            data,
            bin,
            port,
            as_postgres_user,
        };
        server.setup_schema();
        server
    }

    pub fn url(&self, user: &str) -> String {
        format!("postgres://{user}@127.0.0.1:{}/platform", self.port)
    }

    pub fn url_with_password(&self, user: &str, password: &str) -> String {
        format!(
            "postgres://{user}:{password}@127.0.0.1:{}/platform",
            self.port
        )
    }

    pub fn owner(&self) -> Client {
        let mut config: postgres::Config = self.url(OWNER).parse().unwrap();
        config.password(OWNER_PASSWORD);
        config.connect(NoTls).unwrap()
    }

    fn setup_schema(&self) {
        let mut config: postgres::Config =
            format!("postgres://{OWNER}@127.0.0.1:{}/postgres", self.port)
                .parse()
                .unwrap();
        config.password(OWNER_PASSWORD);
        let mut admin = config.connect(NoTls).unwrap();
        admin.batch_execute("CREATE DATABASE platform").unwrap();
        let mut c = self.owner();
        let schema =
            std::fs::read_to_string(super::repo_root().join("fixtures/postgres/platform.sql"))
                .unwrap();
        c.batch_execute(&schema).unwrap();
        c.batch_execute(&format!(
            "CREATE ROLE {READER} LOGIN PASSWORD '{READER_PASSWORD}';
             GRANT SELECT ON ALL TABLES IN SCHEMA public TO {READER};"
        ))
        .unwrap();
    }

    /// Loads import files (the CSV forms of the platform's tables) with COPY.
    pub fn load_csv_dir(&self, dir: &Path) {
        let mut c = self.owner();
        for (table, file) in [
            ("wallet_ledger", "ledger.csv"),
            ("usd_balances", "balances.csv"),
            ("usd_allocations", "allocations.csv"),
            ("stripe_connected_accounts", "accounts.csv"),
            ("stripe_webhook_events", "webhook_events.csv"),
            ("withdrawal_requests", "withdrawals.csv"),
        ] {
            let bytes = std::fs::read(dir.join(file)).unwrap();
            let header =
                String::from_utf8_lossy(bytes.split(|b| *b == b'\n').next().unwrap()).to_string();
            let mut w = c
                .copy_in(&format!(
                    "COPY {table} ({header}) FROM STDIN WITH (FORMAT csv, HEADER true)"
                ))
                .unwrap();
            std::io::Write::write_all(&mut w, &bytes).unwrap();
            w.finish().unwrap();
        }
        c.batch_execute("SELECT setval('wallet_ledger_id_seq', (SELECT coalesce(max(id), 1) FROM wallet_ledger))").unwrap();
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let mut ctl = cmd(self.as_postgres_user, &self.bin.join("pg_ctl"));
        ctl.arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "stop"]);
        let _ = ctl
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}

fn cmd(as_postgres_user: bool, program: &Path) -> Command {
    if as_postgres_user {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn run(c: &mut Command) {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{c:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn chmod(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}
