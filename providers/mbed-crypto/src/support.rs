//! What this provider really supports: key types and sizes, and the
//! algorithms each key type can be used with. CanDoCrypto answers from this
//! table (inside the checks every provider shares, `psec_provider::can_do_crypto`,
//! which are Parsec's), and keys are only created when it allows them, so
//! the two can not disagree.
//!
//! The table is what Mbed TLS 3.5 (as psa-crypto 0.13 builds it) does
//! through psa-crypto's API, as the tests of this crate exercise it. Left
//! out: XTS and CBC-MAC (not in Mbed TLS's PSA API), DES and Camellia keys,
//! finite-field Diffie-Hellman, key derivation, and the curves below 256
//! bits.

#![allow(
    deprecated,
    reason = "MD5 and SHA-1 are supported; policy is the service's"
)]

use crate::MbedCryptoProvider;
use psa_crypto::types::algorithm::{
    Aead, AeadWithDefaultLengthTag, Algorithm, AsymmetricEncryption, AsymmetricSignature, Cipher,
    FullLengthMac, Hash, KeyAgreement, Mac, RawKeyAgreement, SignHash,
};
use psa_crypto::types::key::{Attributes, EccFamily, Type};
use psec_interface::operations::can_do_crypto::CheckType;
use psec_provider::{CanDoCrypto, ProviderError, Result, mac_length};

/// The hashes Mbed TLS computes, and so signs, MACs and pads with.
const HASHES: [Hash; 11] = [
    Hash::Md5,
    Hash::Ripemd160,
    Hash::Sha1,
    Hash::Sha224,
    Hash::Sha256,
    Hash::Sha384,
    Hash::Sha512,
    Hash::Sha3_224,
    Hash::Sha3_256,
    Hash::Sha3_384,
    Hash::Sha3_512,
];

/// Elliptic curves by family and size in bits.
const CURVES: [(EccFamily, usize); 9] = [
    (EccFamily::SecpR1, 256),
    (EccFamily::SecpR1, 384),
    (EccFamily::SecpR1, 521),
    (EccFamily::SecpK1, 256),
    (EccFamily::BrainpoolPR1, 256),
    (EccFamily::BrainpoolPR1, 384),
    (EccFamily::BrainpoolPR1, 512),
    (EccFamily::Montgomery, 255),
    (EccFamily::Montgomery, 448),
];

/// RSA key sizes: Mbed TLS generates from 1024 to 4096 bits in whole bytes.
const RSA_BITS: std::ops::RangeInclusive<usize> = 1024..=4096;

/// HMAC and raw data key sizes: whole bytes up to PSA's largest key.
const UNSTRUCTURED_BITS: std::ops::RangeInclusive<usize> = 8..=0xfff8;

/// Whether Mbed TLS can compute `hash`.
pub(crate) fn hash_supported(hash: Hash) -> bool {
    HASHES.contains(&hash)
}

/// Answers CanDoCrypto: `Ok` if this provider can do `check` for a key
/// with `attributes`, NotSupported otherwise.
pub(crate) fn check(check: CheckType, attributes: &Attributes) -> Result<()> {
    let (bits_needed, alg_needed) = match check {
        CheckType::Use => (false, true),
        CheckType::Generate => (true, false),
        CheckType::Import => (false, false),
        _ => return Err(unsupported("key derivation")),
    };
    if check == CheckType::Generate && attributes.key_type.is_public_key() {
        return Err(unsupported("generating a lone public key"));
    }
    key_supported(attributes.key_type, attributes.bits, bits_needed)?;
    algorithm_supported(
        attributes.key_type,
        attributes.policy.permitted_algorithms,
        alg_needed,
    )
}

