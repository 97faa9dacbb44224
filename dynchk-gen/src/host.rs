//! What the host's C libraries export: only those symbols get an interposer, one per version.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use object::elf;
use object::read::elf::{ElfFile64, Sym};
use object::Endianness;

/// The versions of one exported function.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Versions {
    /// The default version (`name@@V`), if the symbol is versioned.
    pub default: Option<String>,
    /// Every version, default included, sorted.
    pub all: Vec<String>,
    /// The soname of the library that defines it.
    pub soname: String,
}

/// Function symbols exported by the host libraries in scope.
#[derive(Debug, Default)]
pub struct Host {
    pub symbols: BTreeMap<String, Versions>,
    /// sonames found on this machine, with their paths.
    pub libraries: BTreeMap<String, PathBuf>,
    /// sonames asked for that were not found.
    pub missing: Vec<String>,
}

/// Directories searched for the host's libraries, in order.
const LIB_DIRS: [&str; 6] = [
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
    "/lib64",
    "/usr/lib64",
    "/lib",
    "/usr/lib",
];

impl Host {
    /// Reads the dynamic symbol tables of `sonames` (with the `object` crate: no binutils).
    pub fn probe(sonames: &[&str]) -> Result<Host> {
        let mut host = Host::default();
        for so in sonames {
            match LIB_DIRS
                .iter()
                .map(|d| Path::new(d).join(so))
                .find(|p| p.exists())
            {
                Some(path) => {
                    host.read_library(so, &path)?;
                    host.libraries.insert(so.to_string(), path);
                }
                None => host.missing.push(so.to_string()),
            }
        }
        Ok(host)
    }

    /// Adds the defined global or weak function symbols (FUNC, IFUNC) of the library at `path`,
    /// with their versions as its `.gnu.version` table gives them.
    fn read_library(&mut self, soname: &str, path: &Path) -> Result<()> {
        let data = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let bad = |e: object::Error| anyhow!("{}: not a readable ELF file: {e}", path.display());
        let elf = ElfFile64::<Endianness>::parse(&*data).map_err(bad)?;
        let endian = elf.endian();
        let sections = elf.elf_section_table();
        let symbols = sections
            .symbols(endian, &*data, elf::SHT_DYNSYM)
            .map_err(bad)?;
        let versions = sections.versions(endian, &*data).map_err(bad)?;
        for (index, sym) in symbols.enumerate() {
            let is_function = matches!(sym.st_type(), elf::STT_FUNC | elf::STT_GNU_IFUNC);
            let exported = matches!(sym.st_bind(), elf::STB_GLOBAL | elf::STB_WEAK);
            if !is_function || !exported || sym.st_shndx(endian) == elf::SHN_UNDEF {
                continue;
            }
            let name = String::from_utf8_lossy(sym.name(endian, symbols.strings()).map_err(bad)?);
            let version = match &versions {
                Some(table) => {
                    let v = table.version_index(endian, index);
                    table
                        .version(v)
                        .map_err(bad)?
                        .map(|ver| (String::from_utf8_lossy(ver.name()), !v.is_hidden()))
                }
                None => None,
            };
            self.add(
                soname,
                &name,
                version.as_ref().map(|(v, default)| (v.as_ref(), *default)),
            );
        }
        Ok(())
    }

    /// Adds one exported function of `soname`: `version` is `(VERSION, is_default)` for a
    /// versioned symbol (`name@@VERSION` is the default, `name@VERSION` an older one).
    pub fn add(&mut self, soname: &str, name: &str, version: Option<(&str, bool)>) {
        let entry = self.symbols.entry(name.to_string()).or_default();
        if entry.soname.is_empty() {
            entry.soname = soname.to_string();
        } else if entry.soname != soname {
            // The same name in two libraries (libpthread's stubs of libc's functions since
            // glibc 2.34): the first library asked for wins, as RTLD_NEXT would find it.
            return;
        }
        if let Some((v, default)) = version {
            if !entry.all.iter().any(|x| x == v) {
                entry.all.push(v.to_string());
                entry.all.sort_by_key(|a| version_key(a));
            }
            if default {
                entry.default = Some(v.to_string());
            }
        }
    }
}

