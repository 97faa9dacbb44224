//! The printf, scanf and syslog families. The variadic ones are C shim bodies (shim/shim.c) that
//! build a `va_list` and call [`dynchk_format_call`]; the `v*` ones receive the `va_list` directly.
//! Both forward to the C library's `v*` function with the caller's `va_list` untouched.
//!
//! On x86-64 a `va_list` argument is a pointer to the caller's `__va_list_tag`, so it crosses the
//! Rust code as `*mut c_void`.

use core::ffi::{c_char, c_int, c_long, c_void};
use core::ops::Range;

use validators::format::{self, ArgSource};
use validators::{fd, mem, stream, Fault};

use crate::rt::{self, Iface, Real, Value};

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

/// One member of the families, numbered as shim/shim.c numbers them. The `*Chk` ones are the
/// `_FORTIFY_SOURCE` entry points (`__printf_chk`, …): the plain member's parameters with a
/// `flag` (and for `__s*printf_chk` the object size `slen`) before the format.
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
    PrintfChk,
    FprintfChk,
    SprintfChk,
    SnprintfChk,
    DprintfChk,
    AsprintfChk,
    SyslogChk,
}

/// Members per form: [`IFACES`] holds the variadic ones, then the `v*` ones in the same order.
const MEMBERS: usize = 20;

impl Which {
    const ALL: [Which; MEMBERS] = [
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
        Which::PrintfChk,
        Which::FprintfChk,
        Which::SprintfChk,
        Which::SnprintfChk,
        Which::DprintfChk,
        Which::AsprintfChk,
        Which::SyslogChk,
    ];

    /// The plain member a `_chk` one checks like.
    fn plain(self) -> Which {
        match self {
            Which::PrintfChk => Which::Printf,
            Which::FprintfChk => Which::Fprintf,
            Which::SprintfChk => Which::Sprintf,
            Which::SnprintfChk => Which::Snprintf,
            Which::DprintfChk => Which::Dprintf,
            Which::AsprintfChk => Which::Asprintf,
            Which::SyslogChk => Which::Syslog,
            w => w,
        }
    }

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

    /// How many parameters come before the format: its position.
    fn leads(self) -> usize {
        let plain = match self.plain() {
            Which::Printf | Which::Scanf | Which::Isoc99Scanf => 0,
            Which::Snprintf => 2,
            _ => 1,
        };
        let fortified = match self {
            Which::SprintfChk | Which::SnprintfChk => 2, // flag, slen
            Which::PrintfChk
            | Which::FprintfChk
            | Which::DprintfChk
            | Which::AsprintfChk
            | Which::SyslogChk => 1, // flag
            _ => 0,
        };
        plain + fortified
    }
}

/// The interfaces, variadic first (in [`Which`] order), then their `v*` forms.
static IFACES: [Iface; 2 * MEMBERS] = {
    const fn i(name: &'static str, version: &'static str) -> Iface {
        Iface::new(name, "libc", version)
    }
    const V: &str = "GLIBC_2.2.5";
    const C99: &str = "GLIBC_2.7";
    const CHK: &str = "GLIBC_2.3.4";
    const CHK8: &str = "GLIBC_2.8";
    const CHK4: &str = "GLIBC_2.4";
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
        i("__printf_chk", CHK),
        i("__fprintf_chk", CHK),
        i("__sprintf_chk", CHK),
        i("__snprintf_chk", CHK),
        i("__dprintf_chk", CHK8),
        i("__asprintf_chk", CHK8),
        i("__syslog_chk", CHK4),
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
        i("__vprintf_chk", CHK),
        i("__vfprintf_chk", CHK),
        i("__vsprintf_chk", CHK),
        i("__vsnprintf_chk", CHK),
        i("__vdprintf_chk", CHK8),
        i("__vasprintf_chk", CHK8),
        i("__vsyslog_chk", CHK4),
    ]
};

/// The C library's `v*` function each member forwards to.
static REALS: [Real; MEMBERS] = [
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
    Real::new(c"__vprintf_chk", c"GLIBC_2.3.4"),
    Real::new(c"__vfprintf_chk", c"GLIBC_2.3.4"),
    Real::new(c"__vsprintf_chk", c"GLIBC_2.3.4"),
    Real::new(c"__vsnprintf_chk", c"GLIBC_2.3.4"),
    Real::new(c"__vdprintf_chk", c"GLIBC_2.8"),
    Real::new(c"__vasprintf_chk", c"GLIBC_2.8"),
    Real::new(c"__vsyslog_chk", c"GLIBC_2.4"),
];

