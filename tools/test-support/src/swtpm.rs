//! A swtpm of a test's own: temporary state, a free loopback port.
//!
//! swtpm has no resource manager: two clients on one swtpm see each
//! other's sessions and transient objects. So every test starts its own
//! [`Swtpm`] and no two tests share one; the tests then run side by side.

use crate::Error;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// How long a swtpm may take to listen.
pub const START_DEADLINE: Duration = Duration::from_secs(10);

/// A running swtpm: its own state directory, a server port and the next
/// port for its control channel, on 127.0.0.1. Stopped by its PID when
/// dropped; the state directory goes with the last swtpm on it.
#[derive(Debug)]
pub struct Swtpm {
    child: Child,
    port: u16,
    state: Arc<TempDir>,
}

/// Two consecutive free loopback ports (server, control), found by binding
/// and releasing them.
fn free_port_pair() -> Result<u16, Error> {
    for _ in 0..50 {
        let first = TcpListener::bind("127.0.0.1:0").map_err(Error::io("binding a free port"))?;
        let port = first
            .local_addr()
            .map_err(Error::io("reading a port"))?
            .port();
        let Some(next) = port.checked_add(1) else {
            continue;
        };
        if TcpListener::bind(("127.0.0.1", next)).is_ok() {
            return Ok(port);
        }
    }
    Err(Error::Io {
        what: "finding two consecutive free loopback ports".into(),
        source: std::io::ErrorKind::AddrInUse.into(),
    })
}

impl Swtpm {
    /// A fresh swtpm on a new state directory, once it listens.
    pub fn start() -> Result<Swtpm, Error> {
        let state = tempfile::Builder::new()
            .prefix("psec-swtpm-")
            .tempdir()
            .map_err(Error::io("making a temporary directory for swtpm"))?;
        Swtpm::start_on(Arc::new(state))
    }

    /// A swtpm on `state`, started with TPM2_Startup(CLEAR) as after a
    /// power cycle.
    fn start_on(state: Arc<TempDir>) -> Result<Swtpm, Error> {
        let mut last = None;
        for _ in 0..5 {
            let port = free_port_pair()?;
            let mut child = Command::new("swtpm")
                .args(["socket", "--tpm2", "--flags", "not-need-init,startup-clear"])
                .arg("--server")
                .arg(format!("type=tcp,port={port},bindaddr=127.0.0.1"))
                .arg("--ctrl")
                .arg(format!("type=tcp,port={},bindaddr=127.0.0.1", port + 1))
                .arg("--tpmstate")
                .arg(format!("dir={}", state.path().display()))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(Error::io("running swtpm (install swtpm)"))?;
            let deadline = Instant::now() + START_DEADLINE;
            loop {
                let status = child.try_wait().map_err(Error::io("waiting for swtpm"))?;
                if let Some(status) = status {
                    // Most likely the port was taken meanwhile: try others.
                    last = Some(Error::Exited {
                        what: format!("swtpm on port {port}"),
                        status,
                        log: String::new(),
                    });
                    break;
                }
                let listening = [port, port + 1]
                    .iter()
                    .all(|&p| TcpStream::connect(("127.0.0.1", p)).is_ok());
                if listening {
                    return Ok(Swtpm { child, port, state });
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(Error::Timeout {
                        what: format!("swtpm on port {port}"),
                        after: START_DEADLINE,
                        log: String::new(),
                    });
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        Err(last.unwrap_or_else(|| Error::Io {
            what: "starting swtpm".into(),
            source: std::io::ErrorKind::AddrInUse.into(),
        }))
    }

    /// The server port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The TCTI string of this swtpm, as psecd and tss-esapi take it.
    pub fn tcti(&self) -> String {
        format!("swtpm:host=127.0.0.1,port={}", self.port)
    }

    /// Stops the swtpm and starts it again on the same state: a TPM reset.
    pub fn power_cycle(self) -> Result<Swtpm, Error> {
        let state = Arc::clone(&self.state);
        drop(self);
        Swtpm::start_on(state)
    }

    /// Resets the TPM under its clients (TPM_Init through the control
    /// channel, as a platform reset does); the next client must send
    /// TPM2_Startup.
    pub fn reset(&self) -> Result<(), Error> {
        let control = format!("127.0.0.1:{}", self.port + 1);
        let mut command = Command::new("swtpm_ioctl");
        command.args(["--tcp", &control, "-i"]);
        crate::error::run(&mut command, format!("swtpm_ioctl --tcp {control} -i"))
    }

    /// The state directory.
    pub fn state_dir(&self) -> &Path {
        self.state.path()
    }
}

impl Drop for Swtpm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test fails by panicking")]

    use super::*;

    #[test]
    fn a_swtpm_listens_until_dropped_and_keeps_its_state_over_a_power_cycle() {
        let swtpm = Swtpm::start().unwrap();
        let port = swtpm.port();
        assert!(TcpStream::connect(("127.0.0.1", port)).is_ok());
        assert_eq!(swtpm.tcti(), format!("swtpm:host=127.0.0.1,port={port}"));
        let state = swtpm.state_dir().to_path_buf();
        let swtpm = swtpm.power_cycle().unwrap();
        assert_eq!(swtpm.state_dir(), state);
        swtpm.reset().unwrap();
        drop(swtpm);
        assert!(!state.exists());
    }
}
