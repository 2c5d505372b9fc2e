-- Migration 7: the ledger's totals, kept as postings are written (in the same transaction, by
-- the one function every insert of a posting goes through: `ledger::TotalsDelta`).
-- Balances, the trial balance, the account tree and the workspace summary read these
-- few thousand rows instead of summing a million postings on every request;
-- `ledger::prove_totals` sums the postings again and compares (`closebook audit
-- verify`, every auditor's trial balance export). STRICT: a balance that would leave
-- 64 bits becomes a REAL in SQLite's arithmetic and is refused, never stored.

CREATE TABLE ledger_account_totals (
    account       TEXT NOT NULL,
    currency      TEXT NOT NULL,
    balance_minor INTEGER NOT NULL,
    postings      INTEGER NOT NULL CHECK (postings > 0),
    PRIMARY KEY (account, currency)
) STRICT, WITHOUT ROWID;
CREATE TABLE ledger_type_totals (
    entry_type TEXT PRIMARY KEY,
    postings   INTEGER NOT NULL CHECK (postings > 0)
) STRICT, WITHOUT ROWID;
CREATE TABLE ledger_counts (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    entries INTEGER NOT NULL CHECK (entries >= 0)
) STRICT;
INSERT INTO ledger_account_totals (account, currency, balance_minor, postings)
    SELECT account, currency, sum(amount_minor), count(*) FROM ledger_postings
    GROUP BY account, currency;
INSERT INTO ledger_type_totals (entry_type, postings)
    SELECT entry_type, count(*) FROM ledger_postings GROUP BY entry_type;
INSERT INTO ledger_counts (id, entries)
    VALUES (1, (SELECT count(DISTINCT entry_id) FROM ledger_postings));
