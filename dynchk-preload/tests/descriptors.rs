//! The `filedescriptor` check without system calls of its own: descriptors the kernel said were
//! open are remembered until an interposed call closes them, so a process in seccomp's strict mode
//! (only read, write and _exit allowed) survives its checked calls, and nothing the checker cannot
//! see (a raw close, a raw open) makes it report an open descriptor as closed.

mod common;

use common::{assert_reported_once, compile, scratch, summaries, transparent, violations, Run};

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
    let dir = scratch("seccomp-strict");
    let prog = compile(&dir, "strict", STRICT_C, &[]);
    let argv = [prog.to_str().unwrap()];
    let mut run = Run::new(&argv);
    run.stdin = Some(b"from stdin\n");
    let plain = run.go(None);
    assert_eq!(plain.status.code(), Some(0), "plainly: {plain:?}");
    assert_eq!(plain.stdout, b"before\nstrict\nfrom stdin\nebadf\n");
    transparent(&run, &dir);
}

const CACHE_C: &str = r#"
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
extern int close_range(unsigned, unsigned, int);
static void say(const char *what, long r) { printf("%s: %ld\n", what, r); }
int main(int argc, char **argv) {
    struct stat st;
    /* Opened and closed behind the checker's back: never reported as closed while open. */
    int raw = syscall(SYS_dup, 1);
    say("write to a raw dup", write(raw, "", 0));
    syscall(SYS_close, raw);
    raw = syscall(SYS_openat, AT_FDCWD, argv[0], O_RDONLY);
    say("fstat of a raw open in the same slot", fstat(raw, &st));
    syscall(SYS_close, raw);
    /* Closed through interposed calls: each later use is reported. */
    int a = open(argv[0], O_RDONLY);
    say("fstat a", fstat(a, &st));
    close(a);
    say("fchmod a after close", fchmod(a, 0755));
    int b = open(argv[0], O_RDONLY);
    FILE *f = fdopen(b, "r");
    say("fstat b", fstat(b, &st));
    fclose(f);
    say("fsync b after fclose", fsync(b));
    DIR *d = opendir(".");
    int c = dirfd(d);
    say("fchdir c", fchdir(c));
    closedir(d);
    say("fdatasync c after closedir", fdatasync(c));
    int e = open(argv[0], O_RDONLY), g = dup(e);
    say("lseek e", lseek(e, 0, SEEK_SET));
    say("lseek g", lseek(g, 0, SEEK_SET));
    close_range(e < g ? e : g, e < g ? g : e, 0);
    say("ftruncate g after close_range", ftruncate(g, 0));
    return 0;
}
"#;

#[test]
fn descriptors_closed_through_interposed_calls_are_reported_and_raw_ones_never_falsely() {
    let dir = scratch("fd-cache");
    let prog = compile(&dir, "cache", CACHE_C, &[]);
    let records = transparent(&Run::new(&[prog.to_str().unwrap()]), &dir);
    for iface in ["fchmod", "fsync", "fdatasync", "ftruncate"] {
        let context = format!("{iface} after its descriptor was closed: ");
        assert_reported_once(&records, iface, "filedescriptor", &context);
    }
    let s = summaries(&records);
    assert_eq!(s[0]["violations"], 4, "no other report: {records:?}");
    assert!(
        violations(&records, "write", "filedescriptor").is_empty(),
        "{records:?}"
    );
}
