//! The encrypted workspace: one company, one Stripe mode, one SQLCipher database.
//!
//! On disk a workspace is a folder:
//! - `workspace.json` — plaintext, holds only the format version and the workspace id (the
//!   id names the key in the keychain, so it must be readable before the key is known);
//! - `closebook.db` (+ `-wal`, `-shm`) — the SQLCipher database holding everything else.
//!
//! Long: a workspace's whole life — create, open (key proven first), migrate, declare units,
//! destroy with every keychain entry — over the one struct they share.

use std::fs;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::OpContext;
use crate::audit;
use crate::money::{Unit, UnitKind, UnitRegistry};
use crate::secrets::{SecretError, SecretStore};

pub mod key;
pub mod schema;

pub use key::{DbKey, KeySource};

pub const DATABASE_FILE: &str = "closebook.db";
pub const MANIFEST_FILE: &str = "workspace.json";
const MANIFEST_FORMAT: &str = "closebook-workspace";
const MANIFEST_VERSION: u32 = 1;

/// SQLite settings, each with its reason. Applied on every open, after the key is verified.
const PRAGMAS: &[(&str, &str, &str)] = &[
    (
        "journal_mode",
        "WAL",
        "readers (the desktop UI) never block the writer (a sync), and vice versa",
    ),
    (
        "synchronous",
        "FULL",
        "a committed import or batch survives power loss; the cost is one fsync per transaction, and we write in large transactions",
    ),
    (
        "foreign_keys",
        "ON",
        "references between rows are enforced by the database, not by hope",
    ),
    (
        "cache_size",
        "-65536",
        "64 MiB page cache: encrypted pages are decrypted once per cache miss, and random-key inserts need a large cache to stay fast",
    ),
    (
        "temp_store",
        "MEMORY",
        "sorts and temporary indexes never reach the disk, where they would sit outside the encrypted file",
    ),
    (
        "busy_timeout",
        "5000",
        "a second process on the same workspace waits up to 5 s for a lock instead of failing at once",
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error("{path}: {detail}")]
    Io { path: PathBuf, detail: String },
    #[error(
        "{path} cannot be written (read-only): Closebook writes to its workspace even to read it (SQLite's journal); give your account write access to the folder and its files, or copy the workspace to a writable folder"
    )]
    ReadOnly { path: PathBuf },
    #[error(
        "{path} is not a Closebook workspace (no {MANIFEST_FILE}); create one with `closebook --workspace {path} init`"
    )]
    NotAWorkspace { path: PathBuf },
    #[error("{path} already exists and is not empty; choose a new folder for the workspace")]
    AlreadyExists { path: PathBuf },
    #[error("{path}/{MANIFEST_FILE} is damaged: {detail}")]
    BadManifest { path: PathBuf, detail: String },
    #[error(
        "no key for workspace {workspace} in {key_source}; restore the key there, or point --key-file / CLOSEBOOK_KEY_FILE at the workspace's key file"
    )]
    KeyMissing {
        workspace: PathBuf,
        key_source: String,
    },
    #[error(
        "the key in {key_source} does not open workspace {workspace}; it is the wrong key or the database is damaged (the file was not changed)"
    )]
    WrongKey {
        workspace: PathBuf,
        key_source: String,
    },
    #[error("the key in {key_source} is not 64 hexadecimal digits")]
    KeyMalformed { key_source: String },
    #[error("a key already exists in {key_source}; refusing to overwrite it")]
    KeyExists { key_source: String },
    #[error("key file {path} can be read by other users (mode {mode:o}); run `chmod 600 {path}`")]
    KeyFilePermissions { path: PathBuf, mode: u32 },
    #[error(transparent)]
    Secrets(#[from] SecretError),
    #[error(
        "workspace schema version {found} is newer than this Closebook understands ({supported}); upgrade Closebook"
    )]
    NewerSchema { found: u32, supported: u32 },
    #[error("unknown time zone `{0}`; use an IANA name such as Europe/Paris or America/New_York")]
    BadTimeZone(String),
    #[error("invalid setting: {0}")]
    InvalidSetting(String),
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
}

impl WorkspaceError {
    pub(crate) fn io(path: &Path, e: std::io::Error) -> WorkspaceError {
        WorkspaceError::Io {
            path: path.to_path_buf(),
            detail: e.to_string(),
        }
    }
}

