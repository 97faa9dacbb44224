//! The printf, scanf and syslog families. The variadic ones are C shim bodies (shim/shim.c) that
//! build a `va_list` and call [`dynchk_format_call`]; the `v*` ones receive the `va_list` directly.
//! Both forward to the C library's `v*` function with the caller's `va_list` untouched.
//!
//! On x86-64 a `va_list` argument is a pointer to the caller's `__va_list_tag`, so it crosses the
//! Rust code as `*mut c_void`.

use core::ffi::{c_char, c_int, c_long, c_void};

use validators::format::{self, ArgSource};
use validators::{fd, mem, stream, Fault};

use crate::rt::{self, Iface, Real};

type VaList = *mut c_void;

/// Storage for a copy of an x86-64 `va_list` (shim/shim.c asserts the size).
#[repr(C, align(16))]
struct VaListCopy([u64; 3]);

extern "C" {
    fn dynchk_va_copy(dst: *mut VaListCopy, src: VaList);
    fn dynchk_va_end(ap: *mut VaListCopy);
    fn dynchk_va_int(ap: *mut VaListCopy) -> i64;
    fn dynchk_va_long(ap: *mut VaListCopy) -> i64;
    fn dynchk_va_ptr(ap: *mut VaListCopy) -> usize;
    fn dynchk_va_double(ap: *mut VaListCopy);
    fn dynchk_va_long_double(ap: *mut VaListCopy);
}

/// The call's variadic arguments, read from a private copy of its `va_list`.
struct VaArgs(VaListCopy);

impl VaArgs {
    /// Copies `ap`.
    ///
    /// # Safety
    /// `ap` must be a live `va_list` of the caller.
    unsafe fn copy(ap: VaList) -> VaArgs {
        let mut copy = VaArgs(VaListCopy([0; 3]));
        // SAFETY: the storage has the size and alignment of a va_list.
        unsafe { dynchk_va_copy(&mut copy.0, ap) };
        copy
    }
}

impl Drop for VaArgs {
    fn drop(&mut self) {
        // SAFETY: made by dynchk_va_copy.
        unsafe { dynchk_va_end(&mut self.0) }
    }
}

// The validators fetch exactly the arguments the format describes, in order and with their
// promoted C types, which is what va_arg needs.
impl ArgSource for VaArgs {
    fn next_int(&mut self) -> i64 {
        // SAFETY: see the impl comment.
        unsafe { dynchk_va_int(&mut self.0) }
    }
    fn next_long(&mut self) -> i64 {
        // SAFETY: see the impl comment.
        unsafe { dynchk_va_long(&mut self.0) }
    }
    fn next_ptr(&mut self) -> usize {
        // SAFETY: see the impl comment.
        unsafe { dynchk_va_ptr(&mut self.0) }
    }
    fn next_double(&mut self) {
        // SAFETY: see the impl comment.
        unsafe { dynchk_va_double(&mut self.0) }
    }
    fn next_long_double(&mut self) {
        // SAFETY: see the impl comment.
        unsafe { dynchk_va_long_double(&mut self.0) }
    }
}

/// One member of the families, numbered as shim/shim.c numbers them.
#[derive(Clone, Copy)]
enum Which {
    Printf,
    Fprintf,
    Sprintf,
    Snprintf,
    Dprintf,
    Asprintf,
    Syslog,
    Scanf,
    Fscanf,
    Sscanf,
    Isoc99Scanf,
    Isoc99Fscanf,
    Isoc99Sscanf,
}

impl Which {
    const ALL: [Which; 13] = [
        Which::Printf,
        Which::Fprintf,
        Which::Sprintf,
        Which::Snprintf,
        Which::Dprintf,
        Which::Asprintf,
        Which::Syslog,
        Which::Scanf,
        Which::Fscanf,
        Which::Sscanf,
        Which::Isoc99Scanf,
        Which::Isoc99Fscanf,
        Which::Isoc99Sscanf,
    ];

    /// Whether the format is a scanf format (destinations) rather than a printf one.
    fn scans(self) -> bool {
        matches!(
            self,
            Which::Scanf
                | Which::Fscanf
                | Which::Sscanf
                | Which::Isoc99Scanf
                | Which::Isoc99Fscanf
                | Which::Isoc99Sscanf
        )
    }

    /// Position of the format parameter.
    fn fmt_pos(self) -> i32 {
        match self {
            Which::Printf | Which::Scanf | Which::Isoc99Scanf => 0,
            Which::Snprintf => 2,
            _ => 1,
        }
    }
}

