//! A real psecd for a test: a process on a socket and a state directory of
//! its own, with the backend it needs (a SoftHSM2 token, a swtpm), stopped
//! by its PID.

use crate::Error;
use crate::softhsm2::{self, SoftHsm2};
use crate::swtpm::Swtpm;
use psec_interface::ProviderId;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long psecd may take to serve, and to exit on SIGTERM.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// The crypto provider a test psecd runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Mbed TLS in software.
    MbedCrypto,
    /// A SoftHSM2 token made for the test, through PKCS#11.
    Pkcs11,
    /// The same, with `software_public_operations = true`: signatures
    /// verified and data encrypted to public keys in Mbed TLS.
    Pkcs11SoftwarePublic,
    /// A swtpm of the test's own, on a free loopback port.
    Tpm,
}

/// What a backend needs beside psecd: a token or a TPM.
#[derive(Debug)]
enum Fixture {
    None,
    SoftHsm2(SoftHsm2),
    Swtpm(Swtpm),
}

impl Backend {
    /// Its id on the wire.
    pub fn provider_id(self) -> ProviderId {
        match self {
            Backend::MbedCrypto => ProviderId::MbedCrypto,
            Backend::Pkcs11 | Backend::Pkcs11SoftwarePublic => ProviderId::Pkcs11,
            Backend::Tpm => ProviderId::Tpm,
        }
    }

    /// Makes what the backend needs and returns it with the `[[provider]]`
    /// table that uses it.
    fn prepare(self) -> Result<(String, Fixture), Error> {
        const HEAD: &str = "key_info_manager = \"sqlite-manager\"\n";
        match self {
            Backend::MbedCrypto => Ok((Config::MBED_CRYPTO_PROVIDER.into(), Fixture::None)),
            Backend::Tpm => {
                let swtpm = Swtpm::start()?;
                let table = format!(
                    "[[provider]]\nprovider_type = \"Tpm\"\n{HEAD}tcti = \"{}\"\n",
                    swtpm.tcti()
                );
                Ok((table, Fixture::Swtpm(swtpm)))
            }
            Backend::Pkcs11 | Backend::Pkcs11SoftwarePublic => {
                let library = softhsm2::library()?;
                let token = SoftHsm2::with_token("psec-test")?;
                let software = self == Backend::Pkcs11SoftwarePublic;
                let table = format!(
                    "[[provider]]\nprovider_type = \"Pkcs11\"\n{HEAD}\
                     library_path = \"{}\"\nuser_pin = \"{}\"\nallow_export = true\n\
                     software_public_operations = {software}\n",
                    library.display(),
                    softhsm2::USER_PIN,
                );
                Ok((table, Fixture::SoftHsm2(token)))
            }
        }
    }
}

/// A test configuration of psecd: Parsec's config.toml, rendered for a
/// service living in one directory.
#[derive(Clone, Debug)]
pub struct Config {
    /// The crypto provider.
    pub backend: Backend,
    /// The authenticator table or tables, as TOML.
    pub authenticators: String,
    /// Extra `[core_settings]` lines.
    pub core_extra: String,
    /// `thread_pool_size`.
    pub thread_pool_size: usize,
    /// Listener timeout, milliseconds.
    pub timeout_ms: u64,
    /// More `[[provider]]` tables, after the backend's.
    pub extra_providers: String,
}

impl Default for Config {
    /// Mbed Crypto; Direct authentication with the application `admin` as
    /// administrator, then Unix peer credentials with root as
    /// administrator; 8 threads; a 500 ms listener timeout.
    fn default() -> Self {
        Config {
            backend: Backend::MbedCrypto,
            authenticators: "[[authenticator]]\nauth_type = \"Direct\"\nadmins = [ { name = \"admin\" } ]\n\n\
                             [[authenticator]]\nauth_type = \"UnixPeerCredentials\"\nadmins = [ { name = \"0\" } ]\n\n"
                .into(),
            core_extra: String::new(),
            thread_pool_size: 8,
            timeout_ms: 500,
            extra_providers: String::new(),
        }
    }
}

