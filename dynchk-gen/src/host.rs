//! What the host's C libraries export: only those symbols get an interposer, one per version.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

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
    /// Reads the dynamic symbol tables of `sonames` with `readelf` (binutils).
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

    fn read_library(&mut self, soname: &str, path: &Path) -> Result<()> {
        let out = Command::new("readelf")
            .args(["--dyn-syms", "-W"])
            .arg(path)
            .output()
            .context("running readelf (install binutils: apt-get install binutils)")?;
        if !out.status.success() {
            bail!(
                "readelf failed on {}: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        self.add_readelf(soname, &String::from_utf8_lossy(&out.stdout));
        Ok(())
    }

    /// Adds the defined FUNC/IFUNC symbols of one `readelf --dyn-syms -W` listing.
    pub fn add_readelf(&mut self, soname: &str, listing: &str) {
        for line in listing.lines() {
            let cols: Vec<&str> = line.split_whitespace().collect();
            // Num: Value Size Type Bind Vis Ndx Name
            if cols.len() < 8 || !matches!(cols[3], "FUNC" | "IFUNC") || cols[6] == "UND" {
                continue;
            }
            if !matches!(cols[4], "GLOBAL" | "WEAK") {
                continue;
            }
            let full = cols[7];
            let (name, version, default) = match full.split_once("@@") {
                Some((n, v)) => (n, Some(v), true),
                None => match full.split_once('@') {
                    Some((n, v)) => (n, Some(v), false),
                    None => (full, None, true),
                },
            };
            let entry = self.symbols.entry(name.to_string()).or_default();
            if entry.soname.is_empty() {
                entry.soname = soname.to_string();
            } else if entry.soname != soname {
                // The same name in two libraries (libpthread's stubs of libc's functions since
                // glibc 2.34): the first library asked for wins, as RTLD_NEXT would find it.
                continue;
            }
            if let Some(v) = version {
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

    const LISTING: &str = "\
Symbol table '.dynsym' contains 3 entries:
   Num:    Value          Size Type    Bind   Vis      Ndx Name
     1: 00000000000a0b80   250 IFUNC   GLOBAL DEFAULT   16 memcpy@@GLIBC_2.14
     2: 00000000000a0c80   250 IFUNC   GLOBAL DEFAULT   16 memcpy@GLIBC_2.2.5
     3: 0000000000114980   157 FUNC    WEAK   DEFAULT   16 read@@GLIBC_2.2.5
     4: 0000000000000000     0 FUNC    GLOBAL DEFAULT  UND _dl_x@GLIBC_PRIVATE
     5: 0000000000200000     8 OBJECT  GLOBAL DEFAULT   26 stdin@@GLIBC_2.2.5
";

    #[test]
    fn versions_defaults_and_filters() {
        let mut h = Host::default();
        h.add_readelf("libc.so.6", LISTING);
        assert_eq!(h.symbols.len(), 2);
        let m = &h.symbols["memcpy"];
        assert_eq!(m.default.as_deref(), Some("GLIBC_2.14"));
        assert_eq!(m.all, vec!["GLIBC_2.2.5", "GLIBC_2.14"]);
        assert_eq!(h.symbols["read"].all, vec!["GLIBC_2.2.5"]);
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
}
