// The constants of the `flags(TABLE)` and `oneof(TABLE)` rules, one row a line (Linux x86-64,
// glibc). `c!(NAME)` takes the value from the `libc` crate; `h!(NAME = VALUE)` is typed by hand
// where the crate lacks the constant, and build.rs checks each such row against the C headers
// below, so VALUE must be a C expression too (no `_` in literals).
//
// C headers: sys/mman.h fcntl.h sys/file.h unistd.h sys/wait.h glob.h fnmatch.h regex.h wordexp.h ftw.h sys/eventfd.h sys/signalfd.h sys/timerfd.h sys/inotify.h sys/epoll.h sys/socket.h netinet/in.h netdb.h dlfcn.h time.h sys/time.h sys/resource.h stdio.h termios.h pthread.h sched.h spawn.h syslog.h sys/random.h sys/xattr.h sys/uio.h signal.h sys/ipc.h sys/shm.h sys/msg.h

use super::{Field, Row, Xlat};

/// A row whose value is the `libc` crate's constant of the same name.
macro_rules! c {
    ($name:ident) => {
        Row {
            name: stringify!($name),
            value: libc::$name as i64,
        }
    };
}

/// A row typed by hand (build.rs compares it with the C headers).
macro_rules! h {
    ($name:ident = $value:expr) => {
        Row {
            name: stringify!($name),
            value: $value,
        }
    };
}

/// A field's "neither" value.
const NONE: Row = Row {
    name: "0",
    value: 0,
};

/// Every table, for the generator's lint (`find`).
pub static TABLES: &[&Xlat] = &[
    &MMAP_PROT,
    &MMAP_FLAGS,
    &MSYNC_FLAGS,
    &MADVISE_ADVICE,
    &POSIX_MADVISE_ADVICE,
    &MREMAP_FLAGS,
    &MLOCK2_FLAGS,
    &MEMFD_FLAGS,
    &POSIX_FADVISE_ADVICE,
    &FALLOCATE_MODE,
    &FLOCK_OPERATION,
    &FCNTL_CMD,
    &FCNTL_LEASE,
    &LOCKF_CMD,
    &WAIT_OPTIONS,
    &WAITID_OPTIONS,
    &WAITID_IDTYPE,
    &GLOB_FLAGS,
    &FNMATCH_FLAGS,
    &REGCOMP_FLAGS,
    &REGEXEC_FLAGS,
    &WORDEXP_FLAGS,
    &NFTW_FLAGS,
    &PIPE2_FLAGS,
    &DUP3_FLAGS,
    &SOCK_FLAGS,
    &EVENTFD_FLAGS,
    &SIGNALFD_FLAGS,
    &TIMERFD_CREATE_FLAGS,
    &TIMERFD_SETTIME_FLAGS,
    &INOTIFY_INIT1_FLAGS,
    &EPOLL_CREATE1_FLAGS,
    &EPOLL_CTL_OP,
    &MSG_FLAGS,
    &SOCKOPT_LEVEL,
    &GETNAMEINFO_FLAGS,
    &ADDRINFO_FLAGS,
    &DLOPEN_MODE,
    &TIMER_FLAGS,
    &ITIMER_WHICH,
    &RLIMIT_RESOURCE,
    &RUSAGE_WHO,
    &PRIO_WHICH,
    &SETVBUF_MODE,
    &TCSETATTR_ACTIONS,
    &TCFLUSH_QUEUE,
    &TCFLOW_ACTION,
    &SCHED_POLICY,
    &SCHED_SETSCHEDULER_POLICY,
    &PTHREAD_SCHED_POLICY,
    &SPAWN_FLAGS,
    &OPENLOG_OPTION,
    &SYSLOG_FACILITY,
    &UNSHARE_FLAGS,
    &SETNS_NSTYPE,
    &GETRANDOM_FLAGS,
    &XATTR_FLAGS,
    &RWF_FLAGS,
    &SA_FLAGS,
    &SHMCTL_CMD,
    &MSGCTL_CMD,
];

// --- memory mappings

pub static MMAP_PROT: Xlat = Xlat::new(
    "mmap_prot",
    &[
        c!(PROT_READ),
        c!(PROT_WRITE),
        c!(PROT_EXEC),
        c!(PROT_GROWSDOWN),
        c!(PROT_GROWSUP),
    ],
);

