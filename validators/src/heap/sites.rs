//! The code addresses that allocate and free heap blocks, interned into 16-bit ids so that a
//! block's shadow remembers where it was allocated (or freed) in two bytes.
//!
//! The table is open-addressed by the address's hash, each slot written once (0 to an address,
//! by compare-and-swap) and never cleared: a lookup is a hash, a load and a compare; no lock, no
//! allocation, safe in a signal handler. An address that finds no slot within [`PROBES`] (a
//! program with tens of thousands of allocation sites) gets [`Site::UNKNOWN`]: its blocks are
//! still bounded, only their reports name no site.

use core::sync::atomic::{AtomicUsize, Ordering};

const BITS: u32 = 16;
const SLOTS: usize = 1 << BITS;
const PROBES: usize = 32;

/// Slot `i` holds the address whose id is `i` (0: free; id 0 itself is never handed out).
static TABLE: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];

/// The first slot an address tries.
#[inline(always)]
fn hash(ip: usize) -> usize {
    ip.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (usize::BITS - BITS)
}

/// Where a block was allocated or freed: an index into the call-site table.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Site(pub(super) u16);

impl Site {
    /// No site known (a caller that gave none, or a full table).
    pub const UNKNOWN: Site = Site(0);

    /// The id of the code address `ip` (a return address into the caller of the allocator).
    /// The common case, an address already in its hash's slot, inline: a multiply, a load and
    /// a compare. Address 0 hashes to slot 0, which stays 0: [`Site::UNKNOWN`] there too.
    #[inline(always)]
    pub fn of(ip: usize) -> Site {
        let i = hash(ip);
        if TABLE[i].load(Ordering::Relaxed) == ip {
            return Site(i as u16);
        }
        Site::probe(ip, i)
    }

    /// [`Site::of`] when `ip` is in its hash's slot (an address seen before, but for collisions),
    /// else `None`: no call, no store.
    #[inline(always)]
    pub fn known(ip: usize) -> Option<Site> {
        let i = hash(ip);
        (TABLE[i].load(Ordering::Relaxed) == ip).then_some(Site(i as u16))
    }

    /// [`Site::of`] for an address not in its hash's slot `i`: the next slots, claiming a free
    /// one (never slot 0).
    #[cold]
    #[inline(never)]
    fn probe(ip: usize, i: usize) -> Site {
        if ip == 0 {
            return Site::UNKNOWN;
        }
        let mut i = i.max(1);
        for _ in 0..PROBES {
            let slot = &TABLE[i];
            let cur = slot.load(Ordering::Relaxed);
            if cur == ip {
                return Site(i as u16);
            }
            if cur == 0 {
                match slot.compare_exchange(0, ip, Ordering::Relaxed, Ordering::Relaxed) {
                    Ok(_) => return Site(i as u16),
                    Err(theirs) if theirs == ip => return Site(i as u16),
                    Err(_) => {}
                }
            }
            // Slot 0 is skipped: it stands for "unknown".
            i = ((i + 1) & (SLOTS - 1)).max(1);
        }
        Site::UNKNOWN
    }

    /// The code address of this site (`None` for [`Site::UNKNOWN`]).
    pub fn ip(self) -> Option<usize> {
        match TABLE[usize::from(self.0)].load(Ordering::Relaxed) {
            0 => None,
            ip => Some(ip),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_keeps_its_id_and_gives_it_back() {
        let a = Site::of(0x5555_0000_1234);
        let b = Site::of(0x5555_0000_1240);
        assert_ne!(a, Site::UNKNOWN);
        assert_ne!(a, b);
        assert_eq!(Site::of(0x5555_0000_1234), a);
        assert_eq!(a.ip(), Some(0x5555_0000_1234));
        assert_eq!(b.ip(), Some(0x5555_0000_1240));
        assert_eq!(Site::of(0), Site::UNKNOWN);
        assert_eq!(Site::UNKNOWN.ip(), None);
    }
}
