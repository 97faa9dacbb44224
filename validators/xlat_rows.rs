//! The hand-typed rows of a constants file (`h!(NAME = VALUE),`, one a line) as C
//! `_Static_assert`s against the headers its `// C headers:` line names: build.rs compiles those
//! of the C library's tables (src/xlat/tables.rs), tests/library_constants.rs those of the other
//! libraries' (src/xlat/libraries.rs), whose headers come with -dev packages.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The C files that check the rows of one constants file, and how many rows they check.
pub struct Checks {
    pub files: Vec<String>,
    pub rows: usize,
}

/// `#define _GNU_SOURCE` and the includes of the `// C headers:` line of `src`, the text of the
/// file `shown` (as messages name it).
pub fn prelude(src: &str, shown: &str) -> String {
    let headers = src
        .lines()
        .find_map(|l| l.strip_prefix("// C headers:"))
        .unwrap_or_else(|| panic!("{shown}: no `// C headers:` line naming the headers"));
    let mut c = String::from("#define _GNU_SOURCE\n");
    for h in headers.split_whitespace() {
        let _ = writeln!(c, "#include <{h}>");
    }
    c
}

/// The checks of `src`, the text of the constants file `shown` (as messages name it).
pub fn static_asserts(src: &str, shown: &str) -> Checks {
    let mut c = prelude(src, shown);
    // Rows whose constant only a kernel header defines (one that conflicts with glibc's) say so
    // (`h!(NAME = VALUE), // kernel header: asm/signal.h`) and are checked in a file of their own.
    let mut alone: BTreeMap<&str, String> = BTreeMap::new();
    let mut rows = 0;
    for (i, line) in src.lines().enumerate() {
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
                    "{shown}:{}: a row is `h!(NAME = VALUE),` on one line",
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
            "_Static_assert((long)({name}) == (long)({value}), \"{shown}:{}: {name} is not {value} in the C headers\");",
            i + 1
        );
        rows += 1;
    }
    Checks {
        files: std::iter::once(c).chain(alone.into_values()).collect(),
        rows,
    }
}
