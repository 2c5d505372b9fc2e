-- Migration 6: month-end payout batches. The roster (public keys only; private keys live in each
-- person's keychain); a batch with the month it locked (allocations, balances, what the
-- ledger owed each creator, their accounts' eligibility, pending withdrawals), its lines,
-- signed approvals and rejections, and each line's execution (idempotency key written
-- before the request is sent). Locked inputs, lines and decisions never change
-- (triggers); a batch's state and a line's execution move forward only.

CREATE TABLE people (
    name       TEXT PRIMARY KEY,
    role       TEXT NOT NULL CHECK (role IN ('preparer', 'approver', 'auditor', 'admin')),
    public_key TEXT NOT NULL UNIQUE,
    added_at   INTEGER NOT NULL,
    added_by   TEXT NOT NULL
) STRICT;

CREATE TABLE payout_batches (
    id                  TEXT PRIMARY KEY,
    month               TEXT NOT NULL,
    version             INTEGER NOT NULL,
    currency            TEXT NOT NULL,
    state               TEXT NOT NULL CHECK (state IN ('draft', 'approved', 'executing', 'done', 'rejected', 'superseded')),
    params              TEXT NOT NULL,
    inputs_digest       TEXT NOT NULL,
    digest              TEXT NOT NULL,
    totals              TEXT NOT NULL,
    prepared_by         TEXT NOT NULL,
    prepared_at         INTEGER NOT NULL,
    preparer_signature  TEXT NOT NULL,
    state_changed_at    INTEGER NOT NULL,
    -- The last import when the month was locked: rows written by later imports are
    -- the only ones that can have drifted from the lock.
    lock_import         INTEGER NOT NULL,
    UNIQUE (month, version)
) STRICT;
CREATE INDEX payout_batches_month ON payout_batches (month, version);
CREATE INDEX platform_allocations_import ON platform_allocations (import_id);
CREATE INDEX platform_balances_import ON platform_balances (import_id);

CREATE TABLE payout_locked_allocations (
    batch_id   TEXT NOT NULL REFERENCES payout_batches(id),
    id         TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    page_id    TEXT NOT NULL,
    author_id  TEXT NOT NULL,
    amount     INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (batch_id, id)
) STRICT, WITHOUT ROWID;

CREATE TABLE payout_locked_balances (
    batch_id   TEXT NOT NULL REFERENCES payout_batches(id),
    user_id    TEXT NOT NULL,
    total      INTEGER NOT NULL,
    allocated  INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (batch_id, user_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE payout_locked_creators (
    batch_id    TEXT NOT NULL REFERENCES payout_batches(id),
    creator     TEXT NOT NULL,
    carried_in  INTEGER NOT NULL,
    destination TEXT,
    eligibility TEXT NOT NULL,
    PRIMARY KEY (batch_id, creator)
) STRICT, WITHOUT ROWID;

CREATE TABLE payout_locked_withdrawals (
    batch_id     TEXT NOT NULL REFERENCES payout_batches(id),
    ordinal      INTEGER NOT NULL,
    id           TEXT NOT NULL,
    creator      TEXT NOT NULL,
    amount       INTEGER NOT NULL,
    currency     TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    PRIMARY KEY (batch_id, ordinal)
) STRICT, WITHOUT ROWID;

CREATE TABLE payout_lines (
    batch_id    TEXT NOT NULL REFERENCES payout_batches(id),
    line_no     INTEGER NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('earnings', 'withdrawal')),
    creator     TEXT NOT NULL,
    reference   TEXT,
    destination TEXT,
    gross       INTEGER NOT NULL,
    fee         INTEGER NOT NULL,
    net         INTEGER NOT NULL,
    carried_in  INTEGER NOT NULL,
    withdrawn   INTEGER NOT NULL,
    requested   INTEGER NOT NULL,
    payable     INTEGER NOT NULL,
    allocations INTEGER NOT NULL,
    held        TEXT,
    PRIMARY KEY (batch_id, line_no)
) STRICT, WITHOUT ROWID;
CREATE INDEX payout_lines_creator ON payout_lines (creator, batch_id);
CREATE INDEX payout_lines_reference ON payout_lines (reference) WHERE reference IS NOT NULL;

CREATE TABLE payout_decisions (
    id           INTEGER PRIMARY KEY,
    batch_id     TEXT NOT NULL REFERENCES payout_batches(id),
    batch_digest TEXT NOT NULL,
    person       TEXT NOT NULL,
    public_key   TEXT NOT NULL,
    decision     TEXT NOT NULL CHECK (decision IN ('approve', 'reject')),
    reason       TEXT,
    signed_at    INTEGER NOT NULL,
    nonce        TEXT NOT NULL UNIQUE,
    signature    TEXT NOT NULL,
    recorded_at  INTEGER NOT NULL,
    via          TEXT NOT NULL CHECK (via IN ('here', 'file'))
) STRICT;
CREATE INDEX payout_decisions_batch ON payout_decisions (batch_id);

CREATE TABLE payout_executions (
    batch_id        TEXT NOT NULL REFERENCES payout_batches(id),
    line_no         INTEGER NOT NULL,
    generation      INTEGER NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'paid', 'failed')),
    transfer_id     TEXT,
    failure         TEXT,
    first_sent_at   INTEGER NOT NULL,
    finished_at     INTEGER,
    PRIMARY KEY (batch_id, line_no)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER payout_batches_no_delete BEFORE DELETE ON payout_batches
    BEGIN SELECT RAISE(ABORT, 'payout batches are history'); END;
