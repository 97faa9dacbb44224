//! C programs under the checker: errno transparency, reports (format, dedup, backtrace, settings),
//! and checks of calls made from callbacks, including after a longjmp out of one.

mod common;

use std::path::Path;

use common::{
    assert_reported_once, compile, of_kind, records, scratch, summaries, transparent, violations,
    Run,
};
use serde_json::Value;

/// Prints, after each call, its result and errno (set to a sentinel before the call, so that a
/// checker that clobbers errno on a successful call shows too). The calls run again on a second
/// thread, whose errno is another variable (the checker keeps each thread's errno address).
const ERRNO_C: &str = r#"
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>
#define T(name, expr) do { errno = 4242; long r_ = (long)(expr); int e_ = errno; \
    printf("%-12s %ld %d\n", name, r_, e_); } while (0)
static void calls(int exec) {
    int n; char buf[16]; void *p = 0; struct rlimit rl;
    char *argv[] = { "x", 0 };
    T("open-enoent", open("/nonexistent/x", O_RDONLY));
    T("open-null", open(NULL, O_RDONLY));
    T("open-ok", close(open("/", O_RDONLY | O_DIRECTORY)));
    T("openat-ok", close(openat(AT_FDCWD, "/", O_RDONLY | O_DIRECTORY)));
    T("open-creat", open("/nonexistent/y", O_WRONLY | O_CREAT, 0644));
    T("fcntl-neg", fcntl(-1, F_GETFD));
    T("fcntl-ok", fcntl(0, F_GETFD) >= 0);
    T("ioctl-ebadf", ioctl(-5, FIONREAD, &n));
    T("malloc-huge", malloc((size_t)-1 / 2) == NULL);
    T("free-null", (free(NULL), 0));
    T("realloc", (free(realloc(NULL, 16)), 0));
    T("memalign-bad", posix_memalign(&p, 3, 16));
    T("memalign-ok", (posix_memalign(&p, 64, 16) == 0 && ((unsigned long)p & 63) == 0 && (free(p), 1)));
    T("calloc-ovf", calloc((size_t)-1, 16) == NULL);
    T("mmap-einval", mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED);
    T("munmap-inval", munmap((void *)1, 4096));
    T("getrlimit", getrlimit(RLIMIT_NOFILE, &rl));
    T("setrlimit", setrlimit(RLIMIT_NOFILE, &rl));
    T("snprintf", snprintf(buf, 4, "%d", 12345));
    T("sscanf", sscanf("42 x", "%d", &n) * 100 + n);
    T("dprintf-bad", dprintf(-1, "x%d", 1));
    if (exec)
        T("execv-enoent", execv("/nonexistent", argv));
    T("close-ebadf", close(-1));
    T("read-ebadf", read(-1, buf, 1));
    T("fopen-enoent", fopen("/nonexistent", "r") == NULL);
}
static void *on_thread(void *arg) { calls(0); return arg; }
int main(void) {
    pthread_t t;
    calls(1);
    pthread_create(&t, NULL, on_thread, NULL);
    pthread_join(t, NULL);
    return 0;
}
"#;

#[test]
fn errno_after_every_call_is_the_real_functions() {
    let dir = scratch("errno");
    let prog = compile(&dir, "errno", ERRNO_C, &[]);
    let records = transparent(&Run::new(&[prog.to_str().unwrap()]), &dir);
    // The hand-coded checks that must have fired (more arrive with generated interposers), once
    // on each thread (the backtraces differ).
    for (interface, check) in [
        ("open", "pathname"),
        ("fcntl", "filedescriptor"),
        ("dprintf", "filedescriptor"),
    ] {
        let found = violations(&records, interface, check).len();
        assert_eq!(found, 2, "{interface} {check}: {records:?}");
    }
    // One summary before the failed execv, one at exit.
    let s = summaries(&records);
    assert_eq!(s.len(), 2, "{records:?}");
    let total: u64 = s.iter().map(|s| s["violations"].as_u64().unwrap()).sum();
    assert!(total >= 3, "{s:?}");
}

