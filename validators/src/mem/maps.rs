//! Reads `/proc/self/maps` into a snapshot.

use super::snapshot::{Snapshot, INVALIDATIONS};
use super::{EXEC, FILE, READ, STACK, WRITE};
use crate::sys;
use core::sync::atomic::Ordering;

/// Read buffer for `/proc/self/maps`; small because the caller may run on a signal stack.
const READ_CHUNK: usize = 1024;

/// Reads `/proc/self/maps` into `snap`; false when it cannot be opened.
///
/// # Safety
/// Nobody else may write `snap` meanwhile.
pub(super) unsafe fn fill(snap: &Snapshot) -> bool {
    snap.generation
        .store(INVALIDATIONS.load(Ordering::Acquire), Ordering::Relaxed);
    let Some(fd) = sys::open_ro(c"/proc/self/maps") else {
        return false;
    };
    let mut parser = Parser::default();
    let mut buf = [0u8; READ_CHUNK];
    while let Some(n) = sys::read(fd, &mut buf) {
        for &b in &buf[..n] {
            parser.byte(b, snap);
        }
    }
    sys::close(fd);
    snap.complete.store(!parser.overflow, Ordering::Relaxed);
    snap.len.store(parser.len, Ordering::Relaxed);
    true
}

/// A byte-at-a-time parser of `start-end perms offset dev inode path` lines, so that lines of
/// any length (long paths) need no line buffer.
#[derive(Default)]
pub(super) struct Parser {
    field: u8,
    start: usize,
    end: usize,
    flags: usize,
    perm: u8,
    inode: u64,
    /// How much of `[stack` the path matched; `usize::MAX` once decided.
    tag: usize,
    len: usize,
    overflow: bool,
    last_end: usize,
}

const STACK_TAG: &[u8] = b"[stack";

impl Parser {
    fn byte(&mut self, b: u8, snap: &Snapshot) {
        let hex = |b: u8| (b as char).to_digit(16).unwrap_or(0) as usize;
        match (self.field, b) {
            (_, b'\n') => self.emit(snap),
            (0, b'-') | (1..=5, b' ') => self.field += 1,
            (0, _) => self.start = self.start << 4 | hex(b),
            (1, _) => self.end = self.end << 4 | hex(b),
            (2, _) => {
                self.flags |= match (self.perm, b) {
                    (0, b'r') => READ,
                    (1, b'w') => WRITE,
                    (2, b'x') => EXEC,
                    _ => 0,
                };
                self.perm += 1;
            }
            (5, _) => self.inode = self.inode * 10 + u64::from(b.wrapping_sub(b'0')),
            (6, b' ') if self.tag == 0 => {}
            (6, _) if self.tag != usize::MAX => {
                let next = STACK_TAG.get(self.tag);
                if next == Some(&b) {
                    self.tag += 1;
                } else {
                    // `[stack]`, or `[stack:TID]` before Linux 4.5; not `[stacked…]`.
                    if next.is_none() && matches!(b, b']' | b':') {
                        self.flags |= STACK;
                    }
                    self.tag = usize::MAX;
                }
            }
            _ => {}
        }
    }

    fn emit(&mut self, snap: &Snapshot) {
        // A map that changed between two reads can repeat a region; keep the snapshot sorted.
        if self.field >= 5 && self.start < self.end && self.start >= self.last_end {
            self.last_end = self.end;
            if self.inode != 0 {
                self.flags |= FILE;
            }
            match snap.regions.get(self.len) {
                Some(r) => {
                    r.start.store(self.start, Ordering::Relaxed);
                    r.end.store(self.end, Ordering::Relaxed);
                    r.flags.store(self.flags, Ordering::Relaxed);
                    self.len += 1;
                }
                None => self.overflow = true,
            }
        }
        *self = Parser {
            len: self.len,
            overflow: self.overflow,
            last_end: self.last_end,
            ..Parser::default()
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mem::snapshot::{new_snapshot, CAPACITY};
    use crate::testutil::PAGE;

    /// A private snapshot parsed from `text`, unmapped on drop.
    struct Parsed(*mut Snapshot);

    impl Parsed {
        fn new(text: &[u8]) -> Parsed {
            let p = new_snapshot().unwrap();
            // SAFETY: a fresh private snapshot.
            let snap = unsafe { &*p };
            let mut parser = Parser::default();
            for &b in text {
                parser.byte(b, snap);
            }
            snap.complete.store(!parser.overflow, Ordering::Relaxed);
            snap.len.store(parser.len, Ordering::Relaxed);
            Parsed(p)
        }
        fn snap(&self) -> &Snapshot {
            // SAFETY: mapped until drop.
            unsafe { &*self.0 }
        }
    }

    impl Drop for Parsed {
        fn drop(&mut self) {
            // SAFETY: never published.
            unsafe { sys::unmap(self.0.cast(), core::mem::size_of::<Snapshot>()) };
        }
    }

    #[test]
    fn parser_reads_every_field_of_proc_maps_lines() {
        let long = "/very/long/".repeat(400);
        let text = format!(
            "00400000-00452000 r-xp 00000000 08:02 173521      /usr/bin/dbus-daemon\n\
             00652000-00655000 rw-p 00052000 08:02 173521      {long}\n\
             00e03000-00e24000 rw-p 00000000 00:00 0           [heap]\n\
             00e03000-00e24000 rw-p 00000000 00:00 0           [heap]\n\
             7fff5a9ba000-7fff5a9db000 rw-p 00000000 00:00 0   [stack]\n\
             7fff5a9db000-7fff5a9dc000 ---p 00000000 00:00 0   [stacked-not]\n\
             ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]\n"
        );
        let parsed = Parsed::new(text.as_bytes());
        let s = parsed.snap();
        let got: Vec<_> = (0..s.len())
            .map(|i| {
                let r = &s.regions[i];
                (
                    r.start.load(Ordering::Relaxed),
                    r.end.load(Ordering::Relaxed),
                    s.seen(i).flags,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (0x400000, 0x452000, READ | EXEC | FILE),
                (0x652000, 0x655000, READ | WRITE | FILE),
                (0xe03000, 0xe24000, READ | WRITE),
                (0x7fff5a9ba000, 0x7fff5a9db000, READ | WRITE | STACK),
                (0x7fff5a9db000, 0x7fff5a9dc000, 0),
                (0xffffffffff600000, 0xffffffffff601000, EXEC),
            ],
            "the repeated [heap] line is dropped, [stack] alone is the stack"
        );
        assert!(s.complete.load(Ordering::Relaxed));
        assert_eq!(s.find(0x452000), None);
        assert_eq!(s.find(0x451fff), Some(0));
        let span = s.span(0x7fff5a9ba010, READ, usize::MAX, usize::MAX);
        assert_eq!(
            (span.region.map(|r| r.flags), span.bytes),
            (Some(READ | WRITE | STACK), 0x21000 - 0x10)
        );
    }

    #[test]
    fn a_map_larger_than_the_cache_is_marked_incomplete() {
        let text: String = (0..CAPACITY + 1)
            .map(|i| {
                format!(
                    "{:x}-{:x} r--p 00000000 00:00 0\n",
                    (i + 1) * PAGE * 2,
                    (i + 1) * PAGE * 2 + PAGE
                )
            })
            .collect();
        let parsed = Parsed::new(text.as_bytes());
        assert_eq!(parsed.snap().len(), CAPACITY);
        let last = (CAPACITY + 1) * PAGE * 2;
        let span = parsed.snap().span(last, READ, 1, usize::MAX);
        assert!(
            span.region.is_none() && !span.complete,
            "a miss there proves nothing"
        );
    }
}
