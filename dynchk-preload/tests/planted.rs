//! Planted violations: each case is a short C program whose `main` makes valid setup calls and then
//! ONE bad call; the checker must report exactly that violation (interface, parameter position,
//! check, for struct members the member path, and for a heap block where `main` allocated or
//! freed it) and nothing else. Clean controls must produce no
//! violation record at all, so that a checker which reports too much fails here as well.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{compile, of_kind, records, scratch, Run};
use serde_json::Value;

/// Included by every program. `guarded_end` gives a pointer 8 bytes before the end of a page whose
/// successor is PROT_NONE, so a 64-byte access from it is short whatever mmap put next to it.
const PRELUDE: &str = r#"
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fnmatch.h>
#include <glob.h>
#include <netinet/tcp.h>
#include <regex.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <locale.h>
#include <malloc.h>
#include <time.h>
#include <unistd.h>
#define PAGE 4096
static char *guarded_end(void) {
    char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED || mprotect(p + PAGE, PAGE, PROT_NONE) != 0)
        exit(3);
    return p + PAGE - 8;
}
"#;

/// The violation a case must report.
struct Expect {
    interface: &'static str,
    param: i64,
    check: &'static str,
    member: Option<&'static str>,
    /// The record's `severity`.
    severity: &'static str,
    /// For a fault about a heap block, the record's field naming where the block was allocated or
    /// freed (`allocated_at`, `freed_at`): the program's `main` called the allocator. Otherwise
    /// the record has neither.
    site: Option<&'static str>,
}

/// One program: file-scope declarations, the body of its `main`, and the violation it plants
/// (`None`: a clean control).
struct Case {
    name: &'static str,
    decls: &'static str,
    body: &'static str,
    expect: Option<Expect>,
}

const fn bad(
    name: &'static str,
    body: &'static str,
    interface: &'static str,
    param: i64,
    check: &'static str,
) -> Case {
    bad_member_with(name, body, interface, param, check, None, "error")
}

const fn bad_member(
    name: &'static str,
    body: &'static str,
    interface: &'static str,
    param: i64,
    check: &'static str,
    member: &'static str,
) -> Case {
    bad_member_with(name, body, interface, param, check, Some(member), "error")
}

/// A call that glibc and Linux accept but POSIX or the LSB do not: reported as `portability`.
const fn portable(
    name: &'static str,
    body: &'static str,
    interface: &'static str,
    param: i64,
    check: &'static str,
) -> Case {
    bad_member_with(name, body, interface, param, check, None, "portability")
}

/// A case that plants one violation of `check` (on `member`, when given) with `severity`.
const fn bad_member_with(
    name: &'static str,
    body: &'static str,
    interface: &'static str,
    param: i64,
    check: &'static str,
    member: Option<&'static str>,
    severity: &'static str,
) -> Case {
    Case {
        name,
        decls: "",
        body,
        expect: Some(Expect {
            interface,
            param,
            check,
            member,
            severity,
            site: None,
        }),
    }
}

/// A case whose fault is about a heap block that `main` allocated (`site` "allocated_at") or freed
/// ("freed_at").
const fn heap_bad(
    name: &'static str,
    body: &'static str,
    interface: &'static str,
    param: i64,
    check: &'static str,
    site: &'static str,
) -> Case {
    let mut case = bad(name, body, interface, param, check);
    if let Some(e) = &mut case.expect {
        e.site = Some(site);
    }
    case
}

const fn clean(name: &'static str, body: &'static str) -> Case {
    Case {
        name,
        decls: "",
        body,
        expect: None,
    }
}

