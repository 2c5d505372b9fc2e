-- Migration 10: the signed roster. Each record vouches for one person (name, role, public key) and
-- is signed by an admin vouched for earlier, the first by an admin for themselves; each
-- holds the hash of the one before. Rows of `people` without a record (added before this
-- migration, or written by hand) are listed as not vouched for and act on nothing.

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
