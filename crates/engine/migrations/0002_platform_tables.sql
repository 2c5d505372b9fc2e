-- Migration 2: the platform's other tables (seeds 002 and 004), id holes of the PostgreSQL pull,
-- and the append-only, hash-chained audit log.

CREATE TABLE platform_balances (
    user_id             TEXT NOT NULL,
    month               TEXT NOT NULL,
    total_usd_cents     INTEGER NOT NULL CHECK (total_usd_cents >= 0),
    allocated_usd_cents INTEGER NOT NULL CHECK (allocated_usd_cents >= 0),
    updated_at          INTEGER NOT NULL,
    import_id           INTEGER REFERENCES imports(id),
    PRIMARY KEY (user_id, month)
) STRICT;

CREATE TABLE platform_allocations (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL,
    page_id      TEXT NOT NULL,
    author_id    TEXT NOT NULL,
    amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0),
    month        TEXT NOT NULL,
    updated_at   INTEGER NOT NULL,
    import_id    INTEGER REFERENCES imports(id)
) STRICT;
CREATE INDEX platform_allocations_month ON platform_allocations (month, author_id);

CREATE TABLE platform_connected_accounts (
    author_id         TEXT PRIMARY KEY,
    stripe_account_id TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    import_id         INTEGER REFERENCES imports(id)
) STRICT;

CREATE TABLE platform_webhook_events (
    event_id     TEXT PRIMARY KEY,
    type         TEXT NOT NULL,
    status       TEXT NOT NULL,
    received_at  INTEGER NOT NULL,
    processed_at INTEGER,
    error        TEXT,
    import_id    INTEGER REFERENCES imports(id)
) STRICT;

CREATE TABLE platform_withdrawals (
    id                 TEXT PRIMARY KEY,
    user_id            TEXT NOT NULL,
    amount_minor       INTEGER NOT NULL CHECK (amount_minor > 0),
    currency           TEXT NOT NULL,
    status             TEXT NOT NULL,
    requested_at       INTEGER NOT NULL,
    stripe_transfer_id TEXT,
    import_id          INTEGER REFERENCES imports(id)
) STRICT;

-- wallet_ledger ids skipped by the PostgreSQL pull: possibly a transaction still in
-- flight when the pull read past it. Re-checked on later pulls until they expire.
CREATE TABLE pg_id_holes (
    platform_id INTEGER PRIMARY KEY,
    first_seen  INTEGER NOT NULL
) STRICT;

CREATE TABLE audit_log (
    seq            INTEGER PRIMARY KEY,
    at             INTEGER NOT NULL,
    actor          TEXT NOT NULL,
    action         TEXT NOT NULL,
    summary        TEXT NOT NULL,
    payload_sha256 TEXT NOT NULL,
    prev_hash      TEXT NOT NULL,
    hash           TEXT NOT NULL
) STRICT;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
