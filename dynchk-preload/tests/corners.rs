//! Corners of a process's life the checker must not change or lose: violations on small stacks
//! (a signal handler on a `SIGSTKSZ` alternate stack, a `PTHREAD_STACK_MIN` thread), a failed
//! `execve` followed by more violations, and checked calls from `.preinit_array`, before the C
//! library has set `environ`.

mod common;

use common::{compile, of_kind, scratch, summaries, transparent, violations, Run};
use serde_json::Value;

const SMALL_STACKS_C: &str = r#"
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
static void handler(int sig) { (void)sig; fcntl(-1, F_GETFD); write(1, "handled\n", 8); }
static void *work(void *a) { fcntl(-2, F_GETFD); write(1, "thread\n", 7); return a; }
int main(int argc, char **argv) {
    long size = atol(argv[2]);
    if (argv[1][0] == 's') {                  /* a handler on an alternate stack of `size` */
        stack_t ss = {.ss_sp = malloc(size), .ss_size = size};
        sigaltstack(&ss, 0);
        struct sigaction sa = {.sa_handler = handler, .sa_flags = SA_ONSTACK};
        sigaction(SIGUSR1, &sa, 0);
        raise(SIGUSR1);
    } else {                                  /* a thread with the smallest stack allowed */
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setstacksize(&at, PTHREAD_STACK_MIN);
        pthread_t t;
        pthread_create(&t, &at, work, 0);
        pthread_join(t, 0);
    }
    return 0;
}
"#;

fn small_stack(dir: &std::path::Path, prog: &str, how: &str, size: &str) -> Vec<Value> {
    let sub = dir.join(format!("{how}{size}"));
    std::fs::create_dir_all(&sub).unwrap();
    let records = transparent(&Run::new(&[prog, how, size]), &sub);
    let s = summaries(&records);
    assert_eq!(s.len(), 1, "{how} {size}: {records:?}");
    assert_eq!(s[0]["violations"], 1, "{how} {size}: counted: {records:?}");
    records
}

#[test]
fn violations_on_small_stacks_are_counted_without_overflowing_them() {
    let dir = scratch("small-stacks");
    let prog = compile(&dir, "small", SMALL_STACKS_C, &["-pthread"]);
    let prog = prog.to_str().unwrap();
    // SIGSTKSZ: a record, without frames (the unwinder alone needs about 3 KiB).
    let r = small_stack(&dir, prog, "s", "8192");
    assert_eq!(violations(&r, "fcntl", "filedescriptor").len(), 1, "{r:?}");
    // Too small even for that: counted only.
    small_stack(&dir, prog, "s", "6144");
    // Ample: a record with its backtrace.
    let r = small_stack(&dir, prog, "s", "32768");
    let v = violations(&r, "fcntl", "filedescriptor");
    assert!(!v[0]["backtrace"].as_array().unwrap().is_empty(), "{r:?}");
    let r = small_stack(&dir, prog, "t", "0");
    assert_eq!(violations(&r, "fcntl", "filedescriptor").len(), 1, "{r:?}");
}

const FAILED_EXEC_C: &str = r#"
#include <fcntl.h>
#include <unistd.h>
int main(void) {
    char *argv[] = {"nothing", 0};
    fcntl(-1, F_GETFD);
    execv("/nonexistent/nothing", argv);      /* fails: the image goes on */
    for (int i = 0; i < 3; i++)
        fcntl(-2, F_GETFD);
    return 0;
}
"#;

#[test]
fn violations_after_a_failed_exec_are_in_a_summary() {
    let dir = scratch("failed-exec");
    let prog = compile(&dir, "failed-exec", FAILED_EXEC_C, &[]);
    let records = transparent(&Run::new(&[prog.to_str().unwrap()]), &dir);
    let s = summaries(&records);
    assert_eq!(s.len(), 2, "one before the exec, one at exit: {records:?}");
    let total: u64 = s.iter().map(|s| s["violations"].as_u64().unwrap()).sum();
    assert_eq!(total, 4, "each violation counted once: {records:?}");
    assert_eq!(s[1]["violations"], 3, "{records:?}");
}

const PREINIT_C: &str = r#"
#include <fcntl.h>
#include <stdio.h>
static void early(int argc, char **argv, char **envp) { fcntl(-1, F_GETFD); }
__attribute__((section(".preinit_array"), used)) static void (*run_early)(int, char **, char **) = early;
int main(void) {
    fcntl(-2, F_GETFD);
    puts("main");
    return 0;
}
"#;

#[test]
fn a_checked_call_from_preinit_array_honours_dynchk_log() {
    let dir = scratch("preinit");
    let prog = compile(&dir, "preinit", PREINIT_C, &[]);
    let records = transparent(&Run::new(&[prog.to_str().unwrap()]), &dir);
    assert_eq!(
        violations(&records, "fcntl", "filedescriptor").len(),
        2,
        "both reported to the log file (none on stderr): {records:?}"
    );
    assert_eq!(of_kind(&records, "summary").len(), 1, "{records:?}");
}