/// `strlen` answers with the length its check measured: the same results as the C library's for
/// strings in heap blocks of every small size at every offset, on the stack, in static data,
/// ending at or crossing a page boundary, and in a mapping made after the first call.
const STRLEN_C: &str = r#"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
static size_t (*volatile len_of)(const char *) = strlen;
int main(void) {
    static const char text[] = "static text";
    char stack[64];
    unsigned long sum = 0;
    for (size_t n = 1; n <= 80; n++) {
        char *p = malloc(n);
        for (size_t len = 0; len < n; len++) {
            memset(p, 'x', len);
            p[len] = 0;
            for (size_t k = 0; k <= len; k++)
                sum = sum * 31 + len_of(p + k);
        }
        free(p);
    }
    printf("heap %lu\n", sum);
    strcpy(stack, "on the stack");
    printf("stack %zu static %zu empty %zu\n", len_of(stack), len_of(text), len_of(""));
    char *m = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(m, 'y', 3 * 4096);
    m[4095] = 0;
    m[4096 + 100] = 0;
    m[3 * 4096 - 1] = 0;
    printf("to the page end %zu across %zu whole %zu last %zu\n", len_of(m + 4000),
           len_of(m + 4090), len_of(m + 4096), len_of(m + 2 * 4096 + 5));
    munmap(m, 3 * 4096);
    return 0;
}
"#;

#[test]
fn strlen_returns_what_the_c_library_would() {
    let dir = scratch("strlen");
    let prog = compile(&dir, "strlen", STRLEN_C, &[]);
    let records = transparent(&Run::new(&[prog.to_str().unwrap()]), &dir);
    assert!(of_kind(&records, "violation").is_empty(), "{records:?}");
    let s = summaries(&records);
    assert!(s[0]["used"]["strlen"].as_u64().unwrap() > 80 * 80, "{s:?}");
}

/// `sprintf` and `__sprintf_chk` format straight into the destination when it is known to hold
/// the output: results, errno and bytes as the C library's, for heap blocks of every small size
/// with outputs that fit and that overflow the block (within malloc's usable size, so that the
/// program itself stays sound), stack and static buffers, floating arguments (which travel in
/// vector registers), `%n`, which must not be stored twice, and destinations that arguments
/// read: `sprintf(buf, "%s/%s", buf, name)`, strings that run into the destination from before it
/// and that start just after its first byte.
const SPRINTF_C: &str = r#"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int __sprintf_chk(char *s, int flag, size_t slen, const char *fmt, ...);
static int (*volatile sp)(char *, const char *, ...) = sprintf;
static int (*volatile spc)(char *, int, size_t, const char *, ...) = __sprintf_chk;
static const char text[] = "abcdefghijklmnopqrstuvwxyz";
static char data[40];
static unsigned long sum;
static void add(const char *s, int r) {
    sum = sum * 31 + (unsigned long)r * 7 + errno;
    for (; *s; s++)
        sum = sum * 31 + (unsigned char)*s;
}
int main(void) {
    char stack[64];
    int n_at = -1;
    for (size_t n = 1; n <= 24; n++) {
        for (int len = 0; len < 23; len++) {
            char *p = malloc(n);
            errno = 4242;
            add(p, sp(p, "%.*s", len, text));
            errno = 4242;
            add(p, spc(p, 1, (size_t)-1, "<%.*s", len, text));
            free(p);
        }
    }
    printf("heap %lu\n", sum);
    errno = 4242;
    add(stack, spc(stack, 1, sizeof stack, "%d|%s|%8.3f|%Lg|%n", -42, "mid", 3.14159, 2.5L, &n_at));
    printf("stack %s n %d sum %lu\n", stack, n_at, sum);
    errno = 4242;
    add(data, sp(data, "%x-%c-%e", 0xbeef, 'q', 1e10));
    printf("static %s errno %d sum %lu\n", data, errno, sum);
    /* The append idiom: the destination is also an argument (vsnprintf would empty it first). */
    strcpy(stack, "dir");
    add(stack, sp(stack, "%s/%s", stack, "file"));
    add(stack, spc(stack, 1, sizeof stack, "%s.%d", stack, 7));
    printf("appended %s sum %lu\n", stack, sum);
    /* An argument that starts before the destination and runs into it, one that starts just
       after the destination's first byte (written over as it is read), and a heap block
       appended to in place. */
    strcpy(stack, "0123456789");
    add(stack + 4, sp(stack + 4, "%s!", stack));
    add(stack, spc(stack, 1, sizeof stack, "<%s>", stack + 1));
    char *h = malloc(32);
    strcpy(h, "heap");
    add(h, spc(h, 1, (size_t)-1, "%s+%s", h, "more"));
    printf("shifted %s heap %s sum %lu\n", stack, h, sum);
    free(h);
    return 0;
}
"#;

