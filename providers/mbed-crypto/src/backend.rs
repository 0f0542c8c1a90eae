//! The thin layer over psa-crypto: the lock every PSA call runs under, key
//! ids and their encoding in the key store, opening and destroying keys,
//! and the mapping of PSA errors.

use psa_crypto::operations::{key_management, other};
use psa_crypto::types::algorithm::Algorithm;
use psa_crypto::types::key::{
    Attributes, Id, Lifetime, PSA_KEY_ID_USER_MAX, PSA_KEY_ID_USER_MIN, Policy, Type, UsageFlags,
};
use psa_crypto::types::status::Error as PsaError;
use psec_interface::{ResponseStatus, SecretBytes};
use psec_provider::{KeyStoreError, ProviderError};
use serde::Deserialize;
use serde::de::value::{Error as ValueError, SeqDeserializer};
use std::sync::{Mutex, MutexGuard, PoisonError};
use zeroize::Zeroizing;

/// Serialises every call into Mbed TLS.
///
/// The Mbed TLS that psa-crypto builds has no `MBEDTLS_THREADING_C`: its key
/// slots and random generator are process-wide state with no locking of
/// their own. One lock per process (not per provider) is the only correct
/// scope, since two providers share that state.
static PSA_LOCK: Mutex<()> = Mutex::new(());

/// Proof that the caller holds the PSA lock; every PSA call of this crate
/// is made while one is alive.
pub(crate) struct Psa {
    _guard: MutexGuard<'static, ()>,
}

impl Psa {
    /// Waits for the PSA lock. A panic while it was held leaves nothing
    /// half-done on our side (the lock guards no Rust data), so a poisoned
    /// lock is simply taken.
    pub(crate) fn lock() -> Psa {
        Psa {
            _guard: PSA_LOCK.lock().unwrap_or_else(PoisonError::into_inner),
        }
    }

    /// Whether Mbed TLS has the key `key_id`.
    pub(crate) fn exists(&self, key_id: KeyId) -> Result<bool, PsaError> {
        match Attributes::from_key_id(key_id.psa_id()?) {
            Ok(_) => Ok(true),
            // Mbed TLS reports a persistent key that is not in storage as
            // an invalid handle.
            Err(PsaError::DoesNotExist | PsaError::InvalidHandle) => Ok(false),
            // Mbed TLS found the key, psa-crypto could not express its
            // attributes (it reads back no cipher algorithm, for one).
            Err(PsaError::NotSupported) => Ok(true),
            Err(error) => Err(error),
        }
    }

    /// Destroys a key: its slot and, if persistent, its file.
    pub(crate) fn destroy(&self, id: Id) -> Result<(), PsaError> {
        destroy_locked(self, id)
    }

    /// Destroys the key `key_id` if it exists; says whether it did.
    pub(crate) fn destroy_if_present(&self, key_id: KeyId) -> Result<bool, PsaError> {
        match self.destroy(key_id.psa_id()?) {
            Ok(()) => Ok(true),
            Err(PsaError::DoesNotExist | PsaError::InvalidHandle) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// The size in bits Mbed TLS finds in `data` for a key of `key_type`,
    /// found by importing it as a volatile key that may do nothing, then
    /// destroying that.
    pub(crate) fn measure(&self, key_type: Type, data: &[u8]) -> Result<usize, PsaError> {
        let probe = Attributes {
            lifetime: Lifetime::Volatile,
            key_type,
            bits: 0,
            policy: Policy {
                usage_flags: UsageFlags::default(),
                permitted_algorithms: Algorithm::None,
            },
        };
        let id = key_management::import(probe, None, data)?;
        let measured = Attributes::from_key_id(id).map(|attributes| attributes.bits);
        self.destroy(id)?;
        measured
    }

    /// A key id in the user range that no key has yet.
    pub(crate) fn free_key_id(&self) -> Result<KeyId, PsaError> {
        for _ in 0..FREE_ID_ATTEMPTS {
            let candidate = self.random_key_id()?;
            if !self.exists(candidate)? {
                return Ok(candidate);
            }
        }
        // 2^30 ids and 16 misses in a row: the storage is (nearly) full.
        Err(PsaError::InsufficientStorage)
    }

    fn random_key_id(&self) -> Result<KeyId, PsaError> {
        let mut bytes = [0u8; 4];
        other::generate_random(&mut bytes)?;
        let span = PSA_KEY_ID_USER_MAX - PSA_KEY_ID_USER_MIN + 1;
        Ok(KeyId(
            PSA_KEY_ID_USER_MIN + u32::from_le_bytes(bytes) % span,
        ))
    }

    /// `len` random bytes, wiped when dropped.
    pub(crate) fn random(&self, len: usize) -> Result<SecretBytes, PsaError> {
        let mut buffer = SecretBuffer::new(len);
        other::generate_random(buffer.as_mut())?;
        Ok(buffer.into_secret(len))
    }
}

/// How many random ids [`Psa::free_key_id`] tries.
const FREE_ID_ATTEMPTS: usize = 16;

/// psa-crypto marks `destroy` unsafe because destroying a key while another
/// thread uses it is undefined behaviour in Mbed TLS.
#[allow(
    unsafe_code,
    reason = "psa-crypto 0.13 offers no safe way to destroy a key"
)]
fn destroy_locked(_held: &Psa, id: Id) -> Result<(), PsaError> {
    // SAFETY: destroying a key is undefined behaviour only while another
    // thread uses that key. The ids destroyed here are this crate's own: a
    // persistent id it chose and keeps in its key store, or a volatile key
    // it imported under this same lock (`measure`, `public_key`); `KeyId`
    // and `Id` never leave the crate (clients and other crates name keys,
    // never ids). Every PSA call this crate makes on them, including those
    // other crates reach through it (psec-provider-pkcs11's software public
    // operations call `public_key`), runs while the process-wide PSA lock
    // is held, and `_held` proves the caller holds it now: no other thread
    // can be using the key.
    unsafe { key_management::destroy(id) }
}

