-- dynchk specification database schema (SQLite).
-- Part 1: tables imported from the LSB specdb (written by `dynchk-gen import-lsb`, x86-64 resolved).
-- (section owned by the importer; see docs/architecture.md)
CREATE TABLE Library(
  lid INTEGER PRIMARY KEY,        -- LSB Lid
  name TEXT UNIQUE NOT NULL,      -- libc, libm, ...
  soname TEXT NOT NULL            -- libc.so.6, ...
);
CREATE TABLE Type(
  tid INTEGER PRIMARY KEY,        -- LSB Tid (of the row chosen for x86-64)
  name TEXT NOT NULL,
  kind TEXT NOT NULL,             -- Intrinsic|Pointer|Const|Volatile|Typedef|Array|FuncPtr|Struct|Union|Enum
  base INTEGER,                   -- → Type: pointee, qualified, aliased, element or return type
  array_len INTEGER,
  size INTEGER,                   -- bytes on x86-64, NULL when unknown (opaque struct, void array)
  header TEXT
);
CREATE TABLE Member(
  tid INTEGER NOT NULL,           -- → Type: the struct, union, enum or FuncPtr
  pos INTEGER NOT NULL,           -- 0-based
  name TEXT NOT NULL,             -- '' for FuncPtr parameters
  type INTEGER,                   -- → Type; NULL for enumerators
  offset INTEGER,                 -- bytes, x86-64; NULL for bit-fields
  size INTEGER,                   -- bytes, x86-64 (whole array for arrays); NULL for bit-fields
  bitfield INTEGER,               -- width in bits of a bit-field
  array_len INTEGER,              -- elements of an array member
  value INTEGER,                  -- enumerator value, when known
  semantic TEXT,                  -- → SemanticType (LSB TypeType)
  PRIMARY KEY(tid, pos)
);
CREATE TABLE Interface(
  iid INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  lid INTEGER NOT NULL,           -- → Library
  ret INTEGER NOT NULL,           -- → Type
  version TEXT,                   -- symbol version on x86-64 (GLIBC_2.2.5), NULL when unversioned
  header TEXT,
  source TEXT NOT NULL            -- 'lsb' or file:line of a .sem
);
CREATE INDEX Interface_name ON Interface(name);
CREATE TABLE Parameter(
  iid INTEGER NOT NULL,           -- → Interface
  pos INTEGER NOT NULL,           -- 0-based
  type INTEGER NOT NULL,          -- → Type; an Intrinsic named '...' for the variadic part
  name TEXT,
  semantic TEXT,                  -- → SemanticType (LSB TypeType)
  nullable INTEGER NOT NULL DEFAULT 0, -- 1: NULL allowed (`name?`); 2: allowed by Linux, reported as portability (`name?portability`)
  PRIMARY KEY(iid, pos)
);
CREATE TABLE SemanticType(name TEXT PRIMARY KEY, description TEXT);
CREATE TABLE Constant(name TEXT PRIMARY KEY, value TEXT NOT NULL);  -- value as written in C

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
CREATE TABLE HostSoname(        -- `soname` lines: the host's files standing for an LSB library
  lib TEXT NOT NULL,              -- → Library.name
  pos INTEGER NOT NULL,           -- search order
  soname TEXT NOT NULL,           -- libncursesw.so.6 (LSB: libncurses.so.5)
  source TEXT NOT NULL,
  PRIMARY KEY(lib, pos)
);
CREATE TABLE Special(
  name TEXT PRIMARY KEY,          -- interface name
  kind TEXT NOT NULL CHECK (kind IN ('hand', 'exclude', 'trampoline')),
  reason TEXT NOT NULL,
  source TEXT NOT NULL
);
CREATE TABLE Hook(
  name TEXT NOT NULL,             -- interface name
  phase TEXT NOT NULL CHECK (phase IN ('before', 'after')),
  func TEXT NOT NULL,             -- rt::hooks::FUNC in dynchk-preload
  args TEXT NOT NULL DEFAULT '',  -- parameter names (or ret), comma separated
  source TEXT NOT NULL,
  PRIMARY KEY(name, phase)
);
