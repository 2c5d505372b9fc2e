//! Identities made on their owner's device. An identity is an Ed25519 key pair whose
//! private half goes to this device's OS keychain and never leaves it, and a public
//! identity card — name, public key, fingerprint, creation time, self-signed — that travels
//! to the admin who puts the person on a company's roster. A device may hold several (one
//! per company); their cards are kept in the data folder's `identities/`, one file each.
//!
//! A card proves only that whoever holds the private key chose that name: the admin who
//! registers it compares the fingerprint with its owner (over a call), which is what makes
//! it theirs.

use std::path::{Path, PathBuf};

use ed25519_dalek::{Signer as _, SigningKey};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::payouts::people;
use crate::secrets::{SecretError, SecretStore, entries};

/// The card's format name, in every card.
pub const CARD_FORMAT: &str = "closebook-identity-card-v1";

/// Largest card read: a real one is under 1 KiB.
pub const MAX_CARD_BYTES: u64 = 8 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("{0}")]
    BadInput(String),
    #[error("not a Closebook identity card ({0})")]
    BadCard(String),
    #[error("{0}")]
    NotFound(String),
    #[error("cannot write {0}: {1}")]
    Io(String, String),
    #[error(transparent)]
    Secrets(#[from] SecretError),
}

/// A public identity card: what an admin needs to put its owner on a roster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Card {
    pub format: String,
    pub name: String,
    /// Hex of the 32-byte Ed25519 public key.
    pub public_key: String,
    /// The public key's fingerprint, to read aloud ([`people::fingerprint`]).
    pub fingerprint: String,
    pub created_at: Timestamp,
    /// The owner's signature over [`Card::message`].
    pub signature: String,
}

impl Card {
    /// What the owner signs: every field, one per line (names hold no line break).
    fn message(name: &str, public_key: &str, created_at: Timestamp) -> String {
        format!("{CARD_FORMAT}\nname {name}\nkey {public_key}\ncreated {created_at}")
    }

    /// Checks the card whole: its format, name, key, fingerprint and self-signature.
    pub fn verify(&self) -> Result<(), IdentityError> {
        let bad = |what: &str| Err(IdentityError::BadCard(what.to_string()));
        if self.format != CARD_FORMAT {
            return bad("an unknown format");
        }
        check_name(&self.name).map_err(|_| IdentityError::BadCard("an unusable name".into()))?;
        if self.fingerprint != people::fingerprint(&self.public_key) {
            return bad("its fingerprint is not its key's");
        }
        let msg = Card::message(&self.name, &self.public_key, self.created_at);
        if !people::verify(&self.public_key, msg.as_bytes(), &self.signature) {
            return bad("its signature is not its key's over its content: forged or altered");
        }
        Ok(())
    }
}

fn check_name(name: &str) -> Result<&str, IdentityError> {
    people::usable_name(name).map_err(IdentityError::BadInput)
}

/// Where a data folder keeps this device's identity cards.
pub fn cards_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("identities")
}

fn card_path(data_dir: &Path, card: &Card) -> PathBuf {
    cards_dir(data_dir).join(format!("{}.card", card.fingerprint.replace(' ', "")))
}

/// Makes an identity on this device from `seed` (32 random bytes, passed in): the private
/// key goes to the keychain, the card to the data folder. Nothing is half-made: a card that
/// cannot be written takes its key out of the keychain again.
pub fn create(
    data_dir: &Path,
    secrets: &dyn SecretStore,
    name: &str,
    seed: [u8; 32],
    now: Timestamp,
) -> Result<Card, IdentityError> {
    let name = check_name(name)?;
    let key = SigningKey::from_bytes(&seed);
    let public_key = hex::encode(key.verifying_key().to_bytes());
    let msg = Card::message(name, &public_key, now);
    let card = Card {
        format: CARD_FORMAT.into(),
        name: name.into(),
        fingerprint: people::fingerprint(&public_key),
        public_key: public_key.clone(),
        created_at: now,
        signature: hex::encode(key.sign(msg.as_bytes()).to_bytes()),
    };
    card.verify()?;
    let entry = entries::identity_key(&public_key);
    secrets.set(&entry, &hex::encode(seed))?;
    let write = || -> Result<(), IdentityError> {
        let dir = cards_dir(data_dir);
        std::fs::create_dir_all(&dir)
            .map_err(|e| IdentityError::Io(dir.display().to_string(), e.to_string()))?;
        let path = card_path(data_dir, &card);
        let text = serde_json::to_string_pretty(&card).expect("a card serializes");
        crate::files::write_new(&path, text.as_bytes())
            .map_err(|e| IdentityError::Io(path.display().to_string(), e.to_string()))
    };
    if let Err(e) = write() {
        let _ = secrets.delete(&entry);
        return Err(e);
    }
    Ok(card)
}

/// Reads and checks a card file (bounded: a card is small).
pub fn read_card(path: &Path) -> Result<Card, IdentityError> {
    let bytes = crate::files::read_regular(path, MAX_CARD_BYTES)
        .map_err(|e| IdentityError::BadCard(format!("{}: {e}", path.display())))?;
    let card: Card = serde_json::from_slice(&bytes)
        .map_err(|e| IdentityError::BadCard(format!("{}: {e}", path.display())))?;
    card.verify()?;
    Ok(card)
}

/// This device's identities: each card with whether its private key is in this keychain,
/// and the card files that do not verify (named, never trusted).
pub type Listing = (Vec<(Card, bool)>, Vec<String>);

