//! The keys `dispatch_mbed` makes when it starts, one per kind of
//! operation, so that decoded operations find a key to work on. Shared with
//! the seed generator (`fuzz/make-seeds`), whose requests name these keys.

use psec_interface::psa_crypto::types::algorithm::{
    Aead, AeadWithDefaultLengthTag, Algorithm, AsymmetricEncryption, AsymmetricSignature, Cipher,
    FullLengthMac, Hash, KeyAgreement, Mac, RawKeyAgreement, SignHash,
};
use psec_interface::psa_crypto::types::key::{
    Attributes, EccFamily, Lifetime, Policy, Type, UsageFlags,
};

/// The application that owns every key.
pub const APPLICATION: &str = "fuzz";

/// Name and attributes of each start-up key.
pub fn startup_keys() -> Vec<(&'static str, Attributes)> {
    let p256 = Type::EccKeyPair {
        curve_family: EccFamily::SecpR1,
    };
    let sha256 = Hash::Sha256;
    vec![
        (
            "ecc-sign",
            attributes(
                p256,
                256,
                &[Usage::SignHash, Usage::VerifyHash, Usage::Export],
                AsymmetricSignature::Ecdsa {
                    hash_alg: SignHash::Specific(sha256),
                }
                .into(),
            ),
        ),
        (
            "rsa-sign",
            attributes(
                Type::RsaKeyPair,
                1024,
                &[Usage::SignHash, Usage::VerifyHash],
                AsymmetricSignature::RsaPkcs1v15Sign {
                    hash_alg: SignHash::Specific(sha256),
                }
                .into(),
            ),
        ),
        (
            "rsa-crypt",
            attributes(
                Type::RsaKeyPair,
                1024,
                &[Usage::Encrypt, Usage::Decrypt],
                AsymmetricEncryption::RsaOaep { hash_alg: sha256 }.into(),
            ),
        ),
        (
            "aes-gcm",
            attributes(
                Type::Aes,
                128,
                &[Usage::Encrypt, Usage::Decrypt],
                Aead::AeadWithDefaultLengthTag(AeadWithDefaultLengthTag::Gcm).into(),
            ),
        ),
        (
            "aes-ctr",
            attributes(
                Type::Aes,
                128,
                &[Usage::Encrypt, Usage::Decrypt, Usage::Export],
                Cipher::Ctr.into(),
            ),
        ),
        (
            "hmac",
            attributes(
                Type::Hmac,
                256,
                // Not the message flags alone: psa-crypto 0.13 does not pass
                // them to Mbed TLS, which then refuses the MAC.
                &[Usage::SignHash, Usage::VerifyHash],
                Mac::FullLength(FullLengthMac::Hmac { hash_alg: sha256 }).into(),
            ),
        ),
        (
            "ecdh",
            attributes(
                p256,
                256,
                &[Usage::Derive],
                KeyAgreement::Raw(RawKeyAgreement::Ecdh).into(),
            ),
        ),
    ]
}

/// A usage flag (with its `_message` twin for the hash flags).
#[derive(Clone, Copy)]
pub enum Usage {
    /// `export`.
    Export,
    /// `encrypt`.
    Encrypt,
    /// `decrypt`.
    Decrypt,
    /// `sign_hash` and `sign_message`.
    SignHash,
    /// `verify_hash` and `verify_message`.
    VerifyHash,
    /// `derive`.
    Derive,
}

/// Persistent key attributes.
pub fn attributes(key_type: Type, bits: usize, usage: &[Usage], alg: Algorithm) -> Attributes {
    let mut usage_flags = UsageFlags::default();
    for flag in usage {
        let _ = match flag {
            Usage::Export => usage_flags.set_export(),
            Usage::Encrypt => usage_flags.set_encrypt(),
            Usage::Decrypt => usage_flags.set_decrypt(),
            Usage::SignHash => usage_flags.set_sign_hash(),
            Usage::VerifyHash => usage_flags.set_verify_hash(),
            Usage::Derive => usage_flags.set_derive(),
        };
    }
    Attributes {
        lifetime: Lifetime::Persistent,
        key_type,
        bits,
        policy: Policy {
            usage_flags,
            permitted_algorithms: alg,
        },
    }
}
