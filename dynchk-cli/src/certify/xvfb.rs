//! One Xvfb for the entries that need X11 (`needs = ["x11"]`), stopped when certify ends.

use anyhow::{bail, Context, Result};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running virtual display.
pub struct Xvfb {
    child: Child,
    /// The `DISPLAY` value, e.g. `:93`.
    pub display: String,
}

impl Xvfb {
    /// Starts Xvfb on the first free display from :90 and waits for its socket.
    pub fn start() -> Result<Xvfb> {
        let n = (90..200)
            .find(|n| {
                !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                    && !Path::new(&format!("/tmp/.X{n}-lock")).exists()
            })
            .context("no free X display number between :90 and :199")?;
        let display = format!(":{n}");
        let mut child = Command::new("Xvfb")
            .args([&display, "-nolisten", "tcp", "-screen", "0", "1024x768x24"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("an entry needs x11 but Xvfb cannot be started (Debian package xvfb)")?;
        let socket = format!("/tmp/.X11-unix/X{n}");
        let start = Instant::now();
        while !Path::new(&socket).exists() {
            if child.try_wait()?.is_some() || start.elapsed() > Duration::from_secs(15) {
                let _ = child.kill();
                bail!("Xvfb {display} did not start (no {socket} after 15s)");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(Xvfb { child, display })
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
