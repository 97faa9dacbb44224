//! `format`: printf and scanf format strings and the variadic arguments they describe.
//!
//! A walk first plans the whole format (which argument positions exist, the C type each one is
//! fetched as, and what to check of it), then fetches the arguments strictly in order, then runs
//! the checks. Planning first is what `%n$` positions need (a `va_list` can only be read in
//! order, and with the right type: an `int` and a `double` live in different register areas); the
//! plain sequential case takes the same path.

use crate::{mem, text::Quoted, Fault, Verdict};
use core::ffi::c_void;
use core::mem::MaybeUninit;
use core::ops::Range;

const CHECK: &str = "format";

/// Argument positions a walk can plan; later arguments are not checked.
const MAX_ARGS: usize = 64;

/// Where the arguments of a variadic call come from; the runtime implements it over a copy of
/// the call's `va_list` (through its C shim). Each method reads the next argument as that C type.
pub trait ArgSource {
    /// Next argument as `int` (also `char`, `short`, `wint_t` after promotion), sign-extended.
    fn next_int(&mut self) -> i64;
    /// Next argument as `long` (also `long long`, `size_t`, `intmax_t`, `ptrdiff_t`).
    fn next_long(&mut self) -> i64;
    /// Next argument as a pointer.
    fn next_ptr(&mut self) -> usize;
    /// Skips a `double` (also a promoted `float`).
    fn next_double(&mut self);
    /// Skips a `long double`.
    fn next_long_double(&mut self);
    /// Next argument as a pointer, or `None` where it would be read from memory that is not
    /// readable: a list whose end only its values tell (a NULL sentinel) may be walked past the
    /// arguments the caller passed.
    fn next_ptr_readable(&mut self) -> Option<usize> {
        Some(self.next_ptr())
    }
}

/// The variadic arguments of a call as an x86-64 `va_list` describes them: integer and pointer
/// arguments in the register save area's first 48 bytes (from `gp_offset`), floating ones in its
/// next 128 (from `fp_offset`), the rest in the caller's stack (`overflow`). Walking advances this
/// copy only, so the call's own `va_list` (or registers) reach the C library untouched.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct VaList {
    gp_offset: u32,
    fp_offset: u32,
    overflow: usize,
    reg_save: usize,
}

/// Where the integer registers end and the floating ones do, in a register save area.
const GP_END: u32 = 48;
const FP_END: u32 = GP_END + 8 * 16;

impl VaList {
    /// The arguments after `ints` integer and `sse` floating named parameters, from the register
    /// save area `saved` of an interposer trampoline (the ABI's layout: rdi..r9, then xmm0..7;
    /// the caller's stack arguments start 208 bytes above it, past the area, the saved frame
    /// pointer and the return address).
    ///
    /// # Safety
    /// `saved` must be such an area, live for the walk.
    pub unsafe fn after(saved: *const c_void, ints: u32, sse: u32) -> VaList {
        VaList {
            gp_offset: 8 * ints,
            fp_offset: GP_END + 16 * sse,
            overflow: saved as usize + 208,
            reg_save: saved as usize,
        }
    }

    /// A copy of the `va_list` a `v*` function received (on x86-64 the parameter points to the
    /// caller's `__va_list_tag`); one that is not readable yields no arguments (0 for each).
    ///
    /// # Safety
    /// `ap` must be the call's `va_list` parameter.
    pub unsafe fn copy(ap: *const c_void) -> VaList {
        if ap.is_null() || mem::readable(ap, core::mem::size_of::<VaList>()).is_err() {
            return VaList {
                gp_offset: 0,
                fp_offset: 0,
                overflow: 0,
                reg_save: 0,
            };
        }
        core::ptr::read_unaligned(ap as *const VaList)
    }

    /// The next 8-byte integer-class argument.
    fn word(&mut self) -> u64 {
        if self.reg_save == 0 {
            return 0;
        }
        let at = if self.gp_offset < GP_END {
            self.gp_offset += 8;
            self.reg_save + self.gp_offset as usize - 8
        } else {
            self.overflow += 8;
            self.overflow - 8
        };
        // SAFETY: the ABI put the argument there (the constructors' promise).
        unsafe { core::ptr::read_unaligned(at as *const u64) }
    }
}

impl ArgSource for VaList {
    fn next_ptr_readable(&mut self) -> Option<usize> {
        if self.reg_save != 0 && self.gp_offset >= GP_END {
            // SAFETY: only asks the memory map.
            unsafe { mem::readable(self.overflow as *const c_void, 8) }.ok()?;
        }
        Some(self.word() as usize)
    }
    fn next_int(&mut self) -> i64 {
        self.word() as i32 as i64
    }
    fn next_long(&mut self) -> i64 {
        self.word() as i64
    }
    fn next_ptr(&mut self) -> usize {
        self.word() as usize
    }
    fn next_double(&mut self) {
        if self.fp_offset < FP_END {
            self.fp_offset += 16;
        } else {
            self.overflow += 8;
        }
    }
    fn next_long_double(&mut self) {
        // Always in memory, 16-byte aligned.
        self.overflow = self.overflow.next_multiple_of(16) + 16;
    }
}

