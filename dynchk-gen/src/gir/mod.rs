//! Importer of GObject-Introspection annotations (`/usr/share/gir-1.0/GLib-2.0.gir`, …) into
//! `db/semantics/gir/*.sem`: the rules GLib's own authors wrote down, in the annotation DSL.
//!
//! Only functions the database has a prototype for and the host library exports are annotated;
//! the GIR's C types are compared with the database's prototype first, and a function whose types
//! disagree is left out with the reason (a comment in the output). What becomes which rule:
//!
//! | GIR | rule |
//! |---|---|
//! | `utf8`/`filename` as `const gchar *`, in | `string`; `string.n(LEN)` before a length (`text, text_len`) |
//! | array with `length=N` (or `fixed-size=N`), in | `in[N]` (elements of the array's type; `when N >= 0` for a signed length) |
//! | `zero-terminated` array of `utf8`/`filename`, in | `strarray` |
//! | pointer to a record, class, interface, union or boxed type, in | `nonnull` |
//! | callback type, in | `code` (NULL allowed: a NULL callback is often a default) |
//! | `direction="out"` / `"inout"` (`caller-allocates` or not) | `out` / `inout` of the pointee |
//! | `throws="1"` | `error?: out` after the listed parameters |
//! | `nullable`/`allow-none`/`optional` | `?` (NULL allowed); absent, NULL is a violation |
//!
//! A writable `gchar *` the GIR calls `utf8` is left alone (it may be a buffer the call fills:
//! `g_strlcpy`'s `dest`); so is NULL where it has a meaning the annotations rarely say
//! ([`NULL_MEANS`]), or where the parameter's documentation allows it.
//! The hand-written rules of `db/semantics/*.sem` win: the loader skips a GIR line for an
//! interface annotated by hand ([`crate::sem::load_dir`]).

pub mod read;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::build::Generator;
use crate::model::{Abi, Interface, Spec};
use crate::plan::Disposition;
use read::{CDef, Function, Parameter, Repository, Ty};

/// The repositories imported by default: the GIR files of the GLib libraries in scope.
pub const DEFAULT_FILES: [&str; 3] = [
    "/usr/share/gir-1.0/GLib-2.0.gir",
    "/usr/share/gir-1.0/GObject-2.0.gir",
    "/usr/share/gir-1.0/GModule-2.0.gir",
];

/// What an import wrote and left out.
#[derive(Debug, Default)]
pub struct GirStats {
    /// Per output file.
    pub written: BTreeMap<String, Written>,
    /// Functions left out, counted by reason (the reason's kind, without the names).
    pub skipped: BTreeMap<&'static str, usize>,
}

/// What one output file holds.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// Functions with a line: annotated, or declared.
    pub functions: usize,
    /// Of those, the functions the database had no prototype for: declared with `+`.
    pub declared: usize,
    /// Parameters with a rule.
    pub params: usize,
}

impl fmt::Display for GirStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (file, w) in &self.written {
            writeln!(
                f,
                "{file}: {} functions ({} declared from the GIR's C types), {} parameters with a rule",
                w.functions, w.declared, w.params
            )?;
        }
        for (why, n) in &self.skipped {
            writeln!(f, "skipped {n}: {why}")?;
        }
        Ok(())
    }
}

/// Why a function gets no line.
#[derive(Debug)]
struct Skip {
    kind: &'static str,
    detail: String,
}

impl Skip {
    /// Whether the output lists the function: a reason to read (the prototypes disagree, the
    /// generator cannot interpose it), not one the counts say enough about.
    fn listed(&self) -> bool {
        !matches!(self.kind, NOTHING | NOT_ON_HOST)
    }
}

const NOTHING: &str = "nothing the annotations let us check";
const NOT_ON_HOST: &str = "not exported by the host library";
const UNKNOWN_TYPE: &str = "no prototype in the database, and a C type the GIR does not define";
const NO_C_TYPE: &str = "no prototype in the database, and the GIR gives no C type";
const BY_VALUE: &str = "no prototype in the database, and a struct or union passed by value";
const OTHER_HEADER: &str =
    "no prototype in the database, and declared outside the library's header";
