//! `--sweep DIR`: a matrix made of every dynamically linked ELF executable in a directory, each
//! run with the same arguments (e.g. `--version`), for a first picture at scale.

use super::matrix::{parse_duration, Cwd, Entry, Field, Matrix, Stdin};
use super::shard::hash_hex;
use anyhow::{Context, Result};
use std::collections::BTreeSet;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Whether `path` is an executable ELF file with a program interpreter (dynamically linked),
/// not setuid or setgid (those ignore LD_PRELOAD).
fn dynamic_executable(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    let mode = meta.permissions().mode();
    if !meta.is_file() || mode & 0o111 == 0 || mode & 0o6000 != 0 {
        return false;
    }
    let mut head = vec![0u8; 4096];
    let Ok(n) = std::fs::File::open(path).and_then(|mut f| f.read(&mut head)) else {
        return false;
    };
    has_interp(&head[..n])
}

/// ELF64 little-endian header with a PT_INTERP program header within `head`.
pub(crate) fn has_interp(head: &[u8]) -> bool {
    let u16_at = |o: usize| head.get(o..o + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let u64_at = |o: usize| {
        head.get(o..o + 8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
    };
    if head.len() < 64 || &head[..4] != b"\x7fELF" || head[4] != 2 || head[5] != 1 {
        return false;
    }
    let (Some(phoff), Some(phentsize), Some(phnum)) = (u64_at(0x20), u16_at(0x36), u16_at(0x38))
    else {
        return false;
    };
    (0..usize::from(phnum)).any(|i| {
        let at = phoff as usize + i * usize::from(phentsize);
        head.get(at..at + 4) == Some(&3u32.to_le_bytes()[..])
    })
}

/// An entry name from a file name: disallowed bytes become `_`.
fn entry_name(file: &str) -> String {
    file.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"._-".contains(&b) {
                b as char
            } else {
                '_'
            }
        })
        .collect()
}

/// The sweep's matrix.
pub fn matrix(dir: &Path, args: Option<&str>, timeout: &str) -> Result<Matrix> {
    let timeout = parse_duration(timeout).with_context(|| {
        format!("--sweep-timeout {timeout:?}: give a number with a unit: ms, s or m")
    })?;
    let args: Vec<String> = args
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the sweep directory {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| dynamic_executable(p))
        .collect();
    files.sort();
    let mut names = BTreeSet::new();
    let mut entries = Vec::new();
    for f in files {
        let Some(file) = f.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let name = entry_name(file);
        if !names.insert(name.clone()) {
            continue;
        }
        let mut cmd = vec![f.display().to_string()];
        cmd.extend(args.iter().cloned());
        entries.push(Entry {
            name,
            cmd,
            env: [("LC_ALL".to_string(), "C".to_string())].into(),
            stdin: Stdin::Null,
            cwd: Cwd::Scratch,
            expect_status: None,
            compare: vec![Field::Status, Field::Stdout, Field::Stderr],
            masks: Vec::new(),
            x11: false,
            run_for: None,
            timeout,
            scope: Vec::new(),
            service: None,
        });
    }
    let described = format!("sweep {} --args={}", dir.display(), args.join(" "));
    Ok(Matrix {
        hash: hash_hex(described.as_bytes()),
        path: described.into(),
        jobs: 0,
        entries,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_dynamic_executables_are_swept() {
        assert!(dynamic_executable(Path::new("/bin/ls")));
        assert!(!dynamic_executable(Path::new("/etc/passwd")));
        assert_eq!(entry_name("[ a+b"), "__a_b");
    }
}
