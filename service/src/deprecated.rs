//! Deprecated primitives: MD2, MD4, MD5 and SHA-1 in a key's policy; DES,
//! ARC4 and weak elliptic curves as key types. As in Parsec 1.5, the policy
//! is about new keys: generating one is refused with `DeprecatedPrimitive`
//! unless `allow_deprecated` is set, importing one is allowed with a
//! warning in the log, and operations (a SHA-1 hash, a signature with a key
//! imported long ago) are not refused for what they use. It is the same
//! whatever the provider, so it lives here once.
#![allow(deprecated)] // naming the deprecated primitives is the point

use psec_interface::NativeOperation;
use psec_interface::psa_crypto::types::algorithm::{
    Algorithm, AsymmetricEncryption, AsymmetricSignature, FullLengthMac, Hash, KeyAgreement,
    KeyDerivation, Mac, SignHash,
};
use psec_interface::psa_crypto::types::key::{Attributes, EccFamily, Type};

/// Curves below this size are weak (secp160k1, sect163k1, brainpoolP160r1...).
const SMALLEST_STRONG_CURVE_BITS: usize = 192;

/// What is deprecated in the key `op` creates (generate or import), if
/// anything, for the refusal or the warning.
pub(crate) fn deprecated_in_new_key(op: &NativeOperation) -> Option<&'static str> {
    match op {
        NativeOperation::PsaGenerateKey(op) => in_attributes(&op.attributes),
        NativeOperation::PsaImportKey(op) => in_attributes(&op.attributes),
        _ => None,
    }
}

fn in_hash(hash: Hash) -> Option<&'static str> {
    match hash {
        Hash::Md2 => Some("MD2"),
        Hash::Md4 => Some("MD4"),
        Hash::Md5 => Some("MD5"),
        Hash::Sha1 => Some("SHA-1"),
        _ => None,
    }
}

fn in_sign_hash(hash: SignHash) -> Option<&'static str> {
    match hash {
        SignHash::Specific(hash) => in_hash(hash),
        SignHash::Any => None,
    }
}

fn in_signature(alg: AsymmetricSignature) -> Option<&'static str> {
    alg.hash().and_then(in_sign_hash)
}

fn in_encryption(alg: AsymmetricEncryption) -> Option<&'static str> {
    match alg {
        AsymmetricEncryption::RsaOaep { hash_alg } => in_hash(hash_alg),
        AsymmetricEncryption::RsaPkcs1v15Crypt => None,
    }
}

fn in_mac(alg: Mac) -> Option<&'static str> {
    let full = match alg {
        Mac::FullLength(full) | Mac::Truncated { mac_alg: full, .. } => full,
    };
    match full {
        FullLengthMac::Hmac { hash_alg } => in_hash(hash_alg),
        FullLengthMac::CbcMac | FullLengthMac::Cmac => None,
    }
}

fn in_derivation(alg: KeyDerivation) -> Option<&'static str> {
    match alg {
        KeyDerivation::Hkdf { hash_alg }
        | KeyDerivation::Tls12Prf { hash_alg }
        | KeyDerivation::Tls12PskToMs { hash_alg } => in_hash(hash_alg),
    }
}

fn in_algorithm(alg: Algorithm) -> Option<&'static str> {
    match alg {
        Algorithm::Hash(hash) => in_hash(hash),
        Algorithm::Mac(mac) => in_mac(mac),
        Algorithm::AsymmetricSignature(sign) => in_signature(sign),
        Algorithm::AsymmetricEncryption(encrypt) => in_encryption(encrypt),
        Algorithm::KeyAgreement(KeyAgreement::WithKeyDerivation { kdf_alg, .. }) => {
            in_derivation(kdf_alg)
        }
        Algorithm::KeyDerivation(derive) => in_derivation(derive),
        _ => None,
    }
}

