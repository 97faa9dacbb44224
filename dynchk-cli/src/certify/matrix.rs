//! The matrix file (TOML): what to certify. The field names are a public contract (README,
//! "Certification matrix"); every malformed matrix is refused with its file, line, field and
//! what would be allowed.

use anyhow::{bail, Result};
use regex::bytes::Regex;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// Per-run limit when neither the entry nor `[defaults]` gives one.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMatrix {
    #[serde(default)]
    defaults: RawDefaults,
    #[serde(default)]
    app: Vec<RawApp>,
    #[serde(default)]
    service: Vec<RawService>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    timeout: Option<Spanned<String>>,
    jobs: Option<usize>,
    #[serde(default)]
    env: BTreeMap<String, String>,
}

/// Fields both kinds of entry have.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApp {
    name: Spanned<String>,
    cmd: Spanned<Vec<String>>,
    stdin: Option<Spanned<String>>,
    stdin_text: Option<String>,
    cwd: Option<String>,
    expect_status: Option<i32>,
    compare: Option<Vec<Field>>,
    #[serde(default)]
    mask: Vec<Spanned<String>>,
    #[serde(default)]
    needs: Vec<Need>,
    run_for: Option<Spanned<String>>,
    timeout: Option<Spanned<String>>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    scope: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    name: Spanned<String>,
    cmd: Spanned<Vec<String>>,
    ready: Spanned<String>,
    load: Spanned<Vec<String>>,
    metric: Option<Spanned<String>>,
    metric_kind: Option<MetricKind>,
    stop: Option<Spanned<String>>,
    cwd: Option<String>,
    #[serde(default)]
    needs: Vec<Need>,
    timeout: Option<Spanned<String>>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    scope: Vec<String>,
}

/// What the transparency comparison looks at.
#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Field {
    /// The exit status (or the signal).
    Status,
    /// Standard output, after masks.
    Stdout,
    /// Standard error, after masks.
    Stderr,
}

/// What an entry needs around it.
#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Need {
    /// One Xvfb for the whole certification run, `DISPLAY` set.
    X11,
}

/// What a service's `metric` number measures.
#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum MetricKind {
    /// Seconds the load took: lower is better (the default).
    #[default]
    Time,
    /// Requests (or operations) per second: higher is better.
    Rate,
}

/// Standard input of both runs.
#[derive(Debug, Clone)]
pub enum Stdin {
    /// `/dev/null`.
    Null,
    /// A file (resolved against the matrix's directory).
    File(PathBuf),
    /// Literal text.
    Text(String),
}

/// Where the runs start.
#[derive(Debug, Clone)]
pub enum Cwd {
    /// A fresh empty directory per run (the same path for the plain and the checked run).
    Scratch,
    /// A fixed directory (resolved against the matrix's directory).
    Path(PathBuf),
}

/// The service part of a `[[service]]` entry.
#[derive(Debug, Clone)]
pub struct Service {
    /// Port to wait for (`{port}` is the free port chosen per run: `None`).
    pub ready_port: Option<u16>,
    /// The load driver's argv (may contain `{port}`), run unchecked.
    pub load: Vec<String>,
    /// The driver's number, first capture group.
    pub metric: Option<Regex>,
    /// What that number measures.
    pub metric_kind: MetricKind,
    /// Signal that stops the server.
    pub stop: i32,
}

/// One entry, with `[defaults]` applied.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Unique name.
    pub name: String,
    /// argv, exactly.
    pub cmd: Vec<String>,
    /// Environment added to certify's own (defaults, then the entry's).
    pub env: BTreeMap<String, String>,
    /// Standard input.
    pub stdin: Stdin,
    /// Working directory.
    pub cwd: Cwd,
    /// Status the plain run must have, when given.
    pub expect_status: Option<i32>,
    /// What is compared (never empty).
    pub compare: Vec<Field>,
    /// Blanked before comparing.
    pub masks: Vec<Regex>,
    /// An Xvfb display.
    pub x11: bool,
    /// Stop the app (SIGTERM) after this long.
    pub run_for: Option<Duration>,
    /// Limit per run.
    pub timeout: Duration,
    /// Modules whose violations decide the verdict (empty: all).
    pub scope: Vec<String>,
    /// Set for `[[service]]` entries.
    pub service: Option<Service>,
}

