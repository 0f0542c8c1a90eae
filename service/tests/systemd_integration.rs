//! psecd under systemd's protocols, with systemd's own tools where they
//! exist: socket activation (LISTEN_FDS, through systemd-socket-activate)
//! and readiness notification (NOTIFY_SOCKET: READY, RELOADING, STOPPING).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

mod common;

use common::TestConfig;
use psec_client::{Authentication, BasicClient, Endpoint};
use std::os::unix::net::UnixDatagram;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the child when the test ends, whatever happens.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn write_config(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(&path, TestConfig::default().render(dir)).unwrap();
    path
}

#[test]
fn psecd_serves_on_the_socket_systemd_passes() {
    let Ok(activator) = which("systemd-socket-activate") else {
        eprintln!("SKIPPED: systemd-socket-activate is not installed");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    // systemd listens here; the configuration's own socket_path is another.
    let activated = dir.path().join("activated.sock");
    let _activator = Running(
        Command::new(activator)
            .arg("--listen")
            .arg(&activated)
            .arg(env!("CARGO_BIN_EXE_psecd"))
            .arg("--config")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while !activated.exists() {
        assert!(
            Instant::now() < deadline,
            "systemd-socket-activate did not listen"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // The first connection starts psecd, which answers on the passed socket.
    let client = BasicClient::new_naked(Endpoint::unix_socket(&activated))
        .with_auth(Authentication::direct("activated").unwrap())
        .with_timeout(Some(Duration::from_secs(20)));
    assert_eq!(client.ping().unwrap(), (1, 0));
    assert!(
        !dir.path().join("parsec.sock").exists(),
        "psecd did not bind a socket of its own"
    );
}

fn which(program: &str) -> Result<std::path::PathBuf, ()> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
        .ok_or(())
}

/// Reads notifications until one contains `wanted`, with a deadline.
fn wait_for(notify: &UnixDatagram, wanted: &str, seen: &mut Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut buffer = [0u8; 4096];
    while !seen.iter().any(|m| m.contains(wanted)) {
        assert!(
            Instant::now() < deadline,
            "no {wanted} from psecd; got {seen:?}"
        );
        if let Ok(n) = notify.recv(&mut buffer) {
            let message = buffer.get(..n).unwrap_or_default();
            seen.push(String::from_utf8_lossy(message).into_owned());
        }
    }
}

#[test]
fn psecd_tells_systemd_ready_reloading_and_stopping() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let notify_path = dir.path().join("notify.sock");
    let notify = UnixDatagram::bind(&notify_path).unwrap();
    notify
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut psecd = Running(
        Command::new(env!("CARGO_BIN_EXE_psecd"))
            .arg("--config")
            .arg(&config)
            .env("NOTIFY_SOCKET", &notify_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let signal = |name: &str, pid: u32| {
        assert!(
            Command::new("kill")
                .arg(format!("-{name}"))
                .arg(pid.to_string())
                .status()
                .unwrap()
                .success()
        );
    };
    let mut seen = Vec::new();
    wait_for(&notify, "READY=1", &mut seen);
    signal("HUP", psecd.0.id());
    wait_for(&notify, "RELOADING=1", &mut seen);
    signal("TERM", psecd.0.id());
    wait_for(&notify, "STOPPING=1", &mut seen);
    assert!(psecd.0.wait().unwrap().success());
    let reload = seen.iter().find(|m| m.contains("RELOADING=1")).unwrap();
    assert!(
        reload.contains("MONOTONIC_USEC="),
        "systemd wants the reload time: {reload}"
    );
}
