//! `dynchk explain`: the specification and checks of one interface, as the generator sees them.

use crate::cli::ExplainArgs;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// Chooses the database directory: `--db`, then `$DYNCHK_SPEC_DB`, then the source tree's `db/`.
fn db_dir(explicit: Option<&Path>) -> PathBuf {
    explicit
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("DYNCHK_SPEC_DB").map(PathBuf::from))
        .unwrap_or_else(|| crate::source_tree().join("db"))
}

/// Runs `dynchk explain`.
pub fn explain(args: ExplainArgs) -> Result<()> {
    let db = db_dir(args.db.as_deref());
    let meta = std::fs::metadata(&db).with_context(|| {
        format!(
            "specification database {} not found (give --db PATH or set DYNCHK_SPEC_DB)",
            db.display()
        )
    })?;
    if !meta.is_dir() {
        bail!("specification database {} is not a directory", db.display());
    }
    print!("{}", dynchk_gen::explain::explain(&db, &args.name)?);
    Ok(())
}
