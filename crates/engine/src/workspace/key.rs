//! The database key: 256 random bits, kept in the OS keychain or in an owner-only key file.

use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::WorkspaceError;
use crate::secrets::SecretStore;

/// A raw SQLCipher key. `Debug` never shows it; it is never logged or written to an error.
#[derive(Clone, PartialEq, Eq)]
pub struct DbKey([u8; 32]);

impl DbKey {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> Result<DbKey, WorkspaceError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| WorkspaceError::Io {
            path: PathBuf::from("<os random source>"),
            detail: e.to_string(),
        })?;
        Ok(DbKey(bytes))
    }

    pub fn from_bytes(bytes: [u8; 32]) -> DbKey {
        DbKey(bytes)
    }

    pub(crate) fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    fn from_hex(text: &str) -> Option<DbKey> {
        let bytes = hex::decode(text.trim()).ok()?;
        Some(DbKey(bytes.try_into().ok()?))
    }

    /// The `PRAGMA key` statement for this key (raw key: no key derivation on open).
    pub(crate) fn pragma(&self) -> String {
        format!("PRAGMA key = \"x'{}'\";", self.to_hex())
    }
}

impl fmt::Debug for DbKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DbKey(<redacted>)")
    }
}

/// Where a workspace's key is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// The OS keychain, under the workspace's id.
    Keychain,
    /// An owner-only file holding the key as 64 hex digits (servers and scripts without a
    /// keychain: `--key-file` / `CLOSEBOOK_KEY_FILE`).
    File(PathBuf),
}

impl KeySource {
    pub fn describe(&self, secrets: &dyn SecretStore) -> String {
        match self {
            KeySource::Keychain => secrets.describe(),
            KeySource::File(p) => format!("key file {}", p.display()),
        }
    }
}

fn keychain_name(workspace_id: &str) -> String {
    crate::secrets::entries::database_key(workspace_id)
}

/// Stores a new key; refuses to overwrite an existing key file or keychain entry.
pub(crate) fn store_new(
    source: &KeySource,
    secrets: &dyn SecretStore,
    workspace_id: &str,
    key: &DbKey,
) -> Result<(), WorkspaceError> {
    match source {
        KeySource::Keychain => {
            let name = keychain_name(workspace_id);
            if secrets.get(&name)?.is_some() {
                return Err(WorkspaceError::KeyExists {
                    key_source: secrets.describe(),
                });
            }
            secrets.set(&name, &key.to_hex())?;
            Ok(())
        }
        KeySource::File(path) => write_key_file(path, key),
    }
}

pub(crate) fn forget(
    source: &KeySource,
    secrets: &dyn SecretStore,
    workspace_id: &str,
) -> Result<(), WorkspaceError> {
    match source {
        KeySource::Keychain => Ok(secrets.delete(&keychain_name(workspace_id))?),
        KeySource::File(path) => match fs::remove_file(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(WorkspaceError::io(path, e)),
        },
    }
}

pub(crate) fn load(
    source: &KeySource,
    secrets: &dyn SecretStore,
    workspace_id: &str,
    workspace: &Path,
) -> Result<DbKey, WorkspaceError> {
    let missing = || WorkspaceError::KeyMissing {
        workspace: workspace.to_path_buf(),
        key_source: source.describe(secrets),
    };
    let text = match source {
        KeySource::Keychain => secrets
            .get(&keychain_name(workspace_id))?
            .ok_or_else(missing)?,
        KeySource::File(path) => {
            if !path.exists() {
                return Err(missing());
            }
            check_owner_only(path)?;
            fs::read_to_string(path).map_err(|e| WorkspaceError::io(path, e))?
        }
    };
    DbKey::from_hex(&text).ok_or_else(|| WorkspaceError::KeyMalformed {
        key_source: source.describe(secrets),
    })
}

fn write_key_file(path: &Path, key: &DbKey) -> Result<(), WorkspaceError> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            WorkspaceError::KeyExists {
                key_source: format!("key file {}", path.display()),
            }
        } else {
            WorkspaceError::io(path, e)
        }
    })?;
    file.write_all(format!("{}\n", key.to_hex()).as_bytes())
        .map_err(|e| WorkspaceError::io(path, e))?;
    file.sync_all().map_err(|e| WorkspaceError::io(path, e))?;
    Ok(())
}

/// A key file others can read is refused: the key would protect nothing.
#[cfg(unix)]
fn check_owner_only(path: &Path) -> Result<(), WorkspaceError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(path)
        .map_err(|e| WorkspaceError::io(path, e))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(WorkspaceError::KeyFilePermissions {
            path: path.to_path_buf(),
            mode: mode & 0o777,
        });
    }
    Ok(())
}

/// On Windows, files inherit the ACL of the user's profile folder; there is no mode to check.
#[cfg(not(unix))]
fn check_owner_only(_path: &Path) -> Result<(), WorkspaceError> {
    Ok(())
}
