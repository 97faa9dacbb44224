//! Generates the interposers from the specification database, links them with the runtime's
//! version script, and compiles the C shim that holds the variadic entry points.

use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let db_dir = match std::env::var_os("DYNCHK_SPEC_DB") {
        Some(dir) => PathBuf::from(dir),
        None => manifest.join("../db"),
    };
    println!("cargo:rerun-if-env-changed=DYNCHK_SPEC_DB");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=shim/shim.c");

    let built = dynchk_gen::build::run(&db_dir, &out_dir)?;
    for input in &built.inputs {
        println!("cargo:rerun-if-changed={}", input.display());
    }
    println!(
        "cargo:rustc-cdylib-link-arg=-Wl,--version-script={}",
        out_dir.join("exports.map").display()
    );
    // The library must never be unloaded: interposers and destructors registered with the C
    // library point into it.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");

    cc::Build::new()
        .file("shim/shim.c")
        .flag_if_supported("-fvisibility=hidden")
        .flag_if_supported("-ftls-model=initial-exec")
        .warnings(true)
        .extra_warnings(true)
        .compile("dynchk_shim");
    Ok(())
}
