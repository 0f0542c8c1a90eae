//! What this provider can do on this token, from the token's own mechanism
//! list: key types and sizes, the algorithms each key type can be used
//! with, and the capabilities offered. CanDoCrypto answers from here
//! (inside the checks every provider shares, `psec_provider::can_do_crypto`,
//! which are Parsec's) and keys are only created when it allows them, so
//! the two can not disagree.

use crate::Pkcs11Provider;
use crate::der;
use crate::token::Token;
use ::der::asn1::ObjectIdentifier;
use cryptoki::mechanism::rsa::PkcsMgfType;
use cryptoki::mechanism::{Mechanism, MechanismType};
use psec_interface::operations::can_do_crypto::CheckType;
use psec_interface::psa_crypto::types::algorithm::{
    Aead, AeadWithDefaultLengthTag, Algorithm, AsymmetricEncryption, AsymmetricSignature, Cipher,
    FullLengthMac, Hash, KeyAgreement, Mac, RawKeyAgreement, SignHash,
};
use psec_interface::psa_crypto::types::key::{Attributes, EccFamily, Type};
use psec_provider::{CanDoCrypto, ProviderError, Result, mac_length};

/// RSA key sizes this provider takes, whole bytes; the token may allow
/// fewer.
const RSA_BITS: std::ops::RangeInclusive<usize> = 1024..=4096;

/// HMAC key sizes this provider takes, whole bytes.
const HMAC_BITS: std::ops::RangeInclusive<usize> = 128..=4096;

/// The curves this provider takes: NIST P-256, P-384, P-521.
pub(crate) fn curve_params(key_type: Type, bits: usize) -> Option<ObjectIdentifier> {
    match key_type {
        Type::EccKeyPair {
            curve_family: EccFamily::SecpR1,
        }
        | Type::EccPublicKey {
            curve_family: EccFamily::SecpR1,
        } => match bits {
            256 => Some(der::P256),
            384 => Some(der::P384),
            521 => Some(der::P521),
            _ => None,
        },
        _ => None,
    }
}

/// The token's digest mechanism for `hash`, and the matching MGF1.
pub(crate) fn hash_mechanism(hash: Hash) -> Option<(MechanismType, PkcsMgfType)> {
    #[allow(deprecated, reason = "SHA-1 is supported; policy is the service's")]
    let sha1 = Hash::Sha1;
    Some(match hash {
        h if h == sha1 => (MechanismType::SHA1, PkcsMgfType::MGF1_SHA1),
        Hash::Sha224 => (MechanismType::SHA224, PkcsMgfType::MGF1_SHA224),
        Hash::Sha256 => (MechanismType::SHA256, PkcsMgfType::MGF1_SHA256),
        Hash::Sha384 => (MechanismType::SHA384, PkcsMgfType::MGF1_SHA384),
        Hash::Sha512 => (MechanismType::SHA512, PkcsMgfType::MGF1_SHA512),
        _ => return None,
    })
}

/// The token's digest mechanism for `hash`; NotSupported for a hash this
/// provider does not do.
pub(crate) fn digest_mechanism(hash: Hash) -> Result<Mechanism<'static>, ProviderError> {
    #[allow(deprecated, reason = "SHA-1 is supported; policy is the service's")]
    let sha1 = Hash::Sha1;
    Ok(match hash {
        h if h == sha1 => Mechanism::Sha1,
        Hash::Sha224 => Mechanism::Sha224,
        Hash::Sha256 => Mechanism::Sha256,
        Hash::Sha384 => Mechanism::Sha384,
        Hash::Sha512 => Mechanism::Sha512,
        other => {
            return Err(ProviderError::NotSupported(format!(
                "this PKCS#11 provider does not hash with {other:?}"
            )));
        }
    })
}

/// The token's HMAC mechanism for `hash`.
pub(crate) fn hmac_mechanism(hash: Hash) -> Option<MechanismType> {
    #[allow(deprecated, reason = "SHA-1 is supported; policy is the service's")]
    let sha1 = Hash::Sha1;
    Some(match hash {
        h if h == sha1 => MechanismType::SHA1_HMAC,
        Hash::Sha224 => MechanismType::SHA224_HMAC,
        Hash::Sha256 => MechanismType::SHA256_HMAC,
        Hash::Sha384 => MechanismType::SHA384_HMAC,
        Hash::Sha512 => MechanismType::SHA512_HMAC,
        _ => return None,
    })
}

