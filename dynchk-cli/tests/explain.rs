//! `dynchk explain` (from the database embedded at build time), `--version`, man page and completions.

mod common;

use common::{dynchk, text};

#[test]
fn explain_shows_the_prototype_of_a_known_interface() {
    let out = dynchk().args(["explain", "read"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("read(int fd, void *buf, size_t count)"),
        "{stdout}"
    );
}

#[test]
fn explain_of_an_unknown_name_fails_and_says_so() {
    let out = dynchk()
        .args(["explain", "no_such_interface_xyz"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(125));
    assert!(
        text(&out.stderr).contains("`no_such_interface_xyz` is not an interface"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn version_names_the_specification_database() {
    let out = dynchk().arg("--version").output().unwrap();
    let v = text(&out.stdout);
    // dynchk 0.1.0 (spec database 0123456789abcdef)
    let hash = v
        .trim()
        .strip_suffix(')')
        .and_then(|s| s.rsplit_once("spec database "));
    assert!(
        hash.is_some_and(|(_, h)| h.len() == 16 && h.bytes().all(|b| b.is_ascii_hexdigit())),
        "{v}"
    );
}

#[test]
fn man_page_and_completions_come_from_the_option_definitions() {
    let man = dynchk().arg("man").output().unwrap();
    assert!(man.status.success(), "{}", text(&man.stderr));
    let page = text(&man.stdout);
    assert!(
        page.starts_with(".ie") || page.contains(".TH dynchk"),
        "{page}"
    );
    assert!(page.contains("explain"), "{page}");
    let bash = dynchk().args(["completions", "bash"]).output().unwrap();
    assert!(bash.status.success(), "{}", text(&bash.stderr));
    let script = text(&bash.stdout);
    assert!(
        script.contains("complete -F") && script.contains("--fail-on-violation"),
        "{script}"
    );
    let bad = dynchk().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(125));
}
