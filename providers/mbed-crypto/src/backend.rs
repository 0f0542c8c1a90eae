//! The thin layer over psa-crypto: how PSA calls are serialised (or not),
//! key ids and their encoding in the key store, opening and destroying
//! keys, and the mapping of PSA errors.
//!
//! Whether Mbed TLS may be called from several threads at once is decided
//! once, by [`init`]: only if the build script found the linked Mbed TLS
//! thread-safe (cfg `psec_mbedtls_thread_safe`: 3.6 or later, with
//! `MBEDTLS_THREADING_C` and `MBEDTLS_THREADING_PTHREAD`) and the library
//! itself says the same at run time. Otherwise, as with the Mbed TLS 3.5.1
//! psa-crypto builds by default, every PSA call takes one process-wide lock.

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
use std::collections::BTreeSet;
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError, RwLock, RwLockReadGuard};
use zeroize::Zeroizing;

/// Serialises every call into an Mbed TLS that is not thread-safe.
///
/// Such an Mbed TLS (the one psa-crypto builds has no
/// `MBEDTLS_THREADING_C`) keeps its key slots and random generator as
/// process-wide state with no locking of its own. One lock per process
/// (not per provider) is the only correct scope, since two providers share
/// that state.
static PSA_LOCK: Mutex<()> = Mutex::new(());

/// Whether PSA calls run in parallel, decided once by [`init`]; until then
/// they take [`PSA_LOCK`].
static PARALLEL: OnceLock<bool> = OnceLock::new();

/// When PSA calls run in parallel, destroying a persistent key must not
/// overlap a call that uses it (the PSA specification makes that undefined
/// behaviour, and Mbed TLS 3.6 keeps to the specification). A key id picks
/// one of these locks: every call on the key holds it shared, destroying
/// the key holds it exclusively.
static KEY_LOCKS: [RwLock<()>; KEY_LOCK_COUNT] = [const { RwLock::new(()) }; KEY_LOCK_COUNT];

/// How many [`KEY_LOCKS`] there are: enough that two busy keys seldom
/// share one, which costs nothing but a wait behind a destruction.
const KEY_LOCK_COUNT: usize = 64;

/// The key ids chosen by creations still in progress in this process, so
/// that two creations never pick the same free id. With [`PSA_LOCK`] held
/// from choosing an id to making the key this is never needed; without it,
/// nothing else prevents the race.
static RESERVED_IDS: Mutex<BTreeSet<u32>> = Mutex::new(BTreeSet::new());

/// Whether PSA calls run in parallel now.
pub(crate) fn parallel() -> bool {
    PARALLEL.get().copied().unwrap_or(false)
}

/// Proof that the caller may make PSA calls now: it holds the PSA lock,
/// or PSA calls run in parallel; and, for a call on one of the provider's
/// persistent keys, that the key is not being destroyed.
pub(crate) struct Psa {
    _serial: Option<MutexGuard<'static, ()>>,
    key_held: Option<RwLockReadGuard<'static, ()>>,
}

impl Psa {
    /// Waits for the PSA lock, if PSA calls are serialised. A panic while
    /// it was held leaves nothing half-done on our side (the lock guards
    /// no Rust data), so a poisoned lock is simply taken.
    pub(crate) fn lock() -> Psa {
        Psa {
            _serial: (!parallel()).then(|| PSA_LOCK.lock().unwrap_or_else(PoisonError::into_inner)),
            key_held: None,
        }
    }

    /// As [`Psa::lock`], for calls on the persistent key `key_id`: when PSA
    /// calls run in parallel, also keeps the key from being destroyed until
    /// dropped. A thread holds at most one of these at a time and destroys
    /// no persistent key while it does.
    pub(crate) fn for_key(key_id: KeyId) -> Psa {
        if !parallel() {
            return Psa::lock();
        }
        Psa {
            _serial: None,
            key_held: holding(key_id),
        }
    }

