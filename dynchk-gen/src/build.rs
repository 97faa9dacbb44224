//! Entry point for `dynchk-preload/build.rs`: database → generated code.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::db::Db;
use crate::host::Host;
use crate::model::Spec;
use crate::plan::{self, Plan};
use crate::render;

/// What a build produced.
pub struct BuildOutput {
    /// Files whose change must rerun the build script (the database and the templates).
    pub inputs: Vec<PathBuf>,
    /// Interfaces with a generated interposer.
    pub generated: usize,
}

/// Everything the generator knows after loading: the database, the host, and a plan per interface.
pub struct Generator {
    pub spec: Spec,
    pub host: Host,
    pub plans: Vec<Plan>,
}

impl Generator {
    /// Loads `db_dir`, probes the host libraries and plans every interface.
    pub fn load(db_dir: &Path) -> Result<Generator> {
        Generator::of(&Db::load(db_dir)?)
    }

    /// As [`Generator::load`], for a database already loaded.
    pub fn of(db: &Db) -> Result<Generator> {
        let spec = Spec::read(&db.conn).context("reading the loaded database")?;
        let sonames: Vec<&str> = spec.host_sonames().collect();
        let host = Host::probe(&sonames)?;
        let plans = plan::plan_all(&spec, &host)?;
        Ok(Generator { spec, host, plans })
    }

    /// The plan of the interface called `name` (the first library's, if several have it).
    pub fn plan(&self, name: &str) -> Option<&Plan> {
        self.plans.iter().find(|p| p.name == name)
    }
}

/// Loads the database in `db_dir`, generates the interposers for the host C library and writes
/// `generated.rs` (to be `include!`d inside `mod generated`), `exports.map` (a linker version
/// script) and `layout.c` (the struct layout check) into `out_dir`.
///
/// The database is linted first, as `dynchk-gen check` does: code is never generated from a
/// database that `check` rejects.
pub fn run(db_dir: &Path, out_dir: &Path) -> Result<BuildOutput> {
    let db = Db::load(db_dir)?;
    let problems = crate::lint::check(&db);
    if !problems.is_empty() {
        let list: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
        anyhow::bail!(
            "the database in {} has {} problem(s) (the same as `dynchk-gen check` lists); fix them \
             before generating:\n{}",
            db_dir.display(),
            problems.len(),
            list.join("\n")
        );
    }
    let g = Generator::of(&db)?;
    let r = render::render(&g.spec, &g.plans)?;
    let rs = out_dir.join("generated.rs");
    std::fs::write(&rs, &r.generated_rs).with_context(|| format!("writing {}", rs.display()))?;
    render::rustfmt(&rs)?;
    std::fs::write(out_dir.join("exports.map"), &r.exports_map)?;
    std::fs::write(out_dir.join("layout.c"), &r.layout_c)?;
    let templates = db_dir.parent().unwrap_or(Path::new(".")).join("templates");
    Ok(BuildOutput {
        inputs: vec![db_dir.to_path_buf(), templates],
        generated: g
            .plans
            .iter()
            .filter(|p| p.disposition == plan::Disposition::Generated)
            .count(),
    })
}
