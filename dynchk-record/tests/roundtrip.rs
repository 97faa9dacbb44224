//! Every record kind written with every field set, read back by the reader field by field; and
//! docs/report-format.md kept true: its JSON examples parse, and it names every field written.

use dynchk_record::read::{self, Record};
use dynchk_record::{
    kind, BlockEvent, BlockSite, Buf, Call, ConfigWarning, Format, Frames, Missing, Severity, Site,
    Start, Summary, SummarySource, Value, Violation, MODULE_CAP,
};
use std::collections::BTreeSet;

struct TestFrames(&'static [(&'static str, u64)]);

impl Frames for TestFrames {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn frame(&self, i: usize, name: &mut [u8; MODULE_CAP]) -> (usize, u64) {
        let (m, off) = self.0[i];
        name[..m.len()].copy_from_slice(m.as_bytes());
        (m.len(), off)
    }
}

struct Tables;

impl SummarySource for Tables {
    fn by_check(&self, f: &mut dyn FnMut(&str, u64)) {
        f("RWaddress", 2);
        f("filedescriptor", 1001);
    }
    fn used(&self, f: &mut dyn FnMut(&str, u64)) {
        f("read", 1200);
        f("close", 14);
    }
    fn suppressed(&self, f: &mut dyn FnMut(&[u8], u64)) {
        f(b"write:*:filedescriptor", 7);
    }
    fn sites(&self, f: &mut dyn FnMut(&Site<'_>)) {
        f(&Site {
            module: b"/usr/bin/\"odd\"\x01",
            offset: 0x5a3c,
            interface: "close",
            param: 0,
            member: None,
            check: "filedescriptor",
            count: 1000,
        });
        f(&Site {
            module: b"/bin/p",
            offset: 0x20,
            interface: "sendmsg",
            param: 1,
            member: Some("msg_iov[2].iov_base"),
            check: "Rdaddress",
            count: 1,
        });
    }
}

const VIOLATION: Violation<'static> = Violation {
    pid: 4242,
    tid: 4243,
    interface: "sendmsg",
    library: "libc",
    version: "GLIBC_2.2.5",
    param: 1,
    param_name: "msg",
    member: Some("msg_iov[2].iov_base"),
    check: "Rdaddress",
    severity: Severity::Portability,
    value: Value::Pointer(0x10),
    message: "0x10 is not a readable address (no \"mapping\")\n",
    block: Some((
        BlockEvent::Allocated,
        BlockSite {
            module: b"/usr/bin/ls",
            offset: 0x5a00,
        },
    )),
};

const FRAMES: TestFrames = TestFrames(&[("/x/libdynchk.so", 0x10), ("/usr/bin/ls", 0x5a3c)]);

const SUMMARY: Summary = Summary {
    pid: 4242,
    calls: u64::MAX,
    checked: 309877,
    violations: 1003,
    distinct: 2,
    interfaces_used: 2,
    unchecked_in_handler: 5,
    exec: true,
};

const START: Start<'static> = Start {
    pid: 4243,
    ppid: 4242,
    exe: b"/usr/bin/wc",
    cmdline: b"wc\0-l\0a b\x1b\0",
    time: 1_796_115_600,
};

const CONFIG: ConfigWarning<'static> = ConfigWarning {
    pid: 7,
    variable: "DYNCHK_FORMAT",
    value: b"xml",
    used: "json",
    why: "not json or text",
};

