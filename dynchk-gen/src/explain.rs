//! `explain NAME`: the spec entry, the C prototype, the checks and why, and the generated stub.

use std::fmt::Write;
use std::path::Path;

use anyhow::{bail, Result};

use crate::build::Generator;
use crate::plan::{Disposition, Plan};
use crate::render;

/// Explains interface `name` from the database in `db_dir`.
///
/// ```no_run
/// let text = dynchk_gen::explain::explain(std::path::Path::new("db"), "read").unwrap();
/// assert!(text.contains("ssize_t read(int fd, void *buf, size_t count)"));
/// ```
pub fn explain(db_dir: &Path, name: &str) -> Result<String> {
    let g = Generator::load(db_dir)?;
    let plans: Vec<&Plan> = g.plans.iter().filter(|p| p.name == name).collect();
    if plans.is_empty() {
        let mut near: Vec<&str> = g
            .plans
            .iter()
            .map(|p| p.name.as_str())
            .filter(|n| n.contains(name) || name.contains(*n))
            .collect();
        near.truncate(8);
        if near.is_empty() {
            bail!(
                "`{name}` is not an interface of the database in {}",
                db_dir.display()
            );
        }
        bail!(
            "`{name}` is not an interface of the database; similar: {}",
            near.join(", ")
        );
    }
    let mut out = String::new();
    for p in plans {
        explain_plan(&g, p, &mut out)?;
    }
    Ok(out)
}

/// Explains every interface of the database in `db_dir`, loading it once: `(name, text)` sorted by
/// name, the text being what [`explain`] gives for that name (for the dynchk command, which embeds
/// them at build time).
pub fn explain_each(db_dir: &Path) -> Result<Vec<(String, String)>> {
    let g = Generator::load(db_dir)?;
    let mut by_name: std::collections::BTreeMap<&str, String> = Default::default();
    for p in &g.plans {
        explain_plan(&g, p, by_name.entry(&p.name).or_default())?;
    }
    Ok(by_name
        .into_iter()
        .map(|(name, text)| (name.to_string(), text))
        .collect())
}

fn explain_plan(g: &Generator, p: &Plan, out: &mut String) -> Result<()> {
    let versions = g.host.symbols.get(&p.name);
    writeln!(out, "{}", p.prototype)?;
    writeln!(out, "  library:   {} ({})", p.lib, p.soname)?;
    writeln!(out, "  from:      {}", p.source)?;
    if let Some(v) = versions {
        writeln!(
            out,
            "  host:      {} exports {}",
            v.soname,
            if v.all.is_empty() {
                "it unversioned".into()
            } else {
                v.all.join(", ")
            }
        )?;
    }
    let status = match &p.disposition {
        Disposition::Generated => "generated interposer".to_string(),
        Disposition::Hand(r) => format!("hand-coded interposer (dynchk-preload/src/hand): {r}"),
        Disposition::Excluded(r) => format!("not interposed: {r}"),
        Disposition::NotOnHost => "not interposed: the host libraries do not export it".to_string(),
    };
    writeln!(out, "  status:    {status}")?;
    writeln!(out, "  checks:")?;
    for q in &p.params {
        if q.checks.is_empty() {
            writeln!(out, "    {} {}: no check", q.pos, q.c_decl)?;
            continue;
        }
        writeln!(out, "    {} {}:", q.pos, q.c_decl)?;
        for c in &q.checks {
            writeln!(out, "      {} → {}", q.name, c.check)?;
            writeln!(out, "        why: {}", c.reason)?;
        }
    }
    if p.params.is_empty() {
        writeln!(out, "    (no parameters)")?;
    }
    if p.disposition == Disposition::Generated {
        writeln!(out, "  generated stub:")?;
        for line in render::stub(p)?.lines() {
            writeln!(out, "    {line}")?;
        }
    }
    writeln!(out)?;
    Ok(())
}
