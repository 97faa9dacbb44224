//! Real programs of the libraries beyond the C core run under the checker exactly as without it
//! (stdout, stderr, exit status; for X clients, the pixels they draw), and their summaries count
//! calls to those libraries' interposers: ncurses (tput), fontconfig (fc-list), GLib and GObject
//! (gio), libX11 and libXext (xdpyinfo), libX11, libXt, libSM and libICE (xeyes) under Xvfb.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use common::{lib, records, scratch, summaries, transparent, Run};
use serde_json::Value;

/// Whether `program` is installed (each is a Debian package of .ci/run's list).
fn have(program: &str) -> bool {
    let found = ["/usr/bin", "/bin"]
        .iter()
        .any(|d| Path::new(d).join(program).exists());
    if !found {
        eprintln!("skipped: {program} is not installed (see .ci/run)");
    }
    found
}

/// The interfaces the summaries counted, with their calls.
fn used(records: &[Value]) -> Vec<(String, u64)> {
    summaries(records)
        .iter()
        .filter_map(|s| s["used"].as_object())
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
        .collect()
}

/// Asserts that a summary counted a call to an interface of the library whose names start with
/// `prefix`, and that no violation was reported.
fn assert_used(name: &str, records: &[Value], prefix: &str) {
    let used = used(records);
    assert!(
        used.iter().any(|(i, n)| i.starts_with(prefix) && *n > 0),
        "{name}: no {prefix}* call counted: {used:?}"
    );
    let violations = common::of_kind(records, "violation");
    assert!(violations.is_empty(), "{name}: {violations:?}");
}

fn check_program(name: &str, run: &Run<'_>, prefix: &str) {
    let dir = scratch(name);
    let records = transparent(run, &dir);
    assert_used(name, &records, prefix);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn tput_reads_the_terminfo_database_through_ncurses() {
    if have("tput") {
        let run = Run {
            env: &[("TERM", "xterm")],
            ..Run::new(&["tput", "cols"])
        };
        check_program("tput", &run, "setupterm");
    }
}

#[test]
fn fc_list_lists_the_fonts_through_fontconfig() {
    if have("fc-list") {
        check_program("fc-list", &Run::new(&["fc-list"]), "Fc");
    }
}

#[test]
fn gio_describes_a_file_through_glib_and_gobject() {
    if have("gio") {
        check_program("gio", &Run::new(&["gio", "info", "/etc/hostname"]), "g_");
    }
}

/// An Xvfb server of its own, killed when dropped.
struct Xvfb {
    child: Child,
    display: String,
}

impl Xvfb {
    fn start(number: u32) -> Xvfb {
        let display = format!(":{number}");
        let child = Command::new("Xvfb")
            .args([&display, "-nolisten", "tcp", "-screen", "0", "320x240x24"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb runs");
        let socket = format!("/tmp/.X11-unix/X{number}");
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut x = Xvfb { child, display };
        while !Path::new(&socket).exists() {
            assert!(
                Instant::now() < deadline,
                "Xvfb {} did not start",
                x.display
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        // The socket may be another server's that started at the same time.
        assert!(
            x.child.try_wait().unwrap().is_none(),
            "Xvfb {} exited",
            x.display
        );
        x
    }

    /// A display number no other server uses: from this process's id, and never the same twice
    /// in this process (the tests run in parallel).
    fn free_number() -> u32 {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let base = 50 + std::process::id() % 300;
        std::iter::repeat_with(|| base + NEXT.fetch_add(1, Ordering::Relaxed))
            .take(400)
            .find(|n| {
                !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                    && !Path::new(&format!("/tmp/.X{n}-lock")).exists()
            })
            .expect("a free display number")
    }

    /// The root window's pixels (xwd's dump without its header's window name).
    fn pixels(&self) -> Vec<u8> {
        let out = Command::new("xwd")
            .args(["-root", "-silent", "-display", &self.display])
            .output()
            .expect("xwd runs");
        assert!(
            out.status.success(),
            "xwd: {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn xdpyinfo_describes_the_display_through_libx11() {
    if !(have("Xvfb") && have("xdpyinfo")) {
        return;
    }
    let x = Xvfb::start(Xvfb::free_number());
    let run = Run {
        env: &[("DISPLAY", &x.display)],
        ..Run::new(&["xdpyinfo"])
    };
    check_program("xdpyinfo", &run, "XOpenDisplay");
}

/// xeyes (Xt and Xlib; the pointer never moves, so the eyes are drawn the same each time) draws
/// the same pixels under the checker as without it.
#[test]
fn xeyes_draws_the_same_pixels_under_the_checker() {
    if !(have("Xvfb") && have("xeyes") && have("xwd")) {
        return;
    }
    let dir = scratch("xeyes");
    // Plainly, xeyes is done when three dumps a row agree (and differ from the empty screen);
    // under the checker, it must reach exactly those pixels.
    let draw = |log: Option<&Path>, target: Option<&[u8]>| {
        let x = Xvfb::start(Xvfb::free_number());
        let mut cmd = Command::new("xeyes");
        cmd.args(["-display", &x.display, "-geometry", "100x80+10+10"]);
        if let Some(log) = log {
            cmd.env("LD_PRELOAD", lib()).env("DYNCHK_LOG", log);
        }
        let empty = x.pixels();
        let mut eyes = cmd.spawn().expect("xeyes runs");
        let deadline = Instant::now() + Duration::from_secs(20);
        let (mut last, mut same) = (Vec::new(), 0);
        loop {
            std::thread::sleep(Duration::from_millis(300));
            let now = x.pixels();
            same = if now == last { same + 1 } else { 0 };
            let done = match target {
                Some(t) => now == t,
                None => now != empty && same >= 2,
            };
            last = now;
            if done || Instant::now() > deadline {
                break;
            }
        }
        // SIGTERM, not SIGKILL: the checker writes its summary on the way out.
        // SAFETY: a signal to the child this closure started and has not reaped.
        unsafe { libc::kill(eyes.id() as libc::pid_t, libc::SIGTERM) };
        let _ = eyes.wait();
        assert!(last != empty, "xeyes drew nothing in 20 s");
        last
    };
    let plain = draw(None, None);
    let checked = draw(Some(&dir.join("log.%p")), Some(&plain));
    assert!(
        plain == checked,
        "xeyes did not draw the same pixels under the checker in 20 s"
    );
    let records = records(&dir, "log.");
    assert_used("xeyes", &records, "Xt");
    assert_used("xeyes", &records, "XOpenDisplay");
    let _ = std::fs::remove_dir_all(&dir);
}
