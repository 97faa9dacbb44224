//! Turning raw frames (module + offset) into function and file:line with the `addr2line` crate
//! (DWARF read by gimli, symbol tables by object; no binutils), inline frames included. The debug
//! information may be in the module itself, in the file its build id names under
//! `/usr/lib/debug/.build-id/`, or in the file its `.gnu_debuglink` names (beside it, in its
//! `.debug/`, or under `/usr/lib/debug`), as gdb and binutils look for it. Anything that cannot be
//! resolved stays module+offset: a report without line numbers is still a report.

use crate::logs::Frame;
use object::{Object, ObjectSection};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// A symbolized frame; every part is optional because debug info and symbol tables may be missing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    /// Demangled function name.
    pub function: Option<String>,
    /// Source file as recorded in the debug info.
    pub file: Option<String>,
    /// 1-based source line.
    pub line: Option<u32>,
}

/// A frame together with what is known about it.
pub struct Site<'a> {
    /// The raw frame.
    pub frame: &'a Frame,
    /// What the debug information and symbol table say.
    pub location: &'a Location,
}

impl fmt::Display for Site<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let raw = format!("{}+{}", self.frame.module, self.frame.offset);
        match (
            &self.location.function,
            &self.location.file,
            self.location.line,
        ) {
            (Some(func), Some(file), Some(line)) => write!(f, "{func} at {file}:{line} [{raw}]"),
            (Some(func), _, _) => write!(f, "{func} [{raw}]"),
            _ => f.write_str(&raw),
        }
    }
}

/// Resolved locations, keyed by frame.
#[derive(Default)]
pub struct Symbols {
    resolved: HashMap<Frame, Location>,
    unknown: Location,
}

impl Symbols {
    /// What is known about a frame (nothing, if it was not part of the batch).
    pub fn get(&self, frame: &Frame) -> &Location {
        self.resolved.get(frame).unwrap_or(&self.unknown)
    }

    /// Pairs a frame with its location for display.
    pub fn site<'a>(&'a self, frame: &'a Frame) -> Site<'a> {
        Site {
            frame,
            location: self.get(frame),
        }
    }
}

/// Where separate debug files are installed (`debug-file-directory` of gdb).
const DEBUG_ROOT: &str = "/usr/lib/debug";

/// Symbolizes the given frames, each module opened once.
pub fn symbolize<'a>(frames: impl IntoIterator<Item = &'a Frame>) -> Symbols {
    symbolize_with(frames, Path::new(DEBUG_ROOT))
}

fn symbolize_with<'a>(frames: impl IntoIterator<Item = &'a Frame>, debug_root: &Path) -> Symbols {
    let mut by_module: BTreeMap<&str, BTreeSet<&Frame>> = BTreeMap::new();
    for f in frames {
        by_module.entry(&f.module).or_default().insert(f);
    }
    let mut symbols = Symbols::default();
    for (module, frames) in by_module {
        let Some(m) = Module::open(Path::new(module), debug_root) else {
            continue;
        };
        for f in frames {
            // The preload writes return addresses minus one, inside the call instruction, so they
            // are symbolized as they are: the line of the call, even when it ends an inlined block.
            if let Some(addr) = f.offset_value() {
                symbols.resolved.insert(f.clone(), m.locate(addr));
            }
        }
    }
    symbols
}

/// One module: its symbol table, and its DWARF (its own, or a separate debug file's).
struct Module {
    code: addr2line::Loader,
    debug: Option<addr2line::Loader>,
}

impl Module {
    /// `None` for a module that is gone or not an object file.
    fn open(path: &Path, debug_root: &Path) -> Option<Module> {
        let code = addr2line::Loader::new(path).ok()?;
        let debug = std::fs::read(path)
            .ok()
            .and_then(|data| separate_debug_file(path, &data, debug_root))
            .and_then(|p| addr2line::Loader::new(p).ok());
        Some(Module { code, debug })
    }

