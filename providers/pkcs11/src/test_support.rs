//! What the unit tests share: a SoftHSM2 token in a temporary directory
//! for each test, an in-memory stand-in for the key store, and key
//! attribute builders.
//!
//! SoftHSM2 reads its configuration from the `SOFTHSM2_CONF` variable,
//! once per process. Setting it would need `unsafe` in edition 2024, so
//! each SoftHSM2 test re-runs itself in a child process (the test binary,
//! filtered to that one test) with the variable set to its own token
//! directory: tests stay independent and can run side by side.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test setup fails by panicking"
)]

use crate::{Pkcs11Provider, Pkcs11Settings};
use psec_interface::psa_crypto::types::algorithm::Algorithm;
use psec_interface::psa_crypto::types::key::{Attributes, Type};
use psec_provider::KeyStore;
pub(crate) use psec_test_support::attributes::persistent as attributes;
use psec_test_support::attributes::{ECDSA_ANY, SECP_R1, sign_and_verify};
pub(crate) use psec_test_support::softhsm2::USER_PIN;
use psec_test_support::softhsm2::{self, SoftHsm2};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

/// The name every test provider has.
pub(crate) use psec_provider::testing::{PROVIDER_NAME, app, identity_of};
/// Set in the child process to the test it runs.
const CHILD_ENV: &str = "PSEC_PKCS11_TEST_CHILD";

/// Runs `body` in a child process whose SoftHSM2 has one initialised token
/// per label of `tokens`. `test` is the test's full path
/// (`module_path!()::name`).
pub(crate) fn on_softhsm(test: &str, tokens: &[&str], body: impl FnOnce()) {
    let name = test.split_once("::").map_or(test, |(_, name)| name);
    if std::env::var(CHILD_ENV).as_deref() == Ok(name) {
        body();
        return;
    }
    let softhsm2 = SoftHsm2::new().unwrap_or_else(|e| panic!("{e}"));
    for label in tokens {
        softhsm2.init_token(label).unwrap_or_else(|e| panic!("{e}"));
    }
    let output = Command::new(std::env::current_exe().expect("the test binary"))
        .args([name, "--exact", "--nocapture", "--include-ignored"])
        .arg("--test-threads=1")
        .env(CHILD_ENV, name)
        .env(softhsm2::CONF_ENV, softhsm2.conf())
        .output()
        .expect("running the test in a child process");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "{name} failed in its SoftHSM2 child process:\n{stdout}\n{stderr}"
    );
    // What the child printed (figures of a benchmark, say).
    print!("{stdout}");
}

/// SoftHSM2's PKCS#11 library (`PSEC_SOFTHSM2_LIB`, then the known paths).
pub(crate) fn library() -> PathBuf {
    softhsm2::library().unwrap_or_else(|e| panic!("{e}"))
}

/// Marks the user PIN of every token of this (child) process's SoftHSM2 as
/// locked, before the library is loaded.
///
/// SoftHSM2 counts no wrong PINs, so it never locks one itself, but at
/// login it honours the CKF_USER_PIN_LOCKED flag kept in the token's file:
/// with the flag set it is a token whose PIN is locked, as a hardware token
/// is after too many wrong tries. The file is a list of attributes, each a
/// big-endian u64 type, a u64 kind (2 for a number) and the value; the
/// token flags are SoftHSM2's vendor attribute 0x8000534b.
pub(crate) fn lock_user_pins() {
    const TOKEN_FLAGS: [u8; 16] = [0, 0, 0, 0, 0x80, 0, 0x53, 0x4b, 0, 0, 0, 0, 0, 0, 0, 2];
    const CKF_USER_PIN_LOCKED: u64 = 0x0004_0000;
    let conf = std::env::var("SOFTHSM2_CONF").expect("a SoftHSM2 test process");
    let conf = std::fs::read_to_string(conf).expect("reading softhsm2.conf");
    let tokens = conf
        .lines()
        .find_map(|line| line.strip_prefix("directories.tokendir = "))
        .expect("a token directory in softhsm2.conf");
    for token in std::fs::read_dir(tokens).expect("the token directory") {
        let file = token.expect("a token").path().join("token.object");
        let mut bytes = std::fs::read(&file).expect("reading token.object");
        let at = bytes
            .windows(TOKEN_FLAGS.len())
            .position(|window| window == TOKEN_FLAGS)
            .expect("the token flags in token.object")
            + TOKEN_FLAGS.len();
        let value: &mut [u8; 8] = (&mut bytes[at..at + 8]).try_into().expect("8 bytes");
        *value = (u64::from_be_bytes(*value) | CKF_USER_PIN_LOCKED).to_be_bytes();
        std::fs::write(&file, bytes).expect("writing token.object");
    }
}

