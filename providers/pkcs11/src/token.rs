//! The token: loading its library, choosing it, logging in once, a pool of
//! sessions, the mechanisms it has, and PKCS#11 errors as provider errors.

use crate::settings::{Pkcs11Settings, TokenChoice};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsOaepParams, PkcsOaepSource};
use cryptoki::mechanism::{Mechanism, MechanismInfo, MechanismType};
use cryptoki::object::{Attribute, AttributeType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::RawAuthPin;
use psec_interface::ResponseStatus;
use psec_provider::ProviderError;
use std::collections::HashMap;
use std::ops::Deref;
use std::sync::{
    Mutex, MutexGuard, OnceLock, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard,
};
use std::time::{Duration, Instant};

/// How many idle sessions the pool keeps; more are opened when needed and
/// closed when returned.
const MAX_IDLE_SESSIONS: usize = 32;

/// How long a session copy of a key object is used in the object's stead
/// before the object itself is used again, once: that use is when the
/// token says whether the object still exists. See [`Token::known_handle`].
const COPY_RECHECK: Duration = Duration::from_secs(1);

/// The most session copies kept at once, each taking some of the token's
/// memory: the first key objects found get them, and a key destroyed, or
/// its handle forgotten, gives its place to the next object found.
const MAX_COPIES: usize = 256;

/// Every mechanism this provider uses; what the token has of these decides
/// what the provider offers.
const USED_MECHANISMS: [MechanismType; 24] = [
    MechanismType::RSA_PKCS_KEY_PAIR_GEN,
    MechanismType::RSA_PKCS,
    MechanismType::RSA_PKCS_PSS,
    MechanismType::RSA_PKCS_OAEP,
    MechanismType::ECC_KEY_PAIR_GEN,
    MechanismType::ECDSA,
    MechanismType::ECDH1_DERIVE,
    MechanismType::SHA1,
    MechanismType::SHA224,
    MechanismType::SHA256,
    MechanismType::SHA384,
    MechanismType::SHA512,
    MechanismType::AES_KEY_GEN,
    MechanismType::AES_ECB,
    MechanismType::AES_CBC,
    MechanismType::AES_CBC_PAD,
    MechanismType::AES_CTR,
    MechanismType::AES_GCM,
    MechanismType::GENERIC_SECRET_KEY_GEN,
    MechanismType::SHA1_HMAC,
    MechanismType::SHA224_HMAC,
    MechanismType::SHA256_HMAC,
    MechanismType::SHA384_HMAC,
    MechanismType::SHA512_HMAC,
];

/// A PKCS#11 failure of `context` as a provider error.
pub(crate) fn ck_error(context: impl Into<String>) -> impl FnOnce(CkError) -> ProviderError {
    let context = context.into();
    move |error| {
        let rv = match &error {
            CkError::Pkcs11(rv, _) => Some(*rv),
            _ => None,
        };
        let status = match rv {
            Some(RvError::SignatureInvalid | RvError::SignatureLenRange) => {
                ResponseStatus::PsaErrorInvalidSignature
            }
            Some(RvError::KeyFunctionNotPermitted | RvError::AttributeSensitive) => {
                return ProviderError::NotPermitted(format!(
                    "{context}: the token refused: {error}"
                ));
            }
            Some(
                RvError::MechanismInvalid
                | RvError::KeyTypeInconsistent
                | RvError::KeySizeRange
                | RvError::FunctionNotSupported,
            ) => {
                return ProviderError::NotSupported(format!(
                    "{context}: the token refused: {error}"
                ));
            }
            Some(
                RvError::DataLenRange
                | RvError::DataInvalid
                | RvError::MechanismParamInvalid
                | RvError::AttributeValueInvalid
                | RvError::TemplateInconsistent,
            ) => {
                return ProviderError::InvalidArgument(format!(
                    "{context}: the token refused: {error}"
                ));
            }
            Some(RvError::EncryptedDataInvalid | RvError::EncryptedDataLenRange) => {
                ResponseStatus::PsaErrorInvalidPadding
            }
            Some(RvError::ObjectHandleInvalid | RvError::KeyHandleInvalid) => {
                ResponseStatus::PsaErrorDoesNotExist
            }
            Some(RvError::HostMemory | RvError::DeviceMemory) => {
                ResponseStatus::PsaErrorInsufficientMemory
            }
            Some(RvError::DeviceError | RvError::DeviceRemoved | RvError::TokenNotPresent) => {
                ResponseStatus::PsaErrorHardwareFailure
            }
            _ => ResponseStatus::PsaErrorCommunicationFailure,
        };
        ProviderError::backend(status, format!("{context}: {error}"))
    }
}

/// A start-up problem the user must fix, with what to do.
fn start_up(what: impl Into<String>) -> ProviderError {
    ProviderError::backend(ResponseStatus::PsaErrorCommunicationFailure, what)
}

/// The token this provider fronts, logged in, with its sessions.
pub(crate) struct Token {
    context: Pkcs11,
    slot: Slot,
    /// The token's label, for messages.
    pub(crate) label: String,
    /// Whether the token has a random number generator.
    pub(crate) has_rng: bool,
    /// The token's mechanisms and their limits.
    mechanisms: Vec<(MechanismType, MechanismInfo)>,
    /// The hashes (digest mechanisms) the token takes for OAEP: the
    /// mechanism list can not tell, so they are tried, the first time an
    /// OAEP algorithm is asked about. Not at start-up: the trial makes an
    /// RSA key pair, which cost SoftHSM2 some milliseconds at every start
    /// of psecd and kept its RSA code resident in psecd's memory, for
    /// nothing where no key is ever used with OAEP.
    oaep_hashes: OnceLock<Vec<MechanismType>>,
    /// Sessions not in use.
    idle: Mutex<Vec<Session>>,
    /// Key objects found before, by `CKA_ID` and class (see
    /// [`Token::known_handle`]).
    handles: Mutex<HashMap<(Vec<u8>, u64), Known>>,
    /// The most session copies kept ([`MAX_COPIES`]; fewer in some tests).
    max_copies: usize,
    /// Whether the library issues each object handle number at most once
    /// while it stays initialised (see [`never_reissues_handles`]); if
    /// not, a remembered handle is read back before each use.
    handles_unique: bool,
    /// Held (shared) by every use of a remembered or found handle, and
    /// (exclusive) by this provider's destruction of token objects: see
    /// [`Token::using_handles`].
    handle_users: RwLock<()>,
    /// The session that logged in, kept open so the login lasts; it also
    /// makes the session copies, which live as long as it.
    login: Mutex<Session>,
}

/// A key object found before.
struct Known {
    /// The token object's handle.
    object: ObjectHandle,
    /// Its session copy, where the token has them (see
    /// [`Token::known_handle`]).
    copy: Option<SessionCopy>,
}

/// A session object copied from a key's token object.
struct SessionCopy {
    handle: ObjectHandle,
    /// When the token object was last used in its stead.
    checked: Instant,
}

impl Token {
    /// Loads the library, finds the token, logs in, reads the mechanisms.
    pub(crate) fn open(settings: &Pkcs11Settings) -> Result<Token, ProviderError> {
        let path = &settings.library_path;
        let context = Pkcs11::new(path).map_err(|error| {
            let why = match &error {
                CkError::LibraryLoading(inner) => inner.to_string(),
                other => other.to_string(),
            };
            start_up(format!(
                "cannot load the PKCS#11 library `{}` ({why}); check library_path",
                path.display()
            ))
        })?;
        match context.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            // Another provider of this process initialised it already.
            Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
            Err(error) => {
                return Err(start_up(format!(
                    "the PKCS#11 library `{}` failed to initialise: {error}",
                    path.display()
                )));
            }
        }
        let (slot, label) = choose_slot(&context, &settings.token, path)?;
        let info = context
            .get_token_info(slot)
            .map_err(ck_error("reading the token information"))?;
        if info.user_pin_locked() {
            return Err(pin_locked(&label, slot));
        }
        let login = context
            .open_rw_session(slot)
            .map_err(ck_error(format!("opening a session on token `{label}`")))?;
        if let Some(pin) = &settings.user_pin {
            let pin = RawAuthPin::new(Box::new(pin.to_vec()));
            match login.login_with_raw(UserType::User, &pin) {
                Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
                Err(CkError::Pkcs11(RvError::PinIncorrect, _)) => {
                    return Err(start_up(format!(
                        "the user PIN of token `{label}` (slot {}) is wrong; fix user_pin \
                         (many tokens lock the PIN after a few wrong tries)",
                        slot.id()
                    )));
                }
                Err(CkError::Pkcs11(RvError::PinLocked, _)) => {
                    return Err(pin_locked(&label, slot));
                }
                Err(error) => {
                    return Err(start_up(format!(
                        "logging in to token `{label}` (slot {}) failed: {error}",
                        slot.id()
                    )));
                }
            }
        } else {
            log::warn!("no user_pin for token `{label}`: its private objects are out of reach");
        }
        // Each mechanism this provider can use is asked for by name
        // (C_GetMechanismInfo): cryptoki logs an error for every
        // mechanism of C_GetMechanismList it has no name for, which would
        // fill the service log at each start.
        let mechanisms: Vec<_> = USED_MECHANISMS
            .into_iter()
            .filter_map(|mechanism| {
                let info = context.get_mechanism_info(slot, mechanism).ok()?;
                Some((mechanism, info))
            })
            .collect();
        log::info!(
            "token `{label}` (slot {}): {} of the {} mechanisms psec uses",
            slot.id(),
            mechanisms.len(),
            USED_MECHANISMS.len()
        );
        let handles_unique = never_reissues_handles(&context);
        if handles_unique {
            log::info!(
                "token `{label}`: its library never issues a handle number twice, so \
                 remembered object handles are used without reading them back"
            );
        }
        Ok(Token {
            context,
            slot,
            label,
            has_rng: info.rng(),
            mechanisms,
            idle: Mutex::new(Vec::new()),
            handles: Mutex::new(HashMap::new()),
            max_copies: MAX_COPIES,
            handles_unique,
            handle_users: RwLock::new(()),
            login: Mutex::new(login),
            oaep_hashes: OnceLock::new(),
        })
    }

    /// Which OAEP hashes the token takes, tried with a throw-away session
    /// key pair (SoftHSM2, for one, takes only SHA-1).
    fn probe_oaep_hashes(&self) -> Vec<MechanismType> {
        let Some(generate) = self.mechanism(MechanismType::RSA_PKCS_KEY_PAIR_GEN) else {
            return Vec::new();
        };
        if !self.has(MechanismType::RSA_PKCS_OAEP) {
            return Vec::new();
        }
        let bits = u64::try_from(generate.min_key_size().max(1024)).unwrap_or(1024);
        let Ok(session) = self.context.open_rw_session(self.slot) else {
            return Vec::new();
        };
        let public = [
            Attribute::Token(false),
            Attribute::Encrypt(true),
            Attribute::ModulusBits(bits.into()),
            Attribute::PublicExponent(vec![1, 0, 1]),
        ];
        let private = [Attribute::Token(false), Attribute::Decrypt(true)];
        let Ok((public, _)) =
            session.generate_key_pair(&Mechanism::RsaPkcsKeyPairGen, &public, &private)
        else {
            return Vec::new();
        };
        let hashes = [
            (MechanismType::SHA1, PkcsMgfType::MGF1_SHA1),
            (MechanismType::SHA224, PkcsMgfType::MGF1_SHA224),
            (MechanismType::SHA256, PkcsMgfType::MGF1_SHA256),
            (MechanismType::SHA384, PkcsMgfType::MGF1_SHA384),
            (MechanismType::SHA512, PkcsMgfType::MGF1_SHA512),
        ];
        hashes
            .into_iter()
            .filter(|(hash, mgf)| {
                let params = PkcsOaepParams::new(*hash, *mgf, PkcsOaepSource::empty());
                session
                    .encrypt(&Mechanism::RsaPkcsOaep(params), public, b"probe")
                    .is_ok()
            })
            .map(|(hash, _)| hash)
            .collect()
        // The session key pair goes with the session.
    }

    /// Whether the token takes OAEP with the digest mechanism `hash`.
    pub(crate) fn oaep_takes(&self, hash: MechanismType) -> bool {
        self.oaep_hashes
            .get_or_init(|| self.probe_oaep_hashes())
            .contains(&hash)
    }

    /// The limits of `mechanism`, if the token has it.
    pub(crate) fn mechanism(&self, mechanism: MechanismType) -> Option<&MechanismInfo> {
        self.mechanisms
            .iter()
            .find(|(m, _)| *m == mechanism)
            .map(|(_, info)| info)
    }

    /// Whether the token has `mechanism`.
    pub(crate) fn has(&self, mechanism: MechanismType) -> bool {
        self.mechanism(mechanism).is_some()
    }

    fn idle(&self) -> MutexGuard<'_, Vec<Session>> {
        // A panic while holding the lock leaves a valid Vec behind.
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn handles(&self) -> MutexGuard<'_, HashMap<(Vec<u8>, u64), Known>> {
        // A panic while holding the lock leaves a valid map behind.
        self.handles.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Held while a handle of a key object is looked up (remembered or
    /// searched for) and used; [`Token::changing_objects`] waits for every
    /// such use to end. So this provider never destroys an object while
    /// another thread holds its handle, and a handle forgotten at a
    /// destruction can not be in use: the token can not give that number to
    /// a new object (of another tenant, say) before the last use of the old
    /// one is over.
    pub(crate) fn using_handles(&self) -> RwLockReadGuard<'_, ()> {
        // The guarded value is `()`: a panic can not leave it inconsistent.
        self.handle_users
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Held while this provider destroys token objects and forgets their
    /// handles; see [`Token::using_handles`]. Destructions are rare (a key
    /// destroyed, a creation undone, what a crash left): the operations
    /// that wait meanwhile wait for a few `C_DestroyObject` calls.
    pub(crate) fn changing_objects(&self) -> RwLockWriteGuard<'_, ()> {
        self.handle_users
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The handle to use for the object of `class` with `CKA_ID` `id`, if
    /// it was found before and still names that object. Called with
    /// [`Token::using_handles`] held.
    ///
    /// Searching (`C_FindObjects`) costs a token work on every object it
    /// holds (SoftHSM2 decrypts the `CKA_ID` of each private object), on
    /// every use of a key; so handles are remembered. What must never
    /// happen is that a remembered handle names another object, another
    /// tenant's key above all: a token may give a freed handle number to a
    /// new object. A number is freed only when its object is destroyed:
    ///
    /// - by this provider: the handles of a key's objects are forgotten
    ///   when they are destroyed, after every use of them has ended and
    ///   before any new use can start ([`Token::changing_objects`]);
    /// - by another process on the token (another application with the
    ///   PIN, an administrator's tool, the token re-initialised), or by a
    ///   crash and restart of psecd: a restart begins with no remembered
    ///   handles; of the rest this provider learns nothing. On a library
    ///   that never issues a handle number twice while it stays
    ///   initialised ([`never_reissues_handles`]; psec never finalises it)
    ///   such a handle can only become invalid, which the token reports and
    ///   [`OpenKey`](crate::keys::OpenKey) answers by searching afresh. On
    ///   any other library the handle's class and `CKA_ID` are read back
    ///   here, before each use, and a handle that no longer names this
    ///   key's object is forgotten, never used (some tokens' handles also
    ///   hold only within a session).
    ///
    /// Reading back costs SoftHSM2 a decryption of the `CKA_ID` of a
    /// private object: 20 µs of its 55 µs ECDSA P-256 signature, measured
    /// in-process; the attributes it keeps in clear (class, key type, the
    /// flags) are the same for every key of a kind and could not tell two
    /// keys apart.
    ///
    /// On a library that never issues a handle number twice, the object
    /// found is also copied into a session object of this provider's own
    /// (`C_CopyObject`, `CKA_TOKEN` false), and the copy is used in its
    /// stead. SoftHSM2 checks a token object's file on every use (opens it,
    /// locks it, reads its generation), to notice another process's
    /// changes; a session object lives in memory only. ECDSA P-256 through
    /// psecd at 8 clients signed 13,200-13,400 times a second with the
    /// token objects and 15,200-16,300 with copies, with 18% less of
    /// psecd's CPU time. The copy is as safe as the handle it replaces:
    ///
    /// - only this process sees it (session objects are the application's
    ///   own), and nothing but this provider destroys it: its handle names
    ///   this key's object for as long as the copy lives;
    /// - it goes with the key: destroyed with the key's token objects, or
    ///   with its handle when that is found invalid, and only under
    ///   [`Token::changing_objects`], so never while an operation may use
    ///   it (SoftHSM2 answers a use that meets the destruction half-way
    ///   with errors other than an invalid handle);
    /// - it lives in the login session, so it ends with psecd, or with this
    ///   provider at a reload: nothing is ever left on the token.
    ///
    /// What the copy can not tell is whether another process destroyed the
    /// token object. So every [`COPY_RECHECK`] the next use of the key
    /// runs on the token object itself, which the token then reports
    /// invalid if it is gone (the copy is destroyed, and the key found
    /// missing, as without copies). A key destroyed on the token behind
    /// this provider's back goes on signing for at most that long.
    pub(crate) fn known_handle(
        &self,
        session: &Session,
        id: &[u8],
        class: ObjectClass,
    ) -> Option<ObjectHandle> {
        let key = (id.to_vec(), u64::from(class));
        let mut handles = self.handles();
        let known = handles.get_mut(&key)?;
        if self.handles_unique {
            if let Some(copy) = &mut known.copy {
                let now = Instant::now();
                if now.saturating_duration_since(copy.checked) < COPY_RECHECK {
                    return Some(copy.handle);
                }
                copy.checked = now;
            }
            return Some(known.object);
        }
        let handle = known.object;
        drop(handles);
        let read = session.get_attributes(handle, &[AttributeType::Class, AttributeType::Id]);
        let still_this_key = read.is_ok_and(|attributes| {
            attributes.contains(&Attribute::Class(class))
                && attributes.contains(&Attribute::Id(id.to_vec()))
        });
        if still_this_key {
            Some(handle)
        } else {
            self.handles().remove(&key);
            None
        }
    }

    /// Whether remembered handles are used without being read back.
    #[cfg(test)]
    pub(crate) fn handles_unique(&self) -> bool {
        self.handles_unique
    }

    /// Makes this token read remembered handles back before each use, as
    /// on a library that may issue a handle number twice (and so make no
    /// session copies).
    #[cfg(test)]
    pub(crate) fn read_handles_back_for_tests(&mut self) {
        self.handles_unique = false;
    }

    /// Makes the next use of each key with a session copy run on its
    /// token object, as it does once [`COPY_RECHECK`] has passed.
    #[cfg(test)]
    pub(crate) fn recheck_copies_for_tests(&self) {
        for known in self.handles().values_mut() {
            if let Some(copy) = &mut known.copy {
                copy.checked = Instant::now()
                    .checked_sub(COPY_RECHECK)
                    .unwrap_or(copy.checked);
            }
        }
    }

    /// Keeps at most `limit` session copies.
    #[cfg(test)]
    pub(crate) fn limit_copies_for_tests(&mut self, limit: usize) {
        self.max_copies = limit;
    }

    /// How many session copies are kept.
    #[cfg(test)]
    pub(crate) fn copies_for_tests(&self) -> usize {
        self.handles()
            .values()
            .filter(|known| known.copy.is_some())
            .count()
    }

    /// Remembers that `object` is the object of `class` with `CKA_ID`
    /// `id`, and makes its session copy where the token has them (see
    /// [`Token::known_handle`]). Called with [`Token::using_handles`] held,
    /// so the object is not being destroyed by this provider.
    pub(crate) fn remember_handle(&self, id: &[u8], class: ObjectClass, object: ObjectHandle) {
        // Held while copying (a key's first use only), so that the copies
        // never pass the limit and no two are made of one object.
        let mut handles = self.handles();
        let key = (id.to_vec(), u64::from(class));
        // Another thread found the object meanwhile: its entry stands (a
        // copy it made may be in use, and is destroyed only under
        // `changing_objects`).
        if handles.contains_key(&key) {
            return;
        }
        let copies = handles
            .values()
            .filter(|known| known.copy.is_some())
            .count();
        let copy = if self.handles_unique && copies < self.max_copies {
            self.session_copy(object)
        } else {
            None
        };
        let known = Known {
            object,
            copy: copy.map(|handle| SessionCopy {
                handle,
                checked: Instant::now(),
            }),
        };
        handles.insert(key, known);
    }

    /// Forgets the handles of the objects with `CKA_ID` `id`, and destroys
    /// their session copies. Called with [`Token::changing_objects`] held:
    /// no operation uses a handle meanwhile.
    pub(crate) fn forget_handles(&self, id: &[u8]) {
        let mut copies = Vec::new();
        self.handles().retain(|(known_id, _), known| {
            let keep = known_id != id;
            if !keep {
                copies.extend(known.copy.as_ref().map(|copy| copy.handle));
            }
            keep
        });
        self.destroy_copies(&copies);
    }

    /// A session copy of `object`, made in the login session; none if the
    /// token will not copy it (the key is then used on the token object).
    fn session_copy(&self, object: ObjectHandle) -> Option<ObjectHandle> {
        let login = self.login.lock().unwrap_or_else(PoisonError::into_inner);
        login
            .copy_object(object, &[Attribute::Token(false)])
            .inspect_err(|error| {
                log::debug!(
                    "token `{}`: no session copy of a key object: {error}",
                    self.label
                );
            })
            .ok()
    }

    /// Destroys session copies no longer remembered.
    fn destroy_copies(&self, copies: &[ObjectHandle]) {
        if copies.is_empty() {
            return;
        }
        let login = self.login.lock().unwrap_or_else(PoisonError::into_inner);
        for copy in copies {
            if let Err(error) = login.destroy_object(*copy) {
                // Gone already, say; it would go with the session anyway.
                log::debug!("token `{}`: destroying a session copy: {error}", self.label);
            }
        }
    }

    /// How many sessions wait in the pool.
    #[cfg(test)]
    pub(crate) fn idle_sessions(&self) -> usize {
        self.idle().len()
    }

    /// A session for one operation: an idle one, or a new one, so that
    /// concurrent requests do not wait for each other.
    pub(crate) fn session(&self) -> Result<PooledSession<'_>, ProviderError> {
        let idle = self.idle().pop();
        let session = match idle {
            Some(session) => session,
            None => self
                .context
                .open_rw_session(self.slot)
                .map_err(ck_error(format!(
                    "opening a session on token `{}`",
                    self.label
                )))?,
        };
        Ok(PooledSession {
            session: Some(session),
            token: self,
        })
    }
}

