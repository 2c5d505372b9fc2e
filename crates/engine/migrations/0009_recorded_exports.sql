-- Migration 9: each export's whole manifest hash, in a field of its own beside the audit record
-- that names it, so that `verify-export` compares hashes exactly (never a prefix found
-- in a record's text, where a folder's name is). Append-only, as the log.

CREATE TABLE recorded_exports (
    audit_seq       INTEGER PRIMARY KEY REFERENCES audit_log(seq),
    manifest_sha256 TEXT NOT NULL CHECK (length(manifest_sha256) = 64)
) STRICT;
CREATE INDEX recorded_exports_manifest ON recorded_exports (manifest_sha256);
CREATE TRIGGER recorded_exports_no_update BEFORE UPDATE ON recorded_exports
    BEGIN SELECT RAISE(ABORT, 'recorded exports are append-only'); END;
CREATE TRIGGER recorded_exports_no_delete BEFORE DELETE ON recorded_exports
    BEGIN SELECT RAISE(ABORT, 'recorded exports are append-only'); END;
