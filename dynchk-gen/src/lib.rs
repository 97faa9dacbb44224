//! dynchk-gen: the specification database, the LSB importer, check selection and the code generator.
//!
//! The preload's `build.rs` calls [`build::run`], the `dynchk` command's embeds [`explain`]; they
//! link the library without its `maintainer` feature, which adds the maintainer tools of the
//! `dynchk-gen` binary: the LSB importer (`lsb`, `mysql`) and `coverage`.

pub mod build;
#[cfg(feature = "maintainer")]
pub mod coverage;
pub mod db;
pub mod explain;
#[cfg(feature = "maintainer")]
pub mod gir;
pub mod host;
pub mod layer2;
pub mod lint;
pub mod lower;
#[cfg(feature = "maintainer")]
pub mod lsb;
pub mod model;
#[cfg(feature = "maintainer")]
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
