//! dynchk-gen: the specification database, the LSB importer, check selection and the code generator.
//!
//! The preload's `build.rs` calls [`build::run`]; the `dynchk-gen` and `dynchk` binaries use the same
//! library for `check`, `explain` and `coverage`.

pub mod build;
pub mod coverage;
pub mod db;
pub mod explain;
pub mod host;
pub mod layer2;
pub mod lint;
pub mod lower;
pub mod lsb;
pub mod model;
pub mod mysql;
pub mod plan;
pub mod render;
pub mod sem;

/// Lints the database in `db_dir`: structural problems in the tables, then everything the
/// generator rejects (an annotation it cannot turn into a check). Each line names the row or the
/// `.sem` line at fault. A database that does not even load is an `Err`.
pub fn check(db_dir: &std::path::Path) -> anyhow::Result<Vec<String>> {
    let db = db::Db::load(db_dir)?;
    let mut problems: Vec<String> = lint::check(&db).iter().map(|p| p.to_string()).collect();
    if problems.is_empty() {
        if let Err(e) =
            build::Generator::of(&db).and_then(|g| render::render(&g.spec, &g.plans).map(|_| ()))
        {
            problems.push(format!("{e:#}"));
        }
    }
    Ok(problems)
}
