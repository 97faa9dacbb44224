//! Processes under seccomp: the checker makes no system call that the process's seccomp state
//! forbids (a forbidden one would kill the process, send it `SIGSYS`, or fail with an errno the
//! checker could misread as a verdict), whether the program entered strict mode, installed a
//! filter (through `prctl` or the raw `seccomp` system call) or inherited one across `execve`;
//! and violations are still reported.

mod common;

use common::{assert_reported_once, compile, scratch, summaries, transparent, Run};

/// `prog MODE`: installs seccomp state as MODE says, then makes the same checked calls in every
/// mode (one of them a write to a closed descriptor).
const PROG_C: &str = r#"
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile int trapped;
static void on_sigsys(int s) { (void)s; trapped++; }

#define ALLOW(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
                  BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

/* What the program itself needs, a dynamic program's startup (for the exec'd image), and, when
   `identity`, the getpid family and clock_gettime; everything else (fcntl, mincore, rt_sigprocmask, rt_sigaction,
   sigaltstack, readlinkat, fstat, ...) gets `deflt`. */
static int install(unsigned deflt, int identity, int raw) {
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        ALLOW(SYS_read), ALLOW(SYS_write), ALLOW(SYS_exit_group), ALLOW(SYS_exit),
        ALLOW(SYS_rt_sigreturn), ALLOW(SYS_brk), ALLOW(SYS_mmap), ALLOW(SYS_munmap),
        ALLOW(SYS_futex), ALLOW(SYS_newfstatat), ALLOW(SYS_execve), ALLOW(SYS_openat),
        ALLOW(SYS_close), ALLOW(SYS_pread64), ALLOW(SYS_mprotect), ALLOW(SYS_access),
        ALLOW(SYS_arch_prctl), ALLOW(SYS_set_tid_address), ALLOW(SYS_set_robust_list),
        ALLOW(SYS_rseq), ALLOW(SYS_prlimit64), ALLOW(SYS_getrandom),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpid, 5, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_gettid, 4, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 3, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_geteuid, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clock_gettime, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, deflt),
        BPF_STMT(BPF_RET | BPF_K, identity ? SECCOMP_RET_ALLOW : deflt),
    };
    struct sock_fprog prog = { sizeof f / sizeof f[0], f };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -1;
    if (raw)
        return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

static void calls(int strict) {
    char buf[64];
    write(1, "filtered\n", 9);
    ssize_t n = read(0, buf, sizeof buf);
    if (n > 0)
        write(1, buf, n);
    long r = write(9, "x", 1);                  /* closed: EBADF, under the checker too */
    write(1, r < 0 && errno == EBADF ? "ebadf\n" : "what?\n", 6);
    if (strict)                                 /* no mmap, so no malloc */
        return;
    char *m = malloc(200000);                   /* a fresh mapping: not in any map snapshot */
    memset(m, 'a', 199999);
    m[199999] = 0;
    printf("%zu\n", strlen(m));
    free(m);
    if (trapped)
        printf("SIGSYS %d times\n", trapped);
    fflush(stdout);
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigsys;
    if (strcmp(mode, "inherited"))              /* the filter it inherited forbids it */
        sigaction(SIGSYS, &sa, 0);
    printf("mode %s\n", mode);
    fflush(stdout);
    if (!strcmp(mode, "strict")) {
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, 0) != 0)
            return 3;
        calls(1);
        syscall(SYS_exit, 0);                   /* exit_group is not allowed either */
    }
    int r = !strcmp(mode, "kill")  ? install(SECCOMP_RET_KILL_PROCESS, 0, 0)
          : !strcmp(mode, "trap")  ? install(SECCOMP_RET_TRAP, 0, 1)
          : !strcmp(mode, "errno") ? install(SECCOMP_RET_ERRNO | EPERM, 0, 1)
          : !strcmp(mode, "exec")  ? install(SECCOMP_RET_KILL_PROCESS, 1, 0)
          : 0;
    if (r != 0)
        return 4;
    if (!strcmp(mode, "exec")) {
        char *child[] = { argv[0], "inherited", 0 };
        execv(argv[0], child);
        return 5;
    }
    calls(0);
    return 0;
}
"#;