/// The C type an argument is fetched as.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Arg {
    Int,
    Long,
    Ptr,
    Double,
    LongDouble,
}

impl Arg {
    /// Arguments of one class can share a position (they sit in the same register area).
    fn class(self) -> u8 {
        match self {
            Arg::Int | Arg::Long | Arg::Ptr => 0,
            Arg::Double => 1,
            Arg::LongDouble => 2,
        }
    }

    fn name(self) -> &'static str {
        match self.class() {
            0 => "an integer or pointer",
            1 => "a double",
            _ => "a long double",
        }
    }
}

/// How far a string argument may be read.
#[derive(Clone, Copy)]
enum Limit {
    None,
    Fixed(usize),
    /// The precision comes from the `int` argument at this position (`%.*s`); negative = none.
    Arg(usize),
}

/// What to check of a pointer argument.
#[derive(Clone, Copy)]
enum Dest {
    Str { wide: bool, limit: Limit },
    Writable(usize),
}

#[derive(Clone, Copy)]
struct Use {
    pos: usize,
    dest: Dest,
}

/// Why planning stopped early.
enum Stop {
    /// The format is wrong: report it, check nothing.
    Bad(Fault),
    /// More than [`MAX_ARGS`] arguments: check the ones planned.
    Full,
}

impl From<Fault> for Stop {
    fn from(f: Fault) -> Stop {
        Stop::Bad(f)
    }
}

/// A plan's argument checks, in format order. The storage is the caller's and left
/// uninitialised: a walk runs on every printf call, and zeroing or moving 64 entries cost more
/// than the rest of a typical walk.
type Uses = [MaybeUninit<Use>; MAX_ARGS];

struct Plan<'u> {
    types: [Option<Arg>; MAX_ARGS],
    /// One past the highest position with a type: the arguments to fetch.
    count: usize,
    /// `uses[..n_uses]` are written.
    uses: &'u mut Uses,
    n_uses: usize,
    next: usize,
    positional: Option<bool>,
}