/// Test or live: a workspace holds one Stripe mode, never both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Test,
    Live,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Test => "test",
            Mode::Live => "live",
        }
    }

    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "test" => Some(Mode::Test),
            "live" => Some(Mode::Live),
            _ => None,
        }
    }

    pub fn is_live(self) -> bool {
        self == Mode::Live
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    pub id: String,
    /// A demo workspace holds only fixture data: it may be rebuilt when its key is lost.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub demo: bool,
}

/// What a workspace is: read from its database at open.
#[derive(Debug, Clone, Serialize)]
pub struct WorkspaceInfo {
    pub id: String,
    pub name: String,
    pub mode: Mode,
    pub timezone: String,
    pub created_at: Timestamp,
    pub schema_version: u32,
    pub path: PathBuf,
    /// A demo workspace (syncs with and pays through the loopback simulator): kept inside the
    /// encrypted database, so that editing the plaintext `workspace.json` cannot make a real
    /// workspace record simulated payouts as paid.
    pub demo: bool,
}

/// The random parts of a new workspace, drawn by the caller (so tests can fix them).
pub struct FreshIdentity {
    pub workspace_id: String,
    pub key: DbKey,
}

impl FreshIdentity {
    pub fn generate() -> Result<FreshIdentity, WorkspaceError> {
        Ok(FreshIdentity {
            workspace_id: new_workspace_id()?,
            key: DbKey::generate()?,
        })
    }
}

pub struct InitOptions {
    pub name: String,
    pub mode: Mode,
    pub timezone: String,
    pub demo: bool,
}

/// An open workspace. All engine operations take one.
pub struct Workspace {
    pub(crate) conn: Connection,
    info: WorkspaceInfo,
    units: UnitRegistry,
    tz: jiff::tz::TimeZone,
    /// Kept to open a second, read-only connection for work that reads in parallel (a
    /// large snapshot). SQLCipher holds the same key in this process's memory anyway.
    key: key::DbKey,
}

