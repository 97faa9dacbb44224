//! `flags(TABLE)`, `oneof(TABLE)`: integer parameters checked against named constants.
//!
//! A table ([`Xlat`]) is data: the constants a parameter may take, one row each, built from the
//! `libc` crate's constants by name ([`c!`]) or, where the crate lacks one, typed by hand
//! ([`h!`]); `build.rs` compiles every hand-typed row against the C headers, so a wrong value
//! fails the build. The other libraries' tables (`xlat/libraries.rs`) are all typed by hand and
//! compiled against those libraries' headers by `tests/library_constants.rs` (the headers come
//! with -dev packages, which building dynchk does not need). The rules in `db/semantics/*.sem` name a table (`prot: flags(mmap_prot)`),
//! and the generator passes it to [`flags`] or [`oneof`]: no function knows a parameter.

use core::fmt;

use crate::{Fault, Verdict};

#[path = "xlat/tables.rs"]
mod tables;
pub use tables::*;
#[path = "xlat/libraries.rs"]
mod libraries;
pub use libraries::*;

/// One named constant.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    pub name: &'static str,
    pub value: i64,
}

/// A field inside a flag word that holds exactly one of its rows (`MAP_SHARED`/`MAP_PRIVATE`/
/// `MAP_SHARED_VALIDATE` in the `MAP_TYPE` bits; `MS_SYNC` or `MS_ASYNC` or neither).
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// How the field is named in messages (`MAP_TYPE`).
    pub name: &'static str,
    pub mask: i64,
    /// The values the field may hold; a value of 0 makes the field optional.
    pub rows: &'static [Row],
}

/// The constants one kind of parameter may take.
#[derive(Debug)]
pub struct Xlat {
    /// The name rules use (`flags(mmap_prot)`): the static's name in lower case.
    pub name: &'static str,
    /// Independent flag bits (`flags`), or the values (`oneof`).
    pub rows: &'static [Row],
    /// Fields of a flag word whose value is one of a list (`flags` only).
    pub fields: &'static [Field],
    /// Bits that may hold any value (`MAP_HUGE_MASK << MAP_HUGE_SHIFT`, `flags` only).
    pub free: i64,
}

impl Xlat {
    /// A table of rows only.
    pub const fn new(name: &'static str, rows: &'static [Row]) -> Xlat {
        Xlat {
            name,
            rows,
            fields: &[],
            free: 0,
        }
    }

    /// The same table with fields that hold one of their rows.
    pub const fn fields(self, fields: &'static [Field]) -> Xlat {
        Xlat { fields, ..self }
    }

    /// The same table with bits of any value.
    pub const fn free(self, free: i64) -> Xlat {
        Xlat { free, ..self }
    }

    /// Every bit a flag word may have.
    pub const fn known(&self) -> i64 {
        let mut m = self.free;
        let mut i = 0;
        while i < self.rows.len() {
            m |= self.rows[i].value;
            i += 1;
        }
        let mut i = 0;
        while i < self.fields.len() {
            m |= self.fields[i].mask;
            i += 1;
        }
        m
    }

    /// A value that `flags` rejects (for planted tests): a bit no row has, or a field value no
    /// row has.
    pub fn bad_flags(&self) -> i64 {
        let known = self.known();
        match (0..31).map(|b| 1i64 << b).find(|b| known & b == 0) {
            Some(b) => b,
            None => self
                .fields
                .iter()
                .find_map(|f| {
                    (1..=f.mask)
                        .filter(|v| v & !f.mask == 0)
                        .find(|v| f.rows.iter().all(|r| r.value != *v))
                })
                .unwrap_or(-1),
        }
    }

    /// A value that `oneof` rejects (for planted tests).
    pub fn bad_value(&self) -> i64 {
        (1..)
            .find(|v| self.rows.iter().all(|r| r.value != *v))
            .unwrap_or(-1)
    }
}

/// The bits of a C `int` the generator sign-extended, as the callee sees them.
fn word(v: i64) -> u64 {
    if v == v as i32 as i64 {
        v as u32 as u64
    } else {
        v as u64
    }
}

/// Names separated the way C writes alternatives: `A, B or C`. A long list (X11's 25 event
/// masks) would not fit a message: its first two and last names, and how many there are.
struct Alternatives<'a>(&'a [Row]);

/// The longest list [`Alternatives`] writes out in full.
const LISTED: usize = 8;

impl fmt::Display for Alternatives<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        if let [a, b, .., last] = self.0 {
            if n > LISTED {
                return write!(f, "{}, {}, … or {} ({n} in all)", a.name, b.name, last.name);
            }
        }
        for (i, r) in self.0.iter().enumerate() {
            let sep = match i {
                0 => "",
                _ if i + 1 == n => " or ",
                _ => ", ",
            };
            write!(f, "{sep}{}", r.name)?;
        }
        Ok(())
    }
}

