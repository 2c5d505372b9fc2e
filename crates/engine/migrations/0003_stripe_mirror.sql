-- Migration 3: the Stripe mirror: every object as Stripe sent it, balance transactions typed for
-- reconciliation, the live balance at each sync, sync runs with their resumable windows,
-- and coverage of creator obligations recorded at each sync.

CREATE TABLE stripe_objects (
    object_type  TEXT NOT NULL,
    id           TEXT NOT NULL,
    created      INTEGER NOT NULL,
    livemode     INTEGER NOT NULL CHECK (livemode IN (0, 1)),
    status       TEXT,
    raw          TEXT NOT NULL,
    raw_sha256   TEXT NOT NULL,
    first_seen   INTEGER NOT NULL,
    last_changed INTEGER NOT NULL,
    sync_run     INTEGER NOT NULL,
    PRIMARY KEY (object_type, id)
) STRICT;
CREATE INDEX stripe_objects_created ON stripe_objects (object_type, created);

CREATE TABLE stripe_balance_transactions (
    id                 TEXT PRIMARY KEY,
    type               TEXT NOT NULL,
    reporting_category TEXT NOT NULL,
    source             TEXT,
    amount             INTEGER NOT NULL,
    fee                INTEGER NOT NULL,
    net                INTEGER NOT NULL,
    currency           TEXT NOT NULL,
    status             TEXT NOT NULL,
    created            INTEGER NOT NULL,
    available_on       INTEGER NOT NULL,
    description        TEXT,
    fee_details        TEXT NOT NULL
) STRICT;
CREATE INDEX stripe_bt_created ON stripe_balance_transactions (created);
CREATE INDEX stripe_bt_source ON stripe_balance_transactions (source) WHERE source IS NOT NULL;

-- Which payout settled each balance transaction (listed per payout with `payout=`).
CREATE TABLE stripe_payout_links (
    balance_transaction TEXT PRIMARY KEY,
    payout              TEXT NOT NULL
) STRICT;
CREATE INDEX stripe_payout_links_payout ON stripe_payout_links (payout);

CREATE TABLE stripe_sync_runs (
    id              INTEGER PRIMARY KEY,
    started_at      INTEGER NOT NULL,
    finished_at     INTEGER,
    outcome         TEXT NOT NULL CHECK (outcome IN ('running', 'ok', 'failed', 'cancelled')),
    message         TEXT,
    api_base        TEXT NOT NULL,
    requests        INTEGER NOT NULL DEFAULT 0,
    retries         INTEGER NOT NULL DEFAULT 0,
    pages           INTEGER NOT NULL DEFAULT 0,
    objects_added   INTEGER NOT NULL DEFAULT 0,
    objects_changed INTEGER NOT NULL DEFAULT 0,
    actor           TEXT NOT NULL
) STRICT;

-- The plan of a run: each object type's created-window with its cursor, written in the
-- same transaction as the page it covers. An interrupted run resumes from here.
CREATE TABLE stripe_sync_windows (
    run_id       INTEGER NOT NULL REFERENCES stripe_sync_runs(id),
    object_type  TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    window_end   INTEGER NOT NULL,
    cursor       TEXT,
    done         INTEGER NOT NULL DEFAULT 0 CHECK (done IN (0, 1)),
    pages        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, object_type, window_start)
) STRICT;

CREATE TABLE stripe_balances (
    run_id            INTEGER NOT NULL REFERENCES stripe_sync_runs(id),
    fetched_at        INTEGER NOT NULL,
    currency          TEXT NOT NULL,
    available         INTEGER NOT NULL,
    pending           INTEGER NOT NULL,
    connect_reserved  INTEGER,
    instant_available INTEGER,
    PRIMARY KEY (run_id, currency)
) STRICT;

CREATE TABLE coverage_history (
    run_id        INTEGER NOT NULL REFERENCES stripe_sync_runs(id),
    at            INTEGER NOT NULL,
    currency      TEXT NOT NULL,
    available     INTEGER NOT NULL,
    obligations   INTEGER NOT NULL,
    ledger_owed   INTEGER NOT NULL,
    open_month    INTEGER NOT NULL,
    ratio_bps     INTEGER,
    risk          TEXT NOT NULL CHECK (risk IN ('low', 'medium', 'high')),
    PRIMARY KEY (run_id, currency)
) STRICT;
