//! The checker under stress and in the corners of a process's life: threads, fork and exec,
//! closed descriptors, signal handlers, dlopen of TLS-using libraries, constructors before main,
//! and crashes right after a bad call.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use common::{
    assert_reported_once, compile, of_kind, records, scratch, summaries, transparent, violations,
    Run,
};

const THREADS_C: &str = r#"
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
static void *work(void *arg) {
    long ok = 0;
    for (int i = 0; i < 200000; i++) {
        if (i % 50000 == 0)
            fcntl(-1, F_GETFD);               /* one call site, 8 threads x 4 times */
        else
            ok += fcntl(0, F_GETFD) >= 0;
        if (i % 1000 == 0)
            free(malloc(64));
    }
    return (void *)ok;
}
int main(void) {
    pthread_t t[8];
    for (int i = 0; i < 8; i++)
        pthread_create(&t[i], 0, work, 0);
    long total = 0;
    for (int i = 0; i < 8; i++) {
        void *r;
        pthread_join(t[i], &r);
        total += (long)r;
    }
    printf("%ld\n", total);
    return 0;
}
"#;

#[test]
fn eight_threads_of_200k_calls() {
    let dir = scratch("threads");
    let prog = compile(&dir, "threads", THREADS_C, &["-pthread"]);
    let records = transparent(&Run::new(&[prog.to_str().unwrap()]), &dir);
    let s = summaries(&records);
    assert_eq!(s.len(), 1);
    assert!(s[0]["calls"].as_u64() >= Some(8 * 200_000), "{s:?}");
    // Exact: each thread's pending counts are added when it exits (rt::exit), and the checked
    // calls are the interfaces' counts added up.
    assert_eq!(s[0]["used"]["fcntl"], 8 * 200_000, "{s:?}");
    let used: u64 = s[0]["used"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(s[0]["checked"].as_u64(), Some(used), "{s:?}");
    assert_eq!(s[0]["violations"], 32, "every repeat counted: {s:?}");
    assert_eq!(s[0]["distinct"], 1, "one call site: {s:?}");
    assert_reported_once(&records, "fcntl", "filedescriptor", "");
}

const FORK_C: &str = r#"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
static void bad(void) { open(NULL, O_RDONLY); }
int main(int argc, char **argv) {
    if (argc > 1) {                           /* the exec'd image */
        bad();
        return 7;
    }
    bad();
    pid_t a = fork();
    if (a == 0) {
        bad();                                 /* reported again: the child has its own table */
        fcntl(-2, F_GETFD);
        _exit(5);
    }
    pid_t b = fork();
    if (b == 0) {
        execl(argv[0], argv[0], "exec", (char *)0);
        _exit(99);
    }
    int sa, sb;
    waitpid(a, &sa, 0);
    waitpid(b, &sb, 0);
    printf("%d %d\n", WEXITSTATUS(sa), WEXITSTATUS(sb));
    return 0;
}
"#;

#[test]
fn fork_with_and_without_exec_one_log_per_pid() {
    let dir = scratch("fork");
    let prog = compile(&dir, "fork", FORK_C, &[]);
    let out = Run::new(&[prog.to_str().unwrap()]).go(Some(&dir.join("log.%p")));
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "5 7\n");
    let mut logs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("log."))
        .collect();
    logs.sort();
    assert_eq!(
        logs.len(),
        3,
        "parent, forked child, exec'd child: {logs:?}"
    );
    for name in &logs {
        let pid: u64 = name["log.".len()..].parse().expect("pid in name");
        let recs = records(&dir, name);
        assert!(
            recs.iter().all(|r| r["pid"] == pid),
            "{name}: records of another pid: {recs:?}"
        );
        assert_eq!(
            violations(&recs, "open", "pathname").len(),
            1,
            "{name}: {recs:?}"
        );
        let s = summaries(&recs);
        assert!(!s.is_empty(), "{name}: no summary");
        assert!(s.iter().all(|s| s["pid"] == pid));
    }
    let all = records(&dir, "log.");
    let child = violations(&all, "fcntl", "filedescriptor");
    assert_eq!(child.len(), 1);
    let child_pid = &child[0]["pid"];
    let child_summary: Vec<_> = summaries(&all)
        .into_iter()
        .filter(|s| &s["pid"] == child_pid)
        .collect();
    assert_eq!(child_summary.len(), 1);
    assert_eq!(
        child_summary[0]["violations"], 2,
        "the child's own counters: {child_summary:?}"
    );
}