pub static MMAP_FLAGS: Xlat = Xlat::new(
    "mmap_flags",
    &[
        c!(MAP_FIXED),
        c!(MAP_ANONYMOUS),
        c!(MAP_32BIT),
        c!(MAP_GROWSDOWN),
        c!(MAP_DENYWRITE),
        c!(MAP_EXECUTABLE),
        c!(MAP_LOCKED),
        c!(MAP_NORESERVE),
        c!(MAP_POPULATE),
        c!(MAP_NONBLOCK),
        c!(MAP_STACK),
        c!(MAP_HUGETLB),
        c!(MAP_SYNC),
        c!(MAP_FIXED_NOREPLACE),
    ],
)
.fields(&[Field {
    name: "MAP_TYPE",
    mask: 0x0f,
    rows: &[c!(MAP_SHARED), c!(MAP_PRIVATE), c!(MAP_SHARED_VALIDATE)],
}])
// The huge page size (log2) with MAP_HUGETLB.
.free((libc::MAP_HUGE_MASK as i64) << libc::MAP_HUGE_SHIFT);

pub static MSYNC_FLAGS: Xlat = Xlat::new("msync_flags", &[c!(MS_INVALIDATE)]).fields(&[Field {
    name: "MS_SYNC|MS_ASYNC",
    mask: (libc::MS_SYNC | libc::MS_ASYNC) as i64,
    rows: &[NONE, c!(MS_SYNC), c!(MS_ASYNC)],
}]);

pub static MADVISE_ADVICE: Xlat = Xlat::new(
    "madvise_advice",
    &[
        c!(MADV_NORMAL),
        c!(MADV_RANDOM),
        c!(MADV_SEQUENTIAL),
        c!(MADV_WILLNEED),
        c!(MADV_DONTNEED),
        c!(MADV_FREE),
        c!(MADV_REMOVE),
        c!(MADV_DONTFORK),
        c!(MADV_DOFORK),
        c!(MADV_MERGEABLE),
        c!(MADV_UNMERGEABLE),
        c!(MADV_HUGEPAGE),
        c!(MADV_NOHUGEPAGE),
        c!(MADV_DONTDUMP),
        c!(MADV_DODUMP),
        c!(MADV_WIPEONFORK),
        c!(MADV_KEEPONFORK),
        c!(MADV_COLD),
        c!(MADV_PAGEOUT),
        c!(MADV_POPULATE_READ),
        c!(MADV_POPULATE_WRITE),
        c!(MADV_DONTNEED_LOCKED),
        c!(MADV_COLLAPSE),
        c!(MADV_HWPOISON),
        c!(MADV_SOFT_OFFLINE),
    ],
);

pub static POSIX_MADVISE_ADVICE: Xlat = Xlat::new(
    "posix_madvise_advice",
    &[
        c!(POSIX_MADV_NORMAL),
        c!(POSIX_MADV_RANDOM),
        c!(POSIX_MADV_SEQUENTIAL),
        c!(POSIX_MADV_WILLNEED),
        c!(POSIX_MADV_DONTNEED),
    ],
);

pub static MREMAP_FLAGS: Xlat = Xlat::new(
    "mremap_flags",
    &[c!(MREMAP_MAYMOVE), c!(MREMAP_FIXED), c!(MREMAP_DONTUNMAP)],
);

pub static MLOCK2_FLAGS: Xlat = Xlat::new("mlock2_flags", &[c!(MLOCK_ONFAULT)]);

pub static MEMFD_FLAGS: Xlat = Xlat::new(
    "memfd_flags",
    &[c!(MFD_CLOEXEC), c!(MFD_ALLOW_SEALING), c!(MFD_HUGETLB)],
)
.free((libc::MFD_HUGE_MASK as i64) << libc::MFD_HUGE_SHIFT);

// --- files and descriptors

pub static POSIX_FADVISE_ADVICE: Xlat = Xlat::new(
    "posix_fadvise_advice",
    &[
        c!(POSIX_FADV_NORMAL),
        c!(POSIX_FADV_RANDOM),
        c!(POSIX_FADV_SEQUENTIAL),
        c!(POSIX_FADV_WILLNEED),
        c!(POSIX_FADV_DONTNEED),
        c!(POSIX_FADV_NOREUSE),
    ],
);