fn line(write: impl FnOnce(&mut Buf<'_>)) -> String {
    let mut mem = vec![0u8; 1 << 16];
    let mut b = Buf::new(&mut mem);
    write(&mut b);
    String::from_utf8(b.finish_line().to_vec()).unwrap()
}

/// Every record kind, JSON.
fn all_json() -> Vec<String> {
    let lines = vec![
        line(|b| VIOLATION.write(b, Format::Json, &FRAMES)),
        line(|b| SUMMARY.write(b, Format::Json, &Tables)),
        line(|b| START.write(b, Format::Json)),
        line(|b| CONFIG.write(b, Format::Json)),
        line(|b| {
            Missing {
                pid: 1,
                tid: 2,
                interface: b"foo",
                version: b"GLIBC_2.99",
            }
            .write(b, Format::Json)
        }),
        line(|b| {
            Call {
                pid: 1,
                tid: 2,
                interface: "read",
            }
            .write(b, Format::Json)
        }),
    ];
    for l in &lines {
        assert_eq!(l.matches('\n').count(), 1, "one line: {l}");
    }
    lines
}

fn parse(l: &str) -> Record {
    read::parse_line(l.trim_end().as_bytes()).unwrap().0
}

#[test]
fn violation_round_trips() {
    let Record::Violation(v) = parse(&all_json()[0]) else {
        panic!("not a violation")
    };
    assert_eq!(v.pid, 4242);
    assert_eq!(v.tid, Some(4243));
    assert_eq!(v.interface, "sendmsg");
    assert_eq!(v.library.as_deref(), Some("libc"));
    assert_eq!(v.version.as_deref(), Some("GLIBC_2.2.5"));
    assert_eq!(v.param, 1);
    assert_eq!(v.param_name.as_deref(), Some("msg"));
    assert_eq!(v.member.as_deref(), Some("msg_iov[2].iov_base"));
    assert_eq!(v.check, "Rdaddress");
    assert_eq!(v.severity, Severity::Portability);
    assert_eq!(v.value.as_deref(), Some("0x10"));
    assert_eq!(v.message, VIOLATION.message);
    assert_eq!(v.count, 1);
    assert_eq!(v.backtrace.len(), 2);
    assert_eq!(v.backtrace[1].module, "/usr/bin/ls");
    assert_eq!(v.backtrace[1].offset_value(), Some(0x5a3c));
    let at = v.allocated_at.expect("allocated_at");
    assert_eq!(
        (at.module.as_str(), at.offset_value()),
        ("/usr/bin/ls", Some(0x5a00))
    );
    assert_eq!(v.freed_at, None);
    let freed = Violation {
        block: Some((
            BlockEvent::Freed,
            BlockSite {
                module: b"/bin/p",
                offset: 0x20,
            },
        )),
        ..VIOLATION
    };
    let Record::Violation(v) = parse(&line(|b| freed.write(b, Format::Json, &FRAMES))) else {
        panic!("not a violation")
    };
    let at = v.freed_at.expect("freed_at");
    assert_eq!(
        (at.module.as_str(), at.offset_value()),
        ("/bin/p", Some(0x20))
    );
    assert_eq!(v.allocated_at, None);
    let text = line(|b| freed.write(b, Format::Text, &FRAMES));
    assert!(
        text.contains("\n    freed at /bin/p+0x20\n    #0 "),
        "{text}"
    );
}

#[test]
fn values_are_spelt_as_their_c_type_prints() {
    for (value, spelt) in [
        (Value::Signed(-1), "-1"),
        (Value::Signed(i64::MIN), "-9223372036854775808"),
        (Value::Unsigned(u64::MAX), "18446744073709551615"),
        (Value::Unsigned(12345), "12345"),
        (Value::Pointer(0x7ffd_1234), "0x7ffd1234"),
    ] {
        let line = line(|b| Violation { value, ..VIOLATION }.write(b, Format::Json, &FRAMES));
        let Record::Violation(v) = parse(&line) else {
            panic!("not a violation: {line}")
        };
        assert_eq!(v.value.as_deref(), Some(spelt), "{value:?}");
    }
}

#[test]
fn summary_round_trips() {
    let Record::Summary(s) = parse(&all_json()[1]) else {
        panic!("not a summary")
    };
    assert_eq!(
        (
            s.pid,
            s.calls,
            s.checked,
            s.violations,
            s.distinct,
            s.interfaces_used
        ),
        (4242, u64::MAX, 309877, 1003, 2, 2)
    );
    assert_eq!(s.unchecked_in_handler, 5);
    assert!(s.exec);
    assert_eq!(s.by_check["filedescriptor"], 1001);
    assert_eq!(s.by_check["RWaddress"], 2);
    assert_eq!(s.used["read"], 1200);
    assert_eq!(s.used["close"], 14);
    assert_eq!(s.suppressed["write:*:filedescriptor"], 7);
    assert_eq!(s.sites.len(), 2);
    assert_eq!(s.sites[0].site.module, "/usr/bin/\"odd\"\u{1}");
    assert_eq!(s.sites[0].site.offset_value(), Some(0x5a3c));
    assert_eq!(
        (s.sites[0].interface.as_str(), s.sites[0].param),
        ("close", 0)
    );
    assert_eq!(s.sites[0].check, "filedescriptor");
    assert_eq!(s.sites[0].count, 1000);
    assert_eq!(s.sites[0].member, None);
    assert_eq!(s.sites[1].member.as_deref(), Some("msg_iov[2].iov_base"));
}

#[test]
fn start_config_missing_and_call_round_trip() {
    let json = all_json();
    let Record::Start(s) = parse(&json[2]) else {
        panic!("not a start")
    };
    assert_eq!((s.pid, s.ppid), (4243, Some(4242)));
    assert_eq!(s.exe.as_deref(), Some("/usr/bin/wc"));
    assert_eq!(s.argv, ["wc", "-l", "a b\u{1b}"]);
    assert_eq!(s.time.as_deref(), Some("2026-12-01T09:00:00Z"));
    let Record::Config(c) = parse(&json[3]) else {
        panic!("not a config")
    };
    assert_eq!(
        (
            c.pid,
            c.variable.as_str(),
            c.value.as_str(),
            c.used.as_str()
        ),
        (7, "DYNCHK_FORMAT", "xml", "json")
    );
    assert_eq!(c.why, "not json or text");
    let Record::Missing(m) = parse(&json[4]) else {
        panic!("not a missing")
    };
    assert_eq!(
        (m.interface.as_str(), m.version.as_str()),
        ("foo", "GLIBC_2.99")
    );
    let Record::Call(c) = parse(&json[5]) else {
        panic!("not a call")
    };
    assert_eq!((c.pid, c.interface.as_str()), (1, "read"));
    assert!(c.args.is_empty());
}

#[test]
fn text_rendering_is_the_readers_rendering() {
    let text = line(|b| VIOLATION.write(b, Format::Text, &FRAMES));
    assert!(
        text.starts_with(
            "dynchk[4242]: sendmsg(arg1 msg.msg_iov[2].iov_base): Rdaddress (portability): 0x10 is"
        ),
        "{text}"
    );
    assert!(text.contains(
        "\\x0a\n    allocated at /usr/bin/ls+0x5a00\n    #0 /x/libdynchk.so+0x10\n    #1 /usr/bin/ls+0x5a3c\n"
    ));
    let Record::Violation(v) = parse(&all_json()[0]) else {
        panic!()
    };
    assert!(text.contains(&v.callee()), "{text} vs {}", v.callee());
    let with = |param: i64, name: Option<&str>, member: Option<&str>| {
        read::Violation {
            param,
            param_name: name.map(String::from),
            member: member.map(String::from),
            ..v.clone()
        }
        .callee()
    };
    assert_eq!(with(1, Some("buf"), None), "sendmsg(arg1 buf)");
    assert_eq!(
        with(1, Some("iov"), Some("iov[1].iov_base")),
        "sendmsg(arg1 iov[1].iov_base)"
    );
    assert_eq!(with(-1, None, None), "sendmsg(call)");
    assert_eq!(with(0, Some("\x1b[2J"), None), "sendmsg(arg0 \\x1b[2J)");
    // The value follows the message when the message does not spell it, in both renderings.
    assert!(text.contains(&v.detail()), "{text} vs {}", v.detail());
    assert!(!text.contains("(value"), "{text}");
    let unspelt = Violation {
        value: Value::Signed(12345),
        message: "not an address family (flags 0x3039)",
        ..VIOLATION
    };
    let text = line(|b| unspelt.write(b, Format::Text, &FRAMES));
    assert!(
        text.contains(": not an address family (flags 0x3039) (value 12345)\n"),
        "{text}"
    );
    let Record::Violation(v) = parse(&line(|b| unspelt.write(b, Format::Json, &FRAMES))) else {
        panic!()
    };
    assert_eq!(
        v.detail(),
        "not an address family (flags 0x3039) (value 12345)"
    );
    // No start line on a terminal.
    assert_eq!(line(|b| START.write(b, Format::Text)), "\n");
}

#[test]
fn a_full_buffer_still_closes_the_record() {
    let mut mem = [0u8; 300];
    let mut b = Buf::new(&mut mem);
    SUMMARY.write(&mut b, Format::Json, &Tables);
    let l = b.finish_line().to_vec();
    assert!(matches!(
        parse(std::str::from_utf8(&l).unwrap()),
        Record::Summary(_)
    ));
}

fn doc() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/report-format.md");
    std::fs::read_to_string(path).expect("docs/report-format.md")
}