const NO_HEADER: &str = "no prototype in the database, and the GIR names no header declaring it";

/// Headers of GLib that `glib.h` does not include (a program includes them itself): the ABI test
/// compares every prototype with what the library's own header declares, so functions declared
/// only there get no prototype from the GIR.
const OUTSIDE_MAIN_HEADER: [&str; 3] = ["glib-unix.h", "gprintf.h", "gstdio.h"];

/// GLib's fundamental types on x86-64 (glibconfig.h), for those LSB's data lacks.
const FUNDAMENTALS: [(&str, &str); 28] = [
    ("gint8", "signed char"),
    ("guint8", "unsigned char"),
    ("gint16", "short"),
    ("guint16", "unsigned short"),
    ("gint32", "int"),
    ("guint32", "unsigned int"),
    ("gint64", "long"),
    ("guint64", "unsigned long"),
    ("gssize", "long"),
    ("gsize", "unsigned long"),
    ("goffset", "long"),
    ("gintptr", "long"),
    ("guintptr", "unsigned long"),
    ("gchar", "char"),
    ("guchar", "unsigned char"),
    ("gshort", "short"),
    ("gushort", "unsigned short"),
    ("gint", "int"),
    ("guint", "unsigned int"),
    ("glong", "long"),
    ("gulong", "unsigned long"),
    ("gfloat", "float"),
    ("gdouble", "double"),
    ("gboolean", "int"),
    ("gpointer", "void *"),
    ("gconstpointer", "const void *"),
    ("gunichar", "unsigned int"),
    ("gunichar2", "unsigned short"),
];

fn skip(kind: &'static str, detail: impl Into<String>) -> Skip {
    Skip {
        kind,
        detail: detail.into(),
    }
}

/// A prototype the database lacks, spelt from the GIR's C types.
struct Proto {
    ret: String,
    /// Each parameter's C type (`...` for the variable arguments).
    params: Vec<String>,
    /// The type declarations it needs, by the C name they declare, in dependency order.
    decls: Vec<(String, String)>,
}

