//! What the unit tests share: a working directory for Mbed TLS's key files,
//! an in-memory stand-in for the key store, and key attribute builders.

#![allow(clippy::expect_used, reason = "test setup fails by panicking")]

use crate::backend::{KeyId, Psa};
use crate::{MbedCryptoProvider, MbedCryptoSettings};
use psa_crypto::types::algorithm::{
    Algorithm, AsymmetricSignature, KeyAgreement, RawKeyAgreement, SignHash,
};
use psa_crypto::types::key::{Attributes, EccFamily, Type, UsageFlags};
use psec_provider::KeyStore;
pub(crate) use psec_test_support::attributes::volatile as attributes;
use std::sync::{Arc, OnceLock};
use tempfile::TempDir;

/// The name every test provider has.
pub(crate) use psec_provider::testing::{PROVIDER_NAME, app, identity_of};

/// Moves this test process into a fresh temporary directory, once, so that
/// Mbed TLS writes its key files there and not into the source tree. Every
/// test calls it before its first PSA call. The directory is left behind
/// when the process exits.
pub(crate) fn in_test_dir() {
    static DIR: OnceLock<TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("psec-mbed-crypto-tests-")
            .tempdir()
            .expect("a temporary directory");
        std::env::set_current_dir(dir.path()).expect("moving into it");
        dir
    });
}

pub(crate) use psec_provider::testing::{
    InMemoryKeyStoreForTests, destroy, export_public, generate, import, sign_hash, sign_message,
    verify_hash, verify_message,
};

/// The Mbed key ids of every creation begun on `store`, failed or not.
pub(crate) fn begun_ids(store: &InMemoryKeyStoreForTests) -> Vec<KeyId> {
    store
        .begun_backend_ids()
        .iter()
        .map(|id| KeyId::from_backend_id(id).expect("a valid backend id"))
        .collect()
}

/// A provider named [`PROVIDER_NAME`] over a fresh in-memory store.
pub(crate) fn setup() -> (Arc<InMemoryKeyStoreForTests>, MbedCryptoProvider) {
    let store = Arc::new(InMemoryKeyStoreForTests::default());
    let provider = restart(&store);
    (store, provider)
}

/// A new provider over `store`, as after a restart of the service.
pub(crate) fn restart(store: &Arc<InMemoryKeyStoreForTests>) -> MbedCryptoProvider {
    in_test_dir();
    let store: Arc<dyn KeyStore> = store.clone();
    MbedCryptoProvider::new(PROVIDER_NAME.into(), store, MbedCryptoSettings::default())
        .expect("a provider")
}

/// Whether Mbed TLS has the key `key_id`.
pub(crate) fn backend_key_exists(key_id: KeyId) -> bool {
    Psa::lock().exists(key_id).expect("a PSA answer")
}

/// An ECDSA key pair (any hash) that may sign and verify.
pub(crate) fn ecc_key(curve_family: EccFamily, bits: usize) -> Attributes {
    let alg = AsymmetricSignature::Ecdsa {
        hash_alg: SignHash::Any,
    };
    attributes(
        Type::EccKeyPair { curve_family },
        bits,
        alg.into(),
        |flags| {
            flags.set_sign_hash().set_verify_hash();
        },
    )
}

/// A P-256 ECDSA key pair (any hash) that may sign and verify.
pub(crate) fn ecc_p256_signing_key() -> Attributes {
    ecc_key(EccFamily::SecpR1, 256)
}

/// A key pair for raw ECDH.
pub(crate) fn ecdh_key(curve_family: EccFamily, bits: usize) -> Attributes {
    let alg = KeyAgreement::Raw(RawKeyAgreement::Ecdh);
    attributes(
        Type::EccKeyPair { curve_family },
        bits,
        alg.into(),
        |flags| {
            flags.set_derive();
        },
    )
}

/// An RSA key pair.
pub(crate) fn rsa_key(
    bits: usize,
    alg: Algorithm,
    flags: impl FnOnce(&mut UsageFlags),
) -> Attributes {
    attributes(Type::RsaKeyPair, bits, alg, flags)
}

/// An AES key.
pub(crate) fn aes_key(
    bits: usize,
    alg: Algorithm,
    flags: impl FnOnce(&mut UsageFlags),
) -> Attributes {
    attributes(Type::Aes, bits, alg, flags)
}
