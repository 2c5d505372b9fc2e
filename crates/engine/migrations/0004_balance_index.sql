-- Migration 4: balances without touching the table. Balance, trial-balance and account-tree
-- queries (`GROUP BY account, currency` up to an instant) read only this index: a
-- million postings sum in a fraction of a second instead of one random table read per
-- posting. It also serves the account filters of the entries list, as the index it
-- replaces did.

DROP INDEX ledger_postings_account_time;
CREATE INDEX ledger_postings_account_time ON ledger_postings (account, created_at, currency, amount_minor);
