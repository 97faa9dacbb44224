//! `[[service]]` entries: the server started (plainly, then checked) on a free port, the load
//! driver run unchecked against it once it accepts connections, the server stopped with its stop
//! signal, and the throughput of the two compared.

use super::compare::{differ, Observed};
use super::evidence;
use super::exec::{self, End, Ran, Spec};
use super::matrix::{Entry, Field, MetricKind};
use super::runner::{decide, environment, plain_failure, ratio, Mode, Place, Setup};
use super::verdict::{EntryResult, RunFacts, Verdict};
use anyhow::{bail, Context, Result};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Child;
use std::time::{Duration, Instant};

/// One server run with its load.
struct Served {
    server: Ran,
    /// The driver's own run, when the server became ready.
    driver: Option<Ran>,
    /// Cost of the load: the metric as a time (a rate is inverted), else the driver's wall time.
    cost: Option<f64>,
    /// What went wrong, if anything (the server never became ready, the driver failed).
    problem: Option<String>,
}

/// The running server: whatever ends [`serve`] early (the load driver cannot start, its output
/// does not match the metric, an error while waiting) leaves no server behind, for its process
/// group is killed and the server reaped when this is dropped before [`Server::stop`].
struct Server {
    child: Child,
    stopped: bool,
}

impl Server {
    /// Stops the server with `sig` (when it still runs) and waits for it and its group.
    fn stop(&mut self, sig: i32) -> Result<End> {
        if self.child.try_wait()?.is_none() {
            exec::signal_group(&self.child, sig);
        }
        let end = exec::wait(
            &mut self.child,
            Instant::now(),
            Duration::from_secs(10),
            None,
        )?;
        self.stopped = true;
        Ok(end)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if !self.stopped {
            exec::signal_group(&self.child, libc::SIGKILL);
            let _ = self.child.wait();
        }
    }
}

/// A port nobody listens on now.
fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").context("cannot find a free TCP port")?;
    Ok(l.local_addr()?.port())
}

fn substitute(argv: &[String], port: u16) -> Vec<String> {
    argv.iter()
        .map(|a| a.replace("{port}", &port.to_string()))
        .collect()
}

fn serve(setup: &Setup, entry: &Entry, place: &Place, mode: Mode) -> Result<Served> {
    let svc = entry.service.as_ref().context("not a service")?;
    let port = free_port()?;
    let wait_port = svc.ready_port.unwrap_or(port);
    let logs = match mode {
        Mode::Checked => Some(place.log_dir(mode)?),
        _ => None,
    };
    let argv = substitute(&entry.cmd, port);
    let cwd = place.dir.clone();
    let name = match mode {
        Mode::Checked => "checked",
        _ => "plain",
    };
    let spec = Spec {
        argv: &argv,
        env: environment(setup, entry, logs.as_deref(), &[]),
        cwd: &cwd,
        stdin: None,
        out_prefix: place.dir.join(name),
    };
    let start = Instant::now();
    let (child, stdout, stderr) = spec.spawn()?;
    let mut server = Server {
        child,
        stopped: false,
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], wait_port));
    let mut problem = None;
    let mut driver = None;
    let mut cost = None;
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            break;
        }
        if server.child.try_wait()?.is_some() {
            problem = Some(format!(
                "the {name} server exited before accepting connections on port {wait_port}"
            ));
            break;
        }
        if start.elapsed() >= entry.timeout || exec::interrupted() {
            problem = Some(format!(
                "the {name} server did not accept connections on port {wait_port} within {:?}",
                entry.timeout
            ));
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    if problem.is_none() {
        let load = substitute(&svc.load, port);
        let driver_spec = Spec {
            argv: &load,
            env: entry
                .env
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            cwd: &cwd,
            stdin: None,
            out_prefix: place.dir.join(format!("{name}-load")),
        };
        let ran = driver_spec.run(entry.timeout, None)?;
        let facts = ran.facts();
        if facts.status != Some(0) {
            problem = Some(format!(
                "the load driver failed against the {name} server ({} {}; see {})",
                facts.outcome,
                facts.status.map(|s| s.to_string()).unwrap_or_default(),
                ran.stderr.display()
            ));
        } else {
            cost = measure(svc.metric.as_ref(), svc.metric_kind, &ran)?.or(Some(facts.wall_s));
        }
        driver = Some(ran);
    }
    let end = match server.stop(svc.stop)? {
        End::Status(s) if problem.is_none() => End::Stopped(s),
        e => e,
    };
    Ok(Served {
        server: Ran {
            end,
            wall: start.elapsed(),
            stdout,
            stderr,
        },
        driver,
        cost,
        problem,
    })
}

/// The metric from the driver's output, as a cost (lower is better).
fn measure(
    metric: Option<&regex::bytes::Regex>,
    kind: MetricKind,
    ran: &Ran,
) -> Result<Option<f64>> {
    let Some(re) = metric else { return Ok(None) };
    let mut text = std::fs::read(&ran.stdout).unwrap_or_default();
    text.extend(std::fs::read(&ran.stderr).unwrap_or_default());
    let Some(n) = re.captures(&text).and_then(|c| c.get(1)).and_then(|m| {
        std::str::from_utf8(m.as_bytes())
            .ok()?
            .trim()
            .parse::<f64>()
            .ok()
    }) else {
        bail!(
            "the load driver's output does not match the metric regex {:?} (see {})",
            re.as_str(),
            ran.stdout.display()
        );
    };
    Ok(Some(match kind {
        MetricKind::Time => n,
        MetricKind::Rate if n > 0.0 => 1.0 / n,
        MetricKind::Rate => return Ok(None),
    }))
}

/// The service flow; `Ok(false)` when interrupted.
pub fn certify(setup: &Setup, entry: &Entry, place: &Place, r: &mut EntryResult) -> Result<bool> {
    let plain = serve(setup, entry, place, Mode::Plain)?;
    r.plain = plain.server.facts();
    if exec::interrupted() {
        return Ok(false);
    }
    let plain_problem = plain
        .problem
        .clone()
        .or_else(|| plain_failure(entry, &plain.server));
    if let Some(why) = plain_problem {
        r.verdict = Some(Verdict::Broken);
        r.reason = why;
        r.checked = RunFacts::not_run();
        return Ok(true);
    }
    let checked = serve(setup, entry, place, Mode::Checked)?;
    r.checked = checked.server.facts();
    if exec::interrupted() {
        return Ok(false);
    }
    let logs: PathBuf = place.dir.join("checked-logs");
    let ev = evidence::gather(&logs, &entry.scope, setup.min_severity)?;
    if let (Some(c), Some(p)) = (checked.cost, plain.cost) {
        r.ratio = ratio(c, p);
        r.throughput = r.ratio.map(|x| 1.0 / x);
    }
    for (what, d) in [("plain", &plain.driver), ("checked", &checked.driver)] {
        if let Some(d) = d {
            r.notes.push(format!(
                "load driver against the {what} server: {:.2}s",
                d.wall.as_secs_f64()
            ));
        }
    }
    let mut compared = None;
    if let Some(p) = checked.problem {
        r.diff = Some(p.clone());
        compared = Some(Verdict::NotTransparent);
        r.notes.push(p);
    } else if let Some(d) = differ(
        &Observed::of(&plain.server, entry),
        &Observed::of(&checked.server, entry),
        &[Field::Status],
        ("plain", "checked"),
    ) {
        r.diff = Some(d);
        compared = Some(Verdict::NotTransparent);
    }
    decide(r, ev, compared, &checked.server, entry)
}
