-- dynchk specification database schema (SQLite).
-- Part 1: tables imported from the LSB specdb (written by `dynchk-gen import-lsb`, x86-64 resolved).
-- (section owned by the importer; see docs/architecture.md)

-- Part 2: the project's semantic layer, filled from db/semantics/*.sem by the loader.
CREATE TABLE Rule(
  name TEXT PRIMARY KEY,          -- rule name used in .sem files (fd.open, out, pathname, …)
  check_name TEXT NOT NULL,       -- name reports use in "check"
  validator TEXT NOT NULL,        -- function path inside the validators crate (fd::open)
  signature TEXT NOT NULL,        -- argument kinds: p u i, first is the parameter
  description TEXT NOT NULL,
  source TEXT NOT NULL            -- file:line
);
CREATE TABLE ParamRule(
  iid INTEGER NOT NULL,           -- → Interface
  pos INTEGER NOT NULL,           -- → Parameter.pos
  seq INTEGER NOT NULL,           -- order of the rule on that parameter
  rule TEXT NOT NULL,             -- → Rule.name
  args TEXT NOT NULL DEFAULT '',  -- the rule's arguments as written (LEN, [N], range bounds)
  cond TEXT,                      -- `when` expression, NULL when unconditional
  source TEXT NOT NULL,
  PRIMARY KEY(iid, pos, seq)
);
CREATE TABLE MemberRule(
  tid INTEGER NOT NULL,           -- → Type (a Struct)
  member TEXT NOT NULL,           -- → Member.name
  seq INTEGER NOT NULL,
  rule TEXT NOT NULL,             -- → Rule.name, or data
  args TEXT NOT NULL DEFAULT '',
  source TEXT NOT NULL,
  PRIMARY KEY(tid, member, seq)
);
CREATE TABLE Special(
  name TEXT PRIMARY KEY,          -- interface name
  kind TEXT NOT NULL CHECK (kind IN ('hand', 'exclude')),
  reason TEXT NOT NULL,
  source TEXT NOT NULL
);
