//! Wire form of key attributes (`psa_key_attributes.proto`).
//!
//! The wire carries type, size and policy. It has no lifetime: keys made
//! through the service are persistent, so decoding sets
//! [`Lifetime::Persistent`]. As in the PSA Crypto API, permission to sign or
//! verify a hash implies permission to sign or verify a message.
#![allow(deprecated)] // DES, ARC4 and weak curves are on the wire; policy is the service's.

use super::algorithm::{length_from_wire, length_to_wire, required};
use crate::ResponseStatus;
use crate::generated::psa_key_attributes as wire;
use psa_crypto::types::key::{Attributes, DhFamily, EccFamily, Lifetime, Policy, Type, UsageFlags};
use wire::key_type as kt;

const BAD: ResponseStatus = ResponseStatus::InvalidEncoding;

fn ecc_family_from_wire(value: i32) -> Result<EccFamily, ResponseStatus> {
    use kt::EccFamily as W;
    Ok(match W::try_from(value).map_err(|_| BAD)? {
        W::None => return Err(BAD),
        W::SecpK1 => EccFamily::SecpK1,
        W::SecpR1 => EccFamily::SecpR1,
        W::SecpR2 => EccFamily::SecpR2,
        W::SectK1 => EccFamily::SectK1,
        W::SectR1 => EccFamily::SectR1,
        W::SectR2 => EccFamily::SectR2,
        W::BrainpoolPR1 => EccFamily::BrainpoolPR1,
        W::Frp => EccFamily::Frp,
        W::Montgomery => EccFamily::Montgomery,
    })
}

fn ecc_family_to_wire(family: EccFamily) -> i32 {
    use kt::EccFamily as W;
    let value = match family {
        EccFamily::SecpK1 => W::SecpK1,
        EccFamily::SecpR1 => W::SecpR1,
        EccFamily::SecpR2 => W::SecpR2,
        EccFamily::SectK1 => W::SectK1,
        EccFamily::SectR1 => W::SectR1,
        EccFamily::SectR2 => W::SectR2,
        EccFamily::BrainpoolPR1 => W::BrainpoolPR1,
        EccFamily::Frp => W::Frp,
        EccFamily::Montgomery => W::Montgomery,
    };
    value.into()
}

fn dh_family_from_wire(value: i32) -> Result<DhFamily, ResponseStatus> {
    match kt::DhFamily::try_from(value).map_err(|_| BAD)? {
        kt::DhFamily::Rfc7919 => Ok(DhFamily::Rfc7919),
    }
}

fn dh_family_to_wire(family: DhFamily) -> i32 {
    match family {
        DhFamily::Rfc7919 => kt::DhFamily::Rfc7919.into(),
    }
}

impl TryFrom<wire::KeyType> for Type {
    type Error = ResponseStatus;

    fn try_from(key_type: wire::KeyType) -> Result<Self, Self::Error> {
        use kt::Variant as V;
        Ok(match required(key_type.variant)? {
            V::RawData(_) => Type::RawData,
            V::Hmac(_) => Type::Hmac,
            V::Derive(_) => Type::Derive,
            V::Aes(_) => Type::Aes,
            V::Des(_) => Type::Des,
            V::Camellia(_) => Type::Camellia,
            V::Arc4(_) => Type::Arc4,
            V::Chacha20(_) => Type::Chacha20,
            V::RsaPublicKey(_) => Type::RsaPublicKey,
            V::RsaKeyPair(_) => Type::RsaKeyPair,
            V::EccKeyPair(k) => Type::EccKeyPair {
                curve_family: ecc_family_from_wire(k.curve_family)?,
            },
            V::EccPublicKey(k) => Type::EccPublicKey {
                curve_family: ecc_family_from_wire(k.curve_family)?,
            },
            V::DhKeyPair(k) => Type::DhKeyPair {
                group_family: dh_family_from_wire(k.group_family)?,
            },
            V::DhPublicKey(k) => Type::DhPublicKey {
                group_family: dh_family_from_wire(k.group_family)?,
            },
        })
    }
}

impl From<Type> for wire::KeyType {
    fn from(key_type: Type) -> Self {
        use kt::Variant as V;
        let variant = match key_type {
            Type::RawData => V::RawData(kt::RawData {}),
            Type::Hmac => V::Hmac(kt::Hmac {}),
            Type::Derive => V::Derive(kt::Derive {}),
            Type::Aes => V::Aes(kt::Aes {}),
            Type::Des => V::Des(kt::Des {}),
            Type::Camellia => V::Camellia(kt::Camellia {}),
            Type::Arc4 => V::Arc4(kt::Arc4 {}),
            Type::Chacha20 => V::Chacha20(kt::Chacha20 {}),
            Type::RsaPublicKey => V::RsaPublicKey(kt::RsaPublicKey {}),
            Type::RsaKeyPair => V::RsaKeyPair(kt::RsaKeyPair {}),
            Type::EccKeyPair { curve_family } => V::EccKeyPair(kt::EccKeyPair {
                curve_family: ecc_family_to_wire(curve_family),
            }),
            Type::EccPublicKey { curve_family } => V::EccPublicKey(kt::EccPublicKey {
                curve_family: ecc_family_to_wire(curve_family),
            }),
            Type::DhKeyPair { group_family } => V::DhKeyPair(kt::DhKeyPair {
                group_family: dh_family_to_wire(group_family),
            }),
            Type::DhPublicKey { group_family } => V::DhPublicKey(kt::DhPublicKey {
                group_family: dh_family_to_wire(group_family),
            }),
        };
        wire::KeyType {
            variant: Some(variant),
        }
    }
}

