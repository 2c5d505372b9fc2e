//! The engine's error type and the closed set of codes a UI can act on.
//!
//! Each module has its own `thiserror` enum; this one wraps them and maps each case to an
//! [`ErrorCode`]. The desktop app and `--json` output receive `{code, message}`; nothing
//! downstream parses message text.

use serde::Serialize;

use crate::accounts::AccountsError;
use crate::audit::AuditError;
use crate::identity::IdentityError;
use crate::ingest::ImportError;
use crate::ingest::postgres::PullError;
use crate::ledger::LedgerError;
use crate::money::MoneyError;
use crate::payouts::PayoutError;
use crate::reconcile::ReconcileError;
use crate::reports::ReportError;
use crate::secrets::SecretError;
use crate::stripe::StripeError;
use crate::workspace::WorkspaceError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error(transparent)]
    Pull(#[from] PullError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Money(#[from] MoneyError),
    #[error(transparent)]
    Secrets(#[from] SecretError),
    #[error(transparent)]
    Stripe(#[from] StripeError),
    #[error(transparent)]
    Reconcile(#[from] ReconcileError),
    #[error(transparent)]
    Payouts(#[from] PayoutError),
    #[error(transparent)]
    Reports(#[from] ReportError),
    #[error(transparent)]
    Accounts(#[from] AccountsError),
    #[error(transparent)]
    Audit(#[from] AuditError),
    #[error(transparent)]
    Identity(#[from] IdentityError),
    #[error("invalid input: {0}")]
    InvalidInput(String),
}

/// What went wrong, in a form a program can branch on. Closed: adding a code is an API change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    WorkspaceNotFound,
    WorkspaceExists,
    WorkspaceDamaged,
    KeyMissing,
    KeyWrong,
    KeyFileInsecure,
    KeyExists,
    KeychainUnavailable,
    SchemaTooNew,
    InvalidInput,
    ImportRejected,
    SourceUnreachable,
    SourceFailed,
    LedgerInvariant,
    ModeMismatch,
    StripeKeyMissing,
    StripeKeyInvalid,
    StripeFailed,
    StripeUnavailable,
    AuditBroken,
    NotFound,
    PermissionDenied,
    ApprovalInvalid,
    InvalidState,
    Cancelled,
    Io,
    Internal,
}

impl ErrorCode {
    /// Every code, for generated bindings and documentation.
    pub const ALL: [ErrorCode; 27] = [
        ErrorCode::WorkspaceNotFound,
        ErrorCode::WorkspaceExists,
        ErrorCode::WorkspaceDamaged,
        ErrorCode::KeyMissing,
        ErrorCode::KeyWrong,
        ErrorCode::KeyFileInsecure,
        ErrorCode::KeyExists,
        ErrorCode::KeychainUnavailable,
        ErrorCode::SchemaTooNew,
        ErrorCode::InvalidInput,
        ErrorCode::ImportRejected,
        ErrorCode::SourceUnreachable,
        ErrorCode::SourceFailed,
        ErrorCode::LedgerInvariant,
        ErrorCode::ModeMismatch,
        ErrorCode::StripeKeyMissing,
        ErrorCode::StripeKeyInvalid,
        ErrorCode::StripeFailed,
        ErrorCode::StripeUnavailable,
        ErrorCode::AuditBroken,
        ErrorCode::NotFound,
        ErrorCode::PermissionDenied,
        ErrorCode::ApprovalInvalid,
        ErrorCode::InvalidState,
        ErrorCode::Cancelled,
        ErrorCode::Io,
        ErrorCode::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::WorkspaceNotFound => "workspace_not_found",
            ErrorCode::WorkspaceExists => "workspace_exists",
            ErrorCode::WorkspaceDamaged => "workspace_damaged",
            ErrorCode::KeyMissing => "key_missing",
            ErrorCode::KeyWrong => "key_wrong",
            ErrorCode::KeyFileInsecure => "key_file_insecure",
            ErrorCode::KeyExists => "key_exists",
            ErrorCode::KeychainUnavailable => "keychain_unavailable",
            ErrorCode::SchemaTooNew => "schema_too_new",
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::ImportRejected => "import_rejected",
            ErrorCode::SourceUnreachable => "source_unreachable",
            ErrorCode::SourceFailed => "source_failed",
            ErrorCode::LedgerInvariant => "ledger_invariant",
            ErrorCode::ModeMismatch => "mode_mismatch",
            ErrorCode::StripeKeyMissing => "stripe_key_missing",
            ErrorCode::StripeKeyInvalid => "stripe_key_invalid",
            ErrorCode::StripeFailed => "stripe_failed",
            ErrorCode::StripeUnavailable => "stripe_unavailable",
            ErrorCode::AuditBroken => "audit_broken",
            ErrorCode::NotFound => "not_found",
            ErrorCode::PermissionDenied => "permission_denied",
            ErrorCode::ApprovalInvalid => "approval_invalid",
            ErrorCode::InvalidState => "invalid_state",
            ErrorCode::Cancelled => "cancelled",
            ErrorCode::Io => "io",
            ErrorCode::Internal => "internal",
        }
    }
}

impl Error {
    pub fn code(&self) -> ErrorCode {
        if self.storage_problem().is_some() {
            return ErrorCode::Io;
        }
        use WorkspaceError as W;
        match self {
            Error::Workspace(e) => match e {
                W::Io { .. } | W::ReadOnly { .. } => ErrorCode::Io,
                W::NotAWorkspace { .. } => ErrorCode::WorkspaceNotFound,
                W::AlreadyExists { .. } => ErrorCode::WorkspaceExists,
                W::BadManifest { .. } => ErrorCode::WorkspaceDamaged,
                W::KeyMissing { .. } => ErrorCode::KeyMissing,
                W::WrongKey { .. } | W::KeyMalformed { .. } => ErrorCode::KeyWrong,
                W::KeyExists { .. } => ErrorCode::KeyExists,
                W::KeyFilePermissions { .. } => ErrorCode::KeyFileInsecure,
                W::Secrets(s) => secret_code(s),
                W::NewerSchema { .. } => ErrorCode::SchemaTooNew,
                W::BadTimeZone(_) | W::InvalidSetting(_) => ErrorCode::InvalidInput,
                W::Database(_) => ErrorCode::Internal,
            },
            Error::Import(e) => match e {
                ImportError::Rejected { .. } | ImportError::UnknownFormat { .. } => {
                    ErrorCode::ImportRejected
                }
                ImportError::Io { .. } => ErrorCode::Io,
                ImportError::Cancelled => ErrorCode::Cancelled,
                ImportError::Database(_) => ErrorCode::Internal,
            },
            Error::Pull(e) => match e {
                PullError::BadUrl(_) => ErrorCode::InvalidInput,
                PullError::Connect { .. } => ErrorCode::SourceUnreachable,
                PullError::Query { .. } => ErrorCode::SourceFailed,
                PullError::Rejected { .. } | PullError::Unbalanced(_) => ErrorCode::ImportRejected,
                PullError::Cancelled => ErrorCode::Cancelled,
                PullError::Database(_) => ErrorCode::Internal,
            },
            Error::Ledger(e) => match e {
                LedgerError::Invariant(_) => ErrorCode::LedgerInvariant,
                LedgerError::Database(_) => ErrorCode::Internal,
                LedgerError::Money(_) => ErrorCode::LedgerInvariant,
            },
            Error::Stripe(e) => stripe_code(e),
            Error::Reconcile(e) => reconcile_code(e),
            Error::Payouts(e) => payout_code(e),
            Error::Reports(e) => match e {
                ReportError::BadInput(_) => ErrorCode::InvalidInput,
                ReportError::NotFound(_) => ErrorCode::NotFound,
                ReportError::Cancelled => ErrorCode::Cancelled,
                ReportError::Io { .. } => ErrorCode::Io,
                ReportError::Xlsx(_) | ReportError::Database(_) => ErrorCode::Internal,
                ReportError::Invariant(_) => ErrorCode::LedgerInvariant,
                ReportError::Payouts(p) => payout_code(p),
                ReportError::Reconcile(r) => reconcile_code(r),
                ReportError::Ledger(LedgerError::Database(_)) => ErrorCode::Internal,
                ReportError::Ledger(_) => ErrorCode::LedgerInvariant,
            },
            Error::Accounts(e) => match e {
                AccountsError::BadInput(_) => ErrorCode::InvalidInput,
                AccountsError::Payouts(p) => payout_code(p),
                AccountsError::Database(_) => ErrorCode::Internal,
            },
            Error::Audit(AuditError::Broken { .. }) => ErrorCode::AuditBroken,
            Error::Audit(AuditError::Database(_)) => ErrorCode::Internal,
            Error::Identity(e) => match e {
                IdentityError::BadInput(_) | IdentityError::BadCard(_) => ErrorCode::InvalidInput,
                IdentityError::NotFound(_) => ErrorCode::NotFound,
                IdentityError::Io(..) => ErrorCode::Io,
                IdentityError::Secrets(s) => secret_code(s),
            },
            Error::Money(_) | Error::InvalidInput(_) => ErrorCode::InvalidInput,
            Error::Secrets(s) => secret_code(s),
        }
    }

    /// The transport form: `{code, message}`.
    pub fn to_transport(&self) -> TransportError {
        TransportError {
            code: self.code(),
            message: self.message(),
        }
    }

    /// What to show a person: the error, and when the cause was the disk rather than the
    /// data (full, read-only, failing), that cause and what to do, since "disk I/O error"
    /// inside an import error says neither.
    pub fn message(&self) -> String {
        match self.storage_problem() {
            Some(problem) => format!("{problem} ({self})"),
            None => self.to_string(),
        }
    }

    /// The workspace's storage failed underneath the operation (SQLite's own report, found
    /// in the error's causes).
    fn storage_problem(&self) -> Option<&'static str> {
        use rusqlite::ErrorCode as Sql;
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(self);
        while let Some(e) = cause {
            if let Some(rusqlite::Error::SqliteFailure(f, _)) = e.downcast_ref::<rusqlite::Error>()
            {
                return match f.code {
                    Sql::DiskFull | Sql::SystemIoFailure => Some(
                        "the workspace could not be written: the disk is full or failing, or the file may not grow; free some disk space and try again — nothing was changed",
                    ),
                    Sql::ReadOnly => Some(
                        "the workspace is read-only: give your account write access to its folder — nothing was changed",
                    ),
                    _ => None,
                };
            }
            cause = e.source();
        }
        None
    }
}

fn reconcile_code(e: &ReconcileError) -> ErrorCode {
    match e {
        ReconcileError::Ledger(LedgerError::Database(_)) | ReconcileError::Database(_) => {
            ErrorCode::Internal
        }
        ReconcileError::Ledger(_) | ReconcileError::Money(_) => ErrorCode::LedgerInvariant,
        ReconcileError::BadDay(..) | ReconcileError::Refused(_) => ErrorCode::InvalidInput,
        ReconcileError::Overflow(_) | ReconcileError::Invariant(_) => ErrorCode::LedgerInvariant,
        ReconcileError::NoSnapshot(_) | ReconcileError::NoException(_) => ErrorCode::NotFound,
        ReconcileError::Io(..) => ErrorCode::Io,
    }
}

fn stripe_code(e: &StripeError) -> ErrorCode {
    use StripeError as S;
    match e {
        S::NoKey => ErrorCode::StripeKeyMissing,
        S::MalformedKey => ErrorCode::StripeKeyInvalid,
        S::ModeMismatch { .. } | S::LivemodeMismatch { .. } => ErrorCode::ModeMismatch,
        S::Request { .. } | S::BadObject { .. } | S::Certificate { .. } => ErrorCode::StripeFailed,
        S::GaveUp { .. } => ErrorCode::StripeUnavailable,
        S::BadApiBase(_) | S::CleartextApiBase(_) => ErrorCode::InvalidInput,
        S::Cancelled => ErrorCode::Cancelled,
        S::Secrets(s) => secret_code(s),
        S::Money(_) => ErrorCode::LedgerInvariant,
        S::Runtime(_) | S::Database(_) => ErrorCode::Internal,
    }
}

impl PayoutError {
    /// The code this error reaches a UI with.
    pub fn code(&self) -> ErrorCode {
        payout_code(self)
    }
}

fn payout_code(e: &PayoutError) -> ErrorCode {
    use PayoutError as P;
    match e {
        P::BadInput(_) | P::OverAllocated(_) => ErrorCode::InvalidInput,
        P::NotFound(_) => ErrorCode::NotFound,
        P::Forbidden(_) => ErrorCode::PermissionDenied,
        P::InvalidState(_) => ErrorCode::InvalidState,
        P::ApprovalInvalid(_) => ErrorCode::ApprovalInvalid,
        P::Integrity(_) | P::Overflow => ErrorCode::LedgerInvariant,
        P::Cancelled => ErrorCode::Cancelled,
        P::Io(..) => ErrorCode::Io,
        P::Stripe(s) => stripe_code(s),
        P::Secrets(s) => secret_code(s),
        P::Ledger(LedgerError::Database(_)) | P::Database(_) => ErrorCode::Internal,
        P::Ledger(_) => ErrorCode::LedgerInvariant,
    }
}

fn secret_code(e: &SecretError) -> ErrorCode {
    match e {
        SecretError::Unavailable { .. } | SecretError::Access { .. } => {
            ErrorCode::KeychainUnavailable
        }
        SecretError::BadEncoding { .. } => ErrorCode::KeyWrong,
    }
}

/// What crosses a process or IPC boundary.
#[derive(Debug, Clone, Serialize)]
pub struct TransportError {
    pub code: ErrorCode,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn all_lists_every_code_once_with_its_serde_name() {
        let mut names: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        for c in ErrorCode::ALL {
            // as_str and the serialized form never drift apart.
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
            // A new variant breaks this match, reminding whoever adds it to list it in ALL.
            match c {
                ErrorCode::WorkspaceNotFound
                | ErrorCode::WorkspaceExists
                | ErrorCode::WorkspaceDamaged
                | ErrorCode::KeyMissing
                | ErrorCode::KeyWrong
                | ErrorCode::KeyFileInsecure
                | ErrorCode::KeyExists
                | ErrorCode::KeychainUnavailable
                | ErrorCode::SchemaTooNew
                | ErrorCode::InvalidInput
                | ErrorCode::ImportRejected
                | ErrorCode::SourceUnreachable
                | ErrorCode::SourceFailed
                | ErrorCode::LedgerInvariant
                | ErrorCode::ModeMismatch
                | ErrorCode::StripeKeyMissing
                | ErrorCode::StripeKeyInvalid
                | ErrorCode::StripeFailed
                | ErrorCode::StripeUnavailable
                | ErrorCode::AuditBroken
                | ErrorCode::NotFound
                | ErrorCode::PermissionDenied
                | ErrorCode::ApprovalInvalid
                | ErrorCode::InvalidState
                | ErrorCode::Cancelled
                | ErrorCode::Io
                | ErrorCode::Internal => {}
            }
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ErrorCode::ALL.len());
    }
}
