//! The C library's headers state part of the database's semantics machine-readably: glibc's
//! `__nonnull ((1, 2))` (the pointer parameters that must not be NULL), `__attr_access` and
//! `__fortified_attr_access` (`__access__ (__write_only__, 2, 3)`: parameter 2 is written for
//! parameter 3's count of elements) and `__format__ (__printf__, 1, 2)`. This test preprocesses the
//! headers (`gcc -E` keeps the `__attribute__`s those macros expand to), reads the attributes of
//! every function declaration, and compares them with the checks the generator plans from
//! `db/semantics`:
//!
//! - `nullable F(P)`: the header says P is nonnull, the database lets it be NULL (`P?`, not
//!   `P?portability`, which reports a NULL as a portability violation);
//! - `unchecked F(P)`: the header says P is nonnull or accessed, the database checks no pointer;
//! - `access F(P)`: the header says the call writes P and the database checks it only readable, or
//!   the header says it only reads P and the database demands it writable;
//! - `length F(P)`: the header gives P's length as parameter N and the database another one;
//! - `format F(P)`: the header says P is a printf (strftime) format and the database does not walk
//!   it as one.
//!
//! Each disagreement is either fixed in the database or listed, with its reason, in
//! `tests/header_exceptions.txt` (`KIND F(P): reason`, one a line); the test fails on a
//! disagreement not listed there and on a listed one that no longer occurs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use dynchk_gen::build::Generator;
use dynchk_gen::model::{Abi, ArgKind};
use dynchk_gen::plan::{Disposition, ParamPlan};

mod common;
use common::HEADERS;

/// What one header declaration's attributes say (parameter numbers are 1-based, as in C).
#[derive(Debug, Default)]
struct Attrs {
    /// `__nonnull__` without arguments: every pointer parameter.
    all_nonnull: bool,
    nonnull: BTreeSet<usize>,
    /// (mode without underscores: `read_only`, `write_only`, `read_write`, `none`; pointer;
    /// size parameter).
    access: Vec<(String, usize, Option<usize>)>,
    /// (archetype without underscores: `printf`, `scanf`, `strftime`, …; format; first argument,
    /// 0 for a `va_list`).
    format: Vec<(String, usize, usize)>,
}

/// C tokens: identifiers and numbers, string and character literals, single punctuation
/// characters (the declarations parsed here need no multi-character operators).
fn tokens(src: &str) -> Vec<String> {
    let b = src.as_bytes();
    let (mut out, mut i) = (Vec::new(), 0);
    while i < b.len() {
        let c = b[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        } else if c.is_ascii_alphanumeric() || c == b'_' {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'.') {
                i += 1;
            }
        } else if c == b'"' || c == b'\'' {
            i += 1;
            while i < b.len() && b[i] != c {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
        } else {
            i += 1;
        }
        out.push(src[start..i.min(b.len())].to_string());
    }
    out
}

