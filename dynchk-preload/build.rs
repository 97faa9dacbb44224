//! Generates the interposers from the specification database, links them with the runtime's
//! version script, and compiles the C shim that holds the variadic entry points.

use std::path::PathBuf;

/// The primitives the compiler calls on its own, which the generated code may also interpose.
const WRAPPED: [&str; 6] = ["memcpy", "memmove", "memset", "memcmp", "bcmp", "strlen"];

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
    // The runtime's own copies and compares must not reach the interposers of the same names
    // (see the __wrap_* functions in shim/shim.c).
    for name in WRAPPED {
        println!("cargo:rustc-cdylib-link-arg=-Wl,--wrap={name}");
    }

    cc::Build::new()
        .file("shim/shim.c")
        .flag_if_supported("-fvisibility=hidden")
        // Unwinding (thread cancellation, C++ exceptions) passes through the shim bodies.
        .flag_if_supported("-fexceptions")
        .flag_if_supported("-ftls-model=initial-exec")
        .flag_if_supported("-fno-builtin")
        .flag_if_supported("-fno-tree-loop-distribute-patterns")
        .warnings(true)
        .extra_warnings(true)
        .compile("dynchk_shim");
    Ok(())
}