impl Entry {
    /// `app` or `service`, as results name the kind.
    pub fn kind(&self) -> &'static str {
        if self.service.is_some() {
            "service"
        } else {
            "app"
        }
    }
}

/// A parsed matrix.
#[derive(Debug, Clone)]
pub struct Matrix {
    /// The file, as given.
    pub path: PathBuf,
    /// Hash of its bytes: shards of one matrix share it.
    pub hash: String,
    /// `[defaults] jobs` (0: number of CPUs).
    pub jobs: usize,
    /// Entries in file order (apps, then services).
    pub entries: Vec<Entry>,
}

/// Reads and checks a matrix file.
pub fn load(path: &Path) -> Result<Matrix> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        anyhow::anyhow!(
            "cannot read the matrix {}: {e} (give the path of a .toml matrix file)",
            path.display()
        )
    })?;
    parse(path, &text)
}

/// Where a byte offset of the file is, as `FILE:LINE`.
struct Locator<'a> {
    file: &'a Path,
    text: &'a str,
}

impl Locator<'_> {
    fn at(&self, offset: usize) -> String {
        let line = self.text[..offset.min(self.text.len())]
            .bytes()
            .filter(|&b| b == b'\n')
            .count()
            + 1;
        format!("{}:{line}", self.file.display())
    }

    fn fail<T>(&self, offset: usize, msg: impl std::fmt::Display) -> Result<T> {
        bail!("{}: {msg}", self.at(offset))
    }
}

/// Parses a matrix's text (`path` is for messages and relative paths).
pub fn parse(path: &Path, text: &str) -> Result<Matrix> {
    let loc = Locator { file: path, text };
    let raw: RawMatrix = match toml::from_str(text) {
        Ok(r) => r,
        Err(e) => {
            let at = e.span().map(|s| s.start).unwrap_or(0);
            return loc.fail(at, format!("{} ({})", e.message().trim_end(), ALLOWED));
        }
    };
    let base = path.parent().unwrap_or(Path::new("."));
    let default_timeout = match &raw.defaults.timeout {
        Some(t) => duration(&loc, "[defaults]", "timeout", t)?,
        None => DEFAULT_TIMEOUT,
    };
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut entries = Vec::new();
    for app in raw.app {
        let common = Common {
            name: app.name,
            cmd: app.cmd,
            env: app.env,
            cwd: app.cwd,
            needs: app.needs,
            timeout: app.timeout,
            scope: app.scope,
        };
        let mut e = common.resolve(&loc, base, &raw.defaults.env, default_timeout, &mut seen)?;
        let what = format!("app `{}`", e.name);
        e.stdin = match (app.stdin, app.stdin_text) {
            (Some(f), Some(_)) => {
                return loc.fail(
                    f.span().start,
                    format!("{what}: `stdin` and `stdin_text` both given; keep one"),
                )
            }
            (Some(f), None) => {
                let p = base.join(f.get_ref());
                if !p.is_file() {
                    return loc.fail(
                        f.span().start,
                        format!(
                            "{what}: field `stdin`: {} is not a file (a path relative to the \
                             matrix's directory, or use `stdin_text = \"...\"`)",
                            p.display()
                        ),
                    );
                }
                Stdin::File(p)
            }
            (None, Some(t)) => Stdin::Text(t),
            (None, None) => Stdin::Null,
        };
        e.expect_status = app.expect_status;
        if let Some(c) = app.compare {
            if c.is_empty() {
                return loc.fail(
                    e_span(&seen, &e.name),
                    format!(
                        "{what}: field `compare` is empty; allowed: any of \"status\", \
                         \"stdout\", \"stderr\""
                    ),
                );
            }
            e.compare = c;
        }
        for m in &app.mask {
            match Regex::new(m.get_ref()) {
                Ok(r) => e.masks.push(r),
                Err(err) => {
                    return loc.fail(
                        m.span().start,
                        format!(
                            "{what}: field `mask`: the regex {:?} does not compile: {}",
                            m.get_ref(),
                            one_line(&err.to_string())
                        ),
                    )
                }
            }
        }
        if let Some(r) = &app.run_for {
            e.run_for = Some(duration(&loc, &what, "run_for", r)?);
        }
        entries.push(e);
    }
    for svc in raw.service {
        let common = Common {
            name: svc.name,
            cmd: svc.cmd,
            env: svc.env,
            cwd: svc.cwd,
            needs: svc.needs,
            timeout: svc.timeout,
            scope: svc.scope,
        };
        let mut e = common.resolve(&loc, base, &raw.defaults.env, default_timeout, &mut seen)?;
        let what = format!("service `{}`", e.name);
        let ready_port = match svc.ready.get_ref().strip_prefix("tcp:") {
            Some("{port}") => None,
            Some(p) if p.parse::<u16>().is_ok_and(|p| p > 0) => p.parse().ok(),
            _ => {
                return loc.fail(
                    svc.ready.span().start,
                    format!(
                        "{what}: field `ready`: {:?} is not understood; allowed: \"tcp:{{port}}\" \
                         or \"tcp:PORT\"",
                        svc.ready.get_ref()
                    ),
                )
            }
        };
        if svc.load.get_ref().is_empty() {
            return loc.fail(
                svc.load.span().start,
                format!("{what}: field `load` is empty; give the load driver's argv"),
            );
        }
        let metric = match &svc.metric {
            None => None,
            Some(m) => Some(match Regex::new(m.get_ref()) {
                Ok(r) if r.captures_len() >= 2 => r,
                Ok(_) => {
                    return loc.fail(
                        m.span().start,
                        format!(
                            "{what}: field `metric`: the regex {:?} has no capture group; put \
                             the number in parentheses, e.g. 'Took ([0-9.]+) seconds'",
                            m.get_ref()
                        ),
                    )
                }
                Err(err) => {
                    return loc.fail(
                        m.span().start,
                        format!(
                            "{what}: field `metric`: the regex {:?} does not compile: {}",
                            m.get_ref(),
                            one_line(&err.to_string())
                        ),
                    )
                }
            }),
        };
        let stop = match &svc.stop {
            None => libc::SIGTERM,
            Some(s) => signal_number(s.get_ref()).ok_or_else(|| {
                anyhow::anyhow!(
                    "{}: {what}: field `stop`: {:?} is not a signal name; allowed: {}",
                    loc.at(s.span().start),
                    s.get_ref(),
                    SIGNALS.map(|(n, _)| n).join(", ")
                )
            })?,
        };
        e.service = Some(Service {
            ready_port,
            load: svc.load.into_inner(),
            metric,
            metric_kind: svc.metric_kind.unwrap_or_default(),
            stop,
        });
        e.compare = vec![Field::Status];
        entries.push(e);
    }
    Ok(Matrix {
        path: path.to_path_buf(),
        hash: super::shard::hash_hex(text.as_bytes()),
        jobs: raw.defaults.jobs.unwrap_or(0),
        entries,
    })
}