/// The sizes of the curves PSA names in each family (the PSA Crypto API
/// 1.1, `PSA_ECC_FAMILY_*`), supported here or not.
fn curve_sizes(family: EccFamily) -> &'static [usize] {
    match family {
        EccFamily::SecpK1 => &[192, 225, 256],
        EccFamily::SecpR1 => &[192, 224, 256, 384, 521],
        EccFamily::SecpR2 => &[160],
        EccFamily::SectK1 => &[163, 233, 239, 283, 409, 571],
        EccFamily::SectR1 => &[163, 233, 283, 409, 571],
        EccFamily::SectR2 => &[163],
        EccFamily::BrainpoolPR1 => &[160, 192, 224, 256, 320, 384, 512],
        EccFamily::Frp => &[256],
        EccFamily::Montgomery => &[255, 448],
    }
}

/// Refuses, with InvalidArgument, a size that no key of the type has: a
/// key to generate of size 0, or an elliptic curve key whose size names no
/// curve of its family (an import of size 0 takes the size of the data).
/// That is a wrong request, where a size some key has but this provider
/// does not support is NotSupported ([`check`]). Parsec's Mbed Crypto
/// provider answers InvalidArgument to both (Mbed TLS, and psa-crypto's
/// table of curve sizes).
pub(crate) fn check_size_exists(attributes: &Attributes, generating: bool) -> Result<()> {
    let key_type = attributes.key_type;
    let bits = attributes.bits;
    let exists = match key_type {
        _ if bits == 0 => !generating,
        Type::EccKeyPair { curve_family } | Type::EccPublicKey { curve_family } => {
            curve_sizes(curve_family).contains(&bits)
        }
        _ => true,
    };
    if exists {
        Ok(())
    } else {
        Err(ProviderError::InvalidArgument(format!(
            "no key of type {key_type:?} has {bits} bits"
        )))
    }
}

fn unsupported(what: impl std::fmt::Display) -> ProviderError {
    ProviderError::NotSupported(format!("the Mbed Crypto provider does not support {what}"))
}

/// Whether the key type and size are supported; a size of 0 means "any",
/// which only a generated key can not have.
fn key_supported(key_type: Type, bits: usize, bits_needed: bool) -> Result<()> {
    if bits == 0 && !bits_needed && size_supported(key_type, None) {
        return Ok(());
    }
    if size_supported(key_type, Some(bits)) {
        Ok(())
    } else {
        Err(unsupported(format_args!(
            "{bits}-bit keys of type {key_type:?}"
        )))
    }
}

/// Whether `key_type` is supported at `bits`, or at some size if `None`.
fn size_supported(key_type: Type, bits: Option<usize>) -> bool {
    let fits = |range: std::ops::RangeInclusive<usize>| {
        bits.is_none_or(|bits| bits % 8 == 0 && range.contains(&bits))
    };
    match key_type {
        Type::Aes => bits.is_none_or(|bits| [128, 192, 256].contains(&bits)),
        Type::Chacha20 => bits.is_none_or(|bits| bits == 256),
        // Raw data (a secret to export, or for key derivation) has no
        // algorithm of its own: Mbed TLS generates and stores its bytes.
        Type::Hmac | Type::RawData => fits(UNSTRUCTURED_BITS),
        Type::RsaKeyPair | Type::RsaPublicKey => fits(RSA_BITS),
        Type::EccKeyPair { curve_family } | Type::EccPublicKey { curve_family } => CURVES
            .iter()
            .any(|&(family, size)| family == curve_family && bits.is_none_or(|b| b == size)),
        _ => false,
    }
}

/// Whether keys of `key_type` can be used with `alg`. A key with no
/// algorithm can be created (to be exported) but not used.
fn algorithm_supported(key_type: Type, alg: Algorithm, alg_needed: bool) -> Result<()> {
    let supported = match alg {
        Algorithm::None => !alg_needed,
        Algorithm::Mac(mac) => mac_supported(key_type, mac),
        Algorithm::Cipher(cipher) => cipher_supported(key_type, cipher),
        Algorithm::Aead(aead) => aead_supported(key_type, aead),
        Algorithm::AsymmetricSignature(sign) => signature_supported(key_type, sign),
        Algorithm::AsymmetricEncryption(encrypt) => encryption_supported(key_type, encrypt),
        Algorithm::KeyAgreement(agreement) => agreement_supported(key_type, agreement),
        Algorithm::Hash(_) | Algorithm::KeyDerivation(_) => false,
    };
    if supported {
        Ok(())
    } else {
        Err(unsupported(format_args!(
            "{alg:?} with keys of type {key_type:?}"
        )))
    }
}