/// Calls `real` with the leading parameters `lead[..n]`, then `fmt` and `ap`. Every leading
/// parameter is an integer or a pointer, so each travels in its own register whatever its C
/// type; `int` ones are read from the low half, as the C convention does.
///
/// # Safety
/// `real` must be a `v*` function with `n` such leading parameters returning `int` (or `void`,
/// whose result the caller ignores).
unsafe fn call_v(real: &Real, n: usize, lead: [usize; 4], fmt: *const c_char, ap: VaList) -> c_int {
    type F0 = unsafe extern "C-unwind" fn(*const c_char, VaList) -> c_int;
    type F1 = unsafe extern "C-unwind" fn(usize, *const c_char, VaList) -> c_int;
    type F2 = unsafe extern "C-unwind" fn(usize, usize, *const c_char, VaList) -> c_int;
    type F3 = unsafe extern "C-unwind" fn(usize, usize, usize, *const c_char, VaList) -> c_int;
    type F4 =
        unsafe extern "C-unwind" fn(usize, usize, usize, usize, *const c_char, VaList) -> c_int;
    let [a, b, c, d] = lead;
    // SAFETY: the caller's promise.
    unsafe {
        match n {
            0 => real.get::<F0>()(fmt, ap),
            1 => real.get::<F1>()(a, fmt, ap),
            2 => real.get::<F2>()(a, b, fmt, ap),
            3 => real.get::<F3>()(a, b, c, fmt, ap),
            _ => real.get::<F4>()(a, b, c, d, fmt, ap),
        }
    }
}

/// Checks the fixed parameters and forwards to the `v*` original. `lead` are the parameters
/// before the format (unused ones 0); the result is widened to `c_long` (0 for `syslog`).
unsafe fn format_call(
    iface: &'static Iface,
    which: Which,
    lead: [usize; 4],
    fmt: *const c_char,
    ap: VaList,
) -> c_long {
    let real = &REALS[which as usize];
    let forward = |ap: VaList| -> c_long {
        // SAFETY: REALS[which] has `leads()` leading parameters; the caller's arguments and
        // va_list (or a copy made before anything read it) are passed unchanged.
        let r = unsafe { call_v(real, which.leads(), lead, fmt, ap) };
        match which.plain() {
            Which::Syslog => 0,
            _ => r as c_long,
        }
    };
    let Some(call) = rt::enter(iface) else {
        return forward(ap);
    };
    // Nothing since `enter` can have changed it: the program's errno, for a call made here.
    let errno = rt::sys::errno();
    let [a0, a1, ..] = lead;
    // SAFETY: validators read only memory they have proven mapped.
    unsafe {
        match which.plain() {
            Which::Snprintf if a1 > 0 => {
                check!(
                    call,
                    0,
                    "str",
                    Value::Pointer(a0 as u64),
                    mem::writable(a0 as *const c_void, a1)
                )
            }
            Which::Asprintf => check!(
                call,
                0,
                "strp",
                Value::Pointer(a0 as u64),
                mem::writable(a0 as *const c_void, size_of::<usize>())
            ),
            Which::Dprintf => check!(
                call,
                0,
                "fd",
                Value::Signed(a0 as c_int as i64),
                fd::open(a0 as c_int as i64)
            ),
            Which::Sscanf | Which::Isoc99Sscanf => {
                check!(
                    call,
                    0,
                    "str",
                    Value::Pointer(a0 as u64),
                    mem::string(a0 as *const c_void)
                )
            }
            Which::Fprintf | Which::Fscanf | Which::Isoc99Fscanf => {
                check!(
                    call,
                    0,
                    "stream",
                    Value::Pointer(a0 as u64),
                    stream::file(a0 as *const c_void)
                )
            }
            _ => {}
        }
        let sprintf = matches!(which.plain(), Which::Sprintf);
        // __sprintf_chk's slen is the compiler's size of the destination object (or
        // (size_t)-1 when unknown): a stack array the memory map cannot bound.
        let slen = match which {
            Which::SprintfChk => lead[2],
            _ => usize::MAX,
        };
        // Where a sprintf could format straight into its destination: the bytes the memory map
        // says it may write there, unless the format or a string argument reads the first of
        // them (see `sprintf_room`).
        let room = if sprintf {
            mem::room(a0 as *const c_void).map(|r| r.min(slen))
        } else {
            None
        };
        let watch = room.map(|_| a0..a0 + 1);
        let (clean, reads_first) = check_format(&call, which, fmt, ap, watch);
        if clean && sprintf {
            let room = room.filter(|_| !reads_first);
            // A copy for the forwarded call: `sprintf_room` consumes `ap`.
            let mut again = VaArgs::copy(ap);
            let need = match sprintf_room(which, lead, room, fmt, ap, errno) {
                Room::Fitted(result) => return result,
                Room::Needs(need) => need,
                Room::Unknown => return call.forward(|| forward((&raw mut again.0).cast())),
            };
            let verdict = if need > slen {
                Err(Fault::new(
                    "RWaddress",
                    format_args!(
                        "{a0:#x} is a {slen}-byte object; the formatted output needs {need} bytes"
                    ),
                ))
            } else {
                mem::writable(a0 as *const c_void, need)
            };
            check!(call, 0, "str", Value::Pointer(a0 as u64), verdict);
            return call.forward(|| forward((&raw mut again.0).cast()));
        }
    }
    call.forward(|| forward(ap))
}

