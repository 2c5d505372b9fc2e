//! The Closebook engine: everything but windows and buttons.
//!
//! The CLI (`closebook`), the desktop shell and the tests all call this API; none of it
//! depends on a UI toolkit. See ARCHITECTURE.md for the map.

pub mod audit;
pub mod demo;
pub mod error;
pub mod generate;
pub mod ingest;
pub mod ledger;
pub mod money;
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

    /// The operating-system user, for actions not done as a roster person.
    pub fn os_user(now: Timestamp) -> OpContext {
        let user = std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .or_else(|_| std::env::var("USERNAME"))
            .unwrap_or_else(|_| "unknown".to_string());
        OpContext {
            actor: format!("os:{user}"),
            now,
        }
    }
}