const CLOSEFDS_C: &str = r#"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>
int main(void) {
    open(NULL, O_RDONLY);                     /* opens the report file */
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    for (long fd = 3; fd < (long)rl.rlim_cur && fd < 65536; fd++)
        close(fd);
    int fd = open("/dev/null", O_RDONLY);     /* may reuse the report file's number */
    dup2(fd, 1000);
    dup2(fd, 1001);
    errno = 0;
    int r = fcntl(-7, F_GETFD);
    printf("%d %d %d\n", fd, r, errno);
    return 0;
}
"#;

#[test]
fn closing_every_descriptor_does_not_lose_reports() {
    let dir = scratch("closefds");
    let prog = compile(&dir, "closefds", CLOSEFDS_C, &[]);
    let records = transparent(&Run::new(&[prog.to_str().unwrap()]), &dir);
    assert_reported_once(&records, "open", "pathname", "");
    assert_reported_once(&records, "fcntl", "filedescriptor", "after close: ");
    assert_eq!(summaries(&records).len(), 1);
}

const SIGNALS_C: &str = r#"
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
static volatile sig_atomic_t hits;
static void on_alarm(int sig) {
    (void)sig;
    hits++;
    open(NULL, O_RDONLY);                     /* bad calls while main is inside malloc/free */
    fcntl(-1, F_GETFD);
}
int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, 0);
    struct itimerval it = { { 0, 100 }, { 0, 100 } };
    setitimer(ITIMER_REAL, &it, 0);
    void *keep[64] = { 0 };
    for (long i = 0; i < 3000000 && hits < 2000; i++) {
        int k = i % 64;
        free(keep[k]);
        keep[k] = malloc(16 + (i % 512));
        keep[k] = realloc(keep[k], 32 + (i % 1024));
    }
    struct itimerval off = { { 0, 0 }, { 0, 0 } };
    setitimer(ITIMER_REAL, &off, 0);
    for (int k = 0; k < 64; k++)
        free(keep[k]);
    printf("%s\n", hits > 0 ? "signalled" : "no signals");
    return 0;
}
"#;

#[test]
fn signal_handlers_making_bad_calls_during_malloc_and_free() {
    let dir = scratch("signals");
    let prog = compile(&dir, "signals", SIGNALS_C, &[]);
    let start = Instant::now();
    let out = Run::new(&[prog.to_str().unwrap()]).go(Some(&dir.join("log.%p")));
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "took {:?}",
        start.elapsed()
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "signalled\n");
    let records = records(&dir, "log.");
    assert_reported_once(&records, "open", "pathname", "");
    let s = summaries(&records);
    assert!(s[0]["violations"].as_u64() >= Some(2), "{s:?}");
}

const TLSLIB_C: &str = r#"
#include <stdlib.h>
#include <string.h>
static __thread char big[64 * 1024];
static __thread int counter;
int tls_touch(int n) {
    memset(big, n, sizeof big);
    counter += n;
    void *p = malloc(100);
    free(p);
    return counter + big[sizeof big - 1];
}
"#;