/// Runs `prog MODE` plainly and checked: same output, and the write to the closed descriptor
/// reported exactly once, with a summary.
fn check(mode: &str, expect_summary: bool) {
    let dir = scratch(&format!("seccomp-{mode}"));
    let prog = compile(&dir, "prog", PROG_C, &[]);
    let argv = [prog.to_str().unwrap(), mode];
    let mut run = Run::new(&argv);
    run.stdin = Some(b"from stdin\n");
    let plain = run.go(None);
    assert_eq!(plain.status.code(), Some(0), "{mode} plainly: {plain:?}");
    let child = if mode == "exec" { "inherited" } else { mode };
    let heap = if mode == "strict" { "" } else { "199999\n" };
    let expected = format!("mode {child}\nfiltered\nfrom stdin\nebadf\n{heap}");
    let shown = String::from_utf8_lossy(&plain.stdout);
    assert!(shown.ends_with(&expected), "{mode} plainly: {shown}");
    let records = transparent(&run, &dir);
    let context = format!("{mode}: ");
    assert_reported_once(&records, "write", "filedescriptor", &context);
    if expect_summary {
        let s = summaries(&records);
        let last = s
            .last()
            .unwrap_or_else(|| panic!("{mode}: no summary: {records:?}"));
        assert_eq!(last["violations"], 1, "{mode}: {records:?}");
    }
}

#[test]
fn a_filter_that_kills_every_other_call_kills_none_of_the_checkers() {
    check("kill", true);
}

#[test]
fn a_trapping_filter_sees_no_sigsys_from_the_checker() {
    check("trap", true);
}

#[test]
fn a_filter_answering_eperm_is_not_read_as_a_closed_descriptor() {
    check("errno", true);
}

#[test]
fn a_filter_inherited_across_exec_is_obeyed_from_the_first_call() {
    check("exec", true);
}

#[test]
fn strict_mode_entered_through_the_raw_system_call_still_reports() {
    // Strict mode ends with the raw exit: no destructor, no summary.
    check("strict", false);
}

const STRICT_C: &str = r#"
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void) {
    char buf[64];
    write(1, "before\n", 7);
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT) != 0)
        return 3;
    write(1, "strict\n", 7);                  /* a descriptor checked before */
    write(2, "stderr\n", 7);                  /* and one first checked now */
    ssize_t n = read(0, buf, sizeof buf);
    if (n > 0)
        write(1, buf, n);
    long r = write(9, "x", 1);                /* closed: EBADF, under the checker too */
    write(1, r < 0 ? "ebadf\n" : "what?\n", 6);
    syscall(SYS_exit, 0);                     /* exit_group is not allowed either */
}
"#;

#[test]
fn a_process_in_seccomp_strict_mode_survives_its_checked_calls() {
    let dir = scratch("seccomp-prctl-strict");
    let prog = compile(&dir, "strict", STRICT_C, &[]);
    let argv = [prog.to_str().unwrap()];
    let mut run = Run::new(&argv);
    run.stdin = Some(b"from stdin\n");
    let plain = run.go(None);
    assert_eq!(plain.status.code(), Some(0), "plainly: {plain:?}");
    assert_eq!(plain.stdout, b"before\nstrict\nfrom stdin\nebadf\n");
    let records = transparent(&run, &dir);
    assert_reported_once(&records, "write", "filedescriptor", "strict mode: ");
}

/// A filter built and loaded with libseccomp, as real sandboxes do (`seccomp_load` makes the raw
/// `seccomp` system call through `syscall`): everything the checker would ask the kernel
/// (`fcntl`, `mincore`, `rt_sigprocmask`, `readlinkat`, …) kills the process.
const LIBSECCOMP_C: &str = r#"
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(void) {
    static const int allowed[] = {
        SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(exit_group), SCMP_SYS(brk), SCMP_SYS(mmap),
        SCMP_SYS(munmap), SCMP_SYS(newfstatat), SCMP_SYS(futex),
    };
    printf("loading\n");
    fflush(stdout);
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
    for (unsigned i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
    if (seccomp_load(ctx) != 0)
        return 3;
    long r = write(9, "x", 1);
    printf("%s %zu\n", r < 0 && errno == EBADF ? "ebadf" : "what?", strlen("loaded"));
    return 0;
}
"#;

#[test]
fn a_filter_loaded_with_libseccomp_is_obeyed() {
    let dir = scratch("seccomp-libseccomp");
    let prog = compile(&dir, "prog", LIBSECCOMP_C, &["-lseccomp"]);
    let argv = [prog.to_str().unwrap()];
    let run = Run::new(&argv);
    let plain = run.go(None);
    assert_eq!(plain.status.code(), Some(0), "plainly: {plain:?}");
    assert_eq!(plain.stdout, b"loading\nebadf 6\n");
    let records = transparent(&run, &dir);
    assert_reported_once(&records, "write", "filedescriptor", "libseccomp: ");
    assert_eq!(summaries(&records)[0]["violations"], 1, "{records:?}");
}