pub static FALLOCATE_MODE: Xlat = Xlat::new(
    "fallocate_mode",
    &[
        c!(FALLOC_FL_KEEP_SIZE),
        c!(FALLOC_FL_PUNCH_HOLE),
        c!(FALLOC_FL_COLLAPSE_RANGE),
        c!(FALLOC_FL_ZERO_RANGE),
        c!(FALLOC_FL_INSERT_RANGE),
        c!(FALLOC_FL_UNSHARE_RANGE),
    ],
);

pub static FLOCK_OPERATION: Xlat = Xlat::new("flock_operation", &[c!(LOCK_NB)]).fields(&[Field {
    name: "operation",
    mask: (libc::LOCK_SH | libc::LOCK_EX | libc::LOCK_UN) as i64,
    rows: &[c!(LOCK_SH), c!(LOCK_EX), c!(LOCK_UN)],
}]);

/// The commands Linux's fcntl knows (the 64-bit lock commands are the same numbers on LP64).
pub static FCNTL_CMD: Xlat = Xlat::new(
    "fcntl_cmd",
    &[
        c!(F_DUPFD),
        c!(F_GETFD),
        c!(F_SETFD),
        c!(F_GETFL),
        c!(F_SETFL),
        c!(F_GETLK),
        c!(F_SETLK),
        c!(F_SETLKW),
        c!(F_SETOWN),
        c!(F_GETOWN),
        h!(F_SETSIG = 10),
        h!(F_GETSIG = 11),
        h!(F_SETOWN_EX = 15),
        h!(F_GETOWN_EX = 16),
        c!(F_OFD_GETLK),
        c!(F_OFD_SETLK),
        c!(F_OFD_SETLKW),
        c!(F_SETLEASE),
        c!(F_GETLEASE),
        c!(F_NOTIFY),
        c!(F_DUPFD_CLOEXEC),
        c!(F_SETPIPE_SZ),
        c!(F_GETPIPE_SZ),
        c!(F_ADD_SEALS),
        c!(F_GET_SEALS),
        h!(F_GET_RW_HINT = 1035),
        h!(F_SET_RW_HINT = 1036),
    ],
);

/// F_SETLEASE's lease types.
pub static FCNTL_LEASE: Xlat = Xlat::new("fcntl_lease", &[c!(F_RDLCK), c!(F_WRLCK), c!(F_UNLCK)]);

pub static LOCKF_CMD: Xlat = Xlat::new(
    "lockf_cmd",
    &[c!(F_ULOCK), c!(F_LOCK), c!(F_TLOCK), c!(F_TEST)],
);

pub static PIPE2_FLAGS: Xlat = Xlat::new(
    "pipe2_flags",
    &[c!(O_CLOEXEC), c!(O_NONBLOCK), c!(O_DIRECT)],
);

pub static DUP3_FLAGS: Xlat = Xlat::new("dup3_flags", &[c!(O_CLOEXEC)]);

pub static EVENTFD_FLAGS: Xlat = Xlat::new(
    "eventfd_flags",
    &[c!(EFD_CLOEXEC), c!(EFD_NONBLOCK), c!(EFD_SEMAPHORE)],
);

pub static SIGNALFD_FLAGS: Xlat = Xlat::new("signalfd_flags", &[c!(SFD_CLOEXEC), c!(SFD_NONBLOCK)]);

pub static TIMERFD_CREATE_FLAGS: Xlat =
    Xlat::new("timerfd_create_flags", &[c!(TFD_CLOEXEC), c!(TFD_NONBLOCK)]);

pub static TIMERFD_SETTIME_FLAGS: Xlat = Xlat::new(
    "timerfd_settime_flags",
    &[c!(TFD_TIMER_ABSTIME), c!(TFD_TIMER_CANCEL_ON_SET)],
);

pub static INOTIFY_INIT1_FLAGS: Xlat =
    Xlat::new("inotify_init1_flags", &[c!(IN_NONBLOCK), c!(IN_CLOEXEC)]);

pub static EPOLL_CREATE1_FLAGS: Xlat = Xlat::new("epoll_create1_flags", &[c!(EPOLL_CLOEXEC)]);

