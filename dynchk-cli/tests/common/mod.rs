//! Helpers shared by the integration tests: the dynchk binary, libdynchk.so, scratch directories
//! and tiny C programs compiled for the occasion.
#![allow(dead_code)] // each test file uses its own subset

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The dynchk binary under test.
pub fn dynchk() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dynchk"))
}

/// libdynchk.so for the end-to-end tests: `$DYNCHK_LIB`, else the one next to the dynchk binary,
/// (re)built once per test process with the same cargo, target dir and profile, because
/// `cargo test` does not build a cdylib there and an old copy would test stale code. Panics with
/// the reason when there is none, so that an end-to-end test can never pass without the library.
pub fn lib() -> &'static Path {
    static LIB: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match LIB.get_or_init(find_or_build_lib) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

fn find_or_build_lib() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("DYNCHK_LIB") {
        return Ok(PathBuf::from(p));
    }
    let profile_dir = Path::new(env!("CARGO_BIN_EXE_dynchk")).parent().unwrap();
    let lib = profile_dir.join("libdynchk.so");
    let profile = profile_dir.file_name().unwrap().to_str().unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(&cargo)
        .args(["build", "-p", "dynchk-preload", "--profile"])
        .arg(if profile == "debug" { "dev" } else { profile })
        .env("CARGO_TARGET_DIR", profile_dir.parent().unwrap())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .map_err(|e| format!("cannot run {cargo} to build libdynchk.so: {e}"))?;
    if !out.status.success() || !lib.is_file() {
        return Err(format!(
            "`cargo build -p dynchk-preload` did not produce {}; fix the build or point \
             DYNCHK_LIB at a libdynchk.so. cargo said:\n{}",
            lib.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(lib)
}

/// A fresh empty directory for one test, removed when the test passes (kept for inspection when
/// it fails).
pub struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<std::ffi::OsStr> for Scratch {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.0.as_os_str()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Creates the scratch directory `name` of this test process.
pub fn scratch(name: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("dynchk-cli-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Scratch(dir)
}

/// Compiles `source` with debug info into `dir/name` and returns the executable's path.
pub fn c_program(dir: &Path, name: &str, source: &str) -> PathBuf {
    let src = dir.join(format!("{name}.c"));
    let exe = dir.join(name);
    std::fs::write(&src, source).unwrap();
    let out = Command::new("cc")
        .args(["-g", "-O0", "-o"])
        .arg(&exe)
        .arg(&src)
        .output()
        .expect("a C compiler (cc) is needed for this test");
    assert!(
        out.status.success(),
        "cc failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

/// Output of a finished command as text, for assertion messages.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
