//! `sockopt`, `sockopt.len`, `sockopt.getlen`: setsockopt/getsockopt options against the table
//! of `xlat/sockopt.rs` (level, option, the least length Linux takes for its value).

use core::ffi::c_void;

use crate::{mem, xlat, Fault, Verdict};

/// One option of a level.
#[derive(Debug, Clone, Copy)]
pub struct Opt {
    pub level: i32,
    pub name: &'static str,
    pub value: i64,
    /// The least optlen Linux takes; 0 for a value of any length.
    pub size: i64,
    /// The C type of the value, where it has one.
    pub ty: Option<&'static str>,
}

/// A row of `xlat/sockopt.rs` (build.rs compares the value and the C type's size with the headers).
macro_rules! o {
    ($level:ident, $name:ident = $value:literal, $size:literal) => {
        Opt {
            level: libc::$level,
            name: stringify!($name),
            value: $value,
            size: $size,
            ty: None,
        }
    };
    ($level:ident, $name:ident = $value:literal, $size:literal = sizeof($($c:tt)+)) => {
        Opt {
            level: libc::$level,
            name: stringify!($name),
            value: $value,
            size: $size,
            ty: Some(stringify!($($c)+)),
        }
    };
}

/// Every option of the levels the table knows.
pub static OPTIONS: &[Opt] = &include!("xlat/sockopt.rs");

/// Whether the table lists the options of `level`.
fn known_level(level: i64) -> bool {
    OPTIONS.iter().any(|o| i64::from(o.level) == level)
}

fn find(level: i64, name: i64) -> Option<&'static Opt> {
    OPTIONS
        .iter()
        .find(|o| i64::from(o.level) == level && o.value == name)
}

fn level_name(level: i64) -> &'static str {
    xlat::SOCKOPT_LEVEL
        .rows
        .iter()
        .find(|r| r.value == level)
        .map_or("?", |r| r.name)
}

/// `sockopt`: `name` is an option of `level`, where the table knows the level's options (others
/// pass: their protocols are not listed).
pub fn option(name: i64, level: i64) -> Verdict {
    if !known_level(level) || find(level, name).is_some() {
        return Ok(());
    }
    Err(Fault::new(
        "sockopt",
        format_args!(
            "{name} is not an option of {} (ENOPROTOOPT)",
            level_name(level)
        ),
    ))
}

/// The fault of a length `len` shorter than option `o` takes.
fn short(o: &Opt, len: i64, what: &str) -> Fault {
    Fault::new(
        "sockopt",
        format_args!(
            "{len} bytes for {}, whose value is {} bytes ({}): {what}",
            o.name,
            o.size,
            o.ty.unwrap_or("fixed"),
        ),
    )
}

/// `sockopt.len`: setsockopt's `len` at least the size of option `name`'s value.
pub fn len(len: i64, level: i64, name: i64) -> Verdict {
    match find(level, name) {
        Some(o) if len < o.size => Err(short(o, len, "Linux refuses it (EINVAL)")),
        _ => Ok(()),
    }
}

/// `sockopt.getlen`: getsockopt's `*p` (a `socklen_t`) at least the size of option `name`'s
/// value. An unreadable `p` passes: its memory rule reports it.
///
/// # Safety
/// `p` is read only when the memory map says it is readable.
pub unsafe fn get_len(p: *const c_void, level: i64, name: i64) -> Verdict {
    let Some(o) = find(level, name).filter(|o| o.size > 0) else {
        return Ok(());
    };
    if mem::readable(p, 4).is_err() {
        return Ok(());
    }
    // SAFETY: readable for 4 bytes, checked above.
    let len = i64::from(unsafe { core::ptr::read_unaligned(p as *const u32) });
    if len < o.size {
        return Err(short(o, len, "Linux stores only that much of it"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(v: Verdict) -> String {
        match v {
            Ok(()) => "ok".into(),
            Err(f) => format!("{f:?}"),
        }
    }

    #[test]
    fn rows_name_the_libc_crates_constants() {
        // The C headers are compared by build.rs; this ties the rows to the crate's values too.
        let value = |level: i32, name: &str| {
            OPTIONS
                .iter()
                .find(|o| o.level == level && o.name == name)
                .map(|o| o.value)
        };
        assert_eq!(
            value(libc::SOL_SOCKET, "SO_LINGER"),
            Some(libc::SO_LINGER.into())
        );
        assert_eq!(
            value(libc::IPPROTO_TCP, "TCP_NODELAY"),
            Some(libc::TCP_NODELAY.into())
        );
        assert_eq!(
            value(libc::IPPROTO_IP, "IP_ADD_MEMBERSHIP"),
            Some(libc::IP_ADD_MEMBERSHIP.into())
        );
        for (i, a) in OPTIONS.iter().enumerate() {
            assert!(
                OPTIONS[i + 1..]
                    .iter()
                    .all(|b| (b.level, b.value) != (a.level, a.value)),
                "{} twice",
                a.name
            );
        }
    }

    #[test]
    fn unknown_options_of_a_known_level_are_reported() {
        let sol = i64::from(libc::SOL_SOCKET);
        assert_eq!(text(option(libc::SO_REUSEADDR.into(), sol)), "ok");
        assert_eq!(
            text(option(999, sol)),
            "sockopt: 999 is not an option of SOL_SOCKET (ENOPROTOOPT)"
        );
        assert_eq!(
            text(option(15, libc::IPPROTO_TCP.into())),
            "sockopt: 15 is not an option of IPPROTO_TCP (ENOPROTOOPT)",
            "TCP_COOKIE_TRANSACTIONS is gone from Linux"
        );
        assert_eq!(
            text(option(999, libc::SOL_PACKET.into())),
            "ok",
            "a level the table does not list"
        );
    }

    #[test]
    fn lengths_below_the_options_size_are_reported() {
        let sol = i64::from(libc::SOL_SOCKET);
        let linger = libc::SO_LINGER.into();
        assert_eq!(text(len(8, sol, linger)), "ok");
        assert_eq!(
            text(len(4, sol, linger)),
            "sockopt: 4 bytes for SO_LINGER, whose value is 8 bytes (struct linger): Linux refuses it (EINVAL)"
        );
        assert_eq!(text(len(3, sol, libc::SO_BINDTODEVICE.into())), "ok");
        let ip = i64::from(libc::IPPROTO_IP);
        assert_eq!(text(len(1, ip, libc::IP_TTL.into())), "ok", "a byte");
        assert_eq!(
            text(len(12, ip, libc::IP_ADD_MEMBERSHIP.into())),
            "ok",
            "ip_mreqn"
        );
        assert!(text(len(4, ip, libc::IP_ADD_MEMBERSHIP.into())).starts_with("sockopt: "));
        let (mut n, ro) = (1u32, crate::testutil::Map::new(1, libc::PROT_NONE));
        let at = |p: *const u32| text(unsafe { get_len(p.cast(), sol, libc::SO_ERROR.into()) });
        assert_eq!(
            at(&n),
            "sockopt: 1 bytes for SO_ERROR, whose value is 4 bytes (int): Linux stores only that much of it"
        );
        n = 4;
        assert_eq!(at(&n), "ok");
        assert_eq!(at(ro.0.cast()), "ok", "the memory rule reports it");
    }
}