/// Sorts `GLIBC_2.2.5` before `GLIBC_2.14`.
pub fn version_key(v: &str) -> (String, Vec<u64>) {
    let (prefix, nums) = v.split_once('_').unwrap_or((v, ""));
    (
        prefix.to_string(),
        nums.split('.').filter_map(|n| n.parse().ok()).collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_defaults_and_filters() {
        let mut h = Host::default();
        h.add("libc.so.6", "memcpy", Some(("GLIBC_2.14", true)));
        h.add("libc.so.6", "memcpy", Some(("GLIBC_2.2.5", false)));
        h.add("libc.so.6", "read", Some(("GLIBC_2.2.5", true)));
        h.add("libpthread.so.0", "read", Some(("GLIBC_2.0", true)));
        assert_eq!(h.symbols.len(), 2);
        let m = &h.symbols["memcpy"];
        assert_eq!(m.default.as_deref(), Some("GLIBC_2.14"));
        assert_eq!(m.all, vec!["GLIBC_2.2.5", "GLIBC_2.14"]);
        assert_eq!(h.symbols["read"].all, vec!["GLIBC_2.2.5"]);
        assert_eq!(h.symbols["read"].soname, "libc.so.6");
    }

    #[test]
    fn host_libc_is_readable() {
        let h = Host::probe(&["libc.so.6"]).unwrap();
        assert!(h.symbols.contains_key("read"), "the host libc exports read");
        assert!(
            h.symbols["memcpy"].all.len() >= 2,
            "memcpy has two versions on x86-64 glibc"
        );
    }

    /// What `readelf --dyn-syms -W` lists as defined global or weak FUNC/IFUNC symbols of
    /// `path`, read the way this module read it before it used the `object` crate.
    fn readelf(soname: &str, path: &Path) -> Option<Host> {
        let out = std::process::Command::new("readelf")
            .args(["--dyn-syms", "-W"])
            .arg(path)
            .output()
            .ok()?;
        let mut h = Host::default();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let cols: Vec<&str> = line.split_whitespace().collect();
            // Num: Value Size Type Bind Vis Ndx Name
            if cols.len() < 8
                || !matches!(cols[3], "FUNC" | "IFUNC")
                || cols[6] == "UND"
                || !matches!(cols[4], "GLOBAL" | "WEAK")
            {
                continue;
            }
            let (name, version) = match cols[7].split_once("@@") {
                Some((n, v)) => (n, Some((v, true))),
                None => match cols[7].split_once('@') {
                    Some((n, v)) => (n, Some((v, false))),
                    None => (cols[7], None),
                },
            };
            h.add(soname, name, version);
        }
        Some(h)
    }

    /// The symbols and versions read with `object` are exactly readelf's, for every library of
    /// the database that the host has (skipped where binutils is not installed).
    #[test]
    fn exports_are_those_readelf_lists() {
        let db = crate::db::Db::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../db")).unwrap();
        let spec = crate::model::Spec::read(&db.conn).unwrap();
        let sonames: Vec<&str> = spec.host_sonames().collect();
        let host = Host::probe(&sonames).unwrap();
        assert!(host.libraries.len() >= 5, "{:?}", host.libraries);
        assert!(
            host.symbols.len() > 2000,
            "{} functions",
            host.symbols.len()
        );
        for (so, path) in &host.libraries {
            let Some(theirs) = readelf(so, path) else {
                eprintln!("skipped: no readelf to compare with");
                return;
            };
            let ours: BTreeMap<&String, &Versions> = host
                .symbols
                .iter()
                .filter(|(_, v)| v.soname == *so)
                .collect();
            let theirs: BTreeMap<&String, &Versions> = theirs
                .symbols
                .iter()
                .filter(|(n, _)| host.symbols.get(*n).is_none_or(|v| v.soname == *so))
                .collect();
            assert_eq!(ours, theirs, "{so} ({})", path.display());
        }
    }
}