/// What [`sprintf_room`] found of a `sprintf`'s output.
enum Room {
    /// It fitted where it went and has been written: the call's result.
    Fitted(c_long),
    /// It needs this many bytes (its formatted length and NUL), more than its room or unchecked.
    Needs(usize),
    /// Its length is unknown (a formatting error): the real call decides.
    Unknown,
}

/// Formats a `sprintf`'s output (the `lead` parameters, then `fmt` and `ap`) for the check of its
/// destination.
///
/// With a `room` (the bytes from the destination to the end of its region or heap block, at most
/// `__sprintf_chk`'s object size), the real function formats straight into it, bounded by that
/// room (`__vsnprintf_chk` keeps `__sprintf_chk`'s `flag`): one formatting per call. Only output
/// that did not fit, a violation, is formatted again, by the unbounded original as the program
/// asked. Output that fits is the unbounded call's, byte for byte and store for store, except
/// that glibc's bounded formatting first stores a NUL at the destination's first byte: so the
/// caller passes no room when the format or a string argument reads that byte
/// (`sprintf(buf, "%s/%s", buf, name)`). Without a room a `vsnprintf` that writes nothing
/// measures the output. Both run inside the checker, with the program's `errno` restored first,
/// as the forwarded call would have seen it.
///
/// # Safety
/// `ap` is the call's `va_list`, its arguments checked; it is consumed.
unsafe fn sprintf_room(
    which: Which,
    lead: [usize; 4],
    room: Option<usize>,
    fmt: *const c_char,
    ap: VaList,
    errno: c_int,
) -> Room {
    let dst = lead[0];
    rt::sys::set_errno(errno);
    let n = match room {
        Some(max) => {
            let (bounded, lead) = match which {
                Which::SprintfChk => (Which::SnprintfChk, [dst, max, lead[1], lead[2]]),
                _ => (Which::Snprintf, [dst, max, 0, 0]),
            };
            // SAFETY: the bounded member's parameters; `max` bytes at `dst` are writable.
            let n = unsafe { call_v(&REALS[bounded as usize], bounded.leads(), lead, fmt, ap) };
            if n >= 0 && (n as usize) < max {
                return Room::Fitted(n.into());
            }
            n
        }
        // SAFETY: vsnprintf with no destination writes nothing.
        None => unsafe { call_v(&REALS[Which::Snprintf as usize], 2, [0; 4], fmt, ap) },
    };
    match usize::try_from(n) {
        Ok(n) => Room::Needs(n + 1),
        Err(_) => Room::Unknown,
    }
}

/// Walks the format against a copy of the arguments: the format itself at its position, each
/// argument at its own (after the format), named `...`.
///
/// Returns whether nothing was wrong, and whether the format or a string it prints reads memory
/// in `watch`.
///
/// # Safety
/// `ap` must be the call's live `va_list`.
unsafe fn check_format(
    call: &rt::Call,
    which: Which,
    fmt: *const c_char,
    ap: VaList,
    watch: Option<Range<usize>>,
) -> (bool, bool) {
    let pos = which.leads() as i32;
    let mut clean = true;
    let mut read_watched = false;
    let mut reads = |read: Range<usize>| {
        read_watched |= watch
            .as_ref()
            .is_some_and(|w| read.start < w.end && w.start < read.end)
    };
    // SAFETY: the caller's va_list.
    let mut args = unsafe { VaArgs::copy(ap) };
    let mut bad_arg = |i: usize, f: Fault| {
        clean = false;
        call.violation(pos + 1 + i as i32, "...", Value::Pointer(0), &f)
    };
    // SAFETY: the walk fetches the arguments the format describes and reads memory only where
    // the memory map allows.
    let verdict = unsafe {
        if which.scans() {
            format::scanf(fmt.cast(), &mut args, &mut bad_arg)
        } else {
            format::printf_reading(fmt.cast(), &mut args, &mut bad_arg, &mut reads)
        }
    };
    clean &= verdict.is_ok();
    check!(call, pos, "format", Value::Pointer(fmt as u64), verdict);
    (clean, read_watched)
}

