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

/// The pixels `argv` (an X client given `-display` by the caller's arguments) settles on: with
/// no `target`, once three dumps a row agree (and differ from the empty screen); with one, once
/// the screen shows exactly it. Under the checker when `log` is set; the client is stopped with
/// SIGTERM (the checker writes its summary on the way out).
/// An argument `{ready}` is replaced by a fresh file's path that the client creates once it has
/// written what it shows (xterm's command): the pixels count only from then on.
fn settled_pixels(argv: &[&str], log: Option<&Path>, target: Option<&[u8]>) -> Vec<u8> {
    static RUN: AtomicU32 = AtomicU32::new(0);
    let ready = std::env::temp_dir().join(format!(
        "dynchk-ready-{}-{}",
        std::process::id(),
        RUN.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_file(&ready);
    let waits = argv.contains(&"{ready}");
    let argv: Vec<String> = argv
        .iter()
        .map(|a| a.replace("{ready}", &ready.to_string_lossy()))
        .collect();
    let x = Xvfb::start(Xvfb::free_number());
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .env("DISPLAY", &x.display)
        .env("LC_ALL", "C")
        .stdin(Stdio::null());
    if let Some(log) = log {
        cmd.env("LD_PRELOAD", lib()).env("DYNCHK_LOG", log);
    }
    let empty = x.pixels();
    let mut client = cmd.spawn().expect("the client runs");
    // Generous: CI machines run the other tests' builds meanwhile.
    let deadline = Instant::now() + Duration::from_secs(60);
    let (mut last, mut same) = (Vec::new(), 0);
    loop {
        std::thread::sleep(Duration::from_millis(300));
        let now = x.pixels();
        same = if now == last { same + 1 } else { 0 };
        let done = match target {
            Some(t) => now == t,
            None => now != empty && same >= 2 && (!waits || ready.exists()),
        };
        last = now;
        if done || Instant::now() > deadline {
            break;
        }
    }
    let _ = std::fs::remove_file(&ready);
    // SAFETY: a signal to the child this function started and has not reaped.
    unsafe { libc::kill(client.id() as libc::pid_t, libc::SIGTERM) };
    let _ = client.wait();
    assert!(last != empty, "{argv:?} drew nothing in 60 s");
    last
}

/// `argv` draws the same pixels under the checker as without it, and the summaries count calls
/// to interfaces starting with each of `prefixes`, without a violation.
fn draws_the_same(name: &str, argv: &[&str], prefixes: &[&str]) {
    let dir = scratch(name);
    let plain = settled_pixels(argv, None, None);
    let checked = settled_pixels(argv, Some(&dir.join("log.%p")), Some(&plain));
    assert!(
        plain == checked,
        "{name} did not draw the same pixels under the checker in 60 s"
    );
    let records = records(&dir, "log.");
    for prefix in prefixes {
        assert_used(name, &records, prefix);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// xeyes (Xt and Xlib; the pointer never moves, so the eyes are drawn the same each time) draws
/// the same pixels under the checker as without it.
#[test]
fn xeyes_draws_the_same_pixels_under_the_checker() {
    if have("Xvfb") && have("xeyes") && have("xwd") {
        let argv = ["xeyes", "-geometry", "100x80+10+10"];
        draws_the_same("xeyes", &argv, &["Xt", "XOpenDisplay"]);
    }
}

/// xclock (Xt, Xaw and Xlib), digital with a fixed text for its time, so that the two runs
/// draw the same.
#[test]
fn xclock_draws_the_same_pixels_under_the_checker() {
    if have("Xvfb") && have("xclock") && have("xwd") {
        let argv = [
            "xclock",
            "-digital",
            "-strftime",
            "dynchk",
            "-geometry",
            "120x40+10+10",
        ];
        draws_the_same("xclock", &argv, &["Xt", "XOpenDisplay"]);
    }
}

/// xterm (Xt and Xlib, a pty, and the command it runs, checked too) showing a command's output;
/// the plain run's pixels are taken once the command has written it (under load xterm may sit
/// on an empty terminal for a second first). The command hides the cursor (DECTCEM) first:
/// whether xterm -hold still draws its hollow cursor once the command has exited depends on
/// timing, with or without the checker (2 of 5 plain runs drew it, 5 of 9 checked ones).
#[test]
fn xterm_draws_the_same_pixels_under_the_checker() {
    if have("Xvfb") && have("xterm") && have("xwd") {
        let argv = [
            "xterm",
            "-geometry",
            "30x5+0+0",
            "-hold",
            "-e",
            "sh",
            "-c",
            "printf '\\033[?25lchecked by dynchk\\n'; : > \"$0\"",
            "{ready}",
        ];
        draws_the_same("xterm", &argv, &["Xt", "XOpenDisplay"]);
    }
}

/// Runs `argv` on a fresh 80x24 pty (its controlling terminal, TERM=xterm) with `keys` typed
/// before it starts; returns everything it wrote to the terminal and its exit status.
fn on_pty(argv: &[&str], keys: &[u8], log: Option<&Path>) -> (Vec<u8>, Option<i32>) {
    use std::io::{Read, Write};
    use std::os::fd::{FromRawFd, OwnedFd};
    use std::os::unix::process::CommandExt;
    let (mut master, mut slave) = (-1, -1);
    let size = libc::winsize {
        ws_row: 24,
        ws_col: 80,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty writes the two descriptors; the name buffer is not asked for.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // The keys are typed at once. Keys that arrive before the program has put the terminal in raw
    // mode were echoed by the line discipline, so the output depended on timing: under load the
    // checked vim's began with ":q". Without echo from the start the bytes are the program's.
    // SAFETY: termios of the fresh slave side, read then written back.
    unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        assert_eq!(libc::tcgetattr(slave, &mut t), 0, "tcgetattr");
        t.c_lflag &= !(libc::ECHO | libc::ECHONL);
        assert_eq!(libc::tcsetattr(slave, libc::TCSANOW, &t), 0, "tcsetattr");
    }
    // SAFETY: both descriptors are fresh and owned here alone.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    let mut cmd = Command::new(argv[0]);
    cmd.args(&argv[1..])
        .env("TERM", "xterm")
        .env("LC_ALL", "C")
        .env_remove("DISPLAY")
        .stdin(slave.try_clone().unwrap())
        .stdout(slave.try_clone().unwrap())
        .stderr(slave.try_clone().unwrap());
    if let Some(log) = log {
        cmd.env("LD_PRELOAD", lib()).env("DYNCHK_LOG", log);
    }
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("the program runs on the pty");
    // The command keeps its copies of the slave side: without them gone, no EIO at the end.
    drop(cmd);
    drop(slave);
    // A program that never ends would block the read below for ever: killed after 2 minutes.
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watchdog = {
        let (done, pid) = (done.clone(), child.id() as libc::pid_t);
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(120);
            while !done.load(Ordering::Relaxed) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
            }
            if !done.load(Ordering::Relaxed) {
                // SAFETY: a signal to the child, not reaped yet (the reader waits for it).
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        })
    };
    let mut master = std::fs::File::from(master);
    // Read until the last holder of the slave side closes it (EIO on Linux), on a thread, and type
    // the keys only once the program has been quiet for a while: vim queries the terminal at
    // startup (cursor position, modifyOtherKeys) and what it wrote next depended on whether the
    // keys had already arrived, which under load differed between the plain and the checked run.
    let seen = std::sync::Arc::new(std::sync::Mutex::new((Vec::new(), Instant::now())));
    let reader = {
        let (seen, mut master) = (seen.clone(), master.try_clone().expect("dup the pty"));
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = master.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut seen = seen.lock().unwrap();
                seen.0.extend_from_slice(&buf[..n]);
                seen.1 = Instant::now();
            }
        })
    };
    let give_up = Instant::now() + Duration::from_secs(30);
    loop {
        std::thread::sleep(Duration::from_millis(50));
        let seen = seen.lock().unwrap();
        let quiet = !seen.0.is_empty() && seen.1.elapsed() >= Duration::from_millis(500);
        if quiet || Instant::now() > give_up {
            break;
        }
    }
    master.write_all(keys).expect("type the keys");
    reader.join().expect("the pty reader");
    done.store(true, Ordering::Relaxed);
    let out = std::mem::take(&mut seen.lock().unwrap().0);
    let status = child.wait().expect("wait");
    watchdog.join().expect("watchdog");
    (out, status.code())
}

