//! `dynchk explain` against the workspace database.

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
fn explain_with_a_missing_database_names_it() {
    let out = dynchk()
        .args(["explain", "read", "--db", "/nonexistent/db"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(125));
    assert!(text(&out.stderr).contains("/nonexistent/db not found"));
}