/// Whether `context`'s library is one known to issue each object handle
/// number at most once while it stays initialised, so that a handle of a
/// destroyed object stays invalid rather than coming to name another
/// object: SoftHSM2 (library manufacturer `SoftHSM`, version 2), whose
/// handle manager counts handles up from one and never hands a number out
/// again ("never reuse a handle once it has been issued", its
/// `HandleManager.cpp`); its handles are also this process's own, so
/// another process's objects never get one of ours. Every other library is
/// assumed to reuse numbers. psec never calls `C_Finalize` (cryptoki does
/// not on drop), which would start SoftHSM2's count again.
fn never_reissues_handles(context: &Pkcs11) -> bool {
    context.get_library_info().is_ok_and(|info| {
        info.manufacturer_id().trim() == "SoftHSM" && info.library_version().major() == 2
    })
}

fn pin_locked(label: &str, slot: Slot) -> ProviderError {
    start_up(format!(
        "the user PIN of token `{label}` (slot {}) is locked; unlock it with the SO PIN \
         (for SoftHSM2: softhsm2-util, or the token vendor's tool) and set the new user_pin",
        slot.id()
    ))
}

/// Finds the initialised token `choice` names.
fn choose_slot(
    context: &Pkcs11,
    choice: &TokenChoice,
    path: &std::path::Path,
) -> Result<(Slot, String), ProviderError> {
    let slots = context
        .get_slots_with_initialized_token()
        .map_err(ck_error("listing the slots"))?;
    let mut tokens = Vec::new();
    for slot in slots {
        let info = context
            .get_token_info(slot)
            .map_err(ck_error(format!("reading the token in slot {}", slot.id())))?;
        tokens.push((
            slot,
            info.label().trim().to_owned(),
            info.serial_number().trim().to_owned(),
        ));
    }
    let listing = || {
        tokens
            .iter()
            .map(|(slot, label, serial)| {
                format!(
                    "slot_number = {} (label `{label}`, serial_number = \"{serial}\")",
                    slot.id()
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let found = match choice {
        TokenChoice::Slot(id) => tokens.iter().find(|(slot, _, _)| slot.id() == *id),
        TokenChoice::Serial(serial) => tokens.iter().find(|(_, _, s)| s == serial.trim()),
        TokenChoice::OnlyOne => match tokens.as_slice() {
            [only] => Some(only),
            [] => {
                return Err(start_up(format!(
                    "the PKCS#11 library `{}` has no initialised token; initialise one \
                     (for SoftHSM2: softhsm2-util --init-token)",
                    path.display()
                )));
            }
            _ => {
                return Err(start_up(format!(
                    "the PKCS#11 library `{}` has several tokens; choose one with \
                     slot_number or serial_number: {}",
                    path.display(),
                    listing()
                )));
            }
        },
    };
    match found {
        Some((slot, label, _)) => Ok((*slot, label.clone())),
        None if tokens.is_empty() => Err(start_up(format!(
            "the PKCS#11 library `{}` has no initialised token; initialise one \
             (for SoftHSM2: softhsm2-util --init-token)",
            path.display()
        ))),
        None => Err(start_up(format!(
            "the PKCS#11 library `{}` has no initialised token with {}; it has: {}",
            path.display(),
            match choice {
                TokenChoice::Slot(id) => format!("slot_number = {id}"),
                TokenChoice::Serial(serial) => format!("serial_number = \"{serial}\""),
                TokenChoice::OnlyOne => String::new(),
            },
            listing()
        ))),
    }
}

/// A session borrowed from the pool, given back when dropped.
pub(crate) struct PooledSession<'a> {
    session: Option<Session>,
    /// The token it is a session of.
    pub(crate) token: &'a Token,
}

impl Deref for PooledSession<'_> {
    type Target = Session;
    fn deref(&self) -> &Session {
        // Only `drop` takes the session out.
        #[allow(clippy::expect_used, reason = "set from construction to drop")]
        self.session.as_ref().expect("a pooled session")
    }
}

impl Drop for PooledSession<'_> {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            let mut idle = self.token.idle();
            if idle.len() < MAX_IDLE_SESSIONS {
                idle.push(session);
            }
        }
    }
}
