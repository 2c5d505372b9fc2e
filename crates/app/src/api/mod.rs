//! The product API: every user-visible operation as one plain function over an open
//! workspace, called alike by the CLI (`src/`, which parses arguments and renders text or
//! `--json`) and by the desktop's commands (`App`, which converts results to transport
//! types). A function here assembles an operation — who acts (their key proven), which
//! settings apply, what the engine is asked, in which order — so that no front end does it
//! a second time. Results are the engine's types; errors are the engine's `Error`, which each
//! front end turns into its own `{code, message}`.

pub mod accounts;
pub mod audit;
pub mod demo;
pub mod identity;
pub mod import;
pub mod ledger;
pub mod payouts;
pub mod people;
pub mod pull;
pub mod reconcile;
pub mod reports;
pub mod stripe;
pub mod workspace;

use closebook_engine::Error;

pub type Result<T> = std::result::Result<T, Error>;
