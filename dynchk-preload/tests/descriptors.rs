//! The `filedescriptor` check without system calls of its own: descriptors the kernel said were
//! open are remembered until an interposed call closes them (no `fcntl` per check; processes under
//! seccomp are in `seccomp.rs`), and nothing the checker cannot see (a raw close, a raw open)
//! makes it report an open descriptor as closed.

mod common;

use common::{assert_reported_once, compile, scratch, summaries, transparent, violations, Run};

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
