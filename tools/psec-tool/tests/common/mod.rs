//! A real psecd for the tests (psec-test-support's harness, on a socket and
//! a state directory of its own), and a way to run `psec` against it as a
//! process.
//!
//! psecd belongs to another package (psec-service), so it is found next to
//! the test executable: `target/<profile>/psecd`, which
//! `cargo test --workspace` builds.
#![allow(
    dead_code,
    unreachable_pub,
    reason = "a harness module shared by several test binaries, each using part of it"
)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

use psec_test_support::Config;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The application name the tests use with Direct authentication.
pub const APP: &str = "psec-tool-test";

/// Where psecd is: `target/<profile>/psecd`, next to `deps/` which holds
/// the test executable.
pub fn psecd_path() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test executable is in target/<profile>/deps");
    let psecd = profile_dir.join("psecd");
    assert!(
        psecd.is_file(),
        "psecd is not built at {}; run `cargo build -p psec-service` (or `cargo test --workspace`) first",
        psecd.display()
    );
    psecd
}

/// A running psecd (psec-test-support's), stopped when dropped.
pub struct Psecd(psec_test_support::Psecd);

impl Deref for Psecd {
    type Target = psec_test_support::Psecd;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

/// The authenticators of [`Psecd::start`]: Direct, with the application
/// `admin` as administrator, then Unix peer credentials.
pub const DIRECT_THEN_UNIX: &str = r#"[[authenticator]]
auth_type = "Direct"
admins = [ { name = "admin" } ]

[[authenticator]]
auth_type = "UnixPeerCredentials"
"#;

/// Direct authentication alone, as a Parsec 1.5 configuration has it, with
/// the application `admin` as administrator.
pub const DIRECT_ONLY: &str = r#"[authenticator]
auth_type = "Direct"
admins = [ { name = "admin" } ]
"#;

/// Unix peer credentials alone.
pub const UNIX_ONLY: &str = r#"[authenticator]
auth_type = "UnixPeerCredentials"
"#;

impl Psecd {
    /// Starts psecd (Direct then UnixPeerCredentials, SQLite, Mbed Crypto)
    /// and waits until it serves.
    pub fn start() -> Psecd {
        Psecd::start_with_authenticators(DIRECT_THEN_UNIX)
    }

    /// Starts psecd with `authenticators` (the TOML of its authenticator
    /// section or sections), SQLite and Mbed Crypto, and waits until it
    /// serves.
    pub fn start_with_authenticators(authenticators: &str) -> Psecd {
        let config = Config {
            authenticators: authenticators.into(),
            thread_pool_size: 4,
            timeout_ms: 5000,
            ..Config::default()
        };
        let psecd = psec_test_support::Psecd::start(psecd_path(), &config);
        Psecd(psecd.unwrap_or_else(|e| panic!("{e}")))
    }

    /// `psec` with this service's endpoint and the test application name.
    pub fn psec(&self) -> Command {
        let mut command = psec_command();
        command
            .arg("--endpoint")
            .arg(&self.socket)
            .arg("--app-name")
            .arg(APP);
        command
    }

    /// Runs `psec ARGS`, which must succeed; returns its standard output.
    pub fn ok(&self, args: &[&str]) -> Vec<u8> {
        let output = self.psec().args(args).output().unwrap();
        assert!(
            output.status.success(),
            "psec {args:?} failed with {}:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout
    }

    /// [`Psecd::ok`] as text.
    pub fn ok_text(&self, args: &[&str]) -> String {
        String::from_utf8(self.ok(args)).unwrap()
    }

    /// Runs `psec ARGS`, which must fail with `code`; returns its stderr.
    pub fn fails(&self, args: &[&str], code: i32) -> String {
        let output = self.psec().args(args).output().unwrap();
        expect_failure(&output, code, args)
    }

    /// The names of this application's keys, sorted.
    pub fn key_names(&self) -> Vec<String> {
        key_names(&self.ok_text(&["list-keys", "--output", "json"]))
    }

    /// `psec` with this service's endpoint and no application name, neither
    /// given nor from the environment.
    pub fn psec_without_app_name(&self) -> Command {
        let mut command = psec_command();
        command.arg("--endpoint").arg(&self.socket);
        command
    }

    /// Runs `psec ARGS` with no application name, which must succeed;
    /// returns its standard output.
    pub fn ok_without_app_name(&self, args: &[&str]) -> String {
        let output = self.psec_without_app_name().args(args).output().unwrap();
        assert!(
            output.status.success(),
            "psec {args:?} (no --app-name) failed with {}:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }
}

/// The key names in the output of `psec list-keys --output json`, sorted.
pub fn key_names(json: &str) -> Vec<String> {
    let keys: serde_json::Value = serde_json::from_str(json).unwrap();
    let mut names: Vec<String> = keys
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

/// The `psec` binary, with no endpoint or application name from the
/// environment.
pub fn psec_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_psec"));
    command
        .env_remove("PARSEC_SERVICE_ENDPOINT")
        .env_remove("PSEC_APP_NAME")
        .env_remove("PSEC_JWT_SVID_FILE")
        .stdin(Stdio::null());
    command
}

/// Checks that `output` is a failure with exit code `code`; returns stderr.
pub fn expect_failure(output: &Output, code: i32, args: &[&str]) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(
        output.status.code(),
        Some(code),
        "psec {args:?}: expected exit code {code}; stdout:\n{}\nstderr:\n{stderr}",
        String::from_utf8_lossy(&output.stdout)
    );
    stderr
}

/// Runs openssl with `args`; it must succeed. Returns stdout and stderr.
pub fn openssl(args: &[&str]) -> (String, String) {
    let output = Command::new("openssl").args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "openssl {args:?} failed:\n{stdout}\n{stderr}"
    );
    (stdout, stderr)
}

/// A path as a `&str`, for argument lists.
pub fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}
