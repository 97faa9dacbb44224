//! Adding a library is one `Library` row, its imported interfaces and a `.sem` file
//! (docs/adding-a-library.md): this adds liblzma (on every Debian system, not in scope) to a copy
//! of the database and shows that the lint accepts it, the host check finds it and the generator
//! writes a checked interposer that looks the original up in it.

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use dynchk_gen::build::Generator;
use dynchk_gen::plan::Disposition;

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn append(path: PathBuf, rows: &[&str]) {
    let mut f = OpenOptions::new().append(true).open(path).unwrap();
    for r in rows {
        writeln!(f, "{r}").unwrap();
    }
}

#[test]
fn a_library_added_to_the_library_table_is_checked_and_generated() {
    let db = Path::new(env!("CARGO_MANIFEST_DIR")).join("../db");
    let tmp = std::env::temp_dir().join(format!("dynchk-library-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    let t = tmp.as_path();
    fs::create_dir_all(t).unwrap();
    fs::copy(db.join("schema.sql"), t.join("schema.sql")).unwrap();
    copy_dir(&db.join("lsb"), &t.join("lsb"));
    copy_dir(&db.join("semantics"), &t.join("semantics"));
    // What `dynchk-gen import-lsb --add liblzma` would write (uint32_t is type 9272, void * 40,
    // size_t 10784).
    append(
        t.join("lsb/Library.sql"),
        &["INSERT INTO Library VALUES(9001,'liblzma','liblzma.so.5');"],
    );
    append(
        t.join("lsb/Interface.sql"),
        &["INSERT INTO Interface VALUES(99001,'lzma_crc32',9001,9272,'XZ_5.0','lzma.h','lsb');"],
    );
    append(
        t.join("lsb/Parameter.sql"),
        &[
            "INSERT INTO Parameter VALUES(99001,0,40,NULL,NULL,0);",
            "INSERT INTO Parameter VALUES(99001,1,10784,NULL,NULL,0);",
            "INSERT INTO Parameter VALUES(99001,2,9272,NULL,NULL,0);",
        ],
    );
    fs::write(
        t.join("semantics/lzma.sem"),
        "[liblzma]\nlzma_crc32(buf: in(size), size, crc)\n",
    )
    .unwrap();

    let problems = dynchk_gen::check(t).unwrap();
    assert!(problems.is_empty(), "{problems:#?}");
    let g = Generator::load(t).unwrap();
    assert!(
        g.host.libraries.contains_key("liblzma.so.5"),
        "host check did not look for liblzma.so.5: {:?}",
        g.host.missing
    );
    let p = g.plan("lzma_crc32").unwrap();
    assert_eq!(p.disposition, Disposition::Generated);
    assert_eq!(
        (p.lib.as_str(), p.soname.as_str()),
        ("liblzma", "liblzma.so.5")
    );
    let cov = dynchk_gen::coverage::Coverage::of(&g);
    assert_eq!(cov.libraries["liblzma"].generated, 1);
    let rs = dynchk_gen::render::render(&g.spec, &g.plans)
        .unwrap()
        .generated_rs;
    let at = rs
        .find("fn lzma_crc32(")
        .expect("no interposer for lzma_crc32");
    let body = &rs[at..at + rs[at..].find("\n    }\n").unwrap()];
    assert!(body.contains(r#"c"liblzma.so.5""#), "{body}");
    assert!(body.contains(r#"c"XZ_5.0""#), "{body}");
    assert!(body.contains("validators::mem::readable(buf"), "{body}");
    fs::remove_dir_all(&tmp).unwrap();
}