fn keys(v: &serde_json::Value, out: &mut BTreeSet<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                out.insert(k.clone());
                // Map values keyed by data (check names, interfaces, rules) are not field names.
                if !matches!(k.as_str(), "by_check" | "used" | "suppressed") {
                    keys(v, out);
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| keys(v, out)),
        _ => {}
    }
}

#[test]
fn the_document_names_every_field_and_kind_written() {
    let doc = doc();
    let mut written = BTreeSet::new();
    for l in all_json() {
        keys(&serde_json::from_str(&l).unwrap(), &mut written);
    }
    let missing: Vec<_> = written
        .iter()
        .filter(|k| !doc.contains(&format!("\"{k}\"")) && !doc.contains(&format!("`{k}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "fields written but not in docs/report-format.md: {missing:?}"
    );
    for k in kind::ALL {
        assert!(doc.contains(&format!("`{k}`")), "kind {k} not documented");
    }
}

#[test]
fn the_documents_json_examples_are_records() {
    let doc = doc();
    let mut blocks = 0;
    let mut kinds = BTreeSet::new();
    for block in doc.split("```json").skip(1) {
        let body = block.split("```").next().unwrap();
        for v in serde_json::Deserializer::from_str(body).into_iter::<serde_json::Value>() {
            let v = v.unwrap_or_else(|e| panic!("example does not parse ({e}):\n{body}"));
            let r = read::parse_value(&v).unwrap_or_else(|e| panic!("{e}:\n{body}"));
            assert!(!matches!(r, Record::Other(_)), "unknown kind in\n{body}");
            kinds.insert(v["kind"].as_str().unwrap().to_string());
        }
        blocks += 1;
    }
    assert!(blocks >= 5, "{blocks} JSON examples");
    let all: BTreeSet<String> = kind::ALL.iter().map(|k| k.to_string()).collect();
    assert_eq!(kinds, all, "every kind has an example");
}
