//! Symbol versions and trampolines: a symbol with several versions is exported once per version
//! and each forwards to its own original; long-double functions go through the assembly
//! trampoline, which keeps the x87 arguments and result intact.

mod common;

use common::{compile, lib, records, scratch, transparent, violations, Run};
use std::process::Command;

fn dyn_syms() -> String {
    let out = Command::new("readelf")
        .args(["--dyn-syms", "-W"])
        .arg(lib())
        .output()
        .expect("readelf runs");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn multi_version_symbols_are_exported_per_version() {
    let syms = dyn_syms();
    for s in [
        "memcpy@@GLIBC_2.14",
        "memcpy@GLIBC_2.2.5",
        "dlopen@@GLIBC_2.34",
        "dlopen@GLIBC_2.2.5",
        "frexpl@@GLIBC_2.2.5",
    ] {
        assert!(
            syms.lines().any(|l| l.ends_with(&format!(" {s}"))),
            "{s} is not exported:\n{syms}"
        );
    }
    // Single-version symbols are unversioned, so a reference to any version binds to them.
    assert!(
        syms.lines().any(|l| l.ends_with(" read")),
        "read must be exported unversioned"
    );
}

/// Copies with memcpy, overlapping (which the 2.2.5 version, an alias of memmove, allows), then
/// into an unmapped destination when asked to.
const MEMCPY: &str = r#"
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
VERSION_DIRECTIVE
int main(int argc, char **argv) {
    char buf[32] = "abcdefghijklmnop";
    memcpy(buf + 2, buf, 8);
    printf("%s\n", buf);
    if (argc > 1) memcpy((void *)0x10, buf, 4);
    return 0;
}
"#;

fn memcpy_program(dir: &std::path::Path, name: &str, directive: &str) -> String {
    let src = MEMCPY.replace("VERSION_DIRECTIVE", directive);
    let exe = compile(dir, name, &src, &["-fno-builtin"]);
    let nm = Command::new("readelf")
        .args(["--dyn-syms", "-W"])
        .arg(&exe)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&nm.stdout).into_owned();
    assert!(text.contains("memcpy@"), "{name} imports memcpy: {text}");
    exe.to_string_lossy().into_owned()
}

#[test]
fn programs_bound_to_either_memcpy_version_run_unchanged_and_are_checked() {
    let dir = scratch("versions-memcpy");
    for (name, directive, version) in [
        (
            "old",
            r#"__asm__(".symver memcpy, memcpy@GLIBC_2.2.5");"#,
            "GLIBC_2.2.5",
        ),
        ("new", "", "GLIBC_2.14"),
    ] {
        let exe = memcpy_program(&dir, name, directive);
        let imports = String::from_utf8_lossy(
            &Command::new("readelf")
                .args(["--dyn-syms", "-W", &exe])
                .output()
                .unwrap()
                .stdout,
        )
        .into_owned();
        assert!(
            imports.contains(&format!("memcpy@{version}")),
            "{name} binds memcpy@{version}:\n{imports}"
        );
        let argv = [exe.as_str()];
        let clean = Run::new(&argv);
        let sub = dir.join(format!("{name}-logs"));
        std::fs::create_dir_all(&sub).unwrap();
        let recs = transparent(&clean, &sub);
        assert!(of_violations(&recs).is_empty(), "{name}: {recs:?}");
        let bad_dir = dir.join(format!("{name}-bad"));
        std::fs::create_dir_all(&bad_dir).unwrap();
        let bad_argv = [exe.as_str(), "bad"];
        let bad = Run::new(&bad_argv);
        bad.go(Some(&bad_dir.join("log.%p")));
        let recs = records(&bad_dir, "log.");
        let v = violations(&recs, "memcpy", "RWaddress");
        assert_eq!(
            v.len(),
            1,
            "{name}: the bad memcpy through {version} is reported once: {recs:?}"
        );
        assert_eq!(v[0]["param"], 0);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn of_violations(recs: &[serde_json::Value]) -> Vec<&serde_json::Value> {
    recs.iter().filter(|r| r["kind"] == "violation").collect()
}

#[test]
fn long_double_functions_keep_their_x87_values_through_the_trampoline() {
    let dir = scratch("versions-x87");
    let src = r#"
#include <math.h>
#include <stdio.h>
int main(int argc, char **argv) {
    int e = 0;
    long double m = frexpl(12345.678L, &e);
    long double s = sqrtl(2.0L) * fmal(3.0L, 4.0L, 0.5L);
    printf("%.18Lg %d %.18Lg %.18Lg\n", m, e, s, ldexpl(m, e));
    if (argc > 1) frexpl(1.0L, (int *)0x10);
    return 0;
}
"#;
    let exe = compile(&dir, "x87", src, &["-fno-builtin", "-lm"]);
    let exe = exe.to_string_lossy().into_owned();
    let sub = dir.join("clean");
    std::fs::create_dir_all(&sub).unwrap();
    let recs = transparent(&Run::new(&[exe.as_str()]), &sub);
    assert!(of_violations(&recs).is_empty(), "{recs:?}");
    let used = recs
        .iter()
        .find(|r| r["kind"] == "summary")
        .expect("summary");
    assert!(used["calls"].as_u64().unwrap() > 0);
    let bad_dir = dir.join("bad");
    std::fs::create_dir_all(&bad_dir).unwrap();
    Run::new(&[exe.as_str(), "bad"]).go(Some(&bad_dir.join("log.%p")));
    let recs = records(&bad_dir, "log.");
    let v = violations(&recs, "frexpl", "RWaddress");
    assert_eq!(
        v.len(),
        1,
        "frexpl's exp pointer is checked by the trampoline's function: {recs:?}"
    );
    assert_eq!(
        (v[0]["param"].as_i64(), v[0]["param_name"].as_str()),
        (Some(1), Some("exp"))
    );
    let _ = std::fs::remove_dir_all(&dir);
}
