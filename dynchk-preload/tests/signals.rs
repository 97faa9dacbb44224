//! Fatal signals: a process killed by a signal it does not handle still writes its summary and
//! dies of the same signal (core dump included), while a program that handles signals itself sees
//! exactly the dispositions it would see without the checker, across `exec` too.

mod common;

use common::*;
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

/// Makes one bad call (`close(-3)`), then dies the way argv[1] says.
const DYING: &str = r#"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv) {
    (void)close(-3);
    const char *how = argc > 1 ? argv[1] : "";
    if (!strcmp(how, "term")) kill(getpid(), SIGTERM);
    if (!strcmp(how, "segv")) *(volatile int *)16 = 1;
    if (!strcmp(how, "abort")) abort();
    if (!strcmp(how, "ill")) __builtin_trap();
    if (!strcmp(how, "pipe")) {
        int p[2];
        if (pipe(p)) return 2;
        close(p[0]);
        (void)write(p[1], "x", 1);
    }
    if (!strcmp(how, "alarm")) { ualarm(10000, 0); for (;;) pause(); }
    if (!strcmp(how, "wait")) { puts("ready"); fflush(stdout); for (;;) pause(); }
    return 0;
}
"#;

/// Runs `exe how` plainly and checked (in `dir`, logging to `dir/log.%p`) and asserts the same
/// terminating signal and core-dump flag; returns the checked run's records.
fn dies_alike(dir: &std::path::Path, exe: &str, how: &str, sig: i32) -> Vec<serde_json::Value> {
    let argv = [exe, how];
    let run = Run {
        cwd: Some(dir),
        ..Run::new(&argv)
    };
    let plain = run.go(None);
    let log = dir.join(format!("log.{how}.%p"));
    let checked = run.go(Some(&log));
    assert_eq!(plain.status.signal(), Some(sig), "{how} plainly: {plain:?}");
    assert_eq!(
        checked.status.signal(),
        Some(sig),
        "{how} checked: {checked:?}"
    );
    assert_eq!(
        checked.status.core_dumped(),
        plain.status.core_dumped(),
        "{how}: core dump flag"
    );
    assert_eq!(checked.stdout, plain.stdout, "{how}: stdout");
    records(dir, &format!("log.{how}."))
}

#[test]
fn a_process_killed_by_a_fatal_signal_writes_its_summary_and_dies_of_it() {
    let dir = scratch("fatal");
    let exe = compile(&dir, "dying", DYING, &[]);
    let exe = exe.to_str().unwrap();
    for (how, sig) in [
        ("term", libc::SIGTERM),
        ("segv", libc::SIGSEGV),
        ("abort", libc::SIGABRT),
        ("ill", libc::SIGILL),
        ("pipe", libc::SIGPIPE),
        ("alarm", libc::SIGALRM),
    ] {
        let records = dies_alike(&dir, exe, how, sig);
        let sums = summaries(&records);
        assert_eq!(sums.len(), 1, "{how}: one summary: {records:?}");
        assert_eq!(sums[0]["violations"], 1, "{how}: {records:?}");
        assert_eq!(sums[0]["sites"][0]["interface"], "close", "{how}");
    }
}

#[test]
fn a_process_killed_from_outside_writes_its_summary() {
    let dir = scratch("sigterm");
    let exe = compile(&dir, "dying", DYING, &[]);
    for checked in [false, true] {
        let mut cmd = Command::new(&exe);
        cmd.arg("wait").stdout(Stdio::piped());
        if checked {
            cmd.env("LD_PRELOAD", lib())
                .env("DYNCHK_LOG", dir.join("log.%p"));
        }
        let mut child = cmd.spawn().expect("spawn");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("ready line");
        assert_eq!(line, "ready\n");
        // SAFETY: signals our own child.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let status = child.wait().expect("wait");
        assert_eq!(status.signal(), Some(libc::SIGTERM), "checked: {checked}");
    }
    let records = records(&dir, "log.");
    let sums = summaries(&records);
    assert_eq!(sums.len(), 1, "{records:?}");
    assert_eq!(sums[0]["violations"], 1, "{records:?}");
}

/// Prints what it reads back of the dispositions, sets and resets its own, then execs itself to
/// print them again (argv[1] "reader"), once checked and once with LD_PRELOAD removed.
const OWN_HANDLERS: &str = r#"
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const int sigs[] = {SIGHUP, SIGINT, SIGQUIT, SIGABRT, SIGSEGV, SIGUSR1, SIGUSR2, SIGPIPE,
                           SIGALRM, SIGTERM, SIGCHLD, SIGWINCH};

