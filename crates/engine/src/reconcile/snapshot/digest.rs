//! A snapshot's digest: every row read from both sides, in order, each field length-prefixed.

use jiff::civil::Date;
use sha2::{Digest, Sha256};

use crate::reconcile::rules::MatchRules;

/// Digest of everything a snapshot read. Rows arrive in an order defined by their data (the
/// covering indexes' key order), so each side is one running SHA-256 over its rows' fields,
/// each field length-prefixed.
pub(super) struct Digester {
    pub(super) stripe: Sha256,
    pub(super) ledger: Sha256,
    pub(super) lookups: Sha256,
}

pub(super) fn feed(h: &mut Sha256, fields: &[&[u8]]) {
    for f in fields {
        h.update((f.len() as u32).to_be_bytes());
        h.update(f);
    }
}

impl Digester {
    pub(super) fn finish(
        self,
        day: Date,
        tz: &str,
        rules: &MatchRules,
        map: &crate::accounts::RoleMap,
        rows: (u64, u64),
    ) -> String {
        let mut h = Sha256::new();
        h.update(b"closebook.reconcile.v1\0");
        // Which accounts were read as Stripe money: part of what was proven. The default
        // map adds nothing, so digests from before account maps existed stay comparable.
        if !map.is_default() {
            feed(&mut h, &[b"accounts", map.stripe_sql().as_bytes()]);
        }
        feed(
            &mut h,
            &[
                day.to_string().as_bytes(),
                tz.as_bytes(),
                rules.to_json().as_bytes(),
                &rows.0.to_be_bytes(),
                &self.stripe.finalize(),
                &rows.1.to_be_bytes(),
                &self.ledger.finalize(),
                &self.lookups.finalize(),
            ],
        );
        hex::encode(h.finalize())
    }
}
