//! The static side (what LSB's appchk did): the functions an executable imports that
//! libdynchk.so does not interpose, i.e. calls the checker never sees.

use super::matrix::Cwd;
use anyhow::{Context, Result};
use object::{Object, ObjectSymbol, SymbolKind};
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

    /// The imported functions of `program` (found like `execvp` would) that are not interposed.
    /// Empty when the program cannot be read as ELF (a script: its interpreter is what runs).
    pub fn unchecked_imports(&self, program: &str, cwd: &Cwd) -> Vec<String> {
        let Some(path) = resolve(program, cwd) else {
            return Vec::new();
        };
        if let Some(v) = self.cache.lock().ok().and_then(|c| c.get(&path).cloned()) {
            return v;
        }
        let v: Vec<String> = imported_functions(&path)
            .unwrap_or_default()
            .into_iter()
            .filter(|n| !self.names.contains(n))
            .collect();
        if let Ok(mut c) = self.cache.lock() {
            c.insert(path, v.clone());
        }
        v
    }
}

/// Non-weak undefined function symbols of an ELF file's dynamic symbol table, sorted.
pub fn imported_functions(path: &Path) -> Option<BTreeSet<String>> {
    let data = std::fs::read(path).ok()?;
    let file = object::File::parse(&*data).ok()?;
    Some(
        file.dynamic_symbols()
            .filter(|s| s.is_undefined() && !s.is_weak() && s.kind() == SymbolKind::Text)
            .filter_map(|s| s.name().ok().map(str::to_string))
            .collect(),
    )
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
        let ls = resolve("ls", &Cwd::Scratch).expect("ls on PATH");
        let imports = imported_functions(&ls).expect("ls is ELF");
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
        assert!(imported_functions(Path::new("/etc/passwd")).is_none());
    }
}