pub static EPOLL_CTL_OP: Xlat = Xlat::new(
    "epoll_ctl_op",
    &[c!(EPOLL_CTL_ADD), c!(EPOLL_CTL_DEL), c!(EPOLL_CTL_MOD)],
);

pub static XATTR_FLAGS: Xlat = Xlat::new("xattr_flags", &[]).fields(&[Field {
    name: "XATTR_CREATE|XATTR_REPLACE",
    mask: (libc::XATTR_CREATE | libc::XATTR_REPLACE) as i64,
    rows: &[NONE, c!(XATTR_CREATE), c!(XATTR_REPLACE)],
}]);

pub static RWF_FLAGS: Xlat = Xlat::new(
    "rwf_flags",
    &[
        c!(RWF_HIPRI),
        c!(RWF_DSYNC),
        c!(RWF_SYNC),
        c!(RWF_NOWAIT),
        c!(RWF_APPEND),
    ],
);

// --- processes

pub static WAIT_OPTIONS: Xlat = Xlat::new(
    "wait_options",
    &[
        c!(WNOHANG),
        c!(WUNTRACED),
        c!(WCONTINUED),
        c!(__WNOTHREAD),
        c!(__WALL),
        c!(__WCLONE),
    ],
);

pub static WAITID_OPTIONS: Xlat = Xlat::new(
    "waitid_options",
    &[
        c!(WEXITED),
        c!(WSTOPPED),
        c!(WCONTINUED),
        c!(WNOHANG),
        c!(WNOWAIT),
        c!(__WNOTHREAD),
        c!(__WALL),
        c!(__WCLONE),
    ],
);

pub static WAITID_IDTYPE: Xlat = Xlat::new(
    "waitid_idtype",
    &[c!(P_ALL), c!(P_PID), c!(P_PGID), c!(P_PIDFD)],
);

pub static RLIMIT_RESOURCE: Xlat = Xlat::new(
    "rlimit_resource",
    &[
        c!(RLIMIT_CPU),
        c!(RLIMIT_FSIZE),
        c!(RLIMIT_DATA),
        c!(RLIMIT_STACK),
        c!(RLIMIT_CORE),
        c!(RLIMIT_RSS),
        c!(RLIMIT_NPROC),
        c!(RLIMIT_NOFILE),
        c!(RLIMIT_MEMLOCK),
        c!(RLIMIT_AS),
        c!(RLIMIT_LOCKS),
        c!(RLIMIT_SIGPENDING),
        c!(RLIMIT_MSGQUEUE),
        c!(RLIMIT_NICE),
        c!(RLIMIT_RTPRIO),
        c!(RLIMIT_RTTIME),
    ],
);

pub static RUSAGE_WHO: Xlat = Xlat::new(
    "rusage_who",
    &[c!(RUSAGE_SELF), c!(RUSAGE_CHILDREN), c!(RUSAGE_THREAD)],
);

pub static PRIO_WHICH: Xlat = Xlat::new(
    "prio_which",
    &[c!(PRIO_PROCESS), c!(PRIO_PGRP), c!(PRIO_USER)],
);

pub static SCHED_POLICY: Xlat = Xlat::new(
    "sched_policy",
    &[
        c!(SCHED_OTHER),
        c!(SCHED_FIFO),
        c!(SCHED_RR),
        c!(SCHED_BATCH),
        c!(SCHED_IDLE),
        c!(SCHED_DEADLINE),
    ],
);

/// sched_setscheduler: SCHED_DEADLINE needs sched_setattr.
pub static SCHED_SETSCHEDULER_POLICY: Xlat =
    Xlat::new("sched_setscheduler_policy", &[c!(SCHED_RESET_ON_FORK)]).fields(&[Field {
        name: "policy",
        mask: 0x7,
        rows: &[
            c!(SCHED_OTHER),
            c!(SCHED_FIFO),
            c!(SCHED_RR),
            c!(SCHED_BATCH),
            c!(SCHED_IDLE),
        ],
    }]);

/// What pthread_attr_setschedpolicy and posix_spawnattr_setschedpolicy accept.
pub static PTHREAD_SCHED_POLICY: Xlat = Xlat::new(
    "pthread_sched_policy",
    &[c!(SCHED_OTHER), c!(SCHED_FIFO), c!(SCHED_RR)],
);