impl From<wire::UsageFlags> for UsageFlags {
    fn from(flags: wire::UsageFlags) -> Self {
        let mut usage = UsageFlags::default();
        type Setter = fn(&mut UsageFlags) -> &mut UsageFlags;
        let setters: [(bool, Setter); 10] = [
            (flags.export, UsageFlags::set_export),
            (flags.copy, UsageFlags::set_copy),
            (flags.cache, UsageFlags::set_cache),
            (flags.encrypt, UsageFlags::set_encrypt),
            (flags.decrypt, UsageFlags::set_decrypt),
            (flags.sign_message, UsageFlags::set_sign_message),
            (flags.verify_message, UsageFlags::set_verify_message),
            (flags.sign_hash, UsageFlags::set_sign_hash),
            (flags.verify_hash, UsageFlags::set_verify_hash),
            (flags.derive, UsageFlags::set_derive),
        ];
        for (wanted, set) in setters {
            if wanted {
                let _ = set(&mut usage);
            }
        }
        usage
    }
}

impl From<UsageFlags> for wire::UsageFlags {
    fn from(usage: UsageFlags) -> Self {
        wire::UsageFlags {
            export: usage.export(),
            copy: usage.copy(),
            cache: usage.cache(),
            encrypt: usage.encrypt(),
            decrypt: usage.decrypt(),
            sign_message: usage.sign_message(),
            verify_message: usage.verify_message(),
            sign_hash: usage.sign_hash(),
            verify_hash: usage.verify_hash(),
            derive: usage.derive(),
        }
    }
}

impl TryFrom<wire::KeyPolicy> for Policy {
    type Error = ResponseStatus;

    fn try_from(policy: wire::KeyPolicy) -> Result<Self, Self::Error> {
        Ok(Policy {
            usage_flags: required(policy.key_usage_flags)?.into(),
            permitted_algorithms: required(policy.key_algorithm)?.try_into()?,
        })
    }
}

impl TryFrom<Policy> for wire::KeyPolicy {
    type Error = ResponseStatus;

    fn try_from(policy: Policy) -> Result<Self, Self::Error> {
        Ok(wire::KeyPolicy {
            key_usage_flags: Some(policy.usage_flags.into()),
            key_algorithm: Some(policy.permitted_algorithms.try_into()?),
        })
    }
}

impl TryFrom<wire::KeyAttributes> for Attributes {
    type Error = ResponseStatus;

    fn try_from(attributes: wire::KeyAttributes) -> Result<Self, Self::Error> {
        Ok(Attributes {
            lifetime: Lifetime::Persistent,
            key_type: required(attributes.key_type)?.try_into()?,
            bits: length_from_wire(attributes.key_bits)?,
            policy: required(attributes.key_policy)?.try_into()?,
        })
    }
}

impl TryFrom<Attributes> for wire::KeyAttributes {
    type Error = ResponseStatus;

    fn try_from(attributes: Attributes) -> Result<Self, Self::Error> {
        Ok(wire::KeyAttributes {
            key_type: Some(attributes.key_type.into()),
            key_bits: length_to_wire(attributes.bits)?,
            key_policy: Some(attributes.policy.try_into()?),
        })
    }
}

/// Decodes optional attributes that the operation requires.
pub(crate) fn attributes_from_wire(
    attributes: Option<wire::KeyAttributes>,
) -> Result<Attributes, ResponseStatus> {
    required(attributes)?.try_into()
}

/// Encodes attributes for an operation field.
pub(crate) fn attributes_to_wire(
    attributes: Attributes,
) -> Result<Option<wire::KeyAttributes>, ResponseStatus> {
    Ok(Some(attributes.try_into()?))
}

/// Encodes key attributes as the protobuf `KeyAttributes` message: a stable,
/// documented format for storing attributes (the key info store uses it).
pub fn encode_key_attributes(attributes: Attributes) -> Result<Vec<u8>, ResponseStatus> {
    use prost::Message;
    Ok(wire::KeyAttributes::try_from(attributes)?.encode_to_vec())
}

/// Decodes key attributes written by [`encode_key_attributes`]. The lifetime
/// comes back as [`Lifetime::Persistent`].
pub fn decode_key_attributes(bytes: &[u8]) -> Result<Attributes, ResponseStatus> {
    use prost::Message;
    wire::KeyAttributes::decode(bytes)?.try_into()
}
