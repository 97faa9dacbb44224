//! Every generated interposer forwards its arguments with the register widths the database gives.
//! A prototype that is wrong in the database (the LSB data says `int readlink(…)`; glibc returns
//! `ssize_t`) would cut a 64-bit result or drop arguments. This test compares, for every interface
//! the host's headers declare, the number of parameters and the ABI class and width of each
//! parameter and of the result with the database's. The host side comes from GCC: `-aux-info`
//! lists the prototypes of a translation unit that includes the headers, and
//! `__builtin_classify_type` / `sizeof` classify every type spelled there.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use dynchk_gen::build::Generator;
use dynchk_gen::model::Abi;
use dynchk_gen::plan::Disposition;

mod common;
use common::HEADERS;

/// (class, width) as the calling convention sees it; integers up to 4 bytes travel alike.
fn host_class(classify: i64, size: u64) -> (&'static str, u64) {
    match (classify, size) {
        (1..=5, s) if s <= 4 => ("int", 4),
        (1..=5, s) => ("int", s),
        (8, 16) => ("x87", 16),
        (8, s) => ("sse", s),
        (9, 32) => ("x87", 32),
        (9, s) => ("complex", s),
        (_, s) => ("aggregate", s),
    }
}

fn db_class(abi: Abi, size: Option<i64>) -> (&'static str, u64) {
    match abi {
        Abi::Int { size, .. } if size <= 4 => ("int", 4),
        Abi::Int { size, .. } => ("int", size as u64),
        Abi::Ptr => ("int", 8),
        Abi::F32 => ("sse", 4),
        Abi::F64 => ("sse", 8),
        Abi::X87 => ("x87", size.unwrap_or(16) as u64),
        Abi::Complex(s) => ("complex", 2 * s as u64),
        Abi::Aggregate { size, .. } => ("aggregate", size as u64),
        Abi::Void => ("void", 0),
        Abi::Variadic => ("...", 0),
        Abi::Unknown => ("unknown", 0),
    }
}

