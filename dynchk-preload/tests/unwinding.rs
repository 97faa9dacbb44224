//! Forced unwinding through the interposers: `pthread_exit`, cancellation of threads blocked in
//! interposed cancellation points (generated, hand-coded, C-shim and trampoline interposers), and a
//! C++ exception thrown through `qsort` by its comparator. Each runs exactly as without the
//! checker, and the thread that survives the unwind is still checked afterwards.

mod common;

use common::{
    assert_reported_once, compile, compile_cxx, scratch, summaries, transparent, violations, Run,
};

const CANCEL_C: &str = r#"
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
extern int __fprintf_chk(FILE *, int, const char *, ...);
static int pfd[2], full[2], lfd;
static const char *fifo;
static char big[1 << 17];
static void cleanup(void *what) { printf("cleanup %s\n", (const char *)what); }
static void *exiter(void *a) {
    pthread_cleanup_push(cleanup, "pthread_exit");
    pthread_exit((void *)7);
    pthread_cleanup_pop(0);
    return a;
}
static void *reader(void *a) {
    char c;
    pthread_cleanup_push(cleanup, "read");
    read(pfd[0], &c, 1);                       /* generated interposer */
    pthread_cleanup_pop(0);
    return a;
}
static void *sleeper(void *a) {
    pthread_cleanup_push(cleanup, "usleep");
    for (;;)
        usleep(100000);
    pthread_cleanup_pop(0);
    return a;
}
static void *poller(void *a) {
    struct pollfd p = {pfd[0], POLLIN, 0};
    pthread_cleanup_push(cleanup, "poll");
    poll(&p, 1, -1);
    pthread_cleanup_pop(0);
    return a;
}
static void *acceptor(void *a) {
    pthread_cleanup_push(cleanup, "accept");
    accept(lfd, 0, 0);
    pthread_cleanup_pop(0);
    return a;
}
static void *opener(void *a) {
    pthread_cleanup_push(cleanup, "open");
    open(fifo, O_RDONLY);                      /* hand-coded interposer: blocks, no writer */
    pthread_cleanup_pop(0);
    return a;
}
static void *printer(void *a) {
    FILE *f = fdopen(full[1], "w");
    setvbuf(f, 0, _IONBF, 0);
    pthread_cleanup_push(cleanup, a ? "__fprintf_chk" : "fprintf");
    if (a)
        __fprintf_chk(f, 1, "%s", big);        /* trampoline: blocks in write, pipe is full */
    else
        fprintf(f, "%s", big);                 /* C shim and hand-coded format interposer */
    pthread_cleanup_pop(0);
    return a;
}
static void cancel(void *(*f)(void *), void *arg) {
    pthread_t t;
    void *r;
    pthread_create(&t, 0, f, arg);
    usleep(100000);
    pthread_cancel(t);
    pthread_join(t, &r);
    printf("cancelled: %d\n", r == PTHREAD_CANCELED);
}
int main(int argc, char **argv) {
    setvbuf(stdout, 0, _IONBF, 0);
    fifo = argv[1];
    mkfifo(fifo, 0600);
    pipe(pfd);
    pipe(full);
    fcntl(full[1], F_SETFL, 0);
    memset(big, 'x', sizeof big - 1);
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    bind(lfd, (struct sockaddr *)&sa, sizeof sa);
    listen(lfd, 1);
    pthread_t t;
    void *r;
    pthread_create(&t, 0, exiter, 0);
    pthread_join(t, &r);
    printf("pthread_exit: %ld\n", (long)r);
    cancel(reader, 0);
    cancel(sleeper, 0);
    cancel(poller, 0);
    cancel(acceptor, 0);
    cancel(opener, 0);
    cancel(printer, 0);
    cancel(printer, (void *)1);
    fcntl(-1, F_GETFD);                        /* still checked */
    printf("main calls pthread_exit\n");
    pthread_exit(0);
}
"#;

#[test]
fn pthread_exit_and_cancellation_pass_through_interposers() {
    let dir = scratch("cancel");
    let prog = compile(&dir, "cancel", CANCEL_C, &["-pthread"]);
    let fifo = dir.join("fifo");
    let argv = [prog.to_str().unwrap(), fifo.to_str().unwrap()];
    let records = transparent(&Run::new(&argv), &dir);
    assert_reported_once(&records, "fcntl", "filedescriptor", "after the unwinds: ");
    let s = summaries(&records);
    assert_eq!(
        s.len(),
        1,
        "the main thread's pthread_exit still ends in a summary: {records:?}"
    );
    assert_eq!(s[0]["violations"], 1, "{s:?}");
}

const QSORT_CXX: &str = r#"
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <sys/ioctl.h>
#include <termios.h>
static int cmp(const void *a, const void *b) {
    if (*(const int *)a == 3)
        throw std::runtime_error("three");
    return *(const int *)a - *(const int *)b;
}
/* Deeper than the comparator was: a forwarding marker the unwind left behind would make the
   checker take this call for one the library made inside qsort and skip its argument check. */
static void deep(int n) {
    volatile char pad[512];
    pad[0] = 0;
    if (n) {
        deep(n - 1);
        return;
    }
    ioctl(0, TCGETS, (struct termios *)16);
    (void)pad[0];
}
int main() {
    int v[] = {5, 3, 9, 1, 7, 3, 2};
    for (int i = 0; i < 3; i++) {
        try {
            qsort(v, 7, sizeof v[0], cmp);
            std::puts("sorted");
        } catch (const std::exception &e) {
            std::printf("caught %s\n", e.what());
        }
    }
    deep(32);
    std::puts("done");
    return 0;
}
"#;

#[test]
fn a_cxx_exception_thrown_through_qsort_is_caught() {
    let dir = scratch("qsort-throw");
    let prog = compile_cxx(&dir, "qsort-throw", QSORT_CXX, &[]);
    let records = transparent(&Run::new(&[prog.to_str().unwrap()]), &dir);
    assert!(violations(&records, "qsort", "").is_empty(), "{records:?}");
    assert_reported_once(&records, "ioctl", "RWaddress", "after the exception: ");
    assert_eq!(summaries(&records).len(), 1, "{records:?}");
}
