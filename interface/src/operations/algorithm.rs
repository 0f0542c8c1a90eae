//! Wire form of the PSA algorithm types (`psa_algorithm.proto`).
//!
//! The native types are psa-crypto's. Decoding refuses every value the
//! schema marks as "none" or does not define, with
//! [`ResponseStatus::InvalidEncoding`], so a provider never sees an algorithm
//! that the client did not really ask for.
#![allow(deprecated)] // MD2, MD4, MD5 and SHA-1 are on the wire; policy is the service's.

use crate::ResponseStatus;
use crate::generated::psa_algorithm as wire;
use psa_crypto::types::algorithm::{
    Aead, AeadWithDefaultLengthTag, Algorithm, AsymmetricEncryption, AsymmetricSignature, Cipher,
    FullLengthMac, Hash, KeyAgreement, KeyDerivation, Mac, RawKeyAgreement, SignHash,
};
use wire::algorithm as w;

const BAD: ResponseStatus = ResponseStatus::InvalidEncoding;

/// A message field the schema allows to be absent but a valid request must
/// have.
pub(crate) fn required<T>(field: Option<T>) -> Result<T, ResponseStatus> {
    field.ok_or(BAD)
}

/// A length on the wire (`uint32`) as a native `usize`.
pub(crate) fn length_from_wire(length: u32) -> Result<usize, ResponseStatus> {
    usize::try_from(length).map_err(|_| BAD)
}

/// A native length as the wire's `uint32`.
pub(crate) fn length_to_wire(length: usize) -> Result<u32, ResponseStatus> {
    u32::try_from(length).map_err(|_| BAD)
}

/// Hash identifiers.
pub(crate) fn hash_from_wire(value: i32) -> Result<Hash, ResponseStatus> {
    Ok(match w::Hash::try_from(value).map_err(|_| BAD)? {
        w::Hash::None => return Err(BAD),
        w::Hash::Md2 => Hash::Md2,
        w::Hash::Md4 => Hash::Md4,
        w::Hash::Md5 => Hash::Md5,
        w::Hash::Ripemd160 => Hash::Ripemd160,
        w::Hash::Sha1 => Hash::Sha1,
        w::Hash::Sha224 => Hash::Sha224,
        w::Hash::Sha256 => Hash::Sha256,
        w::Hash::Sha384 => Hash::Sha384,
        w::Hash::Sha512 => Hash::Sha512,
        w::Hash::Sha512224 => Hash::Sha512_224,
        w::Hash::Sha512256 => Hash::Sha512_256,
        w::Hash::Sha3224 => Hash::Sha3_224,
        w::Hash::Sha3256 => Hash::Sha3_256,
        w::Hash::Sha3384 => Hash::Sha3_384,
        w::Hash::Sha3512 => Hash::Sha3_512,
    })
}

/// Hash identifiers.
pub(crate) fn hash_to_wire(hash: Hash) -> i32 {
    let value = match hash {
        Hash::Md2 => w::Hash::Md2,
        Hash::Md4 => w::Hash::Md4,
        Hash::Md5 => w::Hash::Md5,
        Hash::Ripemd160 => w::Hash::Ripemd160,
        Hash::Sha1 => w::Hash::Sha1,
        Hash::Sha224 => w::Hash::Sha224,
        Hash::Sha256 => w::Hash::Sha256,
        Hash::Sha384 => w::Hash::Sha384,
        Hash::Sha512 => w::Hash::Sha512,
        Hash::Sha512_224 => w::Hash::Sha512224,
        Hash::Sha512_256 => w::Hash::Sha512256,
        Hash::Sha3_224 => w::Hash::Sha3224,
        Hash::Sha3_256 => w::Hash::Sha3256,
        Hash::Sha3_384 => w::Hash::Sha3384,
        Hash::Sha3_512 => w::Hash::Sha3512,
    };
    value.into()
}