    /// The innermost inline frame at `addr` (where the call really is in the source); the
    /// function from the symbol table where the debug info names none.
    fn locate(&self, addr: u64) -> Location {
        let mut loc = Location::default();
        let dwarf = self.debug.as_ref().unwrap_or(&self.code);
        if let Ok(mut frames) = dwarf.find_frames(addr) {
            if let Ok(Some(frame)) = frames.next() {
                loc.function = frame
                    .function
                    .as_ref()
                    .and_then(|f| f.demangle().ok())
                    .map(|f| f.into_owned());
                if let Some(l) = frame.location {
                    loc.file = l.file.map(str::to_string);
                    loc.line = l.line.filter(|_| loc.file.is_some());
                }
            }
        }
        if loc.function.is_none() {
            loc.function = self
                .code
                .find_symbol(addr)
                .map(|s| addr2line::demangle_auto(s.into(), None).into_owned());
        }
        loc.line = loc.line.filter(|&l| l > 0);
        loc
    }
}

/// The separate debug file of the module at `path` whose contents are `data`, when it has no
/// DWARF of its own: by build id (`ROOT/.build-id/ab/cdef….debug`), else by `.gnu_debuglink`
/// (beside it, in `.debug/` beside it, or under `ROOT` at its directory).
fn separate_debug_file(path: &Path, data: &[u8], root: &Path) -> Option<PathBuf> {
    let file = object::File::parse(data).ok()?;
    if file
        .section_by_name(".debug_info")
        .is_some_and(|s| s.size() > 0)
    {
        return None;
    }
    if let Ok(Some(id)) = file.build_id() {
        if let Some((first, rest)) = id.split_first() {
            let hex: String = rest.iter().map(|b| format!("{b:02x}")).collect();
            let p = root.join(format!(".build-id/{first:02x}/{hex}.debug"));
            if p.is_file() {
                return Some(p);
            }
        }
    }
    let (name, _crc) = file.gnu_debuglink().ok()??;
    let name = Path::new(std::ffi::OsStr::from_bytes(name));
    let dir = path.parent()?;
    let under_root = root.join(dir.strip_prefix("/").unwrap_or(dir));
    [
        dir.join(name),
        dir.join(".debug").join(name),
        under_root.join(name),
    ]
    .into_iter()
    .find(|p| p.is_file() && p != path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use object::ObjectSymbol;
    use std::process::Command;

    #[test]
    fn unresolvable_module_keeps_module_and_offset() {
        let f = Frame {
            module: "/nonexistent/module.so".into(),
            offset: "0x1234".into(),
        };
        let s = symbolize([&f]);
        assert_eq!(s.site(&f).to_string(), "/nonexistent/module.so+0x1234");
    }

    /// `inner` is inlined into `outer`, at -O2.
    const INLINED_C: &str = "static inline __attribute__((always_inline)) int inner(int x)\n{\n  return x * 3 + (x >> 2);\n}\n\nint outer(int x)\n{\n  return inner(x) ^ 7;\n}\n\nint main(int argc, char **argv)\n{\n  (void)argv;\n  return outer(argc);\n}\n";

    /// A scratch directory for this test.
    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("dynchk-sym-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// Compiles `INLINED_C` in `dir` with `flags`.
    fn program(dir: &Path, flags: &[&str]) -> PathBuf {
        let src = dir.join("inl.c");
        std::fs::write(&src, INLINED_C).unwrap();
        let exe = dir.join("inl");
        let ok = Command::new("cc")
            .args(flags)
            .arg("-o")
            .arg(&exe)
            .arg(&src)
            .status()
            .unwrap()
            .success();
        assert!(ok, "cc {flags:?}");
        exe
    }

    /// The address range of function `name` in `exe`'s symbol table.
    fn range_of(exe: &Path, name: &str) -> std::ops::Range<u64> {
        let data = std::fs::read(exe).unwrap();
        let file = object::File::parse(&*data).unwrap();
        let s = file
            .symbols()
            .find(|s| s.name() == Ok(name))
            .unwrap_or_else(|| panic!("{name} not in {}", exe.display()));
        s.address()..s.address() + s.size()
    }

    fn frame(exe: &Path, addr: u64) -> Frame {
        Frame {
            module: exe.to_string_lossy().into_owned(),
            offset: format!("{addr:#x}"),
        }
    }

    fn run(tool: &str, args: &[&std::ffi::OsStr]) -> Option<String> {
        let out = Command::new(tool).args(args).output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Every address of an inlined function answers as binutils' `addr2line -f -i -C` does with
    /// its innermost frame (the comparison is skipped where binutils is not installed).
    #[test]
    fn inline_frames_are_what_binutils_addr2line_says() {
        let dir = scratch("inline");
        let exe = program(&dir, &["-O2", "-g"]);
        let frames: Vec<Frame> = range_of(&exe, "outer").map(|a| frame(&exe, a)).collect();
        let s = symbolize(&frames);
        let inner = frames
            .iter()
            .filter(|f| s.get(f).function.as_deref() == Some("inner"))
            .count();
        assert!(inner > 0, "no address of outer is inlined inner's");
        let input: String = frames.iter().map(|f| format!("{}\n", f.offset)).collect();
        let Some(theirs) = addr2line_cli(&exe, &input) else {
            eprintln!("skipped the comparison: no addr2line");
            return;
        };
        for (f, want) in frames.iter().zip(theirs) {
            assert_eq!(s.get(f), &want, "at {}", f.offset);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// binutils' answer for each address of `input`: the innermost (function, file:line).
    fn addr2line_cli(exe: &Path, input: &str) -> Option<Vec<Location>> {
        use std::io::Write;
        let mut child = Command::new("addr2line")
            .args(["-a", "-f", "-C", "-i", "-e"])
            .arg(exe)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .ok()?;
        child.stdin.take()?.write_all(input.as_bytes()).ok()?;
        let out = String::from_utf8(child.wait_with_output().ok()?.stdout).ok()?;
        let mut result = Vec::new();
        let mut lines = out.lines().peekable();
        while let Some(addr) = lines.next() {
            if !addr.starts_with("0x") {
                continue;
            }
            let function = lines.next_if(|l| !l.starts_with("0x")).unwrap_or("??");
            let place = lines.next_if(|l| !l.starts_with("0x")).unwrap_or("??:0");
            while lines.next_if(|l| !l.starts_with("0x")).is_some() {}
            let place = place.split(" (discriminator").next().unwrap_or(place);
            let (file, line) = place.rsplit_once(':').unwrap_or(("??", "0"));
            let file = (file != "??").then(|| file.to_string());
            result.push(Location {
                function: (function != "??").then(|| function.to_string()),
                line: line.parse().ok().filter(|&l| l > 0 && file.is_some()),
                file,
            });
        }
        Some(result)
    }

    /// The debug info moved out of the program (`objcopy --only-keep-debug`, `strip -g`), found
    /// by `.gnu_debuglink` beside it, or by build id under the debug root.
    #[test]
    fn separate_debug_files_are_found_by_debuglink_and_by_build_id() {
        let dir = scratch("split");
        let exe = program(&dir, &["-O0", "-g", "-Wl,--build-id=sha1"]);
        let main = range_of(&exe, "main").start + 1;
        let whole = symbolize([&frame(&exe, main)])
            .get(&frame(&exe, main))
            .clone();
        assert_eq!(whole.line, Some(12), "{whole:?}");
        let debug = dir.join("inl.debug");
        let os = |p: &Path| p.as_os_str().to_owned();
        let split = run(
            "objcopy",
            &["--only-keep-debug".as_ref(), &os(&exe), &os(&debug)],
        )
        .and_then(|_| run("strip", &["-g".as_ref(), &os(&exe)]));
        if split.is_none() {
            eprintln!("skipped: no objcopy/strip to split the debug info");
            return;
        }
        let none = dir.join("no-debug-root");
        let f = frame(&exe, main);
        assert_eq!(symbolize_with([&f], &none).get(&f).line, None, "stripped");

        // By build id: ROOT/.build-id/xx/yyyy.debug.
        let data = std::fs::read(&exe).unwrap();
        let id = object::File::parse(&*data)
            .unwrap()
            .build_id()
            .unwrap()
            .unwrap()
            .to_vec();
        let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
        let root = dir.join("debug-root");
        let by_id = root.join(".build-id").join(&hex[..2]);
        std::fs::create_dir_all(&by_id).unwrap();
        std::fs::copy(&debug, by_id.join(format!("{}.debug", &hex[2..]))).unwrap();
        assert_eq!(symbolize_with([&f], &root).get(&f), &whole, "by build id");

        // By .gnu_debuglink: the file it names, beside the program.
        let link = format!("--add-gnu-debuglink={}", debug.display());
        run("objcopy", &[link.as_ref(), &os(&exe)]).expect("objcopy --add-gnu-debuglink");
        assert_eq!(symbolize_with([&f], &none).get(&f), &whole, "by debuglink");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
