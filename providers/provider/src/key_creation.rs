//! Rules on a new key that hold whatever the backend.

use crate::ProviderError;
use psec_interface::psa_crypto::types::key::Attributes;

/// Refuses to generate a key of a public key type (`RsaPublicKey`,
/// `EccPublicKey`, ...): a public key can only be imported, so the request
/// is wrong rather than beyond the backend. InvalidArgument, as PSA's
/// `psa_generate_key` and every Parsec 1.5 provider answer.
pub fn check_generatable(attributes: &Attributes) -> Result<(), ProviderError> {
    let key_type = attributes.key_type;
    if key_type.is_public_key() {
        return Err(ProviderError::InvalidArgument(format!(
            "a key of type {key_type:?} is a public key: it can be imported, not generated"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use psec_interface::ResponseStatus;
    use psec_interface::psa_crypto::types::algorithm::Algorithm;
    use psec_interface::psa_crypto::types::key::{EccFamily, Lifetime, Policy, Type, UsageFlags};

    fn of(key_type: Type) -> Attributes {
        Attributes {
            lifetime: Lifetime::Persistent,
            key_type,
            bits: 256,
            policy: Policy {
                usage_flags: UsageFlags::default(),
                permitted_algorithms: Algorithm::None,
            },
        }
    }

    #[test]
    fn generating_a_public_key_type_is_an_invalid_argument() {
        for key_type in [
            Type::RsaPublicKey,
            Type::EccPublicKey {
                curve_family: EccFamily::SecpR1,
            },
        ] {
            let error = check_generatable(&of(key_type)).err();
            assert_eq!(
                error.map(|error| error.status()),
                Some(ResponseStatus::PsaErrorInvalidArgument),
                "{key_type:?}"
            );
        }
    }

    #[test]
    fn key_pairs_and_symmetric_keys_may_be_generated() {
        for key_type in [
            Type::RsaKeyPair,
            Type::EccKeyPair {
                curve_family: EccFamily::SecpR1,
            },
            Type::Aes,
            Type::Hmac,
            Type::RawData,
        ] {
            assert!(check_generatable(&of(key_type)).is_ok(), "{key_type:?}");
        }
    }
}
