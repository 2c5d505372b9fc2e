//! The workspace's Stripe key: kept in the OS keychain under the workspace's id (never in
//! the database, a log, an error or `Debug` output), or given for one run through
//! `STRIPE_API_KEY`. Its prefix tells test from live mode, which must match the workspace.

use std::fmt;

use super::StripeError;
use crate::secrets::SecretStore;
use crate::workspace::{Mode, Workspace};
use crate::{OpContext, audit};

/// A Stripe secret (`sk_`) or restricted (`rk_`) key. Its text never leaves this type except
/// into the `Authorization` header.
#[derive(Clone)]
pub struct StripeKey(String);

impl fmt::Debug for StripeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StripeKey({}…<redacted>)", self.kind_prefix())
    }
}

/// Longest key we accept: Stripe's keys are about 110 characters.
const MAX_KEY_LEN: usize = 255;

impl StripeKey {
    pub fn parse(text: &str) -> Result<StripeKey, StripeError> {
        let key = text.trim();
        let rest = ["sk_test_", "sk_live_", "rk_test_", "rk_live_"]
            .iter()
            .find_map(|p| key.strip_prefix(p))
            .ok_or(StripeError::MalformedKey)?;
        if rest.is_empty()
            || key.len() > MAX_KEY_LEN
            || !rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(StripeError::MalformedKey);
        }
        Ok(StripeKey(key.to_string()))
    }

    pub fn mode(&self) -> Mode {
        if self.0.contains("_live_") {
            Mode::Live
        } else {
            Mode::Test
        }
    }

    /// `sk_test_`, `rk_live_`, …: safe to show.
    pub fn kind_prefix(&self) -> &str {
        &self.0[..8]
    }

    /// Restricted keys (`rk_`) can be limited to read-only access.
    pub fn is_restricted(&self) -> bool {
        self.0.starts_with("rk_")
    }

    pub(crate) fn secret(&self) -> &str {
        &self.0
    }

    /// The key must be of the workspace's mode.
    pub fn check_mode(&self, ws: &Workspace) -> Result<(), StripeError> {
        let workspace = ws.info().mode;
        if self.mode() != workspace {
            return Err(StripeError::ModeMismatch {
                key: self.mode().as_str(),
                workspace: workspace.as_str(),
            });
        }
        Ok(())
    }
}

fn keychain_name(workspace_id: &str) -> String {
    crate::secrets::entries::stripe_key(workspace_id)
}

/// Stores the key in the keychain after checking its form and mode; records the change
/// (which key kind, never the key) in the audit log.
pub fn store(
    ws: &Workspace,
    secrets: &dyn SecretStore,
    text: &str,
    ctx: &OpContext,
) -> Result<StripeKey, StripeError> {
    let key = StripeKey::parse(text)?;
    key.check_mode(ws)?;
    secrets.set(&keychain_name(&ws.info().id), key.secret())?;
    let tx = ws.conn.unchecked_transaction()?;
    audit::append(
        &tx,
        ctx.now,
        &ctx.actor,
        "stripe.key.set",
        &format!("stored a {} Stripe key in the keychain", key.kind_prefix()),
        &serde_json::json!({"kind": key.kind_prefix(), "restricted": key.is_restricted()}),
    )?;
    tx.commit()?;
    Ok(key)
}

/// Removes the stored key.
pub fn forget(
    ws: &Workspace,
    secrets: &dyn SecretStore,
    ctx: &OpContext,
) -> Result<(), StripeError> {
    secrets.delete(&keychain_name(&ws.info().id))?;
    let tx = ws.conn.unchecked_transaction()?;
    audit::append(
        &tx,
        ctx.now,
        &ctx.actor,
        "stripe.key.forget",
        "removed the Stripe key from the keychain",
        &serde_json::json!({}),
    )?;
    tx.commit()?;
    Ok(())
}

/// The key to use: `from_env` (STRIPE_API_KEY) when given, else the keychain's.
pub fn load(
    ws: &Workspace,
    secrets: &dyn SecretStore,
    from_env: Option<&str>,
) -> Result<StripeKey, StripeError> {
    let text = match from_env.map(str::trim).filter(|k| !k.is_empty()) {
        Some(k) => k.to_string(),
        None => secrets
            .get(&keychain_name(&ws.info().id))?
            .ok_or(StripeError::NoKey)?,
    };
    let key = StripeKey::parse(&text)?;
    key.check_mode(ws)?;
    Ok(key)
}

/// Where a sync's Stripe key would come from, as a status screen reports it. A missing or
/// unreachable keychain is a fact to report here, not a failure: a server without one
/// gives the key through `STRIPE_API_KEY`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum KeySource {
    /// `STRIPE_API_KEY` is set for this run; `kind` is `None` when it is not a Stripe key.
    Environment { kind: Option<String> },
    /// A key of this kind is stored in the OS keychain.
    Keychain { kind: String },
    /// No key anywhere: `closebook stripe set-key`, or `STRIPE_API_KEY`.
    NotSet,
    /// The keychain could not be asked (no Secret Service, locked, denied): `detail` says why.
    KeychainUnavailable { detail: String },
}

impl KeySource {
    /// The key's kind (`sk_test_`, `rk_live_`…) when there is a usable one.
    pub fn kind(&self) -> Option<&str> {
        match self {
            KeySource::Environment { kind } => kind.as_deref(),
            KeySource::Keychain { kind } => Some(kind),
            KeySource::NotSet | KeySource::KeychainUnavailable { .. } => None,
        }
    }
}

/// Where the key for `workspace_id` would come from: `from_env` (`STRIPE_API_KEY`) first,
/// as [`load`] takes it, else the keychain. Never fails: the keychain's state is reported.
/// Takes the id, not the workspace, for the reason [`stored_kind`] gives.
pub fn source(workspace_id: &str, secrets: &dyn SecretStore, from_env: Option<&str>) -> KeySource {
    if let Some(k) = from_env.map(str::trim).filter(|k| !k.is_empty()) {
        return KeySource::Environment {
            kind: StripeKey::parse(k)
                .ok()
                .map(|k| k.kind_prefix().to_string()),
        };
    }
    match stored_kind(workspace_id, secrets) {
        Ok(Some(kind)) => KeySource::Keychain { kind },
        Ok(None) => KeySource::NotSet,
        Err(e) => KeySource::KeychainUnavailable {
            detail: e.to_string(),
        },
    }
}

/// Whether a key is stored for the workspace `workspace_id`, and of which kind (for status
/// screens). Takes the id, not the workspace: a keychain may stall (a permission prompt),
/// and callers ask it without holding the database.
pub fn stored_kind(
    workspace_id: &str,
    secrets: &dyn SecretStore,
) -> Result<Option<String>, StripeError> {
    Ok(secrets
        .get(&keychain_name(workspace_id))?
        .and_then(|t| StripeKey::parse(&t).ok())
        .map(|k| k.kind_prefix().to_string()))
}
