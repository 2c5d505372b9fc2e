//! Where secrets live: the OS keychain (macOS Keychain, Windows Credential Manager, the
//! Secret Service on Linux) through the `keyring` crate, or an in-memory store for tests.
//!
//! Secret values never appear in `Debug` output or error messages of this module: errors
//! name the entry and the store, never the value.

use std::collections::HashMap;
use std::sync::Mutex;

/// The keychain service name every Closebook entry is filed under.
pub const KEYCHAIN_SERVICE: &str = "closebook";

/// The name of every keychain entry Closebook writes, all in one place and all under the
/// workspace that owns them, so that deleting a workspace can find and remove each one.
pub mod entries {
    /// The workspace database's SQLCipher key (unless it lives in a key file).
    pub fn database_key(workspace_id: &str) -> String {
        format!("workspace:{workspace_id}:database-key")
    }

    /// The Stripe API key the workspace syncs and pays with.
    pub fn stripe_key(workspace_id: &str) -> String {
        format!("workspace:{workspace_id}:stripe-key")
    }

    /// The password of the platform's PostgreSQL database the workspace pulls from.
    pub fn postgres_password(workspace_id: &str) -> String {
        format!("workspace:{workspace_id}:postgres-password")
    }

    /// A person's private signing key: the workspace and the public key name it, so a
    /// renamed or re-added person never picks up another key.
    pub fn signing_key(workspace_id: &str, public_key_hex: &str) -> String {
        format!("workspace:{workspace_id}:signing-key:{public_key_hex}")
    }

    /// An identity's private key on this device, named by its public key (an identity
    /// belongs to a person, not to a workspace: it joins a company's roster by its card).
    pub fn identity_key(public_key_hex: &str) -> String {
        format!("identity:{public_key_hex}:signing-key")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "the OS keychain is not available ({detail}); unlock it or use a key file (--key-file)"
    )]
    Unavailable { detail: String },
    #[error("the OS keychain refused access to `{name}` ({detail})")]
    Access { name: String, detail: String },
    #[error("the keychain entry `{name}` does not hold text")]
    BadEncoding { name: String },
}

/// A place to keep named secrets.
pub trait SecretStore: Send + Sync {
    fn get(&self, name: &str) -> Result<Option<String>, SecretError>;
    fn set(&self, name: &str, value: &str) -> Result<(), SecretError>;
    /// Deletes the entry; deleting a missing entry is not an error.
    fn delete(&self, name: &str) -> Result<(), SecretError>;
    /// A human description for messages: "the OS keychain (service `closebook`)".
    fn describe(&self) -> String;
}

/// The operating system's keychain.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsKeychain;

impl OsKeychain {
    fn entry(&self, name: &str) -> Result<keyring::Entry, SecretError> {
        keyring::Entry::new(KEYCHAIN_SERVICE, name).map_err(|e| map_keyring_error(name, e))
    }
}

fn map_keyring_error(name: &str, e: keyring::Error) -> SecretError {
    use keyring::Error as K;
    match e {
        K::NoDefaultStore | K::PlatformFailure(_) => SecretError::Unavailable {
            detail: e.to_string(),
        },
        K::NoStorageAccess(_) => SecretError::Access {
            name: name.to_string(),
            detail: e.to_string(),
        },
        K::BadEncoding(_) => SecretError::BadEncoding {
            name: name.to_string(),
        },
        other => SecretError::Access {
            name: name.to_string(),
            detail: other.to_string(),
        },
    }
}

impl SecretStore for OsKeychain {
    fn get(&self, name: &str) -> Result<Option<String>, SecretError> {
        match self.entry(name)?.get_password() {
            Ok(v) => Ok(Some(v)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_keyring_error(name, e)),
        }
    }

    fn set(&self, name: &str, value: &str) -> Result<(), SecretError> {
        self.entry(name)?
            .set_password(value)
            .map_err(|e| map_keyring_error(name, e))
    }

    fn delete(&self, name: &str) -> Result<(), SecretError> {
        match self.entry(name)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_keyring_error(name, e)),
        }
    }

    fn describe(&self) -> String {
        format!("the OS keychain (service `{KEYCHAIN_SERVICE}`)")
    }
}

/// A process-local store for tests and for callers that must not touch the OS keychain.
#[derive(Default)]
pub struct MemorySecrets {
    entries: Mutex<HashMap<String, String>>,
}

impl MemorySecrets {
    pub fn new() -> MemorySecrets {
        MemorySecrets::default()
    }

    /// Entry names present, for tests that check deletion.
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .entries
            .lock()
            .expect("poisoned")
            .keys()
            .cloned()
            .collect();
        v.sort();
        v
    }
}

impl SecretStore for MemorySecrets {
    fn get(&self, name: &str) -> Result<Option<String>, SecretError> {
        Ok(self.entries.lock().expect("poisoned").get(name).cloned())
    }

    fn set(&self, name: &str, value: &str) -> Result<(), SecretError> {
        self.entries
            .lock()
            .expect("poisoned")
            .insert(name.to_string(), value.to_string());
        Ok(())
    }

    fn delete(&self, name: &str) -> Result<(), SecretError> {
        self.entries.lock().expect("poisoned").remove(name);
        Ok(())
    }

    fn describe(&self) -> String {
        "the in-memory test keychain".to_string()
    }
}
