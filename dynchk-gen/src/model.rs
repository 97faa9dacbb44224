//! The database read into memory once, typed: interfaces with their parameters and rules, types
//! with their members, and the C-type questions the generator asks (spelling, size, ABI class).
//! Strings of the tables become enums here (type kinds, specials, argument kinds) and rule
//! arguments become parsed expressions, so that nothing after the loader parses text again.

use std::collections::{BTreeMap, HashMap};

use anyhow::{anyhow, bail, Result};
use rusqlite::Connection;

pub use crate::sem::expr::Expr;
pub use crate::sem::parse::{HookPhase, SpecialKind};

/// `Type.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeKind {
    Intrinsic,
    Pointer,
    Const,
    Volatile,
    Typedef,
    Array,
    FuncPtr,
    Struct,
    Union,
    Enum,
}

impl TypeKind {
    pub const ALL: [TypeKind; 10] = [
        TypeKind::Intrinsic,
        TypeKind::Pointer,
        TypeKind::Const,
        TypeKind::Volatile,
        TypeKind::Typedef,
        TypeKind::Array,
        TypeKind::FuncPtr,
        TypeKind::Struct,
        TypeKind::Union,
        TypeKind::Enum,
    ];

    /// The spelling in the `Type` table.
    pub fn as_str(self) -> &'static str {
        match self {
            TypeKind::Intrinsic => "Intrinsic",
            TypeKind::Pointer => "Pointer",
            TypeKind::Const => "Const",
            TypeKind::Volatile => "Volatile",
            TypeKind::Typedef => "Typedef",
            TypeKind::Array => "Array",
            TypeKind::FuncPtr => "FuncPtr",
            TypeKind::Struct => "Struct",
            TypeKind::Union => "Union",
            TypeKind::Enum => "Enum",
        }
    }

    pub fn parse(s: &str) -> Option<TypeKind> {
        TypeKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A row of `Type`.
#[derive(Debug, Clone)]
pub struct Type {
    pub tid: i64,
    pub name: String,
    pub kind: TypeKind,
    pub base: Option<i64>,
    pub array_len: Option<i64>,
    pub size: Option<i64>,
}

/// A row of `Member`, with its rules.
#[derive(Debug, Clone)]
pub struct Member {
    pub name: String,
    pub ty: Option<i64>,
    pub offset: Option<i64>,
    pub size: Option<i64>,
    pub bitfield: Option<i64>,
    pub rules: Vec<RuleUse>,
}

/// A rule's arguments, parsed: `(LEN)` or `(LO, HI)` or `(TABLE)`, `[N]` (N elements), or none.
#[derive(Debug, Clone, PartialEq)]
pub enum Args {
    None,
    /// `(a, b, …)`; a table argument is the table's name.
    List(Vec<Expr>),
    /// `[N]`: an array of N elements of the pointee.
    Count(Expr),
}

impl Args {
    /// Parses arguments as written after a rule name (`(count)`, `[iovcnt]`, ``).
    pub fn parse(text: &str) -> Result<Args> {
        let parts = Args::written(text)?;
        let mut exprs = parts
            .iter()
            .map(|a| crate::sem::expr::parse(a))
            .collect::<Result<Vec<_>>>()?;
        Ok(match text.chars().next() {
            None => Args::None,
            Some('[') if exprs.len() == 1 => Args::Count(exprs.remove(0)),
            Some('[') => bail!("`{text}`: `[N]` takes one count"),
            _ => Args::List(exprs),
        })
    }

    /// Each argument's text as written: `(a, b)` gives `a` and `b`, `[n]` gives `n`.
    pub fn written(text: &str) -> Result<Vec<&str>> {
        let inner = match text.chars().next() {
            None => return Ok(Vec::new()),
            Some('[') => text.strip_prefix('[').and_then(|t| t.strip_suffix(']')),
            _ => text.strip_prefix('(').and_then(|t| t.strip_suffix(')')),
        };
        let inner = inner.ok_or_else(|| anyhow!("`{text}`: arguments are `(…)` or `[N]`"))?;
        Ok(crate::sem::parse_args(inner))
    }

    /// The arguments given in parentheses (none for `[N]`).
    pub fn list(&self) -> &[Expr] {
        match self {
            Args::List(l) => l,
            _ => &[],
        }
    }

    /// Every expression, in order.
    pub fn exprs(&self) -> Vec<&Expr> {
        match self {
            Args::None => Vec::new(),
            Args::List(l) => l.iter().collect(),
            Args::Count(e) => vec![e],
        }
    }
}

/// A `when` condition: parsed, and as written (for `explain`).
#[derive(Debug, Clone, PartialEq)]
pub struct Cond {
    pub expr: Expr,
    pub text: String,
}

/// A rule applied to a parameter or member, as stored in `ParamRule` / `MemberRule`.
#[derive(Debug, Clone)]
pub struct RuleUse {
    pub rule: String,
    pub args: Args,
    /// The arguments as written, for messages and `explain`.
    pub written: String,
    pub cond: Option<Cond>,
    pub source: String,
}

impl RuleUse {
    /// A rule use read from the tables; the error names its source.
    pub fn new(
        rule: String,
        written: String,
        cond: Option<String>,
        source: String,
    ) -> Result<Self> {
        let at = |e: anyhow::Error| anyhow!("{source}: `{rule}{written}`: {e}");
        let args = Args::parse(&written).map_err(at)?;
        let cond = match cond {
            Some(text) => Some(Cond {
                expr: crate::sem::expr::parse(&text).map_err(at)?,
                text,
            }),
            None => None,
        };
        Ok(RuleUse {
            rule,
            args,
            written,
            cond,
            source,
        })
    }
}

/// What one argument of a validator is (`Rule.signature`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// `i`: an integer, as i64.
    Int,
    /// `u`: a length, as usize.
    Len,
    /// `p`: a pointer.
    Ptr,
    /// `t`: a table of named constants (validators/src/xlat/tables.rs), by its name.
    Table,
    /// `k`: a kind of library object (`Display`, `WINDOW`), by its name: `validators::object`.
    Kind,
    /// `v`: the call's `...` arguments (not written in the rule's use), then a reporter for the
    /// fault of one of them.
    Varargs,
    /// `a`: a `va_list` parameter, by its name, then a reporter as for `v`.
    VaList,
    /// `n`: whether a library made the call on its own behalf (not written either).
    Nested,
}