pub(crate) fn cipher_from_wire(value: i32) -> Result<Cipher, ResponseStatus> {
    Ok(match w::Cipher::try_from(value).map_err(|_| BAD)? {
        w::Cipher::None => return Err(BAD),
        w::Cipher::StreamCipher => Cipher::StreamCipher,
        w::Cipher::Ctr => Cipher::Ctr,
        w::Cipher::Cfb => Cipher::Cfb,
        w::Cipher::Ofb => Cipher::Ofb,
        w::Cipher::Xts => Cipher::Xts,
        w::Cipher::EcbNoPadding => Cipher::EcbNoPadding,
        w::Cipher::CbcNoPadding => Cipher::CbcNoPadding,
        w::Cipher::CbcPkcs7 => Cipher::CbcPkcs7,
    })
}

pub(crate) fn cipher_to_wire(cipher: Cipher) -> i32 {
    let value = match cipher {
        Cipher::StreamCipher => w::Cipher::StreamCipher,
        Cipher::Ctr => w::Cipher::Ctr,
        Cipher::Cfb => w::Cipher::Cfb,
        Cipher::Ofb => w::Cipher::Ofb,
        Cipher::Xts => w::Cipher::Xts,
        Cipher::EcbNoPadding => w::Cipher::EcbNoPadding,
        Cipher::CbcNoPadding => w::Cipher::CbcNoPadding,
        Cipher::CbcPkcs7 => w::Cipher::CbcPkcs7,
    };
    value.into()
}

pub(crate) fn raw_key_agreement_from_wire(value: i32) -> Result<RawKeyAgreement, ResponseStatus> {
    match w::key_agreement::Raw::try_from(value).map_err(|_| BAD)? {
        w::key_agreement::Raw::None => Err(BAD),
        w::key_agreement::Raw::Ffdh => Ok(RawKeyAgreement::Ffdh),
        w::key_agreement::Raw::Ecdh => Ok(RawKeyAgreement::Ecdh),
    }
}

pub(crate) fn raw_key_agreement_to_wire(alg: RawKeyAgreement) -> i32 {
    match alg {
        RawKeyAgreement::Ffdh => w::key_agreement::Raw::Ffdh.into(),
        RawKeyAgreement::Ecdh => w::key_agreement::Raw::Ecdh.into(),
    }
}

fn aead_default_tag_from_wire(value: i32) -> Result<AeadWithDefaultLengthTag, ResponseStatus> {
    use w::aead::AeadWithDefaultLengthTag as W;
    match W::try_from(value).map_err(|_| BAD)? {
        W::None => Err(BAD),
        W::Ccm => Ok(AeadWithDefaultLengthTag::Ccm),
        W::Gcm => Ok(AeadWithDefaultLengthTag::Gcm),
        W::Chacha20Poly1305 => Ok(AeadWithDefaultLengthTag::Chacha20Poly1305),
    }
}

fn aead_default_tag_to_wire(alg: AeadWithDefaultLengthTag) -> i32 {
    use w::aead::AeadWithDefaultLengthTag as W;
    let value = match alg {
        AeadWithDefaultLengthTag::Ccm => W::Ccm,
        AeadWithDefaultLengthTag::Gcm => W::Gcm,
        AeadWithDefaultLengthTag::Chacha20Poly1305 => W::Chacha20Poly1305,
    };
    value.into()
}

impl TryFrom<w::Aead> for Aead {
    type Error = ResponseStatus;

    fn try_from(aead: w::Aead) -> Result<Self, Self::Error> {
        Ok(match required(aead.variant)? {
            w::aead::Variant::AeadWithDefaultLengthTag(alg) => {
                Aead::AeadWithDefaultLengthTag(aead_default_tag_from_wire(alg)?)
            }
            w::aead::Variant::AeadWithShortenedTag(short) => Aead::AeadWithShortenedTag {
                aead_alg: aead_default_tag_from_wire(short.aead_alg)?,
                tag_length: length_from_wire(short.tag_length)?,
            },
        })
    }
}

impl TryFrom<Aead> for w::Aead {
    type Error = ResponseStatus;

    fn try_from(aead: Aead) -> Result<Self, Self::Error> {
        let variant = match aead {
            Aead::AeadWithDefaultLengthTag(alg) => {
                w::aead::Variant::AeadWithDefaultLengthTag(aead_default_tag_to_wire(alg))
            }
            Aead::AeadWithShortenedTag {
                aead_alg,
                tag_length,
            } => w::aead::Variant::AeadWithShortenedTag(w::aead::AeadWithShortenedTag {
                aead_alg: aead_default_tag_to_wire(aead_alg),
                tag_length: length_to_wire(tag_length)?,
            }),
        };
        Ok(w::Aead {
            variant: Some(variant),
        })
    }
}