impl<'u> Plan<'u> {
    fn new(uses: &'u mut Uses) -> Plan<'u> {
        Plan {
            types: [None; MAX_ARGS],
            count: 0,
            uses,
            n_uses: 0,
            next: 0,
            positional: None,
        }
    }

    fn uses(&self) -> &[Use] {
        // SAFETY: `check` wrote the first `n_uses`; MaybeUninit<Use> has Use's layout.
        unsafe { core::slice::from_raw_parts(self.uses.as_ptr().cast(), self.n_uses) }
    }

    /// The 0-based position of the next argument reference, explicit (`%3$`) or sequential.
    fn slot(&mut self, explicit: Option<usize>) -> Result<usize, Stop> {
        let positional = explicit.is_some();
        if *self.positional.get_or_insert(positional) != positional {
            return Err(Stop::Bad(Fault::new(
                CHECK,
                format_args!("mixes numbered (%n$) and unnumbered argument references"),
            )));
        }
        let pos = match explicit {
            Some(0) => {
                return Err(Stop::Bad(Fault::new(
                    CHECK,
                    format_args!("refers to argument 0 (%0$)"),
                )))
            }
            Some(n) => n - 1,
            None => {
                self.next += 1;
                self.next - 1
            }
        };
        if pos >= MAX_ARGS {
            return Err(Stop::Full);
        }
        Ok(pos)
    }

    fn want(&mut self, pos: usize, arg: Arg) -> Result<(), Stop> {
        match self.types[pos] {
            Some(old) if old.class() != arg.class() => Err(Stop::Bad(Fault::new(
                CHECK,
                format_args!(
                    "uses argument {} both as {} and as {}",
                    pos + 1,
                    old.name(),
                    arg.name()
                ),
            ))),
            // Long and pointer are the wider reads of the integer class.
            Some(Arg::Long | Arg::Ptr) => Ok(()),
            _ => {
                self.types[pos] = Some(arg);
                self.count = self.count.max(pos + 1);
                Ok(())
            }
        }
    }

    fn check(&mut self, pos: usize, dest: Dest) -> Result<(), Stop> {
        self.want(pos, Arg::Ptr)?;
        let slot = self.uses.get_mut(self.n_uses).ok_or(Stop::Full)?;
        slot.write(Use { pos, dest });
        self.n_uses += 1;
        Ok(())
    }

    /// Fetches every planned argument in order, then checks the pointers, passing `reads` the
    /// bytes each string spans (to its NUL, or as far as its precision lets the conversion read;
    /// to the end of the address space where that is not known). A plan cut short
    /// (`complete == false`) may lack positions the rest of the format would have named, so only
    /// the arguments before its first gap are fetched and checked, and `reads` is told that
    /// anything may be read.
    fn run(
        &self,
        complete: bool,
        args: &mut dyn ArgSource,
        report: &mut dyn FnMut(usize, Fault),
        reads: &mut dyn FnMut(Range<usize>),
    ) -> Verdict {
        if !complete {
            reads(0..usize::MAX);
        }
        let mut count = self.count;
        if let Some(gap) = self.types[..count].iter().position(Option::is_none) {
            if !complete {
                count = gap;
            } else {
                return Err(Fault::new(
                    CHECK,
                    format_args!(
                        "never uses argument {}, so the ones after it cannot be found",
                        gap + 1
                    ),
                ));
            }
        }
        // Only `values[..count]` is written (every position before `count` has a type) and read.
        let mut values = [MaybeUninit::<usize>::uninit(); MAX_ARGS];
        for (value, arg) in values.iter_mut().zip(self.types[..count].iter().flatten()) {
            value.write(match arg {
                Arg::Int => args.next_int() as usize,
                Arg::Long => args.next_long() as usize,
                Arg::Ptr => args.next_ptr(),
                Arg::Double => {
                    args.next_double();
                    0
                }
                Arg::LongDouble => {
                    args.next_long_double();
                    0
                }
            });
        }
        // SAFETY: positions below `count` were written above.
        let value = |at: usize| unsafe { values[at].assume_init() };
        for u in self.uses().iter().filter(|u| u.pos < count) {
            let p = value(u.pos);
            let verdict = match u.dest {
                Dest::Writable(size) => unsafe { mem::writable(p as *const c_void, size) },
                Dest::Str { wide, limit } => {
                    let max = match limit {
                        Limit::None => usize::MAX,
                        Limit::Fixed(n) => n,
                        // An int precision, sign-extended on fetch: negative means none.
                        Limit::Arg(at) if at >= count => continue,
                        Limit::Arg(at) => usize::try_from(value(at) as i32).unwrap_or(usize::MAX),
                    };
                    let (len, unit) = if max == 0 {
                        // Precision 0 reads nothing, not even from NULL.
                        (Ok(Some(0)), 0)
                    } else if wide {
                        (mem::wcslen(p, max, "string"), size_of::<libc::wchar_t>())
                    } else {
                        (mem::strlen(p, max, "string"), 1)
                    };
                    len.map(|len| {
                        let span = len.map_or(usize::MAX, |n| {
                            n.saturating_add(1).min(max).saturating_mul(unit)
                        });
                        reads(p..p.saturating_add(span));
                    })
                }
            };
            if let Err(f) = verdict {
                report(u.pos, f);
            }
        }
        Ok(())
    }
}

/// Length modifiers, by the size of the integer they select.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Len {
    Char,
    Short,
    Default,
    /// `l`: also selects wide characters and strings, and `double` in scanf.
    Long,
    /// `ll`, `q`, `j`, `z`, `Z`, `t`.
    Wide,
    /// `L`: `long double`, or `long long` for integers (glibc).
    Double,
}

impl Len {
    fn int_size(self) -> usize {
        match self {
            Len::Char => 1,
            Len::Short => 2,
            Len::Default => 4,
            Len::Long | Len::Wide | Len::Double => 8,
        }
    }

    fn int_arg(self) -> Arg {
        if self.int_size() == 8 {
            Arg::Long
        } else {
            Arg::Int
        }
    }
}

/// A cursor over the format bytes.
struct Cursor<'a> {
    f: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.f.get(self.i).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        self.i += hit as usize;
        hit
    }

    fn number(&mut self) -> Option<usize> {
        let start = self.i;
        let mut n = 0usize;
        while let Some(d @ b'0'..=b'9') = self.peek() {
            n = n.saturating_mul(10).saturating_add((d - b'0') as usize);
            self.i += 1;
        }
        (self.i > start).then_some(n)
    }

    /// `N$`, or nothing (the cursor is left where it was).
    fn position(&mut self) -> Option<usize> {
        let start = self.i;
        match self.number() {
            Some(n) if self.eat(b'$') => Some(n),
            _ => {
                self.i = start;
                None
            }
        }
    }

    fn length(&mut self) -> Len {
        let len = match self.peek() {
            Some(b'h') if self.f.get(self.i + 1) == Some(&b'h') => {
                self.i += 1;
                Len::Char
            }
            Some(b'h') => Len::Short,
            Some(b'l') if self.f.get(self.i + 1) == Some(&b'l') => {
                self.i += 1;
                Len::Wide
            }
            Some(b'l') => Len::Long,
            Some(b'q' | b'j' | b'z' | b'Z' | b't') => Len::Wide,
            Some(b'L') => Len::Double,
            _ => return Len::Default,
        };
        self.i += 1;
        len
    }

    /// The conversion character, or a fault quoting the spec that started at `start`.
    fn conversion(&mut self, start: usize, what: &str) -> Result<u8, Fault> {
        match self.peek() {
            Some(c) => {
                self.i += 1;
                Ok(c)
            }
            None => Err(Fault::new(
                CHECK,
                format_args!(
                    "ends inside the {what} conversion {}",
                    Quoted(&self.f[start..])
                ),
            )),
        }
    }

    fn unknown(&self, start: usize, what: &str) -> Fault {
        Fault::new(
            CHECK,
            format_args!(
                "{} is not a {what} conversion",
                Quoted(&self.f[start..self.i])
            ),
        )
    }
}