/// The index of the token closing the bracket at `open`.
fn close(t: &[String], open: usize) -> usize {
    let mut depth = 0;
    for (i, tok) in t.iter().enumerate().skip(open) {
        match tok.as_str() {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    t.len() - 1
}

/// The top-level items of a translation unit: declarations up to their `;`, function
/// definitions up to the `}` closing their body.
fn items(t: &[String]) -> Vec<&[String]> {
    let (mut out, mut start, mut i) = (Vec::new(), 0, 0);
    while i < t.len() {
        match t[i].as_str() {
            ";" => {
                out.push(&t[start..=i]);
                start = i + 1;
            }
            "(" | "[" => i = close(t, i),
            "{" => {
                let body = i > 0 && t[i - 1] == ")";
                i = close(t, i);
                if body {
                    out.push(&t[start..=i]);
                    start = i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// Words that precede a `(` in a declaration without naming the function.
const NOT_NAMES: &[&str] = &[
    "__attribute__",
    "__asm__",
    "__asm",
    "__typeof__",
    "__typeof",
    "void",
    "char",
    "short",
    "int",
    "long",
    "float",
    "double",
    "signed",
    "unsigned",
    "const",
];

/// The arguments of a parenthesised list starting at `open`, each as its tokens.
fn arguments(t: &[String], open: usize) -> Vec<&[String]> {
    let end = close(t, open);
    let (mut out, mut start, mut i) = (Vec::new(), open + 1, open + 1);
    while i < end {
        match t[i].as_str() {
            "," => {
                out.push(&t[start..i]);
                start = i + 1;
            }
            "(" | "[" | "{" => i = close(t, i),
            _ => {}
        }
        i += 1;
    }
    if start < end {
        out.push(&t[start..end]);
    }
    out
}

fn number(arg: &[String]) -> Option<usize> {
    match arg {
        [n] => n.parse().ok(),
        _ => None,
    }
}

/// One `__attribute__ ((a, b (x, y)))`'s attributes into `attrs`.
fn attributes(t: &[String], at: usize, attrs: &mut Attrs) {
    if t.get(at + 1).map(String::as_str) != Some("(") {
        return;
    }
    for a in arguments(t, at + 1) {
        // Each argument of the outer parentheses is `( list )`.
        let inner = if a.first().map(String::as_str) == Some("(") {
            arguments(a, 0)
        } else {
            vec![a]
        };
        for one in inner {
            let Some(name) = one.first() else { continue };
            let args = if one.get(1).map(String::as_str) == Some("(") {
                arguments(one, 1)
            } else {
                Vec::new()
            };
            let bare = |s: &[String]| s.concat().trim_matches('_').to_string();
            match name.trim_matches('_') {
                "nonnull" if args.is_empty() => attrs.all_nonnull = true,
                "nonnull" => attrs.nonnull.extend(args.iter().filter_map(|a| number(a))),
                "access" if args.len() >= 2 => {
                    if let Some(ptr) = number(args[1]) {
                        let size = args.get(2).and_then(|a| number(a));
                        attrs.access.push((bare(args[0]), ptr, size));
                    }
                }
                "format" if args.len() == 3 => {
                    if let (Some(f), Some(first)) = (number(args[1]), number(args[2])) {
                        attrs.format.push((bare(args[0]), f, first));
                    }
                }
                _ => {}
            }
        }
    }
}

/// The function an `extern` declaration declares and its attributes.
fn declaration(item: &[String]) -> Option<(String, Attrs)> {
    let lead = item.iter().take_while(|t| *t == "__extension__").count();
    if item.get(lead).map(String::as_str) != Some("extern") || item.last()? != ";" {
        return None;
    }
    let mut i = lead + 1;
    let (name, params) = loop {
        let tok = item.get(i)?;
        let next = item.get(i + 1).map(String::as_str);
        if tok == "__attribute__" || tok == "__asm__" || tok == "__asm" {
            i = close(item, i + 1) + 1;
            continue;
        }
        let ident = tok.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
        if ident && next == Some("(") && !NOT_NAMES.contains(&tok.as_str()) {
            break (tok.clone(), i + 1);
        }
        i += 1;
    };
    let params_end = close(item, params);
    let mut attrs = Attrs::default();
    for (j, tok) in item.iter().enumerate() {
        if tok == "__attribute__" && !(params..=params_end).contains(&j) {
            attributes(item, j, &mut attrs);
        }
    }
    Some((name, attrs))
}

/// Every function the C library's headers declare with one of the attributes compared here, and
/// what they say (declarations of one function in several headers are merged).
fn header_attributes(dir: &Path) -> BTreeMap<String, Attrs> {
    let mut c = String::from("#define _GNU_SOURCE\n#define _LARGEFILE64_SOURCE\n");
    for h in HEADERS {
        c.push_str(&format!(
            "#if __has_include(<{h}>)\n#include <{h}>\n#endif\n"
        ));
    }
    let src = dir.join("headers.c");
    std::fs::write(&src, c).unwrap();
    let out = Command::new("gcc")
        .args(["-E", "-P"])
        .arg(&src)
        .output()
        .expect("gcc runs (package gcc)");
    assert!(
        out.status.success(),
        "gcc -E -P {}: {} (the C library's headers come with libc6-dev, see .ci/run)",
        src.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let toks = tokens(&text);
    let mut all: BTreeMap<String, Attrs> = BTreeMap::new();
    for item in items(&toks) {
        let Some((name, a)) = declaration(item) else {
            continue;
        };
        if !a.all_nonnull && a.nonnull.is_empty() && a.access.is_empty() && a.format.is_empty() {
            continue;
        }
        let e = all.entry(name).or_default();
        e.all_nonnull |= a.all_nonnull;
        e.nonnull.extend(a.nonnull);
        for x in a.access {
            if !e.access.contains(&x) {
                e.access.push(x);
            }
        }
        for x in a.format {
            if !e.format.contains(&x) {
                e.format.push(x);
            }
        }
    }
    all
}

/// The rules whose check demands the memory writable.
const WRITE_RULES: &[&str] = &["out", "inout", "zdest"];

/// The rules whose length argument says how far the call reads or writes.
const LENGTH_RULES: &[&str] = &["in", "out", "inout", "string.n", "zdest"];

/// How much the comparison covered: interfaces, then nonnull, access and format parameters.
type Compared = [usize; 4];

/// The disagreements between the headers and the database, keyed `KIND F(P)`, each with what
/// either side says, and how much was compared.
fn disagreements(
    g: &Generator,
    host: &BTreeMap<String, Attrs>,
) -> (BTreeMap<String, String>, Compared) {
    let mut out = BTreeMap::new();
    let mut compared = [0; 4];
    for (iface, plan) in g.spec.interfaces.iter().zip(&g.plans) {
        assert_eq!(iface.name, plan.name, "plans follow the interfaces");
        if !matches!(
            plan.disposition,
            Disposition::Generated | Disposition::Hand(_)
        ) {
            continue;
        }
        let Some(h) = host.get(&iface.name) else {
            continue;
        };
        compared[0] += 1;
        let f = &iface.name;
        let param = |n: usize| -> Option<(&dynchk_gen::model::Param, &ParamPlan)> {
            Some((
                iface.params.get(n.checked_sub(1)?)?,
                plan.params.get(n - 1)?,
            ))
        };
        let pointer_check = |pp: &ParamPlan| {
            pp.checks.iter().any(|c| {
                g.spec
                    .rules
                    .get(&c.rule)
                    .is_some_and(|r| r.signature.first() == Some(&ArgKind::Ptr))
            })
        };
        let mut say = |kind: &str, pp: &ParamPlan, what: String| {
            out.entry(format!("{kind} {f}({})", pp.name))
                .or_insert(format!("{what} ({}, {})", iface.source, plan.prototype));
        };
        let mut nonnull: BTreeSet<usize> = h.nonnull.clone();
        if h.all_nonnull {
            for (i, p) in iface.params.iter().enumerate() {
                if g.spec.abi(p.ty).is_ok_and(|a| a == Abi::Ptr) {
                    nonnull.insert(i + 1);
                }
            }
        }
        for &n in &nonnull {
            let Some((p, pp)) = param(n) else { continue };
            compared[1] += 1;
            // `P?portability` reports NULL, as a portability violation: it agrees.
            if p.nullable && !p.null_portability {
                say(
                    "nullable",
                    pp,
                    format!("the header says nonnull ({n}), the database `?`"),
                );
            } else if !pointer_check(pp) {
                say(
                    "unchecked",
                    pp,
                    format!("the header says nonnull ({n}), the database checks nothing"),
                );
            }
        }
        for (mode, ptr, size) in &h.access {
            let Some((_, pp)) = param(*ptr) else { continue };
            if mode == "none" {
                continue;
            }
            compared[2] += 1;
            let header_writes = mode != "read_only";
            let rules: Vec<&str> = pp.checks.iter().map(|c| c.rule.as_str()).collect();
            let db_writes = rules.iter().any(|r| WRITE_RULES.contains(r));
            if !pointer_check(pp) {
                say(
                    "unchecked",
                    pp,
                    format!("the header says {mode} ({ptr}), the database checks nothing"),
                );
                continue;
            }
            if header_writes != db_writes {
                say(
                    "access",
                    pp,
                    format!(
                        "the header says {mode} ({ptr}), the database {}",
                        rules.join(" ")
                    ),
                );
            }
            let Some(size) = size else { continue };
            let Some((sp, _)) = param(*size) else {
                continue;
            };
            let size_name = sp.name.clone().unwrap_or_default();
            let lengths: Vec<Vec<String>> = p_rules(iface, *ptr)
                .filter(|ru| LENGTH_RULES.contains(&ru.rule.as_str()))
                .map(|ru| {
                    ru.args
                        .exprs()
                        .iter()
                        .flat_map(|e| e.names())
                        .map(|n| n.trim_start_matches('*').to_string())
                        .collect()
                })
                .collect();
            if !lengths.iter().any(|names| names.contains(&size_name)) {
                say(
                    "length",
                    pp,
                    format!(
                        "the header gives its length as parameter {size} ({size_name}), the \
                         database {}",
                        p_rules(iface, *ptr)
                            .map(|ru| format!("{}{}", ru.rule, ru.written))
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                );
            }
        }
        for (kind, fmt, first) in &h.format {
            let want = match (kind.as_str(), first) {
                ("printf" | "gnu_printf", 0) => "vprintf",
                ("printf" | "gnu_printf", _) => "printf",
                ("strftime" | "gnu_strftime", _) => "strftime",
                _ => continue,
            };
            let Some((_, pp)) = param(*fmt) else { continue };
            compared[3] += 1;
            if !pp.checks.iter().any(|c| c.rule == want) {
                say(
                    "format",
                    pp,
                    format!(
                        "the header says a {kind} format ({fmt}, {first}), the database {}",
                        pp.checks
                            .iter()
                            .map(|c| c.rule.as_str())
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                );
            }
        }
    }
    assert!(
        compared[0] > 400 && compared[2] > 50,
        "only {compared:?} interposed interfaces (nonnull, access, format parameters) have \
         attributes in the headers: the extraction is broken"
    );
    (out, compared)
}

/// The rules the database gives parameter `n` (1-based).
fn p_rules(
    iface: &dynchk_gen::model::Interface,
    n: usize,
) -> impl Iterator<Item = &dynchk_gen::model::RuleUse> {
    iface.params.get(n - 1).into_iter().flat_map(|p| &p.rules)
}

const EXCEPTIONS: &str = "tests/header_exceptions.txt";

/// `KIND F(P)` → reason, from [`EXCEPTIONS`].
fn exceptions() -> BTreeMap<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(EXCEPTIONS);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, reason)) = line.split_once(": ").filter(|(_, r)| !r.trim().is_empty())
        else {
            panic!(
                "{EXCEPTIONS}:{}: `{line}` is not `KIND F(P): reason`",
                i + 1
            );
        };
        assert!(
            out.insert(key.to_string(), reason.to_string()).is_none(),
            "{EXCEPTIONS}:{}: `{key}` is listed twice",
            i + 1
        );
    }
    out
}

#[test]
fn header_attributes_agree_with_the_database_or_are_listed() {
    let g = Generator::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../db")).unwrap();
    let dir = std::env::temp_dir().join(format!("dynchk-attrs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let host = header_attributes(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    let (found, compared) = disagreements(&g, &host);
    let listed = exceptions();
    let new: Vec<String> = found
        .iter()
        .filter(|(k, _)| !listed.contains_key(*k))
        .map(|(k, v)| format!("  {k}: {v}"))
        .collect();
    let stale: Vec<&String> = listed.keys().filter(|k| !found.contains_key(*k)).collect();
    eprintln!(
        "compared {} interfaces ({} nonnull, {} access, {} format parameters): {} \
         disagreements, {} listed in {EXCEPTIONS}",
        compared[0],
        compared[1],
        compared[2],
        compared[3],
        found.len(),
        listed.len()
    );
    assert!(
        new.is_empty() && stale.is_empty(),
        "{} disagreements between the C library's headers and the database that {EXCEPTIONS} does \
         not list (fix the rule in db/semantics, or add `KIND F(P): reason` there):\n{}\n{} \
         entries of {EXCEPTIONS} that no longer occur (remove them): {stale:?}",
        new.len(),
        new.join("\n"),
        stale.len()
    );
}

/// The parser reads what glibc's macros expand to.
#[test]
fn attributes_are_read_from_declarations() {
    let src = "extern int execl (const char *__path, const char *__arg, ...) \
               __attribute__ ((__nothrow__ , __leaf__)) __attribute__ ((__nonnull__ (1, 2))); \
               static __inline unsigned f (unsigned x) { return x; } \
               extern void (*signal (int __sig, void (*__h) (int))) (int) __attribute__ ((__nonnull__)); \
               extern ssize_t read (int __fd, void *__buf, size_t __nbytes) \
               __attribute__ ((__access__ (__write_only__, 2, 3))) __attribute__ ((__deprecated__ (\"x;\"))); \
               extern int vsnprintf (char *__s, size_t __n, const char *__f, __gnuc_va_list __a) \
               __attribute__ ((__nothrow__)) __attribute__ ((__format__ (__printf__, 3, 0)));";
    let toks = tokens(src);
    let decls: BTreeMap<String, Attrs> = items(&toks).into_iter().filter_map(declaration).collect();
    let names: Vec<&str> = decls.keys().map(String::as_str).collect();
    assert_eq!(names, ["execl", "read", "signal", "vsnprintf"]);
    assert_eq!(decls["execl"].nonnull, BTreeSet::from([1, 2]));
    assert!(decls["signal"].all_nonnull);
    assert_eq!(
        decls["read"].access,
        [("write_only".to_string(), 2, Some(3))]
    );
    assert_eq!(decls["vsnprintf"].format, [("printf".to_string(), 3, 0)]);
}