/// AES-ECB through the PSA multipart cipher calls, without the IV that
/// psa-crypto 0.13's `cipher` module always sets (and Mbed TLS refuses for
/// ECB). `input` must be whole blocks; `output` as long as `input`.
#[allow(
    unsafe_code,
    reason = "psa-crypto 0.13 has no ECB; these are its own FFI bindings"
)]
pub(crate) fn ecb_locked(
    _held: &Psa,
    encrypt: bool,
    key: KeyId,
    input: &[u8],
    output: &mut [u8],
) -> Result<usize, PsaError> {
    use psa_crypto::types::status::Status;
    use psa_crypto_sys as sys;
    let check = |status: sys::psa_status_t| Status::from(status).to_result();
    let setup = if encrypt {
        sys::psa_cipher_encrypt_setup
    } else {
        sys::psa_cipher_decrypt_setup
    };
    let (mut updated, mut finished) = (0usize, 0usize);
    // SAFETY: the operation is initialised by psa_cipher_operation_init
    // before any other call and lives on this stack frame for all of them;
    // every pointer/length pair comes from a live slice (`finish` gets the
    // part of `output` that `update` left, which Mbed TLS bounds by
    // `updated`); and `_held` proves the process-wide PSA lock is held, as
    // Mbed TLS is built without thread support.
    unsafe {
        let mut operation = sys::psa_cipher_operation_init();
        let outcome = check(setup(&mut operation, key.0, sys::PSA_ALG_ECB_NO_PADDING))
            .and_then(|()| {
                check(sys::psa_cipher_update(
                    &mut operation,
                    input.as_ptr(),
                    input.len(),
                    output.as_mut_ptr(),
                    output.len(),
                    &mut updated,
                ))
            })
            .and_then(|()| {
                let rest = output.get_mut(updated..).unwrap_or_default();
                check(sys::psa_cipher_finish(
                    &mut operation,
                    rest.as_mut_ptr(),
                    rest.len(),
                    &mut finished,
                ))
            });
        if outcome.is_err() {
            let _ = sys::psa_cipher_abort(&mut operation);
        }
        outcome.map(|()| updated + finished)
    }
}

/// A persistent PSA key id, as this provider stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeyId(pub(crate) u32);

impl KeyId {
    /// The key's psa-crypto `Id`. psa-crypto's own way to get one
    /// (`Id::from_persistent_key_id`) reads the key's attributes back and
    /// fails for every key whose policy is a cipher algorithm, so the `Id`
    /// is built through its public `Deserialize` instead; whether the key
    /// exists is then up to the operation that uses it.
    pub(crate) fn psa_id(self) -> Result<Id, PsaError> {
        let fields = SeqDeserializer::<_, ValueError>::new(std::iter::once(self.0));
        Id::deserialize(fields).map_err(|_| PsaError::GenericError)
    }

    /// The key store's `backend_id`: the id as 4 bytes little-endian.
    pub(crate) fn to_backend_id(self) -> Vec<u8> {
        self.0.to_le_bytes().to_vec()
    }