impl std::fmt::Debug for Workspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workspace")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl Workspace {
    /// Creates a workspace in `dir` (which must not exist or be empty) with a fresh key
    /// stored in `source`. On any failure nothing is left behind: no folder contents,
    /// no key.
    pub fn init(
        dir: &Path,
        options: InitOptions,
        source: &KeySource,
        secrets: &dyn SecretStore,
        fresh: FreshIdentity,
        ctx: &OpContext,
    ) -> Result<Workspace, WorkspaceError> {
        let FreshIdentity { workspace_id, key } = fresh;
        let (actor, now) = (ctx.actor.as_str(), ctx.now);
        let tz = jiff::tz::TimeZone::get(&options.timezone)
            .map_err(|_| WorkspaceError::BadTimeZone(options.timezone.clone()))?;
        if options.name.trim().is_empty() {
            return Err(WorkspaceError::InvalidSetting(
                "the workspace name is empty".into(),
            ));
        }
        let created_dir = !dir.exists();
        if !created_dir
            && fs::read_dir(dir)
                .map_err(|e| WorkspaceError::io(dir, e))?
                .next()
                .is_some()
        {
            return Err(WorkspaceError::AlreadyExists {
                path: dir.to_path_buf(),
            });
        }
        fs::create_dir_all(dir).map_err(|e| WorkspaceError::io(dir, e))?;
        key::store_new(source, secrets, &workspace_id, &key).inspect_err(|_| {
            if created_dir {
                let _ = fs::remove_dir(dir);
            }
        })?;
        let result = (|| {
            let manifest = Manifest {
                format: MANIFEST_FORMAT.into(),
                version: MANIFEST_VERSION,
                id: workspace_id.clone(),
                demo: options.demo,
            };
            let conn = create_database(&dir.join(DATABASE_FILE), &key)?;
            migrate(&conn)?;
            let tx = conn.unchecked_transaction()?;
            let meta: [(&str, String); 6] = [
                ("id", workspace_id.clone()),
                ("name", options.name.trim().to_string()),
                ("mode", options.mode.as_str().to_string()),
                ("timezone", options.timezone.clone()),
                ("created_at", now.as_microsecond().to_string()),
                ("demo", if options.demo { "1" } else { "0" }.to_string()),
            ];
            for (k, v) in &meta {
                tx.execute(
                    "INSERT INTO workspace_meta (key, value) VALUES (?1, ?2)",
                    params![k, v],
                )?;
            }
            audit::append(
                &tx,
                now,
                actor,
                "workspace.init",
                &format!(
                    "created workspace \"{}\" ({} mode, {})",
                    options.name.trim(),
                    options.mode.as_str(),
                    options.timezone
                ),
                &serde_json::json!({"id": workspace_id, "mode": options.mode.as_str(), "timezone": options.timezone}),
            )?;
            tx.commit()?;
            // The manifest goes last: a folder without it is not a workspace.
            let manifest_path = dir.join(MANIFEST_FILE);
            let text = serde_json::to_string_pretty(&manifest).expect("manifest serializes");
            fs::write(&manifest_path, text + "\n")
                .map_err(|e| WorkspaceError::io(&manifest_path, e))?;
            let info = WorkspaceInfo {
                id: workspace_id.clone(),
                name: options.name.trim().to_string(),
                mode: options.mode,
                timezone: options.timezone.clone(),
                created_at: now,
                schema_version: schema::LATEST_VERSION,
                path: dir.to_path_buf(),
                demo: options.demo,
            };
            Ok(Workspace {
                conn,
                info,
                units: UnitRegistry::default(),
                tz: tz.clone(),
                key: key.clone(),
            })
        })();
        if result.is_err() {
            // Best effort: the error that made init fail is the one to report.
            let _ = remove_files(dir);
            if created_dir {
                let _ = fs::remove_dir(dir);
            }
            let _ = key::forget(source, secrets, &workspace_id);
        }
        result
    }

    /// Opens an existing workspace, verifying the key before anything is written.
    pub fn open(
        dir: &Path,
        source: &KeySource,
        secrets: &dyn SecretStore,
    ) -> Result<Workspace, WorkspaceError> {
        let id = read_workspace_id(dir)?;
        let db_path = dir.join(DATABASE_FILE);
        if !db_path.exists() {
            return Err(WorkspaceError::BadManifest {
                path: dir.to_path_buf(),
                detail: format!("{DATABASE_FILE} is missing"),
            });
        }
        check_writable(dir, &db_path)?;
        let key = key::load(source, secrets, &id, dir)?;
        let conn = open_keyed(
            &db_path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            &key,
        )?;
        // The first read proves the key; with a wrong key SQLCipher reports "file is not a
        // database" and has written nothing.
        if conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| {
                r.get::<_, i64>(0)
            })
            .is_err()
        {
            return Err(WorkspaceError::WrongKey {
                workspace: dir.to_path_buf(),
                key_source: source.describe(secrets),
            });
        }
        apply_pragmas(&conn)?;
        migrate(&conn)?;
        let mut ws = Workspace::from_connection(conn, dir, key)?;
        if ws.info.id != id {
            return Err(WorkspaceError::BadManifest {
                path: dir.to_path_buf(),
                detail: format!(
                    "manifest id {id} does not match the database's id {}",
                    ws.info.id
                ),
            });
        }
        ws.reload_units()?;
        Ok(ws)
    }

    fn from_connection(
        conn: Connection,
        dir: &Path,
        key: key::DbKey,
    ) -> Result<Workspace, WorkspaceError> {
        let get = |k: &str| -> Result<String, WorkspaceError> {
            conn.query_row(
                "SELECT value FROM workspace_meta WHERE key = ?1",
                [k],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| WorkspaceError::BadManifest {
                path: dir.to_path_buf(),
                detail: format!("setting `{k}` is missing"),
            })
        };
        let bad = |detail: String| WorkspaceError::BadManifest {
            path: dir.to_path_buf(),
            detail,
        };
        let mode = Mode::parse(&get("mode")?)
            .ok_or_else(|| bad("mode is neither test nor live".into()))?;
        let timezone = get("timezone")?;
        let tz = jiff::tz::TimeZone::get(&timezone)
            .map_err(|_| WorkspaceError::BadTimeZone(timezone.clone()))?;
        let created_at = get("created_at")?
            .parse::<i64>()
            .ok()
            .and_then(|us| Timestamp::from_microsecond(us).ok())
            .ok_or_else(|| bad("created_at is not a time".into()))?;
        let schema_version: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let demo = setting(&conn, "demo")?.as_deref() == Some("1");
        let info = WorkspaceInfo {
            id: get("id")?,
            name: get("name")?,
            mode,
            timezone,
            created_at,
            schema_version,
            path: dir.to_path_buf(),
            demo,
        };
        Ok(Workspace {
            conn,
            info,
            units: UnitRegistry::default(),
            tz,
            key,
        })
    }

    /// Reads the declared units again (another connection to the same workspace declared
    /// one: the desktop's reader after its writer).
    pub fn reload_units(&mut self) -> Result<(), WorkspaceError> {
        let mut stmt = self
            .conn
            .prepare("SELECT code, exponent FROM units ORDER BY code")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u8>(1)?)))?;
        let mut declared = Vec::new();
        for row in rows {
            let (code, exponent) = row?;
            declared.push(
                Unit::new(&code, exponent, UnitKind::Commodity).map_err(|e| {
                    WorkspaceError::InvalidSetting(format!("stored unit {code}: {e}"))
                })?,
            );
        }
        drop(stmt);
        self.units = UnitRegistry::new(declared);
        Ok(())
    }

    /// Declares a non-money unit (seed 003's credits). Its code may not be an ISO currency.
    pub fn declare_unit(
        &mut self,
        code: &str,
        exponent: u8,
        description: &str,
        ctx: &OpContext,
    ) -> Result<Unit, WorkspaceError> {
        let (actor, now) = (ctx.actor.as_str(), ctx.now);
        let unit = Unit::new(code, exponent, UnitKind::Commodity)
            .map_err(|e| WorkspaceError::InvalidSetting(e.to_string()))?;
        if Unit::iso(code).is_some() {
            return Err(WorkspaceError::InvalidSetting(format!(
                "`{code}` is an ISO 4217 currency; a declared unit needs another code"
            )));
        }
        if let Ok(existing) = self.units.lookup(code) {
            if existing.exponent() != exponent {
                return Err(WorkspaceError::InvalidSetting(format!(
                    "unit `{}` is already declared with exponent {}",
                    existing.code(),
                    existing.exponent()
                )));
            }
            return Ok(existing);
        }
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "INSERT INTO units (code, exponent, description, declared_at) VALUES (?1, ?2, ?3, ?4)",
            params![unit.code(), exponent, description, now.as_microsecond()],
        )?;
        audit::append(
            &tx,
            now,
            actor,
            "unit.declare",
            &format!("declared unit {} (exponent {exponent})", unit.code()),
            &serde_json::json!({"code": unit.code(), "exponent": exponent, "description": description}),
        )?;
        tx.commit()?;
        self.reload_units()?;
        Ok(unit)
    }

    /// Marks the demo workspace as one, inside its encrypted database: the demo created
    /// before the flag was kept there says so only in its plaintext manifest, and only the
    /// demo's own opening (`demo::open_or_create`, on the app's demo folder) may trust that.
    pub(crate) fn mark_demo(&mut self) -> Result<(), WorkspaceError> {
        set_setting(&self.conn, "demo", "1")?;
        self.info.demo = true;
        Ok(())
    }

    pub fn info(&self) -> &WorkspaceInfo {
        &self.info
    }

    pub fn units(&self) -> &UnitRegistry {
        &self.units
    }

    pub fn time_zone(&self) -> &jiff::tz::TimeZone {
        &self.tz
    }

    /// The first instant of `date` in the workspace's time zone.
    pub fn start_of_day(&self, date: jiff::civil::Date) -> Result<Timestamp, WorkspaceError> {
        date.to_zoned(self.tz.clone())
            .map(|z| z.timestamp())
            .map_err(|e| WorkspaceError::InvalidSetting(format!("{date}: {e}")))
    }

    /// The last microsecond of `date` in the workspace's time zone: "as of the end of that
    /// day" includes everything up to midnight, whatever the day's length (DST).
    pub fn end_of_day(&self, date: jiff::civil::Date) -> Result<Timestamp, WorkspaceError> {
        let next = date
            .tomorrow()
            .map_err(|e| WorkspaceError::InvalidSetting(format!("{date}: {e}")))?;
        Ok(self.start_of_day(next)? - jiff::SignedDuration::from_micros(1))
    }

    /// Direct read access for queries in other engine modules and tests.
    /// A second connection to the same database, read-only, with the same settings: for
    /// reading in parallel with this one (it sees what is committed, not this one's open
    /// transaction).
    pub(crate) fn open_reader(&self) -> Result<Connection, WorkspaceError> {
        let conn = open_keyed(
            &self.info.path.join(DATABASE_FILE),
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            &self.key,
        )?;
        for (name, value, _why) in PRAGMAS {
            // The journal mode is the database's, set by the writer.
            if *name != "journal_mode" {
                conn.execute_batch(&format!("PRAGMA {name} = {value};"))?;
            }
        }
        Ok(conn)
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Deletes the workspace folder's files and every keychain entry it owns: the database
    /// key (or key file), the Stripe key, the PostgreSQL password and each person's signing
    /// key. Irreversible.
    pub fn destroy(
        self,
        source: &KeySource,
        secrets: &dyn SecretStore,
    ) -> Result<(), WorkspaceError> {
        let dir = self.info.path.clone();
        let id = self.info.id.clone();
        // The signing keys are named by public keys only the database knows: read them
        // before the database goes.
        let signing_keys = {
            let mut stmt = self.conn.prepare("SELECT public_key FROM people")?;
            stmt.query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?
        };
        drop(self.conn);
        remove_files(&dir)?;
        forget_secrets(source, secrets, &id, &signing_keys)?;
        let _ = fs::remove_dir(&dir);
        Ok(())
    }
}

