//! What providers' tests share: a key store in memory (no persistence, so
//! it can stand for the service's store in nothing but a test), and helpers
//! that create, export, sign and verify with and destroy keys through the
//! capability traits, and the checks every provider's tests run alike.
//! Behind the `testing` feature, for the providers' dev-dependencies.
#![allow(
    clippy::expect_used,
    reason = "test support: a poisoned lock fails the test"
)]

use crate::{
    Application, AsymmetricEncryption, AsymmetricSigning, Hashing, KeyIdentity, KeyInfo,
    KeyManagement, KeyState, KeyStore, KeyStoreError, ProviderError, Random,
};
use psec_interface::operations::{
    psa_asymmetric_decrypt, psa_asymmetric_encrypt, psa_destroy_key, psa_export_public_key,
    psa_generate_key, psa_generate_random, psa_hash_compare, psa_hash_compute, psa_import_key,
    psa_sign_hash, psa_sign_message, psa_verify_hash, psa_verify_message,
};
use psec_interface::psa_crypto::types::algorithm::{
    self as psa_crypto_alg, AsymmetricSignature, Hash,
};
use psec_interface::psa_crypto::types::key::{Attributes, UsageFlags};
use psec_interface::{AuthType, ResponseStatus, SecretBytes};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

/// The key store, in memory, for tests only: no persistence, so it can
/// not stand for the service's store in anything but a test.
#[derive(Default)]
pub struct InMemoryKeyStoreForTests {
    rows: Mutex<HashMap<KeyIdentity, (KeyInfo, KeyState)>>,
    /// Every backend id `begin_create` was given, in order.
    begun: Mutex<Vec<Vec<u8>>>,
    /// Makes `commit_create` fail, as a full disk would.
    pub fail_commits: AtomicBool,
}

