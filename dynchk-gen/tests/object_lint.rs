//! `dynchk-gen check` on the lines of the library objects: an `every TYPE` line that no
//! interface of its library can take, and a `handle(KIND)` whose kind no `hook` line makes or
//! destroys, are refused with the file and line that wrote them (in a copy of the database).

use std::fs;
use std::path::Path;

mod db_copy;

/// Appends `lines` to `file` of the copy at `db`; the line number of the first.
fn append(db: &Path, file: &str, lines: &str) -> usize {
    let path = db.join("semantics").join(file);
    let text = fs::read_to_string(&path).unwrap();
    let first = text.lines().count() + 1;
    fs::write(&path, format!("{text}{lines}")).unwrap();
    first
}

#[test]
fn an_every_line_no_interface_of_its_library_takes_is_refused_with_its_line() {
    let db = db_copy::copy_db("object-lint", "every");
    // The type exists (libxml2's), but no function of libX11 takes it.
    let line = append(&db, "x11.sem", "every xmlDocPtr doc?: handle(xmlDoc)\n");
    let err = format!("{:#}", dynchk_gen::check(&db).expect_err("the line loaded"));
    assert!(
        err.contains(&format!(
            "semantics/x11.sem:{line}: `every doc`: no interface of libX11 takes a `xmlDocPtr`"
        )),
        "{err}"
    );
    // Every parameter of the type has rules already: the line would give none any.
    let db2 = db_copy::copy_db("object-lint", "every-ruled");
    let line = append(&db2, "ncurses.sem", "every WINDOW *w: nonnull\n");
    let err = format!(
        "{:#}",
        dynchk_gen::check(&db2).expect_err("the line loaded")
    );
    assert!(
        err.contains(&format!(
            "semantics/ncurses.sem:{line}: `every w`: each of the"
        )) && err.contains("`WINDOW *` parameters of libncurses has rules of its own"),
        "{err}"
    );
    let _ = fs::remove_dir_all(&db);
    let _ = fs::remove_dir_all(&db2);
}

#[test]
fn a_handle_kind_no_hook_names_is_refused_with_its_line() {
    let db = db_copy::copy_db("object-lint", "kind");
    let line = append(&db, "x11.sem", "XNoOp(display: handle(Dispaly))\n");
    let problems = dynchk_gen::check(&db).unwrap();
    let _ = fs::remove_dir_all(&db);
    let wanted = format!(
        "`handle(Dispaly)` (semantics/x11.sem:{line}): no hook makes or destroys a Dispaly"
    );
    let found: Vec<&String> = problems.iter().filter(|p| p.contains(&wanted)).collect();
    assert_eq!(found.len(), 1, "{problems:#?}");
    let known = found[0]
        .split("kinds the hooks name: ")
        .nth(1)
        .unwrap_or_default();
    assert!(
        known.split(", ").any(|k| k == "Display") && !known.contains("Dispaly"),
        "{}",
        found[0]
    );
}
