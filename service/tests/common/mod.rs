//! A real psecd for the tests: started as a process on a socket and a state
//! directory of its own, stopped (SIGTERM, then SIGKILL if it lingers) when
//! dropped.
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

use psec_client::psa_crypto::types::algorithm::{AsymmetricSignature, Hash, SignHash};
use psec_client::psa_crypto::types::key::{
    Attributes, EccFamily, Lifetime, Policy, Type, UsageFlags,
};
use psec_client::{Authentication, BasicClient, Endpoint, ProviderId};
use std::path::{Path, PathBuf};

/// ECDSA with SHA-256, the algorithm of the tests' signing keys.
pub const ECDSA: AsymmetricSignature = AsymmetricSignature::Ecdsa {
    hash_alg: SignHash::Specific(Hash::Sha256),
};

/// A persistent P-256 key that may sign and verify hashes with [`ECDSA`].
pub fn p256_signing() -> Attributes {
    let mut usage = UsageFlags::default();
    let _ = usage.set_sign_hash().set_verify_hash();
    Attributes {
        lifetime: Lifetime::Persistent,
        key_type: Type::EccKeyPair {
            curve_family: EccFamily::SecpR1,
        },
        bits: 256,
        policy: Policy {
            usage_flags: usage,
            permitted_algorithms: ECDSA.into(),
        },
    }
}
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running psecd.
pub struct Psecd {
    child: Option<Child>,
    /// Its temporary directory: socket, store, key files, config.
    pub dir: tempfile::TempDir,
    /// The socket clients connect to.
    pub socket: PathBuf,
    /// The configuration file it was started with.
    pub config: PathBuf,
    /// Its crypto provider.
    pub backend: Backend,
    /// What its environment adds for the backend.
    env: Vec<(String, String)>,
    /// Processes the backend needs (a swtpm), stopped with psecd.
    helpers: Vec<Child>,
}

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