impl TryFrom<w::mac::FullLength> for FullLengthMac {
    type Error = ResponseStatus;

    fn try_from(mac: w::mac::FullLength) -> Result<Self, Self::Error> {
        use w::mac::full_length::Variant as V;
        Ok(match required(mac.variant)? {
            V::Hmac(hmac) => FullLengthMac::Hmac {
                hash_alg: hash_from_wire(hmac.hash_alg)?,
            },
            V::CbcMac(_) => FullLengthMac::CbcMac,
            V::Cmac(_) => FullLengthMac::Cmac,
        })
    }
}

impl From<FullLengthMac> for w::mac::FullLength {
    fn from(mac: FullLengthMac) -> Self {
        use w::mac::full_length::{self as f, Variant as V};
        let variant = match mac {
            FullLengthMac::Hmac { hash_alg } => V::Hmac(f::Hmac {
                hash_alg: hash_to_wire(hash_alg),
            }),
            FullLengthMac::CbcMac => V::CbcMac(f::CbcMac {}),
            FullLengthMac::Cmac => V::Cmac(f::Cmac {}),
        };
        w::mac::FullLength {
            variant: Some(variant),
        }
    }
}

impl TryFrom<w::Mac> for Mac {
    type Error = ResponseStatus;

    fn try_from(mac: w::Mac) -> Result<Self, Self::Error> {
        Ok(match required(mac.variant)? {
            w::mac::Variant::FullLength(full) => Mac::FullLength(full.try_into()?),
            w::mac::Variant::Truncated(truncated) => Mac::Truncated {
                mac_alg: required(truncated.mac_alg)?.try_into()?,
                mac_length: length_from_wire(truncated.mac_length)?,
            },
        })
    }
}

impl TryFrom<Mac> for w::Mac {
    type Error = ResponseStatus;

    fn try_from(mac: Mac) -> Result<Self, Self::Error> {
        let variant = match mac {
            Mac::FullLength(full) => w::mac::Variant::FullLength(full.into()),
            Mac::Truncated {
                mac_alg,
                mac_length,
            } => w::mac::Variant::Truncated(w::mac::Truncated {
                mac_alg: Some(mac_alg.into()),
                mac_length: length_to_wire(mac_length)?,
            }),
        };
        Ok(w::Mac {
            variant: Some(variant),
        })
    }
}

fn sign_hash_from_wire(
    hash: Option<w::asymmetric_signature::SignHash>,
) -> Result<SignHash, ResponseStatus> {
    use w::asymmetric_signature::sign_hash::Variant as V;
    match required(required(hash)?.variant)? {
        V::Any(_) => Ok(SignHash::Any),
        V::Specific(hash) => Ok(SignHash::Specific(hash_from_wire(hash)?)),
    }
}

fn sign_hash_to_wire(hash: SignHash) -> Option<w::asymmetric_signature::SignHash> {
    use w::asymmetric_signature::sign_hash::{Any, Variant as V};
    let variant = match hash {
        SignHash::Any => V::Any(Any {}),
        SignHash::Specific(hash) => V::Specific(hash_to_wire(hash)),
    };
    Some(w::asymmetric_signature::SignHash {
        variant: Some(variant),
    })
}

impl TryFrom<w::AsymmetricSignature> for AsymmetricSignature {
    type Error = ResponseStatus;

    fn try_from(alg: w::AsymmetricSignature) -> Result<Self, Self::Error> {
        use w::asymmetric_signature::Variant as V;
        Ok(match required(alg.variant)? {
            V::RsaPkcs1v15Sign(a) => AsymmetricSignature::RsaPkcs1v15Sign {
                hash_alg: sign_hash_from_wire(a.hash_alg)?,
            },
            V::RsaPkcs1v15SignRaw(_) => AsymmetricSignature::RsaPkcs1v15SignRaw,
            V::RsaPss(a) => AsymmetricSignature::RsaPss {
                hash_alg: sign_hash_from_wire(a.hash_alg)?,
            },
            V::Ecdsa(a) => AsymmetricSignature::Ecdsa {
                hash_alg: sign_hash_from_wire(a.hash_alg)?,
            },
            V::EcdsaAny(_) => AsymmetricSignature::EcdsaAny,
            V::DeterministicEcdsa(a) => AsymmetricSignature::DeterministicEcdsa {
                hash_alg: sign_hash_from_wire(a.hash_alg)?,
            },
        })
    }
}

