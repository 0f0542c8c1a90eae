//! Starting Parsec and psecd from one configuration file.
//!
//! The file is written once, in Parsec's format, with paths relative to the
//! service's working directory; each service runs in a directory of its
//! own, so one file serves both without them sharing a socket, a key store
//! or (for Mbed Crypto) key files. What differs is only the environment a
//! backend needs to be the service's own: a SoftHSM2 configuration naming a
//! copy of one token, or a network namespace holding a swtpm of its own on
//! the loopback address the file names.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The SoftHSM2 library on Debian.
pub const SOFTHSM2_LIBRARY: &str = "/usr/lib/softhsm/libsofthsm2.so";
/// The user PIN of the token, written unprefixed as Parsec's files do.
pub const USER_PIN: &str = "123456";
/// The application the configuration names as administrator.
pub const ADMIN_APP: &str = "compat-admin";
/// Where swtpm listens inside each service's network namespace.
const SWTPM_PORT: u16 = 2321;

/// Which of the two implementations.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Implementation {
    /// Parsec 1.5, the reference.
    Parsec,
    /// psecd, the implementation under test.
    Psecd,
}

impl Implementation {
    /// The binary: `PSEC_COMPAT_PARSEC` or `PSEC_COMPAT_PSECD`, which
    /// `ci/compat.sh` sets after installing Parsec and building psecd.
    pub fn binary(self) -> PathBuf {
        let variable = match self {
            Implementation::Parsec => "PSEC_COMPAT_PARSEC",
            Implementation::Psecd => "PSEC_COMPAT_PSECD",
        };
        let path = std::env::var_os(variable).map(PathBuf::from).unwrap_or_else(|| {
            panic!("{variable} is not set: run the harness through ci/compat.sh, which installs Parsec 1.5 and builds psecd")
        });
        assert!(
            path.is_file(),
            "{variable}={} is not a file",
            path.display()
        );
        path
    }
}

impl fmt::Display for Implementation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Implementation::Parsec => "Parsec",
            Implementation::Psecd => "psecd",
        })
    }
}

/// The provider both services run.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Mbed Crypto, in software.
    MbedCrypto,
    /// PKCS#11 on a SoftHSM2 token.
    Pkcs11,
    /// A TPM 2.0: swtpm.
    Tpm,
}

impl Backend {
    /// Every backend.
    pub const ALL: [Backend; 3] = [Backend::MbedCrypto, Backend::Pkcs11, Backend::Tpm];

    /// The name used in case names and in `differences.toml`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::MbedCrypto => "mbed-crypto",
            Backend::Pkcs11 => "pkcs11",
            Backend::Tpm => "tpm",
        }
    }

    /// The provider id both services give it.
    pub fn provider(self) -> crate::interface::requests::ProviderId {
        use crate::interface::requests::ProviderId;
        match self {
            Backend::MbedCrypto => ProviderId::MbedCrypto,
            Backend::Pkcs11 => ProviderId::Pkcs11,
            Backend::Tpm => ProviderId::Tpm,
        }
    }

    /// Its `[[provider]]` section.
    fn provider_section(self) -> String {
        match self {
            Backend::MbedCrypto => "provider_type = \"MbedCrypto\"\n".to_string(),
            Backend::Pkcs11 => format!(
                "provider_type = \"Pkcs11\"\nlibrary_path = \"{SOFTHSM2_LIBRARY}\"\nuser_pin = \"{USER_PIN}\"\n"
            ),
            Backend::Tpm => format!(
                "provider_type = \"Tpm\"\ntcti = \"swtpm:host=127.0.0.1,port={SWTPM_PORT}\"\nowner_hierarchy_auth = \"\"\n"
            ),
        }
    }
}

/// Which key info store the configuration names.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum KeyStore {
    /// SQLite, the recommended one.
    Sqlite,
    /// Parsec's legacy directory tree.
    OnDisk,
}

/// The configuration file, in Parsec's format: Direct authentication with
/// one administrator, the key store, and the one provider.
pub fn config_text(backend: Backend, store: KeyStore) -> String {
    let manager = match store {
        KeyStore::Sqlite => {
            "name = \"kim\"\nmanager_type = \"SQLite\"\nsqlite_db_path = \"kim/keys.sqlite3\"\n"
        }
        KeyStore::OnDisk => {
            "name = \"kim\"\nmanager_type = \"OnDisk\"\nstore_path = \"mappings\"\n"
        }
    };
    format!(
        "[core_settings]\n\
         allow_root = true\n\
         log_level = \"error\"\n\
         thread_pool_size = 4\n\
         \n\
         [listener]\n\
         listener_type = \"DomainSocket\"\n\
         timeout = 2000\n\
         socket_path = \"parsec.sock\"\n\
         \n\
         [authenticator]\n\
         auth_type = \"Direct\"\n\
         admins = [{{ name = \"{ADMIN_APP}\" }}]\n\
         \n\
         [[key_manager]]\n\
         {manager}\n\
         [[provider]]\n\
         key_info_manager = \"kim\"\n\
         {}",
        backend.provider_section()
    )
}

/// Makes `dir`'s SoftHSM2 configuration, naming a token directory of its
/// own inside `dir`.
fn softhsm2_conf(dir: &Path) -> PathBuf {
    let conf = dir.join("softhsm2.conf");
    let tokens = dir.join("tokens");
    fs::create_dir_all(&tokens).expect("token directory");
    fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .expect("SoftHSM2 configuration");
    conf
}