const CASES: &[Case] = &[
    // --- file descriptors
    bad(
        "read_negative_fd",
        "char b[8]; read(-1, b, sizeof b);",
        "read",
        0,
        "filedescriptor",
    ),
    bad(
        "read_fd_too_large",
        "char b[8]; read(100000, b, sizeof b);",
        "read",
        0,
        "filedescriptor",
    ),
    bad(
        "read_closed_fd",
        r#"char b[8]; int fd = open("/dev/null", O_RDONLY); close(fd); read(fd, b, sizeof b);"#,
        "read",
        0,
        "filedescriptor",
    ),
    // --- rules of interfaces that were hand-coded without their checks (now generated with hooks)
    bad(
        "setrlimit_bad_resource",
        "struct rlimit r; getrlimit(RLIMIT_NOFILE, &r); setrlimit(99, &r);",
        "setrlimit",
        0,
        "oneof",
    ),
    bad(
        "mmap_closed_fd",
        r#"int fd = open("/dev/zero", O_RDONLY); close(fd);
           mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 0);"#,
        "mmap",
        4,
        "filedescriptor",
    ),
    bad(
        "munmap_zero_length",
        "char *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); munmap(p, 0);",
        "munmap",
        1,
        "range",
    ),
    clean(
        "mmap_anonymous_ignores_fd",
        "munmap(mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), PAGE);",
    ),
    // --- open reads mode only when glibc passes one (O_CREAT, or __O_TMPFILE; O_TMPFILE
    // includes O_DIRECTORY's bit, which alone asks for no mode)
    clean(
        "open_directory_takes_no_mode",
        r#"close(open("/", O_RDONLY | O_DIRECTORY, 0x7fffffff));"#,
    ),
    bad(
        "open_tmpfile_bad_mode",
        r#"close(open("/tmp", O_RDWR | O_TMPFILE, 0x7fffffff));"#,
        "open",
        2,
        "filemode",
    ),
    // --- unmapped and read-only memory
    bad(
        "read_unmapped",
        r#"int fd = open("/dev/null", O_RDONLY); read(fd, (void *)0x10, 8);"#,
        "read",
        1,
        "RWaddress",
    ),
    bad(
        "write_unmapped",
        r#"int fd = open("/dev/null", O_WRONLY); write(fd, (void *)0x10, 8);"#,
        "write",
        1,
        "Rdaddress",
    ),
    bad(
        "read_into_readonly_map",
        r#"int fd = open("/dev/zero", O_RDONLY);
        char *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        read(fd, p, 16);"#,
        "read",
        1,
        "RWaddress",
    ),
    // --- buffers shorter than the length passed
    bad(
        "read_short_buffer",
        r#"int fd = open("/dev/zero", O_RDONLY); read(fd, guarded_end(), 64);"#,
        "read",
        1,
        "RWaddress",
    ),
    bad(
        "write_short_buffer",
        r#"int fd = open("/dev/null", O_WRONLY); write(fd, guarded_end(), 64);"#,
        "write",
        1,
        "Rdaddress",
    ),
    bad(
        "getcwd_short_buffer",
        "getcwd(guarded_end(), 64);",
        "getcwd",
        0,
        "RWaddress",
    ),
    bad(
        "snprintf_short_buffer",
        r#"snprintf(guarded_end(), 64, "x");"#,
        "snprintf",
        0,
        "RWaddress",
    ),
    bad(
        "fwrite_short_buffer",
        r#"FILE *f = fopen("/dev/null", "w"); fwrite(guarded_end(), 1, 64, f);"#,
        "fwrite",
        0,
        "Rdaddress",
    ),
    bad(
        "memcpy_short_destination",
        "char src[64]; memset(src, 1, sizeof src); memcpy(guarded_end(), src, 64);",
        "memcpy",
        0,
        "RWaddress",
    ),
    bad_member(
        "sendmsg_unmapped_iov_base",
        r#"int sv[2]; socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
        struct iovec iov = { (void *)0x10, 8 };
        struct msghdr m; memset(&m, 0, sizeof m); m.msg_iov = &iov; m.msg_iovlen = 1;
        sendmsg(sv[0], &m, 0);"#,
        "sendmsg",
        1,
        "Rdaddress",
        "msg_iov[0].iov_base",
    ),
    // --- NULL where it is not allowed (volatile, so the compiler cannot see the NULL)
    bad(
        "strlen_null",
        // strlen is declared pure: an unused result would let the compiler drop the call.
        "const char *volatile s = NULL; volatile size_t n = strlen(s); (void)n;",
        "strlen",
        0,
        "string",
    ),
    bad(
        "strtol_null",
        "const char *volatile s = NULL; strtol(s, NULL, 10);",
        "strtol",
        0,
        "string",
    ),
    bad(
        "open_null",
        "const char *volatile s = NULL; open(s, O_RDONLY);",
        "open",
        0,
        "pathname",
    ),
    bad(
        "pthread_mutex_lock_null",
        "pthread_mutex_t *volatile m = NULL; pthread_mutex_lock(m);",
        "pthread_mutex_lock",
        0,
        "RWaddress",
    ),
    bad(
        "pthread_mutex_trylock_unmapped",
        // The trylock then faults, as it does without the checker.
        r#"pthread_mutex_t *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        pthread_mutex_init(m, NULL); pthread_mutex_lock(m); pthread_mutex_unlock(m);
        munmap(m, PAGE); pthread_mutex_trylock(m);"#,
        "pthread_mutex_trylock",
        0,
        "RWaddress",
    ),
    // --- values out of their domain
    bad(
        "socket_unknown_family",
        "socket(12345, SOCK_STREAM, 0);",
        "socket",
        0,
        "socketfamily",
    ),
    bad_member(
        "connect_unknown_family",
        r#"int s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa; memset(&sa, 0, sizeof sa); sa.sin_family = 12345;
        connect(s, (struct sockaddr *)&sa, sizeof sa);"#,
        "connect",
        1,
        "socketfamily",
        "sa_family",
    ),
    bad(
        "open_creat_bad_mode",
        r#"open("created-by-open", O_CREAT | O_WRONLY, 077777);"#,
        "open",
        2,
        "filemode",
    ),
    bad(
        "printf_unmapped_string",
        r#"printf("%s", (char *)0x10);"#,
        "printf",
        1,
        "string",
    ),
    bad(
        "qsort_null_comparator",
        "int v[3] = { 3, 1, 2 }; qsort(v, 3, sizeof v[0], NULL);",
        "qsort",
        3,
        "codeaddress",
    ),
    bad(
        "free_stack_address",
        // x[0] sits where malloc keeps a chunk's size: zeroed, glibc's own reaction (an abort
        // for an invalid pointer) is the same with and without the checker.
        "long x[2] = { 0, 0 }; long *volatile p = &x[1]; free(p);",
        "free",
        0,
        "heapaddress",
    ),
    bad(
        "fileno_after_fclose",
        r#"FILE *f = fopen("/dev/null", "w"); fclose(f); fileno(f);"#,
        "fileno",
        0,
        "FILE pointer",
    ),
    bad(
        "kill_unknown_signal",
        "kill(getpid(), 1000);",
        "kill",
        1,
        "signal",
    ),
    bad(
        "lseek_unknown_whence",
        r#"int fd = open("/dev/null", O_RDONLY); lseek(fd, 0, 17);"#,
        "lseek",
        2,
        "whence",
    ),
    bad_member(
        "nanosleep_nsec_too_large",
        "struct timespec ts = { 0, 1000000000 }; nanosleep(&ts, NULL);",
        "nanosleep",
        0,
        "range",
        "tv_nsec",
    ),
    bad(
        "select_nfds_too_large",
        "struct timeval tv = { 0, 0 }; select(FD_SETSIZE + 10, NULL, NULL, NULL, &tv);",
        "select",
        0,
        "range",
    ),
    bad(
        "ioctl_unmapped_argument",
        "ioctl(0, FIONREAD, (int *)0x10);",
        "ioctl",
        2,
        "RWaddress",
    ),
    // --- the remaining rule kinds, one bad call each
    bad(
        "socket_unknown_type",
        "socket(AF_INET, 999, 0);",
        "socket",
        1,
        "sockettype",
    ),
    bad(
        "shutdown_unknown_how",
        "int sv[2]; socketpair(AF_UNIX, SOCK_STREAM, 0, sv); shutdown(sv[0], 7);",
        "shutdown",
        1,
        "shuthow",
    ),
    bad(
        "sigprocmask_unknown_how",
        "sigset_t set; sigemptyset(&set); sigprocmask(17, &set, NULL);",
        "sigprocmask",
        0,
        "sighow",
    ),
    bad(
        "clock_gettime_unknown_clock",
        "struct timespec ts; clock_gettime(12345, &ts);",
        "clock_gettime",
        0,
        "clockid",
    ),
    bad(
        "setlocale_unknown_category",
        r#"setlocale(999, "");"#,
        "setlocale",
        0,
        "lccategory",
    ),
    bad(
        "fopen_unknown_mode",
        r#"fopen("/dev/null", "q");"#,
        "fopen",
        1,
        "fopenmode",
    ),
    bad(
        "access_unknown_mode",
        r#"access("/", 0x100);"#,
        "access",
        1,
        "accessmode",
    ),
    bad(
        "waitpid_beyond_pid_max",
        "waitpid(0x7fffffff, NULL, WNOHANG);",
        "waitpid",
        0,
        "processid",
    ),
    bad(
        "readdir_after_closedir",
        r#"DIR *d = opendir("."); closedir(d); readdir(d);"#,
        "readdir",
        0,
        "DIR pointer",
    ),
    bad_member(
        "readv_unmapped_iov_base",
        r#"int fd = open("/dev/zero", O_RDONLY);
        struct iovec iov[2] = { { malloc(8), 8 }, { (void *)0x10, 8 } };
        readv(fd, iov, 2);"#,
        "readv",
        1,
        "RWaddress",
        "iov[1].iov_base",
    ),
    // --- heap blocks: a buffer that starts in a live block ends in it; free takes block starts
    heap_bad(
        "read_past_heap_block",
        r#"int fd = open("/dev/zero", O_RDONLY); read(fd, malloc(16), 64);"#,
        "read",
        1,
        "RWaddress",
        "allocated_at",
    ),
    heap_bad(
        "memcpy_past_heap_block_interior",
        r#"char src[32] = { 0 }; char *p = malloc(40); memcpy(p + 16, src, 32);"#,
        "memcpy",
        0,
        "RWaddress",
        "allocated_at",
    ),
    heap_bad(
        "write_from_freed_block",
        r#"char *p = malloc(32); memset(p, 1, 32); free(p);
        int fd = open("/dev/null", O_WRONLY); write(fd, p, 8);"#,
        "write",
        1,
        "Rdaddress",
        "freed_at",
    ),
    // A mutex checked over and over (sqlite3 and memcached lock and unlock the same ones hundreds
    // of thousands of times) stays checked after its block goes: freed, shrunk under it, its
    // page unmapped. trylock on the freed block fails on the allocator's (non-zero) free-list
    // link where the lock word was, without writing; on the shrunk one it writes only inside
    // the 24 bytes left.
    heap_bad(
        "pthread_mutex_trylock_freed",
        r#"pthread_mutex_t *m = malloc(sizeof *m); pthread_mutex_init(m, NULL);
        pthread_mutex_lock(m); pthread_mutex_unlock(m); free(m); pthread_mutex_trylock(m);"#,
        "pthread_mutex_trylock",
        0,
        "RWaddress",
        "freed_at",
    ),
    heap_bad(
        "pthread_mutex_trylock_past_shrunk_block",
        r#"pthread_mutex_t *m = malloc(64); pthread_mutex_init(m, NULL);
        pthread_mutex_lock(m); pthread_mutex_unlock(m); m = realloc(m, 24);
        pthread_mutex_trylock(m);"#,
        "pthread_mutex_trylock",
        0,
        "RWaddress",
        "allocated_at",
    ),
    heap_bad(
        "strlen_runs_past_heap_block",
        // Fresh heap memory is zero: the string ends in the block's slack, past its 8 bytes.
        r#"char *p = malloc(8); memcpy(p, "12345678", 8); volatile size_t n = strlen(p); (void)n;"#,
        "strlen",
        0,
        "string",
        "allocated_at",
    ),
    heap_bad(
        "double_free",
        // glibc aborts on its own ("double free detected"), after the report.
        "char *volatile p = malloc(16); free(p); free(p);",
        "free",
        0,
        "heapaddress",
        "freed_at",
    ),
    heap_bad(
        "free_interior_pointer",
        // Zeroed, so that what glibc reads as the chunk size (and its abort) is deterministic.
        "char *p = calloc(1, 64); char *volatile q = p + 16; free(q);",
        "free",
        0,
        "heapaddress",
        "allocated_at",
    ),
    clean(
        "heap_buffers_exactly_as_long_as_needed",
        r#"int fd = open("/dev/zero", O_RDONLY), out = open("/dev/null", O_WRONLY);
        char *p = malloc(64); read(fd, p, 64); write(out, p, 64);
        char *c = calloc(4, 16); memcpy(c, p, 64); free(c);
        p = realloc(p, 200); read(fd, p, 200);
        p = realloc(p, 10); read(fd, p, 10); free(p);
        free(NULL);
        char *r = realloc(NULL, 24); read(fd, r, 24); r = realloc(r, 0);
        void *a = NULL; if (posix_memalign(&a, 64, 100) == 0) { read(fd, a, 100); free(a); }
        char *big = malloc(1 << 20); read(fd, big, 1 << 20); write(out, big + 12345, 1000); free(big);
        char *arr = reallocarray(NULL, 8, 8); read(fd, arr, 64); free(arr);
        char *s = strdup("a string"); write(out, s, strlen(s) + 1); free(s);
        char *u = malloc(20); size_t n = malloc_usable_size(u); memset(u, 0, n); read(fd, u, n); free(u);
        char *e = malloc(0); read(fd, e, 0); free(e);"#,
    ),
    // --- the printf family as _FORTIFY_SOURCE builds call it, and sprintf's formatted length
    Case {
        name: "sprintf_chk_past_its_object",
        decls: CHK_DECLS,
        // glibc aborts on its own ("buffer overflow detected"), after the report.
        body: r#"char b[4]; __sprintf_chk(b, 1, sizeof b, "%d", 123456789);"#,
        expect: Some(Expect {
            interface: "__sprintf_chk",
            param: 0,
            check: "RWaddress",
            member: None,
            severity: "error",
            site: None,
        }),
    },
    Case {
        name: "printf_chk_unmapped_string",
        decls: CHK_DECLS,
        body: r#"__printf_chk(1, "%s", (char *)0x10);"#,
        expect: Some(Expect {
            interface: "__printf_chk",
            param: 2,
            check: "string",
            member: None,
            severity: "error",
            site: None,
        }),
    },
    Case {
        name: "vfprintf_chk_unmapped_string",
        decls: CHK_DECLS,
        body: r#"vf(stdout, "%d %s", 1, (char *)0x10);"#,
        expect: Some(Expect {
            interface: "__vfprintf_chk",
            param: 4,
            check: "string",
            member: None,
            severity: "error",
            site: None,
        }),
    },
    heap_bad(
        "sprintf_past_heap_block",
        r#"sprintf(malloc(4), "%d", 123456789);"#,
        "sprintf",
        0,
        "RWaddress",
        "allocated_at",
    ),
    Case {
        name: "printf_family_formatted_exactly",
        decls: CHK_DECLS,
        body: r#"char b[16], *h = malloc(10);
        __sprintf_chk(b, 1, sizeof b, "%d", 123456789);
        __sprintf_chk(b, 1, (size_t)-1, "%s", "fifteen chars..");
        __snprintf_chk(b, sizeof b, 1, sizeof b, "%s and more", "x");
        __printf_chk(1, "%d %s\n", 1, b);
        __fprintf_chk(stdout, 1, "%s\n", "ok");
        vf(stdout, "%d\n", 2);
        sprintf(h, "%d", 123456789); free(h);"#,
        expect: None,
    },
    // --- the rest of the format family: err.h, error.h, obstack, strftime, scanf
    Case {
        name: "warnx_unmapped_string",
        decls: FORMAT_DECLS,
        body: r#"warnx("%d %s", 1, (char *)0x10);"#,
        expect: Some(Expect {
            interface: "warnx",
            param: 2,
            check: "string",
            member: None,
            severity: "error",
            site: None,
        }),
    },
    Case {
        name: "error_at_line_unmapped_string_on_the_stack",
        decls: FORMAT_DECLS,
        // Past the six integer registers: the string is the caller's first stack argument.
        body: r#"error_at_line(0, 0, "f.c", 3, "%s %s", "in rdx's place", (char *)0x10);"#,
        expect: Some(Expect {
            interface: "error_at_line",
            param: 6,
            check: "string",
            member: None,
            severity: "error",
            site: None,
        }),
    },
    Case {
        name: "vwarnx_unmapped_string",
        decls: FORMAT_DECLS,
        body: r#"vw("%d %f %s", 1, 2.5, (char *)0x10);"#,
        expect: Some(Expect {
            interface: "vwarnx",
            param: 3,
            check: "string",
            member: None,
            severity: "error",
            site: None,
        }),
    },
    Case {
        name: "obstack_printf_unmapped_string",
        decls: FORMAT_DECLS,
        body: r#"struct obstack ob; obstack_init(&ob); obstack_printf(&ob, "%s", (char *)0x10);"#,
        expect: Some(Expect {
            interface: "obstack_printf",
            param: 2,
            check: "string",
            member: None,
            severity: "error",
            site: None,
        }),
    },
    portable(
        "strftime_unknown_conversion",
        r#"char b[32]; time_t t = 0; struct tm tm; gmtime_r(&t, &tm); strftime(b, sizeof b, "%Q", &tm);"#,
        "strftime",
        2,
        "format",
    ),
    Case {
        name: "wcsftime_unknown_conversion",
        decls: FORMAT_DECLS,
        body: r#"wchar_t b[32]; time_t t = 0; struct tm tm; gmtime_r(&t, &tm); wcsftime(b, 32, L"%Y %J", &tm);"#,
        expect: Some(Expect {
            interface: "wcsftime",
            param: 2,
            check: "format",
            member: None,
            severity: "portability",
            site: None,
        }),
    },
    heap_bad(
        "sscanf_string_past_heap_block",
        r#"sscanf("abcdefgh", "%7s", (char *)malloc(4));"#,
        "__isoc99_sscanf",
        2,
        "RWaddress",
        "allocated_at",
    ),
    bad(
        "sscanf_count_to_unmapped",
        r#"int n; sscanf("12", "%d%n", &n, (int *)0x10);"#,
        "__isoc99_sscanf",
        3,
        "RWaddress",
    ),
    Case {
        name: "format_family_used_as_documented",
        decls: FORMAT_DECLS,
        body: r#"long double ld = 1.5;
        warnx("%d %d %d %d %d %d %d %s %Lf %f %f %f %f %f %f %f %f %f %s", 1, 2, 3, 4, 5, 6, 7,
              "on the stack", ld, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, "after nine doubles");
        warn(NULL); errno = 0;
        error(0, 0, "%s %d", "error", 1);
        error_at_line(0, 0, "f.c", 3, "%d %f %s %s", 1, 2.5, "x", "y");
        vw("%d %f %s %Lf %s", 1, 2.5, "x", ld, "z");
        struct obstack ob; obstack_init(&ob);
        obstack_printf(&ob, "%s %d", "ob", 1);
        __obstack_printf_chk(&ob, 1, "%s %d", "ob", 2);
        obstack_free(&ob, NULL);
        char b[64]; wchar_t w[64]; time_t t = 0; struct tm tm; gmtime_r(&t, &tm);
        strftime(b, sizeof b, "%Y-%m-%d %_5H %Ec %Oy %%", &tm);
        wcsftime(w, 64, L"%A %k", &tm);
        char s4[4], c, *m; int n, k;
        sscanf("abc 12 z", "%3s %d%n %c", s4, &n, &k, &c);
        sscanf("allocated", "%ms", &m); free(m);
        sscanf("skip 5", "%*s %d", &n);
        char *h = malloc(8); sscanf("exactly", "%7s", h); free(h);"#,
        expect: None,
    },
    // --- fcntl: the command, and the third argument as the command reads it
    bad(
        "fcntl_unknown_command",
        "fcntl(0, 9999);",
        "fcntl",
        1,
        "oneof",
    ),
    bad(
        "fcntl_dupfd_negative",
        "fcntl(0, F_DUPFD, -1);",
        "fcntl",
        2,
        "range",
    ),
    bad(
        "fcntl_setfl_unknown_flag",
        "fcntl(0, F_SETFL, 0x40000000);",
        "fcntl",
        2,
        "openflags",
    ),
    bad(
        "fcntl_setlk_unmapped_lock",
        r#"int fd = open("lk.tmp", O_CREAT | O_RDWR, 0600); fcntl(fd, F_SETLK, (struct flock *)0x10);"#,
        "fcntl",
        2,
        "Rdaddress",
    ),
    bad(
        "fcntl_getlk_read_only_lock",
        r#"int fd = open("lk.tmp", O_CREAT | O_RDWR, 0600);
        struct flock *ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        fcntl(fd, F_GETLK, ro);"#,
        "fcntl",
        2,
        "RWaddress",
    ),
    bad(
        "fcntl_setsig_unknown_signal",
        r#"int fd = open("/dev/null", O_RDONLY); fcntl(fd, F_SETSIG, 1000);"#,
        "fcntl",
        2,
        "signal",
    ),
    clean(
        "fcntl_commands_with_their_arguments",
        r#"int fd = open("lk.tmp", O_CREAT | O_RDWR, 0600);
        struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
        if (fcntl(fd, F_GETLK, &fl) != 0) return 4;
        fl.l_type = F_WRLCK; if (fcntl(fd, F_SETLK, &fl) != 0) return 5;
        if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) return 6;
        if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 || fcntl(fd, F_SETSIG, 0) != 0) return 7;
        if (fcntl(fd, F_SETSIG, SIGRTMIN) != 0) return 8;
        if (fcntl(fd, F_DUPFD_CLOEXEC, 10) < 10 || fcntl(fd, F_DUPFD, 0) < 0) return 9;
        fcntl(fd, F_SETOWN, getpid());
        if (fcntl(999, F_GETFD) != -1 || errno != EBADF) return 10;"#,
    ),
    // --- NULL that glibc and Linux accept and POSIX does not (`?portability` in db/semantics)
    portable(
        "gettimeofday_null_tv",
        "struct timeval *volatile tv = NULL; gettimeofday(tv, NULL);",
        "gettimeofday",
        0,
        "nonnull",
    ),
    portable(
        "setitimer_null_new_value",
        "struct itimerval *volatile nv = NULL, old; setitimer(ITIMER_VIRTUAL, nv, &old);",
        "setitimer",
        1,
        "nonnull",
    ),
    portable(
        "sigtimedwait_null_timeout",
        // The signal is pending already: the wait returns at once.
        r#"sigset_t s; sigemptyset(&s); sigaddset(&s, SIGUSR1); sigprocmask(SIG_BLOCK, &s, NULL);
        raise(SIGUSR1); if (sigtimedwait(&s, NULL, NULL) != SIGUSR1) return 1;"#,
        "sigtimedwait",
        2,
        "nonnull",
    ),
    clean(
        "portable_nulls_given",
        r#"struct timeval tv; if (gettimeofday(&tv, NULL) != 0) return 1;
        struct itimerval zero = { { 0, 0 }, { 0, 0 } }; if (setitimer(ITIMER_VIRTUAL, &zero, NULL) != 0) return 2;
        sigset_t s; sigemptyset(&s); sigaddset(&s, SIGUSR1); struct timespec ts = { 0, 0 };
        if (sigtimedwait(&s, NULL, &ts) != -1 || errno != EAGAIN) return 3;"#,
    ),
    // --- zlib: the stream's buffers at deflate/inflate, compress's destination at compress
    Case {
        name: "deflate_output_past_heap_block",
        decls: "#include <zlib.h>",
        body: r#"z_stream zs; memset(&zs, 0, sizeof zs); deflateInit(&zs, 6);
        char in[64] = {0}; zs.next_in = (Bytef *)in; zs.avail_in = sizeof in;
        zs.next_out = malloc(16); zs.avail_out = 64; deflate(&zs, Z_FINISH);"#,
        expect: Some(Expect {
            interface: "deflate",
            param: 0,
            check: "RWaddress",
            member: Some("next_out"),
            severity: "error",
            site: Some("allocated_at"),
        }),
    },
    Case {
        name: "inflate_input_unmapped",
        decls: "#include <zlib.h>",
        body: r#"z_stream zs; memset(&zs, 0, sizeof zs); inflateInit(&zs);
        char out[64]; zs.next_out = (Bytef *)out; zs.avail_out = sizeof out;
        zs.next_in = (Bytef *)0x10; zs.avail_in = 4; inflate(&zs, Z_NO_FLUSH);"#,
        expect: Some(Expect {
            interface: "inflate",
            param: 0,
            check: "Rdaddress",
            member: Some("next_in"),
            severity: "error",
            site: None,
        }),
    },
    Case {
        name: "compress_dest_shorter_than_destlen",
        decls: "#include <zlib.h>",
        body: r#"unsigned char src[100] = {0}; uLongf n = 64; compress(malloc(16), &n, src, sizeof src);"#,
        expect: Some(Expect {
            interface: "compress",
            param: 0,
            check: "RWaddress",
            member: None,
            severity: "error",
            site: Some("allocated_at"),
        }),
    },
    // compress calls compress2 with the same source: one record, at compress. A destLen of 0
    // makes deflate return Z_BUF_ERROR before it reads the input, so no memcpy inside libz
    // reads past the block as well (that one would be a record of its own).
    Case {
        name: "compress_source_past_heap_block",
        decls: "#include <zlib.h>",
        body: r#"unsigned char dest[256]; uLongf n = 0; compress(dest, &n, malloc(16), 100);"#,
        expect: Some(Expect {
            interface: "compress",
            param: 2,
            check: "Rdaddress",
            member: None,
            severity: "error",
            site: Some("allocated_at"),
        }),
    },
    Case {
        name: "uncompress_destlen_unmapped",
        decls: "#include <zlib.h>",
        body: r#"unsigned char src[8] = {0}, dest[64]; uncompress(dest, (uLongf *)0x10, src, sizeof src);"#,
        expect: Some(Expect {
            interface: "uncompress",
            param: 1,
            check: "RWaddress",
            member: None,
            severity: "error",
            site: None,
        }),
    },
    Case {
        name: "zlib_round_trip",
        decls: "#include <zlib.h>",
        body: r#"unsigned char src[100] = "zlib", packed[128], back[100];
        uLongf n = sizeof packed, m = sizeof back;
        if (compress(packed, &n, src, sizeof src) != Z_OK) return 4;
        if (uncompress(back, &m, packed, n) != Z_OK || m != sizeof src) return 5;
        z_stream zs; memset(&zs, 0, sizeof zs); deflateInit(&zs, 6);
        unsigned char *out = malloc(n + 16);
        zs.next_in = src; zs.avail_in = sizeof src; zs.next_out = out; zs.avail_out = n + 16;
        if (deflate(&zs, Z_FINISH) != Z_STREAM_END) return 6;
        free(out); deflateEnd(&zs);"#,
        expect: None,
    },
    // --- accepted by glibc and Linux, not by POSIX: severity portability
    portable(
        "fchmod_with_the_files_type_bits",
        // vim on every save, git init: the mode from fstat, file type included.
        r#"int fd = open("typed.tmp", O_CREAT | O_RDWR, 0600); struct stat st; fstat(fd, &st);
        fchmod(fd, st.st_mode);"#,
        "fchmod",
        1,
        "filemode",
    ),
    portable(
        "putenv_empty_name",
        r#"static char s[] = "=x"; putenv(s);"#,
        "putenv",
        0,
        "envname",
    ),
    portable(
        "putenv_name_alone_unsets",
        r#"putenv("HOME");"#,
        "putenv",
        0,
        "envname",
    ),
    portable(
        "fopen_text_mode",
        r#"FILE *f = fopen("/dev/null", "rt"); if (f) fclose(f);"#,
        "fopen",
        1,
        "fopenmode",
    ),
    // --- flags and enumerations: integer parameters checked against the named constants of
    // validators/src/xlat/tables.rs (`flags(TABLE)`, `oneof(TABLE)` in db/semantics)
    bad(
        "mmap_without_shared_or_private",
        "mmap(NULL, PAGE, PROT_READ, MAP_ANONYMOUS, -1, 0);",
        "mmap",
        3,
        "flags",
    ),
    bad(
        "mprotect_unknown_prot_bit",
        r#"char *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        mprotect(p, PAGE, PROT_READ | 0x10);"#,
        "mprotect",
        2,
        "flags",
    ),
    bad(
        "msync_sync_and_async",
        r#"char *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        msync(p, PAGE, MS_SYNC | MS_ASYNC);"#,
        "msync",
        2,
        "flags",
    ),
    bad(
        "madvise_unknown_advice",
        r#"char *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        madvise(p, PAGE, 1000);"#,
        "madvise",
        2,
        "oneof",
    ),
    bad(
        "flock_without_operation",
        r#"int fd = open("/dev/null", O_RDONLY); flock(fd, LOCK_NB);"#,
        "flock",
        1,
        "flags",
    ),
    bad(
        "waitpid_unknown_option",
        "waitpid(-1, NULL, WNOHANG | 0x100);",
        "waitpid",
        2,
        "flags",
    ),
    bad(
        "pipe2_append",
        "int fds[2]; pipe2(fds, O_APPEND);",
        "pipe2",
        1,
        "flags",
    ),
    bad(
        "dup3_nonblock",
        "dup3(0, 10, O_NONBLOCK);",
        "dup3",
        2,
        "flags",
    ),
    bad(
        "accept4_unknown_flag",
        "int s = socket(AF_INET, SOCK_STREAM, 0); accept4(s, NULL, NULL, 1);",
        "accept4",
        3,
        "flags",
    ),
    bad(
        "eventfd_unknown_flag",
        "eventfd(0, 2);",
        "eventfd",
        1,
        "flags",
    ),
    bad(
        "epoll_create1_unknown_flag",
        "epoll_create1(1);",
        "epoll_create1",
        0,
        "flags",
    ),
    bad(
        "timerfd_create_unknown_flag",
        "timerfd_create(CLOCK_MONOTONIC, 1);",
        "timerfd_create",
        1,
        "flags",
    ),
    bad(
        "send_unknown_flag",
        r#"int sv[2]; socketpair(AF_UNIX, SOCK_STREAM, 0, sv); send(sv[0], "x", 1, 0x100000);"#,
        "send",
        3,
        "flags",
    ),
    bad(
        "setsockopt_unknown_level",
        "int s = socket(AF_INET, SOCK_STREAM, 0), one = 1; setsockopt(s, 12345, 1, &one, sizeof one);",
        "setsockopt",
        1,
        "oneof",
    ),
    bad(
        "setsockopt_unknown_option",
        "int s = socket(AF_INET, SOCK_STREAM, 0), one = 1; setsockopt(s, SOL_SOCKET, 999, &one, sizeof one);",
        "setsockopt",
        2,
        "sockopt",
    ),
    bad(
        "setsockopt_linger_as_an_int",
        r#"int s = socket(AF_INET, SOCK_STREAM, 0); struct linger l = { 1, 0 };
        setsockopt(s, SOL_SOCKET, SO_LINGER, &l, sizeof(int));"#,
        "setsockopt",
        4,
        "sockopt",
    ),
    bad(
        "getsockopt_optlen_shorter_than_the_option",
        "int s = socket(AF_INET, SOCK_STREAM, 0), e = 0; socklen_t n = 1; getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &n);",
        "getsockopt",
        4,
        "sockopt",
    ),
    bad(
        "getsockopt_unknown_tcp_option",
        "int s = socket(AF_INET, SOCK_STREAM, 0), v; socklen_t n = sizeof v; getsockopt(s, IPPROTO_TCP, 15, &v, &n);",
        "getsockopt",
        2,
        "sockopt",
    ),
    heap_bad(
        "getsockopt_optval_shorter_than_optlen",
        r#"int s = socket(AF_INET, SOCK_STREAM, 0); socklen_t n = sizeof(struct timeval);
        getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, malloc(8), &n);"#,
        "getsockopt",
        3,
        "RWaddress",
        "allocated_at",
    ),
    clean(
        "socket_options_as_documented",
        // IP_ADD_MEMBERSHIP may fail where the sandbox has no multicast route: only its checks
        // matter here, so its result is not.
        r#"int s = socket(AF_INET, SOCK_STREAM, 0), one = 1, v; socklen_t n = sizeof v;
        if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) return 1;
        struct linger l = { 1, 5 }; if (setsockopt(s, SOL_SOCKET, SO_LINGER, &l, sizeof l) != 0) return 2;
        if (setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) return 3;
        if (getsockopt(s, SOL_SOCKET, SO_ERROR, &v, &n) != 0 || n != sizeof v) return 4;
        n = sizeof l; if (getsockopt(s, SOL_SOCKET, SO_LINGER, &l, &n) != 0 || l.l_linger != 5) return 5;
        struct tcp_info ti; n = sizeof ti; if (getsockopt(s, IPPROTO_TCP, TCP_INFO, &ti, &n) != 0) return 6;
        char name[16]; n = sizeof name; if (getsockopt(s, IPPROTO_TCP, TCP_CONGESTION, name, &n) != 0) return 7;
        unsigned char ttl = 9; if (setsockopt(s, IPPROTO_IP, IP_TTL, &ttl, 1) != 0) return 8;
        int u = socket(AF_INET, SOCK_DGRAM, 0);
        struct ip_mreq m = { { htonl(0xe0000001) }, { htonl(INADDR_ANY) } };
        setsockopt(u, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m);
        struct ip_mreqn mn = { { htonl(0xe00000fb) }, { htonl(INADDR_ANY) }, 0 };
        setsockopt(u, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mn, sizeof mn);
        if (setsockopt(u, SOL_PACKET, 1, &one, sizeof one) != -1) return 9;"#,
    ),
    bad(
        "dlopen_without_lazy_or_now",
        r#"dlopen("libm.so.6", RTLD_GLOBAL);"#,
        "dlopen",
        1,
        "flags",
    ),
    bad(
        "clock_nanosleep_unknown_flag",
        "struct timespec ts = { 0, 1000 }; clock_nanosleep(CLOCK_MONOTONIC, 2, &ts, NULL);",
        "clock_nanosleep",
        1,
        "flags",
    ),
    // clock_nanosleep's clocks, measured on Linux 6.1 / glibc 2.36 (validators::clock::sleep).
    bad(
        "clock_nanosleep_thread_cputime",
        "struct timespec z = { 0, 0 }; clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, TIMER_ABSTIME, &z, NULL);",
        "clock_nanosleep",
        0,
        "clockid",
    ),
    bad(
        "clock_nanosleep_coarse_clock",
        "struct timespec z = { 0, 0 }; clock_nanosleep(CLOCK_MONOTONIC_COARSE, TIMER_ABSTIME, &z, NULL);",
        "clock_nanosleep",
        0,
        "clockid",
    ),
    bad(
        "clock_nanosleep_own_thread_clock",
        r#"clockid_t c; if (pthread_getcpuclockid(pthread_self(), &c) != 0) return 1;
        struct timespec z = { 0, 0 }; clock_nanosleep(c, TIMER_ABSTIME, &z, NULL);"#,
        "clock_nanosleep",
        0,
        "clockid",
    ),
    Case {
        name: "clock_nanosleep_controls",
        decls: "static volatile int stop; static void *spin(void *a) { while (!stop); return a; }",
        body: r#"struct timespec z = { 0, 0 };
        clockid_t ok[] = { CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_TAI, CLOCK_PROCESS_CPUTIME_ID };
        for (unsigned i = 0; i < sizeof ok / sizeof *ok; i++)
            if (clock_nanosleep(ok[i], TIMER_ABSTIME, &z, NULL) != 0) return 1 + i;
        clockid_t c; if (clock_getcpuclockid(0, &c) != 0) return 10;
        if (clock_nanosleep(c, TIMER_ABSTIME, &z, NULL) != 0) return 11;
        pthread_t t; if (pthread_create(&t, NULL, spin, NULL) != 0) return 12;
        if (pthread_getcpuclockid(t, &c) != 0) return 13;
        if (clock_nanosleep(c, TIMER_ABSTIME, &z, NULL) != 0) return 14;
        stop = 1; pthread_join(t, NULL);"#,
        expect: None,
    },
    bad(
        "posix_fadvise_unknown_advice",
        r#"int fd = open("/dev/null", O_RDONLY); posix_fadvise(fd, 0, 0, 9);"#,
        "posix_fadvise",
        3,
        "oneof",
    ),
    bad(
        "regcomp_unknown_cflag",
        r#"regex_t re; if (regcomp(&re, "a", 0x100) == 0) regfree(&re);"#,
        "regcomp",
        2,
        "flags",
    ),
    bad(
        "glob_unknown_flag",
        r#"glob_t g; if (glob("*", 1 << 20, NULL, &g) == 0) globfree(&g);"#,
        "glob",
        1,
        "flags",
    ),
    bad(
        "fnmatch_unknown_flag",
        r#"fnmatch("a", "a", 1 << 10);"#,
        "fnmatch",
        2,
        "flags",
    ),
    bad(
        "setvbuf_unknown_mode",
        "setvbuf(stdout, NULL, 7, 0);",
        "setvbuf",
        2,
        "oneof",
    ),
    bad(
        "unshare_signal_bits",
        "unshare(0x1);",
        "unshare",
        0,
        "flags",
    ),
    bad_member(
        "sigaction_unknown_sa_flag",
        r#"struct sigaction sa; memset(&sa, 0, sizeof sa); sa.sa_handler = SIG_IGN; sa.sa_flags = 0x100;
        sigaction(SIGUSR1, &sa, NULL);"#,
        "sigaction",
        1,
        "flags",
        "sa_flags",
    ),
    clean(
        "flags_and_enumerations_valid_but_unusual",
        r#"int fd = open("flags.tmp", O_CREAT | O_RDWR, 0600);
        if (ftruncate(fd, PAGE) != 0) return 1;
        char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED_VALIDATE, fd, 0);
        if (p == MAP_FAILED) return 1;
        if (msync(p, PAGE, MS_INVALIDATE) != 0) return 2;
        if (madvise(p, PAGE, MADV_DONTNEED) != 0) return 3;
        if (flock(fd, LOCK_EX | LOCK_NB) != 0 || flock(fd, LOCK_UN) != 0) return 4;
        if (posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL) != 0) return 5;
        int fds[2];
        if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return 6;
        if (dup3(fds[0], 20, O_CLOEXEC) != 20) return 7;
        if (eventfd(0, EFD_CLOEXEC | EFD_SEMAPHORE) < 0) return 8;
        if (epoll_create1(EPOLL_CLOEXEC) < 0) return 9;
        if (timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC) < 0) return 10;
        if (waitpid(-1, NULL, WNOHANG | WUNTRACED | __WALL) != -1 || errno != ECHILD) return 11;
        struct timespec ts = { 0, 1000 };
        if (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL) != 0) return 12;
        regex_t re;
        if (regcomp(&re, "a+", REG_EXTENDED | REG_NOSUB) != 0) return 13;
        if (regexec(&re, "caab", 0, NULL, REG_NOTBOL) != 0) return 14;
        regfree(&re);
        glob_t g; glob("*.tmp", GLOB_NOSORT | GLOB_BRACE | GLOB_TILDE, NULL, &g); globfree(&g);
        if (fnmatch("*.TMP", "flags.tmp", FNM_PATHNAME | FNM_CASEFOLD | FNM_EXTMATCH) != 0) return 15;
        int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
        if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) return 16;
        if (setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) return 17;
        if (listen(s, 1) != 0) return 18;
        if (accept4(s, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK) != -1 || errno != EAGAIN) return 19;
        int sv[2]; socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
        if (send(sv[0], "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1) return 20;
        char c; if (recv(sv[1], &c, 1, MSG_WAITALL | MSG_CMSG_CLOEXEC) != 1) return 21;
        if (!dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD | RTLD_GLOBAL)) return 22;
        struct sigaction sa; memset(&sa, 0, sizeof sa); sa.sa_handler = SIG_IGN;
        sa.sa_flags = SA_RESTART | SA_NOCLDSTOP | SA_ONSTACK;
        if (sigaction(SIGUSR1, &sa, NULL) != 0) return 23;
        if (setvbuf(stdout, NULL, _IOLBF, 0) != 0) return 24;
        struct rusage ru; if (getrusage(RUSAGE_THREAD, &ru) != 0) return 25;"#,
    ),
    // --- the rest of the flag and enumeration parameters issue 10 names (ISSUE_10 below)
    bad(
        "mmap_unknown_prot_bit",
        "mmap(NULL, PAGE, PROT_READ | 0x10, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);",
        "mmap",
        2,
        "flags",
    ),
    bad(
        "posix_madvise_unknown_advice",
        r#"char *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        posix_madvise(p, PAGE, 1000);"#,
        "posix_madvise",
        2,
        "oneof",
    ),
    bad(
        "waitid_unknown_option",
        "siginfo_t si; waitid(P_ALL, 0, &si, WEXITED | 0x100);",
        "waitid",
        3,
        "flags",
    ),
    bad(
        "wait4_unknown_option",
        "wait4(-1, NULL, WNOHANG | 0x100, NULL);",
        "wait4",
        2,
        "flags",
    ),
    bad(
        "regexec_unknown_eflag",
        r#"regex_t re; if (regcomp(&re, "a", 0) != 0) return 1; regexec(&re, "a", 0, NULL, 0x100);"#,
        "regexec",
        4,
        "flags",
    ),
    bad(
        "signalfd_unknown_flag",
        "sigset_t m; sigemptyset(&m); signalfd(-1, &m, 1);",
        "signalfd",
        2,
        "flags",
    ),
    bad(
        "inotify_init1_unknown_flag",
        "inotify_init1(1);",
        "inotify_init1",
        0,
        "flags",
    ),
    clean(
        "flags_of_the_fd_makers_valid",
        r#"sigset_t m; sigemptyset(&m); if (signalfd(-1, &m, SFD_CLOEXEC | SFD_NONBLOCK) < 0) return 1;
        if (inotify_init1(IN_CLOEXEC | IN_NONBLOCK) < 0) return 2;
        char *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (posix_madvise(p, PAGE, POSIX_MADV_WILLNEED) != 0) return 3;
        siginfo_t si; if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG) != -1 || errno != ECHILD) return 4;
        if (wait4(-1, NULL, WNOHANG | __WALL, NULL) != -1 || errno != ECHILD) return 5;"#,
    ),
    // --- preconditions the man pages state
    bad(
        "sigaction_sigstop",
        "struct sigaction sa; memset(&sa, 0, sizeof sa); sa.sa_handler = SIG_IGN; sigaction(SIGSTOP, &sa, NULL);",
        "sigaction",
        0,
        "signal",
    ),
    bad(
        "mkostemp_without_xxxxxx",
        r#"char t[] = "/tmp/dynchk-planted-XXXX"; mkostemp(t, O_CLOEXEC);"#,
        "mkostemp",
        0,
        "template",
    ),
    bad(
        "mkdtemp_without_xxxxxx",
        r#"char t[] = "/tmp/dynchk-planted-XXXXX"; mkdtemp(t);"#,
        "mkdtemp",
        0,
        "template",
    ),
    bad(
        "mkstemp_template_in_read_only_memory",
        // glibc writes the name into the literal and the program dies of it, checked or not.
        r#"char *volatile t = "/tmp/dynchk-planted-XXXXXX"; mkstemp(t);"#,
        "mkstemp",
        0,
        "RWaddress",
    ),
    bad(
        "execve_envp_element_not_a_string",
        r#"char *argv[] = { "true", NULL }, *envp[] = { "A=1", (char *)0x10, NULL };
        execve("/bin/true", argv, envp);"#,
        "execve",
        2,
        "strarray",
    ),
    bad(
        "fstatat_relative_path_closed_dirfd",
        r#"struct stat st; fstatat(999, "x", &st, 0);"#,
        "fstatat",
        0,
        "filedescriptor",
    ),
    bad(
        "openat_relative_path_closed_dirfd",
        r#"openat(999, "x", O_RDONLY);"#,
        "openat",
        0,
        "filedescriptor",
    ),
    bad(
        "renameat_relative_new_path_closed_dirfd",
        r#"renameat(AT_FDCWD, "/nonexistent-a", 999, "b");"#,
        "renameat",
        2,
        "filedescriptor",
    ),
    bad("dup3_same_descriptor", "dup3(1, 1, 0);", "dup3", 1, "filedescriptor"),
    bad(
        "popen_read_and_write",
        r#"popen("true", "rw");"#,
        "popen",
        1,
        "popenmode",
    ),
    bad(
        "fdopen_write_on_read_only_descriptor",
        r#"fdopen(open("/dev/null", O_RDONLY), "w");"#,
        "fdopen",
        1,
        "fdopenmode",
    ),
    bad(
        "setenv_name_with_equals",
        r#"setenv("A=B", "x", 1);"#,
        "setenv",
        0,
        "envname",
    ),
    bad("unsetenv_empty_name", r#"unsetenv("");"#, "unsetenv", 0, "envname"),
    bad("putenv_empty_string", r#"putenv("");"#, "putenv", 0, "envname"),
    bad(
        "mkstemp_without_xxxxxx",
        r#"char t[] = "/tmp/dynchk-planted-XXXX"; mkstemp(t);"#,
        "mkstemp",
        0,
        "template",
    ),
    bad(
        "mkstemps_xxxxxx_not_before_suffix",
        r#"char t[] = "/tmp/dynchk-planted-XXXXXX.c"; mkstemps(t, 3);"#,
        "mkstemps",
        0,
        "template",
    ),
    bad(
        "pthread_join_self",
        "pthread_join(pthread_self(), NULL);",
        "pthread_join",
        0,
        "thread",
    ),
    bad(
        "sigaction_sigkill",
        "struct sigaction sa; memset(&sa, 0, sizeof sa); sa.sa_handler = SIG_IGN; sigaction(SIGKILL, &sa, NULL);",
        "sigaction",
        0,
        "signal",
    ),
    bad(
        "sigaltstack_below_minsigstksz",
        "static char st[1024]; stack_t ss = { .ss_sp = st, .ss_size = sizeof st }; sigaltstack(&ss, NULL);",
        "sigaltstack",
        0,
        "stacksize",
    ),
    bad(
        "pthread_attr_setstacksize_below_minimum",
        "pthread_attr_t a; pthread_attr_init(&a); pthread_attr_setstacksize(&a, 4096);",
        "pthread_attr_setstacksize",
        1,
        "range",
    ),
    bad(
        "execv_argv_element_not_a_string",
        r#"char *argv[] = { "true", (char *)0x10, NULL }; execv("/bin/true", argv);"#,
        "execv",
        1,
        "strarray",
    ),
    bad(
        "execvp_argv_without_null",
        r#"char **argv = (char **)guarded_end(); argv[0] = "true"; execvp("true", argv);"#,
        "execvp",
        1,
        "strarray",
    ),
    bad(
        "execl_argument_not_a_string",
        r#"execl("/bin/true", "true", (char *)0x10, (char *)NULL);"#,
        "execl",
        2,
        "strarray",
    ),
    portable(
        "execve_null_argv",
        r#"char *envp[] = { NULL }; execve("/nonexistent", NULL, envp);"#,
        "execve",
        1,
        "strarray",
    ),
    bad("dlclose_null", "dlclose(NULL);", "dlclose", 0, "nonnull"),
    // --- pointers the C library's headers declare __nonnull (tests/header_attributes.rs in
    // dynchk-gen compares them with the database); volatile keeps GCC's -Wnonnull quiet.
    bad(
        "dlsym_null_name",
        "const char *volatile n = NULL; dlsym(RTLD_DEFAULT, n);",
        "dlsym",
        1,
        "string",
    ),
    bad(
        "utimensat_null_path",
        "const char *volatile p = NULL; utimensat(AT_FDCWD, p, NULL, 0);",
        "utimensat",
        1,
        "pathname",
    ),
    bad(
        "memchr_null",
        "const void *volatile s = NULL; size_t volatile n = 0; if (memchr(s, 'x', n)) return 1;",
        "memchr",
        0,
        "nonnull",
    ),
    bad(
        "memccpy_null_dest",
        "void *volatile d = NULL; (void)memccpy(d, \"ab\", 'b', 0);",
        "memccpy",
        0,
        "nonnull",
    ),
    bad(
        "strtol_l_null_locale",
        "locale_t volatile l = NULL; (void)strtol_l(\"12\", NULL, 10, l);",
        "strtol_l",
        3,
        "nonnull",
    ),
    clean(
        "header_nonnull_controls",
        r#"if (!dlsym(RTLD_DEFAULT, "printf")) return 1;
        char b[4] = "abc"; if (memchr(b, 'b', 100) != b + 1) return 2;
        char d[2]; if (memccpy(d, "ab", 'a', 100) != d + 1) return 3;
        if (utimensat(AT_FDCWD, ".", NULL, 0) != 0) return 4;
        locale_t l = newlocale(LC_ALL_MASK, "C", (locale_t)0); if (!l) return 5;
        if (strtol_l("12", NULL, 10, l) != 12) return 6; freelocale(l);"#,
    ),
    // --- clean controls
    clean(
        "precondition_controls",
        r#"struct stat st;
        if (fstatat(-1, "/etc", &st, 0) != 0) return 1;
        if (fstatat(AT_FDCWD, "/etc", &st, 0) != 0) return 2;
        int d = open("/etc", O_RDONLY | O_DIRECTORY);
        if (fstatat(d, "passwd", &st, 0) != 0) return 3;
        if (fstatat(d, "", &st, AT_EMPTY_PATH) != 0) return 4;
        close(d);
        FILE *f = fdopen(open("/dev/null", O_RDONLY), "r"); if (!f) return 6; fclose(f);
        f = fdopen(open("/dev/null", O_RDWR), "w+"); if (!f) return 7; fclose(f);
        if (setenv("DYNCHK_PLANTED", "a=b", 1) != 0 || unsetenv("DYNCHK_PLANTED") != 0) return 8;
        static char assign[] = "DYNCHK_PLANTED=a=b"; if (putenv(assign) != 0) return 8;
        char t[] = "/tmp/dynchk-control-XXXXXX.c"; int fd = mkstemps(t, 2);
        if (fd < 0) return 9; close(fd); unlink(t);
        struct sigaction old; if (sigaction(SIGKILL, NULL, &old) != 0) return 10;
        stack_t ss = { .ss_flags = SS_DISABLE }; if (sigaltstack(&ss, NULL) != 0) return 11;
        pthread_attr_t a; pthread_attr_init(&a);
        if (pthread_attr_setstacksize(&a, PTHREAD_STACK_MIN) != 0) return 12;
        if (dup3(1, 9, O_CLOEXEC) != 9) return 13; close(9);
        void *h = dlopen("libm.so.6", RTLD_NOW); if (!h || dlclose(h) != 0) return 14;"#,
    ),
    clean(
        "sigaction_restores_the_action_it_saved",
        // curl's pattern: glibc returns its SA_RESTORER in the old action's flags.
        r#"struct sigaction sa, old; memset(&sa, 0, sizeof sa); sa.sa_handler = SIG_IGN;
        if (sigaction(SIGUSR2, &sa, NULL) || sigaction(SIGUSR2, &sa, &old)) return 1;
        if (sigaction(SIGUSR2, &old, NULL) != 0) return 2;"#,
    ),
    clean(
        "fstat_probe_of_every_descriptor",
        // gnupg's get_all_open_fds: fstat each fd up to 250, EBADF means closed.
        "struct stat st; int open_fds = 0; for (int fd = 0; fd < 250; fd++) open_fds += fstat(fd, &st) == 0; if (open_fds < 3) return 1;",
    ),
    clean(
        "open_tmpfile_with_a_mode",
        r#"int fd = open("/tmp", O_RDWR | O_TMPFILE, 0600); if (fd >= 0) close(fd);"#,
    ),
    clean(
        "zero_length_buffers_at_the_end_of_a_mapping",
        // One past the last readable byte, where the next page is PROT_NONE.
        r#"char *end = guarded_end() + 8; int in = open("/dev/zero", O_RDONLY), out = open("/dev/null", O_WRONLY);
        if (read(in, end, 0) != 0 || write(out, end, 0) != 0) return 1;
        memcpy(end, "x", 0); memset(end, 0, 0); if (memcmp(end, end, 0) != 0) return 2;
        if (snprintf(end, 0, "%d", 42) != 2) return 3;"#,
    ),
    Case {
        name: "abstract_unix_socket_names",
        decls: "#include <stddef.h>\n#include <sys/un.h>",
        // A name whose first byte is NUL, its length given by addrlen (unix(7)).
        body: r#"struct sockaddr_un a; memset(&a, 0, sizeof a); a.sun_family = AF_UNIX;
        memcpy(a.sun_path, "\0dynchk-planted", 15);
        socklen_t len = offsetof(struct sockaddr_un, sun_path) + 15;
        int s = socket(AF_UNIX, SOCK_STREAM, 0), c = socket(AF_UNIX, SOCK_STREAM, 0);
        if (bind(s, (struct sockaddr *)&a, len) != 0 || listen(s, 1) != 0) return 1;
        if (connect(c, (struct sockaddr *)&a, len) != 0) return 2;
        struct sockaddr_un got; socklen_t n = sizeof got;
        if (getsockname(s, (struct sockaddr *)&got, &n) != 0 || n != len) return 3;"#,
        expect: None,
    },
    clean(
        "open_garbage_mode_without_creat",
        r#"int fd = open("/dev/null", O_RDONLY, 0xFFFFFFFF); close(fd);"#,
    ),
    clean(
        "mmap_anonymous_fd_minus_one",
        r#"char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        p[0] = 1; munmap(p, PAGE);"#,
    ),
    clean(
        "scandir_alphasort",
        r#"struct dirent **list; int n = scandir(".", &list, NULL, alphasort);
        for (int i = 0; i < n; i++) free(list[i]);
        if (n >= 0) free(list);"#,
    ),
    Case {
        name: "valid_program",
        decls: VALID_DECLS,
        body: VALID_BODY,
        expect: None,
    },
];

/// Issue 10's audit: every call its sections 3 (flags and enumerations) and 4 (preconditions)
/// name, and every clean control its "Done when" names, with the case of [`CASES`] that plants the
/// bad call (one record, at the interface the entry starts with) or runs the control clean, and a
/// piece of that case's body that shows it is the call meant. `ISSUE_10_LEFT` lists what has no
/// case, and why.
const ISSUE_10: &[(&str, &str, &str)] = &[
    // section 3: flags and enumerations
    ("mmap prot", "mmap_unknown_prot_bit", "PROT_READ | 0x10"),
    (
        "mmap flags: exactly one of MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE",
        "mmap_without_shared_or_private",
        "MAP_ANONYMOUS, -1",
    ),
    (
        "mmap fd open unless MAP_ANONYMOUS",
        "mmap_closed_fd",
        "close(fd)",
    ),
    ("mprotect prot", "mprotect_unknown_prot_bit", "mprotect("),
    ("madvise advice", "madvise_unknown_advice", "madvise("),
    (
        "posix_madvise advice",
        "posix_madvise_unknown_advice",
        "posix_madvise(",
    ),
    (
        "msync not both MS_SYNC and MS_ASYNC",
        "msync_sync_and_async",
        "MS_SYNC | MS_ASYNC",
    ),
    ("flock operation", "flock_without_operation", "flock("),
    ("waitpid options", "waitpid_unknown_option", "waitpid("),
    ("waitid options", "waitid_unknown_option", "waitid("),
    ("wait4 options", "wait4_unknown_option", "wait4("),
    ("glob flags", "glob_unknown_flag", "glob("),
    ("fnmatch flags", "fnmatch_unknown_flag", "fnmatch("),
    ("regcomp flags", "regcomp_unknown_cflag", "regcomp("),
    ("regexec flags", "regexec_unknown_eflag", "regexec("),
    ("pipe2 flags", "pipe2_append", "pipe2("),
    ("dup3 flags", "dup3_nonblock", "dup3("),
    ("accept4 flags", "accept4_unknown_flag", "accept4("),
    ("eventfd flags", "eventfd_unknown_flag", "eventfd("),
    ("signalfd flags", "signalfd_unknown_flag", "signalfd("),
    (
        "timerfd_create flags",
        "timerfd_create_unknown_flag",
        "timerfd_create(",
    ),
    (
        "inotify_init1 flags",
        "inotify_init1_unknown_flag",
        "inotify_init1(",
    ),
    (
        "epoll_create1 flags",
        "epoll_create1_unknown_flag",
        "epoll_create1(",
    ),
    ("socket type", "socket_unknown_type", "socket(AF_INET, 999"),
    (
        "setsockopt level",
        "setsockopt_unknown_level",
        "setsockopt(s, 12345",
    ),
    (
        "setsockopt option",
        "setsockopt_unknown_option",
        "setsockopt(s, SOL_SOCKET, 999",
    ),
    (
        "setsockopt optlen at least the option's size",
        "setsockopt_linger_as_an_int",
        "SO_LINGER, &l, sizeof(int)",
    ),
    (
        "getsockopt option",
        "getsockopt_unknown_tcp_option",
        "getsockopt(s, IPPROTO_TCP, 15",
    ),
    (
        "getsockopt *optlen at least the option's size",
        "getsockopt_optlen_shorter_than_the_option",
        "socklen_t n = 1",
    ),
    (
        "getsockopt optval writable for *optlen",
        "getsockopt_optval_shorter_than_optlen",
        "malloc(8), &n",
    ),
    (
        "dlopen mode: RTLD_LAZY or RTLD_NOW",
        "dlopen_without_lazy_or_now",
        "RTLD_GLOBAL",
    ),
    (
        "clock_nanosleep flags",
        "clock_nanosleep_unknown_flag",
        "clock_nanosleep(",
    ),
    (
        "clock_nanosleep a clock it accepts",
        "clock_nanosleep_thread_cputime",
        "CLOCK_THREAD_CPUTIME_ID",
    ),
    (
        "posix_fadvise advice",
        "posix_fadvise_unknown_advice",
        "posix_fadvise(",
    ),
    ("fcntl command", "fcntl_unknown_command", "fcntl(0, 9999)"),
    (
        "fcntl F_DUPFD arg >= 0",
        "fcntl_dupfd_negative",
        "F_DUPFD, -1",
    ),
    ("fcntl F_SETFL flags", "fcntl_setfl_unknown_flag", "F_SETFL"),
    (
        "fcntl F_GETLK struct flock writable",
        "fcntl_getlk_read_only_lock",
        "F_GETLK",
    ),
    (
        "fcntl F_SETLK struct flock readable",
        "fcntl_setlk_unmapped_lock",
        "F_SETLK",
    ),
    (
        "fcntl F_SETSIG signal",
        "fcntl_setsig_unknown_signal",
        "F_SETSIG, 1000",
    ),
    // section 4: preconditions the man pages state
    (
        "sigaction with act on SIGKILL",
        "sigaction_sigkill",
        "SIGKILL, &sa",
    ),
    (
        "sigaction with act on SIGSTOP",
        "sigaction_sigstop",
        "SIGSTOP, &sa",
    ),
    (
        "sigaltstack ss_size < MINSIGSTKSZ",
        "sigaltstack_below_minsigstksz",
        "sigaltstack(",
    ),
    (
        "pthread_attr_setstacksize below PTHREAD_STACK_MIN",
        "pthread_attr_setstacksize_below_minimum",
        "4096",
    ),
    (
        "pthread_join(pthread_self())",
        "pthread_join_self",
        "pthread_join(pthread_self()",
    ),
    ("setenv name containing =", "setenv_name_with_equals", "A=B"),
    ("unsetenv empty name", "unsetenv_empty_name", "unsetenv("),
    ("putenv name empty", "putenv_empty_name", "\"=x\""),
    (
        "mkstemp template not ending in XXXXXX",
        "mkstemp_without_xxxxxx",
        "mkstemp(",
    ),
    (
        "mkstemps XXXXXX not before the suffix",
        "mkstemps_xxxxxx_not_before_suffix",
        "mkstemps(",
    ),
    (
        "mkostemp template not ending in XXXXXX",
        "mkostemp_without_xxxxxx",
        "mkostemp(",
    ),
    (
        "mkdtemp template not ending in XXXXXX",
        "mkdtemp_without_xxxxxx",
        "mkdtemp(",
    ),
    (
        "mkstemp template in read-only memory",
        "mkstemp_template_in_read_only_memory",
        "char *volatile t",
    ),
    (
        "popen type other than r or w (+ e)",
        "popen_read_and_write",
        "popen(",
    ),
    (
        "fdopen mode the descriptor's access mode forbids",
        "fdopen_write_on_read_only_descriptor",
        "O_RDONLY)",
    ),
    ("dup3(fd, fd)", "dup3_same_descriptor", "dup3(1, 1"),
    ("dlclose(NULL)", "dlclose_null", "dlclose(NULL)"),
    (
        "execve envp element not a string",
        "execve_envp_element_not_a_string",
        "(char *)0x10, NULL }",
    ),
    (
        "execv argv element not a string",
        "execv_argv_element_not_a_string",
        "execv(",
    ),
    (
        "execvp argv not NULL-terminated in readable memory",
        "execvp_argv_without_null",
        "guarded_end()",
    ),
    (
        "execl argument not a string",
        "execl_argument_not_a_string",
        "(char *)0x10, (char *)NULL",
    ),
    (
        "fstatat dirfd open when the path is relative",
        "fstatat_relative_path_closed_dirfd",
        "fstatat(999",
    ),
    (
        "openat dirfd open when the path is relative",
        "openat_relative_path_closed_dirfd",
        "openat(999",
    ),
    (
        "renameat dirfd open when the path is relative",
        "renameat_relative_new_path_closed_dirfd",
        "999",
    ),
    (
        "deflate next_out writable for avail_out",
        "deflate_output_past_heap_block",
        "malloc(16)",
    ),
    (
        "inflate next_in readable for avail_in",
        "inflate_input_unmapped",
        "(Bytef *)0x10",
    ),
    (
        "compress dest writable for *destLen",
        "compress_dest_shorter_than_destlen",
        "compress(malloc(16)",
    ),
    (
        "compress source readable for sourceLen",
        "compress_source_past_heap_block",
        "malloc(16), 100",
    ),
    (
        "uncompress destLen writable",
        "uncompress_destlen_unmapped",
        "(uLongf *)0x10",
    ),
    // "Done when": clean controls
    (
        "control: MAP_ANONYMOUS with fd -1",
        "mmap_anonymous_fd_minus_one",
        "MAP_ANONYMOUS, -1",
    ),
    (
        "control: O_TMPFILE with a mode",
        "open_tmpfile_with_a_mode",
        "O_TMPFILE, 0600",
    ),
    (
        "control: sigaction(SIGKILL, NULL, &old)",
        "precondition_controls",
        "sigaction(SIGKILL, NULL, &old)",
    ),
    (
        "control: zero-length buffers at the end of a mapping",
        "zero_length_buffers_at_the_end_of_a_mapping",
        "read(in, end, 0)",
    ),
    (
        "control: a heap buffer exactly as long as needed",
        "heap_buffers_exactly_as_long_as_needed",
        "malloc(64); read(fd, p, 64)",
    ),
    (
        "control: realloc(NULL, n)",
        "heap_buffers_exactly_as_long_as_needed",
        "realloc(NULL, 24)",
    ),
    (
        "control: free(NULL)",
        "heap_buffers_exactly_as_long_as_needed",
        "free(NULL)",
    ),
    (
        "control: abstract AF_UNIX names",
        "abstract_unix_socket_names",
        "memcpy(a.sun_path",
    ),
    (
        "control: the gnupg-style fd probe",
        "fstat_probe_of_every_descriptor",
        "fd < 250",
    ),
    (
        "control: socket options with their real sizes",
        "socket_options_as_documented",
        "IP_ADD_MEMBERSHIP, &mn",
    ),
    (
        "control: fcntl commands with their arguments",
        "fcntl_commands_with_their_arguments",
        "F_GETLK, &fl",
    ),
];

/// Named in issue 10 and deliberately not checked, with the reason.
const ISSUE_10_LEFT: &[(&str, &str)] = &[
    (
        "ioctl fd open",
        "a probe: TIOCGWINSZ on a standard stream that may be closed (io.sem); fd is range-checked",
    ),
    (
        "fcntl fd open",
        "F_GETFD/F_GETFL on a closed descriptor are the documented probe (section 5): fd is range-checked",
    ),
];

/// The _FORTIFY_SOURCE entry points, called directly (the cases are built without fortification).
const CHK_DECLS: &str = r#"
#include <stdarg.h>
int __printf_chk(int flag, const char *fmt, ...);
int __fprintf_chk(FILE *f, int flag, const char *fmt, ...);
int __sprintf_chk(char *s, int flag, size_t slen, const char *fmt, ...);
int __snprintf_chk(char *s, size_t n, int flag, size_t slen, const char *fmt, ...);
int __vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap);
static void vf(FILE *f, const char *fmt, ...) {
    va_list ap; va_start(ap, fmt); __vfprintf_chk(f, 1, fmt, ap); va_end(ap);
}
"#;

