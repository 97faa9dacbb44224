/* The parts of libdynchk.so that stable Rust cannot express: initial-exec thread-local state and
 * the bodies of the variadic interposers (printf, scanf, syslog and exec families).
 *
 * Every function here has hidden visibility (built with -fvisibility=hidden); the exported
 * variadic symbols are naked Rust trampolines that jump to the dynchk_shim_* bodies, so the
 * variadic arguments arrive untouched. The shims only gather the arguments into a va_list (or an
 * argv array) and hand over to Rust, which checks and forwards to the v* variant. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Per-thread guard state, mirrored by rt::thread::State. initial-exec: access is a plain
 * %fs-relative load, never __tls_get_addr, which may call malloc after a dlopen of a TLS-using
 * library and would then re-enter the allocator interposers. Zero-initialised: no constructor, no
 * destructor, valid before main and in threads the checker never saw start. */
struct dynchk_thread {
    uintptr_t busy_sp;
    uintptr_t fwd_sp;
    uint32_t flush_at_exit;
    uint32_t unchecked;
    uint32_t ambiguous;
    uint32_t reporting;
    struct {
        uintptr_t iface;
        uint32_t slot;
        uint32_t pending;
    } used[128]; /* rt::thread::USED_ENTRIES */
    int *errno_slot;
    uintptr_t memo[51]; /* validators::memo::Thread: the object memo's four slots and the two
                         * windows, eight words each, and the windows' gate: the two latest
                         * blocks and a repeat counter */
};

/* Not static: rt::thread::state reads it inline on x86-64 (hidden, like everything here). */
__thread struct dynchk_thread dynchk_thread_state __attribute__((tls_model("initial-exec")));

struct dynchk_thread *dynchk_thread(void) { return &dynchk_thread_state; }

/* For the unit test that rt::thread::State, its mirror, has the same size: a mismatch would make
 * the Rust side write past this thread's block. */
const size_t dynchk_thread_size = sizeof(struct dynchk_thread);

/* Readers of a va_list copy for the format checks (hand/format.rs), so that the original stays
 * untouched for the real v* function. The Rust side keeps the copy in 24 bytes of its own. */
_Static_assert(sizeof(va_list) == 24, "hand/format.rs assumes the x86-64 va_list");
void dynchk_va_copy(va_list *dst, va_list src) { va_copy(*dst, src); }
void dynchk_va_end(va_list *ap) { va_end(*ap); }
long long dynchk_va_int(va_list *ap) { return va_arg(*ap, int); }
long long dynchk_va_long(va_list *ap) { return va_arg(*ap, long long); }
void *dynchk_va_ptr(va_list *ap) { return va_arg(*ap, void *); }
void dynchk_va_double(va_list *ap) { (void)va_arg(*ap, double); }
void dynchk_va_long_double(va_list *ap) { (void)va_arg(*ap, long double); }

/* Implemented in Rust (hand/format.rs, hand/exec.rs): `which` names the interface, `lead` holds
 * its parameters before the format (unused ones are 0). */
extern long dynchk_format_call(int which, const uintptr_t lead[4], const char *fmt, va_list ap);
extern int dynchk_exec_call(int which, const char *path, char *const argv[], char *const envp[]);

/* One variadic member: its parameters before the format, as a parameter list and as values. */
#define FORMAT_SHIM(name, which, params, ...)                                                      \
    long dynchk_shim_##name params {                                                               \
        const uintptr_t lead[4] = {__VA_ARGS__};                                                   \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        long r = dynchk_format_call(which, lead, fmt, ap);                                         \
        va_end(ap);                                                                                \
        return r;                                                                                  \
    }
#define FIXED0(name, which) FORMAT_SHIM(name, which, (const char *fmt, ...), 0)
#define FIXED1(name, which, T0) FORMAT_SHIM(name, which, (T0 a0, const char *fmt, ...), (uintptr_t)a0)
#define FIXED2(name, which, T0, T1)                                                                \
    FORMAT_SHIM(name, which, (T0 a0, T1 a1, const char *fmt, ...), (uintptr_t)a0, (uintptr_t)a1)
