//! `socketfamily`, `sockettype`, `socketport`, `IPv4Address`, `shuthow`, `sockaddr`.

use crate::{mem, Fault, Verdict};
use core::ffi::c_void;

/// `AF_MCTP`, the highest family Linux 6.x knows (`AF_MAX` - 1); 0..=45 are all assigned.
const AF_LAST: i64 = 45;

/// Obsolete but still accepted by the kernel (libc deprecates the constant).
const SOCK_PACKET: i32 = 10;

/// `socketfamily`: an `AF_*` family the host knows (`AF_UNSPEC` included: `connect` uses it to
/// dissolve an association).
pub fn family(v: i64) -> Verdict {
    if !(0..=AF_LAST).contains(&v) {
        return Err(Fault::new(
            "socketfamily",
            format_args!("{v} is not an AF_* address family"),
        ));
    }
    Ok(())
}

/// `sockettype`: a `SOCK_*` type, optionally with `SOCK_NONBLOCK` and `SOCK_CLOEXEC`.
pub fn type_(v: i64) -> Verdict {
    let flags = (libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC) as i64;
    let base = v & !flags;
    let known = matches!(
        base as i32,
        libc::SOCK_STREAM
            | libc::SOCK_DGRAM
            | libc::SOCK_RAW
            | libc::SOCK_RDM
            | libc::SOCK_SEQPACKET
            | libc::SOCK_DCCP
            | SOCK_PACKET
    ) && base == base as i32 as i64;
    if !known {
        return Err(Fault::new(
            "sockettype",
            format_args!("{v:#x} is not a SOCK_* type (with SOCK_NONBLOCK, SOCK_CLOEXEC)"),
        ));
    }
    Ok(())
}

/// `socketport`: 0..=65535.
pub fn port(v: i64) -> Verdict {
    if !(0..=0xffff).contains(&v) {
        return Err(Fault::new(
            "socketport",
            format_args!("{v} is not a port number (0 to 65535)"),
        ));
    }
    Ok(())
}

/// `IPv4Address`: any 32-bit value is an address; only wider values are rejected.
pub fn ipv4(v: i64) -> Verdict {
    if !(0..=u32::MAX as i64).contains(&v) {
        return Err(Fault::new(
            "IPv4Address",
            format_args!("{v:#x} does not fit in an in_addr_t"),
        ));
    }
    Ok(())
}

/// `shuthow`: `SHUT_RD`, `SHUT_WR` or `SHUT_RDWR`.
pub fn shut_how(v: i64) -> Verdict {
    if !(0..=2).contains(&v) {
        return Err(Fault::new(
            "shuthow",
            format_args!("{v} is not SHUT_RD, SHUT_WR or SHUT_RDWR"),
        ));
    }
    Ok(())
}

/// The shortest address the kernel accepts for a family, and the family's name.
fn min_len(family: i64) -> (usize, &'static str) {
    match family as i32 {
        libc::AF_INET => (core::mem::size_of::<libc::sockaddr_in>(), "AF_INET"),
        // The kernel accepts the RFC 2133 size, without sin6_scope_id.
        libc::AF_INET6 => (24, "AF_INET6"),
        libc::AF_NETLINK => (core::mem::size_of::<libc::sockaddr_nl>(), "AF_NETLINK"),
        // sendto checks the header up to sll_addr; the hardware address may be shorter.
        libc::AF_PACKET => (
            core::mem::offset_of!(libc::sockaddr_ll, sll_addr),
            "AF_PACKET",
        ),
        libc::AF_UNIX => (2, "AF_UNIX"),
        _ => (2, "this family"),
    }
}