impl From<AsymmetricSignature> for w::AsymmetricSignature {
    fn from(alg: AsymmetricSignature) -> Self {
        use w::asymmetric_signature::{self as s, Variant as V};
        let variant = match alg {
            AsymmetricSignature::RsaPkcs1v15Sign { hash_alg } => {
                V::RsaPkcs1v15Sign(s::RsaPkcs1v15Sign {
                    hash_alg: sign_hash_to_wire(hash_alg),
                })
            }
            AsymmetricSignature::RsaPkcs1v15SignRaw => {
                V::RsaPkcs1v15SignRaw(s::RsaPkcs1v15SignRaw {})
            }
            AsymmetricSignature::RsaPss { hash_alg } => V::RsaPss(s::RsaPss {
                hash_alg: sign_hash_to_wire(hash_alg),
            }),
            AsymmetricSignature::Ecdsa { hash_alg } => V::Ecdsa(s::Ecdsa {
                hash_alg: sign_hash_to_wire(hash_alg),
            }),
            AsymmetricSignature::EcdsaAny => V::EcdsaAny(s::EcdsaAny {}),
            AsymmetricSignature::DeterministicEcdsa { hash_alg } => {
                V::DeterministicEcdsa(s::DeterministicEcdsa {
                    hash_alg: sign_hash_to_wire(hash_alg),
                })
            }
        };
        w::AsymmetricSignature {
            variant: Some(variant),
        }
    }
}

impl TryFrom<w::AsymmetricEncryption> for AsymmetricEncryption {
    type Error = ResponseStatus;

    fn try_from(alg: w::AsymmetricEncryption) -> Result<Self, Self::Error> {
        use w::asymmetric_encryption::Variant as V;
        Ok(match required(alg.variant)? {
            V::RsaPkcs1v15Crypt(_) => AsymmetricEncryption::RsaPkcs1v15Crypt,
            V::RsaOaep(oaep) => AsymmetricEncryption::RsaOaep {
                hash_alg: hash_from_wire(oaep.hash_alg)?,
            },
        })
    }
}

impl From<AsymmetricEncryption> for w::AsymmetricEncryption {
    fn from(alg: AsymmetricEncryption) -> Self {
        use w::asymmetric_encryption::{self as e, Variant as V};
        let variant = match alg {
            AsymmetricEncryption::RsaPkcs1v15Crypt => V::RsaPkcs1v15Crypt(e::RsaPkcs1v15Crypt {}),
            AsymmetricEncryption::RsaOaep { hash_alg } => V::RsaOaep(e::RsaOaep {
                hash_alg: hash_to_wire(hash_alg),
            }),
        };
        w::AsymmetricEncryption {
            variant: Some(variant),
        }
    }
}

impl TryFrom<w::KeyDerivation> for KeyDerivation {
    type Error = ResponseStatus;

    fn try_from(alg: w::KeyDerivation) -> Result<Self, Self::Error> {
        use w::key_derivation::Variant as V;
        Ok(match required(alg.variant)? {
            V::Hkdf(a) => KeyDerivation::Hkdf {
                hash_alg: hash_from_wire(a.hash_alg)?,
            },
            V::Tls12Prf(a) => KeyDerivation::Tls12Prf {
                hash_alg: hash_from_wire(a.hash_alg)?,
            },
            V::Tls12PskToMs(a) => KeyDerivation::Tls12PskToMs {
                hash_alg: hash_from_wire(a.hash_alg)?,
            },
        })
    }
}

