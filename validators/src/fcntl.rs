//! `fcntlarg`: the third argument of `fcntl`, whose meaning `cmd` gives.

use crate::{mem, signal, xlat, Fault, Verdict};
use core::ffi::c_void;

// Commands the libc crate lacks; the test below ties them to `xlat::FCNTL_CMD`, whose rows the
// build compares with fcntl.h.
const F_SETSIG: i32 = 10;
const F_SETOWN_EX: i32 = 15;
const F_GETOWN_EX: i32 = 16;
/// `struct f_owner_ex`: an int type and a pid.
const F_OWNER_EX_SIZE: usize = 8;

/// The third argument `arg` (the raw register word) as `cmd` reads it: a descriptor number for
/// the `F_DUPFD`s, file status flags for `F_SETFL`, a `struct flock` to read (`F_SETLK`,
/// `F_SETLKW`, `F_OFD_SETLK`, `F_OFD_SETLKW`) or to read and write (`F_GETLK`, `F_OFD_GETLK`),
/// a `struct f_owner_ex`, a signal for `F_SETSIG`, a lease type. Commands that take an integer
/// of any value, or none, pass.
///
/// # Safety
/// A pointer argument is only compared against the memory map.
// Not inlined: fcntl is checked in signal handlers on small alternate stacks, and the faults of
// every branch would otherwise sit in the caller's frame while it reports.
#[inline(never)]
pub unsafe fn arg(arg: usize, cmd: i64) -> Verdict {
    let int = arg as i32 as i64;
    let Ok(cmd) = i32::try_from(cmd) else {
        return Ok(());
    };
    let p = arg as *const c_void;
    // SAFETY: the caller's promise.
    unsafe {
        match cmd {
            libc::F_DUPFD | libc::F_DUPFD_CLOEXEC if int < 0 => Err(Fault::new(
                "range",
                format_args!("{int} is negative: the lowest descriptor to return (EINVAL)"),
            )),
            libc::F_SETFD if int & !i64::from(libc::FD_CLOEXEC) != 0 => Err(Fault::new(
                "flags",
                format_args!("{int:#x} has bits other than FD_CLOEXEC"),
            )),
            // F_SETFL ignores the access mode and the creation flags (programs pass back what
            // F_GETFL returned), so any open flag is fine; unknown bits are not.
            libc::F_SETFL => crate::flags::open(int),
            libc::F_GETLK | libc::F_OFD_GETLK => {
                mem::writable(p, core::mem::size_of::<libc::flock>())
            }
            libc::F_SETLK | libc::F_SETLKW | libc::F_OFD_SETLK | libc::F_OFD_SETLKW => {
                mem::readable(p, core::mem::size_of::<libc::flock>())
            }
            F_GETOWN_EX => mem::writable(p, F_OWNER_EX_SIZE),
            F_SETOWN_EX => mem::readable(p, F_OWNER_EX_SIZE),
            // 0 restores SIGIO.
            F_SETSIG => signal::signal_or_zero(int),
            libc::F_SETLEASE => xlat::oneof(int, &xlat::FCNTL_LEASE),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Map;

    fn check(a: usize, cmd: i32) -> String {
        match unsafe { arg(a, i64::from(cmd)) } {
            Ok(()) => "ok".into(),
            Err(f) => format!("{f:?}"),
        }
    }

    #[test]
    fn each_command_reads_its_argument_its_way() {
        let ro = Map::new(1, libc::PROT_READ);
        let ro = ro.0 as usize;
        let mut lock: libc::flock = unsafe { core::mem::zeroed() };
        let lk = &mut lock as *mut libc::flock as usize;
        assert_eq!(check(3, libc::F_DUPFD), "ok");
        assert_eq!(
            check(-1i32 as u32 as usize, libc::F_DUPFD_CLOEXEC),
            "range: -1 is negative: the lowest descriptor to return (EINVAL)"
        );
        assert_eq!(check(libc::FD_CLOEXEC as usize, libc::F_SETFD), "ok");
        assert_eq!(
            check(0x10, libc::F_SETFD),
            "flags: 0x10 has bits other than FD_CLOEXEC"
        );
        let getfl = (libc::O_RDWR | libc::O_NONBLOCK | libc::O_LARGEFILE) as usize;
        assert_eq!(check(getfl, libc::F_SETFL), "ok", "what F_GETFL returned");
        assert!(check(0x4000_0000, libc::F_SETFL).starts_with("openflags:"));
        assert_eq!(check(lk, libc::F_GETLK), "ok");
        assert_eq!(
            check(ro, libc::F_SETLKW),
            "ok",
            "F_SETLK only reads the lock"
        );
        assert_eq!(
            check(ro, libc::F_OFD_GETLK),
            format!("RWaddress: {ro:#x} is not writable (mapped r--)")
        );
        assert_eq!(check(0x10, libc::F_SETLK), "Rdaddress: 0x10 is not mapped");
        assert_eq!(check(0, F_SETSIG), "ok");
        assert!(check(1000, F_SETSIG).starts_with("signal:"));
        assert_eq!(check(libc::F_UNLCK as usize, libc::F_SETLEASE), "ok");
        assert!(check(7, libc::F_SETLEASE).starts_with("oneof:"));
        assert_eq!(check(12345, libc::F_SETOWN), "ok");
        assert_eq!(check(0x10, F_GETOWN_EX), "RWaddress: 0x10 is not mapped");
    }

    #[test]
    fn the_hand_typed_commands_are_the_tables() {
        let value = |name: &str| {
            xlat::FCNTL_CMD
                .rows
                .iter()
                .find(|r| r.name == name)
                .map(|r| r.value)
        };
        assert_eq!(value("F_SETSIG"), Some(F_SETSIG.into()));
        assert_eq!(value("F_SETOWN_EX"), Some(F_SETOWN_EX.into()));
        assert_eq!(value("F_GETOWN_EX"), Some(F_GETOWN_EX.into()));
    }
}
