//! What the unit tests share: a swtpm of their own on a free loopback port,
//! an in-memory stand-in for the key store, key attribute builders and
//! short calls of each operation.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test setup fails by panicking"
)]

use crate::{TpmProvider, TpmSettings};
use psec_interface::AuthType;
use psec_interface::psa_crypto::types::algorithm::{
    Algorithm, AsymmetricEncryption, AsymmetricSignature, Hash,
};
use psec_interface::psa_crypto::types::key::{
    Attributes, EccFamily, Lifetime, Policy, Type, UsageFlags,
};
use psec_provider::{Application, KeyIdentity, KeyStore, ProviderError};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// The name every test provider has.
pub(crate) const PROVIDER_NAME: &str = "tpm-test";

/// How long a swtpm may take to listen.
const START_DEADLINE: Duration = Duration::from_secs(10);

/// A swtpm of one test: its own state directory and ports, stopped (by
/// PID) when dropped.
pub(crate) struct Swtpm {
    child: Child,
    port: u16,
    /// The state directory, kept across power cycles.
    state: Arc<TempDir>,
}

/// Two consecutive free loopback ports (server, control), found by binding
/// and releasing them.
fn free_port_pair() -> u16 {
    for _ in 0..50 {
        let first = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = first.local_addr().expect("its address").port();
        let Some(next) = port.checked_add(1) else {
            continue;
        };
        if TcpListener::bind(("127.0.0.1", next)).is_ok() {
            return port;
        }
    }
    panic!("no two consecutive free loopback ports");
}

impl Swtpm {
    /// A fresh swtpm on a new state directory.
    pub(crate) fn start() -> Swtpm {
        let state = tempfile::Builder::new()
            .prefix("psec-swtpm-")
            .tempdir()
            .expect("a temporary directory");
        Swtpm::start_on(Arc::new(state))
    }

