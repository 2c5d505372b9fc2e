-- Migration 5: daily reconciliation. Snapshots and what they found are immutable history
-- (triggers refuse UPDATE and DELETE); exceptions keep one identity across snapshots so
-- that a resolution, itself append-only, carries to every later snapshot. Changes to
-- mirrored Stripe rows dated on or before a reconciled day are recorded when a sync
-- detects them. Events are indexed by the object they announce.

ALTER TABLE stripe_objects ADD COLUMN event_object TEXT
    GENERATED ALWAYS AS (CASE WHEN object_type = 'event' THEN json_extract(raw, '$.data.object.id') END) VIRTUAL;
CREATE INDEX stripe_objects_event_object ON stripe_objects (event_object) WHERE event_object IS NOT NULL;

-- What a snapshot reads, and only that: both sides come from these covering indexes in
-- a defined order, never from the wider tables (every page read is a page decrypted).
CREATE INDEX stripe_bt_reconcile ON stripe_balance_transactions
    (created, id, source, type, amount, fee, net, currency, available_on);
CREATE INDEX ledger_postings_reconcile ON ledger_postings
    (created_at, stripe_object_id, entry_id, entry_type, amount_minor, currency, origin, account)
    WHERE account >= 'assets:stripe' AND account < 'assets:stripe;';

CREATE TABLE recon_snapshots (
    id             INTEGER PRIMARY KEY,
    day            TEXT NOT NULL,
    version        INTEGER NOT NULL,
    computed_at    INTEGER NOT NULL,
    actor          TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('balanced', 'explained', 'unexplained')),
    rules          TEXT NOT NULL,
    digest         TEXT NOT NULL,
    stripe_rows    INTEGER NOT NULL,
    ledger_rows    INTEGER NOT NULL,
    matched        INTEGER NOT NULL,
    mirror         TEXT NOT NULL,
    UNIQUE (day, version)
) STRICT;

CREATE TABLE recon_snapshot_currencies (
    snapshot_id      INTEGER NOT NULL REFERENCES recon_snapshots(id),
    currency         TEXT NOT NULL,
    stripe_available INTEGER NOT NULL,
    stripe_pending   INTEGER NOT NULL,
    stripe_total     INTEGER NOT NULL,
    ledger           INTEGER NOT NULL,
    difference       INTEGER NOT NULL,
    explained        TEXT NOT NULL,
    remainder        INTEGER NOT NULL,
    matched          INTEGER NOT NULL,
    unmatched_stripe INTEGER NOT NULL,
    unmatched_ledger INTEGER NOT NULL,
    open_exceptions  INTEGER NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('balanced', 'explained', 'unexplained')),
    PRIMARY KEY (snapshot_id, currency)
) STRICT;

CREATE TABLE recon_exceptions (
    id            INTEGER PRIMARY KEY,
    key           TEXT NOT NULL UNIQUE,
    kind          TEXT NOT NULL,
    currency      TEXT NOT NULL,
    stripe_object TEXT,
    first_day     TEXT NOT NULL,
    first_seen    INTEGER NOT NULL
) STRICT;

CREATE TABLE recon_snapshot_exceptions (
    snapshot_id   INTEGER NOT NULL REFERENCES recon_snapshots(id),
    exception_id  INTEGER NOT NULL REFERENCES recon_exceptions(id),
    effect        INTEGER NOT NULL,
    stripe_amount INTEGER,
    ledger_amount INTEGER,
    evidence      TEXT NOT NULL,
    PRIMARY KEY (snapshot_id, exception_id)
) STRICT;
CREATE INDEX recon_snapshot_exceptions_exception ON recon_snapshot_exceptions (exception_id);

CREATE TABLE recon_resolutions (
    id            INTEGER PRIMARY KEY,
    exception_id  INTEGER NOT NULL UNIQUE REFERENCES recon_exceptions(id),
    resolution    TEXT NOT NULL,
    note          TEXT NOT NULL,
    actor         TEXT NOT NULL,
    at            INTEGER NOT NULL,
    adjustment_entry TEXT
) STRICT;

CREATE TABLE recon_sealed_changes (
    id           INTEGER PRIMARY KEY,
    detected_at  INTEGER NOT NULL,
    side         TEXT NOT NULL CHECK (side IN ('stripe', 'ledger')),
    source       TEXT NOT NULL,
    sealed_day   TEXT NOT NULL,
    row_id       TEXT NOT NULL,
    row_created  INTEGER NOT NULL,
    currency     TEXT NOT NULL,
    change       TEXT NOT NULL
) STRICT;

CREATE TRIGGER recon_snapshots_immutable BEFORE UPDATE ON recon_snapshots
    BEGIN SELECT RAISE(ABORT, 'reconciliation snapshots are immutable'); END;
CREATE TRIGGER recon_snapshots_no_delete BEFORE DELETE ON recon_snapshots
    BEGIN SELECT RAISE(ABORT, 'reconciliation snapshots are immutable'); END;
CREATE TRIGGER recon_snapshot_currencies_immutable BEFORE UPDATE ON recon_snapshot_currencies
    BEGIN SELECT RAISE(ABORT, 'reconciliation snapshots are immutable'); END;
CREATE TRIGGER recon_snapshot_currencies_no_delete BEFORE DELETE ON recon_snapshot_currencies
    BEGIN SELECT RAISE(ABORT, 'reconciliation snapshots are immutable'); END;
CREATE TRIGGER recon_snapshot_exceptions_immutable BEFORE UPDATE ON recon_snapshot_exceptions
    BEGIN SELECT RAISE(ABORT, 'reconciliation snapshots are immutable'); END;
CREATE TRIGGER recon_snapshot_exceptions_no_delete BEFORE DELETE ON recon_snapshot_exceptions
    BEGIN SELECT RAISE(ABORT, 'reconciliation snapshots are immutable'); END;
CREATE TRIGGER recon_exceptions_immutable BEFORE UPDATE ON recon_exceptions
    BEGIN SELECT RAISE(ABORT, 'exceptions are immutable: resolve them instead'); END;
CREATE TRIGGER recon_exceptions_no_delete BEFORE DELETE ON recon_exceptions
    BEGIN SELECT RAISE(ABORT, 'exceptions are immutable: resolve them instead'); END;
CREATE TRIGGER recon_resolutions_immutable BEFORE UPDATE ON recon_resolutions
    BEGIN SELECT RAISE(ABORT, 'resolutions are append-only'); END;
CREATE TRIGGER recon_resolutions_no_delete BEFORE DELETE ON recon_resolutions
    BEGIN SELECT RAISE(ABORT, 'resolutions are append-only'); END;
CREATE TRIGGER recon_sealed_changes_immutable BEFORE UPDATE ON recon_sealed_changes
    BEGIN SELECT RAISE(ABORT, 'sealed-day changes are append-only'); END;
CREATE TRIGGER recon_sealed_changes_no_delete BEFORE DELETE ON recon_sealed_changes
    BEGIN SELECT RAISE(ABORT, 'sealed-day changes are append-only'); END;