/// Reads `gir_files`, annotates what the database in `db_dir` (without its GIR layer) describes
/// and the host exports, declares what the host exports and the database lacks where the GIR's C
/// types say exactly what it is, and writes `db_dir/semantics/gir/<library>.sem`, replacing the
/// files there. Deterministic: the same inputs give the same bytes.
pub fn import(gir_files: &[PathBuf], db_dir: &Path) -> Result<GirStats> {
    let mut repos = Vec::new();
    for f in gir_files {
        let text = std::fs::read_to_string(f).with_context(|| {
            format!(
                "reading {} (Debian: apt-get install libgirepository1.0-dev)",
                f.display()
            )
        })?;
        let repo = read::parse(&text).with_context(|| format!("parsing {}", f.display()))?;
        repos.push((f.clone(), repo));
    }
    let db = crate::db::Db::load_without_derived(db_dir)?;
    let types: BTreeMap<String, String> = repos
        .iter()
        .flat_map(|(_, r)| r.types.iter().map(|(k, v)| (k.clone(), v.clone())))
        .collect();
    let c_types: BTreeMap<String, CDef> = repos
        .iter()
        .flat_map(|(_, r)| r.c_types.iter().map(|(k, v)| (k.clone(), v.clone())))
        .collect();
    // First the prototypes the database lacks, loaded into it so that the rules below are
    // derived from their types as from any other's.
    let mut protos: BTreeMap<String, Result<Proto, Skip>> = BTreeMap::new();
    {
        let g = Generator::of(&db)?;
        let mut text = String::new();
        for (_, repo) in &repos {
            let libs = libraries_of(&g.spec, repo);
            for f in &repo.functions {
                if interface(&g.spec, &libs, &f.symbol).is_some() {
                    continue;
                }
                let Some(lib) = exporter(&g, &libs, &f.symbol) else {
                    protos.insert(f.symbol.clone(), Err(skip(NOT_ON_HOST, "")));
                    continue;
                };
                let p = prototype(&g.spec, &c_types, f);
                if let Ok(p) = &p {
                    let _ = writeln!(text, "[{lib}]");
                    for (_, d) in &p.decls {
                        let _ = writeln!(text, "{d}");
                    }
                    let names = param_names(&gir_params(f));
                    let _ = writeln!(text, "{}", declaration(f, p, &names));
                }
                protos.insert(f.symbol.clone(), p);
            }
        }
        crate::sem::load_generated(&db.conn, "the GIR's prototypes", &text)?;
    }
    let g = Generator::of(&db)?;
    let mut stats = GirStats::default();
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    let mut declared_types = BTreeSet::new();
    for (path, repo) in &repos {
        let libs = libraries_of(&g.spec, repo);
        for f in &repo.functions {
            let new = protos.get(&f.symbol);
            let out = match new {
                Some(Err(s)) => Err(skip(s.kind, s.detail.clone())),
                _ => line(&g, &types, &libs, f),
            };
            let (lib, text) = match (out, new) {
                (Ok((iface, parts, rules)), Some(Ok(p))) => {
                    let w = stats.written.entry(file_name(&iface.lib)).or_default();
                    w.functions += 1;
                    w.declared += 1;
                    w.params += rules;
                    let mut text = String::new();
                    for (name, d) in &p.decls {
                        if declared_types.insert(name.clone()) {
                            text.push_str(d);
                            text.push('\n');
                        }
                    }
                    text.push_str(&declaration(f, p, &parts));
                    (iface.lib.clone(), text)
                }
                (Ok((iface, parts, rules)), _) if rules > 0 => {
                    let w = stats.written.entry(file_name(&iface.lib)).or_default();
                    w.functions += 1;
                    w.params += rules;
                    (
                        iface.lib.clone(),
                        format!("{}({})", f.symbol, parts.join(", ")),
                    )
                }
                (Ok(_), _) => {
                    *stats.skipped.entry(NOTHING).or_default() += 1;
                    continue;
                }
                (Err(s), _) => {
                    *stats.skipped.entry(s.kind).or_default() += 1;
                    // An interposed function the GIR describes but this file does not annotate
                    // is listed with the reason, as is one it cannot declare; the rest is
                    // counted only.
                    let lib = interface(&g.spec, &libs, &f.symbol)
                        .map(|i| i.lib.clone())
                        .or_else(|| exporter(&g, &libs, &f.symbol));
                    match lib {
                        Some(lib) if s.listed() => {
                            let mut text = format!("# {}: {}", f.symbol, s.kind);
                            if !s.detail.is_empty() {
                                text = format!("{text}: {}", s.detail);
                            }
                            (lib, text)
                        }
                        _ => continue,
                    }
                }
            };
            let file = files.entry(lib.clone()).or_insert_with(|| header(&lib));
            if !file.contains(&format!("\n# from {}\n", path.display())) {
                let _ = writeln!(file, "\n# from {}", path.display());
            }
            file.push_str(&text);
            file.push('\n');
        }
    }
    let dir = db_dir.join("semantics").join(crate::sem::GIR_DIR);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    for old in std::fs::read_dir(&dir)? {
        let old = old?.path();
        if old.extension().is_some_and(|e| e == "sem") {
            std::fs::remove_file(&old).with_context(|| format!("removing {}", old.display()))?;
        }
    }
    for (lib, text) in files {
        let path = dir.join(file_name(&lib));
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(stats)
}

/// `libglib-2.0` → `glib.sem`.
fn file_name(lib: &str) -> String {
    let short = lib.strip_prefix("lib").unwrap_or(lib);
    let short = short.strip_suffix("-2.0").unwrap_or(short);
    format!("{short}.sem")
}

fn header(lib: &str) -> String {
    format!(
        "# @generated by `dynchk-gen import-gir` from the GObject-Introspection annotations: do not\n\
         # edit. Hand-written rules for a function (db/semantics/*.sem) win over its line here; a\n\
         # function left out is listed with the reason. `+` lines declare what the host exports\n\
         # and LSB lacks, from the GIR's C types.\n\n[{lib}]\n"
    )
}

/// The database libraries whose host files are the repository's `shared-library` files.
fn libraries_of(spec: &Spec, repo: &Repository) -> Vec<String> {
    spec.libraries
        .iter()
        .filter(|l| l.host.iter().any(|h| repo.shared_libraries.contains(h)))
        .map(|l| l.name.clone())
        .collect()
}

/// The database's interface called `symbol` in one of `libs`.
fn interface<'s>(spec: &'s Spec, libs: &[String], symbol: &str) -> Option<&'s Interface> {
    spec.interfaces
        .iter()
        .find(|i| i.name == symbol && libs.contains(&i.lib))
}

