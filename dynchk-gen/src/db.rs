//! The specification database: `db/` loaded into one in-memory SQLite database.

use anyhow::Context;
use std::path::{Path, PathBuf};

/// The loaded database.
pub struct Db {
    /// In-memory SQLite holding every table of `schema.sql`.
    pub conn: rusqlite::Connection,
    /// The directory it was loaded from.
    pub dir: PathBuf,
}

impl Db {
    /// Loads `dir`: executes `dir/schema.sql`, then every statement of `dir/lsb/*.sql` (files in
    /// name order, one statement per line), then the annotation files of `dir/semantics` through
    /// [`crate::sem::load_dir`]. A failing statement is reported with its file and line.
    pub fn load(dir: &Path) -> anyhow::Result<Db> {
        let conn = rusqlite::Connection::open_in_memory()?;
        let schema_path = dir.join("schema.sql");
        let schema = std::fs::read_to_string(&schema_path)
            .with_context(|| format!("reading {}", schema_path.display()))?;
        conn.execute_batch(&schema)
            .with_context(|| format!("executing {}", schema_path.display()))?;

        // One transaction for all inserts: autocommit per statement would make loading take seconds.
        let tx = conn.unchecked_transaction()?;
        let lsb_dir = dir.join("lsb");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&lsb_dir)
            .with_context(|| format!("reading {}", lsb_dir.display()))?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        files.retain(|p| p.extension().is_some_and(|e| e == "sql"));
        files.sort();
        for path in &files {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            for (n, line) in text.lines().enumerate() {
                let stmt = line.trim();
                if stmt.is_empty() || stmt.starts_with("--") {
                    continue;
                }
                tx.execute_batch(stmt)
                    .with_context(|| format!("{}:{}: {stmt}", path.display(), n + 1))?;
            }
        }
        crate::sem::load_dir(&tx, &dir.join("semantics"))?;
        tx.commit()?;
        Ok(Db {
            conn,
            dir: dir.to_path_buf(),
        })
    }
}