    /// Reads a `backend_id` back; anything but 4 bytes holding a user-range
    /// id is a corrupt row.
    pub(crate) fn from_backend_id(bytes: &[u8]) -> Result<Self, ProviderError> {
        let id = <[u8; 4]>::try_from(bytes)
            .map(u32::from_le_bytes)
            .map_err(|_| corrupt(format!("backend id of {} bytes, not 4", bytes.len())))?;
        if (PSA_KEY_ID_USER_MIN..=PSA_KEY_ID_USER_MAX).contains(&id) {
            Ok(KeyId(id))
        } else {
            Err(corrupt(format!("key id {id:#x} is outside the user range")))
        }
    }
}

fn corrupt(why: String) -> ProviderError {
    ProviderError::KeyStore(KeyStoreError::Corrupt(why))
}

/// A PSA error while doing `context`.
pub(crate) fn psa_error(error: PsaError, context: impl Into<String>) -> ProviderError {
    ProviderError::backend(ResponseStatus::from(error), context)
}

/// Starts Mbed TLS; calling it again is harmless.
pub(crate) fn init() -> Result<(), ProviderError> {
    let _psa = Psa::lock();
    psa_crypto::init().map_err(|error| psa_error(error, "initialising Mbed TLS"))
}

/// An output buffer for secret bytes: wiped when dropped, whether or not
/// the operation that fills it succeeds.
pub(crate) struct SecretBuffer(Zeroizing<Vec<u8>>);

impl SecretBuffer {
    /// `len` zero bytes.
    pub(crate) fn new(len: usize) -> Self {
        SecretBuffer(Zeroizing::new(vec![0; len]))
    }

    /// The bytes to fill.
    pub(crate) fn as_mut(&mut self) -> &mut [u8] {
        &mut self.0
    }

    /// The first `len` bytes, moved (not copied) into a [`SecretBytes`].
    pub(crate) fn into_secret(mut self, len: usize) -> SecretBytes {
        self.0.truncate(len);
        SecretBytes::new(std::mem::take(&mut *self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::in_test_dir;

    #[test]
    fn backend_id_is_the_key_id_in_four_bytes_little_endian() {
        let key_id = KeyId(0x0102_0304);
        assert_eq!(key_id.to_backend_id(), vec![4, 3, 2, 1]);
        assert_eq!(KeyId::from_backend_id(&[4, 3, 2, 1]).unwrap(), key_id);
    }

    #[test]
    fn backend_ids_of_the_wrong_size_or_range_are_corrupt() {
        for bytes in [
            &[1u8, 0, 0][..],
            &[0, 0, 0, 0],
            &[0, 0, 0, 0x40],
            &[1, 0, 0, 0, 0],
        ] {
            let error = KeyId::from_backend_id(bytes).unwrap_err();
            assert!(
                matches!(error, ProviderError::KeyStore(KeyStoreError::Corrupt(_))),
                "{bytes:?}: {error}"
            );
        }
    }

    #[test]
    fn free_key_ids_are_in_the_user_range_and_absent() {
        in_test_dir();
        init().unwrap();
        let psa = Psa::lock();
        for _ in 0..32 {
            let key_id = psa.free_key_id().unwrap();
            assert!((PSA_KEY_ID_USER_MIN..=PSA_KEY_ID_USER_MAX).contains(&key_id.0));
            assert!(!psa.exists(key_id).unwrap());
        }
    }

    #[test]
    fn destroying_an_absent_key_reports_it_was_not_there() {
        in_test_dir();
        init().unwrap();
        let psa = Psa::lock();
        let key_id = psa.free_key_id().unwrap();
        assert!(!psa.destroy_if_present(key_id).unwrap());
    }

    #[test]
    fn measuring_finds_the_size_of_key_data() {
        in_test_dir();
        init().unwrap();
        let psa = Psa::lock();
        assert_eq!(psa.measure(Type::Aes, &[1; 24]).unwrap(), 192);
        assert_eq!(psa.measure(Type::Hmac, &[1; 5]).unwrap(), 40);
        assert!(psa.measure(Type::Aes, &[1; 5]).is_err());
    }

    #[test]
    fn secret_buffer_keeps_only_the_filled_part() {
        let mut buffer = SecretBuffer::new(8);
        buffer.as_mut()[..3].copy_from_slice(b"abc");
        assert_eq!(&*buffer.into_secret(3), b"abc");
    }
}