/// A test on a SoftHSM2 token labelled `psec-test`, in its own process.
macro_rules! softhsm_test {
    ($(#[$meta:meta])* fn $name:ident() $body:block) => {
        $(#[$meta])*
        #[test]
        fn $name() {
            $crate::test_support::on_softhsm(
                concat!(module_path!(), "::", stringify!($name)),
                &["psec-test"],
                || $body,
            );
        }
    };
}
pub(crate) use softhsm_test;

pub(crate) use psec_provider::testing::{
    InMemoryKeyStoreForTests, destroy, export_public, generate, import, sign_hash, verify_hash,
};
/// Only the tests of software public operations sign whole messages.
#[cfg(feature = "software-public-operations")]
pub(crate) use psec_provider::testing::{sign_message, verify_message};

/// Settings for the test token, with export allowed.
pub(crate) fn settings() -> Pkcs11Settings {
    Pkcs11Settings::new(library())
        .with_user_pin(zeroize::Zeroizing::new(USER_PIN.as_bytes().to_vec()))
        .with_allow_export(true)
}

/// A provider named [`PROVIDER_NAME`] over a fresh in-memory store.
pub(crate) fn setup() -> (Arc<InMemoryKeyStoreForTests>, Pkcs11Provider) {
    let store = Arc::new(InMemoryKeyStoreForTests::default());
    let provider = restart(&store);
    (store, provider)
}

/// A new provider over `store`, as after a restart of the service.
pub(crate) fn restart(store: &Arc<InMemoryKeyStoreForTests>) -> Pkcs11Provider {
    let store: Arc<dyn KeyStore> = store.clone();
    Pkcs11Provider::new(PROVIDER_NAME.into(), store, settings()).expect("a provider")
}

/// A Mbed Crypto provider over an in-memory store, to check results
/// across providers. Mbed TLS keeps key files in the working directory, so
/// this moves the (child) test process into a temporary directory, which
/// lives as long as the returned guard.
pub(crate) fn mbed_provider() -> (tempfile::TempDir, Arc<dyn psec_provider::Provider>) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::env::set_current_dir(dir.path()).expect("moving into it");
    let mbed = psec_provider_mbed_crypto::build(
        "mbed".into(),
        Arc::new(InMemoryKeyStoreForTests::default()),
        psec_provider_mbed_crypto::MbedCryptoSettings::default(),
    )
    .expect("a Mbed Crypto provider");
    (dir, mbed)
}

/// An ECDSA (any hash) key pair that may sign and verify hashes and
/// messages.
pub(crate) fn ecc_key(bits: usize) -> Attributes {
    attributes(SECP_R1, bits, ECDSA_ANY.into(), sign_and_verify)
}

/// An RSA key pair for `alg` with every usage flag but export.
pub(crate) fn rsa_key(bits: usize, alg: Algorithm) -> Attributes {
    attributes(Type::RsaKeyPair, bits, alg, |flags| {
        flags
            .set_sign_hash()
            .set_verify_hash()
            .set_sign_message()
            .set_verify_message()
            .set_encrypt()
            .set_decrypt();
    })
}