impl Config {
    /// The `[[provider]]` table of Mbed Crypto.
    pub const MBED_CRYPTO_PROVIDER: &str =
        "[[provider]]\nprovider_type = \"MbedCrypto\"\nkey_info_manager = \"sqlite-manager\"\n";

    /// The config.toml text for a service living in `dir` (socket
    /// `parsec.sock`, SQLite store `store/keys.sqlite3`, Mbed TLS files in
    /// `mbed/`), with the `[[provider]]` table `provider`.
    pub fn render_with(&self, dir: &Path, provider: &str) -> String {
        format!(
            r#"[core_settings]
allow_root = true
log_level = "info"
thread_pool_size = {threads}
working_directory = "{dir}/mbed"
{extra}

[listener]
listener_type = "DomainSocket"
timeout = {timeout}
socket_path = "{dir}/parsec.sock"

{authenticators}
[[key_manager]]
name = "sqlite-manager"
manager_type = "SQLite"
sqlite_db_path = "{dir}/store/keys.sqlite3"

{provider}
{extra_providers}"#,
            threads = self.thread_pool_size,
            dir = dir.display(),
            extra = self.core_extra,
            timeout = self.timeout_ms,
            authenticators = self.authenticators,
            extra_providers = self.extra_providers,
        )
    }

    /// [`Config::render_with`] the Mbed Crypto provider, whatever the
    /// backend: a configuration that needs no token or TPM.
    pub fn render(&self, dir: &Path) -> String {
        self.render_with(dir, Config::MBED_CRYPTO_PROVIDER)
    }
}

/// A running psecd, killed with what its backend needed when dropped.
#[derive(Debug)]
pub struct Psecd {
    program: PathBuf,
    child: Option<Child>,
    /// Its temporary directory: socket, store, Mbed TLS files, config, log.
    pub dir: tempfile::TempDir,
    /// The socket clients connect to.
    pub socket: PathBuf,
    /// The configuration file it was started with.
    pub config: PathBuf,
    /// Its crypto provider.
    pub backend: Backend,
    /// What the backend needs; dropped after psecd is stopped.
    fixture: Fixture,
}

impl Psecd {
    /// Starts `program` (a psecd binary) with `config` in a new temporary
    /// directory, and waits until it serves.
    pub fn start(program: impl Into<PathBuf>, config: &Config) -> Result<Psecd, Error> {
        let dir = tempfile::Builder::new()
            .prefix("psecd-test-")
            .tempdir()
            .map_err(Error::io("making a temporary directory for psecd"))?;
        // Other users (the UID-switching tests) must reach the socket.
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .map_err(Error::io("opening psecd's directory to other users"))?;
        let config_path = dir.path().join("config.toml");
        let (provider, fixture) = config.backend.prepare()?;
        std::fs::write(&config_path, config.render_with(dir.path(), &provider))
            .map_err(Error::io("writing psecd's config.toml"))?;
        let mut psecd = Psecd {
            program: program.into(),
            child: None,
            socket: dir.path().join("parsec.sock"),
            config: config_path,
            backend: config.backend,
            fixture,
            dir,
        };
        psecd.spawn()?;
        Ok(psecd)
    }