#[test]
fn sprintf_writes_what_the_c_library_would() {
    let dir = scratch("sprintf");
    let prog = compile(&dir, "sprintf", SPRINTF_C, &[]);
    let records = transparent(&Run::new(&[prog.to_str().unwrap()]), &dir);
    // The outputs longer than their block are reported (identical ones once per call site),
    // and nothing else is.
    let all = of_kind(&records, "violation");
    let overflows = violations(&records, "sprintf", "RWaddress");
    let chk = violations(&records, "__sprintf_chk", "RWaddress");
    assert!(!overflows.is_empty() && !chk.is_empty(), "{records:?}");
    assert_eq!(all.len(), overflows.len() + chk.len(), "{records:?}");
    let s = summaries(&records);
    assert_eq!(s[0]["used"]["sprintf"].as_u64(), Some(24 * 23 + 3), "{s:?}");
}

/// The checker's own fork handler is registered with the original `__register_atfork` (which
/// `pthread_atfork` calls), not through its interposer: the program's one registration is the
/// only call counted, and no record is written for the checker's.
#[test]
fn the_checkers_own_atfork_registration_is_not_the_programs_call() {
    let dir = scratch("atfork");
    let prog = compile(
        &dir,
        "atfork",
        "#include <pthread.h>\nstatic void child(void) {}\nint main(void) { return pthread_atfork(0, 0, child); }\n",
        &["-pthread"],
    );
    let records = transparent(&Run::new(&[prog.to_str().unwrap()]), &dir);
    assert!(of_kind(&records, "violation").is_empty(), "{records:?}");
    let s = summaries(&records);
    assert_eq!(s[0]["used"]["__register_atfork"], 1, "{s:?}");
}

/// The checker brings no library of its own into the process: the C++ ABI unwinder
/// (`libgcc_s.so.1`, whose constructor runs `cpuid` a dozen times) stays out of a C program
/// that does not need it, and the checker's backtraces still have their frames.
#[test]
fn a_c_program_runs_without_the_unwinder_library_and_still_gets_backtraces() {
    let dir = scratch("no-libgcc");
    let out = Run::new(&["/bin/cat", "/proc/self/maps"]).go(Some(&dir.join("log.%p")));
    assert!(out.status.success(), "{out:?}");
    let maps = String::from_utf8_lossy(&out.stdout);
    assert!(maps.contains("libdynchk"), "not under the checker: {maps}");
    assert!(!maps.contains("libgcc_s"), "{maps}");
    let (_, records) = run_bad(&dir, &[], true);
    let v = violations(&records, "open", "pathname")[0];
    let frames = v["backtrace"].as_array().expect("a backtrace");
    // The bad call's site in the program, its caller `main`, and the C library's start code.
    assert!(frames.len() >= 3, "{v}");
}

