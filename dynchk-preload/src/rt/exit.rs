//! Thread exit: the counts a thread keeps pending in its state are added to the totals by the
//! destructor of a thread-specific key, so that the summary of a program whose threads come and
//! go counts their calls too (a pool thread may hold up to 65,535 calls per interface entry).
//! The thread that ran the library constructor needs none: the summary at exit flushes the
//! thread that writes it. So a program that starts no thread makes no key (nothing at startup).

use core::ffi::{c_int, c_uint, c_void};
use core::sync::atomic::{
    AtomicU32, AtomicUsize,
    Ordering::{Acquire, Relaxed, Release},
};

use super::{stats, thread, Real};

/// The key once made; [`NONE`] before, [`MAKING`] while a thread makes it, [`FAILED`] if it
/// could not be made.
static KEY: AtomicU32 = AtomicU32::new(NONE);
const NONE: u32 = u32::MAX;
const MAKING: u32 = u32::MAX - 1;
const FAILED: u32 = u32::MAX - 2;

/// The state of the thread that ran the library constructor (0 before): it flushes at exit.
static MAIN: AtomicUsize = AtomicUsize::new(0);

/// Keys below this live in the thread's own descriptor in glibc (its first block of
/// `PTHREAD_KEY_2NDLEVEL_SIZE` values): setting one allocates nothing, where a higher key's
/// first value in a thread makes glibc `calloc` a block (through the allocator interposers).
const IN_DESCRIPTOR: u32 = 32;

type KeyCreate =
    unsafe extern "C" fn(*mut c_uint, Option<unsafe extern "C" fn(*mut c_void)>) -> c_int;
type SetSpecific = unsafe extern "C" fn(c_uint, *const c_void) -> c_int;
type KeyDelete = unsafe extern "C" fn(c_uint) -> c_int;

// The originals, called directly: these are the checker's own calls, neither checked nor counted.
static KEY_CREATE: Real = Real::new(c"pthread_key_create", c"GLIBC_2.2.5");
static SET_SPECIFIC: Real = Real::new(c"pthread_setspecific", c"GLIBC_2.2.5");
static KEY_DELETE: Real = Real::new(c"pthread_key_delete", c"GLIBC_2.2.5");

/// Notes the constructor's thread (library constructor).
pub fn init() {
    MAIN.store(thread::state() as usize, Relaxed);
}

/// Asks for this thread's counts to be flushed when it exits: once per thread, from its first
/// counted call. Nothing for the constructor's thread, for threads that count before the
/// constructor ran (other libraries' constructors), or when the key is not one of the
/// descriptor's (a program that made 32 keys before its second thread counted). The key is one
/// of the program's `PTHREAD_KEYS_MAX` (1,024): a program that makes all of them gets one fewer.
pub fn flush_at_exit() {
    let main = MAIN.load(Relaxed);
    if main == 0 || main == thread::state() as usize {
        return;
    }
    let mut key = match KEY.load(Acquire) {
        NONE => make_key(),
        key => key,
    };
    // Another thread is making it. Waiting cannot deadlock: making it calls nothing interposed,
    // and a signal handler that interrupts the maker does not get here (its thread asked).
    while key == MAKING {
        core::hint::spin_loop();
        key = KEY.load(Acquire);
    }
    if key < IN_DESCRIPTOR {
        // SAFETY: a key of this process; the value only needs to be non-null for the destructor
        // to run, and is never dereferenced.
        unsafe { SET_SPECIFIC.get::<SetSpecific>()(key, core::ptr::dangling()) };
    }
}

/// Makes the key, unless another thread is making or made it: then what [`KEY`] holds.
#[cold]
fn make_key() -> u32 {
    if KEY
        .compare_exchange(NONE, MAKING, Relaxed, Relaxed)
        .is_err()
    {
        return KEY.load(Acquire);
    }
    let mut key: c_uint = 0;
    // SAFETY: the prototype of pthread_key_create; `key` is written on success.
    let made = unsafe { KEY_CREATE.get::<KeyCreate>()(&mut key, Some(flush_thread)) } == 0;
    if made && key >= IN_DESCRIPTOR {
        // Unusable (see IN_DESCRIPTOR): given back, so that the program keeps all the keys it
        // had (PTHREAD_KEYS_MAX in all).
        // SAFETY: the key just made, which no thread has a value for.
        unsafe { KEY_DELETE.get::<KeyDelete>()(key) };
    }
    let key = if made && key < IN_DESCRIPTOR {
        key
    } else {
        FAILED
    };
    KEY.store(key, Release);
    key
}

/// The key's destructor, run by the exiting thread (at `pthread_exit` or the return of its start
/// routine, before its TLS goes).
unsafe extern "C" fn flush_thread(_: *mut c_void) {
    stats::flush(thread::state());
}