-- A batch's row is written in two steps inside `prepare`'s transaction (its locked rows
-- refer to it, and its digest covers them): the digest fields are filled once, from
-- empty. After that only the state moves, forward.
CREATE TRIGGER payout_batches_frozen BEFORE UPDATE ON payout_batches
    WHEN NEW.id IS NOT OLD.id OR NEW.month IS NOT OLD.month OR NEW.version IS NOT OLD.version
      OR NEW.currency IS NOT OLD.currency OR NEW.prepared_by IS NOT OLD.prepared_by
      OR NEW.prepared_at IS NOT OLD.prepared_at OR NEW.lock_import IS NOT OLD.lock_import
      OR (OLD.digest != '' AND (NEW.params IS NOT OLD.params
          OR NEW.inputs_digest IS NOT OLD.inputs_digest OR NEW.digest IS NOT OLD.digest
          OR NEW.totals IS NOT OLD.totals OR NEW.preparer_signature IS NOT OLD.preparer_signature))
      OR OLD.state IN ('done', 'rejected', 'superseded')
    BEGIN SELECT RAISE(ABORT, 'a payout batch changes only its state, and only forward'); END;
CREATE TRIGGER payout_locked_allocations_frozen BEFORE UPDATE ON payout_locked_allocations
    BEGIN SELECT RAISE(ABORT, 'a locked month never changes'); END;
CREATE TRIGGER payout_locked_allocations_kept BEFORE DELETE ON payout_locked_allocations
    BEGIN SELECT RAISE(ABORT, 'a locked month never changes'); END;
CREATE TRIGGER payout_locked_balances_frozen BEFORE UPDATE ON payout_locked_balances
    BEGIN SELECT RAISE(ABORT, 'a locked month never changes'); END;
CREATE TRIGGER payout_locked_balances_kept BEFORE DELETE ON payout_locked_balances
    BEGIN SELECT RAISE(ABORT, 'a locked month never changes'); END;
CREATE TRIGGER payout_locked_creators_frozen BEFORE UPDATE ON payout_locked_creators
    BEGIN SELECT RAISE(ABORT, 'a locked month never changes'); END;
CREATE TRIGGER payout_locked_creators_kept BEFORE DELETE ON payout_locked_creators
    BEGIN SELECT RAISE(ABORT, 'a locked month never changes'); END;
CREATE TRIGGER payout_locked_withdrawals_frozen BEFORE UPDATE ON payout_locked_withdrawals
    BEGIN SELECT RAISE(ABORT, 'a locked month never changes'); END;
CREATE TRIGGER payout_locked_withdrawals_kept BEFORE DELETE ON payout_locked_withdrawals
    BEGIN SELECT RAISE(ABORT, 'a locked month never changes'); END;
CREATE TRIGGER payout_lines_frozen BEFORE UPDATE ON payout_lines
    BEGIN SELECT RAISE(ABORT, 'payout lines never change: prepare the month again'); END;
CREATE TRIGGER payout_lines_kept BEFORE DELETE ON payout_lines
    BEGIN SELECT RAISE(ABORT, 'payout lines never change: prepare the month again'); END;
CREATE TRIGGER payout_decisions_frozen BEFORE UPDATE ON payout_decisions
    BEGIN SELECT RAISE(ABORT, 'approvals and rejections are append-only'); END;
CREATE TRIGGER payout_decisions_kept BEFORE DELETE ON payout_decisions
    BEGIN SELECT RAISE(ABORT, 'approvals and rejections are append-only'); END;
CREATE TRIGGER payout_executions_kept BEFORE DELETE ON payout_executions
    BEGIN SELECT RAISE(ABORT, 'execution records are history'); END;
CREATE TRIGGER payout_executions_forward BEFORE UPDATE ON payout_executions
    WHEN OLD.state = 'paid' OR NEW.batch_id IS NOT OLD.batch_id OR NEW.line_no IS NOT OLD.line_no
    BEGIN SELECT RAISE(ABORT, 'a paid line stays paid'); END;