fn mac_supported(key_type: Type, mac: Mac) -> bool {
    // Mbed TLS refuses MACs truncated below 4 bytes, as `mac_length` does.
    let full_length = |full| match (key_type, full) {
        (Type::Hmac, FullLengthMac::Hmac { hash_alg }) if hash_supported(hash_alg) => {
            Some(hash_alg.hash_length())
        }
        (Type::Aes, FullLengthMac::Cmac) => Some(16),
        _ => None,
    };
    mac_length(mac, full_length).is_some()
}

fn cipher_supported(key_type: Type, cipher: Cipher) -> bool {
    matches!(
        (key_type, cipher),
        (
            Type::Aes,
            Cipher::EcbNoPadding
                | Cipher::Ctr
                | Cipher::Cfb
                | Cipher::Ofb
                | Cipher::CbcNoPadding
                | Cipher::CbcPkcs7
        ) | (Type::Chacha20, Cipher::StreamCipher)
    )
}

fn aead_supported(key_type: Type, aead: Aead) -> bool {
    let (base, tag) = match aead {
        Aead::AeadWithDefaultLengthTag(base) => (base, 16),
        Aead::AeadWithShortenedTag {
            aead_alg,
            tag_length,
        } => (aead_alg, tag_length),
    };
    match (key_type, base) {
        (Type::Aes, AeadWithDefaultLengthTag::Gcm) => (4..=16).contains(&tag),
        (Type::Aes, AeadWithDefaultLengthTag::Ccm) => (4..=16).contains(&tag) && tag % 2 == 0,
        (Type::Chacha20, AeadWithDefaultLengthTag::Chacha20Poly1305) => tag == 16,
        _ => false,
    }
}

fn sign_hash_supported(hash: SignHash) -> bool {
    match hash {
        SignHash::Any => true,
        SignHash::Specific(hash) => hash_supported(hash),
    }
}

fn is_rsa(key_type: Type) -> bool {
    matches!(key_type, Type::RsaKeyPair | Type::RsaPublicKey)
}

/// ECDSA curves: every supported curve but the Montgomery ones.
fn is_ecdsa_curve(key_type: Type) -> bool {
    match key_type {
        Type::EccKeyPair { curve_family } | Type::EccPublicKey { curve_family } => {
            curve_family != EccFamily::Montgomery
        }
        _ => false,
    }
}

fn signature_supported(key_type: Type, sign: AsymmetricSignature) -> bool {
    match sign {
        AsymmetricSignature::RsaPkcs1v15Sign { hash_alg }
        | AsymmetricSignature::RsaPss { hash_alg } => {
            is_rsa(key_type) && sign_hash_supported(hash_alg)
        }
        AsymmetricSignature::RsaPkcs1v15SignRaw => is_rsa(key_type),
        AsymmetricSignature::Ecdsa { hash_alg }
        | AsymmetricSignature::DeterministicEcdsa { hash_alg } => {
            is_ecdsa_curve(key_type) && sign_hash_supported(hash_alg)
        }
        AsymmetricSignature::EcdsaAny => is_ecdsa_curve(key_type),
    }
}

fn encryption_supported(key_type: Type, encrypt: AsymmetricEncryption) -> bool {
    match encrypt {
        AsymmetricEncryption::RsaPkcs1v15Crypt => is_rsa(key_type),
        AsymmetricEncryption::RsaOaep { hash_alg } => is_rsa(key_type) && hash_supported(hash_alg),
    }
}

/// Raw ECDH on every supported curve. A policy of ECDH followed by a key
/// derivation is not supported: this provider does no key derivation, and
/// Mbed TLS refuses raw ECDH under such a policy.
fn agreement_supported(key_type: Type, agreement: KeyAgreement) -> bool {
    agreement == KeyAgreement::Raw(RawKeyAgreement::Ecdh)
        && matches!(
            key_type,
            Type::EccKeyPair { .. } | Type::EccPublicKey { .. }
        )
}