/// The one of `libs` whose host file exports `symbol`.
fn exporter(g: &Generator, libs: &[String], symbol: &str) -> Option<String> {
    let so = &g.host.symbols.get(symbol)?.soname;
    g.spec
        .libraries
        .iter()
        .find(|l| libs.contains(&l.name) && l.host.contains(so))
        .map(|l| l.name.clone())
}

/// The C function's parameters as the GIR describes them: the listed ones, then `GError
/// **error` where it throws.
fn gir_params(f: &Function) -> Vec<Parameter> {
    let mut gir: Vec<Parameter> = f.params.clone();
    let checks_null = NULL_CHECKING.iter().any(|pre| f.symbol.starts_with(pre));
    for p in &mut gir {
        p.null_ok |= checks_null || NULL_NAMES.contains(&p.name.as_str());
    }
    if f.throws {
        gir.push(Parameter {
            name: "error".into(),
            direction: "out".into(),
            null_ok: true,
            ty: Ty::Plain {
                name: "GLib.Error".into(),
                c_type: Some("GError**".into()),
            },
            ..Parameter::default()
        });
    }
    gir
}

/// The parameters' names in the annotation: the GIR's where they are C identifiers, each once.
fn param_names(gir: &[Parameter]) -> Vec<String> {
    let ok = |n: &str| {
        n.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let mut names: Vec<String> = Vec::new();
    for (i, p) in gir.iter().enumerate() {
        names.push(if p.ty == Ty::Varargs {
            "...".to_string()
        } else if ok(&p.name) && !names.contains(&p.name) {
            p.name.clone()
        } else {
            format!("arg{i}")
        });
    }
    names
}

/// `+ RET NAME(TYPE PART, …)`: each part a parameter's name with its rules.
fn declaration(f: &Function, p: &Proto, parts: &[String]) -> String {
    let params: Vec<String> = p
        .params
        .iter()
        .zip(parts)
        .map(|(ty, part)| {
            if ty == "..." {
                ty.clone()
            } else {
                format!("{ty} {part}")
            }
        })
        .collect();
    let params = if params.is_empty() {
        "void".to_string()
    } else {
        params.join(", ")
    };
    format!("+ {} {}({params})", p.ret, f.symbol)
}

/// The prototype of `f` from the GIR's C types, with the declarations of the types the
/// database lacks; or why it cannot be written exactly.
fn prototype(spec: &Spec, c_types: &BTreeMap<String, CDef>, f: &Function) -> Result<Proto, Skip> {
    match f.header.as_deref() {
        None => return Err(skip(NO_HEADER, "")),
        Some(h) if OUTSIDE_MAIN_HEADER.contains(&h) => return Err(skip(OTHER_HEADER, h)),
        Some(_) => {}
    }
    let mut decls = Vec::new();
    let ret = c_spelling(spec, c_types, &f.ret, &mut decls)?;
    let mut params = Vec::new();
    for p in gir_params(f) {
        params.push(if p.ty == Ty::Varargs {
            "...".to_string()
        } else {
            c_spelling(spec, c_types, &p, &mut decls)?
        });
    }
    Ok(Proto { ret, params, decls })
}

/// A parameter's C type as the DSL spells it (`const gchar * const *`), after the declarations
/// its base type needs.
fn c_spelling(
    spec: &Spec,
    c_types: &BTreeMap<String, CDef>,
    p: &Parameter,
    decls: &mut Vec<(String, String)>,
) -> Result<String, Skip> {
    let what = if p.name.is_empty() {
        "the result"
    } else {
        &p.name
    };
    let c = gir_c_type(&p.ty).ok_or_else(|| skip(NO_C_TYPE, what))?;
    let (base, depth, spelt) = split_c_type(c);
    declare_base(spec, c_types, &base, depth, decls)?;
    Ok(spelt)
}

/// `const gchar* const*` → (`gchar`, 2, `const gchar * const *`).
fn split_c_type(c: &str) -> (String, usize, String) {
    let spaced = c.replace('*', " * ");
    let words: Vec<&str> = spaced.split_whitespace().collect();
    let depth = words.iter().filter(|w| **w == "*").count();
    let base = words
        .iter()
        .filter(|w| !matches!(**w, "*" | "const" | "volatile"))
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    (base, depth, words.join(" "))
}

/// Makes sure the database will know `base`, used behind `depth` pointers: known already, or
/// declared in `decls` (an incomplete struct for a record only reached through pointers, the
/// integer type of an enumeration, a function pointer for a callback, an alias's type).
fn declare_base(
    spec: &Spec,
    c_types: &BTreeMap<String, CDef>,
    base: &str,
    depth: usize,
    decls: &mut Vec<(String, String)>,
) -> Result<(), Skip> {
    if let Some(t) = spec.find_type(crate::sem::intrinsic_name(base)) {
        let whole = matches!(spec.abi(t), Ok(Abi::Aggregate { .. } | Abi::Unknown));
        if depth == 0 && whole && base != "void" {
            return Err(skip(BY_VALUE, base));
        }
        return Ok(());
    }
    let def = c_types.get(base);
    if depth == 0 && def == Some(&CDef::Record) {
        return Err(skip(BY_VALUE, base));
    }
    if decls.iter().any(|(n, _)| n == base) {
        return Ok(());
    }
    let line = match (FUNDAMENTALS.iter().find(|(n, _)| *n == base), def) {
        (Some((_, c)), _) => format!("+ typedef {c} {base}"),
        (None, Some(CDef::Record)) => format!("+ struct _{base}\n+ typedef struct _{base} {base}"),
        (None, Some(CDef::Enum { signed })) => {
            let int = if *signed { "int" } else { "unsigned int" };
            format!("+ typedef {int} {base}")
        }
        (None, Some(CDef::Callback)) => format!("+ typedef fnptr {base}"),
        (None, Some(CDef::Alias(to))) if !to.is_empty() => {
            let (to_base, to_depth, spelt) = split_c_type(to);
            declare_base(spec, c_types, &to_base, depth + to_depth, decls)?;
            format!("+ typedef {spelt} {base}")
        }
        _ => return Err(skip(UNKNOWN_TYPE, base)),
    };
    decls.push((base.to_string(), line));
    Ok(())
}

/// The annotation of `f`'s parameters (each its name, then `?` and rules where it has some),
/// with the interface and how many parameters got a rule.
fn line<'g>(
    g: &'g Generator,
    types: &BTreeMap<String, String>,
    libs: &[String],
    f: &Function,
) -> Result<(&'g Interface, Vec<String>, usize), Skip> {
    let iface = interface(&g.spec, libs, &f.symbol)
        .ok_or_else(|| skip(NOT_ON_HOST, "no prototype in the database"))?;
    match g.plan(&f.symbol).map(|p| &p.disposition) {
        Some(Disposition::Generated) => {}
        Some(Disposition::NotOnHost) | None => return Err(skip(NOT_ON_HOST, "")),
        Some(Disposition::Hand(_)) => return Err(skip("hand-coded interposer", "")),
        Some(Disposition::Excluded(r)) => return Err(skip("excluded", r.clone())),
    }
    let gir = gir_params(f);
    if gir.len() != iface.params.len() {
        return Err(skip(
            "parameter count differs",
            format!(
                "the GIR lists {}, the database {}",
                gir.len(),
                iface.params.len()
            ),
        ));
    }
    let spec = &g.spec;
    for (i, (p, dp)) in gir.iter().zip(&iface.params).enumerate() {
        if let Some(c) = gir_c_type(&p.ty) {
            let e = |e: anyhow::Error| skip("type error", e.to_string());
            if !same_type(spec, c, dp.ty).map_err(e)? {
                let db_c = spec.c_decl(dp.ty, "").map_err(e)?;
                return Err(skip(
                    "C type differs",
                    format!(
                        "parameter {i} ({}): the GIR says `{c}`, the database `{db_c}`",
                        p.name
                    ),
                ));
            }
        }
    }
    let names = param_names(&gir);
    // `length=` counts the parameters after the instance parameter.
    let listed: Vec<usize> = (0..gir.len()).filter(|&i| !gir[i].instance).collect();
    let mut parts = Vec::new();
    let mut ruled = 0;
    let variadic = gir.iter().any(|p| p.ty == Ty::Varargs);
    for (i, p) in gir.iter().enumerate() {
        let length_param = |n: usize| listed.get(n).map(|&j| (j, &gir[j]));
        // The first element of a variable list (`g_object_new`'s `first_property_name`,
        // `g_markup_collect_attributes`' `first_attr`) may be the NULL that ends it, or not be
        // passed at all where an earlier argument ended it: the annotations do not say.
        let mut r = if variadic && p.name.starts_with("first_") {
            None
        } else {
            rules(spec, types, p, iface.params[i].ty, &names, &length_param)?
        };
        // `text, text_len`: a string with its length, where -1 means up to the NUL.
        if let (Some(r), Some(next)) = (&mut r, gir.get(i + 1)) {
            if r.rules == "string" && is_length(next) {
                r.rules = format!("string.n({})", names[i + 1]);
            }
        }
        let mut part = names[i].clone();
        if let Some(r) = r {
            ruled += 1;
            if r.null_ok {
                part.push('?');
            }
            part.push_str(": ");
            part.push_str(&r.rules);
            if let Some(c) = r.when {
                part.push_str(" when ");
                part.push_str(&c);
            }
        }
        parts.push(part);
    }
    Ok((iface, parts, ruled))
}