pub static SPAWN_FLAGS: Xlat = Xlat::new(
    "spawn_flags",
    &[
        c!(POSIX_SPAWN_RESETIDS),
        c!(POSIX_SPAWN_SETPGROUP),
        c!(POSIX_SPAWN_SETSIGDEF),
        c!(POSIX_SPAWN_SETSIGMASK),
        c!(POSIX_SPAWN_SETSCHEDPARAM),
        c!(POSIX_SPAWN_SETSCHEDULER),
        c!(POSIX_SPAWN_USEVFORK),
        c!(POSIX_SPAWN_SETSID),
    ],
);

pub static UNSHARE_FLAGS: Xlat = Xlat::new(
    "unshare_flags",
    &[
        c!(CLONE_FILES),
        c!(CLONE_FS),
        c!(CLONE_NEWCGROUP),
        c!(CLONE_NEWIPC),
        c!(CLONE_NEWNET),
        c!(CLONE_NEWNS),
        c!(CLONE_NEWPID),
        c!(CLONE_NEWTIME),
        c!(CLONE_NEWUSER),
        c!(CLONE_NEWUTS),
        c!(CLONE_SYSVSEM),
        c!(CLONE_THREAD),
        c!(CLONE_SIGHAND),
        c!(CLONE_VM),
    ],
);

/// setns: 0 (any type) or one namespace type.
pub static SETNS_NSTYPE: Xlat = Xlat::new(
    "setns_nstype",
    &[
        NONE,
        c!(CLONE_NEWCGROUP),
        c!(CLONE_NEWIPC),
        c!(CLONE_NEWNET),
        c!(CLONE_NEWNS),
        c!(CLONE_NEWPID),
        c!(CLONE_NEWTIME),
        c!(CLONE_NEWUSER),
        c!(CLONE_NEWUTS),
    ],
);

pub static SA_FLAGS: Xlat = Xlat::new(
    "sa_flags",
    &[
        c!(SA_NOCLDSTOP),
        c!(SA_NOCLDWAIT),
        c!(SA_SIGINFO),
        c!(SA_ONSTACK),
        c!(SA_RESTART),
        c!(SA_NODEFER),
        c!(SA_RESETHAND),
        // glibc sets it on every action and returns it in the old one, which programs that save
        // and restore their handlers (curl) pass back.
        h!(SA_RESTORER = 0x04000000), // kernel header: asm/signal.h
    ],
);

// --- pattern matching

pub static GLOB_FLAGS: Xlat = Xlat::new(
    "glob_flags",
    &[
        c!(GLOB_ERR),
        c!(GLOB_MARK),
        c!(GLOB_NOSORT),
        c!(GLOB_DOOFFS),
        c!(GLOB_NOCHECK),
        c!(GLOB_APPEND),
        c!(GLOB_NOESCAPE),
        c!(GLOB_PERIOD),
        h!(GLOB_MAGCHAR = 1 << 8),
        c!(GLOB_ALTDIRFUNC),
        c!(GLOB_BRACE),
        c!(GLOB_NOMAGIC),
        c!(GLOB_TILDE),
        c!(GLOB_ONLYDIR),
        c!(GLOB_TILDE_CHECK),
    ],
);

pub static FNMATCH_FLAGS: Xlat = Xlat::new(
    "fnmatch_flags",
    &[
        c!(FNM_NOESCAPE),
        c!(FNM_PATHNAME),
        c!(FNM_PERIOD),
        h!(FNM_LEADING_DIR = 1 << 3),
        c!(FNM_CASEFOLD),
        h!(FNM_EXTMATCH = 1 << 5),
    ],
);

pub static REGCOMP_FLAGS: Xlat = Xlat::new(
    "regcomp_flags",
    &[
        c!(REG_EXTENDED),
        c!(REG_ICASE),
        c!(REG_NEWLINE),
        c!(REG_NOSUB),
    ],
);

pub static REGEXEC_FLAGS: Xlat = Xlat::new(
    "regexec_flags",
    &[c!(REG_NOTBOL), c!(REG_NOTEOL), c!(REG_STARTEND)],
);

pub static WORDEXP_FLAGS: Xlat = Xlat::new(
    "wordexp_flags",
    &[
        h!(WRDE_DOOFFS = 1 << 0),
        h!(WRDE_APPEND = 1 << 1),
        h!(WRDE_NOCMD = 1 << 2),
        h!(WRDE_REUSE = 1 << 3),
        h!(WRDE_SHOWERR = 1 << 4),
        h!(WRDE_UNDEF = 1 << 5),
    ],
);