/// err.h, error.h, obstack and wide strftime, and a `v*` member called through a helper.
const FORMAT_DECLS: &str = r#"
#include <err.h>
#include <error.h>
#include <obstack.h>
#include <stdarg.h>
#include <wchar.h>
#define obstack_chunk_alloc malloc
#define obstack_chunk_free free
int __obstack_printf_chk(struct obstack *ob, int flag, const char *fmt, ...);
static void vw(const char *fmt, ...) {
    va_list ap; va_start(ap, fmt); vwarnx(fmt, ap); va_end(ap);
}
"#;

/// The clean control that does a bit of everything a real program does, all of it valid.
const VALID_BODY: &str = r#"
    char buf[256];
    /* file I/O */
    int fd = open("valid.tmp", O_CREAT | O_RDWR | O_TRUNC, 0644);
    if (fd < 0) return 10;
    if (write(fd, "hello world\n", 12) != 12) return 11;
    if (lseek(fd, 0, SEEK_SET) != 0) return 12;
    if (read(fd, buf, sizeof buf) != 12) return 13;
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size != 12) return 14;
    close(fd);
    /* stdio */
    FILE *f = fopen("valid.tmp", "w");
    fprintf(f, "%s %d %.2f\n", "line", 42, 1.5);
    fclose(f);
    f = fopen("valid.tmp", "r");
    if (!fgets(buf, sizeof buf, f) || strcmp(buf, "line 42 1.50\n") != 0) return 15;
    fclose(f);
    /* sockets */
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return 16;
    if (send(sv[0], "ping", 4, 0) != 4) return 17;
    if (recv(sv[1], buf, sizeof buf, 0) != 4) return 18;
    close(sv[0]); close(sv[1]);
    /* threads and a mutex */
    pthread_t t[2];
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    if (counter != 2000) return 19;
    /* time */
    struct timespec now, nap = { 0, 1000000 };
    clock_gettime(CLOCK_MONOTONIC, &now);
    nanosleep(&nap, NULL);
    time_t secs = time(NULL);
    struct tm tm;
    localtime_r(&secs, &tm);
    if (strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm) == 0) return 20;
    /* strings */
    char copy[32];
    strncpy(copy, "abcdef", sizeof copy);
    memcpy(buf, copy, strlen(copy) + 1);
    snprintf(copy, sizeof copy, "%s-%zu", buf, strlen(buf));
    if (strcmp(copy, "abcdef-6") != 0) return 21;
    /* environment */
    setenv("DYNCHK_PLANTED", "1", 1);
    if (!getenv("DYNCHK_PLANTED")) return 22;
    /* directory listing */
    DIR *d = opendir(".");
    int entries = 0;
    while (readdir(d)) entries++;
    closedir(d);
    if (entries < 3) return 23;
    puts("ok");