/// Initialises one SoftHSM2 token in `template` and copies it into each of
/// `dirs`: both services then see a token with the same serial number and
/// slot, each its own.
pub fn make_tokens(template: &Path, dirs: &[&Path]) {
    let conf = softhsm2_conf(template);
    let status = Command::new("softhsm2-util")
        .args(["--init-token", "--free", "--label", "compat"])
        .args(["--so-pin", "12345678", "--pin", USER_PIN])
        .env("SOFTHSM2_CONF", &conf)
        .stdout(Stdio::null())
        .status()
        .expect("softhsm2-util (apt-get install softhsm2)");
    assert!(status.success(), "softhsm2-util --init-token failed");
    for dir in dirs {
        softhsm2_conf(dir);
        let status = Command::new("cp")
            .arg("-a")
            .arg(template.join("tokens/."))
            .arg(dir.join("tokens"))
            .status()
            .expect("cp");
        assert!(status.success(), "copying the token failed");
    }
}

/// One running service.
pub struct Service {
    /// Which implementation.
    pub implementation: Implementation,
    /// Its working directory.
    pub dir: PathBuf,
    /// Its socket.
    pub socket: PathBuf,
    child: Option<Child>,
}

impl Service {
    /// Starts `implementation` from `config` in `dir`, and waits until its
    /// socket is there. For the TPM the service runs in a network and PID
    /// namespace of its own, with a swtpm of its own on the loopback port
    /// the configuration names; both end with the namespace.
    pub fn start(
        implementation: Implementation,
        backend: Backend,
        config: &Path,
        dir: &Path,
    ) -> Service {
        fs::create_dir_all(dir.join("kim")).expect("service directory");
        let binary = implementation.binary();
        let log = fs::File::create(dir.join("service.log")).expect("log file");
        let mut command = match backend {
            Backend::Tpm => {
                fs::create_dir_all(dir.join("tpm")).expect("TPM state directory");
                let mut command = Command::new("unshare");
                // Root (as CI is) makes the namespaces directly; anyone else
                // through a user namespace.
                if !is_root() {
                    command.args(["--user", "--map-root-user"]);
                }
                command
                    .args([
                        "--net",
                        "--pid",
                        "--fork",
                        "--kill-child",
                        "--",
                        "bash",
                        "-c",
                    ])
                    .arg(TPM_NAMESPACE_SCRIPT)
                    .arg("tpm-namespace")
                    .arg(dir.join("tpm"))
                    .arg(&binary);
                command
            }
            _ => Command::new(&binary),
        };
        command
            .arg("--config")
            .arg(config)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log);
        if backend == Backend::Pkcs11 {
            command.env("SOFTHSM2_CONF", dir.join("softhsm2.conf"));
        }
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
        let mut service = Service {
            implementation,
            dir: dir.to_path_buf(),
            socket: dir.join("parsec.sock"),
            child: Some(child),
        };
        service.wait_for_socket();
        service
    }

    fn wait_for_socket(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(90);
        while !self.socket.exists() {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!(
                        "{} exited ({status}) before serving:\n{}",
                        self.implementation,
                        self.log()
                    );
                }
            }
            assert!(
                Instant::now() < deadline,
                "{} did not create its socket within 90 s:\n{}",
                self.implementation,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// What the service logged.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("service.log")).unwrap_or_default()
    }

    /// Stops the service (and, for the TPM, its namespace).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = fs::remove_file(&self.socket);
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs inside the TPM service's namespaces: loopback up, swtpm on it,
/// then the service itself as the namespace's first process, so that the
/// namespace, swtpm included, ends when the service does.
/// Arguments: the TPM state directory, then the service's command line.
const TPM_NAMESPACE_SCRIPT: &str = r#"
set -euo pipefail
state="$1"; shift
ip link set lo up
swtpm socket --tpm2 --flags not-need-init,startup-clear --tpmstate "dir=$state" \
    --server type=tcp,port=2321,bindaddr=127.0.0.1 \
    --ctrl type=tcp,port=2322,bindaddr=127.0.0.1 &
deadline=$((SECONDS + 30))
until [ -n "$(ss -Hltn 'sport = :2321')" ]; do
    [ "$SECONDS" -lt "$deadline" ] || { echo "swtpm did not listen" >&2; exit 1; }
    sleep 0.02
done
exec "$@"
"#;

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|out| out.stdout.trim_ascii() == b"0")
        .unwrap_or(false)
}

/// A working area for one pair: the configuration file and a directory
/// per service, removed at the end.
pub struct Workspace {
    root: tempfile::TempDir,
}

impl Workspace {
    /// A new, empty area.
    pub fn new(label: &str) -> Workspace {
        Workspace {
            root: tempfile::Builder::new()
                .prefix(&format!("psec-compat-{label}-"))
                .tempdir()
                .expect("temporary directory"),
        }
    }

    /// Its root.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// The directory of one implementation.
    pub fn dir(&self, implementation: Implementation) -> PathBuf {
        let dir = self.root().join(match implementation {
            Implementation::Parsec => "parsec",
            Implementation::Psecd => "psecd",
        });
        fs::create_dir_all(&dir).expect("service directory");
        dir
    }

    /// Writes the one configuration file both services start from.
    pub fn write_config(&self, text: &str) -> PathBuf {
        let path = self.root().join("config.toml");
        fs::write(&path, text).expect("configuration file");
        path
    }
}