/// Removes every keychain entry a workspace may own (missing ones are fine). Tries them
/// all and reports the first failure, so one refusal does not leave the others behind.
fn forget_secrets(
    source: &KeySource,
    secrets: &dyn SecretStore,
    workspace_id: &str,
    signing_keys: &[String],
) -> Result<(), WorkspaceError> {
    use crate::secrets::entries;
    let mut first_error = key::forget(source, secrets, workspace_id).err();
    let names = [
        entries::stripe_key(workspace_id),
        entries::postgres_password(workspace_id),
    ]
    .into_iter()
    .chain(
        signing_keys
            .iter()
            .map(|k| entries::signing_key(workspace_id, k)),
    );
    for name in names {
        if let Err(e) = secrets.delete(&name) {
            first_error.get_or_insert(e.into());
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// Refuses, before SQLite sees it, a workspace that cannot be written: SQLite would open it
/// read-only without a word, and the first write (or the key check, in WAL mode) would fail
/// with a message that blames the key. Writes nothing.
fn check_writable(dir: &Path, db_path: &Path) -> Result<(), WorkspaceError> {
    let denied = |e: &std::io::Error| {
        e.kind() == std::io::ErrorKind::PermissionDenied
            || e.kind() == std::io::ErrorKind::ReadOnlyFilesystem
    };
    if let Err(e) = fs::OpenOptions::new().append(true).open(db_path)
        && denied(&e)
    {
        return Err(WorkspaceError::ReadOnly {
            path: db_path.to_path_buf(),
        });
    }
    // The journal files are created beside the database.
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let c = std::ffi::CString::new(dir.as_os_str().as_bytes())
            .map_err(|e| WorkspaceError::io(dir, std::io::Error::other(e)))?;
        // SAFETY: `c` is a valid NUL-terminated path for the duration of the call.
        if unsafe { libc::access(c.as_ptr(), libc::W_OK) } != 0 {
            return Err(WorkspaceError::ReadOnly {
                path: dir.to_path_buf(),
            });
        }
    }
    Ok(())
}

/// Every file a workspace folder may hold.
const WORKSPACE_FILES: [&str; 4] = [
    MANIFEST_FILE,
    DATABASE_FILE,
    "closebook.db-wal",
    "closebook.db-shm",
];

/// Removes a workspace's files (missing ones are fine); the folder itself stays.
fn remove_files(dir: &Path) -> Result<(), WorkspaceError> {
    for name in WORKSPACE_FILES {
        match fs::remove_file(dir.join(name)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(WorkspaceError::io(&dir.join(name), e)),
        }
    }
    Ok(())
}

/// Deletes a workspace whose key may be lost: its files and, if present, its keychain
/// entries (all but the signing keys, which only the lost database names). Only
/// for workspaces that can be rebuilt (the demo); irreversible.
pub fn destroy_unopened(
    dir: &Path,
    source: &KeySource,
    secrets: &dyn SecretStore,
) -> Result<(), WorkspaceError> {
    let manifest = read_manifest(dir)?;
    remove_files(dir)?;
    // Without the key the roster cannot be read: signing keys stay (they sign nothing
    // without the workspace that knows their public keys).
    forget_secrets(source, secrets, &manifest.id, &[])?;
    let _ = fs::remove_dir(dir);
    Ok(())
}

/// Reads the workspace id from the plaintext manifest.
pub fn read_workspace_id(dir: &Path) -> Result<String, WorkspaceError> {
    read_manifest(dir).map(|m| m.id)
}

/// Reads the plaintext manifest of a workspace folder.
pub fn read_manifest(dir: &Path) -> Result<Manifest, WorkspaceError> {
    let path = dir.join(MANIFEST_FILE);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(WorkspaceError::NotAWorkspace {
                path: dir.to_path_buf(),
            });
        }
        Err(e) => return Err(WorkspaceError::io(&path, e)),
    };
    let manifest: Manifest =
        serde_json::from_str(&text).map_err(|e| WorkspaceError::BadManifest {
            path: dir.to_path_buf(),
            detail: e.to_string(),
        })?;
    if manifest.format != MANIFEST_FORMAT || manifest.version != MANIFEST_VERSION {
        return Err(WorkspaceError::BadManifest {
            path: dir.to_path_buf(),
            detail: format!(
                "unsupported format {} version {}",
                manifest.format, manifest.version
            ),
        });
    }
    Ok(manifest)
}

