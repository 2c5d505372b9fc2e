//! The Closebook engine: everything but windows and buttons.
//!
//! The CLI (`closebook`), the desktop shell and the tests all call this API; none of it
//! depends on a UI toolkit. See ARCHITECTURE.md for the map.

pub mod accounts;
pub mod audit;
pub mod demo;
pub mod error;
pub mod files;
pub mod identity;
pub mod ingest;
pub mod ledger;
pub mod money;
pub mod payouts;
pub mod reconcile;
pub mod reports;
pub mod secrets;
pub mod stripe;
pub mod workspace;

pub use error::{Error, ErrorCode};
pub use workspace::Workspace;

use jiff::Timestamp;

/// Who does an operation and when: passed in, never read from the clock inside the
/// engine, so that results are deterministic and replayable in tests.
#[derive(Debug, Clone)]
pub struct OpContext {
    pub actor: String,
    pub now: Timestamp,
}

impl OpContext {
    pub fn new(actor: impl Into<String>, now: Timestamp) -> OpContext {
        OpContext {
            actor: actor.into(),
            now,
        }
    }

    /// The operating-system user, for actions not done as a roster person: the account the
    /// process runs as (from the OS, not the environment, which a desktop launcher may not
    /// fill in), then `USER` / `USERNAME`, then `unknown`.
    pub fn os_user(now: Timestamp) -> OpContext {
        let user = whoami::username()
            .ok()
            .filter(|u| !u.is_empty())
            .or_else(|| std::env::var("USER").ok())
            .or_else(|| std::env::var("USERNAME").ok())
            .unwrap_or_else(|| "unknown".to_string());
        OpContext {
            actor: format!("os:{user}"),
            now,
        }
    }
}

/// Items beyond which a collection's memory is freed on a thread of its own.
const LARGE_COLLECTION: usize = 200_000;

/// Frees `value`, which holds `items` small allocations: freeing a million of them takes a
/// noticeable fraction of a second (a snapshot's sides, an import's parsed rows), so large
/// ones are freed in the background while the caller returns its answer.
pub(crate) fn free_soon<T: Send + 'static>(value: T, items: usize) {
    if items > LARGE_COLLECTION {
        std::thread::spawn(move || drop(value));
    } else {
        drop(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: desktop launches and test harnesses without `USER` recorded every action
    /// as `os:unknown`; the account comes from the OS now.
    #[test]
    fn the_os_user_comes_from_the_os() {
        let ctx = OpContext::os_user(Timestamp::UNIX_EPOCH);
        let name = ctx.actor.strip_prefix("os:").expect("os: prefix");
        assert!(!name.is_empty());
        assert_ne!(name, "unknown");
        assert_eq!(Some(name.to_string()), whoami::username().ok());
    }
}
