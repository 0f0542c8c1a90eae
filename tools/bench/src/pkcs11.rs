//! The baseline for the PKCS#11 provider: ECDSA P-256 and RSA-2048 sign-hash
//! called straight through cryptoki, in this process, on the same token
//! psecd uses. It does what a careful application would: one login, a pool
//! of sessions so threads do not queue behind one, and the same mechanisms
//! as the provider (`CKM_ECDSA` on the hash; `CKM_RSA_PKCS` on the
//! DigestInfo and the hash).

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
    fn sign(
        &self,
        context: &Pkcs11,
        slot: cryptoki::slot::Slot,
        key: ObjectHandle,
        mechanism: &Mechanism,
        data: &[u8],
    ) -> cryptoki::error::Result<()> {
        let idle = self.0.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let session = match idle {
            Some(session) => session,
            None => context.open_ro_session(slot)?,
        };
        let signed = session.sign(mechanism, key, data).map(drop);
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(session);
        signed
    }
}

/// Logs in to the only token of `library`, makes a P-256 and an RSA-2048
/// key pair, measures sign-hash with each at 1 and 8 threads, and destroys
/// the keys.
pub(crate) fn in_process(
    library: &str,
    pin: &str,
    iterations: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let context = Pkcs11::new(library)?;
    context.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))?;
    let slot = *context
        .get_slots_with_initialized_token()?
        .first()
        .ok_or("no initialised token")?;
    let owner = context.open_rw_session(slot)?;
    owner.login(UserType::User, Some(&AuthPin::new(pin.into())))?;
    // Token objects, as the provider's keys are (SoftHSM2 keeps those in
    // files, encrypted when private), destroyed at the end.
    let private = [
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Sign(true),
    ];
    let public = |extra: Vec<Attribute>| {
        let mut template = vec![Attribute::Token(true), Attribute::Verify(true)];
        template.extend(extra);
        template
    };
    let ec_public = public(vec![Attribute::EcParams(P256_PARAMS.to_vec())]);
    let (ec_public_key, ec_key) =
        owner.generate_key_pair(&Mechanism::EccKeyPairGen, &ec_public, &private)?;
    let rsa_public = public(vec![
        Attribute::ModulusBits(2048.into()),
        Attribute::PublicExponent(vec![1, 0, 1]),
    ]);
    let (rsa_public_key, rsa_key) =
        owner.generate_key_pair(&Mechanism::RsaPkcsKeyPairGen, &rsa_public, &private)?;

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
        ];
        for (name, key, mechanism, data) in cases {
            outcome = outcome.and(run_case(name, threads, iterations, || {
                pool.sign(&context, slot, key, &mechanism(), data)
            }));
        }
    }
    drop(pool);
    for object in [ec_public_key, ec_key, rsa_public_key, rsa_key] {
        owner.destroy_object(object)?;
    }
    Ok(outcome?)
}
