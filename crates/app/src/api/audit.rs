//! The audit log: its records, and the one check of everything kept (the chain and the
//! ledger's kept totals).

use closebook_engine::audit::{self, AuditFilter, AuditRecord, Verification};
use closebook_engine::ledger::{self, LedgerError, TotalsProof};
use closebook_engine::workspace::Workspace;

use super::Result;

/// What verifying found. A broken chain or kept totals that disagree with the postings is a
/// failed verification — the CLI exits 1 with its code, the desktop shows it in red — and is
/// a result here, not an error: only failing to read is an error.
#[derive(Debug)]
pub struct Checked {
    pub chain: Verification,
    /// The kept totals proven from the postings, or what differs.
    pub totals: std::result::Result<TotalsProof, String>,
}

impl Checked {
    pub fn intact(&self) -> bool {
        self.chain.intact() && self.totals.is_ok()
    }
}

pub fn verify(ws: &Workspace) -> Result<Checked> {
    let chain = audit::verify(ws.connection())?;
    let totals = match ledger::prove_totals(ws) {
        Ok(p) => Ok(p),
        Err(LedgerError::Invariant(problem)) => Err(problem),
        Err(e) => return Err(e.into()),
    };
    Ok(Checked { chain, totals })
}

pub fn log(ws: &Workspace, filter: &AuditFilter) -> Result<Vec<AuditRecord>> {
    Ok(audit::list(ws.connection(), filter)?)
}
