//! What the unit tests share: a working directory for Mbed TLS's key files,
//! an in-memory stand-in for the key store, and key attribute builders.

#![allow(clippy::expect_used, reason = "test setup fails by panicking")]

use crate::backend::{KeyId, Psa};
use crate::{MbedCryptoProvider, MbedCryptoSettings};
use psa_crypto::types::algorithm::{
    Algorithm, AsymmetricSignature, KeyAgreement, RawKeyAgreement, SignHash,
};
use psa_crypto::types::key::{Attributes, EccFamily, Lifetime, Policy, Type, UsageFlags};
use psec_interface::AuthType;
use psec_interface::operations::{psa_destroy_key, psa_generate_key, psa_import_key};
use psec_provider::{
    Application, KeyIdentity, KeyInfo, KeyManagement, KeyState, KeyStore, KeyStoreError,
    ProviderError,
};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use tempfile::TempDir;

/// The name every test provider has.
pub(crate) const PROVIDER_NAME: &str = "mbed-crypto-test";

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

/// The key store, in memory, for tests only: no persistence, so it can
/// not stand for the service's store in anything but a test.
#[derive(Default)]
pub(crate) struct InMemoryKeyStoreForTests {
    rows: Mutex<HashMap<KeyIdentity, (KeyInfo, KeyState)>>,
    /// Every backend id `begin_create` was given, in order.
    begun: Mutex<Vec<Vec<u8>>>,
    /// Makes `commit_create` fail, as a full disk would.
    pub(crate) fail_commits: AtomicBool,
}

impl InMemoryKeyStoreForTests {
    fn rows(&self) -> MutexGuard<'_, HashMap<KeyIdentity, (KeyInfo, KeyState)>> {
        self.rows.lock().expect("an unpoisoned lock")
    }

    /// The key ids of every creation begun, failed or not.
    pub(crate) fn begun_ids(&self) -> Vec<KeyId> {
        let begun = self.begun.lock().expect("an unpoisoned lock");
        begun
            .iter()
            .map(|id| KeyId::from_backend_id(id).expect("a valid backend id"))
            .collect()
    }

    /// Moves `key` from state `from` to `to` (`None`: drops it).
    fn step(
        &self,
        key: &KeyIdentity,
        from: KeyState,
        to: Option<KeyState>,
    ) -> Result<(), KeyStoreError> {
        let mut rows = self.rows();
        match rows.get_mut(key) {
            Some((_, state)) if *state == from => match to {
                Some(to) => *state = to,
                None => drop(rows.remove(key)),
            },
            _ => return Err(KeyStoreError::NotFound),
        }
        Ok(())
    }

    fn ready(&self, filter: impl Fn(&KeyIdentity) -> bool) -> Vec<(KeyIdentity, KeyInfo)> {
        self.rows()
            .iter()
            .filter(|(key, (_, state))| *state == KeyState::Ready && filter(key))
            .map(|(key, (info, _))| (key.clone(), info.clone()))
            .collect()
    }
}

impl KeyStore for InMemoryKeyStoreForTests {
    fn begin_create(&self, key: &KeyIdentity, info: &KeyInfo) -> Result<(), KeyStoreError> {
        let mut rows = self.rows();
        if rows.contains_key(key) {
            return Err(KeyStoreError::AlreadyExists);
        }
        rows.insert(key.clone(), (info.clone(), KeyState::Creating));
        self.begun
            .lock()
            .expect("an unpoisoned lock")
            .push(info.backend_id.clone());
        Ok(())
    }

    fn commit_create(&self, key: &KeyIdentity) -> Result<(), KeyStoreError> {
        if self.fail_commits.load(Ordering::SeqCst) {
            return Err(KeyStoreError::Storage("disk full (test)".into()));
        }
        self.step(key, KeyState::Creating, Some(KeyState::Ready))
    }

    fn abort_create(&self, key: &KeyIdentity) -> Result<(), KeyStoreError> {
        self.step(key, KeyState::Creating, None)
    }

    fn get(&self, key: &KeyIdentity) -> Result<Option<KeyInfo>, KeyStoreError> {
        Ok(self
            .ready(|candidate| candidate == key)
            .pop()
            .map(|(_, info)| info))
    }

    fn begin_destroy(&self, key: &KeyIdentity) -> Result<Option<KeyInfo>, KeyStoreError> {
        let info = self.get(key)?;
        if info.is_some() {
            self.step(key, KeyState::Ready, Some(KeyState::Destroying))?;
        }
        Ok(info)
    }

    fn finish_destroy(&self, key: &KeyIdentity) -> Result<(), KeyStoreError> {
        self.step(key, KeyState::Destroying, None)
    }

    fn keys_of(
        &self,
        application: &Application,
    ) -> Result<Vec<(KeyIdentity, KeyInfo)>, KeyStoreError> {
        Ok(self.ready(|key| key.application == *application))
    }

    fn keys_in(&self, provider: &str) -> Result<Vec<(KeyIdentity, KeyInfo)>, KeyStoreError> {
        Ok(self.ready(|key| key.provider == provider))
    }

    fn applications(&self) -> Result<Vec<Application>, KeyStoreError> {
        let mut applications: Vec<_> = self
            .ready(|_| true)
            .into_iter()
            .map(|(key, _)| key.application)
            .collect();
        applications.sort();
        applications.dedup();
        Ok(applications)
    }

    fn unfinished(
        &self,
        provider: &str,
    ) -> Result<Vec<(KeyIdentity, KeyInfo, KeyState)>, KeyStoreError> {
        Ok(self
            .rows()
            .iter()
            .filter(|(key, (_, state))| key.provider == provider && *state != KeyState::Ready)
            .map(|(key, (info, state))| (key.clone(), info.clone(), *state))
            .collect())
    }
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

/// Whether Mbed TLS has the key `key_id`.
pub(crate) fn backend_key_exists(key_id: KeyId) -> bool {
    Psa::lock().exists(key_id).expect("a PSA answer")
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

/// Generates `owner`'s key `name`.
pub(crate) fn generate(
    provider: &MbedCryptoProvider,
    owner: &Application,
    name: &str,
    attributes: Attributes,
) -> Result<(), ProviderError> {
    let op = psa_generate_key::Operation {
        key_name: name.into(),
        attributes,
    };
    provider.generate_key(owner, op).map(|_| ())
}

/// Imports `data` as `owner`'s key `name`.
pub(crate) fn import(
    provider: &MbedCryptoProvider,
    owner: &Application,
    name: &str,
    attributes: Attributes,
    data: &[u8],
) -> Result<(), ProviderError> {
    let op = psa_import_key::Operation {
        key_name: name.into(),
        attributes,
        data: data.into(),
    };
    provider.import_key(owner, op).map(|_| ())
}

/// Destroys `owner`'s key `name`.
pub(crate) fn destroy(
    provider: &MbedCryptoProvider,
    owner: &Application,
    name: &str,
) -> Result<(), ProviderError> {
    let op = psa_destroy_key::Operation {
        key_name: name.into(),
    };
    provider.destroy_key(owner, op).map(|_| ())
}