#define FIXED3(name, which, T0, T1, T2)                                                            \
    FORMAT_SHIM(name, which, (T0 a0, T1 a1, T2 a2, const char *fmt, ...), (uintptr_t)a0,          \
                (uintptr_t)a1, (uintptr_t)a2)
#define FIXED4(name, which, T0, T1, T2, T3)                                                        \
    FORMAT_SHIM(name, which, (T0 a0, T1 a1, T2 a2, T3 a3, const char *fmt, ...), (uintptr_t)a0,   \
                (uintptr_t)a1, (uintptr_t)a2, (uintptr_t)a3)

/* The numbering is hand/format.rs's Which enum. */
FIXED0(printf, 0)
FIXED1(fprintf, 1, void *)
FIXED1(sprintf, 2, char *)
FIXED2(snprintf, 3, char *, size_t)
FIXED1(dprintf, 4, long)
FIXED1(asprintf, 5, char **)
FIXED1(syslog, 6, long)
FIXED0(scanf, 7)
FIXED1(fscanf, 8, void *)
FIXED1(sscanf, 9, const char *)
FIXED0(isoc99_scanf, 10)
FIXED1(isoc99_fscanf, 11, void *)
FIXED1(isoc99_sscanf, 12, const char *)
FIXED1(printf_chk, 13, int)
FIXED2(fprintf_chk, 14, void *, int)
FIXED3(sprintf_chk, 15, char *, int, size_t)
FIXED4(snprintf_chk, 16, char *, size_t, int, size_t)
FIXED2(dprintf_chk, 17, int, int)
FIXED2(asprintf_chk, 18, char **, int)
FIXED2(syslog_chk, 19, int, int)

/* execl-style argument lists end with a NULL pointer; they are copied into an array on this stack
 * (never malloc: the exec may come from a vfork child or a signal handler). */
static int exec_list(int which, const char *path, const char *arg0, va_list ap, int with_env) {
    va_list count;
    size_t n = 1;
    va_copy(count, ap);
    if (arg0)
        while (va_arg(count, char *))
            n++;
    va_end(count);
    char *argv[n + 1];
    argv[0] = (char *)arg0;
    for (size_t i = 1; i < n; i++)
        argv[i] = va_arg(ap, char *);
    argv[n] = NULL;
    char *const *envp = NULL;
    if (with_env) {
        if (arg0)
            (void)va_arg(ap, char *); /* the terminating NULL */
        envp = va_arg(ap, char *const *);
    }
    return dynchk_exec_call(which, path, argv, envp);
}

#define EXEC_LIST(name, which, with_env)                                                           \
    int dynchk_shim_##name(const char *path, const char *arg0, ...) {                              \
        va_list ap;                                                                                \
        va_start(ap, arg0);                                                                        \
        int r = exec_list(which, path, arg0, ap, with_env);                                        \
        va_end(ap);                                                                                \
        return r;                                                                                  \
    }

/* The numbering is hand/exec.rs's Which enum. */
EXEC_LIST(execl, 0, 0)
EXEC_LIST(execlp, 1, 0)
EXEC_LIST(execle, 2, 1)

/* The runtime's own memory and string primitives. libdynchk exports interposers for memcpy,
 * memset, strlen, … and the compiler emits calls to them for plain copies; within this library
 * those calls would bind to the interposers and re-enter the checker from inside itself. build.rs
 * links with --wrap for each, so every reference from the runtime, the validators and Rust's std
 * lands here instead. They must not call anything, hence the string instructions and the plain
 * loops (built with -fno-builtin and without loop-to-libcall transformation). */
void *__wrap_memcpy(void *dst, const void *src, size_t n) {
    void *ret = dst;
    __asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
    return ret;
}

void *__wrap_memmove(void *dst, const void *src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d <= s || d >= s + n)
        return __wrap_memcpy(dst, src, n);
    while (n--)
        d[n] = s[n];
    return dst;
}

