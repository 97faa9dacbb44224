//! Layer 2 reads struct members at the database's x86-64 offsets: compare every struct a generated
//! validator reads, size and member offsets, with the host's headers (a C program built with `cc`).

use std::path::Path;
use std::process::Command;

#[test]
fn generated_struct_layouts_match_the_host_abi() {
    let g =
        dynchk_gen::build::Generator::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../db"))
            .unwrap();
    let r = dynchk_gen::render::render(&g.spec, &g.plans).unwrap();
    let dir = std::env::temp_dir().join(format!("dynchk-layout-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("layout.c");
    let exe = dir.join("layout");
    std::fs::write(&src, &r.layout_c).unwrap();
    let cc = Command::new("cc")
        .arg("-o")
        .arg(&exe)
        .arg(&src)
        .output()
        .expect("cc runs (install gcc)");
    assert!(
        cc.status.success(),
        "layout.c does not compile:\n{}",
        String::from_utf8_lossy(&cc.stderr)
    );
    let run = Command::new(&exe).output().unwrap();
    let out = String::from_utf8_lossy(&run.stdout);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(run.status.success(), "layouts differ from the host:\n{out}");
    let compared: usize = out.trim().split(' ').next().unwrap().parse().unwrap();
    assert!(compared >= 5, "only {compared} structs compared:\n{out}");
}
