//! Generates the interposers from the specification database, links them with the runtime's
//! version script and code layout, and compiles the C shim that holds the variadic entry points.

use std::path::PathBuf;

/// The primitives the compiler calls on its own, which the generated code may also interpose.
const WRAPPED: [&str; 6] = ["memcpy", "memmove", "memset", "memcmp", "bcmp", "strlen"];

/// The unwinder's functions that Rust's std calls, bound lazily by the shim's `__wrap_*` so that
/// the library does not need `libgcc_s.so.1` at load time (see shim/shim.c).
const UNWINDER: [&str; 11] = [
    "_Unwind_RaiseException",
    "_Unwind_Resume",
    "_Unwind_Backtrace",
    "_Unwind_GetIP",
    "_Unwind_GetIPInfo",
    "_Unwind_SetIP",
    "_Unwind_SetGR",
    "_Unwind_GetLanguageSpecificData",
    "_Unwind_GetRegionStart",
    "_Unwind_GetDataRelBase",
    "_Unwind_GetTextRelBase",
];

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
    for name in WRAPPED.iter().chain(&UNWINDER) {
        println!("cargo:rustc-cdylib-link-arg=-Wl,--wrap={name}");
    }
    println!("cargo:rerun-if-changed=hot.txt");
    let hot = std::fs::read_to_string(manifest.join("hot.txt"))?;
    let script = out_dir.join("layout.ld");
    std::fs::write(&script, layout(&hot))?;
    // Augments the linker's default script (INSERT), it does not replace it.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-T,{}", script.display());

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

/// The linker script that lays out first, in one output section ahead of `.text`, the
/// runtime's code and the interposers `hot` lists (one interface a line, `#` comments), in that
/// order, and ahead of `.data` their data (an interposer's `REAL`, written by its first call).
/// Every function and static has its own input section (`.text.SYMBOL`, `.text.unlikely.SYMBOL`
/// for code LLVM deems cold, such as the first call's resolution of an original, which every
/// process runs; `.data.SYMBOL`); `?` stands for the `$` of Rust's mangled impl names; the
/// standard library's part is what its runtime runs in every process. Before this, the 200
/// functions `ls -lR` runs were spread over 33 of the library's 64 KiB fault-around windows, and
/// its first calls wrote 34 pages of `REAL`s.
fn layout(hot: &str) -> String {
    const RUNTIME: [&str; 8] = [
        "_ZN6dynchk2rt*",
        "_ZN6dynchk4hand*",
        "_ZN10validators*",
        "_ZN13dynchk_record*",
        "_ZN4core*",
        "_ZN*_?LT?dynchk..*",
        "_ZN*_?LT?validators..*",
        "_ZN*_?LT?dynchk_record..*",
    ];
    const RUNTIME_CODE: [&str; 9] = [
        "_ZN6dynchk9generated6checks*",
        "_ZN6dynchk9generated7structs*",
        "_ZN6dynchk9generated16member_violation*",
        "_RNv*3std9panicking8set_hook*",
        "_RNv*ARGV_INIT_ARRAY*",
        "dynchk_va_*",
        "dynchk_shim_*",
        "dynchk_format_call",
        "__wrap_*",
    ];
    let hot: Vec<&str> = hot
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let mut code = Vec::new();
    for prefix in [".text.", ".text.unlikely."] {
        for pattern in RUNTIME.iter().chain(&RUNTIME_CODE) {
            code.push(format!("{prefix}{pattern}"));
        }
    }
    let mut data: Vec<String> = RUNTIME.iter().map(|p| format!(".data.{p}")).collect();
    for name in &hot {
        // The interposer, its versioned variants (dynchk_NAME_GLIBC_2_2_5 and the like) and
        // its before-hook; their REALs (in module NAME or dynchk_NAME_VERSION, mangled with
        // the name's length before it).
        code.push(format!(
            ".text.{name} .text.dynchk_{name}_[A-Z]* \
             .text._ZN6dynchk9generated11interposers*pre_{name}17h*"
        ));
        data.push(format!(
            ".data._ZN6dynchk9generated11interposers{}{name}4REAL* \
             .data._ZN6dynchk9generated11interposers*dynchk_{name}_[A-Z]*4REAL*",
            name.len()
        ));
    }
    let section = |name: &str, patterns: &[String], before: &str| {
        let lines: String = patterns.iter().map(|p| format!("    *({p})\n")).collect();
        format!("SECTIONS\n{{\n  {name} :\n  {{\n{lines}  }}\n}}\nINSERT BEFORE {before};\n")
    };
    section(".text.dynchk_hot", &code, ".text") + &section(".data.dynchk_hot", &data, ".data")
}