static const char *kind(void (*h)(int)) {
    return h == SIG_DFL ? "DFL" : h == SIG_IGN ? "IGN" : h == SIG_ERR ? "ERR" : "handler";
}

static void show(const char *what, int sig) {
    struct sigaction old;
    memset(&old, 0, sizeof old);
    if (sigaction(sig, NULL, &old)) { printf("%s %d: error\n", what, sig); return; }
    unsigned long mask = 0;
    for (int s = 1; s < 64; s++) if (sigismember(&old.sa_mask, s)) mask |= 1UL << (s - 1);
    printf("%s %d: %s flags=%#x mask=%#lx restorer=%s\n", what, sig, kind(old.sa_handler),
           (unsigned)old.sa_flags, mask, old.sa_restorer ? "set" : "null");
}

static void on_term(int sig) {
    printf("caught %d\n", sig);
    show("in handler", sig);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1) {
        for (unsigned i = 0; i < sizeof sigs / sizeof *sigs; i++) show(argv[1], sigs[i]);
        raise(SIGTERM);
        return 0;
    }
    for (unsigned i = 0; i < sizeof sigs / sizeof *sigs; i++) show("start", sigs[i]);
    printf("signal old: %s\n", kind(signal(SIGTERM, on_term)));
    printf("signal old: %s\n", kind(signal(SIGTERM, SIG_DFL)));
    printf("bsd_signal old: %s\n", kind(bsd_signal(SIGPIPE, SIG_IGN)));
    printf("sysv_signal old: %s\n", kind(sysv_signal(SIGALRM, on_term)));
    printf("sigset old: %s\n", kind(sigset(SIGUSR2, SIG_HOLD)));
    printf("sigset old: %s\n", kind(sigset(SIGUSR2, SIG_DFL)));
    show("after signal", SIGTERM);

    struct sigaction act, old;
    memset(&act, 0, sizeof act);
    act.sa_handler = on_term;
    act.sa_flags = SA_RESETHAND;
    if (sigaction(SIGTERM, &act, &old)) return 2;
    printf("sigaction old: %s flags=%#x\n", kind(old.sa_handler), (unsigned)old.sa_flags);
    raise(SIGTERM);
    show("after reset", SIGTERM);

    memset(&act, 0, sizeof act);
    act.sa_handler = SIG_DFL;
    act.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigaddset(&act.sa_mask, SIGINT);
    if (sigaction(SIGUSR1, &act, &old)) return 3;
    show("dfl with flags", SIGUSR1);
    act.sa_handler = on_term;
    if (sigaction(SIGUSR1, &act, &old)) return 4;
    printf("sigaction old: %s flags=%#x\n", kind(old.sa_handler), (unsigned)old.sa_flags);
    raise(SIGUSR1);

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    raise(SIGHUP);
    sigset_t pending;
    sigpending(&pending);
    printf("HUP pending: %d\n", sigismember(&pending, SIGHUP));
    int got = 0;
    sigwait(&set, &got);
    printf("sigwait: %d\n", got);
    sigprocmask(SIG_UNBLOCK, &set, NULL);

    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, on_term);
    if (fork() == 0) {
        show("child", SIGINT);
        show("child", SIGQUIT);
        show("child", SIGTERM);
        _exit(0);
    }
    sleep(0);
    if (!strcmp(getenv("MODE") ? getenv("MODE") : "", "unpreload")) unsetenv("LD_PRELOAD");
    execl("/proc/self/exe", argv[0], "exec'd", (char *)NULL);
    return 5;
}
"#;

#[test]
fn a_program_with_its_own_handlers_sees_what_it_would_see_plainly() {
    let dir = scratch("own-handlers");
    let exe = compile(&dir, "own", OWN_HANDLERS, &[]);
    let exe = exe.to_str().unwrap();
    for mode in ["checked", "unpreload"] {
        let mode_dir = dir.join(mode);
        std::fs::create_dir_all(&mode_dir).unwrap();
        let argv = [exe];
        let run = Run {
            env: &[("MODE", mode)],
            ..Run::new(&argv)
        };
        let plain = run.go(None);
        let checked = run.go(Some(&mode_dir.join("log.%p")));
        let (p, c) = (
            String::from_utf8_lossy(&plain.stdout),
            String::from_utf8_lossy(&checked.stdout),
        );
        // The fork child's lines may come before or after the parent's next ones.
        let sorted = |s: &str| {
            let mut l: Vec<&str> = s.lines().collect();
            l.sort();
            l.join("\n")
        };
        assert_eq!(
            sorted(&c),
            sorted(&p),
            "{mode}:\nplain:\n{p}\nchecked:\n{c}"
        );
        assert!(p.contains("caught 15") && p.contains("exec'd 15"), "{p}");
        assert_eq!(plain.status.signal(), Some(libc::SIGTERM), "{plain:?}");
        assert_eq!(checked.status.signal(), Some(libc::SIGTERM), "{checked:?}");
        let records = records(&mode_dir, "log.");
        let starts = of_kind(&records, "start").len();
        let sums = summaries(&records).len();
        // The image before exec and the fork child always; the exec'd image when still checked,
        // killed by its SIGTERM after writing its summary.
        let images = if mode == "checked" { 3 } else { 2 };
        assert_eq!((starts, sums), (images, images), "{mode}: {records:?}");
    }
}

