//! `coverage`: per library, how much of the spec the checker interposes and how deeply.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::build::Generator;
use crate::plan::Disposition;

/// Coverage of one library. Field names are a contract (`coverage --format json`).
#[derive(Debug, Default, Serialize)]
pub struct LibraryCoverage {
    /// Functions in the spec that the host exports.
    pub spec: usize,
    pub generated: usize,
    pub hand_coded: usize,
    pub excluded: usize,
    /// Each excluded interface with its reason.
    pub excluded_reasons: BTreeMap<String, String>,
    /// Parameters carrying a semantic rule beyond pointer constness.
    pub semantic_params: usize,
    /// Of those, the parameters whose rules were generated from GObject-Introspection
    /// annotations (`db/semantics/gir`).
    pub gir_params: usize,
    /// Functions in the spec that the host does not export (not counted in `spec`).
    pub not_on_host: usize,
    /// The host files standing for the library (its `soname` line, else LSB's soname).
    pub host_files: Vec<String>,
    /// Those of `host_files` this machine lacks: when all are, the library gets no interposers.
    pub missing_files: Vec<String>,
}

/// The whole report.
#[derive(Debug, Default, Serialize)]
pub struct Coverage {
    pub libraries: BTreeMap<String, LibraryCoverage>,
}

impl Coverage {
    /// Computes coverage from a loaded generator.
    pub fn of(g: &Generator) -> Coverage {
        let mut c = Coverage::default();
        for lib in &g.spec.libraries {
            c.libraries.insert(
                lib.name.clone(),
                LibraryCoverage {
                    host_files: lib.host.clone(),
                    missing_files: lib
                        .host
                        .iter()
                        .filter(|h| g.host.missing.contains(h))
                        .cloned()
                        .collect(),
                    ..LibraryCoverage::default()
                },
            );
        }
        for p in &g.plans {
            let lc = c.libraries.entry(p.lib.clone()).or_default();
            if p.disposition == Disposition::NotOnHost {
                lc.not_on_host += 1;
                continue;
            }
            lc.spec += 1;
            lc.semantic_params += p.semantic_params();
            lc.gir_params += p.gir_params();
            match &p.disposition {
                Disposition::Generated => lc.generated += 1,
                Disposition::Hand(_) => lc.hand_coded += 1,
                Disposition::Excluded(r) => {
                    lc.excluded += 1;
                    lc.excluded_reasons.insert(p.name.clone(), r.clone());
                }
                Disposition::NotOnHost => {}
            }
        }
        c
    }

    /// A table for people.
    pub fn text(&self) -> String {
        let mut out = format!(
            "{:<12} {:>6} {:>10} {:>11} {:>9} {:>8} {:>16} {:>9} {:>12}\n",
            "library",
            "spec",
            "generated",
            "hand-coded",
            "excluded",
            "covered",
            "semantic params",
            "from GIR",
            "not on host"
        );
        for (lib, c) in &self.libraries {
            let covered = if c.spec == 0 {
                100.0
            } else {
                100.0 * (c.generated + c.hand_coded) as f64 / c.spec as f64
            };
            out.push_str(&format!(
                "{lib:<12} {:>6} {:>10} {:>11} {:>9} {:>7.1}% {:>16} {:>9} {:>12}\n",
                c.spec,
                c.generated,
                c.hand_coded,
                c.excluded,
                covered,
                c.semantic_params,
                c.gir_params,
                c.not_on_host
            ));
        }
        let missing: Vec<_> = self
            .libraries
            .iter()
            .filter(|(_, c)| !c.missing_files.is_empty())
            .collect();
        if !missing.is_empty() {
            out.push_str("\nnot on this machine:\n");
            for (lib, c) in missing {
                let what = if c.missing_files.len() == c.host_files.len() {
                    "no interposers"
                } else {
                    "interposers only for the other files' functions"
                };
                out.push_str(&format!(
                    "  {lib}: {} missing: {what}\n",
                    c.missing_files.join(", ")
                ));
            }
        }
        out.push_str("\nexcluded:\n");
        for (lib, c) in &self.libraries {
            for (name, reason) in &c.excluded_reasons {
                out.push_str(&format!("  {lib}: {name}: {reason}\n"));
            }
        }
        out
    }
}
