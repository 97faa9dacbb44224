//! Embeds what `dynchk` needs at run time from the source tree, so that an installed binary works
//! with the tree gone: libdynchk.so, `dynchk explain`'s text for every interface, and the hash of
//! the specification database that `dynchk --version` names.
//!
//! libdynchk.so is built here by a nested `cargo build -p dynchk-preload` with this build's
//! profile, in a target directory of its own. It cannot be an ordinary dependency: cargo builds a
//! test's dependencies with `panic=unwind`, so `cargo test` would build the preload twice into the
//! same unhashed `deps/libdynchk.so`, and which one the binary embedded would depend on timing
//! (artifact dependencies, which would express this, are unstable).

use anyhow::{bail, Context, Result};
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() -> Result<()> {
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    // The same database the preload's build script generates from.
    let db_dir = match std::env::var_os("DYNCHK_SPEC_DB") {
        Some(dir) => PathBuf::from(dir),
        None => manifest.join("../db"),
    };
    println!("cargo:rerun-if-env-changed=DYNCHK_SPEC_DB");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed={}", db_dir.display());

    let mut files = Vec::new();
    walk(&db_dir, &mut files)?;
    files.sort();
    println!(
        "cargo:rustc-env=DYNCHK_DB_HASH={}",
        hash_tree(&db_dir, &files)?
    );

    let mut code = String::from("pub static ENTRIES: &[(&str, &str)] = &[\n");
    for (name, text) in dynchk_gen::explain::explain_each(&db_dir)? {
        writeln!(code, "    ({name:?}, {text:?}),")?;
    }
    code.push_str("];\n");
    // The checks the records name, with what each rule of them tests: suppression files are
    // validated against them and SARIF describes its rules with them.
    let db = dynchk_gen::db::Db::load(&db_dir)?;
    let spec = dynchk_gen::model::Spec::read(&db.conn)?;
    code.push_str("pub static CHECKS: &[(&str, &str, &str)] = &[\n");
    let mut rules: Vec<_> = spec.rules.values().collect();
    rules.sort_by(|a, b| (&a.check, &a.name).cmp(&(&b.check, &b.name)));
    for r in rules {
        writeln!(
            code,
            "    ({:?}, {:?}, {:?}),",
            r.check, r.name, r.description
        )?;
    }
    code.push_str("];\n");
    std::fs::write(out_dir.join("explain_entries.rs"), code)?;

    let lib = build_preload(&manifest, &out_dir)?;
    std::fs::copy(&lib, out_dir.join("libdynchk.so"))
        .with_context(|| format!("copying {}", lib.display()))?;
    Ok(())
}

/// Builds libdynchk.so with this build's profile and returns its path.
fn build_preload(manifest: &Path, out_dir: &Path) -> Result<PathBuf> {
    let workspace = manifest
        .parent()
        .context("dynchk-cli is inside the workspace")?;
    for input in [
        "dynchk-preload",
        "validators",
        "dynchk-gen",
        "templates",
        "Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={}", workspace.join(input).display());
    }
    // OUT_DIR is <target>/<profile>/build/dynchk-cli-<hash>/out; the nested build gets
    // <target>/<profile>/preload (the outer build holds the lock of <target>/<profile>).
    let profile_dir = out_dir
        .ancestors()
        .nth(3)
        .context("OUT_DIR is not in a target dir")?;
    let target_dir = profile_dir.join("preload");
    let profile = match std::env::var("PROFILE")?.as_str() {
        "debug" => "dev".to_string(),
        other => other.to_string(),
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(&cargo)
        .args([
            "build",
            "--locked",
            "-p",
            "dynchk-preload",
            "--lib",
            "--profile",
            &profile,
        ])
        .arg("--target-dir")
        .arg(&target_dir)
        .current_dir(workspace)
        // Under `cargo clippy` the nested build is a plain one.
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .with_context(|| format!("running {}", Path::new(&cargo).display()))?;
    if !status.success() {
        bail!("`cargo build -p dynchk-preload` failed ({status}); see its errors above");
    }
    let dir = if profile == "dev" { "debug" } else { &profile };
    Ok(target_dir.join(dir).join("libdynchk.so"))
}

/// Every file under `dir`, recursively.
fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}

/// FNV-1a (64 bits) over each file's path relative to `root` and its contents, in path order: an
/// identifier of the database's exact text, not a security measure.
fn hash_tree(root: &Path, files: &[PathBuf]) -> Result<String> {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for f in files {
        let rel = f.strip_prefix(root).unwrap_or(f);
        feed(rel.as_os_str().as_encoded_bytes());
        feed(&[0]);
        feed(&std::fs::read(f).with_context(|| format!("reading {}", f.display()))?);
        feed(&[0]);
    }
    Ok(format!("{h:016x}"))
}
