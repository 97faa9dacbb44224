//! Finding libdynchk.so. The search order is documented in `dynchk run --help`; keep them in step.

use anyhow::{bail, Result};
use std::path::{Path, PathBuf};

/// File name cargo gives the preload cdylib.
const LIB_NAME: &str = "libdynchk.so";

/// Where one candidate came from, for the error message.
struct Candidate {
    path: PathBuf,
    origin: &'static str,
}

/// Returns the absolute path of libdynchk.so, or an error naming every place tried and how to build
/// it. An explicit `--lib` or `$DYNCHK_LIB` is never silently replaced by another copy.
pub fn find(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = explicit {
        return check_explicit(p, "--lib");
    }
    if let Some(p) = std::env::var_os("DYNCHK_LIB") {
        return check_explicit(Path::new(&p), "$DYNCHK_LIB");
    }
    let candidates = search_path(
        std::env::current_exe().ok().as_deref(),
        std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from),
    );
    if let Some(found) = candidates.iter().find(|c| c.path.is_file()) {
        return absolute(&found.path);
    }
    let tried: String = candidates
        .iter()
        .map(|c| format!("\n  {} ({})", c.path.display(), c.origin))
        .collect();
    bail!(
        "cannot find {LIB_NAME}; tried:{tried}\n\
         build it with `cargo build --release --workspace` in the dynchk source tree, \
         or give its path with --lib PATH or DYNCHK_LIB=PATH"
    )
}

fn check_explicit(p: &Path, origin: &str) -> Result<PathBuf> {
    if !p.is_file() {
        bail!(
            "{LIB_NAME} given by {origin} does not exist: {} \
             (build it with `cargo build --release --workspace`)",
            p.display()
        );
    }
    absolute(p)
}

/// LD_PRELOAD splits on spaces and colons and resolves relative names against the library path,
/// so only an absolute path without separators is handed to it.
fn absolute(p: &Path) -> Result<PathBuf> {
    let abs = std::fs::canonicalize(p)?;
    let text = abs.to_string_lossy();
    if text.contains([' ', ':']) {
        bail!(
            "the path of {LIB_NAME} contains a space or colon, which LD_PRELOAD cannot express: {}; \
             copy or link it somewhere else and pass --lib",
            abs.display()
        );
    }
    Ok(abs)
}

/// The implicit search order (steps 3 to 5 of `dynchk run --help`).
fn search_path(exe: Option<&Path>, cargo_target: Option<PathBuf>) -> Vec<Candidate> {
    let mut v = Vec::new();
    if let Some(dir) = exe.and_then(Path::parent) {
        v.push(Candidate {
            path: dir.join(LIB_NAME),
            origin: "next to the dynchk executable",
        });
    }
    let targets = cargo_target
        .map(|t| (t, "$CARGO_TARGET_DIR"))
        .into_iter()
        .chain([(crate::source_tree().join("target"), "workspace target dir")]);
    for (target, origin) in targets {
        for profile in ["release", "debug"] {
            v.push(Candidate {
                path: target.join(profile).join(LIB_NAME),
                origin,
            });
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_order_prefers_exe_dir_then_cargo_target_then_workspace_release_first() {
        let c = search_path(
            Some(Path::new("/opt/bin/dynchk")),
            Some(PathBuf::from("/t")),
        );
        let paths: Vec<_> = c.iter().map(|c| c.path.clone()).collect();
        let ws = crate::source_tree().join("target");
        assert_eq!(
            paths,
            vec![
                PathBuf::from("/opt/bin/libdynchk.so"),
                PathBuf::from("/t/release/libdynchk.so"),
                PathBuf::from("/t/debug/libdynchk.so"),
                ws.join("release/libdynchk.so"),
                ws.join("debug/libdynchk.so"),
            ]
        );
    }

    #[test]
    fn explicit_missing_library_is_an_error_naming_it() {
        let e = find(Some(Path::new("/nonexistent/libdynchk.so"))).unwrap_err();
        let msg = format!("{e:#}");
        assert!(msg.contains("/nonexistent/libdynchk.so"), "{msg}");
        assert!(msg.contains("--lib"), "{msg}");
    }
}