/// The interfaces, variadic first (in [`Which`] order), then their `v*` forms.
static IFACES: [Iface; 26] = {
    const fn i(name: &'static str, version: &'static str) -> Iface {
        Iface {
            name,
            lib: "libc",
            version,
        }
    }
    const V: &str = "GLIBC_2.2.5";
    const C99: &str = "GLIBC_2.7";
    [
        i("printf", V),
        i("fprintf", V),
        i("sprintf", V),
        i("snprintf", V),
        i("dprintf", V),
        i("asprintf", V),
        i("syslog", V),
        i("scanf", V),
        i("fscanf", V),
        i("sscanf", V),
        i("__isoc99_scanf", C99),
        i("__isoc99_fscanf", C99),
        i("__isoc99_sscanf", C99),
        i("vprintf", V),
        i("vfprintf", V),
        i("vsprintf", V),
        i("vsnprintf", V),
        i("vdprintf", V),
        i("vasprintf", V),
        i("vsyslog", V),
        i("vscanf", V),
        i("vfscanf", V),
        i("vsscanf", V),
        i("__isoc99_vscanf", C99),
        i("__isoc99_vfscanf", C99),
        i("__isoc99_vsscanf", C99),
    ]
};

/// The C library's `v*` function each member forwards to.
static REALS: [Real; 13] = [
    Real::new(c"vprintf", c"GLIBC_2.2.5"),
    Real::new(c"vfprintf", c"GLIBC_2.2.5"),
    Real::new(c"vsprintf", c"GLIBC_2.2.5"),
    Real::new(c"vsnprintf", c"GLIBC_2.2.5"),
    Real::new(c"vdprintf", c"GLIBC_2.2.5"),
    Real::new(c"vasprintf", c"GLIBC_2.2.5"),
    Real::new(c"vsyslog", c"GLIBC_2.2.5"),
    Real::new(c"vscanf", c"GLIBC_2.2.5"),
    Real::new(c"vfscanf", c"GLIBC_2.2.5"),
    Real::new(c"vsscanf", c"GLIBC_2.2.5"),
    Real::new(c"__isoc99_vscanf", c"GLIBC_2.7"),
    Real::new(c"__isoc99_vfscanf", c"GLIBC_2.7"),
    Real::new(c"__isoc99_vsscanf", c"GLIBC_2.7"),
];

/// Checks the fixed parameters and forwards to the `v*` original. `a0`/`a1` are the parameters
/// before the format (unused ones 0); the result is widened to `c_long` (0 for `syslog`).
unsafe fn format_call(
    iface: &'static Iface,
    which: Which,
    a0: usize,
    a1: usize,
    fmt: *const c_char,
    ap: VaList,
) -> c_long {
    let real = &REALS[which as usize];
    let forward = || -> c_long {
        // SAFETY: each prototype matches glibc's v* function; the caller's arguments and va_list
        // are passed unchanged.
        unsafe {
            match which {
                Which::Printf | Which::Scanf | Which::Isoc99Scanf => {
                    real.get::<unsafe extern "C-unwind" fn(*const c_char, VaList) -> c_int>()(
                        fmt, ap,
                    ) as c_long
                }
                Which::Snprintf => real.get::<unsafe extern "C-unwind" fn(
                    usize,
                    usize,
                    *const c_char,
                    VaList,
                ) -> c_int>()(a0, a1, fmt, ap) as c_long,
                Which::Syslog => {
                    real.get::<unsafe extern "C-unwind" fn(c_int, *const c_char, VaList)>()(
                        a0 as c_int,
                        fmt,
                        ap,
                    );
                    0
                }
                Which::Dprintf => real.get::<unsafe extern "C-unwind" fn(
                    c_int,
                    *const c_char,
                    VaList,
                ) -> c_int>()(a0 as c_int, fmt, ap) as c_long,
                _ => real
                    .get::<unsafe extern "C-unwind" fn(usize, *const c_char, VaList) -> c_int>()(
                    a0, fmt, ap,
                ) as c_long,
            }
        }
    };
    let Some(call) = rt::enter(iface) else {
        return forward();
    };
    // SAFETY: validators read only memory they have proven mapped.
    unsafe {
        match which {
            Which::Sprintf => check!(call, 0, "str", a0, mem::writable(a0 as *const c_void, 1)),
            Which::Snprintf if a1 > 0 => {
                check!(call, 0, "str", a0, mem::writable(a0 as *const c_void, a1))
            }
            Which::Asprintf => check!(
                call,
                0,
                "strp",
                a0,
                mem::writable(a0 as *const c_void, size_of::<usize>())
            ),
            Which::Dprintf => check!(call, 0, "fd", a0, fd::open(a0 as c_int as i64)),
            Which::Sscanf | Which::Isoc99Sscanf => {
                check!(call, 0, "str", a0, mem::string(a0 as *const c_void))
            }
            Which::Fprintf | Which::Fscanf | Which::Isoc99Fscanf => {
                check!(call, 0, "stream", a0, stream::file(a0 as *const c_void))
            }
            _ => {}
        }
        check_format(&call, which, fmt, ap);
    }
    call.forward(forward)
}