    /// Starts the process again on the same directory (after a stop or a
    /// kill), and waits until it serves.
    pub fn spawn(&mut self) -> Result<(), Error> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .map_err(Error::io("opening psecd.log"))?;
        let mut command = Command::new(&self.program);
        command
            .arg("--config")
            .arg(&self.config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log));
        if let Fixture::SoftHsm2(token) = &self.fixture {
            command.env(softhsm2::CONF_ENV, token.conf());
        }
        let child = command
            .spawn()
            .map_err(Error::io(format!("running {}", self.program.display())))?;
        self.child = Some(child);
        self.wait_until_serving()
    }

    /// Polls the socket until psecd accepts connections, with a deadline.
    fn wait_until_serving(&mut self) -> Result<(), Error> {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if std::os::unix::net::UnixStream::connect(&self.socket).is_ok() {
                return Ok(());
            }
            if let Some(child) = self.child.as_mut() {
                let status = child.try_wait().map_err(Error::io("waiting for psecd"))?;
                if let Some(status) = status {
                    self.child = None;
                    return Err(Error::Exited {
                        what: "psecd".into(),
                        status,
                        log: self.log(),
                    });
                }
            }
            if Instant::now() >= deadline {
                return Err(Error::Timeout {
                    what: format!("psecd on {}", self.socket.display()),
                    after: DEADLINE,
                    log: self.log(),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Sends the signal `name` (TERM, HUP, KILL...) with kill(1).
    pub fn signal(&self, name: &str) -> Result<(), Error> {
        let Some(pid) = self.pid() else {
            return Err(Error::Io {
                what: format!("sending SIG{name} to psecd"),
                source: std::io::Error::other("psecd is not running"),
            });
        };
        kill(&format!("-{name}"), pid)
    }

    /// SIGTERM, and waits for the exit (SIGKILL after [`DEADLINE`]);
    /// returns whether it exited cleanly.
    pub fn stop(&mut self) -> bool {
        let Some(mut child) = self.child.take() else {
            return true;
        };
        let _ = kill("-TERM", child.id());
        let deadline = Instant::now() + DEADLINE;
        while Instant::now() < deadline {
            match child.try_wait() {
                Ok(Some(status)) => return status.success(),
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(_) => break,
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        false
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Where psecd logs (its standard error).
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("psecd.log")
    }

    /// What psecd logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// A path in the temporary directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The SoftHSM2 configuration and token of a PKCS#11 backend.
    pub fn softhsm2(&self) -> Option<&SoftHsm2> {
        match &self.fixture {
            Fixture::SoftHsm2(token) => Some(token),
            Fixture::None | Fixture::Swtpm(_) => None,
        }
    }

    /// The swtpm of a TPM backend.
    pub fn swtpm(&self) -> Option<&Swtpm> {
        match &self.fixture {
            Fixture::Swtpm(swtpm) => Some(swtpm),
            Fixture::None | Fixture::SoftHsm2(_) => None,
        }
    }
}

/// Runs `kill SIGNAL PID`.
fn kill(signal: &str, pid: u32) -> Result<(), Error> {
    let mut command = Command::new("kill");
    command.arg(signal).arg(pid.to_string());
    crate::error::run(&mut command, format!("kill {signal} {pid}"))
}

impl Drop for Psecd {
    /// Kills psecd first; the token or swtpm go after, with the fields.
    fn drop(&mut self) {
        self.kill9();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test fails by panicking")]

    use super::*;

    #[test]
    fn the_default_config_names_its_directory_and_both_authenticators() {
        let text = Config::default().render(Path::new("/d"));
        assert!(text.contains("socket_path = \"/d/parsec.sock\""), "{text}");
        assert!(
            text.contains("sqlite_db_path = \"/d/store/keys.sqlite3\""),
            "{text}"
        );
        assert!(text.contains("auth_type = \"Direct\""), "{text}");
        assert!(
            text.contains("auth_type = \"UnixPeerCredentials\""),
            "{text}"
        );
        assert!(text.contains("provider_type = \"MbedCrypto\""), "{text}");
    }

    #[test]
    fn a_program_that_exits_at_once_is_an_error_with_its_log() {
        // `sh --config FILE` fails at once, writing to the log.
        let error = Psecd::start("sh", &Config::default()).unwrap_err();
        assert!(
            matches!(&error, Error::Exited { log, .. } if !log.is_empty()),
            "{error}"
        );
    }

    #[test]
    fn a_missing_program_is_an_error_naming_it() {
        let error = Psecd::start("/nowhere/psecd", &Config::default()).unwrap_err();
        assert!(error.to_string().contains("/nowhere/psecd"), "{error}");
    }
}
