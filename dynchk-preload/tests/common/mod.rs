//! Shared by the integration tests: find the built libdynchk.so, compile C programs with the
//! system `cc`, run commands plainly and under the checker, and read the JSON reports.
//!
//! `cargo test -p dynchk-preload` builds the crate's cdylib before the integration tests (the lib
//! target is also an rlib, which makes it a dependency of the tests; see Cargo.toml) into
//! target/<profile>/deps/, the directory of the test executable itself. (Only `cargo build` also
//! copies it up to target/<profile>/, so that copy may be stale during tests.)

#![allow(dead_code)] // each test file uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// Path of the libdynchk.so built alongside this test executable.
pub fn lib() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let lib = exe
        .parent()
        .expect("target/<profile>/deps/<test>")
        .join("libdynchk.so");
    assert!(lib.exists(), "{} not built", lib.display());
    lib
}

/// A fresh, empty scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    // Tests of one binary run in parallel: two asking for the same name would delete each
    // other's logs (a flaky, silent loss), so a name is given out once.
    static TAKEN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut taken = TAKEN.lock().unwrap_or_else(|e| e.into_inner());
    assert!(
        !taken.iter().any(|t| t == name),
        "scratch directory {name:?} is used by two tests of this binary: give each its own name"
    );
    taken.push(name.to_owned());
    drop(taken);
    let dir = std::env::temp_dir().join(format!("dynchk-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Compiles C source `src` into `dir/name` with `cc` (extra arguments after the source).
pub fn compile(dir: &Path, name: &str, src: &str, extra: &[&str]) -> PathBuf {
    compile_with("cc", "c", dir, name, src, extra)
}

/// As [`compile`] for C++ source, with `g++`.
pub fn compile_cxx(dir: &Path, name: &str, src: &str, extra: &[&str]) -> PathBuf {
    compile_with("g++", "cpp", dir, name, src, extra)
}

fn compile_with(
    compiler: &str,
    ext: &str,
    dir: &Path,
    name: &str,
    src: &str,
    extra: &[&str],
) -> PathBuf {
    let c = dir.join(format!("{name}.{ext}"));
    std::fs::write(&c, src).expect("write source");
    let out = dir.join(name);
    let status = Command::new(compiler)
        .args([
            "-O0",
            "-g",
            "-Wno-nonnull",
            "-Wno-free-nonheap-object",
            "-o",
        ])
        .arg(&out)
        .arg(&c)
        .args(extra)
        .status()
        .unwrap_or_else(|e| panic!("run {compiler}: {e}"));
    assert!(status.success(), "{compiler} failed for {name}");
    out
}

/// How to run a command.
pub struct Run<'a> {
    /// Program and arguments.
    pub argv: &'a [&'a str],
    /// Extra environment.
    pub env: &'a [(&'a str, &'a str)],
    /// Working directory.
    pub cwd: Option<&'a Path>,
    /// Standard input.
    pub stdin: Option<&'a [u8]>,
}

impl<'a> Run<'a> {
    /// A command with no extra environment, run in the current directory with empty stdin.
    pub fn new(argv: &'a [&'a str]) -> Self {
        Run {
            argv,
            env: &[],
            cwd: None,
            stdin: None,
        }
    }

    /// Runs it; `log` set means under the checker, reporting to `log` (a `DYNCHK_LOG` template).
    pub fn go(&self, log: Option<&Path>) -> Output {
        let mut cmd = Command::new(self.argv[0]);
        cmd.args(&self.argv[1..])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in self.env {
            cmd.env(k, v);
        }
        if let Some(dir) = self.cwd {
            cmd.current_dir(dir);
        }
        if let Some(log) = log {
            cmd.env("LD_PRELOAD", lib()).env("DYNCHK_LOG", log);
        }
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {:?}: {e}", self.argv));
        let input = self.stdin.unwrap_or(b"").to_vec();
        let mut stdin = child.stdin.take().expect("stdin");
        let writer = std::thread::spawn(move || {
            use std::io::Write;
            let _ = stdin.write_all(&input);
        });
        let out = child.wait_with_output().expect("wait");
        writer.join().expect("stdin writer");
        out
    }
}

/// Every JSON record in the files of `dir` whose name starts with `prefix`, in file order.
pub fn records(dir: &Path, prefix: &str) -> Vec<Value> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("read scratch dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
        })
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read log");
        for line in text.lines() {
            let v: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{}: not JSON ({e}): {line}", f.display()));
            out.push(v);
        }
    }
    out
}

/// The records of one kind.
pub fn of_kind<'a>(records: &'a [Value], kind: &str) -> Vec<&'a Value> {
    records.iter().filter(|r| r["kind"] == kind).collect()
}

/// The violations of `interface` with `check`.
pub fn violations<'a>(records: &'a [Value], interface: &str, check: &str) -> Vec<&'a Value> {
    records
        .iter()
        .filter(|r| r["kind"] == "violation" && r["interface"] == interface && r["check"] == check)
        .collect()
}

/// Asserts that `interface` broke `check` exactly once among `records`; `context` (may be empty)
/// leads the failure message, which then lists every record.
pub fn assert_reported_once(records: &[Value], interface: &str, check: &str, context: &str) {
    let found = violations(records, interface, check).len();
    assert_eq!(
        found, 1,
        "{context}{interface} {check} reported {found} times: {records:?}"
    );
}

/// Runs `run` plainly and under the checker and asserts identical stdout, stderr and exit status;
/// returns the checker's records (log files `log.<pid>` in `dir`).
pub fn transparent(run: &Run<'_>, dir: &Path) -> Vec<Value> {
    let plain = run.go(None);
    let checked = run.go(Some(&dir.join("log.%p")));
    assert_eq!(
        checked.status.code(),
        plain.status.code(),
        "exit status of {:?}",
        run.argv
    );
    assert!(
        checked.stdout == plain.stdout,
        "stdout of {:?} differs:\nplain:\n{}\nchecked:\n{}",
        run.argv,
        tail(&plain.stdout),
        tail(&checked.stdout)
    );
    assert!(
        checked.stderr == plain.stderr,
        "stderr of {:?} differs:\nplain:\n{}\nchecked:\n{}",
        run.argv,
        tail(&plain.stderr),
        tail(&checked.stderr)
    );
    records(dir, "log.")
}

fn tail(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(b);
    s.chars()
        .rev()
        .take(2000)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect()
}

/// The summary records, asserting that every one is well-formed.
pub fn summaries(records: &[Value]) -> Vec<&Value> {
    let s = of_kind(records, "summary");
    for r in &s {
        for field in [
            "pid",
            "calls",
            "checked",
            "violations",
            "distinct",
            "interfaces_used",
        ] {
            assert!(r[field].is_u64(), "summary field {field} missing: {r}");
        }
        assert!(r["by_check"].is_object(), "summary by_check: {r}");
    }
    s
}
