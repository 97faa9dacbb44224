//! The README's install command gives a tool that works with its source tree and build directory
//! gone. One test, because it builds everything from scratch (several minutes).

mod common;

use common::{scratch, text};
use std::path::Path;
use std::process::Command;

/// Copies the files git would put in a clone (tracked ones as they are in the working tree, and
/// new ones not ignored), so that the test checks this tree, committed or not.
fn clone_tree(from: &Path, to: &Path) {
    let out = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(from)
        .output()
        .expect("git is needed for this test");
    assert!(out.status.success(), "git ls-files: {}", text(&out.stderr));
    for name in out.stdout.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let rel = Path::new(std::str::from_utf8(name).unwrap());
        let src = from.join(rel);
        if !src.is_file() {
            continue; // deleted in the working tree
        }
        let dst = to.join(rel);
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::copy(&src, &dst).unwrap();
    }
}

#[test]
fn cargo_install_gives_a_working_tool_without_source_or_build_tree() {
    let dir = scratch("install");
    let src = dir.join("src");
    let root = dir.join("prefix");
    let target = dir.join("build");
    clone_tree(
        Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap(),
        &src,
    );
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // README "Install", plus where to put the binary and the build.
    let out = Command::new(&cargo)
        .args(["install", "--locked", "--path", "dynchk-cli", "--root"])
        .arg(&root)
        .current_dir(&src)
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("DYNCHK_SPEC_DB")
        .output()
        .unwrap();
    assert!(out.status.success(), "cargo install: {}", text(&out.stderr));
    std::fs::remove_dir_all(&src).unwrap();
    std::fs::remove_dir_all(&target).unwrap();
    let installed: Vec<_> = std::fs::read_dir(root.join("bin"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(installed, ["dynchk"], "only the command is installed");

    let dynchk = || {
        let mut c = Command::new(root.join("bin/dynchk"));
        c.env_remove("CARGO_TARGET_DIR")
            .env_remove("DYNCHK_LIB")
            .env_remove("DYNCHK_SPEC_DB")
            .env("XDG_CACHE_HOME", dir.join("cache"))
            .current_dir(&dir);
        c
    };
    let run = dynchk().args(["run", "--", "ls", "/"]).output().unwrap();
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    assert!(
        text(&run.stdout).contains("proc"),
        "ls output: {}",
        text(&run.stdout)
    );
    assert!(stderr.contains("calls checked in 1 process"), "{stderr}");
    let cached: Vec<_> = std::fs::read_dir(dir.join("cache/dynchk"))
        .unwrap()
        .map(|e| e.unwrap().path().join("libdynchk.so"))
        .collect();
    assert!(cached.len() == 1 && cached[0].is_file(), "{cached:?}");

    let explain = dynchk().args(["explain", "read"]).output().unwrap();
    assert!(explain.status.success(), "{}", text(&explain.stderr));
    assert!(text(&explain.stdout).contains("ssize_t read(int fd, void *buf, size_t count)"));

    let version = dynchk().arg("--version").output().unwrap();
    assert!(
        text(&version.stdout).starts_with("dynchk 0.")
            && text(&version.stdout).contains("spec database "),
        "{}",
        text(&version.stdout)
    );
}