pub static NFTW_FLAGS: Xlat = Xlat::new(
    "nftw_flags",
    &[
        h!(FTW_PHYS = 1),
        h!(FTW_MOUNT = 2),
        h!(FTW_CHDIR = 4),
        h!(FTW_DEPTH = 8),
        h!(FTW_ACTIONRETVAL = 16),
    ],
);

// --- sockets

/// accept4's flags (and the flag bits of a socket type).
pub static SOCK_FLAGS: Xlat = Xlat::new("sock_flags", &[c!(SOCK_NONBLOCK), c!(SOCK_CLOEXEC)]);

/// Every MSG_* flag of send*/recv* (the kernel ignores the ones a direction does not use).
pub static MSG_FLAGS: Xlat = Xlat::new(
    "msg_flags",
    &[
        c!(MSG_OOB),
        c!(MSG_PEEK),
        c!(MSG_DONTROUTE),
        c!(MSG_CTRUNC),
        h!(MSG_PROXY = 0x10),
        c!(MSG_TRUNC),
        c!(MSG_DONTWAIT),
        c!(MSG_EOR),
        c!(MSG_WAITALL),
        c!(MSG_FIN),
        c!(MSG_SYN),
        c!(MSG_CONFIRM),
        c!(MSG_RST),
        c!(MSG_ERRQUEUE),
        c!(MSG_NOSIGNAL),
        c!(MSG_MORE),
        c!(MSG_WAITFORONE),
        h!(MSG_BATCH = 0x40000),
        c!(MSG_ZEROCOPY),
        c!(MSG_FASTOPEN),
        c!(MSG_CMSG_CLOEXEC),
    ],
);

/// setsockopt/getsockopt levels: SOL_SOCKET and the protocols with options of their own.
pub static SOCKOPT_LEVEL: Xlat = Xlat::new(
    "sockopt_level",
    &[
        c!(SOL_SOCKET),
        c!(IPPROTO_IP),
        c!(IPPROTO_IPV6),
        c!(IPPROTO_ICMPV6),
        c!(IPPROTO_TCP),
        c!(IPPROTO_UDP),
        c!(IPPROTO_UDPLITE),
        c!(IPPROTO_RAW),
        c!(IPPROTO_SCTP),
        c!(IPPROTO_MPTCP),
        c!(SOL_RAW),
        c!(SOL_DECNET),
        c!(SOL_X25),
        c!(SOL_PACKET),
        c!(SOL_ATM),
        c!(SOL_AAL),
        c!(SOL_IRDA),
        c!(SOL_NETBEUI),
        c!(SOL_LLC),
        c!(SOL_DCCP),
        c!(SOL_NETLINK),
        c!(SOL_TIPC),
        c!(SOL_RXRPC),
        c!(SOL_PPPOL2TP),
        c!(SOL_BLUETOOTH),
        c!(SOL_PNPIPE),
        c!(SOL_RDS),
        c!(SOL_IUCV),
        c!(SOL_CAIF),
        c!(SOL_ALG),
        c!(SOL_NFC),
        h!(SOL_KCM = 281),
        c!(SOL_TLS),
        c!(SOL_XDP),
    ],
);

pub static GETNAMEINFO_FLAGS: Xlat = Xlat::new(
    "getnameinfo_flags",
    &[
        c!(NI_NUMERICHOST),
        c!(NI_NUMERICSERV),
        c!(NI_NOFQDN),
        c!(NI_NAMEREQD),
        c!(NI_DGRAM),
        h!(NI_IDN = 32),
    ],
);

pub static ADDRINFO_FLAGS: Xlat = Xlat::new(
    "addrinfo_flags",
    &[
        c!(AI_PASSIVE),
        c!(AI_CANONNAME),
        c!(AI_NUMERICHOST),
        c!(AI_V4MAPPED),
        c!(AI_ALL),
        c!(AI_ADDRCONFIG),
        h!(AI_IDN = 0x40),
        h!(AI_CANONIDN = 0x80),
        c!(AI_NUMERICSERV),
    ],
);

// --- dynamic linking, time, stdio, terminals, logging, System V IPC

