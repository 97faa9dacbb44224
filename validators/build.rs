//! Checks every hand-typed constant of src/xlat/tables.rs (`h!(NAME = VALUE)`) and every socket
//! option of src/xlat/sockopt.rs (its value and its value's size) against the C headers the file
//! names, by compiling `_Static_assert`s: a wrong value fails the build. Lists
//! the public functions of the public modules (`validators::FUNCTIONS`), so that the generator's
//! check names a rule whose validator does not exist.

use std::fmt::Write as _;
use std::path::PathBuf;

#[path = "xlat_rows.rs"]
mod xlat_rows;

const TABLES: &str = "src/xlat/tables.rs";
const SOCKOPTS: &str = "src/xlat/sockopt.rs";

fn main() {
    functions();
    sockopts();
    println!("cargo:rerun-if-changed={TABLES}");
    println!("cargo:rerun-if-changed=xlat_rows.rs");
    let src = std::fs::read_to_string(TABLES).expect("validators/src/xlat/tables.rs is readable");
    let checks = xlat_rows::static_asserts(&src, TABLES);
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    for (i, c) in checks.files.iter().enumerate() {
        let path = out.join(format!("xlat_check_{i}.c"));
        std::fs::write(&path, c).expect("write the xlat check");
        syntax_check(&path, TABLES, checks.rows);
    }
}

/// Checks the socket options of src/xlat/sockopt.rs (`o!(LEVEL, NAME = VALUE, SIZE)`, SIZE
/// optionally `= sizeof(C TYPE)`): each VALUE and each sizeof against the C headers.
fn sockopts() {
    println!("cargo:rerun-if-changed={SOCKOPTS}");
    let src =
        std::fs::read_to_string(SOCKOPTS).expect("validators/src/xlat/sockopt.rs is readable");
    let mut c = xlat_rows::prelude(&src, SOCKOPTS);
    let mut rows = 0;
    for (i, line) in src.lines().enumerate() {
        let Some(row) = line.trim().strip_prefix("o!(") else {
            continue;
        };
        let parts = row.strip_suffix("),").and_then(|r| {
            let [_level, option, size] = r.splitn(3, ',').collect::<Vec<_>>()[..] else {
                return None;
            };
            Some((option.split_once('=')?, size))
        });
        let Some(((name, value), size)) = parts else {
            panic!(
                "{SOCKOPTS}:{}: a row is `o!(LEVEL, NAME = VALUE, SIZE),` on one line",
                i + 1
            )
        };
        let (name, value) = (name.trim(), value.trim());
        let _ = writeln!(
            c,
            "_Static_assert((long)({name}) == (long)({value}), \"{SOCKOPTS}:{}: {name} is not {value} in the C headers\");",
            i + 1
        );
        if let Some((size, ty)) = size.split_once("= sizeof") {
            let size = size.trim();
            let _ = writeln!(
                c,
                "_Static_assert(sizeof{ty} == {size}, \"{SOCKOPTS}:{}: sizeof{ty} is not {size}\");",
                i + 1
            );
        }
        rows += 1;
    }
    let path = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR")).join("sockopt_check.c");
    std::fs::write(&path, c).expect("write the socket option check");
    syntax_check(&path, SOCKOPTS, rows);
}

/// Compiles `path` for its `_Static_assert`s only.
fn syntax_check(path: &std::path::Path, file: &str, rows: usize) {
    let compiler = cc::Build::new().cargo_metadata(false).get_compiler();
    let status = compiler
        .to_command()
        .arg("-fsyntax-only")
        .arg(path)
        .status()
        .unwrap_or_else(|e| {
            panic!(
                "{file}: checking its {rows} rows needs a C compiler ({}): {e}; install gcc or set CC",
                compiler.path().display()
            )
        });
    assert!(
        status.success(),
        "{file}: a row disagrees with the C headers (see the compiler's message above)"
    );
}

/// Writes `functions.rs`: `FUNCTIONS`, every `pub fn` at the top level of a module that lib.rs
/// declares `pub mod` (`src/M.rs` or `src/M/mod.rs`), as `M::NAME`, and a function that names
/// each, so that a function this scan lists but the crate lacks fails the build.
fn functions() {
    println!("cargo:rerun-if-changed=src");
    let lib = std::fs::read_to_string("src/lib.rs").expect("validators/src/lib.rs is readable");
    let mut names = Vec::new();
    for module in lib
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod ")?.strip_suffix(';'))
    {
        let file = [format!("src/{module}.rs"), format!("src/{module}/mod.rs")]
            .into_iter()
            .find(|f| std::path::Path::new(f).exists())
            .unwrap_or_else(|| panic!("src/lib.rs: no file for `pub mod {module}`"));
        let src = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
        for line in src.lines() {
            let Some(rest) = ["pub fn ", "pub unsafe fn ", "pub const fn "]
                .iter()
                .find_map(|p| line.strip_prefix(p))
            else {
                continue;
            };
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            names.push(format!("{module}::{name}"));
        }
    }
    names.sort();
    let mut rs = String::from("/// Every public function of the public modules, `module::name` (listed by build.rs).\npub const FUNCTIONS: &[&str] = &[\n");
    for n in &names {
        let _ = writeln!(rs, "    {n:?},");
    }
    rs.push_str("];\n\n#[allow(dead_code)]\nfn _every_function_exists() {\n");
    for n in &names {
        let _ = writeln!(rs, "    let _ = crate::{n};");
    }
    rs.push_str("}\n");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR")).join("functions.rs");
    std::fs::write(out, rs).expect("write functions.rs");
}