/// The format string itself: readable and NUL-terminated (checked as `format`).
///
/// # Safety
/// Read only as far as the memory map says it is readable; `None` when the map cannot tell.
unsafe fn format_bytes<'a>(fmt: *const c_void) -> Result<Option<&'a [u8]>, Fault> {
    let len = mem::strlen(fmt as usize, usize::MAX, CHECK)?;
    Ok(len.map(|len| crate::text::bytes(fmt as usize, len)))
}

/// Walks a printf format: the format must be a readable string (a fault of it is returned);
/// each argument fault is passed to `report` with the 0-based index of the variadic argument:
/// `%s`/`%ls` a readable string (or as many bytes as the precision allows), `%n` writable for its
/// size; `%p`, `%c`, `%d` and the floating conversions are fetched, not checked.
///
/// # Safety
/// `args` must describe the call's real arguments; strings are read only where the memory map
/// says they are readable.
pub unsafe fn printf(
    fmt: *const c_void,
    args: &mut dyn ArgSource,
    report: &mut dyn FnMut(usize, Fault),
) -> Verdict {
    // SAFETY: the caller's.
    unsafe { printf_reading(fmt, args, report, &mut |_| {}) }
}

/// [`printf`], also passing `reads` every span of memory the format and the strings it prints
/// occupy (the whole address space where a span is not known), so that a caller can tell
/// whether the conversions read bytes it is about to write.
///
/// # Safety
/// As [`printf`].
pub unsafe fn printf_reading(
    fmt: *const c_void,
    args: &mut dyn ArgSource,
    report: &mut dyn FnMut(usize, Fault),
    reads: &mut dyn FnMut(Range<usize>),
) -> Verdict {
    let fmt = fmt as usize;
    let Some(f) = format_bytes(fmt as *const c_void)? else {
        reads(0..usize::MAX);
        return Ok(());
    };
    reads(fmt..fmt + f.len() + 1);
    let mut uses = [MaybeUninit::uninit(); MAX_ARGS];
    let mut plan = Plan::new(&mut uses);
    match plan_printf(f, &mut plan) {
        Err(Stop::Bad(fault)) => Err(fault),
        Ok(()) => plan.run(true, args, report, reads),
        Err(Stop::Full) => plan.run(false, args, report, reads),
    }
}

/// A `*` or `*N$` width or precision, planned as an `int` argument; its position, if any.
fn star(c: &mut Cursor<'_>, plan: &mut Plan<'_>) -> Result<Option<usize>, Stop> {
    if !c.eat(b'*') {
        return Ok(None);
    }
    let explicit = c.position();
    let pos = plan.slot(explicit)?;
    plan.want(pos, Arg::Int)?;
    Ok(Some(pos))
}

fn plan_printf(f: &[u8], plan: &mut Plan<'_>) -> Result<(), Stop> {
    let mut c = Cursor { f, i: 0 };
    while let Some(b) = c.peek() {
        c.i += 1;
        if b != b'%' {
            continue;
        }
        let start = c.i - 1;
        if c.eat(b'%') {
            continue;
        }
        let explicit = c.position();
        while matches!(
            c.peek(),
            Some(b'-' | b'+' | b' ' | b'#' | b'0' | b'\'' | b'I')
        ) {
            c.i += 1;
        }
        if star(&mut c, plan)?.is_none() {
            c.number();
        }
        let mut limit = Limit::None;
        if c.eat(b'.') {
            limit = match star(&mut c, plan)? {
                Some(pos) => Limit::Arg(pos),
                None => Limit::Fixed(c.number().unwrap_or(0)),
            };
        }
        let len = c.length();
        let conv = c.conversion(start, "printf")?;
        let arg = match conv {
            b'%' | b'm' => continue,
            b'd' | b'i' | b'o' | b'u' | b'x' | b'X' | b'b' | b'B' => len.int_arg(),
            b'c' | b'C' => Arg::Int,
            b'f' | b'F' | b'e' | b'E' | b'g' | b'G' | b'a' | b'A' if len == Len::Double => {
                Arg::LongDouble
            }
            b'f' | b'F' | b'e' | b'E' | b'g' | b'G' | b'a' | b'A' => Arg::Double,
            b'p' => Arg::Ptr,
            b's' | b'S' => {
                let pos = plan.slot(explicit)?;
                plan.check(
                    pos,
                    Dest::Str {
                        wide: conv == b'S' || len == Len::Long,
                        limit,
                    },
                )?;
                continue;
            }
            b'n' => {
                let pos = plan.slot(explicit)?;
                plan.check(pos, Dest::Writable(len.int_size()))?;
                continue;
            }
            _ => return Err(Stop::Bad(c.unknown(start, "printf"))),
        };
        let pos = plan.slot(explicit)?;
        plan.want(pos, arg)?;
    }
    Ok(())
}