/// A bad call from a qsort comparator (a callback the C library invokes), then a longjmp out of
/// the comparator, after which checks must still run.
/// The dl error state survives the checker: between the failing call and `dlerror` the program
/// makes calls whose originals the checker resolves on first use.
const DLERROR_C: &str = r#"
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
static const char *or_null(const char *s) { return s ? s : "(null)"; }
int main(void) {
    void *h = dlopen("/nonexistent/libdynchk-none.so", RTLD_NOW);
    puts("dlopen failed");
    printf("dlopen: %p %s\n", h, or_null(dlerror()));
    printf("again: %s\n", or_null(dlerror()));
    h = dlopen("libc.so.6", RTLD_NOW);
    void *s = dlsym(h, "dynchk_no_such_symbol");
    fputs("dlsym failed\n", stdout);
    printf("dlsym: %p %s\n", s, or_null(dlerror()));
    s = dlvsym(h, "puts", "GLIBC_0.0");
    fprintf(stdout, "dlvsym: %p %s\n", s, or_null(dlerror()));
    return 0;
}
"#;

#[test]
fn dlerror_describes_the_programs_failed_dl_call() {
    let dir = scratch("dlerror");
    let prog = compile(&dir, "dlerror", DLERROR_C, &["-ldl"]);
    let argv = [prog.to_str().expect("utf-8 path")];
    let plain = Run::new(&argv).go(None);
    let out = String::from_utf8_lossy(&plain.stdout);
    assert!(
        out.contains("cannot open shared object") && out.contains("undefined symbol"),
        "the plain run describes both failures: {out}"
    );
    let recs = transparent(&Run::new(&argv), &dir);
    assert!(of_kind(&recs, "violation").is_empty(), "{recs:?}");
    std::fs::remove_dir_all(&dir).expect("remove scratch dir");
}

const CALLBACK_C: &str = r#"
#include <fcntl.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
static jmp_buf out;
static int jumps;
static int bad_cmp(const void *a, const void *b) {
    open(NULL, O_RDONLY);                     /* reported from inside qsort */
    return *(const int *)a - *(const int *)b;
}
static int jumping_cmp(const void *a, const void *b) {
    (void)a; (void)b;
    jumps++;
    longjmp(out, 1);
}
int main(void) {
    int v[] = { 5, 3, 9, 1, 7 };
    qsort(v, 5, sizeof v[0], bad_cmp);
    if (setjmp(out) == 0)
        qsort(v, 5, sizeof v[0], jumping_cmp);
    fcntl(-3, F_GETFD);                       /* must still be checked */
    printf("%d %d %d\n", v[0], v[4], jumps);
    return 0;
}
"#;

#[test]
fn callbacks_are_checked_and_a_longjmp_out_leaves_checking_on() {
    let dir = scratch("callback");
    let prog = compile(&dir, "callback", CALLBACK_C, &[]);
    let records = transparent(&Run::new(&[prog.to_str().unwrap()]), &dir);
    let bad = violations(&records, "open", "pathname");
    assert_eq!(
        bad.len(),
        1,
        "one report for the comparator's call site: {records:?}"
    );
    assert_eq!(bad[0]["backtrace"][0]["module"], prog.to_str().unwrap());
    assert_reported_once(&records, "fcntl", "filedescriptor", "after longjmp: ");
    let s = summaries(&records);
    // The comparator runs once per comparison: every call counted, one record.
    assert!(s[0]["by_check"]["pathname"].as_u64() >= Some(4), "{s:?}");
    assert_eq!(s[0]["distinct"], 2);
}

/// Signal handlers that siglongjmp out of whatever they interrupted, mostly the checker itself: the
/// loop's call is a violation, so the checker spends microseconds unwinding for its call site.
const SIGJMP_C: &str = r#"
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
static sigjmp_buf env;
static void on_alarm(int sig) { (void)sig; siglongjmp(env, 1); }
int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, 0);
    struct itimerval it = { { 0, 200 }, { 0, 200 } };
    int jumps = 0;
    sigsetjmp(env, 1);
    if (++jumps < 300) {
        setitimer(ITIMER_REAL, &it, 0);
        for (;;)
            fcntl(-1, F_GETFD);
    }
    struct itimerval off = { { 0, 0 }, { 0, 0 } };
    setitimer(ITIMER_REAL, &off, 0);
    open(NULL, O_RDONLY);                     /* must still be checked */
    printf("jumps %d\n", jumps);
    return 0;
}
"#;