    /// A swtpm on `state`, as after a power cycle: Startup(CLEAR).
    fn start_on(state: Arc<TempDir>) -> Swtpm {
        for _ in 0..5 {
            let port = free_port_pair();
            let mut child = Command::new("swtpm")
                .arg("socket")
                .arg("--tpm2")
                .arg("--server")
                .arg(format!("type=tcp,port={port},bindaddr=127.0.0.1"))
                .arg("--ctrl")
                .arg(format!("type=tcp,port={},bindaddr=127.0.0.1", port + 1))
                .arg("--tpmstate")
                .arg(format!("dir={}", state.path().display()))
                .arg("--flags")
                .arg("not-need-init,startup-clear")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("swtpm runs (is it installed?)");
            let deadline = Instant::now() + START_DEADLINE;
            loop {
                if child.try_wait().expect("swtpm's status").is_some() {
                    // Lost the port to someone else: try others.
                    break;
                }
                let listening = [port, port + 1]
                    .iter()
                    .all(|&port| TcpStream::connect(("127.0.0.1", port)).is_ok());
                if listening {
                    return Swtpm { child, port, state };
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("swtpm did not listen on port {port} in {START_DEADLINE:?}");
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        panic!("swtpm could not start on any port");
    }

    /// The TCTI string of this swtpm.
    pub(crate) fn tcti(&self) -> String {
        format!("swtpm:host=127.0.0.1,port={}", self.port)
    }

    /// Stops the swtpm and starts it again on the same state: a TPM reset.
    pub(crate) fn power_cycle(self) -> Swtpm {
        let state = Arc::clone(&self.state);
        drop(self);
        Swtpm::start_on(state)
    }

    /// Resets the TPM under its clients (TPM_Init through the control
    /// channel, as a platform reset does); the next client must send
    /// TPM2_Startup.
    pub(crate) fn reset(&self) {
        let status = Command::new("swtpm_ioctl")
            .arg("--tcp")
            .arg(format!("127.0.0.1:{}", self.port + 1))
            .arg("-i")
            .stdout(Stdio::null())
            .status()
            .expect("swtpm_ioctl runs");
        assert!(status.success(), "swtpm_ioctl -i: {status}");
    }

    /// The state directory.
    pub(crate) fn state_dir(&self) -> PathBuf {
        self.state.path().to_path_buf()
    }
}

impl Drop for Swtpm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) use psec_provider::testing::{
    InMemoryKeyStoreForTests, destroy, export_public, generate, import, sign_hash, sign_message,
    verify_hash, verify_message,
};

/// A test's swtpm, key store and provider over both.
pub(crate) struct Setup {
    pub(crate) provider: TpmProvider,
    pub(crate) store: Arc<InMemoryKeyStoreForTests>,
    pub(crate) swtpm: Swtpm,
}

/// A fresh swtpm, store and provider.
pub(crate) fn setup() -> Setup {
    let swtpm = Swtpm::start();
    let store = Arc::new(InMemoryKeyStoreForTests::default());
    let provider = provider_on(&swtpm, &store);
    Setup {
        provider,
        store,
        swtpm,
    }
}

/// A new provider on `swtpm` over `store`, as after a restart of the service.
pub(crate) fn provider_on(swtpm: &Swtpm, store: &Arc<InMemoryKeyStoreForTests>) -> TpmProvider {
    try_provider_on(swtpm, store, TpmSettings::new(swtpm.tcti())).expect("a provider")
}

/// A new provider with `settings`.
pub(crate) fn try_provider_on(
    _swtpm: &Swtpm,
    store: &Arc<InMemoryKeyStoreForTests>,
    settings: TpmSettings,
) -> Result<TpmProvider, ProviderError> {
    let store: Arc<dyn KeyStore> = store.clone();
    TpmProvider::new(PROVIDER_NAME.into(), store, settings)
}

/// An application authenticated directly.
pub(crate) fn app(name: &str) -> Application {
    Application::new(AuthType::Direct, name)
}

/// The identity of `owner`'s key `name` in the test provider.
pub(crate) fn identity_of(owner: &Application, name: &str) -> KeyIdentity {
    KeyIdentity {
        application: owner.clone(),
        provider: PROVIDER_NAME.into(),
        key_name: name.into(),
    }
}

/// Attributes with the usage flags `flags` sets.
pub(crate) fn attributes(
    key_type: Type,
    bits: usize,
    alg: Algorithm,
    flags: impl FnOnce(&mut UsageFlags),
) -> Attributes {
    let mut usage_flags = UsageFlags::default();
    flags(&mut usage_flags);
    Attributes {
        lifetime: Lifetime::Volatile,
        key_type,
        bits,
        policy: Policy {
            usage_flags,
            permitted_algorithms: alg,
        },
    }
}

fn signing_flags(flags: &mut UsageFlags) {
    flags
        .set_sign_hash()
        .set_verify_hash()
        .set_sign_message()
        .set_verify_message();
}

pub(crate) const SECP_R1: Type = Type::EccKeyPair {
    curve_family: EccFamily::SecpR1,
};

/// ECDSA with SHA-256.
pub(crate) const ECDSA_SHA256: AsymmetricSignature = AsymmetricSignature::Ecdsa {
    hash_alg: psec_interface::psa_crypto::types::algorithm::SignHash::Specific(Hash::Sha256),
};

/// A SECP R1 ECDSA key pair (any hash) that may sign and verify.
pub(crate) fn ecc_key(bits: usize) -> Attributes {
    let alg = AsymmetricSignature::Ecdsa {
        hash_alg: psec_interface::psa_crypto::types::algorithm::SignHash::Any,
    };
    attributes(SECP_R1, bits, alg.into(), signing_flags)
}

/// An RSA signing key pair for `alg`.
pub(crate) fn rsa_signing_key(bits: usize, alg: AsymmetricSignature) -> Attributes {
    attributes(Type::RsaKeyPair, bits, alg.into(), signing_flags)
}

/// An RSA key pair that may encrypt and decrypt with `alg`.
pub(crate) fn rsa_crypt_key(bits: usize, alg: AsymmetricEncryption) -> Attributes {
    attributes(Type::RsaKeyPair, bits, alg.into(), |flags| {
        flags.set_encrypt().set_decrypt();
    })
}
