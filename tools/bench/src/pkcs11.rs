//! The baseline for the PKCS#11 provider: ECDSA P-256 and RSA-2048 sign-hash
//! called straight through cryptoki, in this process, on the same token
//! psecd uses. It does what a careful application would: one login, a pool
//! of sessions so threads do not queue behind one, and the same mechanisms
//! as the provider (`CKM_ECDSA` on the hash; `CKM_RSA_PKCS` on the
//! DigestInfo and the hash), on the key's token objects. Each is measured
//! again on a session copy of the key (`C_CopyObject`, `CKA_TOKEN` false),
//! as psecd signs on SoftHSM2: the baseline of an application that does the
//! same.
//!
//! Beside it, the signing floor (`psec-bench floor-pkcs11`): the least a
//! server that answers each sign-hash request on its own connection with
//! a signature from this token can cost, to show how much of the distance
//! between psecd and in-process cryptoki any such server pays. It signs on
//! a session copy, as psecd does.

use crate::run_case;
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use std::sync::{Mutex, PoisonError};

/// DER of the DigestInfo header for SHA-256 (RFC 8017, 9.2 note 1).
const SHA256_DIGEST_INFO: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// DER of the OID of P-256 (prime256v1), as CKA_EC_PARAMS.
const P256_PARAMS: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// Sessions not in use, shared by the signing threads.
struct Pool(Mutex<Vec<Session>>);

impl Pool {
    /// The signature of `data` by `key`, made on a session of the pool (a
    /// new one if all are in use).
    fn signature(
        &self,
        context: &Pkcs11,
        slot: cryptoki::slot::Slot,
        key: ObjectHandle,
        mechanism: &Mechanism,
        data: &[u8],
    ) -> cryptoki::error::Result<Vec<u8>> {
        let idle = self.0.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let session = match idle {
            Some(session) => session,
            None => context.open_ro_session(slot)?,
        };
        let signed = session.sign(mechanism, key, data);
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(session);
        signed
    }
}

/// The library initialised, its only token's slot, and a read-write
/// session logged in as the user.
fn logged_in(
    library: &str,
    pin: &str,
) -> Result<(Pkcs11, cryptoki::slot::Slot, Session), Box<dyn std::error::Error>> {
    let context = Pkcs11::new(library)?;
    context.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))?;
    let slot = *context
        .get_slots_with_initialized_token()?
        .first()
        .ok_or("no initialised token")?;
    let owner = context.open_rw_session(slot)?;
    owner.login(UserType::User, Some(&AuthPin::new(pin.into())))?;
    Ok((context, slot, owner))
}

/// A new key pair made by `mechanism` as token objects, as the provider's
/// keys are (SoftHSM2 keeps those in files, encrypted when private), the
/// public template given `public_extra`: (public, private).
fn token_key_pair(
    owner: &Session,
    mechanism: &Mechanism,
    public_extra: Vec<Attribute>,
) -> cryptoki::error::Result<(ObjectHandle, ObjectHandle)> {
    let private = [
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Sign(true),
    ];
    let mut public = vec![Attribute::Token(true), Attribute::Verify(true)];
    public.extend(public_extra);
    owner.generate_key_pair(mechanism, &public, &private)
}

/// A session object copied from `object`, as psecd's PKCS#11 provider uses
/// a key on SoftHSM2.
fn session_copy(owner: &Session, object: ObjectHandle) -> cryptoki::error::Result<ObjectHandle> {
    owner.copy_object(object, &[Attribute::Token(false)])
}

/// A P-256 token key pair: (public, private).
fn p256_pair(owner: &Session) -> cryptoki::error::Result<(ObjectHandle, ObjectHandle)> {
    token_key_pair(
        owner,
        &Mechanism::EccKeyPairGen,
        vec![Attribute::EcParams(P256_PARAMS.to_vec())],
    )
}

