//! What dynchk can tell about the command before running it: why `LD_PRELOAD` would not reach it
//! (static, setuid) and whether it carries AddressSanitizer, which needs an option to run under
//! a preloaded library.

use object::{Object, ObjectSymbol};
use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Facts about the command's executable; all false when it cannot be read.
#[derive(Debug, Default)]
pub struct Program {
    /// An ELF file without a program interpreter: the dynamic loader, and LD_PRELOAD, never run.
    pub is_static: bool,
    /// Setuid or setgid: the loader ignores LD_PRELOAD paths outside the trusted directories.
    pub is_setid: bool,
    /// Built with -fsanitize=address (imports or defines `__asan_init`).
    pub has_asan: bool,
}

impl Program {
    /// Inspects the file `program` names (a path, or a bare name looked up in `$PATH`).
    pub fn inspect(program: &OsStr) -> Program {
        let Some(path) = resolve(Path::new(program)) else {
            return Program::default();
        };
        let Ok(data) = std::fs::read(&path) else {
            return Program::default();
        };
        let mode = std::fs::metadata(&path).map_or(0, |m| m.permissions().mode());
        let is_elf = data.starts_with(b"\x7fELF");
        Program {
            is_static: is_elf && !crate::certify::sweep::has_interp(&data),
            is_setid: mode & 0o6000 != 0,
            has_asan: object::File::parse(&*data).is_ok_and(|f| {
                f.dynamic_symbols()
                    .chain(f.symbols())
                    .any(|s| s.name() == Ok("__asan_init"))
            }),
        }
    }
}

/// The file the kernel would run for `program`: itself when it has a slash, else the first
/// executable file of that name in `$PATH`.
fn resolve(program: &Path) -> Option<PathBuf> {
    if program.as_os_str().as_encoded_bytes().contains(&b'/') {
        return Some(program.to_path_buf());
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_system_program_is_dynamic_without_asan() {
        let p = Program::inspect(OsStr::new("ls"));
        assert!(!p.is_static && !p.is_setid && !p.has_asan, "{p:?}");
    }
}