pub static DLOPEN_MODE: Xlat = Xlat::new(
    "dlopen_mode",
    &[
        c!(RTLD_NOLOAD),
        c!(RTLD_DEEPBIND),
        c!(RTLD_GLOBAL),
        c!(RTLD_NODELETE),
    ],
)
.fields(&[Field {
    name: "RTLD_LAZY|RTLD_NOW",
    mask: (libc::RTLD_LAZY | libc::RTLD_NOW) as i64,
    rows: &[c!(RTLD_LAZY), c!(RTLD_NOW)],
}]);

pub static TIMER_FLAGS: Xlat = Xlat::new("timer_flags", &[c!(TIMER_ABSTIME)]);

pub static ITIMER_WHICH: Xlat = Xlat::new(
    "itimer_which",
    &[c!(ITIMER_REAL), c!(ITIMER_VIRTUAL), c!(ITIMER_PROF)],
);

pub static SETVBUF_MODE: Xlat = Xlat::new("setvbuf_mode", &[c!(_IOFBF), c!(_IOLBF), c!(_IONBF)]);

pub static TCSETATTR_ACTIONS: Xlat = Xlat::new(
    "tcsetattr_actions",
    &[c!(TCSANOW), c!(TCSADRAIN), c!(TCSAFLUSH)],
);

pub static TCFLUSH_QUEUE: Xlat = Xlat::new(
    "tcflush_queue",
    &[c!(TCIFLUSH), c!(TCOFLUSH), c!(TCIOFLUSH)],
);

pub static TCFLOW_ACTION: Xlat = Xlat::new(
    "tcflow_action",
    &[c!(TCOOFF), c!(TCOON), c!(TCIOFF), c!(TCION)],
);

pub static OPENLOG_OPTION: Xlat = Xlat::new(
    "openlog_option",
    &[
        c!(LOG_PID),
        c!(LOG_CONS),
        c!(LOG_ODELAY),
        c!(LOG_NDELAY),
        c!(LOG_NOWAIT),
        c!(LOG_PERROR),
    ],
);

pub static SYSLOG_FACILITY: Xlat = Xlat::new(
    "syslog_facility",
    &[
        c!(LOG_KERN),
        c!(LOG_USER),
        c!(LOG_MAIL),
        c!(LOG_DAEMON),
        c!(LOG_AUTH),
        c!(LOG_SYSLOG),
        c!(LOG_LPR),
        c!(LOG_NEWS),
        c!(LOG_UUCP),
        c!(LOG_CRON),
        c!(LOG_AUTHPRIV),
        c!(LOG_FTP),
        c!(LOG_LOCAL0),
        c!(LOG_LOCAL1),
        c!(LOG_LOCAL2),
        c!(LOG_LOCAL3),
        c!(LOG_LOCAL4),
        c!(LOG_LOCAL5),
        c!(LOG_LOCAL6),
        c!(LOG_LOCAL7),
    ],
);

pub static GETRANDOM_FLAGS: Xlat = Xlat::new("getrandom_flags", &[c!(GRND_NONBLOCK)]).fields(&[
    // GRND_INSECURE with GRND_RANDOM is EINVAL.
    Field {
        name: "GRND_RANDOM|GRND_INSECURE",
        mask: (libc::GRND_RANDOM | libc::GRND_INSECURE) as i64,
        rows: &[NONE, c!(GRND_RANDOM), c!(GRND_INSECURE)],
    },
]);

pub static SHMCTL_CMD: Xlat = Xlat::new(
    "shmctl_cmd",
    &[
        c!(IPC_RMID),
        c!(IPC_SET),
        c!(IPC_STAT),
        c!(IPC_INFO),
        c!(SHM_LOCK),
        c!(SHM_UNLOCK),
        h!(SHM_STAT = 13),
        h!(SHM_INFO = 14),
        h!(SHM_STAT_ANY = 15),
    ],
);

pub static MSGCTL_CMD: Xlat = Xlat::new(
    "msgctl_cmd",
    &[
        c!(IPC_RMID),
        c!(IPC_SET),
        c!(IPC_STAT),
        c!(IPC_INFO),
        c!(MSG_STAT),
        c!(MSG_INFO),
        h!(MSG_STAT_ANY = 13),
    ],
);