/// What the top level and entries allow, appended to TOML-level errors.
const ALLOWED: &str = "a matrix has [defaults] (timeout, jobs, env), [[app]] entries (name, cmd, \
stdin, stdin_text, cwd, expect_status, compare, mask, needs, run_for, timeout, env, scope) and \
[[service]] entries (name, cmd, ready, load, metric, metric_kind, stop, cwd, needs, timeout, env, \
scope); see the README, \"Certification matrix\"";

/// The byte offset of an entry's name, for messages about the entry as a whole.
fn e_span(seen: &HashMap<String, usize>, name: &str) -> usize {
    seen.get(name).copied().unwrap_or(0)
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Fields shared by apps and services.
struct Common {
    name: Spanned<String>,
    cmd: Spanned<Vec<String>>,
    env: BTreeMap<String, String>,
    cwd: Option<String>,
    needs: Vec<Need>,
    timeout: Option<Spanned<String>>,
    scope: Vec<String>,
}

impl Common {
    fn resolve(
        self,
        loc: &Locator,
        base: &Path,
        default_env: &BTreeMap<String, String>,
        default_timeout: Duration,
        seen: &mut HashMap<String, usize>,
    ) -> Result<Entry> {
        let name = self.name.get_ref().clone();
        let at = self.name.span().start;
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        {
            return loc.fail(
                at,
                format!(
                    "field `name`: {name:?} is not allowed; a name is one or more of A-Z a-z 0-9 . _ -"
                ),
            );
        }
        if let Some(&first) = seen.get(&name) {
            return loc.fail(
                at,
                format!(
                    "field `name`: duplicate name {name:?} (first at {}); names must be unique",
                    loc.at(first)
                ),
            );
        }
        seen.insert(name.clone(), at);
        let what = format!("entry `{name}`");
        if self.cmd.get_ref().is_empty() || self.cmd.get_ref()[0].is_empty() {
            return loc.fail(
                self.cmd.span().start,
                format!("{what}: field `cmd` is empty; give the argv, e.g. [\"ls\", \"-l\"]"),
            );
        }
        let timeout = match &self.timeout {
            Some(t) => duration(loc, &what, "timeout", t)?,
            None => default_timeout,
        };
        let mut env = default_env.clone();
        env.extend(self.env);
        let cwd = match self.cwd.as_deref() {
            None | Some("scratch") => Cwd::Scratch,
            Some(p) => Cwd::Path(base.join(p)),
        };
        Ok(Entry {
            name,
            cmd: self.cmd.into_inner(),
            env,
            stdin: Stdin::Null,
            cwd,
            expect_status: None,
            compare: vec![Field::Status, Field::Stdout, Field::Stderr],
            masks: Vec::new(),
            x11: self.needs.contains(&Need::X11),
            run_for: None,
            timeout,
            scope: self.scope,
            service: None,
        })
    }
}

/// `30s`, `500ms`, `2m`: a number and a unit, nothing else.
fn duration(loc: &Locator, what: &str, field: &str, v: &Spanned<String>) -> Result<Duration> {
    parse_duration(v.get_ref()).ok_or_else(|| {
        anyhow::anyhow!(
            "{}: {what}: field `{field}`: bad duration {:?}; give a number with a unit: ms, s or m \
             (e.g. \"30s\", \"500ms\", \"2m\")",
            loc.at(v.span().start),
            v.get_ref()
        )
    })
}

/// Parses a duration with a mandatory unit.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return None,
    };
    (secs.is_finite() && secs > 0.0).then(|| Duration::from_secs_f64(secs))
}

