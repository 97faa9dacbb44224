//! The log file: opened when the process starts (kept across a switch of user, placed high,
//! surviving the program closing its descriptors), every process accounted for by a `start`
//! record, and never a way to write through a planted symlink or to hang on a FIFO.

mod common;

use common::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A root process forks a worker that switches to `nobody`, then both make a bad call.
const DROP_PRIVILEGES: &str = r#"
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
    pid_t pid = fork();
    if (pid == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0) return 2;
        (void)close(-7);
        return 0;
    }
    int status;
    waitpid(pid, &status, 0);
    (void)close(-8);
    return WEXITSTATUS(status);
}
"#;

#[test]
fn a_worker_that_switches_to_nobody_keeps_its_reports() {
    // SAFETY: plain getter.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: needs root to switch user");
        return;
    }
    let dir = scratch("setuid");
    let exe = compile(&dir, "drop", DROP_PRIVILEGES, &[]);
    let exe = exe.to_str().unwrap();
    let out = Run::new(&[exe]).go(Some(&dir.join("log.%p")));
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let records = records(&dir, "log.");
    let starts = of_kind(&records, "start");
    let sums = summaries(&records);
    assert_eq!(starts.len(), 2, "a start per process: {records:?}");
    assert_eq!(
        sums.len(),
        2,
        "a summary per process, the worker's too: {records:?}"
    );
    assert_eq!(
        violations(&records, "close", "filedescriptor").len(),
        2,
        "{records:?}"
    );
    let parent = starts
        .iter()
        .find(|s| s["ppid"] != starts[0]["pid"] && s["ppid"] != starts[1]["pid"])
        .unwrap();
    let child = starts
        .iter()
        .find(|s| s["ppid"] == parent["pid"])
        .expect("child start names its parent");
    assert_eq!(child["argv"][0], exe);
    assert_eq!(child["exe"], exe);
    for f in std::fs::read_dir(&dir).unwrap() {
        let f = f.unwrap();
        if f.file_name().to_string_lossy().starts_with("log.") {
            let mode = f.metadata().unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{:?}", f.path());
        }
    }
}

#[test]
fn a_killed_process_leaves_its_start_record() {
    let dir = scratch("killed");
    let mut child = Command::new("sleep")
        .arg("30")
        .env("LD_PRELOAD", lib())
        .env("DYNCHK_LOG", dir.join("log.%p"))
        .spawn()
        .unwrap();
    let log = dir.join(format!("log.{}", child.id()));
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::metadata(&log).map_or(true, |m| m.len() == 0) {
        assert!(
            Instant::now() < deadline,
            "no start record in {}",
            log.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: signals our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    child.wait().unwrap();
    let records = records(&dir, "log.");
    let starts = of_kind(&records, "start");
    assert_eq!(starts.len(), 1, "{records:?}");
    assert_eq!(starts[0]["pid"], child.id());
    assert_eq!(starts[0]["argv"], serde_json::json!(["sleep", "30"]));
    assert!(starts[0]["time"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert!(summaries(&records).is_empty());
}

/// Makes a bad call, then closes standard error before exiting (as coreutils do).
const CLOSE_STDERR: &str =
    "#include <unistd.h>\nint main(void) { (void)close(-3); close(2); return 0; }\n";

#[test]
fn the_summary_on_standard_error_survives_the_program_closing_it() {
    let dir = scratch("stderr");
    let exe = compile(&dir, "closer", CLOSE_STDERR, &[]);
    let out = Command::new(&exe)
        .env("LD_PRELOAD", lib())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("close(arg0 fd): filedescriptor"), "{err}");
    assert!(err.contains("summary: calls="), "summary lost: {err}");
}

/// Makes a bad call, then opens a file and prints the descriptor it got.
const LOWEST_FD: &str = "#include <fcntl.h>\n#include <stdio.h>\n#include <unistd.h>\nint main(void) { (void)close(-3); int fd = open(\"/dev/null\", O_RDONLY); printf(\"%d\\n\", fd); return 0; }\n";

#[test]
fn with_eight_descriptors_the_log_takes_no_low_slot_and_loses_nothing() {
    let dir = scratch("nofile");
    let exe = compile(&dir, "lowest", LOWEST_FD, &[]);
    let script = format!("ulimit -n 8 && exec {}", exe.display());
    let records = transparent(&Run::new(&["sh", "-c", &script]), &dir);
    assert_reported_once(&records, "close", "filedescriptor", "");
    // The shell's summary before its exec, then the program's.
    let sums = summaries(&records);
    assert_eq!(
        sums.last().map(|s| &s["violations"]),
        Some(&1.into()),
        "{records:?}"
    );
}

fn run_with_log(dir: &Path, log: &Path) -> std::process::ExitStatus {
    let exe = compile(dir, "closer", CLOSE_STDERR, &[]);
    let mut child = Command::new(&exe)
        .env("LD_PRELOAD", lib())
        .env("DYNCHK_LOG", log)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the program hung opening {}", log.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_planted_symlink_is_not_followed() {
    let dir = scratch("symlink");
    let victim = dir.join("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    let link = dir.join("log");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    assert!(run_with_log(&dir, &link).success());
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
}

#[test]
fn a_fifo_at_the_log_path_neither_hangs_nor_is_written() {
    let dir = scratch("fifo");
    let fifo = dir.join("log");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    assert!(run_with_log(&dir, &fifo).success());
    // With a reader waiting on it, the FIFO opens but is refused all the same.
    let reader = std::thread::spawn({
        let fifo = fifo.clone();
        move || std::fs::read(fifo).unwrap()
    });
    std::thread::sleep(Duration::from_millis(100));
    assert!(run_with_log(&dir, &fifo).success());
    // Release the reader if nobody opened the FIFO for writing.
    use std::os::unix::fs::OpenOptionsExt;
    let _ = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo);
    assert!(
        reader.join().unwrap().is_empty(),
        "records written into a FIFO"
    );
}

#[test]
fn someone_elses_file_is_refused() {
    // SAFETY: plain getter.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: needs root to create a file owned by another user");
        return;
    }
    let dir = scratch("foreign");
    let log = dir.join("log");
    std::fs::write(&log, "").unwrap();
    std::os::unix::fs::chown(&log, Some(65534), Some(65534)).unwrap();
    assert!(run_with_log(&dir, &log).success());
    assert_eq!(std::fs::metadata(&log).unwrap().size(), 0);
}