/// `flags(TABLE)`: only the table's bits, each field holding one of its values.
pub fn flags(v: i64, t: &Xlat) -> Verdict {
    let w = word(v);
    let unknown = w & !(t.known() as u64);
    if unknown != 0 {
        return Err(Fault::new(
            "flags",
            format_args!(
                "{w:#x} has bits {unknown:#x} that are no {} flags ({})",
                t.name,
                Alternatives(t.rows)
            ),
        ));
    }
    for field in t.fields {
        let got = w as i64 & field.mask;
        if field.rows.iter().all(|r| r.value != got) {
            return Err(Fault::new(
                "flags",
                format_args!(
                    "{w:#x} has {} {got:#x}, not {}",
                    field.name,
                    Alternatives(field.rows)
                ),
            ));
        }
    }
    Ok(())
}

/// `oneof(TABLE)`: exactly one of the table's values.
pub fn oneof(v: i64, t: &Xlat) -> Verdict {
    if t.rows.iter().any(|r| r.value == v) {
        return Ok(());
    }
    Err(Fault::new(
        "oneof",
        format_args!("{v} is not {}", Alternatives(t.rows)),
    ))
}

/// Every table: the C library's, then the other libraries'.
pub fn tables() -> impl Iterator<Item = &'static Xlat> {
    TABLES.iter().chain(LIBRARY_TABLES).copied()
}

/// The table a rule names (`mmap_prot`), for the generator's lint.
pub fn find(name: &str) -> Option<&'static Xlat> {
    tables().find(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_statics_and_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for t in tables() {
            assert!(seen.insert(t.name), "table {} listed twice", t.name);
            assert!(
                !t.rows.is_empty() || !t.fields.is_empty(),
                "{} is empty",
                t.name
            );
            assert_eq!(t.name, t.name.to_lowercase(), "{}", t.name);
        }
        // Every `pub static X: Xlat` of the table files is in its list under its own name.
        let src = [
            include_str!("xlat/tables.rs"),
            include_str!("xlat/libraries.rs"),
        ];
        for line in src.iter().flat_map(|s| s.lines()) {
            if let Some(rest) = line.strip_prefix("pub static ") {
                let name = rest.split(':').next().unwrap();
                if !name.ends_with("TABLES") {
                    assert!(
                        find(&name.to_lowercase()).is_some(),
                        "{name} is not in TABLES"
                    );
                }
            }
        }
    }

    #[test]
    fn rows_of_one_field_stay_inside_it() {
        for t in tables() {
            for f in t.fields {
                for r in f.rows {
                    assert_eq!(
                        r.value & !f.mask,
                        0,
                        "{}: {} outside {}",
                        t.name,
                        r.name,
                        f.name
                    );
                }
            }
            assert!(
                flags(t.bad_flags(), t).is_err() || t.bad_flags() == -1,
                "{}",
                t.name
            );
            assert!(oneof(t.bad_value(), t).is_err(), "{}", t.name);
        }
    }

    #[test]
    fn long_tables_are_named_by_their_ends() {
        assert_eq!(
            flags(1 << 25, &X_EVENT_MASK).unwrap_err().msg.as_str(),
            "0x2000000 has bits 0x2000000 that are no x_event_mask flags \
             (KeyPressMask, KeyReleaseMask, … or OwnerGrabButtonMask (25 in all))"
        );
        assert_eq!(
            oneof(16, &X_GC_FUNCTION).unwrap_err().msg.as_str(),
            "16 is not GXclear, GXand, … or GXset (16 in all)"
        );
    }

    #[test]
    fn flag_words() {
        let prot = (libc::PROT_READ | libc::PROT_WRITE) as i64;
        assert!(flags(prot, &MMAP_PROT).is_ok());
        assert!(flags(0, &MMAP_PROT).is_ok(), "PROT_NONE");
        assert_eq!(
            flags(0x11, &MMAP_PROT).unwrap_err().msg.as_str(),
            "0x11 has bits 0x10 that are no mmap_prot flags \
             (PROT_READ, PROT_WRITE, PROT_EXEC, PROT_GROWSDOWN or PROT_GROWSUP)"
        );
        let anon = (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS) as i64;
        assert!(flags(anon, &MMAP_FLAGS).is_ok());
        assert!(flags(anon | (21 << 26) | libc::MAP_HUGETLB as i64, &MMAP_FLAGS).is_ok());
        assert_eq!(
            flags(libc::MAP_ANONYMOUS as i64, &MMAP_FLAGS)
                .unwrap_err()
                .msg
                .as_str(),
            "0x20 has MAP_TYPE 0x0, not MAP_SHARED, MAP_PRIVATE or MAP_SHARED_VALIDATE"
        );
        assert!(flags((libc::MS_SYNC | libc::MS_INVALIDATE) as i64, &MSYNC_FLAGS).is_ok());
        assert!(flags((libc::MS_SYNC | libc::MS_ASYNC) as i64, &MSYNC_FLAGS).is_err());
        assert!(
            flags(-1, &PIPE2_FLAGS).is_err(),
            "a negative int has bit 31"
        );
    }

    #[test]
    fn enumerations() {
        assert!(oneof(libc::MADV_DONTNEED as i64, &MADVISE_ADVICE).is_ok());
        assert_eq!(
            oneof(7, &POSIX_FADVISE_ADVICE).unwrap_err().msg.as_str(),
            "7 is not POSIX_FADV_NORMAL, POSIX_FADV_RANDOM, POSIX_FADV_SEQUENTIAL, \
             POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED or POSIX_FADV_NOREUSE"
        );
    }
}
