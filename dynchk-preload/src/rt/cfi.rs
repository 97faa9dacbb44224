//! The stack walk behind backtraces: each frame's caller found from the call frame information
//! (`.eh_frame`, through the `.eh_frame_hdr` search table) of the object holding its code.
//!
//! The walk is the checker's own, not the C++ ABI unwinder's `_Unwind_Backtrace`: that one is
//! `libgcc_s.so.1`, and a library needing it at load time makes every program load it at start,
//! with its constructor (`__cpu_indicator_init`, a run of `cpuid`, each an exit to the hypervisor
//! on a virtual machine: 0.10 ms of `/bin/true`'s start on the bench's VM). Loading it at the
//! first report instead would be a `dlopen` in whatever the program was doing then, a signal
//! handler included. This walk allocates nothing, takes no lock but the loader's recursive one
//! (`dl_iterate_phdr`, as the unwinder does), and reads the stack only where the memory map says
//! it is readable, so a smashed stack ends the backtrace instead of faulting.

use core::ffi::{c_int, c_void};

use gimli::{
    BaseAddresses, CfaRule, EhFrame, EhFrameHdr, EndianSlice, Evaluation, EvaluationResult,
    EvaluationStorage, NativeEndian, ParsedEhFrameHdr, Piece, Pointer, Reader, ReaderOffset,
    Register, RegisterRule, UnwindContext, UnwindContextStorage, UnwindSection, UnwindTableRow,
    Value,
};

type Bytes = EndianSlice<'static, NativeEndian>;

#[cfg(target_arch = "x86_64")]
mod arch {
    /// DWARF register numbers: the stack pointer, the return-address column.
    pub const SP: u16 = 7;
    pub const RA: u16 = 16;
    /// The registers tracked across frames: 0–15 and the return address.
    pub const REGS: usize = 17;

    /// This function's registers at one instruction of it: the values the unwinder starts
    /// from. Callee-saved ones (rbx, rbp, r12–r15) matter: callers' frames may be addressed
    /// from them.
    #[inline(always)]
    pub fn here() -> [Option<usize>; REGS] {
        let (ip, sp, bp, bx, r12, r13, r14, r15): (
            usize,
            usize,
            usize,
            usize,
            usize,
            usize,
            usize,
            usize,
        );
        // Into named scratch registers: an operand the compiler placed in r12–r15 would be
        // written before the instruction reading that register.
        // SAFETY: reads registers, touches no memory.
        unsafe {
            core::arch::asm!(
                "lea rax, [rip]",
                "mov rcx, rsp",
                "mov rdx, rbp",
                "mov rsi, rbx",
                "mov rdi, r12",
                "mov r8, r13",
                "mov r9, r14",
                "mov r10, r15",
                out("rax") ip, out("rcx") sp, out("rdx") bp, out("rsi") bx,
                out("rdi") r12, out("r8") r13, out("r9") r14, out("r10") r15,
                options(nomem, nostack, preserves_flags),
            );
        }
        let mut regs = [None; REGS];
        for (r, v) in [
            (3, bx),
            (6, bp),
            (7, sp),
            (12, r12),
            (13, r13),
            (14, r14),
            (15, r15),
            (16, ip),
        ] {
            regs[r] = Some(v);
        }
        regs
    }
}

#[cfg(target_arch = "aarch64")]
mod arch {
    /// DWARF register numbers: the stack pointer, the return-address column (x30, the link
    /// register).
    pub const SP: u16 = 31;
    pub const RA: u16 = 30;
    /// x0–x30 and sp.
    pub const REGS: usize = 32;

    /// As on x86-64: this function's registers at one instruction of it (the frame pointer, the
    /// callee-saved x19–x28, sp; the address of the instruction in the return-address column).
    #[inline(always)]
    pub fn here() -> [Option<usize>; REGS] {
        let (ip, sp, fp): (usize, usize, usize);
        let mut saved = [0usize; 10];
        // Into named scratch registers (x9–x12), as on x86-64: an operand placed in x19–x28
        // would be written before it is stored.
        // SAFETY: stores the registers into `saved`, a local of this function.
        unsafe {
            core::arch::asm!(
                "adr x9, .",
                "mov x10, sp",
                "mov x11, x29",
                "stp x19, x20, [x12]",
                "stp x21, x22, [x12, #16]",
                "stp x23, x24, [x12, #32]",
                "stp x25, x26, [x12, #48]",
                "stp x27, x28, [x12, #64]",
                out("x9") ip, out("x10") sp, out("x11") fp, in("x12") saved.as_mut_ptr(),
                options(nostack, preserves_flags),
            );
        }
        let mut regs = [None; REGS];
        for (i, v) in saved.iter().enumerate() {
            regs[19 + i] = Some(*v);
        }
        regs[29] = Some(fp);
        regs[31] = Some(sp);
        regs[30] = Some(ip);
        regs
    }
}