impl ArgKind {
    pub fn parse(s: &str) -> Option<ArgKind> {
        Some(match s {
            "i" => ArgKind::Int,
            "u" => ArgKind::Len,
            "p" => ArgKind::Ptr,
            "t" => ArgKind::Table,
            "k" => ArgKind::Kind,
            "v" => ArgKind::Varargs,
            "a" => ArgKind::VaList,
            "n" => ArgKind::Nested,
            _ => return None,
        })
    }

    /// Whether the rule's use writes this argument (the others are about the call itself).
    pub fn written(self) -> bool {
        !matches!(self, ArgKind::Varargs | ArgKind::Nested)
    }
}

/// The rules whose length the generator computes (pointee size, LEN bytes, N elements): rules.sem's
/// memory section.
const MEMORY_RULES: [&str; 5] = ["in", "out", "inout", "string.n", "data"];

/// The memory rules the call reads through, so that the structs they reach are validated too.
const READ_RULES: [&str; 2] = ["in", "inout"];

/// A row of `Rule`.
#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    pub check: String,
    /// The validator the rule calls (`mem::readable`)…
    pub validator: String,
    /// …or, for a rule written `READ|WRITE` (`data`), the one called where the call writes the
    /// struct the member belongs to (`data=out` after the parameter's rule).
    pub write_validator: Option<String>,
    /// The validator's arguments; the first is the value checked.
    pub signature: Vec<ArgKind>,
    pub description: String,
    /// A memory rule: the generator computes the length.
    pub memory: bool,
    /// A memory rule the call reads through (structs it reaches are validated).
    pub reads: bool,
}

#[derive(Debug, Clone)]
pub struct Param {
    pub pos: usize,
    pub ty: i64,
    pub name: Option<String>,
    /// LSB's own semantic type (TypeType), if any.
    pub semantic: Option<String>,
    pub nullable: bool,
    /// `name?portability`: NULL (which the rules skip, as `nullable`) is reported by the rule
    /// `?portability` with that severity.
    pub null_portability: bool,
    pub rules: Vec<RuleUse>,
    /// `data=out`: the call writes the buffers the structs reached through it point to.
    pub data_out: bool,
}