/// Walks a scanf format: the format must be a readable string; every destination must be
/// writable for what the conversion stores (`%d` 4 bytes, `%ld` 8, `%lf` 8, `%5s` 6, `%c` 1,
/// `%3lc` 12, `%ms` a `char *`; `%s` and `%[` without a width at least their NUL); suppressed
/// conversions (`%*d`) take no argument. Faults go to `report` with the variadic index.
///
/// # Safety
/// As [`printf`].
pub unsafe fn scanf(
    fmt: *const c_void,
    args: &mut dyn ArgSource,
    report: &mut dyn FnMut(usize, Fault),
) -> Verdict {
    let Some(f) = format_bytes(fmt)? else {
        return Ok(());
    };
    let mut uses = [MaybeUninit::uninit(); MAX_ARGS];
    let mut plan = Plan::new(&mut uses);
    match plan_scanf(f, &mut plan) {
        Err(Stop::Bad(fault)) => Err(fault),
        Ok(()) | Err(Stop::Full) => {
            // Every scanf argument is a pointer, so an unused position can still be skipped.
            let count = plan
                .types
                .iter()
                .rposition(Option::is_some)
                .map_or(0, |i| i + 1);
            for t in &mut plan.types[..count] {
                t.get_or_insert(Arg::Ptr);
            }
            plan.run(true, args, report, &mut |_| {})
        }
    }
}

fn plan_scanf(f: &[u8], plan: &mut Plan<'_>) -> Result<(), Stop> {
    let mut c = Cursor { f, i: 0 };
    while let Some(b) = c.peek() {
        c.i += 1;
        if b != b'%' {
            continue;
        }
        let start = c.i - 1;
        if c.eat(b'%') {
            continue;
        }
        let explicit = c.position();
        let suppress = c.eat(b'*');
        let width = c.number();
        let allocate = c.eat(b'm');
        let len = c.length();
        let conv = c.conversion(start, "scanf")?;
        let unit = if len == Len::Long || matches!(conv, b'S' | b'C') {
            4
        } else {
            1
        };
        let size = match conv {
            b'd' | b'i' | b'o' | b'u' | b'x' | b'X' | b'n' => len.int_size(),
            b'a' | b'A' | b'e' | b'E' | b'f' | b'F' | b'g' | b'G' => match len {
                Len::Long => 8,
                Len::Double => 16,
                _ => 4,
            },
            b'p' => core::mem::size_of::<usize>(),
            b'[' | b's' | b'S' | b'c' | b'C' => {
                if conv == b'[' {
                    skip_set(&mut c, start)?;
                }
                match (allocate, conv, width) {
                    (true, ..) => core::mem::size_of::<usize>(),
                    (false, b'c' | b'C', w) => w.unwrap_or(1).saturating_mul(unit),
                    (false, _, w) => w.unwrap_or(0).saturating_add(1).saturating_mul(unit),
                }
            }
            _ => return Err(Stop::Bad(c.unknown(start, "scanf"))),
        };
        if !suppress {
            let pos = plan.slot(explicit)?;
            plan.check(pos, Dest::Writable(size))?;
        }
    }
    Ok(())
}

/// Skips a `%[` scanset up to its closing `]` (a `]` right after `[` or `[^` is a member).
fn skip_set(c: &mut Cursor<'_>, start: usize) -> Result<(), Fault> {
    c.eat(b'^');
    c.eat(b']');
    while let Some(b) = c.peek() {
        c.i += 1;
        if b == b']' {
            return Ok(());
        }
    }
    Err(Fault::new(
        CHECK,
        format_args!("{} has no closing ]", Quoted(&c.f[start..])),
    ))
}

/// Conversions glibc's `strftime` knows; with the `E` and the `O` modifier, the ones it accepts
/// after each (measured on glibc 2.36: any other is printed as written).
const TIME_CONVERSIONS: &[u8] = b"aAbBcCdDeFgGhHIjklmMnpPrRsStTuUVwWxXyYzZ%";
const TIME_AFTER_E: &[u8] = b"cCnpPrRstTuxXyYzZ%";
const TIME_AFTER_O: &[u8] = b"bBCdegGhHIjklmMnpPrRsStTuUVwWyzZ%";

