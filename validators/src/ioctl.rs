//! `ioctl`: what the third argument of `ioctl` must be for each request.
//!
//! Requests are data: a table of the common terminal, socket, file and block-device requests with
//! the size the kernel really reads or writes (several `_IOC` encodings lie: `FS_IOC_GETFLAGS`
//! encodes a `long` and moves an `int`, `FICLONE` encodes an `int *` and takes a descriptor).
//! Other requests are decoded from their `_IOC` direction and size bits when they carry them.

use crate::{mem, Fault, Verdict};
use core::ffi::c_void;
use core::fmt;

/// What a request does with its argument.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Arg {
    /// No argument, or an integer passed by value.
    Value,
    /// The kernel reads this many bytes from the pointer.
    In(usize),
    /// The kernel writes this many bytes.
    Out(usize),
    /// The kernel reads, then writes, this many bytes.
    InOut(usize),
}

struct Request {
    code: u32,
    name: &'static str,
    arg: Arg,
}

/// Sorted by code (a test keeps it so) for binary search.
static TABLE: &[Request] = &[
    Request {
        code: 0x1,
        name: "FIBMAP",
        arg: Arg::InOut(4),
    },
    Request {
        code: 0x2,
        name: "FIGETBSZ",
        arg: Arg::Out(4),
    },
    Request {
        code: 0x125d,
        name: "BLKROSET",
        arg: Arg::In(4),
    },
    Request {
        code: 0x125e,
        name: "BLKROGET",
        arg: Arg::Out(4),
    },
    Request {
        code: 0x125f,
        name: "BLKRRPART",
        arg: Arg::Value,
    },
    Request {
        code: 0x1260,
        name: "BLKGETSIZE",
        arg: Arg::Out(8),
    },
    Request {
        code: 0x1261,
        name: "BLKFLSBUF",
        arg: Arg::Value,
    },
    Request {
        code: 0x1262,
        name: "BLKRASET",
        arg: Arg::Value,
    },
    Request {
        code: 0x1263,
        name: "BLKRAGET",
        arg: Arg::Out(8),
    },
    Request {
        code: 0x1268,
        name: "BLKSSZGET",
        arg: Arg::Out(4),
    },
    Request {
        code: 0x1277,
        name: "BLKDISCARD",
        arg: Arg::In(16),
    },
    Request {
        code: 0x1278,
        name: "BLKIOMIN",
        arg: Arg::Out(4),
    },
    Request {
        code: 0x1279,
        name: "BLKIOOPT",
        arg: Arg::Out(4),
    },
    Request {
        code: 0x127a,
        name: "BLKALIGNOFF",
        arg: Arg::Out(4),
    },
    Request {
        code: 0x127b,
        name: "BLKPBSZGET",
        arg: Arg::Out(4),
    },
    Request {
        code: 0x127c,
        name: "BLKDISCARDZEROES",
        arg: Arg::Out(4),
    },
    Request {
        code: 0x127d,
        name: "BLKSECDISCARD",
        arg: Arg::In(16),
    },
    Request {
        code: 0x127f,
        name: "BLKZEROOUT",
        arg: Arg::In(16),
    },
    Request {
        code: 0x5401,
        name: "TCGETS",
        arg: Arg::Out(36),
    },
    Request {
        code: 0x5402,
        name: "TCSETS",
        arg: Arg::In(36),
    },
    Request {
        code: 0x5403,
        name: "TCSETSW",
        arg: Arg::In(36),
    },
    Request {
        code: 0x5404,
        name: "TCSETSF",
        arg: Arg::In(36),
    },
    Request {
        code: 0x5405,
        name: "TCGETA",
        arg: Arg::Out(18),
    },
    Request {
        code: 0x5406,
        name: "TCSETA",
        arg: Arg::In(18),
    },
    Request {
        code: 0x5407,
        name: "TCSETAW",
        arg: Arg::In(18),
    },
    Request {
        code: 0x5408,
        name: "TCSETAF",
        arg: Arg::In(18),
    },
    Request {
        code: 0x5409,
        name: "TCSBRK",
        arg: Arg::Value,
    },
    Request {
        code: 0x540a,
        name: "TCXONC",
        arg: Arg::Value,
    },
    Request {
        code: 0x540b,
        name: "TCFLSH",
        arg: Arg::Value,
    },
    Request {
        code: 0x540c,
        name: "TIOCEXCL",
        arg: Arg::Value,
    },
    Request {
        code: 0x540d,
        name: "TIOCNXCL",
        arg: Arg::Value,
    },
    Request {
        code: 0x540e,
        name: "TIOCSCTTY",
        arg: Arg::Value,
    },
    Request {
        code: 0x540f,
        name: "TIOCGPGRP",
        arg: Arg::Out(4),
    },
    Request {
        code: 0x5410,
        name: "TIOCSPGRP",
        arg: Arg::In(4),
    },
    Request {
        code: 0x5411,
        name: "TIOCOUTQ",
        arg: Arg::Out(4),
    },
    Request {
        code: 0x5412,
        name: "TIOCSTI",
        arg: Arg::In(1),
    },
    Request {
        code: 0x5413,
        name: "TIOCGWINSZ",
        arg: Arg::Out(8),
    },
    Request {
        code: 0x5414,
        name: "TIOCSWINSZ",
        arg: Arg::In(8),
    },
    Request {
        code: 0x5415,
        name: "TIOCMGET",
        arg: Arg::Out(4),
    },
    Request {
        code: 0x5416,
        name: "TIOCMBIS",
        arg: Arg::In(4),
    },
    Request {
        code: 0x5417,
        name: "TIOCMBIC",
        arg: Arg::In(4),
    },
    Request {
        code: 0x5418,
        name: "TIOCMSET",
        arg: Arg::In(4),
    },
    Request {
        code: 0x5419,
        name: "TIOCGSOFTCAR",
        arg: Arg::Out(4),
    },
    Request {
        code: 0x541a,
        name: "TIOCSSOFTCAR",
        arg: Arg::In(4),
    },
    Request {
        code: 0x541b,
        name: "FIONREAD",
        arg: Arg::Out(4),
    },
    Request {
        code: 0x541d,
        name: "TIOCCONS",
        arg: Arg::Value,
    },
    Request {
        code: 0x5420,
        name: "TIOCPKT",
        arg: Arg::In(4),
    },
    Request {
        code: 0x5421,
        name: "FIONBIO",
        arg: Arg::In(4),
    },
    Request {
        code: 0x5422,
        name: "TIOCNOTTY",
        arg: Arg::Value,
    },
    Request {
        code: 0x5423,
        name: "TIOCSETD",
        arg: Arg::In(4),
    },
    Request {
        code: 0x5424,
        name: "TIOCGETD",
        arg: Arg::Out(4),
    },
    Request {
        code: 0x5425,
        name: "TCSBRKP",
        arg: Arg::Value,
    },
    Request {
        code: 0x5427,
        name: "TIOCSBRK",
        arg: Arg::Value,
    },
    Request {
        code: 0x5428,
        name: "TIOCCBRK",
        arg: Arg::Value,
    },
    Request {
        code: 0x5429,
        name: "TIOCGSID",
        arg: Arg::Out(4),
    },
    Request {
        code: 0x5441,
        name: "TIOCGPTPEER",
        arg: Arg::Value,
    },
    Request {
        code: 0x5450,
        name: "FIONCLEX",
        arg: Arg::Value,
    },
    Request {
        code: 0x5451,
        name: "FIOCLEX",
        arg: Arg::Value,
    },
    Request {
        code: 0x5452,
        name: "FIOASYNC",
        arg: Arg::In(4),
    },
    Request {
        code: 0x5459,
        name: "TIOCSERGETLSR",
        arg: Arg::Out(4),
    },
    Request {
        code: 0x5460,
        name: "FIOQSIZE",
        arg: Arg::Out(8),
    },
    Request {
        code: 0x8901,
        name: "FIOSETOWN",
        arg: Arg::In(4),
    },
    Request {
        code: 0x8902,
        name: "SIOCSPGRP",
        arg: Arg::In(4),
    },
    Request {
        code: 0x8903,
        name: "FIOGETOWN",
        arg: Arg::Out(4),
    },
    Request {
        code: 0x8904,
        name: "SIOCGPGRP",
        arg: Arg::Out(4),
    },
    Request {
        code: 0x8905,
        name: "SIOCATMARK",
        arg: Arg::Out(4),
    },
    Request {
        code: 0x8906,
        name: "SIOCGSTAMP",
        arg: Arg::Out(16),
    },
    Request {
        code: 0x8907,
        name: "SIOCGSTAMPNS",
        arg: Arg::Out(16),
    },
    Request {
        code: 0x8910,
        name: "SIOCGIFNAME",
        arg: Arg::InOut(40),
    },
    Request {
        code: 0x8912,
        name: "SIOCGIFCONF",
        arg: Arg::InOut(16),
    },
    Request {
        code: 0x8913,
        name: "SIOCGIFFLAGS",
        arg: Arg::InOut(40),
    },
    Request {
        code: 0x8914,
        name: "SIOCSIFFLAGS",
        arg: Arg::In(40),
    },
    Request {
        code: 0x8915,
        name: "SIOCGIFADDR",
        arg: Arg::InOut(40),
    },
    Request {
        code: 0x8916,
        name: "SIOCSIFADDR",
        arg: Arg::In(40),
    },
    Request {
        code: 0x8917,
        name: "SIOCGIFDSTADDR",
        arg: Arg::InOut(40),
    },
    Request {
        code: 0x8918,
        name: "SIOCSIFDSTADDR",
        arg: Arg::In(40),
    },
    Request {
        code: 0x8919,
        name: "SIOCGIFBRDADDR",
        arg: Arg::InOut(40),
    },
    Request {
        code: 0x891a,
        name: "SIOCSIFBRDADDR",
        arg: Arg::In(40),
    },
    Request {
        code: 0x891b,
        name: "SIOCGIFNETMASK",
        arg: Arg::InOut(40),
    },
    Request {
        code: 0x891c,
        name: "SIOCSIFNETMASK",
        arg: Arg::In(40),
    },
    Request {
        code: 0x891d,
        name: "SIOCGIFMETRIC",
        arg: Arg::InOut(40),
    },
    Request {
        code: 0x891e,
        name: "SIOCSIFMETRIC",
        arg: Arg::In(40),
    },
    Request {
        code: 0x8921,
        name: "SIOCGIFMTU",
        arg: Arg::InOut(40),
    },
    Request {
        code: 0x8922,
        name: "SIOCSIFMTU",
        arg: Arg::In(40),
    },
    Request {
        code: 0x8923,
        name: "SIOCSIFNAME",
        arg: Arg::In(40),
    },
    Request {
        code: 0x8924,
        name: "SIOCSIFHWADDR",
        arg: Arg::In(40),
    },
    Request {
        code: 0x8927,
        name: "SIOCGIFHWADDR",
        arg: Arg::InOut(40),
    },
    Request {
        code: 0x8933,
        name: "SIOCGIFINDEX",
        arg: Arg::InOut(40),
    },
    Request {
        code: 0x40045431,
        name: "TIOCSPTLCK",
        arg: Arg::In(4),
    },
    Request {
        code: 0x400454ca,
        name: "TUNSETIFF",
        arg: Arg::InOut(40),
    },
    Request {
        code: 0x40049409,
        name: "FICLONE",
        arg: Arg::Value,
    },
    Request {
        code: 0x40081271,
        name: "BLKBSZSET",
        arg: Arg::In(4),
    },
    Request {
        code: 0x40086602,
        name: "FS_IOC_SETFLAGS",
        arg: Arg::In(4),
    },
    Request {
        code: 0x40087602,
        name: "FS_IOC_SETVERSION",
        arg: Arg::In(4),
    },
    Request {
        code: 0x80045430,
        name: "TIOCGPTN",
        arg: Arg::Out(4),
    },
    Request {
        code: 0x80081270,
        name: "BLKBSZGET",
        arg: Arg::Out(4),
    },
    Request {
        code: 0x80081272,
        name: "BLKGETSIZE64",
        arg: Arg::Out(8),
    },
    Request {
        code: 0x80086601,
        name: "FS_IOC_GETFLAGS",
        arg: Arg::Out(4),
    },
    Request {
        code: 0x80087601,
        name: "FS_IOC_GETVERSION",
        arg: Arg::Out(4),
    },
    Request {
        code: 0xc0045877,
        name: "FIFREEZE",
        arg: Arg::Value,
    },
    Request {
        code: 0xc0045878,
        name: "FITHAW",
        arg: Arg::Value,
    },
];