/// The token's mechanism for an AES cipher mode.
pub(crate) fn cipher_mechanism(cipher: Cipher) -> Option<MechanismType> {
    match cipher {
        Cipher::EcbNoPadding => Some(MechanismType::AES_ECB),
        Cipher::CbcNoPadding => Some(MechanismType::AES_CBC),
        Cipher::CbcPkcs7 => Some(MechanismType::AES_CBC_PAD),
        Cipher::Ctr => Some(MechanismType::AES_CTR),
        _ => None,
    }
}

/// The tag length of an AES-GCM algorithm, if it is one.
pub(crate) fn gcm_tag_length(aead: Aead) -> Option<usize> {
    match aead {
        Aead::AeadWithDefaultLengthTag(AeadWithDefaultLengthTag::Gcm) => Some(16),
        Aead::AeadWithShortenedTag {
            aead_alg: AeadWithDefaultLengthTag::Gcm,
            tag_length,
        } if (4..=16).contains(&tag_length) => Some(tag_length),
        _ => None,
    }
}

/// The full-length HMAC hash and the MAC length of `mac`, if it is an
/// HMAC this provider does.
pub(crate) fn hmac_of(mac: Mac) -> Option<(Hash, usize)> {
    let full_length = |full| match full {
        FullLengthMac::Hmac { hash_alg } if hmac_mechanism(hash_alg).is_some() => {
            Some(hash_alg.hash_length())
        }
        _ => None,
    };
    match mac_length(mac, full_length)? {
        (FullLengthMac::Hmac { hash_alg }, length) => Some((hash_alg, length)),
        _ => None,
    }
}

/// The DER DigestInfo header put before a hash of `hash` for RSA PKCS#1
/// v1.5 signatures.
pub(crate) fn digest_info_prefix(hash: Hash) -> Option<&'static [u8]> {
    #[allow(deprecated, reason = "SHA-1 is supported; policy is the service's")]
    let sha1 = Hash::Sha1;
    Some(match hash {
        h if h == sha1 => &[
            0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04,
            0x14,
        ],
        Hash::Sha224 => &[
            0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x04, 0x05, 0x00, 0x04, 0x1c,
        ],
        Hash::Sha256 => &[
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x01, 0x05, 0x00, 0x04, 0x20,
        ],
        Hash::Sha384 => &[
            0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x02, 0x05, 0x00, 0x04, 0x30,
        ],
        Hash::Sha512 => &[
            0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x03, 0x05, 0x00, 0x04, 0x40,
        ],
        _ => return None,
    })
}

fn unsupported(what: impl std::fmt::Display) -> ProviderError {
    ProviderError::NotSupported(format!("this PKCS#11 token does not support {what}"))
}

fn is_rsa(key_type: Type) -> bool {
    matches!(key_type, Type::RsaKeyPair | Type::RsaPublicKey)
}

/// What the token's mechanisms allow.
pub(crate) struct Support<'a> {
    pub(crate) token: &'a Token,
}

