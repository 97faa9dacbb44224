//! The dynamic symbol table of libdynchk.so: the hand-coded interposers are exported, unversioned
//! (an unversioned definition catches references bound to any version), and the functions that
//! must not get a wrapper frame are not.

mod common;

use std::process::Command;

/// Every name `src/hand` defines; the generator must leave these alone.
const HAND: &[&str] = &[
    "malloc",
    "calloc",
    "realloc",
    "free",
    "memalign",
    "aligned_alloc",
    "posix_memalign",
    "valloc",
    "pvalloc",
    "malloc_usable_size",
    "strlen",
    "open",
    "open64",
    "openat",
    "openat64",
    "fcntl",
    "fcntl64",
    "ioctl",
    "signal",
    "bsd_signal",
    "ssignal",
    "__sysv_signal",
    "sysv_signal",
    "sigset",
    "execl",
    "execlp",
    "execle",
    "printf",
    "fprintf",
    "sprintf",
    "snprintf",
    "dprintf",
    "asprintf",
    "syslog",
    "scanf",
    "fscanf",
    "sscanf",
    "__isoc99_scanf",
    "__isoc99_fscanf",
    "__isoc99_sscanf",
    "vprintf",
    "vfprintf",
    "vsprintf",
    "vsnprintf",
    "vdprintf",
    "vasprintf",
    "vsyslog",
    "vscanf",
    "vfscanf",
    "vsscanf",
    "__isoc99_vscanf",
    "__isoc99_vfscanf",
    "__isoc99_vsscanf",
    "__printf_chk",
    "__fprintf_chk",
    "__sprintf_chk",
    "__snprintf_chk",
    "__dprintf_chk",
    "__asprintf_chk",
    "__syslog_chk",
    "__vprintf_chk",
    "__vfprintf_chk",
    "__vsprintf_chk",
    "__vsnprintf_chk",
    "__vdprintf_chk",
    "__vasprintf_chk",
    "__vsyslog_chk",
    "mremap",
    "prctl",
    "syscall",
];

/// Return twice (a wrapper frame would be gone the second time) or share the parent's stack.
const NEVER: &[&str] = &[
    "setjmp",
    "_setjmp",
    "sigsetjmp",
    "__sigsetjmp",
    "getcontext",
    "vfork",
];

#[test]
fn hand_coded_interposers_are_exported_and_frame_sensitive_functions_are_not() {
    let out = Command::new("readelf")
        .args(["--dyn-syms", "-W"])
        .arg(common::lib())
        .output()
        .expect("readelf");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let defined: Vec<&str> = text
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 8 && f[3] == "FUNC" && f[4] == "GLOBAL" && f[6] != "UND").then(|| f[7])
        })
        .collect();
    for name in HAND {
        assert!(
            defined.contains(name),
            "{name} not exported (unversioned): {defined:?}"
        );
    }
    for name in NEVER {
        assert!(
            !defined.iter().any(|d| d.split('@').next() == Some(name)),
            "{name} must not be interposed"
        );
    }
}