fn in_key_type(key_type: Type, bits: usize) -> Option<&'static str> {
    match key_type {
        Type::Des => Some("DES"),
        Type::Arc4 => Some("ARC4"),
        Type::EccKeyPair { curve_family } | Type::EccPublicKey { curve_family } => {
            match curve_family {
                EccFamily::SecpR2 => Some("the secp160r2 curve"),
                EccFamily::SectR2 => Some("the sect163r2 curve"),
                EccFamily::Montgomery | EccFamily::Frp => None,
                _ if bits != 0 && bits < SMALLEST_STRONG_CURVE_BITS => {
                    Some("a curve under 192 bits")
                }
                _ => None,
            }
        }
        _ => None,
    }
}

fn in_attributes(attributes: &Attributes) -> Option<&'static str> {
    in_key_type(attributes.key_type, attributes.bits)
        .or_else(|| in_algorithm(attributes.policy.permitted_algorithms))
}

#[cfg(test)]
mod tests {
    use super::*;
    use psec_interface::operations::{psa_generate_key, psa_hash_compute, psa_sign_hash};
    use psec_interface::psa_crypto::types::key::{Lifetime, Policy, UsageFlags};

    fn attributes(key_type: Type, bits: usize, alg: Algorithm) -> Attributes {
        Attributes {
            lifetime: Lifetime::Persistent,
            key_type,
            bits,
            policy: Policy {
                usage_flags: UsageFlags::default(),
                permitted_algorithms: alg,
            },
        }
    }

    fn generate(key_type: Type, bits: usize, alg: Algorithm) -> NativeOperation {
        NativeOperation::PsaGenerateKey(psa_generate_key::Operation {
            key_name: "k".into(),
            attributes: attributes(key_type, bits, alg),
        })
    }

    #[test]
    fn operations_are_not_judged_only_new_keys_are() {
        let sign = NativeOperation::PsaSignHash(psa_sign_hash::Operation {
            key_name: "k".into(),
            alg: AsymmetricSignature::RsaPkcs1v15Sign {
                hash_alg: Hash::Sha1.into(),
            },
            hash: vec![0; 20],
        });
        let hash = NativeOperation::PsaHashCompute(psa_hash_compute::Operation {
            alg: Hash::Md5,
            input: vec![1].into(),
        });
        assert_eq!(deprecated_in_new_key(&sign), None);
        assert_eq!(deprecated_in_new_key(&hash), None);
        assert_eq!(
            deprecated_in_new_key(&generate(Type::RsaKeyPair, 2048, sign_alg(Hash::Sha1))),
            Some("SHA-1")
        );
        assert_eq!(
            deprecated_in_new_key(&generate(Type::RsaKeyPair, 2048, sign_alg(Hash::Sha256))),
            None
        );
    }

    fn sign_alg(hash: Hash) -> Algorithm {
        Algorithm::AsymmetricSignature(AsymmetricSignature::RsaPkcs1v15Sign {
            hash_alg: hash.into(),
        })
    }

    #[test]
    fn des_arc4_and_small_curves_are_deprecated_key_types() {
        assert_eq!(
            deprecated_in_new_key(&generate(Type::Des, 64, Algorithm::None)),
            Some("DES")
        );
        assert_eq!(
            deprecated_in_new_key(&generate(Type::Arc4, 128, Algorithm::None)),
            Some("ARC4")
        );
        let small = Type::EccKeyPair {
            curve_family: EccFamily::SecpK1,
        };
        assert!(deprecated_in_new_key(&generate(small, 160, Algorithm::None)).is_some());
        let p256 = Type::EccKeyPair {
            curve_family: EccFamily::SecpR1,
        };
        assert_eq!(
            deprecated_in_new_key(&generate(p256, 256, Algorithm::None)),
            None
        );
    }

    #[test]
    fn a_deprecated_hash_in_a_key_policy_is_deprecated() {
        let policy = Algorithm::AsymmetricSignature(AsymmetricSignature::Ecdsa {
            hash_alg: Hash::Sha1.into(),
        });
        let p256 = Type::EccKeyPair {
            curve_family: EccFamily::SecpR1,
        };
        assert_eq!(
            deprecated_in_new_key(&generate(p256, 256, policy)),
            Some("SHA-1")
        );
    }
}