/// Called by the C shim bodies of the variadic members (`which` as shim/shim.c numbers them;
/// `lead` holds the parameters before the format).
#[no_mangle]
pub unsafe extern "C-unwind" fn dynchk_format_call(
    which: c_int,
    lead: *const [usize; 4],
    fmt: *const c_char,
    ap: VaList,
) -> c_long {
    let w = Which::ALL[which as usize];
    // SAFETY: the shim passes the caller's arguments.
    unsafe { format_call(&IFACES[which as usize], w, *lead, fmt, ap) }
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
    __printf_chk => dynchk_shim_printf_chk,
    __fprintf_chk => dynchk_shim_fprintf_chk,
    __sprintf_chk => dynchk_shim_sprintf_chk,
    __snprintf_chk => dynchk_shim_snprintf_chk,
    __dprintf_chk => dynchk_shim_dprintf_chk,
    __asprintf_chk => dynchk_shim_asprintf_chk,
    __syslog_chk => dynchk_shim_syslog_chk,
}

/// Defines the `v*` members: `name(leading parameters) => Which -> return type`.
macro_rules! v_members {
    ($($name:ident($($p:ident: $t:ty),*) => $which:ident -> $ret:tt;)*) => {
        $(
            #[doc = concat!("`", stringify!($name), "(3)`.")]
            #[no_mangle]
            pub unsafe extern "C-unwind" fn $name($($p: $t,)* fmt: *const c_char, ap: VaList) -> $ret {
                let mut lead = [0usize; 4];
                let given = [$($p as usize),*];
                lead[..given.len()].copy_from_slice(&given);
                let iface = &IFACES[MEMBERS + Which::$which as usize];
                // SAFETY: the caller's arguments.
                let r = unsafe { format_call(iface, Which::$which, lead, fmt, ap) };
                v_members!(@ret r $ret)
            }
        )*
    };
    (@ret $r:ident ()) => {{ let _ = $r; }};
    (@ret $r:ident $ret:tt) => { $r as $ret };
}

v_members! {
    vprintf() => Printf -> c_int;
    vfprintf(stream: *mut libc::FILE) => Fprintf -> c_int;
    vsprintf(str: *mut c_char) => Sprintf -> c_int;
    vsnprintf(str: *mut c_char, size: usize) => Snprintf -> c_int;
    vdprintf(fd: c_int) => Dprintf -> c_int;
    vasprintf(strp: *mut *mut c_char) => Asprintf -> c_int;
    vsyslog(priority: c_int) => Syslog -> ();
    vscanf() => Scanf -> c_int;
    vfscanf(stream: *mut libc::FILE) => Fscanf -> c_int;
    vsscanf(str: *const c_char) => Sscanf -> c_int;
    __isoc99_vscanf() => Isoc99Scanf -> c_int;
    __isoc99_vfscanf(stream: *mut libc::FILE) => Isoc99Fscanf -> c_int;
    __isoc99_vsscanf(str: *const c_char) => Isoc99Sscanf -> c_int;
    __vprintf_chk(flag: c_int) => PrintfChk -> c_int;
    __vfprintf_chk(stream: *mut libc::FILE, flag: c_int) => FprintfChk -> c_int;
    __vsprintf_chk(str: *mut c_char, flag: c_int, slen: usize) => SprintfChk -> c_int;
    __vsnprintf_chk(str: *mut c_char, maxlen: usize, flag: c_int, slen: usize) => SnprintfChk -> c_int;
    __vdprintf_chk(fd: c_int, flag: c_int) => DprintfChk -> c_int;
    __vasprintf_chk(strp: *mut *mut c_char, flag: c_int) => AsprintfChk -> c_int;
    __vsyslog_chk(priority: c_int, flag: c_int) => SyslogChk -> ();
}