#[test]
fn siglongjmp_out_of_the_checker_leaves_checking_on() {
    let dir = scratch("sigjmp");
    let prog = compile(&dir, "sigjmp", SIGJMP_C, &[]);
    let log = dir.join("log.%p");
    let out = Run::new(&[prog.to_str().unwrap()]).go(Some(&log));
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "jumps 300\n");
    let records = records(&dir, "log.");
    assert_reported_once(&records, "open", "pathname", "");
    assert_reported_once(&records, "fcntl", "filedescriptor", "");
}

/// Runs the callback program under the checker with `env`; its JSON records when `json`.
fn run_bad(dir: &Path, env: &[(&str, &str)], json: bool) -> (std::process::Output, Vec<Value>) {
    let prog = compile(dir, "bad", CALLBACK_C, &[]);
    let out = Run {
        env,
        ..Run::new(&[prog.to_str().unwrap()])
    }
    .go(Some(&dir.join("log.%p")));
    (
        out,
        if json {
            records(dir, "log.")
        } else {
            Vec::new()
        },
    )
}

#[test]
fn records_follow_the_report_format() {
    let dir = scratch("format");
    let (out, records) = run_bad(&dir, &[], true);
    assert!(out.status.success());
    let v = violations(&records, "open", "pathname")[0];
    for field in ["pid", "tid", "param", "count"] {
        assert!(v[field].is_i64(), "{field}: {v}");
    }
    assert_eq!(v["library"], "libc");
    assert_eq!(v["version"], "GLIBC_2.2.5");
    assert_eq!(v["param"], 0);
    assert_eq!(v["param_name"], "pathname");
    assert_eq!(v["value"], "0x0");
    assert_eq!(v["count"], 1);
    assert_eq!(v["severity"], "error");
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
    let frames = v["backtrace"].as_array().expect("backtrace array");
    assert!(!frames.is_empty() && frames.len() <= 16);
    for f in frames {
        assert!(
            f["module"].as_str().is_some_and(|m| m.starts_with('/')),
            "{f}"
        );
        assert!(
            f["offset"].as_str().is_some_and(|o| o.starts_with("0x")),
            "{f}"
        );
    }
    assert!(of_kind(&records, "violation")
        .iter()
        .all(|r| r["pid"] == v["pid"]));
    // The repeats of the one bad open are counted per site, and every call per interface.
    let s = summaries(&records)[0];
    let opens = s["by_check"]["pathname"].as_u64().unwrap();
    assert!(opens > 1, "{s}");
    let sites = s["sites"].as_array().expect("sites");
    let open = sites
        .iter()
        .find(|x| x["interface"] == "open" && x["check"] == "pathname")
        .unwrap_or_else(|| panic!("no open site: {s}"));
    assert_eq!(open["count"].as_u64(), Some(opens), "{s}");
    assert_eq!(open["param"], 0);
    assert_eq!(open["site"], frames[0], "the site is the innermost frame");
    assert_eq!(s["used"]["open"].as_u64(), Some(opens), "{s}");
    assert_eq!(s["used"]["fcntl"], 1, "{s}");
    let counted: u64 = sites.iter().map(|x| x["count"].as_u64().unwrap()).sum();
    assert_eq!(Some(counted), s["violations"].as_u64(), "{s}");
}