    /// Runs `f`, which makes PSA calls naming `key_id` (a key not yet
    /// made, or not yet known to exist), with the key kept from being
    /// destroyed as [`Psa::for_key`] does. Only for a `Psa` that holds no
    /// key already.
    pub(crate) fn naming<T>(&self, key_id: KeyId, f: impl FnOnce() -> T) -> T {
        let _held = if self.key_held.is_none() {
            holding(key_id)
        } else {
            None
        };
        f()
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

    /// Destroys the persistent key `key_id`: its slot and its file. When
    /// PSA calls run in parallel, waits until no call uses the key.
    pub(crate) fn destroy_persistent(&self, key_id: KeyId) -> Result<(), PsaError> {
        if self.key_held.is_some() {
            // This thread holds a key lock: waiting for another (or the
            // same) exclusively could wait for ever.
            return Err(PsaError::BadState);
        }
        let id = key_id.psa_id()?;
        if !parallel() {
            return destroy_locked(self, id);
        }
        let _exclusive = key_lock(key_id)
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        destroy_locked(self, id)
    }

    /// Destroys the persistent key `key_id` if it exists; says whether it
    /// did.
    pub(crate) fn destroy_if_present(&self, key_id: KeyId) -> Result<bool, PsaError> {
        match self.destroy_persistent(key_id) {
            Ok(()) => Ok(true),
            Err(PsaError::DoesNotExist | PsaError::InvalidHandle) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Destroys a volatile key this thread imported and has not let any
    /// other code see.
    pub(crate) fn destroy_volatile(&self, id: Id) -> Result<(), PsaError> {
        destroy_locked(self, id)
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
        self.destroy_volatile(id)?;
        measured
    }

    /// A key id in the user range that no key has yet, reserved for this
    /// caller (no other creation in the process gets it) until the
    /// [`ReservedKeyId`] is dropped.
    pub(crate) fn free_key_id(&self) -> Result<ReservedKeyId, PsaError> {
        for _ in 0..FREE_ID_ATTEMPTS {
            let candidate = self.random_key_id()?;
            let Some(reserved) = ReservedKeyId::reserve(candidate) else {
                continue;
            };
            if !self.naming(candidate, || self.exists(candidate))? {
                return Ok(reserved);
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

/// When PSA calls run in parallel, the lock of [`KEY_LOCKS`] that
/// `key_id` picks, held shared.
fn holding(key_id: KeyId) -> Option<RwLockReadGuard<'static, ()>> {
    parallel().then(|| {
        key_lock(key_id)
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    })
}

/// The lock of [`KEY_LOCKS`] that `key_id` picks.
fn key_lock(key_id: KeyId) -> &'static RwLock<()> {
    // A u32 always fits a usize on the targets Mbed TLS builds for.
    let index = usize::try_from(key_id.0).unwrap_or_default() % KEY_LOCK_COUNT;
    let [first, ..] = &KEY_LOCKS;
    KEY_LOCKS.get(index).unwrap_or(first)
}

/// A key id [`Psa::free_key_id`] chose, that no other creation in this
/// process can choose until this is dropped.
#[derive(Debug)]
pub(crate) struct ReservedKeyId(KeyId);

impl ReservedKeyId {
    /// Reserves `key_id`, unless another creation has.
    fn reserve(key_id: KeyId) -> Option<Self> {
        let mut reserved = RESERVED_IDS.lock().unwrap_or_else(PoisonError::into_inner);
        // Made only once reserved (not eagerly, as `then_some` would):
        // dropping one unreserves its id, and takes this lock to do so.
        if reserved.insert(key_id.0) {
            Some(ReservedKeyId(key_id))
        } else {
            None
        }
    }

    /// The id.
    pub(crate) fn key_id(&self) -> KeyId {
        self.0
    }
}

impl Drop for ReservedKeyId {
    fn drop(&mut self) {
        let mut reserved = RESERVED_IDS.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = reserved.remove(&self.0.0);
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
    // thread uses that key. The ids destroyed here are this crate's own
    // (`KeyId` and `Id` never leave the crate: clients and other crates
    // name keys, never ids): either a volatile key the calling thread
    // imported and used only itself (`measure`, `public_key`; Mbed TLS
    // never hands out a volatile id twice while it is in use), or a
    // persistent id the crate chose and keeps in its key store. For the
    // latter, `_held` proves the caller holds the process-wide PSA lock,
    // under which every PSA call of this crate runs while calls are
    // serialised (including those other crates reach through it:
    // psec-provider-pkcs11's software public operations call
    // `public_key`); when calls run in parallel, `destroy_persistent`
    // holds the key's lock in `KEY_LOCKS` exclusively, and every call
    // naming a persistent key runs holding it shared (`Psa::for_key` for
    // the operations, `Psa::naming` for choosing and making a key): either
    // way no other thread can be using the key.
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
    // `updated`); and `_held` proves the process-wide PSA lock is held
    // when Mbed TLS is not thread-safe, and that the key is not being
    // destroyed when it is (the operation object is this call's own).
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

/// Starts Mbed TLS, and on the first call decides whether PSA calls run in
/// parallel, logging which; calling it again is harmless.
pub(crate) fn init() -> Result<(), ProviderError> {
    let _psa = Psa::lock();
    psa_crypto::init().map_err(|error| psa_error(error, "initialising Mbed TLS"))?;
    // Mbed TLS initialised under the lock (or, once decided, thread-safe):
    // whatever the answer, calls made from now on are correct.
    let _ = PARALLEL.get_or_init(decide);
    Ok(())
}

/// Whether PSA calls may run in parallel: only if the build script found
/// the linked Mbed TLS thread-safe and the library confirms it.
fn decide() -> bool {
    let built_with = env!("PSEC_MBEDTLS_BUILT_WITH");
    #[cfg(not(psec_mbedtls_thread_safe))]
    {
        log::info!("built against {built_with}, without thread support: one PSA call at a time");
        false
    }
    #[cfg(psec_mbedtls_thread_safe)]
    match linked::thread_safe() {
        Ok(version) => {
            log::info!(
                "Mbed TLS {version} with MBEDTLS_THREADING_C and MBEDTLS_THREADING_PTHREAD \
                 (built against {built_with}): PSA calls run in parallel"
            );
            true
        }
        Err(why) => {
            log::warn!(
                "built against {built_with}, thread-safe, but the Mbed TLS linked {why}: \
                 one PSA call at a time"
            );
            false
        }
    }
}

/// What the linked Mbed TLS says of itself.
#[cfg(psec_mbedtls_thread_safe)]
#[allow(
    unsafe_code,
    reason = "psa-crypto-sys has no bindings for Mbed TLS' version module"
)]
mod linked {
    use std::ffi::{CStr, c_char, c_int, c_uint};

    unsafe extern "C" {
        fn mbedtls_version_get_number() -> c_uint;
        fn mbedtls_version_check_feature(feature: *const c_char) -> c_int;
    }

    /// Mbed TLS 3.6.0, as `mbedtls_version_get_number` numbers it.
    const FIRST_THREAD_SAFE: c_uint = 0x0306_0000;

    /// The library's version if it is 3.6 or later and was built with
    /// both threading options; else what it lacks.
    pub(super) fn thread_safe() -> Result<String, String> {
        // SAFETY: the function returns a constant compiled into the
        // library, which has it: the build script found `MBEDTLS_VERSION_C`
        // in the library's configuration.
        let number = unsafe { mbedtls_version_get_number() };
        let version = format!(
            "{}.{}.{}",
            number >> 24,
            (number >> 16) & 0xff,
            (number >> 8) & 0xff
        );
        if number < FIRST_THREAD_SAFE {
            return Err(format!("is {version}, older than 3.6"));
        }
        for feature in [c"MBEDTLS_THREADING_C", c"MBEDTLS_THREADING_PTHREAD"] {
            if !has(feature) {
                return Err(format!(
                    "({version}) does not report {}",
                    feature.to_string_lossy()
                ));
            }
        }
        Ok(version)
    }

    /// Whether the library was built with the option `feature`.
    fn has(feature: &'static CStr) -> bool {
        // SAFETY: the function compares the NUL-terminated string it is
        // given (a `&'static CStr`) with names compiled into the library
        // (`MBEDTLS_VERSION_C`, as above); it keeps no pointer.
        unsafe { mbedtls_version_check_feature(feature.as_ptr()) == 0 }
    }
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
            let key_id = psa.free_key_id().unwrap().key_id();
            assert!((PSA_KEY_ID_USER_MIN..=PSA_KEY_ID_USER_MAX).contains(&key_id.0));
            assert!(!psa.exists(key_id).unwrap());
        }
    }

    /// With the vendored Mbed TLS 3.5.1 (no thread support) every PSA call
    /// waits for the process-wide lock; with a thread-safe Mbed TLS 3.6
    /// (ci/mbedtls-threaded.sh sets PSEC_EXPECT_MBEDTLS_THREAD_SAFE=1, so
    /// that the build cannot quietly fall back to the lock there) a PSA
    /// call goes through while another thread holds that lock.
    #[test]
    fn psa_calls_wait_for_the_process_wide_lock_only_when_mbed_tls_is_not_thread_safe() {
        use std::sync::mpsc;
        use std::time::Duration;
        in_test_dir();
        init().unwrap();
        assert_eq!(parallel(), cfg!(psec_mbedtls_thread_safe));
        match std::env::var("PSEC_EXPECT_MBEDTLS_THREAD_SAFE").as_deref() {
            Ok("1") => assert!(parallel(), "{}", env!("PSEC_MBEDTLS_BUILT_WITH")),
            Ok("0") => assert!(!parallel(), "{}", env!("PSEC_MBEDTLS_BUILT_WITH")),
            _ => {}
        }
        let held = PSA_LOCK.lock().unwrap_or_else(PoisonError::into_inner);
        let (done, finished) = mpsc::channel();
        let worker = std::thread::spawn(move || {
            let psa = Psa::lock();
            done.send(psa.random(32).is_ok()).unwrap();
        });
        if parallel() {
            // A deadline so that a regression fails rather than hangs.
            let answer = finished.recv_timeout(Duration::from_secs(300));
            assert_eq!(answer, Ok(true), "the PSA call waited for the lock");
            drop(held);
        } else {
            // The worker cannot have sent: it waits for `held`.
            assert_eq!(finished.try_recv(), Err(mpsc::TryRecvError::Empty));
            drop(held);
            assert_eq!(finished.recv(), Ok(true));
        }
        worker.join().unwrap();
    }

    #[test]
    fn a_reserved_key_id_is_not_reserved_twice_until_dropped() {
        let key_id = KeyId(PSA_KEY_ID_USER_MIN + 12_345);
        let reserved = ReservedKeyId::reserve(key_id).unwrap();
        assert!(ReservedKeyId::reserve(key_id).is_none());
        drop(reserved);
        assert!(ReservedKeyId::reserve(key_id).is_some());
    }

    #[test]
    fn destroying_an_absent_key_reports_it_was_not_there() {
        in_test_dir();
        init().unwrap();
        let psa = Psa::lock();
        let key_id = psa.free_key_id().unwrap().key_id();
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