/// A parameter's rules.
struct Rules {
    rules: String,
    null_ok: bool,
    when: Option<String>,
}

fn ruled(rules: impl Into<String>, null_ok: bool) -> Option<Rules> {
    Some(Rules {
        rules: rules.into(),
        null_ok,
        when: None,
    })
}

/// The C type the GIR gives a parameter.
fn gir_c_type(t: &Ty) -> Option<&str> {
    match t {
        Ty::Plain { c_type, .. } | Ty::Array { c_type, .. } => c_type.as_deref(),
        _ => None,
    }
}

/// Whether the GIR's spelling of a parameter's type and the database's type `tid` agree for the
/// ABI: the same base type behind the typedefs (LSB spells `gsize` as `gulong`, GLib `gint` as
/// `int`), the same pointer depth; qualifiers aside.
fn same_type(spec: &Spec, gir: &str, tid: i64) -> anyhow::Result<bool> {
    let spaced = gir.replace('*', " * ");
    let words: Vec<&str> = spaced
        .split_whitespace()
        .filter(|w| !matches!(*w, "const" | "volatile"))
        .collect();
    let depth = words.iter().filter(|w| **w == "*").count();
    let base = words
        .iter()
        .filter(|w| **w != "*")
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    let gir_canon = match spec.find_type(&base) {
        Some(t) => canonical(spec, t)?,
        None => base.replace(' ', ""),
    };
    Ok(format!("{gir_canon}{}", "*".repeat(depth)) == canonical(spec, tid)?)
}