use arch::{RA, REGS, SP};

/// Register rules kept per unwind table row: far more than compiled code saves in one frame
/// (glibc's signal frame, the most, has one per register), few enough that the walk fits the
/// reporter's stack budget (see `stack::FOR_BACKTRACE`).
struct OnStack;

impl<T: ReaderOffset> UnwindContextStorage<T> for OnStack {
    type Rules = [(Register, RegisterRule<T>); REGS + 2];
    type Stack = [UnwindTableRow<T, Self>; 2];
}

impl<R: Reader> EvaluationStorage<R> for OnStack {
    type Stack = [Value; 8];
    type ExpressionStack = [(R, R); 1];
    type Result = [Piece<R>; 1];
}

/// The call frame information of the object holding one code address.
struct Object {
    bases: BaseAddresses,
    /// The search table's header, parsed once where its `.eh_frame` was found.
    hdr: ParsedEhFrameHdr<Bytes>,
    eh_frame: Bytes,
}

struct Search {
    ip: usize,
    found: Option<Object>,
}

/// `len` bytes at `addr`, in a segment of a loaded object.
///
/// # Safety
/// The range must be mapped for as long as the object is loaded.
unsafe fn bytes(addr: usize, len: usize) -> Bytes {
    // SAFETY: the caller's.
    EndianSlice::new(
        unsafe { core::slice::from_raw_parts(addr as *const u8, len) },
        NativeEndian,
    )
}

extern "C" fn visit(info: *mut libc::dl_phdr_info, _size: usize, arg: *mut c_void) -> c_int {
    // SAFETY: the loader passes a valid info; arg is the Search given to dl_iterate_phdr.
    let (info, s) = unsafe { (&*info, &mut *(arg as *mut Search)) };
    let base = info.dlpi_addr as usize;
    // SAFETY: dlpi_phdr has dlpi_phnum entries.
    let phdrs = unsafe { core::slice::from_raw_parts(info.dlpi_phdr, info.dlpi_phnum as usize) };
    let segment = |ph: &&libc::Elf64_Phdr| ph.p_type == libc::PT_LOAD;
    let range = |ph: &libc::Elf64_Phdr| {
        let start = base + ph.p_vaddr as usize;
        start..start + ph.p_memsz as usize
    };
    if !phdrs
        .iter()
        .filter(segment)
        .any(|ph| range(ph).contains(&s.ip))
    {
        return 0;
    }
    // Found the object: stop the iteration whether or not it has the table.
    let Some(hdr) = phdrs.iter().find(|ph| ph.p_type == libc::PT_GNU_EH_FRAME) else {
        return 1;
    };
    let hdr_at = base + hdr.p_vaddr as usize;
    // SAFETY: the segment is mapped while the object is loaded, which it is while the loader
    // lists it (and the checker walks only stacks that run its code).
    let hdr = unsafe { bytes(hdr_at, hdr.p_memsz as usize) };
    let bases = BaseAddresses::default().set_eh_frame_hdr(hdr_at as u64);
    let Ok(parsed) = EhFrameHdr::from(hdr).parse(&bases, size_of::<usize>() as u8) else {
        return 1;
    };
    let Pointer::Direct(eh_frame_at) = parsed.eh_frame_ptr() else {
        return 1;
    };
    let eh_frame_at = eh_frame_at as usize;
    // The section's length is not in the header: it runs at most to its segment's end.
    let Some(seg) = phdrs
        .iter()
        .filter(segment)
        .map(range)
        .find(|r| r.contains(&eh_frame_at))
    else {
        return 1;
    };
    s.found = Some(Object {
        bases: bases.set_eh_frame(eh_frame_at as u64),
        hdr: parsed,
        // SAFETY: as for the header.
        eh_frame: unsafe { bytes(eh_frame_at, seg.end - eh_frame_at) },
    });
    1
}

/// The call frame information of the object holding `ip`.
fn object(ip: usize) -> Option<Object> {
    let mut s = Search { ip, found: None };
    // SAFETY: visit only writes the Search it is given.
    unsafe { libc::dl_iterate_phdr(Some(visit), &mut s as *mut Search as *mut c_void) };
    s.found
}

/// The word at `addr` if the memory map says it is readable.
fn word(addr: u64) -> Option<usize> {
    let p = usize::try_from(addr).ok()? as *const c_void;
    // SAFETY: checks the range against the map, reads nothing.
    unsafe { validators::mem::readable(p, size_of::<usize>()) }.ok()?;
    // SAFETY: mapped and readable, just checked.
    Some(unsafe { core::ptr::read_unaligned(p as *const usize) })
}

