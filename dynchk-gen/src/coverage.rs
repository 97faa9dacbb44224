//! `coverage`: per library, how much of the spec the checker interposes and how deeply, and how
//! much of what this machine's programs import from it.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fs::File;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

use object::elf;
use object::read::elf::{Dyn as _, FileHeader, Sym as _};
use object::read::ReadCache;
use serde::Serialize;

use crate::build::Generator;
use crate::plan::Disposition;

/// Where `coverage` looks for the ELF objects whose imports it counts: the installed programs and
/// the libraries (what `nm -D --undefined-only` over them measured for issue 13).
pub const IMPORTER_DIRS: [&str; 3] = ["/usr/bin", "/usr/sbin", "/usr/lib/x86_64-linux-gnu"];

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
    /// ELF objects under the scanned directories ([`Coverage::imports_from`]) that import at
    /// least one function of the library's host files.
    pub importers: usize,
    /// The distinct functions they import from it.
    pub imported: usize,
    /// Of those, the ones dynchk interposes (generated or hand-coded).
    pub imported_interposed: usize,
    /// The others, each with the number of objects importing it.
    pub imported_not_interposed: BTreeMap<String, usize>,
}

/// The whole report.
#[derive(Debug, Default, Serialize)]
pub struct Coverage {
    pub libraries: BTreeMap<String, LibraryCoverage>,
    /// The directories whose ELF objects' imports were counted (none: not measured).
    pub import_dirs: Vec<PathBuf>,
    /// The ELF objects with a dynamic section found there.
    pub import_objects: usize,
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

    /// Counts what the ELF objects under `dirs` (recursively, each file once however many links
    /// reach it) import from the libraries: a function is imported from a library when the object
    /// leaves it undefined and names one of the library's host files in its `DT_NEEDED` entries,
    /// and that file exports it.
    pub fn imports_from(&mut self, g: &Generator, dirs: &[PathBuf]) {
        let lib_of: BTreeMap<&str, &str> = g
            .spec
            .libraries
            .iter()
            .flat_map(|l| l.host.iter().map(|h| (h.as_str(), l.name.as_str())))
            .collect();
        let interposed: HashSet<(&str, &str)> = g
            .plans
            .iter()
            .filter(|p| matches!(p.disposition, Disposition::Generated | Disposition::Hand(_)))
            .map(|p| (p.lib.as_str(), p.name.as_str()))
            .collect();
        let mut imports: BTreeMap<&str, (usize, BTreeMap<String, usize>)> = BTreeMap::new();
        let mut seen = HashSet::new();
        let mut files = Vec::new();
        for d in dirs {
            regular_files(d, &mut seen, &mut files);
        }
        for path in files {
            let Some((needed, undefined)) = dynamic_imports(&path) else {
                continue;
            };
            self.import_objects += 1;
            let mut from: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
            for name in undefined {
                let Some(exporter) = g.host.symbols.get(&name) else {
                    continue;
                };
                if let (true, Some(lib)) = (
                    needed.contains(&exporter.soname),
                    lib_of.get(exporter.soname.as_str()),
                ) {
                    from.entry(lib).or_default().insert(name);
                }
            }
            for (lib, names) in from {
                let (objects, counts) = imports.entry(lib).or_default();
                *objects += 1;
                for n in names {
                    *counts.entry(n).or_default() += 1;
                }
            }
        }
        for (lib, (objects, counts)) in imports {
            let lc = self.libraries.entry(lib.to_string()).or_default();
            lc.importers = objects;
            lc.imported = counts.len();
            for (name, n) in counts {
                if interposed.contains(&(lib, name.as_str())) {
                    lc.imported_interposed += 1;
                } else {
                    lc.imported_not_interposed.insert(name, n);
                }
            }
        }
        self.import_dirs.extend(dirs.iter().cloned());
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
        if !self.import_dirs.is_empty() {
            let dirs: Vec<_> = self
                .import_dirs
                .iter()
                .map(|d| d.display().to_string())
                .collect();
            out.push_str(&format!(
                "\nimported by the {} ELF objects under {}:\n",
                self.import_objects,
                dirs.join(", ")
            ));
            for (lib, c) in self.libraries.iter().filter(|(_, c)| c.importers > 0) {
                out.push_str(&format!(
                    "  {lib}: imported by {} objects: {} distinct functions, {} interposed",
                    c.importers, c.imported, c.imported_interposed
                ));
                let mut missing: Vec<_> = c.imported_not_interposed.iter().collect();
                missing.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
                let shown: Vec<_> = missing
                    .iter()
                    .take(MISSING_SHOWN)
                    .map(|(name, n)| format!("{name} ({n})"))
                    .collect();
                if !shown.is_empty() {
                    let more = missing.len() - shown.len();
                    out.push_str(&format!("; not: {}", shown.join(", ")));
                    if more > 0 {
                        out.push_str(&format!(" and {more} more"));
                    }
                }
                out.push('\n');
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

/// How many of a library's imported but not interposed functions the text names (most imported
/// first); the JSON has them all.
const MISSING_SHOWN: usize = 8;

/// Appends the regular files under `dir` (following symbolic links to files, not to directories)
/// that `seen` (device and inode) does not hold yet.
fn regular_files(dir: &Path, seen: &mut HashSet<(u64, u64)>, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| Some(e.ok()?.path())).collect();
    paths.sort();
    for path in paths {
        let Ok(link) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if link.is_dir() {
            regular_files(&path, seen, out);
        } else if let Ok(m) = std::fs::metadata(&path) {
            if m.is_file() && seen.insert((m.dev(), m.ino())) {
                out.push(path);
            }
        }
    }
}

/// The `DT_NEEDED` entries and the undefined global or weak dynamic symbols of the ELF object at
/// `path`; `None` when it is not a 64-bit little-endian ELF file with a dynamic section. Only
/// the headers, the dynamic section and the dynamic symbol table are read.
fn dynamic_imports(path: &Path) -> Option<(HashSet<String>, Vec<String>)> {
    let file = File::open(path).ok()?;
    let cache = ReadCache::new(file);
    let data = &cache;
    let header = elf::FileHeader64::<object::LittleEndian>::parse(data).ok()?;
    let endian = header.endian().ok()?;
    let sections = header.sections(endian, data).ok()?;
    let (dynamic, strings_index) = sections.dynamic(endian, data).ok()??;
    let strings = sections.strings(endian, data, strings_index).ok()?;
    let needed = dynamic
        .iter()
        .filter(|d| d.d_tag(endian) == u64::from(elf::DT_NEEDED))
        .filter_map(|d| strings.get(u32::try_from(d.d_val(endian)).ok()?).ok())
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect();
    let symbols = sections.symbols(endian, data, elf::SHT_DYNSYM).ok()?;
    let undefined = symbols
        .iter()
        .filter(|s| {
            s.st_shndx(endian) == elf::SHN_UNDEF
                && matches!(s.st_bind(), elf::STB_GLOBAL | elf::STB_WEAK)
        })
        .filter_map(|s| s.name(endian, symbols.strings()).ok())
        .filter(|n| !n.is_empty())
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect();
    Some((needed, undefined))
}
