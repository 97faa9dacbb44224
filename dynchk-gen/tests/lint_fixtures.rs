//! `dynchk-gen check` (lint) on fixture databases, one per defect kind, and on the real `db/`.

use dynchk_gen::db::Db;
use dynchk_gen::lint;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn real_db_loads_fast_and_is_clean() {
    let start = std::time::Instant::now();
    let db = Db::load(&repo().join("db")).unwrap();
    let took = start.elapsed();
    let problems: Vec<String> = lint::check(&db).iter().map(ToString::to_string).collect();
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
    let interfaces: i64 = db.conn.query_row("SELECT count(*) FROM Interface WHERE source = 'lsb'", [], |r| r.get(0)).unwrap();
    assert!(interfaces > 1000, "only {interfaces} LSB interfaces loaded");
    eprintln!("Db::load of db/ took {took:?}");
}
