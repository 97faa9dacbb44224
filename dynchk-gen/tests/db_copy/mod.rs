//! A scratch copy of the specification database, for the tests that edit one.

use std::fs;
use std::path::{Path, PathBuf};

/// The checked-in database.
pub fn db() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../db")
}

/// A copy of the database without its generated layer (files only: `semantics/gir/` is left
/// out), in a fresh directory named after the test (`test`) and the case (`tag`).
pub fn copy_db(test: &str, tag: &str) -> PathBuf {
    let db = db();
    let tmp = std::env::temp_dir().join(format!("dynchk-{test}-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(&tmp).unwrap();
    fs::copy(db.join("schema.sql"), tmp.join("schema.sql")).unwrap();
    for sub in ["lsb", "semantics"] {
        fs::create_dir_all(tmp.join(sub)).unwrap();
        for e in fs::read_dir(db.join(sub)).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_file() {
                fs::copy(e.path(), tmp.join(sub).join(e.file_name())).unwrap();
            }
        }
    }
    tmp
}
