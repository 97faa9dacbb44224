//! The generated code of a dozen representative interfaces, compared with the files under
//! `tests/golden/`, so that a reviewer sees what a change to the database, the generator or the
//! templates does to the output. `DYNCHK_BLESS=1 cargo test -p dynchk-gen --test golden` rewrites
//! them.

use dynchk_gen::build::Generator;
use dynchk_gen::render;
use std::path::Path;

/// Generated interposers (or, for hand-coded ones, their `checks::NAME` function) of every kind:
/// scalar and memory rules, arrays of structs, conditional rules, hooks, several symbol
/// versions, variadics, trampolines, callbacks, two checks one look at the windows settles
/// (`memcpy`'s buffers, `strcoll`'s strings).
const INTERFACES: [&str; 13] = [
    "read",
    "readv",
    "open",
    "memcpy",
    "connect",
    "sendmsg",
    "fopen",
    "printf",
    "dlopen",
    "mmap",
    "qsort",
    "pthread_create",
    "strcoll",
];

/// The code of `name`, with the index into `IFACES` (which moves whenever an interface is
/// added) written as `N`.
fn code(g: &Generator, name: &str) -> String {
    let plan = g
        .plan(name)
        .unwrap_or_else(|| panic!("{name} is not in the database"));
    let code = render::code_of(&g.spec, plan).unwrap_or_else(|e| panic!("{name}: {e:#}"));
    let index = format!("IFACES[{}]", plan.index);
    code.replace(&index, "IFACES[N]")
}

#[test]
fn generated_code_matches_the_golden_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let g = Generator::load(&root.join("../db")).unwrap();
    let dir = root.join("tests/golden");
    let bless = std::env::var_os("DYNCHK_BLESS").is_some();
    let mut stale = Vec::new();
    for name in INTERFACES {
        let got = code(&g, name);
        let path = dir.join(format!("{name}.rs.txt"));
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_default();
        if got != want {
            let line = got
                .lines()
                .zip(want.lines().chain(std::iter::repeat("")))
                .position(|(a, b)| a != b)
                .map_or(got.lines().count() + 1, |l| l + 1);
            stale.push(format!("{} (from line {line})", path.display()));
        }
    }
    assert!(
        stale.is_empty(),
        "the generated code differs from {}; if the change is meant, refresh them with \
         DYNCHK_BLESS=1 cargo test -p dynchk-gen --test golden and review the diff",
        stale.join(", ")
    );
    // No golden file of an interface the test no longer renders.
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        let name = file.strip_suffix(".rs.txt").unwrap_or(&file);
        assert!(
            INTERFACES.contains(&name),
            "{}: not a golden file of INTERFACES; remove it",
            e.path().display()
        );
    }
}