/// How the request is named in a message.
enum Name {
    Known(&'static str),
    Decoded(u32),
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Name::Known(n) => f.write_str(n),
            Name::Decoded(code) => write!(f, "request {code:#x}"),
        }
    }
}

/// Sizes above this are taken for a request that merely looks encoded (the `_IOC` size field
/// allows 16 KiB; real argument structs stay far below a page).
const PLAUSIBLE_SIZE: usize = 4096;

/// The `_IOC` direction and size of an encoded request, if it has both and the size is plausible.
fn decode(code: u32) -> Option<Arg> {
    const WRITE: u32 = 1; // _IOC_WRITE: user space writes, the kernel reads
    const READ: u32 = 2;
    let size = (code >> 16 & 0x3fff) as usize;
    match code >> 30 {
        _ if size == 0 || size > PLAUSIBLE_SIZE => None,
        WRITE => Some(Arg::In(size)),
        READ => Some(Arg::Out(size)),
        3 => Some(Arg::InOut(size)),
        _ => None,
    }
}

/// `ioctl`: the argument of `request` is readable/writable for what the kernel moves.
///
/// Unknown requests without `_IOC` direction and size bits are accepted: their argument could be
/// anything.
///
/// # Safety
/// `arg` is only compared against the memory map.
pub unsafe fn ioctl(request: u64, arg: usize) -> Verdict {
    // The kernel's request is an unsigned int: callers with an int prototype sign-extend it.
    let code = request as u32;
    let (name, what) = match TABLE.binary_search_by_key(&code, |r| r.code) {
        Ok(i) => (Name::Known(TABLE[i].name), TABLE[i].arg),
        Err(_) => match decode(code) {
            Some(what) => (Name::Decoded(code), what),
            None => return Ok(()),
        },
    };
    let p = arg as *const c_void;
    let (verdict, verb, size) = match what {
        Arg::Value => return Ok(()),
        Arg::In(n) => (mem::readable(p, n), "reads", n),
        Arg::Out(n) => (mem::writable(p, n), "writes", n),
        Arg::InOut(n) => (mem::writable(p, n), "reads and writes", n),
    };
    verdict.map_err(|f| {
        Fault::new(
            f.check,
            format_args!("{name} {verb} {size} bytes: {}", f.msg.as_str()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Map;

    fn msg(v: Verdict) -> String {
        v.map(|_| String::new())
            .unwrap_or_else(|f| format!("{}: {}", f.check, f.msg.as_str()))
    }

    #[test]
    fn table_is_sorted_and_agrees_with_libc() {
        assert!(TABLE.windows(2).all(|w| w[0].code < w[1].code));
        let named = |n: &str| TABLE.iter().find(|r| r.name == n).unwrap().code as u64;
        assert_eq!(named("TCGETS"), libc::TCGETS);
        assert_eq!(named("TIOCGWINSZ"), libc::TIOCGWINSZ);
        assert_eq!(named("FIONREAD"), libc::FIONREAD);
        assert_eq!(named("FIOCLEX"), libc::FIOCLEX);
        assert_eq!(named("SIOCGIFCONF"), libc::SIOCGIFCONF);
        assert_eq!(named("SIOCGIFADDR"), libc::SIOCGIFADDR);
        assert_eq!(named("BLKSSZGET"), libc::BLKSSZGET);
        assert_eq!(named("FS_IOC_GETFLAGS"), libc::FS_IOC_GETFLAGS);
        assert_eq!(named("FICLONE"), libc::FICLONE);
        assert_eq!(named("TIOCGPTN"), libc::TIOCGPTN);
    }

    #[test]
    fn known_requests_check_their_real_size() {
        let mut ws = libc::winsize {
            ws_row: 0,
            ws_col: 0,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let ro = Map::new(1, libc::PROT_READ);
        let (_guard, four) = Map::before_guard(&[0; 4]);
        unsafe {
            assert!(ioctl(libc::TIOCGWINSZ, &mut ws as *mut _ as usize).is_ok());
            assert_eq!(
                msg(ioctl(libc::TIOCGWINSZ, ro.0 as usize)),
                format!(
                    "RWaddress: TIOCGWINSZ writes 8 bytes: {:#x} is not writable (mapped r--)",
                    ro.0 as usize
                )
            );
            assert!(
                ioctl(libc::TIOCSWINSZ, ro.0 as usize).is_ok(),
                "the kernel only reads it"
            );
            assert_eq!(
                msg(ioctl(libc::FIONBIO, 0x10)),
                "Rdaddress: FIONBIO reads 4 bytes: 0x10 is not mapped"
            );
            assert!(ioctl(libc::FIOCLEX, 0x10).is_ok(), "no argument");
            assert!(
                ioctl(libc::FICLONE, 3).is_ok(),
                "a descriptor, though encoded as a pointer"
            );
            assert!(
                ioctl(libc::FS_IOC_GETFLAGS, four as usize).is_ok(),
                "moves an int, encodes a long"
            );
            let sign_extended = libc::FS_IOC_GETFLAGS as u32 as i32 as i64 as u64;
            assert!(ioctl(sign_extended, 0x10).is_err());
        }
    }

    #[test]
    fn unknown_requests_are_decoded_from_ioc_bits() {
        let (_guard, eight) = Map::before_guard(&[0; 8]);
        // _IOR(0x99, 1, 24 bytes) and _IOW(0x99, 2, 8 bytes), unknown to the table.
        let (read24, write8) = (0x8018_9901u64, 0x4008_9902u64);
        unsafe {
            assert_eq!(
                msg(ioctl(read24, eight as usize)),
                format!("RWaddress: request 0x80189901 writes 24 bytes: {:#x} is writable for 8 of the 24 bytes", eight as usize)
            );
            assert!(ioctl(write8, eight as usize).is_ok());
            assert!(
                ioctl(0xffff_9904, 0x10).is_ok(),
                "16383 bytes: not a plausible encoding"
            );
            assert!(
                ioctl(0x9903, 0x10).is_ok(),
                "no direction bits: the argument could be anything"
            );
        }
    }
}
