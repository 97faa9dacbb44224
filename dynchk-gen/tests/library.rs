//! Adding a library is one `Library` row, its imported interfaces and a `.sem` file
//! (docs/adding-a-library.md): this adds liblzma (on every Debian system, not in scope) to a copy
//! of the database and shows that the lint accepts it, the host check finds it and the generator
//! writes a checked interposer that looks the original up in it.

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::path::PathBuf;

use dynchk_gen::build::Generator;
use dynchk_gen::plan::Disposition;

mod db_copy;
use db_copy::db;

fn append(path: PathBuf, rows: &[&str]) {
    let mut f = OpenOptions::new().append(true).open(path).unwrap();
    for r in rows {
        writeln!(f, "{r}").unwrap();
    }
}

/// A copy of the database in a fresh directory named after `tag`.
fn copy_db(tag: &str) -> PathBuf {
    db_copy::copy_db("library", tag)
}

/// The rendered interposer of `name`.
fn interposer(g: &Generator, name: &str) -> String {
    let rs = dynchk_gen::render::render(&g.spec, &g.plans)
        .unwrap()
        .generated_rs;
    let at = rs
        .find(&format!("fn {name}("))
        .unwrap_or_else(|| panic!("no interposer for {name}"));
    rs[at..at + rs[at..].find("\n    }\n").unwrap()].to_string()
}

#[test]
fn a_library_added_to_the_library_table_is_checked_and_generated() {
    let tmp = copy_db("lzma");
    let t = tmp.as_path();
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
    let body = interposer(&g, "lzma_crc32");
    // Real::packed's names: the original's name, version and soname, each ending in its NUL.
    assert!(body.contains(r#"\0XZ_5.0\0liblzma.so.5\0""#), "{body}");
    assert!(body.contains("validators::mem::readable(buf"), "{body}");
    fs::remove_dir_all(&tmp).unwrap();
}

/// LSB's libncurses.so.5 is two files on the host (`soname libncursesw.so.6 libtinfo.so.6` in
/// db/semantics/ncurses.sem), and LSB's libpng12.so.0 is libpng16.so.16: each interposer resolves
/// its original, at the version the host exports, in the file that exports it.
#[test]
fn an_lsb_library_mapped_to_host_files_resolves_each_interface_in_the_file_exporting_it() {
    let g = Generator::load(&db()).unwrap();
    for (name, soname, version) in [
        ("initscr", "libncursesw.so.6", "NCURSESW6_"),
        ("wmove", "libncursesw.so.6", "NCURSESW6_"),
        ("tigetstr", "libtinfo.so.6", "NCURSES6_TINFO_"),
        ("png_create_read_struct", "libpng16.so.16", "PNG16_0"),
    ] {
        if !g.host.libraries.contains_key(soname) {
            eprintln!("skipped {name}: {soname} is not on this machine");
            continue;
        }
        let p = g.plan(name).unwrap();
        assert_eq!(p.disposition, Disposition::Generated, "{name}");
        assert_eq!(p.soname, soname, "{name}");
        let body = interposer(&g, name);
        assert!(body.contains(&format!("\\0{soname}\\0\"")), "{body}");
        assert!(body.contains(&format!("\\0{version}")), "{body}");
    }
    // The LSB sonames are not looked for: only the host files stand for the libraries.
    assert!(!g
        .host
        .missing
        .iter()
        .any(|m| m == "libncurses.so.5" || m == "libpng12.so.0"));
}

/// A library whose file the build machine lacks gets no interposers, and `coverage` says so.
#[test]
fn a_library_absent_from_the_host_gets_no_interposers_and_coverage_names_it() {
    let tmp = copy_db("absent");
    let t = tmp.as_path();
    append(
        t.join("lsb/Library.sql"),
        &["INSERT INTO Library VALUES(9002,'libabsent','libabsent.so.1');"],
    );
    append(
        t.join("lsb/Interface.sql"),
        &["INSERT INTO Interface VALUES(99002,'absent_open',9002,6,NULL,'absent.h','lsb');"],
    );
    fs::write(
        t.join("semantics/absent.sem"),
        "[libabsent]\nsoname libabsent-2.0.so.0\n",
    )
    .unwrap();
    let g = Generator::load(t).unwrap();
    assert!(g.host.missing.iter().any(|m| m == "libabsent-2.0.so.0"));
    assert_eq!(
        g.plan("absent_open").unwrap().disposition,
        Disposition::NotOnHost
    );
    let cov = dynchk_gen::coverage::Coverage::of(&g);
    let c = &cov.libraries["libabsent"];
    assert_eq!((c.generated, c.not_on_host), (0, 1));
    assert_eq!(c.missing_files, ["libabsent-2.0.so.0"]);
    assert!(
        cov.text()
            .contains("libabsent: libabsent-2.0.so.0 missing: no interposers"),
        "{}",
        cov.text()
    );
    fs::remove_dir_all(&tmp).unwrap();
}