void *__wrap_memset(void *dst, int c, size_t n) {
    void *ret = dst;
    __asm__ volatile("rep stosb" : "+D"(dst), "+c"(n) : "a"(c) : "memory");
    return ret;
}

int __wrap_memcmp(const void *a, const void *b, size_t n) {
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

int __wrap_bcmp(const void *a, const void *b, size_t n) { return __wrap_memcmp(a, b, n); }

size_t __wrap_strlen(const char *s) {
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

/* The C++ ABI unwinder's entry points that Rust's std references: _Unwind_Resume and the
 * personality routine's accessors (called only while an unwind passes through the checker's
 * frames: thread cancellation, pthread_exit, a C++ exception from a callback),
 * _Unwind_RaiseException and _Unwind_Backtrace (std's panics and backtraces, which the checker
 * never starts: rt::panic aborts first, and rt::cfi walks stacks itself). build.rs links with
 * --wrap for each, so that the library does not need libgcc_s.so.1 when it loads: every program
 * would load it then, and its constructor costs 0.1 ms on a virtual machine. Each is bound at
 * its first call, to the unwinder that is running (rt::unwinder). */
#include <unwind.h>

extern uintptr_t dynchk_unwinder(const char *name, const char *version);

static uintptr_t bound(uintptr_t *slot, const char *name, const char *version) {
    uintptr_t f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (!f) {
        f = dynchk_unwinder(name, version);
        __atomic_store_n(slot, f, __ATOMIC_RELEASE);
    }
    return f;
}

/* The original of `name` as its own function type, kept in a slot of the calling function. */
#define REAL(name, version)                                                                        \
    ({                                                                                             \
        static uintptr_t slot;                                                                     \
        (__typeof__(&name))bound(&slot, #name, version);                                           \
    })

_Unwind_Reason_Code __wrap__Unwind_RaiseException(struct _Unwind_Exception *e) {
    return REAL(_Unwind_RaiseException, "GCC_3.0")(e);
}
void __wrap__Unwind_Resume(struct _Unwind_Exception *e) {
    REAL(_Unwind_Resume, "GCC_3.0")(e);
    __builtin_unreachable();
}
_Unwind_Reason_Code __wrap__Unwind_Backtrace(_Unwind_Trace_Fn f, void *arg) {
    return REAL(_Unwind_Backtrace, "GCC_3.3")(f, arg);
}
_Unwind_Ptr __wrap__Unwind_GetIP(struct _Unwind_Context *c) {
    return REAL(_Unwind_GetIP, "GCC_3.0")(c);
}
_Unwind_Ptr __wrap__Unwind_GetIPInfo(struct _Unwind_Context *c, int *before) {
    return REAL(_Unwind_GetIPInfo, "GCC_4.2.0")(c, before);
}
void __wrap__Unwind_SetIP(struct _Unwind_Context *c, _Unwind_Ptr ip) {
    REAL(_Unwind_SetIP, "GCC_3.0")(c, ip);
}
void __wrap__Unwind_SetGR(struct _Unwind_Context *c, int reg, _Unwind_Word value) {
    REAL(_Unwind_SetGR, "GCC_3.0")(c, reg, value);
}
void *__wrap__Unwind_GetLanguageSpecificData(struct _Unwind_Context *c) {
    return REAL(_Unwind_GetLanguageSpecificData, "GCC_3.0")(c);
}
_Unwind_Ptr __wrap__Unwind_GetRegionStart(struct _Unwind_Context *c) {
    return REAL(_Unwind_GetRegionStart, "GCC_3.0")(c);
}
_Unwind_Ptr __wrap__Unwind_GetDataRelBase(struct _Unwind_Context *c) {
    return REAL(_Unwind_GetDataRelBase, "GCC_3.0")(c);
}
_Unwind_Ptr __wrap__Unwind_GetTextRelBase(struct _Unwind_Context *c) {
    return REAL(_Unwind_GetTextRelBase, "GCC_3.0")(c);
}