"#;

/// The valid program's thread body and the state it shares.
const VALID_DECLS: &str = r#"
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int counter;
static void *worker(void *arg) {
    (void)arg;
    for (int i = 0; i < 1000; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}
"#;

fn source(case: &Case) -> String {
    format!(
        "{PRELUDE}{}\nint main(void) {{\n    {}\n    return 0;\n}}\n",
        case.decls, case.body
    )
}

/// Runs `work` on every case over a few threads; returns the results in case order.
fn each_case<T: Send>(work: impl Fn(usize, &Case) -> T + Sync) -> Vec<T> {
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4));
    let mut done: Vec<(usize, T)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(case) = CASES.get(i) else { break };
                        mine.push((i, work(i, case)));
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("worker thread"))
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, t)| t).collect()
}

/// Runs the case's program under the checker in `dir` (where it may create files) and returns
/// what is wrong with the outcome, if anything.
fn judge(dir: &Path, prog: &Path, case: &Case) -> Option<String> {
    let argv = [prog.to_str().expect("utf-8 path")];
    let run = Run {
        cwd: Some(dir),
        env: &[("DYNCHK_FORMAT", "json"), ("DYNCHK_BACKTRACE", "1")],
        ..Run::new(&argv)
    };
    // Under `continue` the checker reports and forwards: the program must behave exactly as it
    // does without it, down to the crash some of the bad calls cause afterwards.
    let plain = run.go(None);
    let out = run.go(Some(&dir.join(format!("{}.log.%p", case.name))));
    if (
        out.status.code(),
        out.status.signal(),
        &out.stdout,
        &out.stderr,
    ) != (
        plain.status.code(),
        plain.status.signal(),
        &plain.stdout,
        &plain.stderr,
    ) {
        return Some(format!(
            "{}: behaves differently under the checker: {:?} vs {:?} plainly",
            case.name, out, plain
        ));
    }
    let records = records(dir, &format!("{}.log.", case.name));
    let found = of_kind(&records, "violation");
    let Some(want) = &case.expect else {
        let summaries = of_kind(&records, "summary");
        let ok = out.status.success()
            && found.is_empty()
            && summaries.len() == 1
            && summaries[0]["violations"] == 0
            && summaries[0]["checked"].as_u64() > Some(0);
        return (!ok).then(|| {
            format!(
                "{}: expected a clean run, got {} and {records:?}",
                case.name, out.status
            )
        });
    };
    // The bad call is in main, so the record's first frame is the program itself.
    let matches = |r: &Value| {
        r["interface"] == want.interface
            && r["param"] == want.param
            && r["check"] == want.check
            && r["severity"] == want.severity
            && r["count"] == 1
            && r["backtrace"][0]["module"] == argv[0]
            && match want.member {
                Some(m) => r["member"] == m,
                None => r.get("member").is_none(),
            }
            && ["allocated_at", "freed_at"].iter().all(|field| {
                if want.site == Some(*field) {
                    r[*field]["module"] == argv[0]
                } else {
                    r.get(*field).is_none()
                }
            })
    };
    (found.len() != 1 || !matches(found[0])).then(|| {
        format!(
            "{}: expected exactly one {}(param {}) {}{} violation, got {found:?}",
            case.name,
            want.interface,
            want.param,
            want.check,
            want.member
                .map_or(String::new(), |m| format!(" member {m}")),
        ) + &want
            .site
            .map_or(String::new(), |f| format!(" with {f} in the program"))
    })
}

