//! Versioned, forward-only schema migrations, applied when a workspace is opened.
//!
//! `PRAGMA user_version` holds the number of migrations applied. Migrations are never
//! edited once released: a change is a new migration appended to [`MIGRATIONS`].
//! Times are `INTEGER` microseconds since the Unix epoch, UTC; amounts `INTEGER` minor units.

/// Migration `i` takes a database from version `i` to version `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // 1: workspace metadata, declared units, the import log, the ledger mirror, cursors.
    r#"
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
    "#,
    // 2: the platform's other tables (seeds 002 and 004), id holes of the PostgreSQL pull,
    // and the append-only, hash-chained audit log.
    r#"
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
    "#,
    // 3: the Stripe mirror: every object as Stripe sent it, balance transactions typed for
    // reconciliation, the live balance at each sync, sync runs with their resumable windows,
    // and coverage of creator obligations recorded at each sync.
    r#"
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
    "#,
    // 4: balances without touching the table. Balance, trial-balance and account-tree
    // queries (`GROUP BY account, currency` up to an instant) read only this index: a
    // million postings sum in a fraction of a second instead of one random table read per
    // posting. It also serves the account filters of the entries list, as the index it
    // replaces did.
    r#"
    DROP INDEX ledger_postings_account_time;
    CREATE INDEX ledger_postings_account_time ON ledger_postings (account, created_at, currency, amount_minor);
    "#,
    // 5: daily reconciliation. Snapshots and what they found are immutable history
    // (triggers refuse UPDATE and DELETE); exceptions keep one identity across snapshots so
    // that a resolution, itself append-only, carries to every later snapshot. Changes to
    // mirrored Stripe rows dated on or before a reconciled day are recorded when a sync
    // detects them. Events are indexed by the object they announce.
    r#"
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
    "#,
    // 6: month-end payout batches. The roster (public keys only; private keys live in each
    // person's keychain); a batch with the month it locked (allocations, balances, what the
    // ledger owed each creator, their accounts' eligibility, pending withdrawals), its lines,
    // signed approvals and rejections, and each line's execution (idempotency key written
    // before the request is sent). Locked inputs, lines and decisions never change
    // (triggers); a batch's state and a line's execution move forward only.
    r#"
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
    "#,
    // 7: the ledger's totals, kept as postings are written (in the same transaction, by
    // the one function every insert of a posting goes through: `ledger::TotalsDelta`).
    // Balances, the trial balance, the account tree and the workspace summary read these
    // few thousand rows instead of summing a million postings on every request;
    // `ledger::prove_totals` sums the postings again and compares (`closebook audit
    // verify`, every auditor's trial balance export). STRICT: a balance that would leave
    // 64 bits becomes a REAL in SQLite's arithmetic and is refused, never stored.
    r#"
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
    "#,
    // 8: events by time with their type and object, for missed webhooks and the webhook
    // health view: a covering index, so that comparing every event Stripe sent with the
    // platform's webhook table never reads an event's JSON.
    r#"
    ALTER TABLE stripe_objects ADD COLUMN event_type TEXT
        GENERATED ALWAYS AS (CASE WHEN object_type = 'event' THEN json_extract(raw, '$.type') END) VIRTUAL;
    CREATE INDEX stripe_events_by_time ON stripe_objects (created, id, event_type, event_object)
        WHERE object_type = 'event';
    "#,
    // 9: each export's whole manifest hash, in a field of its own beside the audit record
    // that names it, so that `verify-export` compares hashes exactly (never a prefix found
    // in a record's text, where a folder's name is). Append-only, as the log.
    r#"
    CREATE TABLE recorded_exports (
        audit_seq       INTEGER PRIMARY KEY REFERENCES audit_log(seq),
        manifest_sha256 TEXT NOT NULL CHECK (length(manifest_sha256) = 64)
    ) STRICT;
    CREATE INDEX recorded_exports_manifest ON recorded_exports (manifest_sha256);
    CREATE TRIGGER recorded_exports_no_update BEFORE UPDATE ON recorded_exports
        BEGIN SELECT RAISE(ABORT, 'recorded exports are append-only'); END;
    CREATE TRIGGER recorded_exports_no_delete BEFORE DELETE ON recorded_exports
        BEGIN SELECT RAISE(ABORT, 'recorded exports are append-only'); END;
    "#,
    // 10: the signed roster. Each record vouches for one person (name, role, public key) and
    // is signed by an admin vouched for earlier, the first by an admin for themselves; each
    // holds the hash of the one before. Rows of `people` without a record (added before this
    // migration, or written by hand) are listed as not vouched for and act on nothing.
    r#"
    CREATE TABLE roster_records (
        seq        INTEGER PRIMARY KEY,
        kind       TEXT NOT NULL,
        name       TEXT NOT NULL,
        role       TEXT NOT NULL,
        public_key TEXT NOT NULL,
        at         INTEGER NOT NULL,
        signed_by  TEXT NOT NULL,
        prev       TEXT NOT NULL,
        signature  TEXT NOT NULL,
        hash       TEXT NOT NULL UNIQUE
    ) STRICT;
    CREATE TRIGGER roster_records_no_update BEFORE UPDATE ON roster_records
        BEGIN SELECT RAISE(ABORT, 'roster records are append-only'); END;
    CREATE TRIGGER roster_records_no_delete BEFORE DELETE ON roster_records
        BEGIN SELECT RAISE(ABORT, 'roster records are append-only'); END;
    "#,
];

pub const LATEST_VERSION: u32 = MIGRATIONS.len() as u32;