#[test]
fn text_format_backtrace_depth_and_trace() {
    let dir = scratch("text");
    run_bad(
        &dir,
        &[("DYNCHK_FORMAT", "text"), ("DYNCHK_BACKTRACE", "2")],
        false,
    );
    let log = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("log."))
        .expect("log file");
    let text = std::fs::read_to_string(log).unwrap();
    let first = text.lines().next().expect("a line");
    assert!(first.starts_with("dynchk["), "{text}");
    assert!(
        first.contains("]: open(arg0 pathname): pathname: "),
        "{text}"
    );
    let frames = text
        .lines()
        .take_while(|l| !l.contains("fcntl"))
        .filter(|l| l.starts_with("    #"))
        .count();
    assert_eq!(frames, 2, "{text}");
    assert!(
        text.lines().last().unwrap().contains("summary: calls="),
        "{text}"
    );

    let dir = scratch("nobt");
    let (_, records) = run_bad(
        &dir,
        &[("DYNCHK_BACKTRACE", "0"), ("DYNCHK_TRACE", "1")],
        true,
    );
    let v = violations(&records, "open", "pathname")[0];
    assert_eq!(v["backtrace"].as_array().map(Vec::len), Some(0));
    let calls = of_kind(&records, "call");
    assert!(
        calls.iter().any(|c| c["interface"] == "open"),
        "trace records: {records:?}"
    );
    let summary = &summaries(&records)[0];
    assert!(calls.len() as u64 <= summary["checked"].as_u64().unwrap());
    // Every call of the program's own (after the library's constructor turned tracing on) is
    // traced once.
    for name in ["open", "fcntl", "qsort"] {
        let traced = calls.iter().filter(|c| c["interface"] == name).count() as u64;
        assert_eq!(
            Some(traced),
            summary["used"][name].as_u64(),
            "{name}: {summary:?}"
        );
    }
}

#[test]
fn suppressions_by_interface_param_check_and_caller() {
    let dir = scratch("suppress");
    let rules = dir.join("rules");
    std::fs::write(&rules, "# comment\nopen:pathname:pathname\n").unwrap();
    let (_, records) = run_bad(&dir, &[("DYNCHK_SUPPRESS", rules.to_str().unwrap())], true);
    assert!(
        violations(&records, "open", "pathname").is_empty(),
        "{records:?}"
    );
    assert_reported_once(&records, "fcntl", "filedescriptor", "");
    let s = summaries(&records)[0];
    assert!(
        s["suppressed"]["open:pathname:pathname"].as_u64() > Some(1),
        "suppressed per rule: {s}"
    );

    let dir = scratch("suppress-caller");
    let rules = dir.join("rules");
    std::fs::write(&rules, "caller=bad\n").unwrap();
    let (_, records) = run_bad(&dir, &[("DYNCHK_SUPPRESS", rules.to_str().unwrap())], true);
    assert!(of_kind(&records, "violation").is_empty(), "{records:?}");
    assert_eq!(summaries(&records)[0]["violations"], 0);
}

#[test]
fn abort_on_violation_writes_record_and_summary_first() {
    let dir = scratch("abort");
    let (out, records) = run_bad(&dir, &[("DYNCHK_ON_VIOLATION", "abort")], true);
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(out.status.signal(), Some(libc::SIGABRT));
    assert_reported_once(&records, "open", "pathname", "");
    assert_eq!(summaries(&records).len(), 1);
    assert!(out.stdout.is_empty(), "aborted before main went on");
}

/// Streams are tracked from fopen to fclose (a FILE used after fclose is reported, one reopened at
/// the same address is not), and formats are walked against their arguments.
const STREAMS_C: &str = r#"
#include <stdio.h>
#include <dirent.h>
int main(void) {
    FILE *f = fopen("/proc/self/status", "r");
    fclose(f);
    int stale = fileno(f) >= -1;                  /* a FILE used after fclose */
    FILE *g = fopen("/proc/self/status", "r");    /* usually at the same address */
    int fresh = fileno(g) >= 0;
    fclose(g);
    DIR *d = opendir("/");
    closedir(d);
    int n = 5;
    int matched = sscanf("x", "%d", (int *)16);   /* destination not writable (no match: unused) */
    int ok = sscanf("7", "%d", &n);
    printf("%d %d %d %d %d\n", stale, fresh, matched, ok, n);
    return 0;
}
"#;

#[test]
fn streams_are_tracked_and_formats_walked() {
    let dir = scratch("streams");
    let prog = compile(&dir, "streams", STREAMS_C, &[]);
    let records = transparent(&Run::new(&[prog.to_str().unwrap()]), &dir);
    let scans: Vec<_> = of_kind(&records, "violation")
        .into_iter()
        .filter(|r| {
            r["interface"]
                .as_str()
                .is_some_and(|i| i.ends_with("sscanf"))
        })
        .collect();
    assert_eq!(scans.len(), 1, "{records:?}");
    assert_eq!(scans[0]["param"], 2, "the first variadic argument");
    assert_eq!(scans[0]["param_name"], "...");
    let stale = violations(&records, "fileno", "FILE pointer");
    assert_eq!(
        stale.len(),
        1,
        "fileno of the closed FILE, not of the reopened one: {records:?}"
    );
}