impl InMemoryKeyStoreForTests {
    fn rows(&self) -> MutexGuard<'_, HashMap<KeyIdentity, (KeyInfo, KeyState)>> {
        self.rows.lock().expect("an unpoisoned lock")
    }

    /// The backend ids of every creation begun, failed or not, in order.
    pub fn begun_backend_ids(&self) -> Vec<Vec<u8>> {
        self.begun.lock().expect("an unpoisoned lock").clone()
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

/// The configured name of the provider under test, in every provider's
/// tests.
pub const PROVIDER_NAME: &str = "provider-under-test";

/// The application `name`, as the Direct authenticator names it.
pub fn app(name: &str) -> Application {
    Application::new(AuthType::Direct, name)
}

/// The identity of `owner`'s key `name` in the provider under test.
pub fn identity_of(owner: &Application, name: &str) -> KeyIdentity {
    KeyIdentity {
        application: owner.clone(),
        provider: PROVIDER_NAME.into(),
        key_name: name.into(),
    }
}

/// Generates `owner`'s key `name`.
pub fn generate<P: KeyManagement + ?Sized>(
    provider: &P,
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
pub fn import<P: KeyManagement + ?Sized>(
    provider: &P,
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
pub fn destroy<P: KeyManagement + ?Sized>(
    provider: &P,
    owner: &Application,
    name: &str,
) -> Result<(), ProviderError> {
    let op = psa_destroy_key::Operation {
        key_name: name.into(),
    };
    provider.destroy_key(owner, op).map(|_| ())
}

/// The public key of `owner`'s key `name`, in PSA's format.
pub fn export_public<P: KeyManagement + ?Sized>(
    provider: &P,
    owner: &Application,
    name: &str,
) -> Result<Vec<u8>, ProviderError> {
    let op = psa_export_public_key::Operation {
        key_name: name.into(),
    };
    provider
        .export_public_key(owner, op)
        .map(|result| result.data)
}

/// Signs `hash` with `owner`'s key `name`.
pub fn sign_hash<P: AsymmetricSigning + ?Sized>(
    provider: &P,
    owner: &Application,
    name: &str,
    alg: AsymmetricSignature,
    hash: &[u8],
) -> Result<Vec<u8>, ProviderError> {
    let op = psa_sign_hash::Operation {
        key_name: name.into(),
        alg,
        hash: hash.to_vec(),
    };
    provider.sign_hash(owner, op).map(|result| result.signature)
}

/// Verifies `signature` of `hash` with `owner`'s key `name`.
pub fn verify_hash<P: AsymmetricSigning + ?Sized>(
    provider: &P,
    owner: &Application,
    name: &str,
    alg: AsymmetricSignature,
    hash: &[u8],
    signature: &[u8],
) -> Result<(), ProviderError> {
    let op = psa_verify_hash::Operation {
        key_name: name.into(),
        alg,
        hash: hash.to_vec(),
        signature: signature.to_vec(),
    };
    provider.verify_hash(owner, op).map(|_| ())
}

/// Signs `message` with `owner`'s key `name`.
pub fn sign_message<P: AsymmetricSigning + ?Sized>(
    provider: &P,
    owner: &Application,
    name: &str,
    alg: AsymmetricSignature,
    message: &[u8],
) -> Result<Vec<u8>, ProviderError> {
    let op = psa_sign_message::Operation {
        key_name: name.into(),
        alg,
        message: message.into(),
    };
    provider
        .sign_message(owner, op)
        .map(|result| result.signature)
}

/// Verifies `signature` of `message` with `owner`'s key `name`.
pub fn verify_message<P: AsymmetricSigning + ?Sized>(
    provider: &P,
    owner: &Application,
    name: &str,
    alg: AsymmetricSignature,
    message: &[u8],
    signature: &[u8],
) -> Result<(), ProviderError> {
    let op = psa_verify_message::Operation {
        key_name: name.into(),
        alg,
        message: message.into(),
        signature: signature.to_vec(),
    };
    provider.verify_message(owner, op).map(|_| ())
}

/// Encrypts `plaintext` to `owner`'s key `name`.
pub fn asymmetric_encrypt<P: AsymmetricEncryption + ?Sized>(
    provider: &P,
    owner: &Application,
    name: &str,
    alg: psa_crypto_alg::AsymmetricEncryption,
    plaintext: &[u8],
    salt: Option<&[u8]>,
) -> Result<Vec<u8>, ProviderError> {
    let op = psa_asymmetric_encrypt::Operation {
        key_name: name.into(),
        alg,
        plaintext: plaintext.into(),
        salt: salt.map(SecretBytes::from),
    };
    provider
        .asymmetric_encrypt(owner, op)
        .map(|result| result.ciphertext)
}

/// Decrypts `ciphertext` with `owner`'s key `name`.
pub fn asymmetric_decrypt<P: AsymmetricEncryption + ?Sized>(
    provider: &P,
    owner: &Application,
    name: &str,
    alg: psa_crypto_alg::AsymmetricEncryption,
    ciphertext: &[u8],
    salt: Option<&[u8]>,
) -> Result<SecretBytes, ProviderError> {
    let op = psa_asymmetric_decrypt::Operation {
        key_name: name.into(),
        alg,
        ciphertext: ciphertext.to_vec(),
        salt: salt.map(SecretBytes::from),
    };
    provider
        .asymmetric_decrypt(owner, op)
        .map(|result| result.plaintext)
}

/// The hash of `input`.
pub fn hash_compute<P: Hashing + ?Sized>(
    provider: &P,
    alg: Hash,
    input: &[u8],
) -> Result<Vec<u8>, ProviderError> {
    let op = psa_hash_compute::Operation {
        alg,
        input: input.into(),
    };
    provider.hash_compute(op).map(|result| result.hash)
}

/// Whether `hash` is the hash of `input`.
pub fn hash_compare<P: Hashing + ?Sized>(
    provider: &P,
    alg: Hash,
    input: &[u8],
    hash: &[u8],
) -> Result<(), ProviderError> {
    let op = psa_hash_compare::Operation {
        alg,
        input: input.into(),
        hash: hash.to_vec(),
    };
    provider.hash_compare(op).map(|_| ())
}

/// `size` random bytes.
pub fn generate_random<P: Random + ?Sized>(
    provider: &P,
    size: usize,
) -> Result<Vec<u8>, ProviderError> {
    let op = psa_generate_random::Operation { size };
    provider
        .generate_random(op)
        .map(|result| result.random_bytes.to_vec())
}

/// The fields of psa-crypto's `UsageFlags`, in declaration order: the order
/// Parsec's legacy on-disk store writes them in (bincode 1 of its serde
/// derive, one byte per flag).
const USAGE_FLAG_FIELDS: [&str; 10] = [
    "export",
    "copy",
    "cache",
    "encrypt",
    "decrypt",
    "sign_message",
    "verify_message",
    "sign_hash",
    "verify_hash",
    "derive",
];

/// Usage flags with exactly the flags `names` set, decoded from the bytes a
/// Parsec 1.x on-disk store holds for them. psa-crypto's setters couple
/// flags (`set_sign_hash` sets `sign_message` too); keys Parsec stored from
/// older clients may carry one without the other, and this builds them so.
///
/// # Panics
/// If a name is not a field of `UsageFlags`.
pub fn usage_flags_as_parsec_stored(names: &[&str]) -> UsageFlags {
    for name in names {
        assert!(
            USAGE_FLAG_FIELDS.contains(name),
            "`{name}` is not a usage flag"
        );
    }
    let bytes: Vec<u8> = USAGE_FLAG_FIELDS
        .iter()
        .map(|field| u8::from(names.contains(field)))
        .collect();
    let (flags, read): (UsageFlags, usize) =
        bincode::serde::decode_from_slice(&bytes, bincode::config::legacy())
            .expect("usage flags in bincode 1");
    assert_eq!(read, bytes.len(), "every byte a flag");
    flags
}

/// PSA 1.1's rule that the hash flags imply the message flags, checked on
/// a real provider with a key whose stored policy carries `sign_hash` and
/// `verify_hash` but neither message flag (as a key migrated from Parsec's
/// legacy on-disk store may): it signs and verifies both hashes and
/// messages. A key with `sign_message` alone signs no hash.
///
/// `attributes` is a key pair that `alg` can sign with (its usage flags are
/// replaced); `hash` is as long as `alg`'s hash. Creates `owner`'s keys
/// `hash-flags-only` and `sign-message-only`, and destroys them.
///
/// # Panics
/// When the provider does not follow the rule.
pub fn check_hash_usage_flags_imply_message_flags<P>(
    provider: &P,
    owner: &Application,
    mut attributes: Attributes,
    alg: AsymmetricSignature,
    hash: &[u8],
) where
    P: KeyManagement + AsymmetricSigning + ?Sized,
{
    let name = "hash-flags-only";
    attributes.policy.usage_flags = usage_flags_as_parsec_stored(&["sign_hash", "verify_hash"]);
    assert!(!attributes.policy.usage_flags.sign_message());
    generate(provider, owner, name, attributes).expect("a key with hash flags only");
    let message = b"signed by a key migrated from Parsec";
    let signature = sign_hash(provider, owner, name, alg, hash).expect("sign_hash allows hashes");
    verify_hash(provider, owner, name, alg, hash, &signature)
        .expect("verify_hash allows verifying hashes");
    let signature =
        sign_message(provider, owner, name, alg, message).expect("sign_hash implies sign_message");
    verify_message(provider, owner, name, alg, message, &signature)
        .expect("verify_hash implies verify_message");
    destroy(provider, owner, name).expect("destroying the key");

    let name = "sign-message-only";
    attributes.policy.usage_flags = usage_flags_as_parsec_stored(&["sign_message"]);
    generate(provider, owner, name, attributes).expect("a key with sign_message only");
    let error = sign_hash(provider, owner, name, alg, hash)
        .expect_err("sign_message does not imply sign_hash");
    assert_eq!(
        error.status(),
        ResponseStatus::PsaErrorNotPermitted,
        "{error}"
    );
    assert!(error.to_string().contains("sign_hash"), "{error}");
    destroy(provider, owner, name).expect("destroying the key");
}
