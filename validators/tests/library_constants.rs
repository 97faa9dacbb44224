//! Every hand-typed constant of the other libraries' tables (src/xlat/libraries.rs) is the value
//! their headers give it: each row becomes a `_Static_assert` compiled with the headers of the
//! packages the file's `// pkg-config:` line names (the -dev packages of .ci/run).

#[path = "../xlat_rows.rs"]
mod xlat_rows;

use std::path::{Path, PathBuf};
use std::process::Command;

const FILE: &str = "src/xlat/libraries.rs";

fn source() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(FILE)).unwrap()
}

/// The compiler flags of the packages the file names.
fn cflags(src: &str) -> Vec<String> {
    let packages = src
        .lines()
        .find_map(|l| l.strip_prefix("// pkg-config:"))
        .expect("a `// pkg-config:` line naming the packages");
    let out = Command::new("pkg-config")
        .arg("--cflags")
        .args(packages.split_whitespace())
        .output()
        .expect("pkg-config runs");
    assert!(
        out.status.success(),
        "pkg-config --cflags{packages}: {} (install the -dev packages of .ci/run)",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// Whether every check of `src` compiles; the compiler's complaints otherwise.
fn compiles(src: &str, tag: &str) -> Result<usize, String> {
    let flags = cflags(src);
    let checks = xlat_rows::static_asserts(src, FILE);
    let dir = std::env::temp_dir();
    for (i, c) in checks.files.iter().enumerate() {
        let path: PathBuf = dir.join(format!(
            "dynchk-library-constants-{}-{tag}-{i}.c",
            std::process::id()
        ));
        std::fs::write(&path, c).unwrap();
        let out = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
            .arg("-fsyntax-only")
            .args(&flags)
            .arg(&path)
            .output()
            .expect("the C compiler runs");
        let _ = std::fs::remove_file(&path);
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
    }
    Ok(checks.rows)
}

#[test]
fn library_constants_are_the_values_of_their_headers() {
    let rows = compiles(&source(), "real").unwrap_or_else(|e| panic!("{e}"));
    assert!(rows >= 200, "only {rows} rows checked");
    eprintln!("{rows} constants of {FILE} checked against the headers");
}

/// The check can fail: a row with a wrong value is refused, with the file and line of the row.
#[test]
fn a_wrong_library_constant_is_refused_with_its_line() {
    let src = source();
    let line = src
        .lines()
        .position(|l| l.contains("h!(GCArcMode = 1 << 22)"))
        .expect("the GCArcMode row")
        + 1;
    let wrong = src.replace("h!(GCArcMode = 1 << 22)", "h!(GCArcMode = 1 << 23)");
    let err = compiles(&wrong, "wrong").expect_err("a wrong value compiled");
    assert!(
        err.contains(&format!("{FILE}:{line}: GCArcMode is not 1 << 23")),
        "{err}"
    );
}

/// The grab's pointer events are the slice of the event masks that the protocol names.
#[test]
fn pointer_events_are_button_press_to_keymap_state() {
    let names: Vec<&str> = validators::xlat::X_POINTER_EVENT_MASK
        .rows
        .iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(names.first(), Some(&"ButtonPressMask"));
    assert_eq!(names.last(), Some(&"KeymapStateMask"));
    assert_eq!(names.len(), 13);
}
