//! The static side (what LSB's appchk did): the functions an executable imports that
//! libdynchk.so does not interpose, i.e. calls the checker never sees.

use super::matrix::Cwd;
use anyhow::{Context, Result};
use object::elf;
use object::read::elf::{Dyn, ElfFile64};
use object::{Endianness, Object, ObjectSymbol, SymbolKind};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The functions libdynchk.so interposes, and the answers already computed per executable.
#[derive(Default)]
pub struct Covered {
    names: HashSet<String>,
    cache: Mutex<HashMap<PathBuf, Vec<String>>>,
}

impl Covered {
    /// Reads the exported functions of libdynchk.so.
    pub fn of_library(lib: &Path) -> Result<Covered> {
        let data = std::fs::read(lib).with_context(|| format!("cannot read {}", lib.display()))?;
        let file = object::File::parse(&*data)
            .with_context(|| format!("{} is not an ELF shared object", lib.display()))?;
        let names = file
            .dynamic_symbols()
            .filter(|s| !s.is_undefined() && s.kind() == SymbolKind::Text)
            .filter_map(|s| s.name().ok().map(str::to_string))
            .collect();
        Ok(Covered {
            names,
            cache: Mutex::default(),
        })
    }

    /// Identifies the interface set: runs with the same hash checked the same functions.
    pub fn hash(&self) -> String {
        let mut names: Vec<&str> = self.names.iter().map(String::as_str).collect();
        names.sort_unstable();
        super::shard::hash_hex(names.join("\n").as_bytes())
    }

    /// The imported functions of `program` (found like `execvp` would) and of the libraries it
    /// names directly (`DT_NEEDED`, the C libraries themselves excepted) that are not interposed.
    /// Empty when the program cannot be read as ELF (a script: its interpreter is what runs).
    pub fn unchecked_imports(&self, program: &str, cwd: &Cwd) -> Vec<String> {
        let Some(path) = resolve(program, cwd) else {
            return Vec::new();
        };
        if let Some(v) = self.cache.lock().ok().and_then(|c| c.get(&path).cloned()) {
            return v;
        }
        let mut all = BTreeSet::new();
        if let Ok(data) = std::fs::read(&path) {
            all.extend(imported_functions(&data));
            for lib in needed(&data).iter().filter_map(|n| library_path(n)) {
                all.extend(
                    std::fs::read(lib)
                        .map(|d| imported_functions(&d))
                        .unwrap_or_default(),
                );
            }
        }
        let v: Vec<String> = all
            .into_iter()
            .filter(|n| !self.names.contains(n))
            .collect();
        if let Ok(mut c) = self.cache.lock() {
            c.insert(path, v.clone());
        }
        v
    }
}

/// Non-weak undefined function symbols of an ELF file's dynamic symbol table (none for data
/// that is not ELF).
pub fn imported_functions(data: &[u8]) -> BTreeSet<String> {
    let Ok(file) = object::File::parse(data) else {
        return BTreeSet::new();
    };
    file.dynamic_symbols()
        .filter(|s| s.is_undefined() && !s.is_weak() && s.kind() == SymbolKind::Text)
        .filter_map(|s| s.name().ok().map(str::to_string))
        .collect()
}

/// The `DT_NEEDED` names of a 64-bit ELF file.
fn needed(data: &[u8]) -> Vec<String> {
    let Ok(elf) = ElfFile64::<Endianness>::parse(data) else {
        return Vec::new();
    };
    let endian = elf.endian();
    let sections = elf.elf_section_table();
    let Ok(Some((dyns, link))) = sections.dynamic(endian, data) else {
        return Vec::new();
    };
    let Ok(strings) = sections.strings(endian, data, link) else {
        return Vec::new();
    };
    dyns.iter()
        .filter(|d| d.tag32(endian) == Some(elf::DT_NEEDED))
        .filter_map(|d| d.string(endian, strings).ok())
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect()
}

/// Calls between the C libraries are the implementation, not the application's use of them.
const C_LIBRARIES: [&str; 7] = [
    "libc.so.6",
    "libm.so.6",
    "libpthread.so.0",
    "libdl.so.2",
    "librt.so.1",
    "libresolv.so.2",
    "ld-linux-x86-64.so.2",
];

/// Where the loader finds a library by default (no `LD_LIBRARY_PATH`, rpath or ld.so.conf extras).
fn library_path(name: &str) -> Option<PathBuf> {
    if C_LIBRARIES.contains(&name) {
        return None;
    }
    [
        "/lib/x86_64-linux-gnu",
        "/usr/lib/x86_64-linux-gnu",
        "/lib64",
        "/usr/lib",
    ]
    .iter()
    .map(|d| Path::new(d).join(name))
    .find(|p| p.is_file())
}

/// The file `program` names: a path as it is (against a fixed cwd), a bare name through `$PATH`.
fn resolve(program: &str, cwd: &Cwd) -> Option<PathBuf> {
    if program.contains('/') {
        let p = Path::new(program);
        return match cwd {
            Cwd::Path(dir) if p.is_relative() => Some(dir.join(p)),
            _ => Some(p.to_path_buf()),
        };
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_real_executable_imports_libc_functions() {
        let ls = std::fs::read(resolve("ls", &Cwd::Scratch).expect("ls on PATH")).unwrap();
        let imports = imported_functions(&ls);
        assert!(
            imports.contains("readdir") || imports.contains("readdir64"),
            "{imports:?}"
        );
        let covered = Covered {
            names: ["opendir".to_string()].into(),
            cache: Mutex::default(),
        };
        let left = covered.unchecked_imports("ls", &Cwd::Scratch);
        assert!(!left.contains(&"opendir".to_string()) && !left.is_empty());
        assert!(imported_functions(b"not ELF").is_empty());
        // The libraries ls names are read too, except the C library.
        let libs = needed(&ls);
        assert!(libs.iter().any(|l| l == "libc.so.6"), "{libs:?}");
        assert!(library_path("libc.so.6").is_none());
    }
}
