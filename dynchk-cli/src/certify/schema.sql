-- Results database of `dynchk certify` (DIR/results.sqlite). Version 2 (PRAGMA user_version).
-- A new version adds tables or columns and a migration step in db.rs; nothing is renamed.
-- entry.result holds the whole entry as results.json writes it, so a report can always be
-- rendered again from the database alone; the other tables are the same facts, for queries.

CREATE TABLE run (
    id             TEXT PRIMARY KEY,
    started        TEXT NOT NULL,     -- RFC 3339, UTC
    host           TEXT NOT NULL,
    dynchk_version TEXT NOT NULL,
    spec_hash      TEXT NOT NULL,     -- of libdynchk.so's interposed interfaces
    matrix         TEXT NOT NULL,     -- the matrix file as given
    matrix_hash    TEXT NOT NULL,     -- of its bytes: shards of one matrix share it
    shard          TEXT,              -- "I/N", NULL for a whole run (or a merge)
    entries        INTEGER NOT NULL,  -- entries of the matrix this run selected
    min_severity   TEXT NOT NULL      -- error | portability: less severe violations left out
);

CREATE TABLE entry (
    run_id         TEXT NOT NULL REFERENCES run(id),
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL,     -- app | service
    verdict        TEXT NOT NULL,
    reason         TEXT NOT NULL,
    plain_status   INTEGER,
    plain_wall_s   REAL,
    checked_status INTEGER,
    checked_wall_s REAL,
    ratio          REAL,
    diff           TEXT,
    processes      INTEGER NOT NULL,
    with_summary   INTEGER NOT NULL,
    result         TEXT NOT NULL,     -- the entry as JSON (results.json's shape)
    PRIMARY KEY (run_id, name)
);

CREATE TABLE process (
    run_id      TEXT NOT NULL,
    entry       TEXT NOT NULL,
    pid         INTEGER NOT NULL,
    ppid        INTEGER,
    command     TEXT,
    summary     INTEGER NOT NULL,     -- 0: no summary (killed, crashed, still running)
    calls       INTEGER NOT NULL,
    violations  INTEGER NOT NULL
);

CREATE TABLE violation (
    run_id      TEXT NOT NULL,
    entry       TEXT NOT NULL,
    interface   TEXT NOT NULL,
    param       INTEGER NOT NULL,
    check_name  TEXT NOT NULL,
    member      TEXT,
    count       INTEGER NOT NULL,
    first_site  TEXT NOT NULL,
    module      TEXT NOT NULL,
    process     TEXT NOT NULL,
    in_scope    INTEGER NOT NULL,
    severity    TEXT NOT NULL         -- error | portability
);

CREATE TABLE interface_use (
    run_id      TEXT NOT NULL,
    entry       TEXT NOT NULL,
    interface   TEXT NOT NULL,
    calls       INTEGER NOT NULL
);

CREATE TABLE unchecked_import (
    run_id      TEXT NOT NULL,
    entry       TEXT NOT NULL,
    name        TEXT NOT NULL
);

CREATE INDEX entry_by_name ON entry(name);
