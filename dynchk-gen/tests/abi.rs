//! Every generated interposer forwards its arguments with the register widths the database gives.
//! A prototype that is wrong in the database (the LSB data says `int readlink(…)`; glibc returns
//! `ssize_t`) would cut a 64-bit result or drop arguments. This test compares, for every interface
//! the host's headers declare, the number of parameters and the ABI class and width of each
//! parameter and of the result with the database's. The host side comes from GCC: `-aux-info`
//! lists the prototypes of a translation unit that includes the headers, and
//! `__builtin_classify_type` / `sizeof` classify every type spelled there.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use dynchk_gen::build::Generator;
use dynchk_gen::model::Abi;
use dynchk_gen::plan::Disposition;

/// Headers that declare interfaces in scope besides those the database names (`Interface.header`
/// gives LSB's header, which is not always where glibc declares the function). Every header is
/// guarded by `__has_include`.
const HEADERS: &[&str] = &[
    "stdio.h",
    "stdlib.h",
    "string.h",
    "strings.h",
    "unistd.h",
    "fcntl.h",
    "sys/stat.h",
    "sys/statvfs.h",
    "sys/vfs.h",
    "sys/types.h",
    "sys/socket.h",
    "netinet/in.h",
    "arpa/inet.h",
    "netdb.h",
    "net/if.h",
    "ifaddrs.h",
    "sys/uio.h",
    "sys/mman.h",
    "sys/time.h",
    "time.h",
    "sys/times.h",
    "sys/resource.h",
    "sys/wait.h",
    "signal.h",
    "poll.h",
    "sys/select.h",
    "sys/epoll.h",
    "sys/eventfd.h",
    "sys/signalfd.h",
    "sys/timerfd.h",
    "sys/inotify.h",
    "sys/sendfile.h",
    "sys/file.h",
    "sys/ioctl.h",
    "sys/ipc.h",
    "sys/msg.h",
    "sys/sem.h",
    "sys/shm.h",
    "sys/utsname.h",
    "sys/prctl.h",
    "sys/random.h",
    "sys/xattr.h",
    "sys/sysinfo.h",
    "sys/personality.h",
    "sys/mount.h",
    "sys/swap.h",
    "sys/timex.h",
    "sys/syscall.h",
    "sched.h",
    "spawn.h",
    "dirent.h",
    "ftw.h",
    "glob.h",
    "fnmatch.h",
    "wordexp.h",
    "regex.h",
    "pwd.h",
    "grp.h",
    "shadow.h",
    "utmp.h",
    "utmpx.h",
    "pty.h",
    "termios.h",
    "locale.h",
    "langinfo.h",
    "iconv.h",
    "libintl.h",
    "nl_types.h",
    "wchar.h",
    "wctype.h",
    "ctype.h",
    "uchar.h",
    "err.h",
    "error.h",
    "syslog.h",
    "search.h",
    "getopt.h",
    "libgen.h",
    "fenv.h",
    "math.h",
    "complex.h",
    "pthread.h",
    "semaphore.h",
    "dlfcn.h",
    "link.h",
    "mqueue.h",
    "aio.h",
    "stdio_ext.h",
    "ucontext.h",
    "setjmp.h",
    "monetary.h",
    "fmtmsg.h",
    "ulimit.h",
    "utime.h",
    "malloc.h",
    "execinfo.h",
    "argz.h",
    "envz.h",
    "obstack.h",
    "printf.h",
    "gnu/libc-version.h",
    "sys/statfs.h",
    "sys/auxv.h",
    "inttypes.h",
    "netinet/ether.h",
    "rpc/netdb.h",
    "sys/sysmacros.h",
    "crypt.h",
    "zlib.h",
];

/// (class, width) as the calling convention sees it; integers up to 4 bytes travel alike.
fn host_class(classify: i64, size: u64) -> (&'static str, u64) {
    match (classify, size) {
        (1..=5, s) if s <= 4 => ("int", 4),
        (1..=5, s) => ("int", s),
        (8, 16) => ("x87", 16),
        (8, s) => ("sse", s),
        (9, 32) => ("x87", 32),
        (9, s) => ("complex", s),
        (_, s) => ("aggregate", s),
    }
}

fn db_class(abi: Abi, size: Option<i64>) -> (&'static str, u64) {
    match abi {
        Abi::Int { size, .. } if size <= 4 => ("int", 4),
        Abi::Int { size, .. } => ("int", size as u64),
        Abi::Ptr => ("int", 8),
        Abi::F32 => ("sse", 4),
        Abi::F64 => ("sse", 8),
        Abi::X87 => ("x87", size.unwrap_or(16) as u64),
        Abi::Complex(s) => ("complex", 2 * s as u64),
        Abi::Aggregate { size, .. } => ("aggregate", size as u64),
        Abi::Void => ("void", 0),
        Abi::Variadic => ("...", 0),
        Abi::Unknown => ("unknown", 0),
    }
}