/// Walks the format against a copy of the arguments: the format itself at its position, each
/// argument at its own (after the format), named `...`.
///
/// # Safety
/// `ap` must be the call's live `va_list`.
unsafe fn check_format(call: &rt::Call, which: Which, fmt: *const c_char, ap: VaList) {
    let pos = which.fmt_pos();
    // SAFETY: the caller's va_list.
    let mut args = unsafe { VaArgs::copy(ap) };
    let mut bad_arg = |i: usize, f: Fault| call.violation(pos + 1 + i as i32, "...", 0, f);
    // SAFETY: the walk fetches the arguments the format describes and reads memory only where
    // the memory map allows.
    let verdict = unsafe {
        if which.scans() {
            format::scanf(fmt, &mut args, &mut bad_arg)
        } else {
            format::printf(fmt, &mut args, &mut bad_arg)
        }
    };
    check!(call, pos, "format", fmt, verdict);
}

/// Called by the C shim bodies of the variadic members (`which` as shim/shim.c numbers them).
#[no_mangle]
pub unsafe extern "C-unwind" fn dynchk_format_call(
    which: c_int,
    a0: usize,
    a1: usize,
    fmt: *const c_char,
    ap: VaList,
) -> c_long {
    let w = Which::ALL[which as usize];
    // SAFETY: the shim passes the caller's arguments.
    unsafe { format_call(&IFACES[which as usize], w, a0, a1, fmt, ap) }
}

variadic_trampolines! {
    printf => dynchk_shim_printf,
    fprintf => dynchk_shim_fprintf,
    sprintf => dynchk_shim_sprintf,
    snprintf => dynchk_shim_snprintf,
    dprintf => dynchk_shim_dprintf,
    asprintf => dynchk_shim_asprintf,
    syslog => dynchk_shim_syslog,
    scanf => dynchk_shim_scanf,
    fscanf => dynchk_shim_fscanf,
    sscanf => dynchk_shim_sscanf,
    __isoc99_scanf => dynchk_shim_isoc99_scanf,
    __isoc99_fscanf => dynchk_shim_isoc99_fscanf,
    __isoc99_sscanf => dynchk_shim_isoc99_sscanf,
}

/// Defines the `v*` members: `name(a0, a1) => Which`, with the leading parameters before `fmt`.
macro_rules! v_members {
    ($($idx:literal $name:ident($($p:ident: $t:ty),*) => $which:ident -> $ret:ty;)*) => {
        $(
            #[doc = concat!("`", stringify!($name), "(3)`.")]
            #[no_mangle]
            pub unsafe extern "C-unwind" fn $name($($p: $t,)* fmt: *const c_char, ap: VaList) -> $ret {
                let lead: [usize; 2] = v_members!(@lead $($p),*);
                // SAFETY: the caller's arguments.
                let r = unsafe { format_call(&IFACES[$idx], Which::$which, lead[0], lead[1], fmt, ap) };
                r as $ret
            }
        )*
    };
    (@lead) => { [0, 0] };
    (@lead $a:ident) => { [$a as usize, 0] };
    (@lead $a:ident, $b:ident) => { [$a as usize, $b as usize] };
}

v_members! {
    13 vprintf() => Printf -> c_int;
    14 vfprintf(stream: *mut libc::FILE) => Fprintf -> c_int;
    15 vsprintf(str: *mut c_char) => Sprintf -> c_int;
    16 vsnprintf(str: *mut c_char, size: usize) => Snprintf -> c_int;
    17 vdprintf(fd: c_int) => Dprintf -> c_int;
    18 vasprintf(strp: *mut *mut c_char) => Asprintf -> c_int;
    20 vscanf() => Scanf -> c_int;
    21 vfscanf(stream: *mut libc::FILE) => Fscanf -> c_int;
    22 vsscanf(str: *const c_char) => Sscanf -> c_int;
    23 __isoc99_vscanf() => Isoc99Scanf -> c_int;
    24 __isoc99_vfscanf(stream: *mut libc::FILE) => Isoc99Fscanf -> c_int;
    25 __isoc99_vsscanf(str: *const c_char) => Isoc99Sscanf -> c_int;
}

/// `vsyslog(3)`.
#[no_mangle]
pub unsafe extern "C-unwind" fn vsyslog(priority: c_int, fmt: *const c_char, ap: VaList) {
    // SAFETY: the caller's arguments.
    unsafe { format_call(&IFACES[19], Which::Syslog, priority as usize, 0, fmt, ap) };
}
