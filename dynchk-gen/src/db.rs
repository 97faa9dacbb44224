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
    /// Loads `dir`: executes `dir/schema.sql`, then the rows of `dir/lsb/*.sql` (files in name
    /// order, one `INSERT INTO TABLE VALUES(…);` per line into a table of the schema, nothing
    /// else: the data files are data, so `ATTACH`, `PRAGMA` or a second statement on a line are
    /// refused), then the annotation files of `dir/semantics` through [`crate::sem::load_dir`]
    /// (the hand-written ones, then those generated from the GObject-Introspection data).
    /// A refused or failing line is reported with its file and line.
    pub fn load(dir: &Path) -> anyhow::Result<Db> {
        Db::load_layers(dir, Some(Derived::Included))
    }

    /// Only `schema.sql` and `dir/lsb`, as the importer reads the scope before a `.sem` file may
    /// name the library it is about to add.
    pub fn load_lsb(dir: &Path) -> anyhow::Result<Db> {
        Db::load_layers(dir, None)
    }

    /// Without the generated annotations of `dir/semantics/gir`, which `import-gir` rewrites
    /// from the prototypes and hand-written rules alone.
    pub fn load_without_derived(dir: &Path) -> anyhow::Result<Db> {
        Db::load_layers(dir, Some(Derived::Left))
    }

    fn load_layers(dir: &Path, semantics: Option<Derived>) -> anyhow::Result<Db> {
        let conn = rusqlite::Connection::open_in_memory()?;
        let schema_path = dir.join("schema.sql");
        let schema = std::fs::read_to_string(&schema_path)
            .with_context(|| format!("reading {}", schema_path.display()))?;
        conn.execute_batch(&schema)
            .with_context(|| format!("executing {}", schema_path.display()))?;

        let tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
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
                let at = || format!("{}:{}: {stmt}", path.display(), n + 1);
                if let Err(why) = data_row(stmt, &tables) {
                    anyhow::bail!("{}: {why}", at());
                }
                // `prepare` refuses a second statement after the first (`…); ATTACH …`).
                tx.prepare(stmt.strip_suffix(';').unwrap_or(stmt))
                    .and_then(|mut s| s.execute([]))
                    .with_context(at)?;
            }
        }
        if let Some(derived) = semantics {
            crate::sem::load_dir(&tx, &dir.join("semantics"), derived)?;
        }
        tx.commit()?;
        Ok(Db {
            conn,
            dir: dir.to_path_buf(),
        })
    }
}

/// Whether the annotations generated from other sources (`semantics/gir`) are loaded.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Derived {
    Included,
    Left,
}

/// Whether `stmt` is one row of data, `INSERT INTO TABLE VALUES(…)` into a table of the schema,
/// or why not.
fn data_row(stmt: &str, tables: &[String]) -> Result<(), String> {
    let refuse = || {
        "only `INSERT INTO TABLE VALUES(…);` rows are accepted in db/lsb (the importer writes \
         them); regenerate the file with `dynchk-gen import-lsb` or remove this line"
            .to_string()
    };
    let rest = stmt.strip_prefix("INSERT INTO ").ok_or_else(refuse)?;
    let (table, values) = rest.split_once(' ').ok_or_else(refuse)?;
    if !values.starts_with("VALUES(") {
        return Err(refuse());
    }
    if !tables.iter().any(|t| t == table) {
        return Err(format!("`{table}` is not a table of schema.sql"));
    }
    Ok(())
}