fn split_top(s: &str) -> Vec<String> {
    let (mut out, mut depth, mut cur) = (Vec::new(), 0, String::new());
    for c in s.chars() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ',' if depth == 0 => {
                out.push(cur.trim().to_string());
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// name → (return type text, parameter type texts) from `-aux-info` lines such as
/// `/* /usr/include/unistd.h:838:NC */ extern ssize_t readlink (const char *, char *, size_t);`
fn prototypes(aux: &str) -> BTreeMap<String, (String, Vec<String>)> {
    let mut out = BTreeMap::new();
    for line in aux.lines() {
        let Some(decl) = line.split_once("*/ ").map(|(_, d)| d.trim()) else {
            continue;
        };
        let Some(decl) = decl
            .strip_prefix("extern ")
            .and_then(|d| d.strip_suffix(';'))
        else {
            continue;
        };
        // The name is the identifier before the first " (" at depth 0.
        let Some(open) = decl.find(" (") else {
            continue;
        };
        let head = &decl[..open];
        if head.contains('(') {
            continue; // a function returning a function pointer: not worth parsing here
        }
        let (ret, name) = match head.rfind([' ', '*']) {
            Some(i) => (head[..=i].trim(), head[i + 1..].trim()),
            None => continue,
        };
        let params = decl[open + 2..decl.len() - 1].to_string();
        let mut params = split_top(&params);
        if params == ["void"] {
            params.clear();
        }
        out.insert(name.to_string(), (ret.to_string(), params));
    }
    out
}

fn scratch() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("dynchk-abi-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The headers of the interfaces of every library in the `Library` table, and [`HEADERS`].
fn headers() -> BTreeSet<String> {
    let db =
        dynchk_gen::db::Db::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../db")).unwrap();
    let mut stmt = db
        .conn
        .prepare("SELECT DISTINCT header FROM Interface WHERE header IS NOT NULL AND header != ''")
        .unwrap();
    let mut all: BTreeSet<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    all.extend(HEADERS.iter().map(|h| h.to_string()));
    all
}

fn prelude() -> String {
    let mut c = String::from("#define _GNU_SOURCE\n#define _LARGEFILE64_SOURCE\n");
    // The fixed list first: its order is the one that compiles (a few headers need others first).
    let all = headers();
    let extra = all.iter().filter(|h| !HEADERS.contains(&h.as_str()));
    for h in HEADERS.iter().copied().chain(extra.map(String::as_str)) {
        c.push_str(&format!(
            "#if __has_include(<{h}>)\n#include <{h}>\n#endif\n"
        ));
    }
    c
}

#[test]
fn database_prototypes_have_the_host_abi() {
    let g = Generator::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../db")).unwrap();
    let dir = scratch();
    let src = dir.join("protos.c");
    std::fs::write(&src, prelude()).unwrap();
    let aux = dir.join("protos.aux");
    let out = Command::new("gcc")
        .arg("-fsyntax-only")
        .arg("-aux-info")
        .arg(&aux)
        .arg(&src)
        .output()
        .expect("gcc runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let protos = prototypes(&std::fs::read_to_string(&aux).unwrap());

    // Classify every non-pointer type text the interposed functions use.
    let interposed: Vec<_> = g
        .plans
        .iter()
        .filter(|p| p.disposition == Disposition::Generated)
        .collect();
    let mut texts = BTreeSet::new();
    for p in &interposed {
        if let Some((ret, params)) = protos.get(&p.name) {
            for t in std::iter::once(ret).chain(params) {
                if !t.contains(['*', '[', '(']) && t != "void" && t != "..." {
                    texts.insert(t.clone());
                }
            }
        }
    }
    let texts: Vec<String> = texts.into_iter().collect();
    let mut c = prelude();
    for (i, t) in texts.iter().enumerate() {
        c.push_str(&format!("static {t} v{i};\n"));
    }
    c.push_str("int main(void) {\n");
    for i in 0..texts.len() {
        c.push_str(&format!(
            "  printf(\"%d %zu\\n\", __builtin_classify_type(v{i}), sizeof v{i});\n"
        ));
    }
    c.push_str("  return 0;\n}\n");
    std::fs::write(dir.join("classify.c"), c).unwrap();
    let exe = dir.join("classify");
    let out = Command::new("gcc")
        .arg("-w")
        .arg("-o")
        .arg(&exe)
        .arg(dir.join("classify.c"))
        .arg("-lm")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Command::new(&exe).output().unwrap();
    let mut class: BTreeMap<&str, (&str, u64)> = BTreeMap::new();
    for (t, line) in texts
        .iter()
        .zip(String::from_utf8_lossy(&run.stdout).lines())
    {
        let mut it = line.split(' ').map(|n| n.parse::<i64>().unwrap());
        let (k, s) = (it.next().unwrap(), it.next().unwrap() as u64);
        class.insert(t, host_class(k, s));
    }
    let host = |t: &str| -> (&'static str, u64) {
        match t {
            "void" => ("void", 0),
            "..." => ("...", 0),
            // glibc's transparent unions of socket address pointers travel as one pointer.
            "__SOCKADDR_ARG" | "__CONST_SOCKADDR_ARG" => ("int", 8),
            t if t.contains(['*', '[', '(']) => ("int", 8),
            t => class[t],
        }
    };

    let mut compared = 0;
    let mut wrong = Vec::new();
    for p in &interposed {
        let Some((hret, hparams)) = protos.get(&p.name) else {
            continue;
        };
        let iface = g
            .spec
            .interfaces
            .iter()
            .find(|i| i.name == p.name && i.lib == p.lib)
            .unwrap();
        let dret = db_class(
            g.spec.abi(iface.ret).unwrap(),
            g.spec.size_of(iface.ret).unwrap(),
        );
        let dparams: Vec<_> = iface
            .params
            .iter()
            .map(|q| db_class(g.spec.abi(q.ty).unwrap(), g.spec.size_of(q.ty).unwrap()))
            .collect();
        let hp: Vec<_> = hparams.iter().map(|t| host(t)).collect();
        compared += 1;
        if host(hret) != dret || hp != dparams {
            wrong.push(format!(
                "{} ({}): host {hret} ({}) vs database {}",
                p.name,
                p.source,
                hparams.join(", "),
                p.prototype
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        compared > 1000,
        "only {compared} interfaces compared with the host headers"
    );
    assert!(
        wrong.is_empty(),
        "{} prototypes differ from the host ABI:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