/// A `strftime` format: a readable string whose every conversion is one the C library knows.
/// C leaves any other undefined; glibc prints it as written, so it is a `portability` fault.
///
/// # Safety
/// Read only where the memory map says the string is readable.
pub unsafe fn strftime(fmt: *const c_void) -> Verdict {
    let Some(f) = format_bytes(fmt)? else {
        return Ok(());
    };
    time_format(f.len(), |i| f[i] as u32)
}

/// [`strftime`] for `wcsftime`'s wide format.
///
/// # Safety
/// As [`strftime`].
pub unsafe fn wcsftime(fmt: *const c_void) -> Verdict {
    let Some(len) = mem::wcslen(fmt as usize, usize::MAX, CHECK)? else {
        return Ok(());
    };
    let f = fmt as *const u32;
    // SAFETY: wcslen proved the `len` characters readable.
    time_format(len, |i| unsafe { f.add(i).read() })
}

/// Walks `len` format characters (`at(i)` the i-th): `%`, flags, a width, `E` or `O`, a
/// conversion.
fn time_format(len: usize, at: impl Fn(usize) -> u32) -> Verdict {
    let is = |c: u32, set: &[u8]| u8::try_from(c).is_ok_and(|b| set.contains(&b));
    let mut i = 0;
    while i < len {
        i += 1;
        if at(i - 1) != u32::from(b'%') {
            continue;
        }
        let start = i - 1;
        while i < len && is(at(i), b"_-0^#") {
            i += 1;
        }
        while i < len && is(at(i), b"0123456789") {
            i += 1;
        }
        let modifier = (i < len && is(at(i), b"EO")).then(|| {
            i += 1;
            at(i - 1)
        });
        let known = match modifier {
            _ if i >= len => false,
            None => is(at(i), TIME_CONVERSIONS),
            Some(m) if m == u32::from(b'E') => is(at(i), TIME_AFTER_E),
            Some(_) => is(at(i), TIME_AFTER_O),
        };
        if !known {
            let spec = (start..(i + 1).min(len)).map(|j| char::from_u32(at(j)).unwrap_or('?'));
            let mut text = crate::Msg::new();
            for c in spec {
                let _ = core::fmt::Write::write_char(&mut text, c);
            }
            return Err(Fault::new(
                CHECK,
                format_args!(
                    "\"{}\" is not a strftime conversion (glibc prints it as written)",
                    text.as_str()
                ),
            )
            .severity(crate::Severity::Portability));
        }
        i += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{Map, PAGE};

    /// Arguments as the test lays them out, with a log of how each was fetched.
    struct Args {
        values: Vec<usize>,
        log: String,
    }

    impl Args {
        fn new(values: &[usize]) -> Args {
            Args {
                values: values.to_vec(),
                log: String::new(),
            }
        }
        fn take(&mut self, kind: char) -> usize {
            self.log.push(kind);
            if self.values.is_empty() {
                0
            } else {
                self.values.remove(0)
            }
        }
    }

    impl ArgSource for Args {
        fn next_int(&mut self) -> i64 {
            self.take('i') as i32 as i64
        }
        fn next_long(&mut self) -> i64 {
            self.take('l') as i64
        }
        fn next_ptr(&mut self) -> usize {
            self.take('p')
        }
        fn next_double(&mut self) {
            self.take('d');
        }
        fn next_long_double(&mut self) {
            self.take('D');
        }
    }

    type Walker =
        unsafe fn(*const c_void, &mut dyn ArgSource, &mut dyn FnMut(usize, Fault)) -> Verdict;

    /// Runs a walk; returns the format verdict, the argument faults and the fetch log.
    fn walk(
        kind: Walker,
        fmt: &core::ffi::CStr,
        values: &[usize],
    ) -> (String, Vec<String>, String) {
        let mut args = Args::new(values);
        let mut faults = Vec::new();
        let v = unsafe {
            kind(fmt.as_ptr().cast(), &mut args, &mut |i, f| {
                faults.push(format!("{i} {f:?}"))
            })
        };
        let v = v
            .map(|_| "ok".to_owned())
            .unwrap_or_else(|f| format!("{f:?}"));
        (v, faults, args.log)
    }

    #[test]
    fn printf_fetches_each_argument_as_its_type() {
        let s = c"text";
        let mut n = 0i32;
        let (v, faults, log) = walk(
            printf,
            c"%d %s %n %Lf %f %p %c %ld %zu %hhd %% %m %-*.*e|%.*s",
            &[
                1,
                s.as_ptr() as usize,
                &mut n as *mut i32 as usize,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                5,
                2,
                0,
                2,
                s.as_ptr() as usize,
            ],
        );
        assert_eq!(v, "ok");
        assert!(faults.is_empty(), "{faults:?}");
        assert_eq!(log, "ippDdpilliiidip");
    }

    #[test]
    fn printf_checks_strings_and_n_destinations() {
        let (_guard, abc) = Map::before_guard(b"abc");
        let ro = Map::new(1, libc::PROT_READ);
        let (v, faults, _) = walk(
            printf,
            c"%s|%.3s|%.*s|%.*s|%hhn|%ln|%s|%.0s",
            &[
                abc as usize,
                abc as usize,
                3,
                abc as usize,
                4,
                abc as usize,
                ro.0 as usize,
                16,
                0,
                0,
            ],
        );
        assert_eq!(v, "ok");
        let ro = ro.0 as usize;
        assert_eq!(
            faults,
            [
                format!(
                    "0 string: {:#x} is not NUL-terminated within its 3 readable bytes",
                    abc as usize
                ),
                format!(
                    "5 string: {:#x} is not NUL-terminated within its 3 readable bytes",
                    abc as usize
                ),
                format!("6 RWaddress: {ro:#x} is not writable (mapped r--)"),
                "7 RWaddress: 0x10 is not mapped".to_owned(),
                "8 string: NULL".to_owned(),
            ]
        );
    }

    #[test]
    fn printf_wide_strings() {
        let wide: [u32; 3] = ['h' as u32, 'i' as u32, 0];
        let (_guard, unterminated) = Map::before_guard(&[b'x'; 8]);
        let (v, faults, log) = walk(
            printf,
            c"%ls %S %.1ls",
            &[
                wide.as_ptr() as usize,
                unterminated as usize,
                unterminated as usize,
            ],
        );
        assert_eq!((v.as_str(), log.as_str()), ("ok", "ppp"));
        assert_eq!(
            faults,
            [format!(
                "1 string: {:#x} is not NUL-terminated within its 8 readable bytes",
                unterminated as usize
            )]
        );
    }

    #[test]
    fn printf_numbered_arguments_are_fetched_in_order() {
        let s = c"x";
        let (v, faults, log) = walk(
            printf,
            c"%2$s %1$*3$d %3$d %4$Lf",
            &[7, s.as_ptr() as usize, 4, 0],
        );
        assert_eq!((v.as_str(), log.as_str()), ("ok", "ipiD"));
        assert!(faults.is_empty());
        let (_, faults, _) = walk(printf, c"%2$s %1$d", &[7, 0x10]);
        assert_eq!(faults, ["1 string: 0x10 is not mapped"]);
    }

    #[test]
    fn broken_printf_formats() {
        let cases: [(&core::ffi::CStr, &str); 6] = [
            (
                c"%3$d %1$d",
                "format: never uses argument 2, so the ones after it cannot be found",
            ),
            (
                c"%1$d %s",
                "format: mixes numbered (%n$) and unnumbered argument references",
            ),
            (
                c"%1$d %1$f",
                "format: uses argument 1 both as an integer or pointer and as a double",
            ),
            (c"%y", "format: \"%y\" is not a printf conversion"),
            (
                c"abc %5",
                "format: ends inside the printf conversion \"%5\"",
            ),
            (c"%0$d", "format: refers to argument 0 (%0$)"),
        ];
        for (fmt, want) in cases {
            let (v, faults, log) = walk(printf, fmt, &[1, 2, 3]);
            assert_eq!(v, want, "{fmt:?}");
            assert!(
                faults.is_empty() && log.is_empty(),
                "nothing is fetched from a broken format"
            );
        }
        let mut args = Args::new(&[]);
        let v = unsafe { printf(0x10 as *const c_void, &mut args, &mut |_, _| {}) };
        assert_eq!(
            format!("{:?}", v.unwrap_err()),
            "format: 0x10 is not mapped"
        );
    }

    #[test]
    fn printf_with_more_arguments_than_planned_checks_the_first_ones() {
        let fmt = std::ffi::CString::new("%s".repeat(MAX_ARGS + 6)).unwrap();
        let (v, faults, log) = walk(printf, &fmt, &[0x10; MAX_ARGS + 6]);
        assert_eq!(v, "ok");
        assert_eq!(faults.len(), MAX_ARGS);
        assert_eq!(log.len(), MAX_ARGS);
    }

    #[test]
    fn a_plan_cut_short_checks_up_to_its_first_gap() {
        let fmt = std::ffi::CString::new(format!("%1$s %3$s %{}$d %2$s", MAX_ARGS + 1)).unwrap();
        let (v, faults, log) = walk(printf, &fmt, &[0x10, 0x20, 0x30]);
        assert_eq!(
            v, "ok",
            "argument 2 is named after the cut, so its absence proves nothing"
        );
        assert_eq!(log, "p");
        assert_eq!(faults, ["0 string: 0x10 is not mapped"]);
    }

    #[test]
    fn scanf_destinations_must_hold_what_is_stored() {
        let m = Map::new(2, libc::PROT_READ | libc::PROT_WRITE);
        m.protect(PAGE, PAGE, libc::PROT_NONE);
        // The destination for each conversion ends exactly `room` bytes before the guard page.
        let at = |room: usize| m.0 as usize + PAGE - room;
        let (v, faults, log) = walk(
            scanf,
            c"%d %*d %5s %c %3c %lf %Lf %hhd %[^]x] %10[a-z] %ms %2lc %n %p",
            &[
                at(4),
                at(6),
                at(1),
                at(3),
                at(8),
                at(16),
                at(1),
                at(1),
                at(10),
                at(8),
                at(8),
                at(4),
                at(8),
            ],
        );
        assert_eq!(v, "ok");
        assert_eq!(log.len(), 13);
        assert_eq!(
            faults,
            [format!(
                "8 RWaddress: {:#x} is writable for 10 of the 11 bytes",
                at(10)
            )]
        );
        let (v, faults, _) = walk(scanf, c"%4s%d", &[at(4), at(2)]);
        assert_eq!(v, "ok");
        assert_eq!(
            faults,
            [
                format!("0 RWaddress: {:#x} is writable for 4 of the 5 bytes", at(4)),
                format!("1 RWaddress: {:#x} is writable for 2 of the 4 bytes", at(2))
            ]
        );
    }

    #[test]
    fn broken_scanf_formats() {
        let (v, ..) = walk(scanf, c"%[abc", &[0]);
        assert_eq!(v, "format: \"%[abc\" has no closing ]");
        let (v, ..) = walk(scanf, c"%y", &[0]);
        assert_eq!(v, "format: \"%y\" is not a scanf conversion");
        let (v, faults, log) = walk(scanf, c"%2$d", &[0, 0x10]);
        assert_eq!(
            (v.as_str(), log.as_str()),
            ("ok", "pp"),
            "an unused scanf position is still a pointer"
        );
        assert_eq!(faults, ["1 RWaddress: 0x10 is not mapped"]);
    }
    #[test]
    fn a_trampolines_saved_registers_walk_as_a_va_list() {
        // rdi..r9, xmm0..7, rax and padding, the saved rbp and return address, then the stack.
        let mut area = [0u64; 26 + 4];
        area[2] = 7; // rdx: the first variadic after two named integers
        area[3] = 8;
        area[4] = 9;
        area[5] = 10;
        area[26] = 11; // first stack argument (208 bytes in)
        area[27] = 12;
        let mut va = unsafe { VaList::after(area.as_ptr().cast(), 2, 0) };
        let got: Vec<i64> = (0..5).map(|_| va.next_long()).collect();
        assert_eq!(got, [7, 8, 9, 10, 11]);
        // Eight doubles fit in xmm0..7; the ninth comes from the stack.
        let mut va = unsafe { VaList::after(area.as_ptr().cast(), 6, 0) };
        (0..9).for_each(|_| va.next_double());
        assert_eq!(va.next_ptr(), 12);
        // A long double is always on the stack, 16-byte aligned.
        let mut va = unsafe { VaList::after(area.as_ptr().cast(), 6, 0) };
        va.next_long_double();
        assert_eq!(va.overflow, area.as_ptr() as usize + 208 + 16);
    }

    #[test]
    fn an_unreadable_va_list_yields_zeros() {
        let mut va = unsafe { VaList::copy(0x10 as *const c_void) };
        assert_eq!((va.next_ptr(), va.next_int()), (0, 0));
    }

    #[test]
    fn strftime_conversions_are_the_ones_glibc_knows() {
        for ok in [
            c"%Y-%m-%d %H:%M:%S",
            c"%_5d %-d %^a %#Z %Ec %Oy %OB %%",
            c"",
            c"100%%",
        ] {
            assert!(unsafe { strftime(ok.as_ptr().cast()) }.is_ok(), "{ok:?}");
        }
        for (bad, want) in [
            (
                c"at %Q",
                "format: \"%Q\" is not a strftime conversion (glibc prints it as written)",
            ),
            (
                c"%Ed",
                "format: \"%Ed\" is not a strftime conversion (glibc prints it as written)",
            ),
            (
                c"%+4Y",
                "format: \"%+\" is not a strftime conversion (glibc prints it as written)",
            ),
            (
                c"50%",
                "format: \"%\" is not a strftime conversion (glibc prints it as written)",
            ),
            (
                c"%5",
                "format: \"%5\" is not a strftime conversion (glibc prints it as written)",
            ),
        ] {
            let f = unsafe { strftime(bad.as_ptr().cast()) }.unwrap_err();
            assert_eq!(
                (format!("{f:?}"), f.severity),
                (want.to_owned(), crate::Severity::Portability)
            );
        }
        let wide: Vec<u32> = "%H %k %J".chars().map(|c| c as u32).chain([0]).collect();
        let f = unsafe { wcsftime(wide.as_ptr().cast()) }.unwrap_err();
        assert_eq!(
            f.msg.as_str(),
            "\"%J\" is not a strftime conversion (glibc prints it as written)"
        );
        assert_eq!(
            format!(
                "{:?}",
                unsafe { strftime(0x10 as *const c_void) }.unwrap_err()
            ),
            "format: 0x10 is not mapped"
        );
    }
}
