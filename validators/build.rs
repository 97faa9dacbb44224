//! Checks every hand-typed constant of src/xlat/tables.rs (`h!(NAME = VALUE)`) against the C
//! headers the file names, by compiling `_Static_assert`s: a wrong value fails the build. Lists
//! the public functions of the public modules (`validators::FUNCTIONS`), so that the generator's
//! check names a rule whose validator does not exist.

use std::fmt::Write as _;
use std::path::PathBuf;

const TABLES: &str = "src/xlat/tables.rs";

fn main() {
    functions();
    println!("cargo:rerun-if-changed={TABLES}");
    let src = std::fs::read_to_string(TABLES).expect("validators/src/xlat/tables.rs is readable");
    let headers = src
        .lines()
        .find_map(|l| l.strip_prefix("// C headers:"))
        .unwrap_or_else(|| panic!("{TABLES}: no `// C headers:` line naming the headers"));
    let mut c = String::from("#define _GNU_SOURCE\n");
    for h in headers.split_whitespace() {
        let _ = writeln!(c, "#include <{h}>");
    }
    // Rows whose constant only a kernel header defines (one that conflicts with glibc's) say so
    // (`h!(NAME = VALUE), // kernel header: asm/signal.h`) and are checked in a file of their own.
    let mut alone: std::collections::BTreeMap<&str, String> = Default::default();
    let mut rows = 0;
    for (i, line) in src.lines().enumerate() {
        // A row is one line: `h!(NAME = VALUE),`.
        let Some(row) = line.trim().strip_prefix("h!(") else {
            continue;
        };
        let (row, header) = match row.split_once("// kernel header:") {
            Some((r, h)) => (r.trim(), Some(h.trim())),
            None => (row, None),
        };
        let (name, value) = row
            .trim_end_matches(',')
            .strip_suffix(')')
            .and_then(|r| r.split_once('='))
            .unwrap_or_else(|| {
                panic!(
                    "{TABLES}:{}: a row is `h!(NAME = VALUE),` on one line",
                    i + 1
                )
            });
        let (name, value) = (name.trim(), value.trim());
        let file = match header {
            Some(h) => alone
                .entry(h)
                .or_insert_with(|| format!("#include <{h}>\n")),
            None => &mut c,
        };
        let _ = writeln!(
            file,
            "_Static_assert((long)({name}) == (long)({value}), \"{TABLES}:{}: {name} is not {value} in the C headers\");",
            i + 1
        );
        rows += 1;
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    let files = std::iter::once(("xlat_check.c".to_owned(), c)).chain(
        alone
            .into_iter()
            .enumerate()
            .map(|(i, (_, src))| (format!("xlat_check_{i}.c"), src)),
    );
    for (name, src) in files {
        let path = out.join(name);
        std::fs::write(&path, src).expect("write the xlat check");
        syntax_check(&path, rows);
    }
}

/// Compiles `path` for its `_Static_assert`s only.
fn syntax_check(path: &std::path::Path, rows: usize) {
    let compiler = cc::Build::new().cargo_metadata(false).get_compiler();
    let status = compiler
        .to_command()
        .arg("-fsyntax-only")
        .arg(path)
        .status()
        .unwrap_or_else(|e| {
            panic!(
                "{TABLES}: checking its {rows} hand-typed constants needs a C compiler ({}): {e}; install gcc or set CC",
                compiler.path().display()
            )
        });
    assert!(
        status.success(),
        "{TABLES}: a hand-typed constant disagrees with the C headers (see the compiler's message above)"
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