/// This device's identities, by name, each with whether its private key is in this
/// keychain. A card in the folder that does not verify is skipped, named in the second list.
pub fn list(data_dir: &Path, secrets: &dyn SecretStore) -> Result<Listing, IdentityError> {
    let dir = cards_dir(data_dir);
    let mut cards = Vec::new();
    let mut refused = Vec::new();
    let entries_iter = match std::fs::read_dir(&dir) {
        Ok(it) => it,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((cards, refused)),
        Err(e) => return Err(IdentityError::Io(dir.display().to_string(), e.to_string())),
    };
    for entry in entries_iter.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|x| x != "card") {
            continue;
        }
        match read_card(&path) {
            Ok(card) => {
                let here = secrets
                    .get(&entries::identity_key(&card.public_key))
                    .ok()
                    .flatten()
                    .is_some();
                cards.push((card, here));
            }
            Err(e) => refused.push(format!("{}: {e}", path.display())),
        }
    }
    cards.sort_by(|a, b| {
        a.0.name
            .cmp(&b.0.name)
            .then(a.0.created_at.cmp(&b.0.created_at))
    });
    Ok((cards, refused))
}

/// The identity named (by name, or by fingerprint, with or without spaces).
pub fn find(data_dir: &Path, secrets: &dyn SecretStore, who: &str) -> Result<Card, IdentityError> {
    let want = who.trim();
    let compact = want.replace(' ', "").to_uppercase();
    let (cards, _) = list(data_dir, secrets)?;
    let matching: Vec<Card> = cards
        .into_iter()
        .map(|(c, _)| c)
        .filter(|c| c.name == want || c.fingerprint.replace(' ', "") == compact)
        .collect();
    match matching.len() {
        1 => Ok(matching.into_iter().next().expect("one")),
        0 => Err(IdentityError::NotFound(format!(
            "no identity `{want}` on this device: `closebook identity list` shows them"
        ))),
        n => Err(IdentityError::BadInput(format!(
            "{n} identities are named `{want}`: name one by its fingerprint"
        ))),
    }
}

/// Writes the named identity's card to a new file (to send to an admin).
pub fn export_card(
    data_dir: &Path,
    secrets: &dyn SecretStore,
    who: &str,
    dest: &Path,
) -> Result<Card, IdentityError> {
    let card = find(data_dir, secrets, who)?;
    let text = serde_json::to_string_pretty(&card).expect("a card serializes");
    crate::files::write_new(dest, text.as_bytes())
        .map_err(|e| IdentityError::Io(dest.display().to_string(), e.to_string()))?;
    Ok(card)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::MemorySecrets;

    fn at() -> Timestamp {
        "2026-12-08T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_card_is_made_here_verifies_and_keeps_its_key_in_the_keychain_only() {
        let tmp = tempfile::tempdir().unwrap();
        let secrets = MemorySecrets::new();
        let card = create(tmp.path(), &secrets, " Ari Chen ", [5; 32], at()).unwrap();
        assert_eq!(card.name, "Ari Chen");
        card.verify().unwrap();
        assert!(
            secrets
                .get(&entries::identity_key(&card.public_key))
                .unwrap()
                .is_some()
        );
        // The card on disk holds no private key.
        let on_disk = std::fs::read_to_string(card_path(tmp.path(), &card)).unwrap();
        assert!(!on_disk.contains(&hex::encode([5u8; 32])));
        let (cards, refused) = list(tmp.path(), &secrets).unwrap();
        assert_eq!(cards, vec![(card.clone(), true)]);
        assert!(refused.is_empty());
        // Found by name or fingerprint; exported to a new file only.
        assert_eq!(find(tmp.path(), &secrets, &card.fingerprint).unwrap(), card);
        let dest = tmp.path().join("ari.card");
        export_card(tmp.path(), &secrets, "Ari Chen", &dest).unwrap();
        assert_eq!(read_card(&dest).unwrap(), card);
        assert!(export_card(tmp.path(), &secrets, "Ari Chen", &dest).is_err());
        // Another device's keychain holds no key for it.
        let elsewhere = MemorySecrets::new();
        assert!(!list(tmp.path(), &elsewhere).unwrap().0[0].1);
    }

    #[test]
    fn altered_or_forged_cards_and_bad_names_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let secrets = MemorySecrets::new();
        let card = create(tmp.path(), &secrets, "Ari Chen", [5; 32], at()).unwrap();
        let mut renamed = card.clone();
        renamed.name = "Kim Admin".into();
        assert!(renamed.verify().is_err());
        let mut rekeyed = card.clone();
        rekeyed.public_key =
            hex::encode(SigningKey::from_bytes(&[6; 32]).verifying_key().to_bytes());
        assert!(rekeyed.verify().is_err());
        let mut misprinted = card.clone();
        misprinted.fingerprint = "0000 0000 0000 0000".into();
        assert!(misprinted.verify().is_err());
        for bad in ["", "a\nb", "x:y", &"n".repeat(65)] {
            assert!(
                create(tmp.path(), &secrets, bad, [7; 32], at()).is_err(),
                "{bad:?}"
            );
        }
        // A bad file in the folder is named, not trusted.
        let forged = cards_dir(tmp.path()).join("forged.card");
        std::fs::write(&forged, serde_json::to_string(&renamed).unwrap()).unwrap();
        let (cards, refused) = list(tmp.path(), &secrets).unwrap();
        assert_eq!(cards.len(), 1);
        assert_eq!(refused.len(), 1);
        assert!(read_card(&tmp.path().join("missing.card")).is_err());
    }
}
