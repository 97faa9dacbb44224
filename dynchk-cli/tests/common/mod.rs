//! Helpers shared by the integration tests: the dynchk binary, libdynchk.so, scratch directories
//! and tiny C programs compiled for the occasion.
#![allow(dead_code)] // each test file uses its own subset

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The dynchk binary under test, writing its built-in libdynchk.so under the target directory
/// instead of the user's ~/.cache.
pub fn dynchk() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_dynchk"));
    c.env(
        "XDG_CACHE_HOME",
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("cache"),
    )
    .env_remove("DYNCHK_LIB");
    c
}

/// The libdynchk.so that `dynchk run` preloads (the copy built into dynchk, written out), for
/// tests that need its path.
pub fn lib() -> &'static Path {
    static LIB: OnceLock<PathBuf> = OnceLock::new();
    LIB.get_or_init(|| {
        let out = dynchk()
            .args(["run", "--", "sh", "-c", "printf %s \"$LD_PRELOAD\""])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        PathBuf::from(text(&out.stdout))
    })
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