/// Logs in to the only token of `library`, makes a P-256 and an RSA-2048
/// key pair, measures sign-hash with each at 1 and 8 threads, and destroys
/// the keys.
pub(crate) fn in_process(
    library: &str,
    pin: &str,
    iterations: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let (context, slot, owner) = logged_in(library, pin)?;
    // Destroyed at the end.
    let (ec_public_key, ec_key) = p256_pair(&owner)?;
    let (rsa_public_key, rsa_key) = token_key_pair(
        &owner,
        &Mechanism::RsaPkcsKeyPairGen,
        vec![
            Attribute::ModulusBits(2048.into()),
            Attribute::PublicExponent(vec![1, 0, 1]),
        ],
    )?;

    // Session objects: they go with the owner session.
    let ec_copy = session_copy(&owner, ec_key)?;
    let rsa_copy = session_copy(&owner, rsa_key)?;
    let hash = [0x5a_u8; 32];
    let mut digest_info = SHA256_DIGEST_INFO.to_vec();
    digest_info.extend_from_slice(&hash);
    let pool = Pool(Mutex::new(Vec::new()));
    println!("{iterations} operations per thread");
    let mut outcome = Ok(());
    for threads in [1, 8] {
        // A Mechanism is not Sync (it holds raw pointers): each call makes
        // its own, as the provider does.
        let ecdsa: fn() -> Mechanism<'static> = || Mechanism::Ecdsa;
        let rsa_pkcs: fn() -> Mechanism<'static> = || Mechanism::RsaPkcs;
        let cases = [
            ("ECDSA P-256 sign-hash, cryptoki", ec_key, ecdsa, &hash[..]),
            (
                "RSA-2048 PKCS#1 v1.5 sign-hash, cryptoki",
                rsa_key,
                rsa_pkcs,
                &digest_info[..],
            ),
            (
                "ECDSA P-256 sign-hash, cryptoki on a session copy",
                ec_copy,
                ecdsa,
                &hash[..],
            ),
            (
                "RSA-2048 PKCS#1 v1.5 sign-hash, cryptoki on a session copy",
                rsa_copy,
                rsa_pkcs,
                &digest_info[..],
            ),
        ];
        for (name, key, mechanism, data) in cases {
            outcome = outcome.and(run_case(name, threads, iterations, || {
                pool.signature(&context, slot, key, &mechanism(), data)
                    .map(drop)
            }));
        }
    }
    drop(pool);
    for object in [ec_public_key, ec_key, rsa_public_key, rsa_key] {
        owner.destroy_object(object)?;
    }
    Ok(outcome?)
}

/// Serves on `path` until killed, as the signing floor: `threads` threads
/// take turns to accept (each blocked in `accept` on the one socket), and
/// the thread that accepts a connection reads the request (the header,
/// then the body and auth bytes it announces, none of it decoded beyond
/// the header), signs a fixed 32-byte hash with `CKM_ECDSA` and a session
/// copy of a P-256 token key made at start, answers with a sign-hash
/// result that a Parsec client decodes, and closes. No hand-over between
/// threads, no key store, no authentication, no timeouts. The key pair
/// stays on the token: the token is a scratch one (`ci/bench.sh` makes
/// it).
pub(crate) fn signing_floor(
    path: &str,
    library: &str,
    pin: &str,
    threads: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let (context, slot, owner) = logged_in(library, pin)?;
    let (_public, private) = p256_pair(&owner)?;
    let key = session_copy(&owner, private)?;
    let _ = std::fs::remove_file(path);
    let listener = std::os::unix::net::UnixListener::bind(path)?;
    let pool = Pool(Mutex::new(Vec::new()));
    let hash = [0x5a_u8; 32];
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| {
                loop {
                    let stream = match listener.accept() {
                        Ok((stream, _)) => stream,
                        Err(error) => {
                            // No descriptor left, say: pause, not spin.
                            eprintln!("signing floor: accept failed: {error}");
                            std::thread::sleep(std::time::Duration::from_millis(50));
                            continue;
                        }
                    };
                    let answered = answer_with_signature(stream, || {
                        pool.signature(&context, slot, key, &Mechanism::Ecdsa, &hash)
                    });
                    if let Err(error) = answered {
                        eprintln!("signing floor: a request went unanswered: {error}");
                    }
                }
            });
        }
    });
    Ok(())
}

/// Reads one request from `stream` and answers it with the signature
/// `sign` makes, as a sign-hash result, or with the request's header alone
/// and a failure status if signing fails.
fn answer_with_signature(
    mut stream: std::os::unix::net::UnixStream,
    sign: impl FnOnce() -> cryptoki::error::Result<Vec<u8>>,
) -> Result<(), Box<dyn std::error::Error>> {
    use psec_interface::operations::{NativeResult, psa_sign_hash};
    use psec_interface::{RawHeader, RequestHeader, Response, ResponseStatus};
    use std::io::{Read, Write};
    /// More body and auth bytes than a sign-hash request has; a request
    /// announcing more is answered without reading them.
    const MOST: u64 = 1 << 16;
    let raw = RawHeader::read_from(&mut stream)?;
    let announced = u64::from(raw.body_len) + u64::from(raw.auth_len);
    std::io::copy(
        &mut (&mut stream).take(announced.min(MOST)),
        &mut std::io::sink(),
    )?;
    let request = RequestHeader::from_raw(&raw)?;
    let response = match sign() {
        Ok(signature) => Response {
            header: request.reply(ResponseStatus::Success),
            body: NativeResult::PsaSignHash(psa_sign_hash::Result { signature }).into_body()?,
        },
        Err(error) => {
            eprintln!("signing floor: signing failed: {error}");
            Response::status_only(&request, ResponseStatus::PsaErrorHardwareFailure)
        }
    };
    stream.write_all(&response.encode()?)?;
    Ok(())
}
