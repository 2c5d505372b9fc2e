//! Identities on this device: made here (the private key to this keychain, the card to the
//! data folder), listed, and their cards exported for an admin.

use std::path::Path;

use closebook_engine::identity::{self, Card};
use closebook_engine::payouts::people;
use closebook_engine::secrets::SecretStore;
use jiff::Timestamp;

use super::Result;

/// Makes an identity named `name` with fresh randomness from the OS.
pub fn create(
    data_dir: &Path,
    secrets: &dyn SecretStore,
    name: &str,
    now: Timestamp,
) -> Result<Card> {
    let seed = people::fresh_seed()?;
    Ok(identity::create(data_dir, secrets, name, seed, now)?)
}

/// This device's identities (each with whether its key is in this keychain), and the card
/// files found that do not verify.
pub fn list(data_dir: &Path, secrets: &dyn SecretStore) -> Result<identity::Listing> {
    Ok(identity::list(data_dir, secrets)?)
}

/// Writes the card of the identity named (by name or fingerprint) to a new file.
pub fn export_card(
    data_dir: &Path,
    secrets: &dyn SecretStore,
    who: &str,
    dest: &Path,
) -> Result<Card> {
    Ok(identity::export_card(data_dir, secrets, who, dest)?)
}