const DLOPEN_C: &str = r#"
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
static const char *lib;
static void *work(void *arg) {
    long id = (long)arg, sum = 0;
    for (int round = 0; round < 20; round++) {
        void *h = dlopen(lib, RTLD_NOW);
        if (!h) { fprintf(stderr, "%s\n", dlerror()); exit(2); }
        int (*touch)(int) = (int (*)(int))dlsym(h, "tls_touch");
        for (int i = 0; i < 50; i++) {
            sum += touch(1);
            free(malloc(32 + i));
        }
        if (id == 0 && round == 0)
            fcntl(-1, F_GETFD);
        dlclose(h);
    }
    return (void *)sum;
}
int main(int argc, char **argv) {
    lib = argv[1];
    pthread_t t[6];
    for (long i = 0; i < 6; i++)
        pthread_create(&t[i], 0, work, (void *)i);
    for (int i = 0; i < 6; i++)
        pthread_join(t[i], 0);
    puts("ok");
    return 0;
}
"#;

#[test]
fn dlopen_of_a_tls_library_from_several_threads() {
    let dir = scratch("dlopen");
    let lib = compile(&dir, "libtlsx.so", TLSLIB_C, &["-shared", "-fPIC"]);
    let prog = compile(&dir, "dlopen", DLOPEN_C, &["-pthread", "-ldl"]);
    let argv = [prog.to_str().unwrap(), lib.to_str().unwrap()];
    let run = Run::new(&argv);
    let start = Instant::now();
    let records = transparent(&run, &dir);
    assert!(start.elapsed() < Duration::from_secs(60));
    assert_reported_once(&records, "fcntl", "filedescriptor", "");
    assert!(summaries(&records)[0]["calls"].as_u64() > Some(6 * 20 * 50));
}

const EARLY_LIB_C: &str = r#"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
__attribute__((constructor)) static void early(void) {
    char *p = malloc(32);
    FILE *f = fopen("/proc/self/status", "r");
    if (f) fclose(f);
    open(NULL, O_RDONLY);
    free(p);
}
"#;

const EARLY_MAIN_C: &str = r#"
#include <stdio.h>
int main(void) { puts("main"); return 0; }
"#;

#[test]
fn a_library_constructor_runs_checked_before_main() {
    let dir = scratch("ctor");
    let lib = compile(&dir, "libearly.so", EARLY_LIB_C, &["-shared", "-fPIC"]);
    // --no-as-needed: main uses nothing from the library, which is loaded for its constructor.
    let prog = compile(
        &dir,
        "early",
        EARLY_MAIN_C,
        &[
            "-Wl,--no-as-needed",
            lib.to_str().unwrap(),
            "-Wl,-rpath,$ORIGIN",
        ],
    );
    let records = transparent(&Run::new(&[prog.to_str().unwrap()]), &dir);
    let bad = violations(&records, "open", "pathname");
    assert_eq!(bad.len(), 1, "{records:?}");
    assert_eq!(bad[0]["backtrace"][0]["module"], lib.to_str().unwrap());
}

const CRASH_C: &str = r#"
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
    open(NULL, O_RDONLY);
    if (strcmp(argv[1], "abort") == 0)
        abort();
    *(volatile int *)16 = 1;
    return 0;
}
"#;

#[test]
fn a_crash_right_after_a_bad_call_keeps_the_report() {
    let dir = scratch("crash");
    let prog = compile(&dir, "crash", CRASH_C, &[]);
    for (how, signal) in [("abort", libc::SIGABRT), ("segv", libc::SIGSEGV)] {
        let logs = dir.join(how);
        std::fs::create_dir_all(&logs).unwrap();
        let out = Run::new(&[prog.to_str().unwrap(), how]).go(Some(&logs.join("log.%p")));
        assert_eq!(out.status.signal(), Some(signal));
        let records = records(&logs, "log.");
        assert_reported_once(&records, "open", "pathname", &format!("{how}: "));
        // The checker's handler for the fatal signal writes the summary before the default
        // action (rt/signals.rs).
        assert_eq!(
            of_kind(&records, "summary").len(),
            1,
            "{how}: one summary, written before the signal's default action"
        );
    }
}