/// The main thread spends most of its time in the string check of `strlen` on 1 MiB; a timer's
/// handler, deep on the same stack, makes one checked call (`strlen`) per signal.
const HANDLER_INSIDE_CHECKER: &str = r#"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
static volatile long handled, total;
static void on_alarm(int sig) {
    (void)sig;
    volatile char deep[16384];
    deep[0] = 'x';
    deep[1] = 0;
    total += strlen((const char *)deep);
    handled++;
}
int main(void) {
    size_t n = 1 << 20;
    char *s = malloc(n + 1);
    for (size_t i = 0; i < n; i++) s[i] = 'a';
    s[n] = 0;
    signal(SIGALRM, on_alarm);
    struct itimerval it = {{0, 200}, {0, 200}};
    setitimer(ITIMER_REAL, &it, NULL);
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        total += strlen(s);
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < 400);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    printf("%ld\n", handled);
    return 0;
}
"#;

#[test]
fn calls_of_a_handler_that_interrupted_the_checker_are_counted() {
    let dir = scratch("in-handler");
    let exe = compile(&dir, "inside", HANDLER_INSIDE_CHECKER, &[]);
    let out = Run::new(&[exe.to_str().unwrap()]).go(Some(&dir.join("log.%p")));
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let handled: u64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    let records = records(&dir, "log.");
    let sums = summaries(&records);
    assert_eq!(sums.len(), 1, "{records:?}");
    let unchecked = sums[0]["unchecked_in_handler"].as_u64().unwrap_or(0);
    eprintln!("{handled} handler calls, {unchecked} unchecked (interrupted the checker)");
    assert!(handled > 100, "the timer fired {handled} times");
    assert!(
        unchecked > 0 && unchecked <= handled,
        "{unchecked} of {handled} handler calls counted as unchecked: {}",
        sums[0]
    );
    assert_eq!(sums[0]["violations"], 0, "{}", sums[0]);
}

/// A bad call in a signal handler, the signal raised from a function of the program's own.
const BAD_IN_HANDLER: &str = r#"
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
static void handler(int s) { (void)s; (void)close(-3); }
__attribute__((noinline)) static void deliver(void) { raise(SIGUSR1); __asm__ volatile(""); }
int main(void) {
    signal(SIGUSR1, handler);
    deliver();
    puts("handled");
    return 0;
}
"#;

#[test]
fn a_backtrace_from_a_signal_handler_goes_on_through_the_signal_frame() {
    let dir = scratch("handler-backtrace");
    let exe = compile(&dir, "handler", BAD_IN_HANDLER, &["-O1"]);
    let out = Run::new(&[exe.to_str().unwrap()]).go(Some(&dir.join("log.%p")));
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let records = records(&dir, "log.");
    let v = violations(&records, "close", "filedescriptor")[0];
    let modules: Vec<&str> = v["backtrace"]
        .as_array()
        .expect("a backtrace")
        .iter()
        .map(|f| f["module"].as_str().unwrap())
        .collect();
    let exe = exe.to_str().unwrap();
    // The handler's call, the kernel's return into the C library (__restore_rt), `raise` (and
    // its interposer), then the program again (`deliver`, `main`), then the C library's start
    // of `main`.
    assert_eq!(modules[0], exe, "{v}");
    assert!(modules[1].contains("libc.so"), "{v}");
    let back_in_program = modules
        .iter()
        .skip_while(|m| **m == exe)
        .skip_while(|m| **m != exe)
        .take_while(|m| **m == exe)
        .count();
    assert!(
        back_in_program >= 1,
        "no frame of the interrupted code: {v}"
    );
    assert!(modules.len() >= 5, "{v}");
}