#[derive(Debug, Clone)]
pub struct Interface {
    pub iid: i64,
    pub name: String,
    pub lib: String,
    pub soname: String,
    pub ret: i64,
    pub version: Option<String>,
    pub source: String,
    pub params: Vec<Param>,
}

/// A row of `Special`: a `hand`, `exclude` or `trampoline` line.
#[derive(Debug, Clone)]
pub struct Special {
    pub kind: SpecialKind,
    pub reason: String,
    pub source: String,
}

/// How a value travels in the x86-64 System V calling convention, which decides its Rust type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Abi {
    Void,
    Int {
        size: u8,
        signed: bool,
    },
    Ptr,
    F32,
    F64,
    /// `long double`, `long double complex`: x87, no Rust type.
    X87,
    /// `float complex` / `double complex`: a pair in SSE registers.
    Complex(u8),
    /// A struct or union passed by value.
    Aggregate {
        size: u32,
        float: bool,
    },
    Variadic,
    Unknown,
}

/// The Rust integer type of a C integer of `size` bytes: `i32`, `u64`, …
pub fn rust_int(size: u8, signed: bool) -> String {
    format!("{}{}", if signed { 'i' } else { 'u' }, size as u32 * 8)
}

/// The `rt::Value` a violation record carries for `e`, a value of a type travelling as `abi`:
/// spelt as the C type prints (integers in decimal, signed or not; pointers in hexadecimal).
pub fn report_value(abi: Abi, e: &str) -> String {
    match abi {
        Abi::Ptr => format!("rt::Value::Pointer({e} as u64)"),
        Abi::Int { signed: false, .. } => format!("rt::Value::Unsigned({e} as u64)"),
        _ => format!("rt::Value::Signed({e} as i64)"),
    }
}

/// The arguments of the `data` row that stands for `data=out` after a parameter's rule.
pub const DATA_OUT: &str = "=out";

/// The whole database in memory.
pub struct Spec {
    pub types: HashMap<i64, Type>,
    pub members: HashMap<i64, Vec<Member>>,
    pub rules: BTreeMap<String, Rule>,
    pub constants: BTreeMap<String, i64>,
    pub interfaces: Vec<Interface>,
    /// name → its `hand` / `exclude` / `trampoline` line.
    pub specials: BTreeMap<String, Special>,
    /// name → the runtime hooks its interposer calls (`hook` lines), in phase order.
    pub hooks: BTreeMap<String, Vec<Hook>>,
    /// The `Library` table: the libraries in scope, the only list of them (see
    /// docs/adding-a-library.md).
    pub libraries: Vec<Library>,
}

/// A row of `Library`.
#[derive(Debug, Clone)]
pub struct Library {
    /// The LSB name (`libc`), as in `[libc]` sections of `.sem` files.
    pub name: String,
    /// The soname LSB gives (`libncurses.so.5`).
    pub soname: String,
    /// The host's files that stand for it, in search order: the `soname` line of its `.sem`
    /// section (`libncursesw.so.6 libtinfo.so.6`), else `soname` itself. The host check reads
    /// these, and each interposer resolves its original in the one that exports it.
    pub host: Vec<String>,
}

/// A row of `Hook`: `rt::hooks::FUNC(ARGS)` runs before or after the real call.
#[derive(Debug, Clone)]
pub struct Hook {
    pub phase: HookPhase,
    pub func: String,
    /// Parameter names, or `ret`.
    pub args: Vec<String>,
    pub source: String,
}

impl Spec {
    /// Every host file standing for a library in scope, the C library's first.
    pub fn host_sonames(&self) -> impl Iterator<Item = &str> {
        self.libraries
            .iter()
            .flat_map(|l| l.host.iter().map(String::as_str))
    }

