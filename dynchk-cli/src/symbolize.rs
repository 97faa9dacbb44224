//! Turning raw frames (module + offset) into function and file:line with binutils' `addr2line`,
//! one process per module for all of its offsets. Anything addr2line cannot resolve stays
//! module+offset: a report without line numbers is still a report.

use crate::logs::Frame;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::io::Write;
use std::process::{Command, Stdio};

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
    /// What addr2line said.
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
    /// Set when addr2line could not be started at all, so callers can say how to get line numbers.
    pub tool_missing: bool,
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

/// Symbolizes the given frames, one addr2line process per module.
pub fn symbolize<'a>(frames: impl IntoIterator<Item = &'a Frame>) -> Symbols {
    let mut by_module: BTreeMap<&str, BTreeSet<&Frame>> = BTreeMap::new();
    for f in frames {
        by_module.entry(&f.module).or_default().insert(f);
    }
    let mut symbols = Symbols::default();
    for (module, frames) in by_module {
        let frames: Vec<&Frame> = frames
            .into_iter()
            .filter(|f| f.offset_value().is_some())
            .collect();
        // The preload writes return addresses minus one, inside the call instruction, so they are
        // symbolized as they are: the line of the call, even when it ends an inlined block.
        let addrs: Vec<String> = frames
            .iter()
            .filter_map(|f| f.offset_value())
            .map(|o| format!("{o:#x}"))
            .collect();
        if addrs.is_empty() {
            continue;
        }
        let out = match addr2line(module, &addrs) {
            Ok(Some(out)) => out,
            Ok(None) => continue,
            Err(_) => {
                symbols.tool_missing = true;
                break;
            }
        };
        let locations = parse_addr2line(&String::from_utf8_lossy(&out));
        if locations.len() == frames.len() {
            symbols
                .resolved
                .extend(frames.into_iter().cloned().zip(locations));
        }
    }
    symbols
}

/// Runs addr2line on one module. Addresses go through stdin, not argv, so that any number of them
/// fits; a thread feeds them while the output is read, so neither pipe can fill up and block.
/// `Ok(None)`: addr2line ran but failed (a module that is gone or not ELF).
fn addr2line(module: &str, addrs: &[String]) -> std::io::Result<Option<Vec<u8>>> {
    let mut child = Command::new("addr2line")
        .args(["-a", "-f", "-C", "-i", "-e", module])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let input = addrs.join("\n") + "\n";
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let feeder = std::thread::spawn(move || {
        // An early exit of addr2line (bad module) shows in its status, not here.
        let _ = stdin.write_all(input.as_bytes());
    });
    let out = child.wait_with_output()?;
    let _ = feeder.join();
    Ok(out.status.success().then_some(out.stdout))
}

/// Parses `addr2line -a -f -i` output: per address a `0x…` line, then (function, file:line) pairs,
/// innermost inline first. The innermost pair is where the call really is in the source.
fn parse_addr2line(out: &str) -> Vec<Location> {
    let mut result = Vec::new();
    let mut lines = out.lines().peekable();
    while let Some(addr) = lines.next() {
        if !addr.starts_with("0x") {
            continue;
        }
        let function = lines.next_if(|l| !l.starts_with("0x")).unwrap_or("??");
        let place = lines.next_if(|l| !l.starts_with("0x")).unwrap_or("??:0");
        while lines.next_if(|l| !l.starts_with("0x")).is_some() {}
        let (file, line) = parse_place(place);
        result.push(Location {
            function: (function != "??").then(|| function.to_string()),
            file,
            line,
        });
    }
    result
}

/// `file:line`, possibly followed by ` (discriminator N)`; `??` parts mean unknown.
fn parse_place(place: &str) -> (Option<String>, Option<u32>) {
    let place = place.split(" (discriminator").next().unwrap_or(place);
    let Some((file, line)) = place.rsplit_once(':') else {
        return (None, None);
    };
    let line = line.parse().ok().filter(|&l| l > 0);
    match file {
        "??" | "" => (None, None),
        f => (Some(f.to_string()), line),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_inline_chains_and_unknowns() {
        let out = "0x0000000000001139\ninner\n/src/a.h:3\nouter\n/src/a.c:10 (discriminator 2)\n\
                   0x0000000000002000\n??\n??:0\n0x0000000000003000\nstripped_fn\n??:?\n";
        let locs = parse_addr2line(out);
        assert_eq!(
            locs,
            vec![
                Location {
                    function: Some("inner".into()),
                    file: Some("/src/a.h".into()),
                    line: Some(3)
                },
                Location::default(),
                Location {
                    function: Some("stripped_fn".into()),
                    file: None,
                    line: None
                },
            ]
        );
    }

    #[test]
    fn unresolvable_module_keeps_module_and_offset() {
        let f = Frame {
            module: "/nonexistent/module.so".into(),
            offset: "0x1234".into(),
        };
        let s = symbolize([&f]);
        assert_eq!(s.site(&f).to_string(), "/nonexistent/module.so+0x1234");
    }
}