/// A new workspace id: `ws_` and 32 hex digits from the OS random source.
pub fn new_workspace_id() -> Result<String, WorkspaceError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| WorkspaceError::Io {
        path: PathBuf::from("<os random source>"),
        detail: e.to_string(),
    })?;
    Ok(format!("ws_{}", hex::encode(bytes)))
}

/// Keys are attached to connections one at a time in a process. In a fresh clone's test
/// run, one of several threads attaching keys at once got SQLCipher's generic key error
/// ("An error occurred with PRAGMA key or rekey…") while the others succeeded: the set-up of
/// a key (SQLCipher's codec with OpenSSL 3 behind it) is not reliably safe to race on first
/// use. Attaching a raw key takes about 1.5 ms, so taking turns costs nothing noticeable.
static KEYING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Opens the database at `path` with `flags` and attaches `key` (SQLCipher's logging off:
/// a wrong key would otherwise print HMAC errors to stderr).
fn open_keyed(path: &Path, flags: OpenFlags, key: &DbKey) -> Result<Connection, WorkspaceError> {
    // A poisoned lock only means another thread panicked while holding it; the guard
    // protects no data.
    let _turn = KEYING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let conn = Connection::open_with_flags(path, flags)?;
    conn.execute_batch("PRAGMA cipher_log_level = NONE;")?;
    conn.execute_batch(&key.pragma())?;
    Ok(conn)
}

fn create_database(path: &Path, key: &DbKey) -> Result<Connection, WorkspaceError> {
    let conn = open_keyed(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        key,
    )?;
    apply_pragmas(&conn)?;
    Ok(conn)
}

fn apply_pragmas(conn: &Connection) -> Result<(), WorkspaceError> {
    for (name, value, _why) in PRAGMAS {
        conn.execute_batch(&format!("PRAGMA {name} = {value};"))?;
    }
    Ok(())
}

/// The pragmas with their reasons, for `closebook status` and the docs.
pub fn pragmas() -> &'static [(&'static str, &'static str, &'static str)] {
    PRAGMAS
}

/// A workspace setting (`workspace_meta`), if set.
pub(crate) fn setting(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT value FROM workspace_meta WHERE key = ?1",
        [key],
        |r| r.get(0),
    )
    .optional()
}

/// Sets a workspace setting, inside the caller's transaction.
pub(crate) fn set_setting(conn: &Connection, key: &str, value: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO workspace_meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )
    .map(|_| ())
}

/// Applies every migration the database has not seen, each in its own transaction.
pub(crate) fn migrate(conn: &Connection) -> Result<(), WorkspaceError> {
    migrate_to(conn, schema::LATEST_VERSION)
}

pub(crate) fn migrate_to(conn: &Connection, target: u32) -> Result<(), WorkspaceError> {
    let current: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > schema::LATEST_VERSION {
        return Err(WorkspaceError::NewerSchema {
            found: current,
            supported: schema::LATEST_VERSION,
        });
    }
    for version in current..target {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(schema::MIGRATIONS[version as usize])?;
        tx.execute_batch(&format!("PRAGMA user_version = {};", version + 1))?;
        tx.commit()?;
        tracing::info!(version = version + 1, "applied workspace migration");
    }
    Ok(())
}

#[cfg(test)]
mod tests;