/// A type as the ABI sees it: typedefs and qualifiers resolved, pointers as `*`.
fn canonical(spec: &Spec, tid: i64) -> anyhow::Result<String> {
    use crate::model::TypeKind;
    let t = spec.strip(tid)?;
    Ok(match t.kind {
        TypeKind::Pointer | TypeKind::Array => {
            format!("{}*", canonical(spec, t.base.unwrap_or(0))?)
        }
        TypeKind::FuncPtr => "fn".into(),
        TypeKind::Struct | TypeKind::Union | TypeKind::Enum => {
            format!("{}{}", t.kind.as_str().to_lowercase(), t.name)
        }
        _ => crate::sem::intrinsic_name(&t.name).replace(' ', ""),
    })
}

/// Sizes of the GIR's fundamental types on x86-64, for array elements.
fn element_size(name: &str) -> Option<i64> {
    Some(match name {
        "gboolean" | "gint" | "guint" | "gint32" | "guint32" | "gfloat" | "gunichar" => 4,
        "gint8" | "guint8" | "gchar" | "guchar" => 1,
        "gint16" | "guint16" | "gunichar2" => 2,
        "gint64" | "guint64" | "gdouble" | "glong" | "gulong" | "gsize" | "gssize" | "gpointer"
        | "gconstpointer" | "utf8" | "filename" | "GType" | "goffset" | "gintptr" | "guintptr" => 8,
        _ => return None,
    })
}

