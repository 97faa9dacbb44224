//! `coverage` counts what the ELF objects on this machine import from each library and how much
//! of it dynchk interposes: planted objects with known imports give exactly those counts.

use std::fs;
use std::path::Path;
use std::process::Command;

use dynchk_gen::build::Generator;
use dynchk_gen::coverage::Coverage;

fn gcc(out: &Path, source: &str, args: &[&str]) {
    let c = out.with_extension("c");
    fs::write(&c, source).unwrap();
    let r = Command::new("gcc")
        .arg("-o")
        .arg(out)
        .arg(&c)
        .args(args)
        .output()
        .expect("gcc runs");
    assert!(
        r.status.success(),
        "gcc {}: {}",
        out.display(),
        String::from_utf8_lossy(&r.stderr)
    );
    fs::remove_file(c).unwrap();
}

/// Two objects that need libfontconfig.so.1 import FcNameParse (interposed), one of them also
/// FcConfigGetRescanInverval (excluded in fontconfig.sem); a shared object that leaves
/// FcNameParse undefined without needing libfontconfig (the control), a second link to the
/// program and a script are not counted for it.
#[test]
fn imports_of_planted_objects_are_counted_per_library_with_what_is_interposed() {
    let g = Generator::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../db")).unwrap();
    let fc = g
        .host
        .libraries
        .get("libfontconfig.so.1")
        .expect("libfontconfig.so.1 on this machine (package libfontconfig1, see .ci/run)")
        .to_str()
        .unwrap()
        .to_string();
    let dir = std::env::temp_dir().join(format!("dynchk-coverage-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("lib")).unwrap();
    let decls = "void *FcNameParse(const char *); int FcConfigGetRescanInverval(void *);\n";
    gcc(
        &dir.join("prog"),
        &format!(
            "{decls}int main(void) {{ return FcConfigGetRescanInverval(FcNameParse(\"x\")); }}\n"
        ),
        &[&fc],
    );
    gcc(
        &dir.join("lib/libplug.so"),
        &format!("{decls}void *plug(void) {{ return FcNameParse(\"x\"); }}\n"),
        &["-shared", "-fPIC", &fc],
    );
    gcc(
        &dir.join("lib/libloose.so"),
        &format!("{decls}void *loose(void) {{ return FcNameParse(\"x\"); }}\n"),
        &["-shared", "-fPIC"],
    );
    std::os::unix::fs::symlink(dir.join("prog"), dir.join("lib/prog-again")).unwrap();
    fs::write(dir.join("script"), "#!/bin/sh\nFcNameParse\n").unwrap();

    let mut cov = Coverage::of(&g);
    cov.imports_from(&g, std::slice::from_ref(&dir));
    assert_eq!(cov.import_objects, 3, "prog, libplug.so, libloose.so");
    let c = &cov.libraries["libfontconfig"];
    assert_eq!(
        (c.importers, c.imported, c.imported_interposed),
        (2, 2, 1),
        "{c:#?}"
    );
    assert_eq!(
        c.imported_not_interposed.iter().collect::<Vec<_>>(),
        [(&"FcConfigGetRescanInverval".to_string(), &1)]
    );
    // gcc's programs and shared objects call into libc (__libc_start_main, __cxa_finalize).
    assert!(cov.libraries["libc"].importers >= 1);
    assert_eq!(cov.libraries["libX11"].importers, 0);
    let text = cov.text();
    assert!(
        text.contains(
            "  libfontconfig: imported by 2 objects: 2 distinct functions, 1 interposed; \
             not: FcConfigGetRescanInverval (1)\n"
        ),
        "{text}"
    );
    assert!(text.contains(&format!("the 3 ELF objects under {}:", dir.display())));
    fs::remove_dir_all(&dir).unwrap();
}
