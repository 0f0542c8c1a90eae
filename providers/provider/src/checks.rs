//! Rules on a request that hold whatever the backend: on a new key, and
//! on the size of a random request.

use crate::ProviderError;
use psec_interface::psa_crypto::types::algorithm::{Algorithm, FullLengthMac, Mac};
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

/// Refuses a new key (generated or imported) whose policy names an
/// algorithm that no key of its type can run, such as an RSA signature on
/// an elliptic-curve key: such a key could never be used, so the request is
/// wrong rather than beyond the backend. InvalidArgument, as Parsec 1.5's
/// TPM provider answers (its Mbed Crypto and PKCS#11 providers create the
/// unusable key; see compat/differences.toml).
pub fn check_policy_fits(attributes: &Attributes) -> Result<(), ProviderError> {
    let alg = attributes.policy.permitted_algorithms;
    if alg == Algorithm::None || attributes.is_compatible_with_alg(alg) {
        return Ok(());
    }
    Err(ProviderError::InvalidArgument(format!(
        "a key of type {:?} can not be used with its policy's algorithm {alg:?}",
        attributes.key_type
    )))
}

/// Refuses a request for `asked` random bytes when the provider gives at
/// most `most` at once (InvalidArgument, as PSA's `psa_generate_random`
/// answers a size it can not serve).
pub fn check_random_size(asked: usize, most: usize) -> Result<(), ProviderError> {
    if asked > most {
        return Err(ProviderError::InvalidArgument(format!(
            "{asked} random bytes asked for, at most {most} given"
        )));
    }
    Ok(())
}

/// The full-length MAC `mac` is built on, and the length of the MAC it
/// asks for (its own if truncated, else the full one), given the full
/// length of each MAC the provider does (`None`: not done). `None` as well
/// for a MAC truncated below 4 bytes (PSA's minimum, which Mbed TLS
/// enforces) or beyond its full length.
pub fn mac_length(
    mac: Mac,
    full_length: impl FnOnce(FullLengthMac) -> Option<usize>,
) -> Option<(FullLengthMac, usize)> {
    let (full, truncated) = match mac {
        Mac::FullLength(full) => (full, None),
        Mac::Truncated {
            mac_alg,
            mac_length,
        } => (mac_alg, Some(mac_length)),
    };
    let longest = full_length(full)?;
    match truncated {
        None => Some((full, longest)),
        Some(length) if (4..=longest).contains(&length) => Some((full, length)),
        Some(_) => None,
    }
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

    #[test]
    fn a_policy_no_key_of_the_type_can_use_is_an_invalid_argument() {
        use psec_interface::psa_crypto::types::algorithm::{AsymmetricSignature, Hash};
        let ecc = Type::EccKeyPair {
            curve_family: EccFamily::SecpR1,
        };
        let mut attributes = of(ecc);
        attributes.policy.permitted_algorithms = AsymmetricSignature::RsaPkcs1v15Sign {
            hash_alg: Hash::Sha256.into(),
        }
        .into();
        assert_eq!(
            check_policy_fits(&attributes).err().map(|e| e.status()),
            Some(ResponseStatus::PsaErrorInvalidArgument)
        );
        attributes.policy.permitted_algorithms = AsymmetricSignature::Ecdsa {
            hash_alg: Hash::Sha256.into(),
        }
        .into();
        assert!(check_policy_fits(&attributes).is_ok());
        // No algorithm: nothing to fit.
        assert!(check_policy_fits(&of(ecc)).is_ok());
    }

    #[test]
    fn a_random_size_over_the_most_is_an_invalid_argument() {
        assert!(check_random_size(0, 16).is_ok());
        assert!(check_random_size(16, 16).is_ok());
        assert_eq!(
            check_random_size(17, 16).err().map(|e| e.status()),
            Some(ResponseStatus::PsaErrorInvalidArgument)
        );
    }

    #[test]
    fn a_mac_is_its_full_length_or_a_truncation_from_4_bytes_to_it() {
        use psec_interface::psa_crypto::types::algorithm::Hash;
        let hmac = FullLengthMac::Hmac {
            hash_alg: Hash::Sha256,
        };
        let known = |full: FullLengthMac| (full == hmac).then_some(32);
        let truncated = |mac_length| Mac::Truncated {
            mac_alg: hmac,
            mac_length,
        };
        assert_eq!(mac_length(Mac::FullLength(hmac), known), Some((hmac, 32)));
        assert_eq!(mac_length(truncated(4), known), Some((hmac, 4)));
        assert_eq!(mac_length(truncated(32), known), Some((hmac, 32)));
        assert_eq!(mac_length(truncated(3), known), None);
        assert_eq!(mac_length(truncated(33), known), None);
        assert_eq!(
            mac_length(Mac::FullLength(FullLengthMac::Cmac), known),
            None
        );
    }
}