/// The GIR's signed integer types, whose negative values mean "up to the NUL" for a length.
const SIGNED: [&str; 7] = [
    "gssize", "gint", "glong", "gint64", "gint32", "goffset", "gintptr",
];

/// Functions that test their pointers for NULL themselves: the type checks behind the
/// `G_IS_…`/`G_…` macros (`g_type_check_value (NULL)` is FALSE).
const NULL_CHECKING: [&str; 1] = ["g_type_check_"];

/// Parameters that take the `G_LOG_DOMAIN` macro (`g_assertion_message`, `g_log_structured`,
/// behind `g_assert` and `g_debug`), which is NULL in a program that does not define it.
const NULL_NAMES: [&str; 2] = ["domain", "log_domain"];

/// Types for which NULL has a meaning in C that the annotations, written for language bindings,
/// rarely say: the empty list, the default main context (`g_main_context_wakeup (NULL)` in its
/// own documentation), the instance or class the type-check functions behind the cast macros
/// (`G_OBJECT (NULL)`) take.
const NULL_MEANS: [&str; 5] = [
    "GLib.List",
    "GLib.SList",
    "GLib.MainContext",
    "GObject.TypeInstance",
    "GObject.TypeClass",
];

/// Whether a parameter is an integer named as a length (`length`, `len`, `max`, `text_len`): the
/// length of the string before it, which the annotations give as a plain `utf8`.
fn is_length(p: &Parameter) -> bool {
    let Ty::Plain { name, .. } = &p.ty else {
        return false;
    };
    let n = p.name.as_str();
    p.direction == "in"
        && element_size(name)
            .is_some_and(|_| !matches!(name.as_str(), "utf8" | "filename" | "gpointer"))
        && (matches!(n, "length" | "len" | "max" | "max_len")
            || n.ends_with("_len")
            || n.ends_with("_length"))
}

/// How a parameter's `length=` index finds the length parameter: its position and description.
type LengthParam<'p> = dyn Fn(usize) -> Option<(usize, &'p Parameter)> + 'p;

