//! Finding libdynchk.so. The search order is documented in `dynchk run --help`; keep them in step.
//!
//! The binary carries the library it was built with (see build.rs), so an installed `dynchk`
//! needs nothing else: the embedded copy is written once to a per-user cache directory, named
//! after dynchk's version and the library's hash, and reused while its contents are unchanged.

use anyhow::{bail, Context, Result};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// File name cargo gives the preload cdylib.
const LIB_NAME: &str = "libdynchk.so";

/// The libdynchk.so built together with this binary.
static EMBEDDED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/libdynchk.so"));

/// Returns the absolute path of libdynchk.so. An explicit `--lib` or `$DYNCHK_LIB` is never
/// silently replaced by another copy.
pub fn find(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = explicit {
        return check_explicit(p, "--lib");
    }
    if let Some(p) = std::env::var_os("DYNCHK_LIB") {
        return check_explicit(Path::new(&p), "$DYNCHK_LIB");
    }
    if let Some(p) = std::env::current_exe().ok().as_deref().and_then(packaged) {
        if p.is_file() {
            return absolute(&p);
        }
    }
    extract(EMBEDDED, &cache_bases())
}

/// `PREFIX/lib/dynchk/libdynchk.so` for `PREFIX/bin/dynchk`: where a distribution package puts it.
fn packaged(exe: &Path) -> Option<PathBuf> {
    Some(exe.parent()?.parent()?.join("lib/dynchk").join(LIB_NAME))
}

fn check_explicit(p: &Path, origin: &str) -> Result<PathBuf> {
    if !p.is_file() {
        bail!(
            "{LIB_NAME} given by {origin} does not exist: {} \
             (leave both --lib and DYNCHK_LIB unset to use the copy built into dynchk)",
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

/// Where the embedded copy may be written, best first: `$XDG_CACHE_HOME/dynchk` (else
/// `~/.cache/dynchk`), then `$TMPDIR/dynchk-UID` for users without a writable home.
fn cache_bases() -> Vec<PathBuf> {
    let home_cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")));
    // SAFETY: geteuid cannot fail.
    let uid = unsafe { libc::geteuid() };
    home_cache
        .map(|c| c.join("dynchk"))
        .into_iter()
        .chain([std::env::temp_dir().join(format!("dynchk-{uid}"))])
        .collect()
}

/// Writes `bytes` to `BASE/VERSION-HASH/libdynchk.so` under the first base that works, unless an
/// identical file is already there, and returns its path.
fn extract(bytes: &[u8], bases: &[PathBuf]) -> Result<PathBuf> {
    let version = format!("{}-{:016x}", env!("CARGO_PKG_VERSION"), fnv1a(bytes));
    let mut failures = String::new();
    for base in bases {
        match extract_under(bytes, base, &version) {
            Ok(p) => return Ok(p),
            Err(e) => failures += &format!("\n  {}: {e:#}", base.display()),
        }
    }
    bail!(
        "cannot write the built-in {LIB_NAME} to a private cache directory:{failures}\n\
         fix one of them, or give a copy with --lib PATH or DYNCHK_LIB=PATH"
    )
}

fn extract_under(bytes: &[u8], base: &Path, version: &str) -> Result<PathBuf> {
    if let Some(parent) = base.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    private_dir(base)?;
    let dir = base.join(version);
    private_dir(&dir)?;
    let path = dir.join(LIB_NAME);
    if same_contents(&path, bytes)? {
        return absolute(&path);
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let tmp = dir.join(format!(".{LIB_NAME}.{}.{nanos}", std::process::id()));
    let written = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o700)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        // Renaming is atomic: a concurrent run sees the old file or the whole new one.
        std::fs::rename(&tmp, &path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot write {}", path.display()));
    }
    if !same_contents(&path, bytes)? {
        bail!("{} changed while it was written", path.display());
    }
    absolute(&path)
}

/// Creates `dir` (mode 0700) if needed and proves that only this user can change it: a directory
/// (not a symbolic link), owned by the effective user, not writable by group or others.
fn private_dir(dir: &Path) -> Result<()> {
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e).with_context(|| format!("cannot create {}", dir.display())),
    }
    let meta = std::fs::symlink_metadata(dir)
        .with_context(|| format!("cannot inspect {}", dir.display()))?;
    // SAFETY: geteuid cannot fail.
    let uid = unsafe { libc::geteuid() };
    if !meta.is_dir() || meta.uid() != uid || meta.mode() & 0o022 != 0 {
        bail!(
            "{} is not a private directory (it must be a directory owned by uid {uid}, \
             writable only by it)",
            dir.display()
        );
    }
    Ok(())
}

/// Whether `path` is a regular file of this user holding exactly `bytes`.
fn same_contents(path: &Path, bytes: &[u8]) -> Result<bool> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e).with_context(|| format!("cannot inspect {}", path.display())),
    };
    // SAFETY: geteuid cannot fail.
    let uid = unsafe { libc::geteuid() };
    if !meta.is_file() || meta.uid() != uid || meta.len() != bytes.len() as u64 {
        return Ok(false);
    }
    let on_disk = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(on_disk == bytes)
}

/// FNV-1a, 64 bits: names the cache directory after the library's contents.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("dynchk-locate-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn embedded_library_is_written_once_private_and_rewritten_when_altered() {
        let base = scratch("once").join("cache/dynchk");
        let p = extract(b"ELF bytes", std::slice::from_ref(&base)).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"ELF bytes");
        let dir_mode = std::fs::metadata(p.parent().unwrap()).unwrap().mode();
        assert_eq!(dir_mode & 0o777, 0o700);
        assert_eq!(std::fs::metadata(&base).unwrap().mode() & 0o777, 0o700);
        let ino = std::fs::metadata(&p).unwrap().ino();
        assert_eq!(
            extract(b"ELF bytes", std::slice::from_ref(&base)).unwrap(),
            p
        );
        assert_eq!(
            std::fs::metadata(&p).unwrap().ino(),
            ino,
            "rewritten although unchanged"
        );
        std::fs::write(&p, b"ELF bytez").unwrap();
        extract(b"ELF bytes", std::slice::from_ref(&base)).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"ELF bytes");
        std::fs::remove_dir_all(base.parent().unwrap().parent().unwrap()).unwrap();
    }

    #[test]
    fn a_shared_cache_directory_is_refused_and_the_next_base_used() {
        let root = scratch("shared");
        let shared = root.join("shared");
        std::fs::create_dir_all(&shared).unwrap();
        std::fs::set_permissions(&shared, std::os::unix::fs::PermissionsExt::from_mode(0o777))
            .unwrap();
        let good = root.join("good");
        let p = extract(b"x", &[shared.clone(), good.clone()]).unwrap();
        assert!(
            p.starts_with(std::fs::canonicalize(&good).unwrap()),
            "{}",
            p.display()
        );
        let e = extract(b"x", std::slice::from_ref(&shared)).unwrap_err();
        assert!(
            format!("{e:#}").contains("not a private directory"),
            "{e:#}"
        );
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn packaged_copy_is_in_prefix_lib_dynchk() {
        assert_eq!(
            packaged(Path::new("/usr/bin/dynchk")).unwrap(),
            Path::new("/usr/lib/dynchk/libdynchk.so")
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