fn split_top(s: &str) -> Vec<String> {
    let (mut out, mut depth, mut cur) = (Vec::new(), 0, String::new());
    for c in s.chars() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ',' if depth == 0 => {
                out.push(cur.trim().to_string());
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// The index of the `)` closing the `(` that `s` starts with.
fn split_top_end(s: &str) -> usize {
    let mut depth = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    s.len()
}

/// name → (return type text, parameter type texts) from `-aux-info` lines such as
/// `/* /usr/include/unistd.h:838:NC */ extern ssize_t readlink (const char *, char *, size_t);`
fn prototypes(aux: &str) -> BTreeMap<String, (String, Vec<String>)> {
    let mut out = BTreeMap::new();
    for line in aux.lines() {
        let Some(decl) = line.split_once("*/ ").map(|(_, d)| d.trim()) else {
            continue;
        };
        let Some(decl) = decl
            .strip_prefix("extern ")
            .and_then(|d| d.strip_suffix(';'))
        else {
            continue;
        };
        // A function returning a function pointer: `int (*XESetCloseDisplay (Display *, …)) (…)`.
        let returns_fnptr = decl
            .find(" (")
            .map(|open| (open, decl[open + 2..].starts_with('*')));
        if let Some((at, true)) = returns_fnptr {
            let rest = &decl[at + 3..];
            if let Some(open) = rest.find(" (") {
                let close = open + 1 + split_top_end(&rest[open + 1..]);
                let params = split_top(&rest[open + 2..close]);
                out.insert(rest[..open].trim().to_string(), ("(*)".into(), params));
            }
            continue;
        }
        // The name is the identifier before the first " (" at depth 0.
        let Some(open) = decl.find(" (") else {
            continue;
        };
        let head = &decl[..open];
        let (ret, name) = match head.rfind([' ', '*']) {
            Some(i) => (head[..=i].trim(), head[i + 1..].trim()),
            None => continue,
        };
        let params = decl[open + 2..decl.len() - 1].to_string();
        let mut params = split_top(&params);
        if params == ["void"] {
            params.clear();
        }
        out.insert(name.to_string(), (ret.to_string(), params));
    }
    out
}

fn scratch() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("dynchk-abi-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// pkg-config modules whose include directories the libraries' headers need (`glib.h` includes
/// `glib/galloca.h` from /usr/include/glib-2.0, `fcfreetype.h` includes freetype's `ft2build.h`).
const PKG_CONFIG: &[&str] = &[
    "glib-2.0",
    "gobject-2.0",
    "gmodule-2.0",
    "libxml-2.0",
    "fontconfig",
    "freetype2",
    "libpng",
];

/// The compiler flags of [`PKG_CONFIG`]'s modules.
fn cflags() -> Vec<String> {
    let out = Command::new("pkg-config")
        .arg("--cflags")
        .args(PKG_CONFIG)
        .output()
        .expect("pkg-config runs (package pkg-config)");
    assert!(
        out.status.success(),
        "pkg-config --cflags {}: {} (install the libraries' -dev packages, see .ci/run)",
        PKG_CONFIG.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// library name → the headers its interfaces name (`Interface.header`), the one most of them
/// name first (X11/Xlib.h before X11/Xutil.h, which needs it).
fn headers_by_library(g: &Generator) -> BTreeMap<String, Vec<String>> {
    let db =
        dynchk_gen::db::Db::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../db")).unwrap();
    let mut stmt = db
        .conn
        .prepare(
            "SELECT Library.name, header, count(*) FROM Interface JOIN Library USING (lid) \
             WHERE header IS NOT NULL AND header != '' GROUP BY Library.name, header",
        )
        .unwrap();
    let mut counts: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
    for row in stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
    {
        let (lib, header, n): (String, String, i64) = row.unwrap();
        counts.entry(lib).or_default().push((-n, header));
    }
    g.spec
        .libraries
        .iter()
        .map(|l| {
            let mut hs = counts.remove(&l.name).unwrap_or_default();
            hs.sort();
            (l.name.clone(), hs.into_iter().map(|(_, h)| h).collect())
        })
        .collect()
}

/// Headers that other headers under a directory need first and do not include themselves (the X
/// extensions' headers use Xlib's types), or that declare what LSB places in a header of that
/// directory (Xlib's extension hooks XESet* are in Xlibint.h).
const PREREQUISITES: &[(&str, &str)] = &[("X11/", "X11/Xlib.h"), ("X11/", "X11/Xlibint.h")];

/// The C library's headers ([`HEADERS`]), then `extra` after their [`PREREQUISITES`], each
/// guarded by `__has_include`.
fn prelude(extra: &[String]) -> String {
    // Xutil.h declares XDestroyImage, XGetPixel, … as functions (not only as macros) with this.
    let mut c = String::from(
        "#define _GNU_SOURCE\n#define _LARGEFILE64_SOURCE\n#define XUTIL_DEFINE_FUNCTIONS\n",
    );
    // The fixed list first: its order is the one that compiles (a few headers need others first).
    let mut list: Vec<&str> = HEADERS.to_vec();
    for h in extra {
        for (dir, first) in PREREQUISITES {
            if h.starts_with(dir) && !list.contains(first) {
                list.push(first);
            }
        }
        if !list.contains(&h.as_str()) {
            list.push(h);
        }
    }
    for h in list {
        c.push_str(&format!(
            "#if __has_include(<{h}>)\n#include <{h}>\n#endif\n"
        ));
    }
    c
}

fn gcc(args: &[&std::ffi::OsStr], flags: &[String]) {
    let out = Command::new("gcc")
        .args(flags)
        .args(args)
        .output()
        .expect("gcc runs");
    assert!(
        out.status.success(),
        "gcc {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The host's prototypes in one translation unit, and the ABI class of every non-pointer type
/// text that the prototypes of `names` spell.
struct Unit {
    protos: BTreeMap<String, (String, Vec<String>)>,
    class: BTreeMap<String, (&'static str, u64)>,
}

impl Unit {
    fn compile(dir: &Path, tag: &str, prelude: &str, flags: &[String], names: &[&str]) -> Unit {
        let src = dir.join(format!("{tag}-protos.c"));
        std::fs::write(&src, prelude).unwrap();
        let aux = dir.join(format!("{tag}-protos.aux"));
        gcc(
            &[
                "-fsyntax-only".as_ref(),
                "-aux-info".as_ref(),
                aux.as_os_str(),
                src.as_os_str(),
            ],
            flags,
        );
        let protos = prototypes(&std::fs::read_to_string(&aux).unwrap());
        let mut texts = BTreeSet::new();
        for n in names {
            if let Some((ret, params)) = protos.get(*n) {
                for t in std::iter::once(ret).chain(params) {
                    if !t.contains(['*', '[', '(']) && t != "void" && t != "..." {
                        texts.insert(t.clone());
                    }
                }
            }
        }
        let texts: Vec<String> = texts.into_iter().collect();
        let mut c = prelude.to_string();
        for (i, t) in texts.iter().enumerate() {
            c.push_str(&format!("static {t} v{i};\n"));
        }
        c.push_str("int main(void) {\n");
        for i in 0..texts.len() {
            c.push_str(&format!(
                "  printf(\"%d %zu\\n\", __builtin_classify_type(v{i}), sizeof v{i});\n"
            ));
        }
        c.push_str("  return 0;\n}\n");
        let csrc = dir.join(format!("{tag}-classify.c"));
        std::fs::write(&csrc, c).unwrap();
        let exe = dir.join(format!("{tag}-classify"));
        gcc(
            &[
                "-w".as_ref(),
                "-o".as_ref(),
                exe.as_os_str(),
                csrc.as_os_str(),
                "-lm".as_ref(),
            ],
            flags,
        );
        let run = Command::new(&exe).output().unwrap();
        let mut class = BTreeMap::new();
        for (t, line) in texts
            .into_iter()
            .zip(String::from_utf8_lossy(&run.stdout).lines())
        {
            let mut it = line.split(' ').map(|n| n.parse::<i64>().unwrap());
            let (k, s) = (it.next().unwrap(), it.next().unwrap() as u64);
            class.insert(t, host_class(k, s));
        }
        Unit { protos, class }
    }

    fn host(&self, t: &str) -> (&'static str, u64) {
        match t {
            "void" => ("void", 0),
            "..." => ("...", 0),
            // glibc's transparent unions of socket address pointers travel as one pointer.
            "__SOCKADDR_ARG" | "__CONST_SOCKADDR_ARG" => ("int", 8),
            t if t.contains(['*', '[', '(']) => ("int", 8),
            t => self.class[t],
        }
    }
}

/// Every interposed interface of every library, compared with the host's prototype: one
/// translation unit per library (the C library's headers, then the library's own: curses' term.h
/// defines macros such as `lines` that other libraries' headers would trip over). Outside the C
/// library (whose headers are the reference and declare a few LSB names elsewhere or not at
/// all), an interposed interface the host's headers do not declare fails too: its ABI would be
/// unchecked.
#[test]
fn database_prototypes_have_the_host_abi() {
    let g = Generator::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../db")).unwrap();
    let dir = scratch();
    let flags = cflags();
    let mut compared = BTreeMap::new();
    let mut wrong = Vec::new();
    for (lib, own) in headers_by_library(&g) {
        let interposed: Vec<_> = g
            .plans
            .iter()
            .filter(|p| p.lib == lib && p.disposition == Disposition::Generated)
            .collect();
        if interposed.is_empty() {
            continue;
        }
        let c_core = own.iter().any(|h| HEADERS.contains(&h.as_str()));
        let names: Vec<&str> = interposed.iter().map(|p| p.name.as_str()).collect();
        let unit = Unit::compile(&dir, &lib, &prelude(&own), &flags, &names);
        let n = compared.entry(lib.clone()).or_insert(0);
        for p in &interposed {
            let Some((hret, hparams)) = unit.protos.get(&p.name) else {
                if !c_core {
                    wrong.push(format!(
                        "{} ({lib}, {}): not declared by the host's headers ({}): fix its header \
                         or exclude it with a reason",
                        p.name,
                        p.source,
                        own.join(", ")
                    ));
                }
                continue;
            };
            let iface = g
                .spec
                .interfaces
                .iter()
                .find(|i| i.name == p.name && i.lib == p.lib)
                .unwrap();
            let dret = db_class(
                g.spec.abi(iface.ret).unwrap(),
                g.spec.size_of(iface.ret).unwrap(),
            );
            let dparams: Vec<_> = iface
                .params
                .iter()
                .map(|q| db_class(g.spec.abi(q.ty).unwrap(), g.spec.size_of(q.ty).unwrap()))
                .collect();
            let hp: Vec<_> = hparams.iter().map(|t| unit.host(t)).collect();
            *n += 1;
            if unit.host(hret) != dret || hp != dparams {
                wrong.push(format!(
                    "{} ({lib}, {}): host {hret} ({}) vs database {}",
                    p.name,
                    p.source,
                    hparams.join(", "),
                    p.prototype
                ));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("compared with the host headers: {compared:?}");
    assert!(
        wrong.is_empty(),
        "{} prototypes differ from the host ABI:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert!(
        compared.get("libc").is_some_and(|&n| n > 900),
        "only {compared:?} interfaces compared with the host headers"
    );
}