#[test]
fn without_a_log_reports_go_to_stderr_as_text() {
    let dir = scratch("stderr");
    let prog = compile(&dir, "bad", CALLBACK_C, &[]);
    let out = std::process::Command::new(&prog)
        .env("LD_PRELOAD", common::lib())
        .env_remove("DYNCHK_LOG")
        .output()
        .expect("run");
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let pid_prefix = err
        .lines()
        .next()
        .and_then(|l| l.split(']').next())
        .unwrap_or_default()
        .to_string();
    assert!(pid_prefix.starts_with("dynchk["), "{err}");
    assert!(err.contains("]: open(arg0 pathname): pathname: "), "{err}");
    assert!(
        err.lines()
            .last()
            .is_some_and(|l| l.starts_with(&pid_prefix) && l.contains("summary: calls=")),
        "{err}"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "1 9 1\n",
        "the program's own output is untouched"
    );
}

const ATEXIT_C: &str = r#"
#include <fcntl.h>
#include <stdlib.h>
static void late(void) { fcntl(-4, F_GETFD); }
int main(void) { atexit(late); return 0; }
"#;

#[test]
fn atexit_handlers_are_checked_and_counted_before_the_summary() {
    let dir = scratch("atexit");
    let prog = compile(&dir, "atexit", ATEXIT_C, &[]);
    let records = transparent(&Run::new(&[prog.to_str().unwrap()]), &dir);
    assert_reported_once(&records, "fcntl", "filedescriptor", "");
    let s = summaries(&records);
    assert_eq!(s.len(), 1);
    assert_eq!(
        s[0]["violations"], 1,
        "the summary comes after the handler: {s:?}"
    );
    assert_eq!(
        records.last().map(|r| &r["kind"]),
        Some(&serde_json::json!("summary"))
    );
}

#[test]
fn unusable_settings_are_named_in_config_records_and_nowhere_else() {
    let dir = scratch("config");
    let env = [
        ("DYNCHK_FORMAT", "xml"),
        ("DYNCHK_ON_VIOLATION", "explode"),
        ("DYNCHK_BACKTRACE", "abc"),
        ("DYNCHK_SUPPRESS", "/nonexistent/dynchk-rules"),
    ];
    let (out, records) = run_bad(&dir, &env, true);
    assert!(out.status.success());
    assert!(out.stderr.is_empty(), "stderr is not the destination");
    let mut got: Vec<(String, String, String)> = of_kind(&records, "config")
        .iter()
        .map(|r| {
            let f = |k: &str| r[k].as_str().unwrap_or_default().to_string();
            (f("variable"), f("value"), f("used"))
        })
        .collect();
    got.sort();
    let want = [
        ("DYNCHK_BACKTRACE", "abc", "16"),
        ("DYNCHK_FORMAT", "xml", "json"),
        ("DYNCHK_ON_VIOLATION", "explode", "continue"),
        (
            "DYNCHK_SUPPRESS",
            "/nonexistent/dynchk-rules",
            "no suppressions",
        ),
    ]
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()));
    assert_eq!(got, want, "{records:?}");
    // The settings used instead are in effect: records are JSON, 16 frames at most.
    assert_reported_once(&records, "open", "pathname", "");

    // With standard error as the destination, the warning is a line there.
    let prog = compile(&dir, "bad", CALLBACK_C, &[]);
    let out = std::process::Command::new(&prog)
        .env("LD_PRELOAD", common::lib())
        .env("DYNCHK_ON_VIOLATION", "explode")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.lines().next().is_some_and(|l| l.contains(
            "warning: DYNCHK_ON_VIOLATION=explode: DYNCHK_ON_VIOLATION takes continue or abort; using continue"
        )),
        "{err}"
    );
}