impl Support<'_> {
    /// Whether the token signs, verifies, encrypts or decrypts in any way
    /// this provider uses.
    pub(crate) fn can_sign(&self) -> bool {
        [
            MechanismType::RSA_PKCS,
            MechanismType::RSA_PKCS_PSS,
            MechanismType::ECDSA,
        ]
        .into_iter()
        .any(|m| self.token.has(m))
    }

    pub(crate) fn can_encrypt(&self) -> bool {
        self.token.has(MechanismType::RSA_PKCS) || self.token.has(MechanismType::RSA_PKCS_OAEP)
    }

    pub(crate) fn can_cipher(&self) -> bool {
        [
            MechanismType::AES_ECB,
            MechanismType::AES_CBC,
            MechanismType::AES_CBC_PAD,
            MechanismType::AES_CTR,
        ]
        .into_iter()
        .any(|m| self.token.has(m))
    }

    pub(crate) fn can_aead(&self) -> bool {
        self.token.has(MechanismType::AES_GCM)
    }

    pub(crate) fn can_mac(&self) -> bool {
        [Hash::Sha256, Hash::Sha384, Hash::Sha512, Hash::Sha224]
            .into_iter()
            .filter_map(hmac_mechanism)
            .any(|m| self.token.has(m))
    }

    pub(crate) fn can_hash(&self) -> bool {
        [Hash::Sha256, Hash::Sha384, Hash::Sha512, Hash::Sha224]
            .into_iter()
            .any(|hash| self.digests(hash))
    }

    pub(crate) fn can_agree(&self) -> bool {
        self.token.has(MechanismType::ECDH1_DERIVE)
    }

    pub(crate) fn can_make_keys(&self) -> bool {
        self.token.has(MechanismType::RSA_PKCS_KEY_PAIR_GEN)
            || self.token.has(MechanismType::ECC_KEY_PAIR_GEN)
    }

    /// Whether the token can compute `hash` (to sign a message with it).
    pub(crate) fn digests(&self, hash: Hash) -> bool {
        hash_mechanism(hash).is_some_and(|(mechanism, _)| self.token.has(mechanism))
    }

    /// `Ok` if this provider can do `check` for a key with `attributes`.
    /// A size of 0 (any size) is taken only to import; as in Parsec's
    /// PKCS#11 provider, a key to use must have its size (the token's
    /// mechanisms have a range of key sizes), and an elliptic curve key
    /// always (its size names its curve).
    pub(crate) fn check(&self, check: CheckType, attributes: &Attributes) -> Result<()> {
        let (bits_needed, alg_needed) = match check {
            CheckType::Use => (true, true),
            CheckType::Generate => (true, false),
            CheckType::Import => (false, false),
            _ => return Err(unsupported("key derivation")),
        };
        let key_type = attributes.key_type;
        if check == CheckType::Generate && key_type.is_public_key() {
            return Err(unsupported("generating a lone public key"));
        }
        self.key_supported(key_type, attributes.bits, bits_needed, check)?;
        let alg = attributes.policy.permitted_algorithms;
        if alg == Algorithm::None && !alg_needed {
            return Ok(());
        }
        if self.algorithm_supported(key_type, alg)
            && self.hmac_size_ok(key_type, attributes.bits, alg)
        {
            Ok(())
        } else {
            Err(unsupported(format_args!(
                "{alg:?} with keys of type {key_type:?}"
            )))
        }
    }

    fn key_supported(
        &self,
        key_type: Type,
        bits: usize,
        bits_needed: bool,
        check: CheckType,
    ) -> Result<()> {
        let any_size = bits == 0 && !bits_needed;
        let ok = match key_type {
            Type::RsaKeyPair | Type::RsaPublicKey => {
                let generating = check == CheckType::Generate;
                let size_ok = any_size || (bits % 8 == 0 && RSA_BITS.contains(&bits));
                let token_ok = if generating {
                    self.token
                        .mechanism(MechanismType::RSA_PKCS_KEY_PAIR_GEN)
                        .is_some_and(|info| {
                            (info.min_key_size()..=info.max_key_size()).contains(&bits)
                        })
                } else {
                    self.token.has(MechanismType::RSA_PKCS)
                        || self.token.has(MechanismType::RSA_PKCS_PSS)
                };
                size_ok && token_ok
            }
            Type::EccKeyPair { .. } | Type::EccPublicKey { .. } => {
                let curve_ok = curve_params(key_type, bits).is_some();
                // A key pair is imported from its private scalar: the
                // public point is computed in software for these curves.
                let token_ok = match check {
                    CheckType::Generate => self.token.has(MechanismType::ECC_KEY_PAIR_GEN),
                    _ => self.token.has(MechanismType::ECDSA) || self.can_agree(),
                };
                curve_ok && token_ok
            }
            Type::Aes => {
                let size_ok = any_size || [128, 192, 256].contains(&bits);
                let token_ok = match check {
                    CheckType::Generate => self.token.has(MechanismType::AES_KEY_GEN),
                    _ => self.can_cipher() || self.can_aead(),
                };
                size_ok && token_ok
            }
            Type::Hmac => {
                let size_ok = any_size || (bits % 8 == 0 && HMAC_BITS.contains(&bits));
                let token_ok = match check {
                    CheckType::Generate => self.token.has(MechanismType::GENERIC_SECRET_KEY_GEN),
                    _ => self.can_mac(),
                };
                size_ok && token_ok
            }
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(unsupported(format_args!(
                "{check:?} of {bits}-bit keys of type {key_type:?}"
            )))
        }
    }

    /// Whether an HMAC key of `bits` (0: not known yet) is within the
    /// key sizes the token's HMAC mechanism takes (SoftHSM2 wants at least
    /// the hash length).
    fn hmac_size_ok(&self, key_type: Type, bits: usize, alg: Algorithm) -> bool {
        let Algorithm::Mac(mac) = alg else {
            return true;
        };
        if key_type != Type::Hmac || bits == 0 {
            return true;
        }
        let Some(info) = hmac_of(mac)
            .and_then(|(hash, _)| hmac_mechanism(hash))
            .and_then(|mechanism| self.token.mechanism(mechanism))
        else {
            return false;
        };
        let bytes = bits / 8;
        bytes >= info.min_key_size() && (info.max_key_size() == 0 || bytes <= info.max_key_size())
    }

    fn sign_hash_ok(&self, hash: SignHash, also_digest: bool) -> bool {
        match hash {
            SignHash::Any => true,
            SignHash::Specific(hash) => {
                digest_info_prefix(hash).is_some() && (!also_digest || self.digests(hash))
            }
        }
    }

    /// Whether keys of `key_type` can be used with `alg` on this token.
    pub(crate) fn algorithm_supported(&self, key_type: Type, alg: Algorithm) -> bool {
        match alg {
            Algorithm::AsymmetricSignature(sign) => self.signature_supported(key_type, sign),
            Algorithm::AsymmetricEncryption(encrypt) => {
                self.encryption_supported(key_type, encrypt)
            }
            Algorithm::Cipher(cipher) => {
                key_type == Type::Aes && cipher_mechanism(cipher).is_some_and(|m| self.token.has(m))
            }
            Algorithm::Aead(aead) => {
                key_type == Type::Aes
                    && gcm_tag_length(aead).is_some()
                    && self.token.has(MechanismType::AES_GCM)
            }
            Algorithm::Mac(mac) => {
                key_type == Type::Hmac
                    && hmac_of(mac).is_some_and(|(hash, _)| {
                        hmac_mechanism(hash).is_some_and(|m| self.token.has(m))
                    })
            }
            Algorithm::KeyAgreement(KeyAgreement::Raw(RawKeyAgreement::Ecdh)) => {
                key_type.is_ecc_key_pair() && self.can_agree()
            }
            _ => false,
        }
    }

    /// Whether `sign` works with keys of `key_type`.
    pub(crate) fn signature_supported(&self, key_type: Type, sign: AsymmetricSignature) -> bool {
        match sign {
            AsymmetricSignature::RsaPkcs1v15Sign { hash_alg } => {
                is_rsa(key_type)
                    && self.token.has(MechanismType::RSA_PKCS)
                    && self.sign_hash_ok(hash_alg, false)
            }
            AsymmetricSignature::RsaPkcs1v15SignRaw => {
                is_rsa(key_type) && self.token.has(MechanismType::RSA_PKCS)
            }
            AsymmetricSignature::RsaPss { hash_alg } => {
                is_rsa(key_type)
                    && self.token.has(MechanismType::RSA_PKCS_PSS)
                    && self.sign_hash_ok(hash_alg, true)
            }
            AsymmetricSignature::Ecdsa { hash_alg } => {
                (key_type.is_ecc_key_pair() || key_type.is_ecc_public_key())
                    && self.token.has(MechanismType::ECDSA)
                    && self.sign_hash_ok(hash_alg, false)
            }
            AsymmetricSignature::EcdsaAny => {
                (key_type.is_ecc_key_pair() || key_type.is_ecc_public_key())
                    && self.token.has(MechanismType::ECDSA)
            }
            _ => false,
        }
    }

    /// Whether `encrypt` works with keys of `key_type`.
    pub(crate) fn encryption_supported(
        &self,
        key_type: Type,
        encrypt: AsymmetricEncryption,
    ) -> bool {
        match encrypt {
            AsymmetricEncryption::RsaPkcs1v15Crypt => {
                is_rsa(key_type) && self.token.has(MechanismType::RSA_PKCS)
            }
            AsymmetricEncryption::RsaOaep { hash_alg } => {
                is_rsa(key_type)
                    && hash_mechanism(hash_alg).is_some_and(|(hash, _)| self.token.oaep_takes(hash))
            }
        }
    }
}

/// This provider's own checks; `psec_provider::can_do_crypto` puts the
/// checks every provider shares around them.
impl CanDoCrypto for Pkcs11Provider {
    fn generate_check(&self, attributes: &Attributes) -> Result<()> {
        self.support().check(CheckType::Generate, attributes)
    }

    fn import_check(&self, attributes: &Attributes) -> Result<()> {
        self.support().check(CheckType::Import, attributes)
    }

    fn use_check(&self, attributes: &Attributes) -> Result<()> {
        self.support().check(CheckType::Use, attributes)
    }
}