/// The value of a DWARF expression of the frame whose registers are `regs` (`cfa` pushed first,
/// for register rules).
fn evaluate(
    expr: gimli::Expression<Bytes>,
    regs: &[Option<usize>; REGS],
    cfa: Option<usize>,
) -> Option<usize> {
    let encoding = gimli::Encoding {
        format: gimli::Format::Dwarf64,
        version: 4,
        address_size: size_of::<usize>() as u8,
    };
    let mut eval = Evaluation::<Bytes, OnStack>::new_in(expr.0, encoding);
    if let Some(cfa) = cfa {
        eval.set_initial_value(cfa as u64);
    }
    let mut state = eval.evaluate().ok()?;
    loop {
        state = match state {
            EvaluationResult::Complete => break,
            EvaluationResult::RequiresRegister { register, .. } => {
                let v = *regs.get(usize::from(register.0))?;
                eval.resume_with_register(Value::Generic(v? as u64)).ok()?
            }
            EvaluationResult::RequiresMemory { address, size, .. }
                if size as usize == size_of::<usize>() =>
            {
                eval.resume_with_memory(Value::Generic(word(address)? as u64))
                    .ok()?
            }
            _ => return None,
        };
    }
    match eval.as_result() {
        [Piece {
            location: gimli::Location::Address { address },
            ..
        }] => usize::try_from(*address).ok(),
        _ => None,
    }
}

/// Calls `frame` with the code address of each caller, innermost first, starting with this
/// function's caller, until it returns false or the walk ends (the outermost frame, an object
/// without call frame information, or a stack the map says is not readable). The second
/// argument says whether the address is a return address (the instruction after a call) rather
/// than the very instruction a signal interrupted.
#[inline(never)]
pub fn walk(mut frame: impl FnMut(usize, bool) -> bool) {
    let mut regs = arch::here();
    // This function's own address is exact (not a return address).
    let mut exact = true;
    let mut ctx = UnwindContext::<usize, OnStack>::new_in();
    // A bound on the walk whatever the frames say (a loop in a smashed stack).
    for _ in 0..256 {
        let Some(ip) = regs[usize::from(RA)] else {
            return;
        };
        let Some(obj) = object(ip) else {
            return;
        };
        let eh_frame = EhFrame::from(obj.eh_frame);
        let lookup = if exact { ip } else { ip - 1 };
        let Some(table) = obj.hdr.table() else {
            return;
        };
        let Ok(fde) = table.fde_for_address(
            &eh_frame,
            &obj.bases,
            lookup as u64,
            EhFrame::cie_from_offset,
        ) else {
            return;
        };
        let Ok(row) = fde.unwind_info_for_address(&eh_frame, &obj.bases, &mut ctx, lookup as u64)
        else {
            return;
        };
        let cfa = match row.cfa() {
            CfaRule::RegisterAndOffset { register, offset } => regs
                .get(usize::from(register.0))
                .copied()
                .flatten()
                .map(|r| r.wrapping_add(*offset as usize)),
            CfaRule::Expression(e) => e.get(&eh_frame).ok().and_then(|e| evaluate(e, &regs, None)),
        };
        let Some(cfa) = cfa else {
            return;
        };
        let mut next = [None; REGS];
        for (r, slot) in next.iter_mut().enumerate() {
            let rule = row.register(Register(r as u16));
            *slot = match rule {
                RegisterRule::Undefined if r as u16 == RA => None,
                // Callee-saved registers without a rule keep their value.
                RegisterRule::Undefined | RegisterRule::SameValue => regs[r],
                RegisterRule::Offset(n) => word(cfa.wrapping_add(n as usize) as u64),
                RegisterRule::ValOffset(n) => Some(cfa.wrapping_add(n as usize)),
                RegisterRule::Register(from) => regs.get(usize::from(from.0)).copied().flatten(),
                RegisterRule::Expression(e) => e
                    .get(&eh_frame)
                    .ok()
                    .and_then(|e| evaluate(e, &regs, Some(cfa)))
                    .and_then(|at| word(at as u64)),
                RegisterRule::ValExpression(e) => e
                    .get(&eh_frame)
                    .ok()
                    .and_then(|e| evaluate(e, &regs, Some(cfa))),
                _ => None,
            };
        }
        // The caller's stack pointer is the frame's CFA unless a rule restores it (a signal
        // frame's does, from the interrupted context).
        if matches!(
            row.register(Register(SP)),
            RegisterRule::Undefined | RegisterRule::SameValue
        ) {
            next[usize::from(SP)] = Some(cfa);
        }
        // After a signal frame, the address is the interrupted instruction itself.
        exact = fde.cie().is_signal_trampoline();
        regs = next;
        match regs[usize::from(RA)] {
            Some(0) | None => return,
            Some(ip) => {
                if !frame(ip, !exact) {
                    return;
                }
            }
        }
    }
}