fn rules<'p>(
    spec: &Spec,
    types: &BTreeMap<String, String>,
    p: &Parameter,
    db_ty: i64,
    names: &[String],
    length_param: &LengthParam<'p>,
) -> Result<Option<Rules>, Skip> {
    let e = |e: anyhow::Error| skip("type error", e.to_string());
    let pointee_size = || -> Result<Option<i64>, Skip> {
        match spec.pointee(db_ty).map_err(e)? {
            Some(t) => spec.size_of(t).map_err(e),
            None => Ok(None),
        }
    };
    if p.direction == "out" || p.direction == "inout" {
        if spec.abi(db_ty).map_err(e)? != Abi::Ptr {
            return Ok(None);
        }
        let rule = if p.direction == "out" { "out" } else { "inout" };
        if let (true, Ty::Array { .. }) = (p.caller_allocates, &p.ty) {
            return array(spec, p, db_ty, rule, names, length_param);
        }
        return Ok(match pointee_size()? {
            Some(_) => ruled(rule, p.null_ok),
            None => None,
        });
    }
    match &p.ty {
        Ty::Missing | Ty::Varargs => Ok(None),
        Ty::Plain { name, c_type } => {
            let c = c_type.as_deref().unwrap_or_default();
            let kind = types.get(name).map(String::as_str);
            Ok(match (name.as_str(), kind) {
                ("utf8" | "filename", _)
                    if c.matches('*').count() == 1 && c.starts_with("const") =>
                {
                    ruled("string", p.null_ok)
                }
                // NULL callbacks are often defaults the annotations do not mention
                // (g_hash_table_new's hash_func): only a non-NULL one must be code.
                (_, Some("callback")) => ruled("code", true),
                (n, Some("record" | "class" | "interface" | "union" | "boxed"))
                    if c.ends_with('*') && !p.null_ok && !NULL_MEANS.contains(&n) =>
                {
                    ruled("nonnull", false)
                }
                _ => None,
            })
        }
        Ty::Array {
            container: Some(_), ..
        } => Ok((!p.null_ok).then(|| Rules {
            rules: "nonnull".into(),
            null_ok: false,
            when: None,
        })),
        Ty::Array {
            zero_terminated: true,
            length: None,
            fixed_size: None,
            element: Some(el),
            ..
        } if el == "utf8" || el == "filename" => Ok(ruled("strarray", p.null_ok)),
        Ty::Array { .. } => array(spec, p, db_ty, "in", names, length_param),
    }
}

/// A C array of a length another parameter (or the GIR) gives: `RULE[N]` of the pointee, or
/// `RULE(N * SIZE)` where the database's pointee is `void`.
fn array<'p>(
    spec: &Spec,
    p: &Parameter,
    db_ty: i64,
    rule: &str,
    names: &[String],
    length_param: &LengthParam<'p>,
) -> Result<Option<Rules>, Skip> {
    let Ty::Array {
        length,
        fixed_size,
        element,
        ..
    } = &p.ty
    else {
        return Ok(None);
    };
    let e = |e: anyhow::Error| skip("type error", e.to_string());
    let (count, when) = match (length, fixed_size) {
        (Some(n), _) => {
            let Some((j, lp)) = length_param(*n) else {
                return Err(skip(
                    "array length out of range",
                    format!("`{}` length={n}", p.name),
                ));
            };
            let Ty::Plain { name: lt, .. } = &lp.ty else {
                return Ok(None);
            };
            if lp.direction != "in" || element_size(lt.as_str()).is_none() {
                return Ok(None);
            }
            let name = &names[j];
            let when = SIGNED
                .contains(&lt.as_str())
                .then(|| format!("{name} >= 0"));
            (name.clone(), when)
        }
        (None, Some(n)) => (n.to_string(), None),
        (None, None) => return Ok(None),
    };
    let Some(el) = element.as_deref().and_then(element_size) else {
        return Ok(None);
    };
    let pointee = spec.pointee(db_ty).map_err(e)?;
    let db_size = match pointee {
        Some(t) => spec.size_of(t).map_err(e)?,
        None => return Ok(None),
    };
    let rules = match db_size {
        Some(s) if s == el => format!("{rule}[{count}]"),
        None if el == 1 => format!("{rule}({count})"),
        None => format!("{rule}({count} * {el})"),
        Some(_) => return Ok(None),
    };
    Ok(Some(Rules {
        rules,
        null_ok: p.null_ok,
        when,
    }))
}
