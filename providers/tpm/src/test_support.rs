//! What the unit tests share: a swtpm of their own on a free loopback port,
//! an in-memory stand-in for the key store, key attribute builders and
//! short calls of each operation.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test setup fails by panicking"
)]

use crate::{TpmProvider, TpmSettings};
use psec_interface::psa_crypto::types::algorithm::{AsymmetricEncryption, AsymmetricSignature};
use psec_interface::psa_crypto::types::key::{Attributes, Type};
use psec_provider::{KeyStore, ProviderError};
pub(crate) use psec_test_support::attributes::volatile as attributes;
use psec_test_support::attributes::{ECDSA_ANY, sign_and_verify};
pub(crate) use psec_test_support::attributes::{ECDSA_SHA256, SECP_R1};
use std::ops::Deref;
use std::path::PathBuf;
use std::sync::Arc;

/// The name every test provider has.
pub(crate) use psec_provider::testing::{PROVIDER_NAME, app, identity_of};

/// A swtpm of one test (psec-test-support's): its own state directory and
/// ports, stopped by its PID when dropped. No two tests share one.
pub(crate) struct Swtpm(psec_test_support::Swtpm);

impl Swtpm {
    /// A fresh swtpm on a new state directory.
    pub(crate) fn start() -> Swtpm {
        Swtpm(psec_test_support::Swtpm::start().unwrap_or_else(|e| panic!("{e}")))
    }

    /// Stops the swtpm and starts it again on the same state: a TPM reset.
    pub(crate) fn power_cycle(self) -> Swtpm {
        Swtpm(self.0.power_cycle().unwrap_or_else(|e| panic!("{e}")))
    }

    /// Resets the TPM under its clients (TPM_Init, as a platform reset
    /// does); the next client must send TPM2_Startup.
    pub(crate) fn reset(&self) {
        self.0.reset().unwrap_or_else(|e| panic!("{e}"));
    }

    /// The state directory.
    pub(crate) fn state_dir(&self) -> PathBuf {
        self.0.state_dir().to_path_buf()
    }
}

impl Deref for Swtpm {
    type Target = psec_test_support::Swtpm;

    fn deref(&self) -> &Self::Target {
        &self.0
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

/// A SECP R1 ECDSA key pair (any hash) that may sign and verify.
pub(crate) fn ecc_key(bits: usize) -> Attributes {
    attributes(SECP_R1, bits, ECDSA_ANY.into(), sign_and_verify)
}

/// An RSA signing key pair for `alg`.
pub(crate) fn rsa_signing_key(bits: usize, alg: AsymmetricSignature) -> Attributes {
    attributes(Type::RsaKeyPair, bits, alg.into(), sign_and_verify)
}

/// An RSA key pair that may encrypt and decrypt with `alg`.
pub(crate) fn rsa_crypt_key(bits: usize, alg: AsymmetricEncryption) -> Attributes {
    attributes(Type::RsaKeyPair, bits, alg.into(), |flags| {
        flags.set_encrypt().set_decrypt();
    })
}
