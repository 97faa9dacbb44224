//! Progress of a certification run: an indicatif bar (done/total, ETA, the entries running) on a
//! terminal, one plain line per finished entry otherwise (CI logs).

use super::verdict::{EntryResult, Verdict};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Mutex;

/// The progress display.
pub struct Progress {
    bar: Option<ProgressBar>,
    total: usize,
    state: Mutex<(usize, Vec<String>)>,
}

impl Progress {
    /// A bar when stderr is a terminal.
    pub fn new(total: usize) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = ProgressBar::new(total as u64);
            if let Ok(style) = ProgressStyle::with_template(
                "{bar:30.cyan/blue} {pos}/{len} ETA {eta} running: {msg}",
            ) {
                b.set_style(style);
            }
            b
        });
        Progress {
            bar,
            total,
            state: Mutex::new((0, Vec::new())),
        }
    }

    fn show_running(&self, running: &[String]) {
        if let Some(b) = &self.bar {
            b.set_message(running.join(", "));
        }
    }

    /// An entry started.
    pub fn started(&self, name: &str) {
        if let Ok(mut s) = self.state.lock() {
            s.1.push(name.to_string());
            self.show_running(&s.1);
        }
    }

    /// An entry stopped running (finished or not).
    pub fn stopped(&self, name: &str) {
        if let Ok(mut s) = self.state.lock() {
            s.1.retain(|n| n != name);
            self.show_running(&s.1);
        }
    }

    /// A line above the bar (or on its own).
    pub fn note(&self, line: &str) {
        match &self.bar {
            Some(b) => b.println(format!("certify: {line}")),
            None => eprintln!("certify: {line}"),
        }
    }

    /// An entry's result was recorded.
    pub fn finished(&self, r: &EntryResult) {
        let done = self.state.lock().map_or(0, |mut s| {
            s.0 += 1;
            s.0
        });
        let line = format!(
            "[{done}/{}] {}: {} ({:.1}s) {}",
            self.total,
            r.name,
            r.verdict(),
            r.plain.wall_s + r.checked.wall_s,
            r.reason
        );
        match &self.bar {
            Some(b) => {
                b.inc(1);
                // On a terminal only what needs attention scrolls by; the bar shows the rest.
                if !matches!(r.verdict(), Verdict::Clean) {
                    b.println(line);
                }
            }
            None => eprintln!("certify: {line}"),
        }
    }

    /// Removes the bar.
    pub fn done(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
