-- Migration 1: workspace metadata, declared units, the import log, the ledger mirror, cursors.

CREATE TABLE workspace_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE units (
    code        TEXT PRIMARY KEY,
    exponent    INTEGER NOT NULL CHECK (exponent BETWEEN 0 AND 18),
    description TEXT NOT NULL DEFAULT '',
    declared_at INTEGER NOT NULL
) STRICT;

CREATE TABLE imports (
    id             INTEGER PRIMARY KEY,
    kind           TEXT NOT NULL,
    source         TEXT NOT NULL,
    content_sha256 TEXT,
    rows_read      INTEGER NOT NULL,
    rows_added     INTEGER NOT NULL,
    rows_updated   INTEGER NOT NULL,
    at             INTEGER NOT NULL,
    actor          TEXT NOT NULL
) STRICT;

-- One row per posting of the platform's wallet_ledger (origin 'mirror'), or of an entry
-- Closebook itself books (origin 'closebook'). Never updated, never deleted.
CREATE TABLE ledger_postings (
    seq              INTEGER PRIMARY KEY,
    posting_key      TEXT NOT NULL UNIQUE,
    platform_id      INTEGER UNIQUE,
    entry_id         TEXT NOT NULL,
    account          TEXT NOT NULL,
    amount_minor     INTEGER NOT NULL,
    currency         TEXT NOT NULL,
    entry_type       TEXT NOT NULL,
    stripe_object_id TEXT,
    event_id         TEXT,
    idempotency_key  TEXT,
    livemode         INTEGER NOT NULL CHECK (livemode IN (0, 1)),
    created_at       INTEGER NOT NULL,
    description      TEXT,
    origin           TEXT NOT NULL CHECK (origin IN ('mirror', 'closebook')),
    import_id        INTEGER REFERENCES imports(id)
) STRICT;
CREATE INDEX ledger_postings_account_time ON ledger_postings (account, created_at);
CREATE INDEX ledger_postings_time ON ledger_postings (created_at);
CREATE INDEX ledger_postings_entry ON ledger_postings (entry_id);
CREATE INDEX ledger_postings_stripe_object ON ledger_postings (stripe_object_id)
    WHERE stripe_object_id IS NOT NULL;
CREATE TRIGGER ledger_postings_immutable BEFORE UPDATE ON ledger_postings
    BEGIN SELECT RAISE(ABORT, 'ledger postings are immutable: book a correction instead'); END;
CREATE TRIGGER ledger_postings_no_delete BEFORE DELETE ON ledger_postings
    BEGIN SELECT RAISE(ABORT, 'ledger postings are immutable: book a correction instead'); END;

-- Incremental-sync positions (PostgreSQL pull now, the Stripe mirror later), written in
-- the same transaction as the rows they cover.
CREATE TABLE sync_cursors (
    source     TEXT NOT NULL,
    stream     TEXT NOT NULL,
    position   TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (source, stream)
) STRICT;