#[test]
fn each_planted_violation_is_reported_alone_and_controls_are_clean() {
    let dir = scratch("planted");
    let programs: Vec<PathBuf> = each_case(|_, case| {
        compile(
            &dir,
            case.name,
            &source(case),
            &["-fno-builtin", "-pthread", "-lz"],
        )
    });
    let failures: Vec<String> = each_case(|i, case| judge(&dir, &programs[i], case))
        .into_iter()
        .flatten()
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
    // Kept on failure, for the logs.
    std::fs::remove_dir_all(&dir).expect("remove scratch dir");
}

#[test]
fn every_call_issue_10_names_has_its_case() {
    for (what, name, shows) in ISSUE_10 {
        let case = CASES
            .iter()
            .find(|c| c.name == *name)
            .unwrap_or_else(|| panic!("{what}: no case {name}"));
        assert!(
            case.body.contains(shows),
            "{what}: case {name} does not contain `{shows}`"
        );
        match (&case.expect, what.strip_prefix("control: ")) {
            (None, Some(_)) => {}
            (Some(e), None) => assert_eq!(
                what.split([' ', '(']).next(),
                Some(e.interface),
                "{what}: case {name} plants a call of another interface"
            ),
            _ => {
                panic!("{what}: case {name} is a control where a bad call is meant, or the reverse")
            }
        }
    }
    eprintln!(
        "issue 10: {} named calls and controls with a case, {} left",
        ISSUE_10.len(),
        ISSUE_10_LEFT.len()
    );
}

#[test]
fn case_names_are_unique() {
    // Names become file names and log prefixes; a duplicate would mix two programs' records.
    for (i, a) in CASES.iter().enumerate() {
        assert!(
            CASES[i + 1..].iter().all(|b| b.name != a.name),
            "duplicate case {}",
            a.name
        );
    }
}