impl From<KeyDerivation> for w::KeyDerivation {
    fn from(alg: KeyDerivation) -> Self {
        use w::key_derivation::{self as d, Variant as V};
        let variant = match alg {
            KeyDerivation::Hkdf { hash_alg } => V::Hkdf(d::Hkdf {
                hash_alg: hash_to_wire(hash_alg),
            }),
            KeyDerivation::Tls12Prf { hash_alg } => V::Tls12Prf(d::Tls12Prf {
                hash_alg: hash_to_wire(hash_alg),
            }),
            KeyDerivation::Tls12PskToMs { hash_alg } => V::Tls12PskToMs(d::Tls12PskToMs {
                hash_alg: hash_to_wire(hash_alg),
            }),
        };
        w::KeyDerivation {
            variant: Some(variant),
        }
    }
}

impl TryFrom<w::KeyAgreement> for KeyAgreement {
    type Error = ResponseStatus;

    fn try_from(alg: w::KeyAgreement) -> Result<Self, Self::Error> {
        use w::key_agreement::Variant as V;
        Ok(match required(alg.variant)? {
            V::Raw(raw) => KeyAgreement::Raw(raw_key_agreement_from_wire(raw)?),
            V::WithKeyDerivation(with) => KeyAgreement::WithKeyDerivation {
                ka_alg: raw_key_agreement_from_wire(with.ka_alg)?,
                kdf_alg: required(with.kdf_alg)?.try_into()?,
            },
        })
    }
}

impl From<KeyAgreement> for w::KeyAgreement {
    fn from(alg: KeyAgreement) -> Self {
        use w::key_agreement::Variant as V;
        let variant = match alg {
            KeyAgreement::Raw(raw) => V::Raw(raw_key_agreement_to_wire(raw)),
            KeyAgreement::WithKeyDerivation { ka_alg, kdf_alg } => {
                V::WithKeyDerivation(w::key_agreement::WithKeyDerivation {
                    ka_alg: raw_key_agreement_to_wire(ka_alg),
                    kdf_alg: Some(kdf_alg.into()),
                })
            }
        };
        w::KeyAgreement {
            variant: Some(variant),
        }
    }
}

impl TryFrom<wire::Algorithm> for Algorithm {
    type Error = ResponseStatus;

    fn try_from(alg: wire::Algorithm) -> Result<Self, Self::Error> {
        use w::Variant as V;
        Ok(match required(alg.variant)? {
            V::None(_) => Algorithm::None,
            V::Hash(hash) => Algorithm::Hash(hash_from_wire(hash)?),
            V::Mac(mac) => Algorithm::Mac(mac.try_into()?),
            V::Cipher(cipher) => Algorithm::Cipher(cipher_from_wire(cipher)?),
            V::Aead(aead) => Algorithm::Aead(aead.try_into()?),
            V::AsymmetricSignature(sign) => Algorithm::AsymmetricSignature(sign.try_into()?),
            V::AsymmetricEncryption(encrypt) => {
                Algorithm::AsymmetricEncryption(encrypt.try_into()?)
            }
            V::KeyAgreement(agree) => Algorithm::KeyAgreement(agree.try_into()?),
            V::KeyDerivation(derive) => Algorithm::KeyDerivation(derive.try_into()?),
        })
    }
}

impl TryFrom<Algorithm> for wire::Algorithm {
    type Error = ResponseStatus;

    fn try_from(alg: Algorithm) -> Result<Self, Self::Error> {
        use w::Variant as V;
        let variant = match alg {
            Algorithm::None => V::None(w::None {}),
            Algorithm::Hash(hash) => V::Hash(hash_to_wire(hash)),
            Algorithm::Mac(mac) => V::Mac(mac.try_into()?),
            Algorithm::Cipher(cipher) => V::Cipher(cipher_to_wire(cipher)),
            Algorithm::Aead(aead) => V::Aead(aead.try_into()?),
            Algorithm::AsymmetricSignature(sign) => V::AsymmetricSignature(sign.into()),
            Algorithm::AsymmetricEncryption(encrypt) => V::AsymmetricEncryption(encrypt.into()),
            Algorithm::KeyAgreement(agree) => V::KeyAgreement(agree.into()),
            Algorithm::KeyDerivation(derive) => V::KeyDerivation(derive.into()),
        };
        Ok(wire::Algorithm {
            variant: Some(variant),
        })
    }
}