    /// The host file an interposer of `iface` resolves its original in: the one of its library's
    /// host files that exports it (`exporter`, from the host check), else the first.
    pub fn host_soname<'a>(&'a self, iface: &'a Interface, exporter: Option<&'a str>) -> &'a str {
        let host = self
            .libraries
            .iter()
            .find(|l| l.name == iface.lib)
            .map_or(&[][..], |l| l.host.as_slice());
        exporter
            .filter(|e| host.iter().any(|h| h == e))
            .or(host.first().map(String::as_str))
            .unwrap_or(&iface.soname)
    }

    /// Reads everything the generator needs from a loaded database.
    pub fn read(conn: &Connection) -> Result<Spec> {
        let mut types = HashMap::new();
        let mut stmt = conn.prepare("SELECT tid, name, kind, base, array_len, size FROM Type")?;
        for t in stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(2)?,
                Type {
                    tid: r.get(0)?,
                    name: r.get(1)?,
                    kind: TypeKind::Intrinsic,
                    base: r.get(3)?,
                    array_len: r.get(4)?,
                    size: r.get(5)?,
                },
            ))
        })? {
            let (kind, mut t) = t?;
            t.kind = TypeKind::parse(&kind).ok_or_else(|| {
                anyhow!(
                    "Type row tid={}: {}: unknown kind {kind:?} (`dynchk-gen check` lists the kinds)",
                    t.tid,
                    t.name
                )
            })?;
            types.insert(t.tid, t);
        }
        let mut member_rules: HashMap<(i64, String), Vec<RuleUse>> = HashMap::new();
        let mut stmt = conn.prepare(
            "SELECT tid, member, rule, args, source FROM MemberRule ORDER BY tid, member, seq",
        )?;
        for row in stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                (r.get(2)?, r.get(3)?, r.get(4)?),
            ))
        })? {
            let (tid, m, (rule, args, source)) = row?;
            let ru = RuleUse::new(rule, args, None, source)?;
            member_rules.entry((tid, m)).or_default().push(ru);
        }
        let mut members: HashMap<i64, Vec<Member>> = HashMap::new();
        let mut stmt = conn.prepare(
            "SELECT tid, name, type, offset, size, bitfield FROM Member ORDER BY tid, pos",
        )?;
        for row in stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                Member {
                    name: r.get(1)?,
                    ty: r.get(2)?,
                    offset: r.get(3)?,
                    size: r.get(4)?,
                    bitfield: r.get(5)?,
                    rules: Vec::new(),
                },
            ))
        })? {
            let (tid, mut m) = row?;
            m.rules = member_rules
                .remove(&(tid, m.name.clone()))
                .unwrap_or_default();
            members.entry(tid).or_default().push(m);
        }
        let mut rules = BTreeMap::new();
        let sql = "SELECT name, check_name, validator, signature, description FROM Rule";
        for [name, check, validator, signature, description] in text_rows(conn, sql)? {
            let signature = signature
                .split_whitespace()
                .map(|k| {
                    ArgKind::parse(k).ok_or_else(|| {
                        anyhow!("Rule row name={name}: signature kind `{k}` is not i, u, p, t, v, a or n")
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            if signature.is_empty() {
                bail!("Rule row name={name}: the signature is empty (the first kind is the value checked)");
            }
            let (validator, write_validator) = match validator.split_once('|') {
                Some((read, write)) => (read.to_string(), Some(write.to_string())),
                None => (validator, None),
            };
            let rule = Rule {
                memory: MEMORY_RULES.contains(&name.as_str()),
                reads: READ_RULES.contains(&name.as_str()),
                name,
                check,
                validator,
                write_validator,
                signature,
                description,
            };
            rules.insert(rule.name.clone(), rule);
        }
        let constants = crate::sem::constants(conn)?;
        let mut param_rules: HashMap<(i64, i64), Vec<RuleUse>> = HashMap::new();
        let mut stmt = conn.prepare(
            "SELECT iid, pos, rule, args, cond, source FROM ParamRule ORDER BY iid, pos, seq",
        )?;
        // `data=out` is stored as a `data` row with arguments `=out` (see sem::Loader::param_rules).
        let mut data_out: std::collections::HashSet<(i64, i64)> = Default::default();
        for row in stmt.query_map([], |r| {
            Ok((
                (r.get::<_, i64>(0)?, r.get::<_, i64>(1)?),
                (r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?),
            ))
        })? {
            let (k, (rule, args, cond, source)) = row?;
            if args == DATA_OUT {
                data_out.insert(k);
                continue;
            }
            let ru = RuleUse::new(rule, args, cond, source)?;
            param_rules.entry(k).or_default().push(ru);
        }
        let mut params: HashMap<i64, Vec<Param>> = HashMap::new();
        let mut stmt = conn.prepare(
            "SELECT iid, pos, type, name, semantic, nullable FROM Parameter ORDER BY iid, pos",
        )?;
        for row in stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                Param {
                    pos: r.get::<_, i64>(1)? as usize,
                    ty: r.get(2)?,
                    name: r.get(3)?,
                    semantic: r.get(4)?,
                    nullable: r.get::<_, i64>(5)? != 0,
                    null_portability: r.get::<_, i64>(5)? == 2,
                    rules: Vec::new(),
                    data_out: false,
                },
            ))
        })? {
            let (iid, mut p) = row?;
            p.rules = param_rules.remove(&(iid, p.pos as i64)).unwrap_or_default();
            p.data_out = data_out.contains(&(iid, p.pos as i64));
            params.entry(iid).or_default().push(p);
        }
        let mut interfaces = Vec::new();
        let mut stmt = conn.prepare(
            "SELECT iid, Interface.name, Library.name, soname, ret, version, source FROM Interface \
             JOIN Library ON Library.lid = Interface.lid ORDER BY Interface.name, Library.name, iid",
        )?;
        for row in stmt.query_map([], |r| {
            Ok(Interface {
                iid: r.get(0)?,
                name: r.get(1)?,
                lib: r.get(2)?,
                soname: r.get(3)?,
                ret: r.get(4)?,
                version: r.get(5)?,
                source: r.get(6)?,
                params: Vec::new(),
            })
        })? {
            let mut i = row?;
            i.params = params.remove(&i.iid).unwrap_or_default();
            interfaces.push(i);
        }
        let mut specials = BTreeMap::new();
        let sql = "SELECT name, kind, reason, source FROM Special";
        for [name, kind, reason, source] in text_rows(conn, sql)? {
            let kind = SpecialKind::parse(&kind).ok_or_else(|| {
                anyhow!("{source}: `{kind} {name}` is not hand, exclude or trampoline")
            })?;
            specials.insert(
                name,
                Special {
                    kind,
                    reason,
                    source,
                },
            );
        }
        let mut hooks: BTreeMap<String, Vec<Hook>> = BTreeMap::new();
        let sql = "SELECT name, phase, func, args, source FROM Hook";
        for [name, phase, func, args, source] in text_rows(conn, sql)? {
            let phase = HookPhase::parse(&phase)
                .ok_or_else(|| anyhow!("{source}: hook phase `{phase}` is not before or after"))?;
            let args = args
                .split(',')
                .filter(|a| !a.is_empty())
                .map(str::to_string)
                .collect();
            hooks.entry(name).or_default().push(Hook {
                phase,
                func,
                args,
                source,
            });
        }
        for hs in hooks.values_mut() {
            hs.sort_by_key(|h| h.phase);
        }
        // The C library first: every other library is loaded after it, so where two define a
        // name, RTLD_NEXT finds the C library's (libpthread's stubs since glibc 2.34).
        let mut stmt = conn.prepare(
            "SELECT name, soname FROM Library ORDER BY soname NOT LIKE 'libc.so.%', name",
        )?;
        let mut libraries = stmt
            .query_map([], |r| {
                Ok(Library {
                    name: r.get(0)?,
                    soname: r.get(1)?,
                    host: Vec::new(),
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut stmt = conn.prepare("SELECT soname FROM HostSoname WHERE lib = ? ORDER BY pos")?;
        for l in &mut libraries {
            l.host = stmt
                .query_map([&l.name], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            if l.host.is_empty() {
                l.host.push(l.soname.clone());
            }
        }
        Ok(Spec {
            types,
            members,
            rules,
            constants,
            interfaces,
            specials,
            hooks,
            libraries,
        })
    }

    pub fn ty(&self, tid: i64) -> Result<&Type> {
        self.types
            .get(&tid)
            .ok_or_else(|| anyhow!("type id {tid} is not in the Type table"))
    }

    /// Follows typedefs, const and volatile to the type that decides the representation.
    pub fn strip(&self, tid: i64) -> Result<&Type> {
        let mut t = self.ty(tid)?;
        for _ in 0..64 {
            match t.kind {
                TypeKind::Typedef | TypeKind::Const | TypeKind::Volatile => match t.base {
                    Some(b) if b != 0 => t = self.ty(b)?,
                    _ => return Ok(t),
                },
                _ => return Ok(t),
            }
        }
        Err(anyhow!(
            "typedef chain of `{}` (type {tid}) does not end",
            t.name
        ))
    }

    /// The pointed-to type of a pointer (after stripping), or None.
    pub fn pointee(&self, tid: i64) -> Result<Option<i64>> {
        let t = self.strip(tid)?;
        Ok(match t.kind {
            TypeKind::Pointer | TypeKind::Array => t.base,
            _ => None,
        })
    }

    /// Size in bytes on x86-64, from the database (None for void, functions, incomplete types).
    pub fn size_of(&self, tid: i64) -> Result<Option<i64>> {
        let t = self.strip(tid)?;
        Ok(match t.kind {
            TypeKind::Pointer | TypeKind::FuncPtr => Some(8),
            TypeKind::Array => match (t.array_len, t.base) {
                (Some(n), Some(b)) => self.size_of(b)?.map(|s| s * n),
                _ => None,
            },
            TypeKind::Intrinsic => match t.name.as_str() {
                "float" => Some(4),
                "double" | "float complex" => Some(8),
                "long double" | "double complex" => Some(16),
                "long double complex" => Some(32),
                n => intrinsic(n).map(|(s, _)| s as i64).filter(|s| *s > 0),
            },
            _ => t.size.filter(|s| *s > 0),
        })
    }

    /// The ABI class of a value of this type.
    pub fn abi(&self, tid: i64) -> Result<Abi> {
        let t = self.strip(tid)?;
        Ok(match t.kind {
            TypeKind::Pointer | TypeKind::FuncPtr | TypeKind::Array => Abi::Ptr,
            TypeKind::Enum => Abi::Int {
                size: 4,
                signed: false,
            },
            TypeKind::Intrinsic => match t.name.as_str() {
                "void" => Abi::Void,
                "..." => Abi::Variadic,
                "float" => Abi::F32,
                "double" => Abi::F64,
                "long double" | "long double complex" => Abi::X87,
                "float complex" => Abi::Complex(4),
                "double complex" => Abi::Complex(8),
                n => match intrinsic(n) {
                    Some((size, signed)) => Abi::Int { size, signed },
                    None => Abi::Unknown,
                },
            },
            TypeKind::Struct | TypeKind::Union => match t.size {
                Some(s) if s > 0 => Abi::Aggregate {
                    size: s as u32,
                    float: self.has_float(t.tid, 0)?,
                },
                _ => Abi::Unknown,
            },
            _ => Abi::Unknown,
        })
    }

    fn has_float(&self, tid: i64, depth: u32) -> Result<bool> {
        if depth > 8 {
            return Ok(false);
        }
        for m in self.members.get(&tid).into_iter().flatten() {
            let Some(mt) = m.ty else { continue };
            let st = self.strip(mt)?;
            let float = match st.kind {
                TypeKind::Intrinsic => matches!(
                    self.abi(mt)?,
                    Abi::F32 | Abi::F64 | Abi::X87 | Abi::Complex(_)
                ),
                TypeKind::Struct | TypeKind::Union => self.has_float(st.tid, depth + 1)?,
                TypeKind::Array => st
                    .base
                    .map(|b| self.has_float_scalar(b))
                    .transpose()?
                    .unwrap_or(false),
                _ => false,
            };
            if float {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn has_float_scalar(&self, tid: i64) -> Result<bool> {
        Ok(matches!(
            self.abi(tid)?,
            Abi::F32 | Abi::F64 | Abi::X87 | Abi::Complex(_)
        ))
    }

    /// The C spelling of a type, with `name` placed where a declarator goes.
    ///
    /// `const char *path`, `int (*compar)(const void *, const void *)`, `char buf[16]`.
    pub fn c_decl(&self, tid: i64, name: &str) -> Result<String> {
        let t = self.ty(tid)?;
        let sep = |inner: &str| if inner.is_empty() { "" } else { " " };
        Ok(match t.kind {
            TypeKind::Pointer => {
                let base = t.base.unwrap_or(0);
                if self.ty(base).is_ok_and(|b| b.kind == TypeKind::FuncPtr) {
                    return self.c_decl(base, &format!("*{name}"));
                }
                self.c_decl(base, &format!("*{name}"))?
            }
            TypeKind::Const => {
                let base = t.base.unwrap_or(0);
                let bt = self.ty(base)?;
                if bt.kind == TypeKind::Pointer {
                    self.c_decl(base, &format!("const{}{name}", sep(name)))?
                } else {
                    format!("const {}", self.c_decl(base, name)?)
                }
            }
            TypeKind::Volatile => format!("volatile {}", self.c_decl(t.base.unwrap_or(0), name)?),
            TypeKind::Array => {
                let n = t.array_len.map(|n| n.to_string()).unwrap_or_default();
                self.c_decl(t.base.unwrap_or(0), &format!("{name}[{n}]"))?
            }
            TypeKind::FuncPtr => {
                let ret = self.c_decl(t.base.unwrap_or(1), "")?;
                let args: Vec<String> = self
                    .members
                    .get(&tid)
                    .into_iter()
                    .flatten()
                    .map(|m| self.c_decl(m.ty.unwrap_or(0), ""))
                    .collect::<Result<_>>()?;
                let args = if args.is_empty() {
                    "void".to_string()
                } else {
                    args.join(", ")
                };
                let inner = if name.starts_with('*') {
                    name.to_string()
                } else {
                    format!("*{name}")
                };
                format!("{ret} ({inner})({args})")
            }
            kind => {
                let base = match kind {
                    TypeKind::Struct => format!("struct {}", t.name),
                    TypeKind::Union => format!("union {}", t.name),
                    TypeKind::Enum => format!("enum {}", t.name),
                    _ => t.name.clone(),
                };
                format!("{base}{}{name}", sep(name))
            }
        }
        .trim_end()
        .to_string())
    }

    /// `ssize_t read(int fd, void *buf, size_t count)`.
    pub fn prototype(&self, i: &Interface) -> Result<String> {
        let params: Vec<String> = i
            .params
            .iter()
            .map(|p| {
                let name = p.name.clone().unwrap_or_else(|| format!("arg{}", p.pos));
                if self.abi(p.ty)? == Abi::Variadic {
                    Ok("...".to_string())
                } else {
                    self.c_decl(p.ty, &name)
                }
            })
            .collect::<Result<_>>()?;
        let params = if params.is_empty() {
            "void".into()
        } else {
            params.join(", ")
        };
        self.c_decl(i.ret, &format!("{}({params})", i.name))
    }

    /// Finds a type by its C spelling (`struct iovec`, `size_t`, `int`), for `sizeof` in rules.
    pub fn find_type(&self, spelled: &str) -> Option<i64> {
        let spelled = spelled.trim();
        let (kinds, name): (&[TypeKind], &str) = if let Some(n) = spelled.strip_prefix("struct ") {
            (&[TypeKind::Struct], n)
        } else if let Some(n) = spelled.strip_prefix("union ") {
            (&[TypeKind::Union], n)
        } else {
            (&[TypeKind::Typedef, TypeKind::Intrinsic], spelled)
        };
        let mut best: Option<i64> = None;
        for t in self.types.values() {
            let kind_ok = kinds.contains(&t.kind);
            if kind_ok && t.name == name && best.is_none_or(|b| t.tid < b) {
                best = Some(t.tid);
            }
        }
        best
    }
}

/// Every row of `sql`, whose N columns are all text.
fn text_rows<const N: usize>(conn: &Connection, sql: &str) -> Result<Vec<[String; N]>> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([], |r| {
        let mut row: [String; N] = std::array::from_fn(|_| String::new());
        for (i, col) in row.iter_mut().enumerate() {
            *col = r.get(i)?;
        }
        Ok(row)
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// (size, signed) of the integer intrinsic types on x86-64; `None` for non-integers.
pub fn intrinsic(name: &str) -> Option<(u8, bool)> {
    Some(match name {
        "char" | "signed char" => (1, true),
        "unsigned char" | "bool" | "_Bool" => (1, false),
        "short" | "short int" => (2, true),
        "unsigned short" | "short unsigned int" => (2, false),
        "int" => (4, true),
        "unsigned int" => (4, false),
        "long int" | "long long int" => (8, true),
        "unsigned long int"
        | "long unsigned int"
        | "unsigned long long int"
        | "long long unsigned int" => (8, false),
        "void" => (0, false),
        _ => return None,
    })
}