/// This provider's own checks; `psec_provider::can_do_crypto` puts the
/// checks every provider shares around them.
impl CanDoCrypto for MbedCryptoProvider {
    fn generate_check(&self, attributes: &Attributes) -> Result<()> {
        check(CheckType::Generate, attributes)
    }

    fn import_check(&self, attributes: &Attributes) -> Result<()> {
        check(CheckType::Import, attributes)
    }

    fn use_check(&self, attributes: &Attributes) -> Result<()> {
        check(CheckType::Use, attributes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::attributes;

    fn ok(check_type: CheckType, key_type: Type, bits: usize, alg: impl Into<Algorithm>) -> bool {
        check(check_type, &attributes(key_type, bits, alg.into(), |_| {})).is_ok()
    }

    const SECP_R1: Type = Type::EccKeyPair {
        curve_family: EccFamily::SecpR1,
    };

    /// CanDoCrypto as the service asks it: this provider's checks inside
    /// the common ones.
    fn can_do(check_type: CheckType, attributes: Attributes) -> Result<()> {
        let (_, provider) = crate::test_support::setup();
        psec_provider::can_do_crypto(
            &provider,
            psec_interface::operations::can_do_crypto::Operation {
                check_type,
                attributes,
            },
        )
        .map(|_| ())
    }

    /// Parsec's Mbed Crypto provider (through the checks every Parsec
    /// provider shares) answers NotSupported for these, which this
    /// provider can make: a policy naming an algorithm with no encrypt,
    /// decrypt, sign or verify flag.
    #[test]
    fn can_do_crypto_refuses_a_policy_without_a_crypto_usage_flag_as_parsec_does() {
        let pkcs1 = AsymmetricSignature::RsaPkcs1v15Sign {
            hash_alg: Hash::Sha256.into(),
        };
        let export_only = attributes(Type::RsaKeyPair, 2048, pkcs1.into(), |flags| {
            flags.set_export();
        });
        for check_type in [CheckType::Use, CheckType::Generate, CheckType::Import] {
            let error = can_do(check_type, export_only).unwrap_err();
            assert!(
                matches!(error, ProviderError::NotSupported(_)),
                "{check_type:?}: {error}"
            );
            let signing = attributes(Type::RsaKeyPair, 2048, pkcs1.into(), |flags| {
                flags.set_sign_hash();
            });
            can_do(check_type, signing).unwrap();
        }
        // Without an algorithm, a key can be made (to be exported).
        let no_alg = attributes(Type::RsaKeyPair, 2048, Algorithm::None, |flags| {
            flags.set_export();
        });
        can_do(CheckType::Generate, no_alg).unwrap();
        can_do(CheckType::Import, no_alg).unwrap();
    }

    #[test]
    fn sizes_no_key_has_are_invalid_arguments_and_sizes_not_supported_are_not() {
        let key = |key_type, bits| attributes(key_type, bits, Algorithm::None, |_| {});
        let secp_r1 = |bits| key(SECP_R1, bits);
        let x25519 = |bits| {
            key(
                Type::EccKeyPair {
                    curve_family: EccFamily::Montgomery,
                },
                bits,
            )
        };
        let invalid = [
            (secp_r1(255), true),
            (secp_r1(255), false),
            (secp_r1(257), true),
            (x25519(256), true),
            (secp_r1(0), true),
            (key(Type::Aes, 0), true),
            (key(Type::RsaKeyPair, 0), true),
        ];
        for (attributes, generating) in invalid {
            let error = check_size_exists(&attributes, generating).unwrap_err();
            assert!(
                matches!(error, ProviderError::InvalidArgument(_)),
                "{attributes:?} {generating}: {error}"
            );
        }
        // Curves PSA names but this provider lacks: NotSupported.
        for bits in [192, 224] {
            check_size_exists(&secp_r1(bits), true).unwrap();
            assert!(matches!(
                check(CheckType::Generate, &secp_r1(bits)),
                Err(ProviderError::NotSupported(_))
            ));
        }
        check_size_exists(&secp_r1(0), false).unwrap();
        check_size_exists(&x25519(255), true).unwrap();
        check_size_exists(&key(Type::RsaKeyPair, 3072), true).unwrap();
    }

    #[test]
    fn ecdsa_is_supported_on_p256_p384_and_p521_for_every_check_but_derive() {
        let alg = AsymmetricSignature::Ecdsa {
            hash_alg: Hash::Sha256.into(),
        };
        for bits in [256, 384, 521] {
            for check_type in [CheckType::Use, CheckType::Generate, CheckType::Import] {
                assert!(ok(check_type, SECP_R1, bits, alg), "{bits} {check_type:?}");
            }
            assert!(!ok(CheckType::Derive, SECP_R1, bits, alg));
        }
        assert!(!ok(CheckType::Generate, SECP_R1, 224, alg));
    }

    #[test]
    fn rsa_sizes_are_whole_bytes_from_1024_to_4096() {
        let alg = AsymmetricEncryption::RsaPkcs1v15Crypt;
        for bits in [1024, 2048, 3072, 4096] {
            assert!(
                ok(CheckType::Generate, Type::RsaKeyPair, bits, alg),
                "{bits}"
            );
        }
        for bits in [512, 1023, 1026, 4104, 8192] {
            assert!(
                !ok(CheckType::Generate, Type::RsaKeyPair, bits, alg),
                "{bits}"
            );
        }
    }

    #[test]
    fn a_public_key_can_be_imported_and_used_but_not_generated() {
        let alg = AsymmetricSignature::RsaPss {
            hash_alg: SignHash::Any,
        };
        assert!(ok(CheckType::Import, Type::RsaPublicKey, 2048, alg));
        assert!(ok(CheckType::Use, Type::RsaPublicKey, 2048, alg));
        assert!(!ok(CheckType::Generate, Type::RsaPublicKey, 2048, alg));
    }

    #[test]
    fn size_zero_means_any_size_except_when_generating() {
        let alg = Cipher::Ctr;
        assert!(ok(CheckType::Import, Type::Aes, 0, alg));
        assert!(ok(CheckType::Use, Type::Aes, 0, alg));
        assert!(!ok(CheckType::Generate, Type::Aes, 0, alg));
    }

    #[test]
    fn symmetric_algorithms_follow_what_mbed_tls_does() {
        assert!(ok(CheckType::Use, Type::Aes, 128, Cipher::CbcPkcs7));
        assert!(ok(CheckType::Use, Type::Aes, 128, Cipher::EcbNoPadding));
        assert!(!ok(CheckType::Use, Type::Aes, 128, Cipher::Xts));
        assert!(ok(
            CheckType::Use,
            Type::Chacha20,
            256,
            Cipher::StreamCipher
        ));
        let cmac = Mac::FullLength(FullLengthMac::Cmac);
        assert!(ok(CheckType::Use, Type::Aes, 256, cmac));
        assert!(!ok(CheckType::Use, Type::Hmac, 256, cmac));
        let cbc_mac = Mac::FullLength(FullLengthMac::CbcMac);
        assert!(!ok(CheckType::Use, Type::Aes, 256, cbc_mac));
        let hmac = |hash_alg, mac_length| Mac::Truncated {
            mac_alg: FullLengthMac::Hmac { hash_alg },
            mac_length,
        };
        assert!(ok(CheckType::Use, Type::Hmac, 256, hmac(Hash::Sha256, 4)));
        assert!(!ok(CheckType::Use, Type::Hmac, 256, hmac(Hash::Sha256, 3)));
        assert!(!ok(CheckType::Use, Type::Hmac, 256, hmac(Hash::Sha256, 33)));
    }

    #[test]
    fn aead_tags_follow_what_mbed_tls_does() {
        let short = |aead_alg, tag_length| Aead::AeadWithShortenedTag {
            aead_alg,
            tag_length,
        };
        assert!(ok(
            CheckType::Use,
            Type::Aes,
            128,
            short(AeadWithDefaultLengthTag::Gcm, 13)
        ));
        assert!(ok(
            CheckType::Use,
            Type::Aes,
            128,
            short(AeadWithDefaultLengthTag::Ccm, 8)
        ));
        assert!(!ok(
            CheckType::Use,
            Type::Aes,
            128,
            short(AeadWithDefaultLengthTag::Ccm, 13)
        ));
        let chacha = AeadWithDefaultLengthTag::Chacha20Poly1305;
        assert!(ok(
            CheckType::Use,
            Type::Chacha20,
            256,
            Aead::AeadWithDefaultLengthTag(chacha)
        ));
        assert!(!ok(CheckType::Use, Type::Chacha20, 256, short(chacha, 12)));
        assert!(!ok(
            CheckType::Use,
            Type::Aes,
            128,
            Aead::AeadWithDefaultLengthTag(chacha)
        ));
    }

    #[test]
    fn ecdh_is_raw_only_and_montgomery_curves_do_not_sign() {
        let x25519 = Type::EccKeyPair {
            curve_family: EccFamily::Montgomery,
        };
        let raw = KeyAgreement::Raw(RawKeyAgreement::Ecdh);
        assert!(ok(CheckType::Generate, x25519, 255, raw));
        let ecdsa = AsymmetricSignature::Ecdsa {
            hash_alg: Hash::Sha256.into(),
        };
        assert!(!ok(CheckType::Generate, x25519, 255, ecdsa));
        let derived = KeyAgreement::WithKeyDerivation {
            ka_alg: RawKeyAgreement::Ecdh,
            kdf_alg: psa_crypto::types::algorithm::KeyDerivation::Hkdf {
                hash_alg: Hash::Sha256,
            },
        };
        assert!(!ok(CheckType::Generate, SECP_R1, 256, derived));
        assert!(!ok(
            CheckType::Use,
            SECP_R1,
            256,
            KeyAgreement::Raw(RawKeyAgreement::Ffdh)
        ));
    }

    #[test]
    fn raw_data_keys_of_whole_bytes_can_be_made_and_used_with_no_algorithm() {
        for check_type in [CheckType::Generate, CheckType::Import] {
            for bits in [8, 128, 256, 0xfff8] {
                assert!(
                    ok(check_type, Type::RawData, bits, Algorithm::None),
                    "{check_type:?} {bits}"
                );
            }
            for bits in [12, 0x1_0000] {
                assert!(!ok(check_type, Type::RawData, bits, Algorithm::None));
            }
        }
        assert!(ok(CheckType::Import, Type::RawData, 0, Algorithm::None));
        for alg in [
            Algorithm::from(Cipher::Ctr),
            Mac::FullLength(FullLengthMac::Hmac {
                hash_alg: Hash::Sha256,
            })
            .into(),
        ] {
            assert!(!ok(CheckType::Use, Type::RawData, 128, alg), "{alg:?}");
        }
    }

    #[test]
    fn a_key_without_algorithm_can_be_made_but_not_used() {
        assert!(ok(CheckType::Generate, Type::Aes, 256, Algorithm::None));
        assert!(!ok(CheckType::Use, Type::Aes, 256, Algorithm::None));
    }

    #[test]
    fn unsupported_hashes_and_key_types_are_not_supported() {
        #[allow(deprecated, reason = "checking a deprecated hash is refused")]
        let md2 = Hash::Md2;
        for hash in [md2, Hash::Sha512_224, Hash::Sha512_256] {
            let alg = AsymmetricSignature::RsaPss {
                hash_alg: hash.into(),
            };
            assert!(!ok(CheckType::Use, Type::RsaKeyPair, 2048, alg), "{hash:?}");
        }
        for key_type in [Type::Des, Type::Camellia, Type::Derive] {
            assert!(
                !ok(CheckType::Import, key_type, 0, Algorithm::None),
                "{key_type:?}"
            );
        }
    }
}