/// Starts a swtpm with its state in `dir`, on two free consecutive loopback
/// ports (server, control), and waits until both listen. Returns the
/// process and the server port.
fn swtpm(dir: &Path) -> (Child, u16) {
    let state = dir.join("tpm-state");
    std::fs::create_dir_all(&state).unwrap();
    for _ in 0..10 {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = probe.local_addr().unwrap().port();
        drop(probe);
        if port == u16::MAX || std::net::TcpListener::bind(("127.0.0.1", port + 1)).is_err() {
            continue;
        }
        let mut child = Command::new("swtpm")
            .args(["socket", "--tpm2", "--flags", "not-need-init,startup-clear"])
            .arg("--server")
            .arg(format!("type=tcp,port={port},bindaddr=127.0.0.1"))
            .arg("--ctrl")
            .arg(format!("type=tcp,port={},bindaddr=127.0.0.1", port + 1))
            .arg("--tpmstate")
            .arg(format!("dir={}", state.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("swtpm runs (ci/install-deps.sh installs it)");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if child.try_wait().unwrap().is_some() {
                break; // the port was taken meanwhile: try another
            }
            if [port, port + 1]
                .iter()
                .all(|p| std::net::TcpStream::connect(("127.0.0.1", *p)).is_ok())
            {
                return (child, port);
            }
            assert!(Instant::now() < deadline, "swtpm did not listen on {port}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    panic!("swtpm could not start on any port");
}

/// SoftHSM2's PKCS#11 library.
const SOFTHSM2_LIBRARY: &str = "/usr/lib/softhsm/libsofthsm2.so";

/// A SoftHSM2 token of its own in `dir`: a configuration naming a token
/// directory there, and one token initialised in it. Returns the
/// configuration's path, for SOFTHSM2_CONF.
fn softhsm2_token(dir: &Path) -> PathBuf {
    let tokens = dir.join("tokens");
    std::fs::create_dir_all(&tokens).unwrap();
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .unwrap();
    let output = Command::new("softhsm2-util")
        .args(["--init-token", "--free", "--label", "psec-test"])
        .args(["--so-pin", "12345678", "--pin", "123456"])
        .env("SOFTHSM2_CONF", &conf)
        .output()
        .expect("softhsm2-util runs (ci/install-deps.sh installs softhsm2)");
    assert!(output.status.success(), "{output:?}");
    conf
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

    /// Prepares what the backend needs in `dir`, and returns its
    /// `[[provider]]` table, the environment psecd needs for it, and the
    /// processes (a swtpm) that must live as long as psecd.
    fn prepare(self, dir: &Path) -> (String, Vec<(String, String)>, Vec<Child>) {
        match self {
            Backend::MbedCrypto => (
                "[[provider]]\nprovider_type = \"MbedCrypto\"\nkey_info_manager = \"sqlite-manager\"\n".into(),
                Vec::new(),
                Vec::new(),
            ),
            Backend::Tpm => {
                let (child, port) = swtpm(dir);
                (
                    format!(
                        "[[provider]]\nprovider_type = \"Tpm\"\nkey_info_manager = \"sqlite-manager\"\n\
                         tcti = \"swtpm:host=127.0.0.1,port={port}\"\n"
                    ),
                    Vec::new(),
                    vec![child],
                )
            }
            Backend::Pkcs11 | Backend::Pkcs11SoftwarePublic => {
                let conf = softhsm2_token(dir);
                let software = self == Backend::Pkcs11SoftwarePublic;
                (
                    format!(
                        "[[provider]]\nprovider_type = \"Pkcs11\"\nkey_info_manager = \"sqlite-manager\"\n\
                         library_path = \"{SOFTHSM2_LIBRARY}\"\nuser_pin = \"123456\"\nallow_export = true\n\
                         software_public_operations = {software}\n"
                    ),
                    vec![("SOFTHSM2_CONF".into(), conf.display().to_string())],
                    Vec::new(),
                )
            }
        }
    }
}

/// Settings a test may change in the default test configuration.
#[derive(Clone)]
pub struct TestConfig {
    /// The crypto provider.
    pub backend: Backend,
    /// `[[authenticator]]` tables, in order.
    pub authenticators: Vec<&'static str>,
    /// Extra `[core_settings]` lines.
    pub core_extra: String,
    /// Listener timeout, milliseconds.
    pub timeout_ms: u64,
    /// More `[[provider]]` tables, after the backend's.
    pub extra_providers: String,
}

impl Default for TestConfig {
    fn default() -> Self {
        TestConfig {
            backend: Backend::MbedCrypto,
            authenticators: vec![
                "auth_type = \"Direct\"\nadmins = [ { name = \"admin\" } ]",
                "auth_type = \"UnixPeerCredentials\"\nadmins = [ { name = \"0\" } ]",
            ],
            core_extra: String::new(),
            timeout_ms: 500,
            extra_providers: String::new(),
        }
    }
}

impl TestConfig {
    /// The config.toml text for a service living in `dir`, with the
    /// `[[provider]]` table `provider`.
    pub fn render_with(&self, dir: &Path, provider: &str) -> String {
        let authenticators: String = self
            .authenticators
            .iter()
            .map(|a| format!("[[authenticator]]\n{a}\n\n"))
            .collect();
        format!(
            r#"[core_settings]
allow_root = true
log_level = "info"
thread_pool_size = 8
working_directory = "{dir}/mbed"
{extra}

[listener]
listener_type = "DomainSocket"
timeout = {timeout}
socket_path = "{dir}/parsec.sock"

{authenticators}[[key_manager]]
name = "sqlite-manager"
manager_type = "SQLite"
sqlite_db_path = "{dir}/store/keys.sqlite3"

{provider}
{extra_providers}"#,
            extra_providers = self.extra_providers,
            dir = dir.display(),
            extra = self.core_extra,
            timeout = self.timeout_ms,
        )
    }

    /// The config.toml text for a service living in `dir`, on the Mbed
    /// Crypto provider.
    pub fn render(&self, dir: &Path) -> String {
        let (provider, _, _) = Backend::MbedCrypto.prepare(dir);
        self.render_with(dir, &provider)
    }
}

impl Psecd {
    /// Starts psecd with the default test configuration.
    pub fn start() -> Psecd {
        Psecd::start_with(&TestConfig::default())
    }

    /// Starts psecd with `config`, in a new temporary directory.
    pub fn start_with(config: &TestConfig) -> Psecd {
        let dir = tempfile::Builder::new()
            .prefix("psecd-test-")
            .tempdir()
            .unwrap();
        // Other users (the UID-switching tests) must reach the socket.
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let config_path = dir.path().join("config.toml");
        let (provider, env, helpers) = config.backend.prepare(dir.path());
        std::fs::write(&config_path, config.render_with(dir.path(), &provider)).unwrap();
        let mut psecd = Psecd {
            child: None,
            socket: dir.path().join("parsec.sock"),
            config: config_path,
            backend: config.backend,
            env,
            helpers,
            dir,
        };
        psecd.spawn();
        psecd
    }

    /// Starts the process again on the same directory (after a stop or a
    /// kill), and waits for it to serve.
    pub fn spawn(&mut self) {
        let child = Command::new(env!("CARGO_BIN_EXE_psecd"))
            .arg("--config")
            .arg(&self.config)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(self.dir.path().join("psecd.log"))
                    .unwrap(),
            ))
            .spawn()
            .unwrap();
        self.child = Some(child);
        self.wait_until_serving();
    }

    /// Polls the socket until psecd accepts connections, with a deadline.
    fn wait_until_serving(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if std::os::unix::net::UnixStream::connect(&self.socket).is_ok() {
                return;
            }
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().unwrap()) {
                panic!("psecd exited with {status} before serving:\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "psecd did not serve within 30 s:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Sends a signal by name (TERM, HUP, KILL...) with kill(1).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .unwrap();
        assert!(status.success(), "kill -{name} failed");
    }

    /// SIGTERM, and waits for the exit; returns whether it exited cleanly.
    pub fn stop(&mut self) -> bool {
        let Some(mut child) = self.child.take() else {
            return true;
        };
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(status) = child.try_wait().unwrap() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(20));
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

    /// A client of this psecd for the Direct application `app`, on its
    /// crypto provider.
    pub fn client(&self, app: &str) -> BasicClient {
        BasicClient::new_naked(Endpoint::unix_socket(&self.socket))
            .with_provider(self.backend.provider_id())
            .with_auth(Authentication::direct(app).unwrap())
    }

    /// What psecd logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("psecd.log")).unwrap_or_default()
    }
}

impl Drop for Psecd {
    fn drop(&mut self) {
        for child in self.child.iter_mut().chain(self.helpers.iter_mut()) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