/// Signals a service may be stopped with.
const SIGNALS: [(&str, i32); 6] = [
    ("SIGTERM", libc::SIGTERM),
    ("SIGINT", libc::SIGINT),
    ("SIGQUIT", libc::SIGQUIT),
    ("SIGHUP", libc::SIGHUP),
    ("SIGUSR1", libc::SIGUSR1),
    ("SIGKILL", libc::SIGKILL),
];

fn signal_number(name: &str) -> Option<i32> {
    let full = if name.starts_with("SIG") {
        name.to_string()
    } else {
        format!("SIG{name}")
    };
    SIGNALS.iter().find(|(n, _)| *n == full).map(|&(_, s)| s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        format!("{:#}", parse(Path::new("m.toml"), text).unwrap_err())
    }

    #[test]
    fn a_full_matrix_parses_with_defaults_applied() {
        let m = parse(
            Path::new("/x/m.toml"),
            r#"
[defaults]
timeout = "5s"
jobs = 2
env = { LC_ALL = "C", A = "1" }

[[app]]
name = "ls-doc"
cmd = ["ls", "-l"]
stdin_text = "hi"
expect_status = 0
compare = ["status", "stdout"]
mask = ['\d+']
needs = ["x11"]
run_for = "300ms"
env = { A = "2" }

[[service]]
name = "mc"
cmd = ["memcached", "-p", "{port}"]
ready = "tcp:{port}"
load = ["true"]
metric = 'Took ([0-9.]+) s'
stop = "SIGINT"
"#,
        )
        .unwrap();
        assert_eq!(m.jobs, 2);
        let a = &m.entries[0];
        assert_eq!(a.timeout, Duration::from_secs(5));
        assert_eq!(a.env["A"], "2");
        assert_eq!(a.env["LC_ALL"], "C");
        assert_eq!(a.compare, [Field::Status, Field::Stdout]);
        assert_eq!(a.run_for, Some(Duration::from_millis(300)));
        assert!(a.x11 && matches!(a.stdin, Stdin::Text(_)) && matches!(a.cwd, Cwd::Scratch));
        let s = m.entries[1].service.as_ref().unwrap();
        assert_eq!((s.ready_port, s.stop), (None, libc::SIGINT));
        assert_eq!(m.entries[1].kind(), "service");
    }

    #[test]
    fn unknown_keys_are_named_with_their_line_and_what_is_allowed() {
        let e = err("[[app]]\nname = \"a\"\ncmd = [\"true\"]\ncomand = 1\n");
        assert!(e.starts_with("m.toml:4: unknown field `comand`"), "{e}");
        assert!(e.contains("expected one of"), "{e}");
        let e = err("[default]\ntimeout = \"1s\"\n");
        assert!(e.starts_with("m.toml:1: unknown field `default`"), "{e}");
        assert!(e.contains("[defaults]"), "{e}");
    }

    #[test]
    fn duplicate_names_point_at_both() {
        let e = err(
            "[[app]]\nname = \"a\"\ncmd = [\"true\"]\n\n[[app]]\nname = \"a\"\ncmd = [\"false\"]\n",
        );
        assert_eq!(
            e,
            "m.toml:6: field `name`: duplicate name \"a\" (first at m.toml:2); names must be unique"
        );
    }

    #[test]
    fn a_missing_or_empty_cmd_is_refused() {
        let e = err("[[app]]\nname = \"a\"\n");
        assert!(e.starts_with("m.toml:1: missing field `cmd`"), "{e}");
        let e = err("[[app]]\nname = \"a\"\ncmd = []\n");
        assert!(
            e.starts_with("m.toml:3: entry `a`: field `cmd` is empty"),
            "{e}"
        );
    }

    #[test]
    fn bad_durations_say_which_units_exist() {
        let e = err("[[app]]\nname = \"a\"\ncmd = [\"true\"]\ntimeout = \"30\"\n");
        assert_eq!(
            e,
            "m.toml:4: entry `a`: field `timeout`: bad duration \"30\"; give a number with a unit: \
             ms, s or m (e.g. \"30s\", \"500ms\", \"2m\")"
        );
        let e = err("[defaults]\ntimeout = \"1h\"\n");
        assert!(
            e.starts_with("m.toml:2: [defaults]: field `timeout`: bad duration \"1h\""),
            "{e}"
        );
        assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("0s"), None);
    }

    #[test]
    fn regexes_that_do_not_compile_are_quoted_with_the_reason() {
        let e = err("[[app]]\nname = \"a\"\ncmd = [\"true\"]\nmask = ['ok', '(unclosed']\n");
        assert!(
            e.starts_with(
                "m.toml:4: app `a`: field `mask`: the regex \"(unclosed\" does not compile: "
            ),
            "{e}"
        );
        let e = err("[[service]]\nname = \"s\"\ncmd = [\"x\"]\nready = \"tcp:{port}\"\nload = [\"y\"]\nmetric = 'Took [0-9]+'\n");
        assert!(
            e.contains("field `metric`") && e.contains("no capture group"),
            "{e}"
        );
    }

    #[test]
    fn other_malformed_fields_are_explained() {
        let e = err("[[app]]\nname = \"a b\"\ncmd = [\"true\"]\n");
        assert!(
            e.starts_with("m.toml:2: field `name`: \"a b\" is not allowed"),
            "{e}"
        );
        let e = err("[[app]]\nname = \"a\"\ncmd = [\"true\"]\ncompare = [\"stdot\"]\n");
        assert!(e.starts_with("m.toml:4: unknown variant `stdot`"), "{e}");
        let e = err("[[app]]\nname = \"a\"\ncmd = [\"true\"]\nstdin = \"nope.txt\"\n");
        assert!(
            e.contains("field `stdin`") && e.contains("is not a file"),
            "{e}"
        );
        let e = err("[[app]]\nname = \"a\"\ncmd = [\"true\"]\nstdin = \"x\"\nstdin_text = \"y\"\n");
        assert!(e.contains("both given"), "{e}");
        let e =
            err("[[service]]\nname = \"s\"\ncmd = [\"x\"]\nready = \"http:80\"\nload = [\"y\"]\n");
        assert!(e.starts_with("m.toml:4: service `s`: field `ready`"), "{e}");
        let e = err("[[service]]\nname = \"s\"\ncmd = [\"x\"]\nready = \"tcp:80\"\nload = [\"y\"]\nstop = \"SIGFOO\"\n");
        assert!(e.contains("field `stop`") && e.contains("SIGTERM"), "{e}");
        let e = err("[[app]]\nname = \"a\"\ncmd = \"ls -l\"\n");
        assert!(e.starts_with("m.toml:3: invalid type"), "{e}");
    }
}