/// `sockaddr`: `len` readable bytes holding an address whose family is known and whose length is
/// at least that family's (`sockaddr_in` 16, `sockaddr_in6` 24, …, `sockaddr_un` 2 to 110). An
/// unknown family is `socketfamily` on member `sa_family`, as the LSB's layer 2 names it.
///
/// # Safety
/// `sa_family` is read after the map says `p..p+len` is readable.
pub unsafe fn sockaddr(p: *const c_void, len: usize) -> Verdict {
    const CHECK: &str = "sockaddr";
    mem::readable(p, len).map_err(|f| Fault { check: CHECK, ..f })?;
    if len < 2 {
        return Err(Fault::new(
            CHECK,
            format_args!("length {len} is too short to hold sa_family"),
        ));
    }
    let fam = *(p as *const libc::sa_family_t) as i64;
    // The LSB's name for this fault, on the member that holds it.
    family(fam).map_err(|f| f.member("sa_family"))?;
    let (min, name) = min_len(fam);
    if len < min {
        return Err(Fault::new(
            CHECK,
            format_args!("length {len} is shorter than {name} needs ({min})"),
        ));
    }
    let max_unix = core::mem::size_of::<libc::sockaddr_un>();
    if fam == libc::AF_UNIX as i64 && len > max_unix {
        return Err(Fault::new(
            CHECK,
            format_args!("length {len} is longer than sockaddr_un ({max_unix})"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_enums() {
        assert!(family(libc::AF_INET6 as i64).is_ok());
        assert!(family(libc::AF_UNSPEC as i64).is_ok());
        assert_eq!(
            family(46).unwrap_err().msg.as_str(),
            "46 is not an AF_* address family"
        );
        assert!(
            type_((libc::SOCK_STREAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK) as i64).is_ok()
        );
        assert!(type_(SOCK_PACKET as i64).is_ok());
        assert_eq!(
            type_(7).unwrap_err().msg.as_str(),
            "0x7 is not a SOCK_* type (with SOCK_NONBLOCK, SOCK_CLOEXEC)"
        );
        assert!(type_(libc::SOCK_STREAM as i64 | 0x100).is_err());
        assert!(port(0).is_ok() && port(65535).is_ok());
        assert_eq!(
            port(65536).unwrap_err().msg.as_str(),
            "65536 is not a port number (0 to 65535)"
        );
        assert!(ipv4(0xffff_ffff).is_ok());
        assert!(ipv4(-1).is_err());
        assert!(shut_how(libc::SHUT_RDWR as i64).is_ok());
        assert!(shut_how(3).is_err());
    }

    #[test]
    fn socket_addresses() {
        let mut sin: libc::sockaddr_in = unsafe { core::mem::zeroed() };
        sin.sin_family = libc::AF_INET as libc::sa_family_t;
        let p = (&sin as *const libc::sockaddr_in).cast::<c_void>();
        unsafe {
            assert!(sockaddr(p, 16).is_ok());
            assert_eq!(
                sockaddr(p, 8).unwrap_err().msg.as_str(),
                "length 8 is shorter than AF_INET needs (16)"
            );
            assert_eq!(
                sockaddr(p, 1).unwrap_err().msg.as_str(),
                "length 1 is too short to hold sa_family"
            );
            assert_eq!(
                sockaddr(0x10 as _, 16).unwrap_err().msg.as_str(),
                "0x10 is not mapped"
            );
        }
        let mut bad = sin;
        bad.sin_family = 200;
        let p = (&bad as *const libc::sockaddr_in).cast::<c_void>();
        unsafe {
            assert_eq!(
                sockaddr(p, 16).unwrap_err().msg.as_str(),
                "200 is not an AF_* address family"
            );
            let f = sockaddr(p, 16).unwrap_err();
            assert_eq!((f.check, f.member), ("socketfamily", Some("sa_family")));
        }
        let mut un: libc::sockaddr_un = unsafe { core::mem::zeroed() };
        un.sun_family = libc::AF_UNIX as libc::sa_family_t;
        let p = (&un as *const libc::sockaddr_un).cast::<c_void>();
        unsafe {
            assert!(sockaddr(p, 2).is_ok(), "unnamed socket");
            assert!(sockaddr(p, 110).is_ok());
        }
        let mut big = [0u8; 200];
        big[..2].copy_from_slice(&(libc::AF_UNIX as libc::sa_family_t).to_ne_bytes());
        unsafe {
            assert_eq!(
                sockaddr(big.as_ptr().cast(), 111).unwrap_err().msg.as_str(),
                "length 111 is longer than sockaddr_un (110)"
            );
        }
    }
}