/// vim in a terminal (libtinfo's terminfo and termcap calls) writes the same bytes to it under
/// the checker as without it, and quits the same.
#[test]
fn vim_on_a_pty_writes_the_same_bytes_under_the_checker() {
    if !have("vim") {
        return;
    }
    let dir = scratch("vim");
    let argv = [
        "vim",
        "-u",
        "NONE",
        "-i",
        "NONE",
        "-N",
        "-n",
        "-X",
        "/etc/hostname",
    ];
    let plain = on_pty(&argv, b":q\r", None);
    let checked = on_pty(&argv, b":q\r", Some(&dir.join("log.%p")));
    assert_eq!(checked.1, plain.1, "vim's exit status");
    assert!(
        checked.0 == plain.0,
        "vim wrote other bytes under the checker:\nplain:   {:?}\nchecked: {:?}",
        String::from_utf8_lossy(&plain.0),
        String::from_utf8_lossy(&checked.0)
    );
    let records = records(&dir, "log.");
    assert_used("vim", &records, "tgetent");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The test program of the library objects (tests/c/objects.c), built once per test.
fn objects_program(dir: &Path) -> std::path::PathBuf {
    let flags = Command::new("pkg-config")
        .args(["--cflags", "--libs", "x11", "ncursesw", "glib-2.0"])
        .args(["libxml-2.0", "libpng", "fontconfig"])
        .output()
        .expect("pkg-config runs");
    assert!(
        flags.status.success(),
        "pkg-config: the -dev packages of .ci/run"
    );
    let flags = String::from_utf8(flags.stdout).unwrap();
    let flags: Vec<&str> = flags.split_whitespace().collect();
    common::compile(dir, "objects", include_str!("c/objects.c"), &flags)
}

/// How a case of the objects program ends.
#[derive(Clone, Copy, PartialEq)]
enum End {
    /// It exits successfully.
    Exits,
    /// It runs with `DYNCHK_ON_VIOLATION=abort`: its bad call would touch freed memory, or the
    /// library would end the process on its own (an X error, png_error).
    CheckerAborts,
    /// glibc's free aborts it (after the report: the checker does not stop it).
    FreeAborts,
}

/// Runs one case of the objects program under the checker.
fn object_case(prog: &Path, dir: &Path, case: &str, display: &str, end: End) -> Vec<Value> {
    let log = dir.join(format!("{case}.%p"));
    let mut cmd = Command::new(prog);
    cmd.arg(case)
        .env("LD_PRELOAD", lib())
        .env("DYNCHK_LOG", &log)
        .env("TERM", "xterm")
        .env("DISPLAY", display)
        .stdin(Stdio::null());
    if end == End::CheckerAborts {
        cmd.env("DYNCHK_ON_VIOLATION", "abort");
    }
    let out = cmd.output().expect("the objects program runs");
    if end == End::Exits {
        assert!(out.status.success(), "{case}: {out:?}");
    } else {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(out.status.signal(), Some(libc::SIGABRT), "{case}: {out:?}");
    }
    records(dir, &format!("{case}."))
}

/// Planted misuses of library objects, lengths, deallocators and constants are each reported
/// once, with the interface, the parameter and the check (a deallocator's bad pointer once, not
/// again for the `free` the library makes of it); valid calls around the same objects (an object
/// made again at a destroyed one's address, a failed `delwin`, a reference-counted
/// configuration, NULL where the library documents it, `endwin` then a refresh, blocks the
/// libraries allocated given to their deallocators, masks and values their headers define)
/// are not. HTML documents are the XML parser's documents.
#[test]
fn library_objects_planted_violations_are_reported_once_and_clean_calls_are_not() {
    let x11 = have("Xvfb");
    let dir = scratch("objects");
    let prog = objects_program(&dir);
    let x = x11.then(|| Xvfb::start(Xvfb::free_number()));
    let display = x.as_ref().map_or(":0", |x| x.display.as_str());
    use End::{CheckerAborts, Exits, FreeAborts};
    let planted = [
        (
            "x11-draw-after-close",
            "XDrawPoint",
            "display",
            "handle",
            CheckerAborts,
        ),
        (
            "x11-string-too-long",
            "XDrawString",
            "string",
            "Rdaddress",
            Exits,
        ),
        (
            "glib-strlcpy-too-long",
            "g_strlcpy",
            "dest",
            "RWaddress",
            Exits,
        ),
        (
            "xml-free-twice",
            "xmlFreeDoc",
            "doc",
            "handle",
            CheckerAborts,
        ),
        (
            "curses-move-deleted",
            "wmove",
            "win",
            "handle",
            CheckerAborts,
        ),
        (
            "png-after-destroy",
            "png_set_sig_bytes",
            "png_ptr",
            "handle",
            CheckerAborts,
        ),
        // Deallocators: reported as free() reports, and not again by the free inside them.
        ("xfree-stack", "XFree", "data", "heapaddress", FreeAborts),
        (
            "glib-free-twice",
            "g_free",
            "mem",
            "heapaddress",
            FreeAborts,
        ),
        (
            "glib-free-interior",
            "g_free",
            "mem",
            "heapaddress",
            FreeAborts,
        ),
        // Masks and enumerations of the headers.
        (
            "x11-select-unknown-bits",
            "XSelectInput",
            "event_mask",
            "flags",
            CheckerAborts,
        ),
        (
            "x11-gc-unknown-bits",
            "XCreateGC",
            "valuemask",
            "flags",
            CheckerAborts,
        ),
        (
            "curses-unknown-attribute",
            "wattr_on",
            "attrs",
            "flags",
            Exits,
        ),
        (
            "xml-unknown-option",
            "xmlReadMemory",
            "options",
            "flags",
            Exits,
        ),
        (
            "png-unknown-color-type",
            "png_set_IHDR",
            "color_type",
            "oneof",
            CheckerAborts,
        ),
        // HTML documents.
        (
            "html-free-twice",
            "xmlFreeDoc",
            "doc",
            "handle",
            CheckerAborts,
        ),
        (
            "html-dump-after-free",
            "htmlDocDump",
            "doc",
            "handle",
            CheckerAborts,
        ),
    ];
    for (case, interface, param, check, end) in planted {
        if case.starts_with("x11") && !x11 {
            continue;
        }
        let records = object_case(&prog, &dir, case, display, end);
        let violations = common::of_kind(&records, "violation");
        assert_eq!(violations.len(), 1, "{case}: {violations:?}");
        let v = violations[0];
        assert_eq!(
            (
                v["interface"].as_str(),
                v["param_name"].as_str(),
                v["check"].as_str()
            ),
            (Some(interface), Some(param), Some(check)),
            "{case}: {v}"
        );
    }
    for case in [
        "x11-clean",
        "glib-clean",
        "xml-clean",
        "curses-clean",
        "png-clean",
        "fc-clean",
        "free-clean",
        "x11-free-clean",
        "x11-masks-clean",
        "curses-attributes-clean",
        "html-clean",
        "png-settings-clean",
    ] {
        if case.starts_with("x11") && !x11 {
            continue;
        }
        let records = object_case(&prog, &dir, case, display, Exits);
        let violations = common::of_kind(&records, "violation");
        assert!(violations.is_empty(), "{case}: {violations:?}");
        assert_eq!(summaries(&records).len(), 1, "{case}: {records:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
