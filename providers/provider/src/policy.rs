//! The PSA usage-policy check every provider makes before it uses a key,
//! written once.
//!
//! PSA Crypto API 1.1 (§9.5.3, and Mbed TLS's `psa_extend_key_usage_flags`)
//! makes the hash flags the wider ones: a key with `PSA_KEY_USAGE_SIGN_HASH`
//! also has `PSA_KEY_USAGE_SIGN_MESSAGE`, and one with
//! `PSA_KEY_USAGE_VERIFY_HASH` also has `PSA_KEY_USAGE_VERIFY_MESSAGE`.
//! psa-crypto's `set_sign_hash` and `set_verify_hash` set both flags, so
//! keys described on the wire always carry both; keys read back from
//! Parsec's legacy on-disk store may carry the hash flag alone, and the rule
//! here is what lets them sign (verify) messages on every provider alike.
//! The implication runs one way only: a message flag alone allows no hash.
//!
//! ```
//! use psec_provider::policy::{require, Usage};
//! use psec_interface::psa_crypto::types::algorithm::{AsymmetricSignature, Hash};
//! use psec_interface::psa_crypto::types::key::{
//!     Attributes, EccFamily, Lifetime, Policy, Type, UsageFlags,
//! };
//!
//! let ecdsa = AsymmetricSignature::Ecdsa { hash_alg: Hash::Sha256.into() };
//! let mut usage_flags = UsageFlags::default();
//! usage_flags.set_sign_message();
//! let attributes = Attributes {
//!     lifetime: Lifetime::Persistent,
//!     key_type: Type::EccKeyPair { curve_family: EccFamily::SecpR1 },
//!     bits: 256,
//!     policy: Policy { usage_flags, permitted_algorithms: ecdsa.into() },
//! };
//! assert!(require("k", &attributes, Usage::SignMessage, Some(ecdsa.into())).is_ok());
//! assert!(require("k", &attributes, Usage::SignHash, Some(ecdsa.into())).is_err());
//! ```

use crate::ProviderError;
use psec_interface::psa_crypto::types::algorithm::Algorithm;
use psec_interface::psa_crypto::types::key::{Attributes, UsageFlags};
use std::fmt;

/// What a key is about to be used for, as its usage flags name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Usage {
    /// Exporting the key material (`export`).
    Export,
    /// Encrypting (`encrypt`).
    Encrypt,
    /// Decrypting (`decrypt`).
    Decrypt,
    /// Signing a hash (`sign_hash`).
    SignHash,
    /// Verifying the signature of a hash (`verify_hash`).
    VerifyHash,
    /// Signing a message, or computing a MAC (`sign_message`, or
    /// `sign_hash`, which implies it).
    SignMessage,
    /// Verifying the signature or the MAC of a message (`verify_message`,
    /// or `verify_hash`, which implies it).
    VerifyMessage,
    /// Key agreement or derivation (`derive`).
    Derive,
}

impl Usage {
    /// Whether `flags` allow this use, as PSA 1.1 defines them.
    pub fn allowed_by(self, flags: &UsageFlags) -> bool {
        match self {
            Usage::Export => flags.export(),
            Usage::Encrypt => flags.encrypt(),
            Usage::Decrypt => flags.decrypt(),
            Usage::SignHash => flags.sign_hash(),
            Usage::VerifyHash => flags.verify_hash(),
            Usage::SignMessage => flags.sign_message() || flags.sign_hash(),
            Usage::VerifyMessage => flags.verify_message() || flags.verify_hash(),
            Usage::Derive => flags.derive(),
        }
    }
}

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Usage::Export => "export",
            Usage::Encrypt => "encrypt",
            Usage::Decrypt => "decrypt",
            Usage::SignHash => "sign_hash",
            Usage::VerifyHash => "verify_hash",
            Usage::SignMessage => "sign_message",
            Usage::VerifyMessage => "verify_message",
            Usage::Derive => "derive",
        })
    }
}

/// Checks that the policy of key `key_name` (the attributes it was created
/// with, as the key store holds them) allows `usage`, and permits `alg` if
/// one is given. Either refusal is [`ProviderError::NotPermitted`], naming
/// the key and what its policy lacks.
pub fn require(
    key_name: &str,
    attributes: &Attributes,
    usage: Usage,
    alg: Option<Algorithm>,
) -> Result<(), ProviderError> {
    if !usage.allowed_by(&attributes.policy.usage_flags) {
        let implied_by = match usage {
            Usage::SignMessage => " (or sign_hash)",
            Usage::VerifyMessage => " (or verify_hash)",
            _ => "",
        };
        return Err(ProviderError::NotPermitted(format!(
            "the policy of key `{key_name}` lacks the {usage}{implied_by} usage flag"
        )));
    }
    match alg {
        Some(alg) if !attributes.is_alg_permitted(alg) => Err(ProviderError::NotPermitted(
            format!("the policy of key `{key_name}` does not permit {alg:?}"),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use psec_interface::psa_crypto::types::algorithm::{AsymmetricSignature, Hash, SignHash};
    use psec_interface::psa_crypto::types::key::{EccFamily, Lifetime, Policy, Type};

    fn ecdsa(hash_alg: SignHash) -> AsymmetricSignature {
        AsymmetricSignature::Ecdsa { hash_alg }
    }

    fn signing_key(flags: UsageFlags, policy: AsymmetricSignature) -> Attributes {
        Attributes {
            lifetime: Lifetime::Persistent,
            key_type: Type::EccKeyPair {
                curve_family: EccFamily::SecpR1,
            },
            bits: 256,
            policy: Policy {
                usage_flags: flags,
                permitted_algorithms: policy.into(),
            },
        }
    }

    /// Flags with only the named ones set, however psa-crypto's setters
    /// couple them.
    fn only(names: &[&str]) -> UsageFlags {
        crate::testing::usage_flags_as_parsec_stored(names)
    }

    fn allowed(flags: UsageFlags) -> Vec<Usage> {
        use Usage::*;
        [
            Export,
            Encrypt,
            Decrypt,
            SignHash,
            VerifyHash,
            SignMessage,
            VerifyMessage,
            Derive,
        ]
        .into_iter()
        .filter(|usage| usage.allowed_by(&flags))
        .collect()
    }

    #[test]
    fn sign_hash_alone_allows_signing_hashes_and_messages() {
        assert_eq!(
            allowed(only(&["sign_hash"])),
            [Usage::SignHash, Usage::SignMessage]
        );
    }

    #[test]
    fn verify_hash_alone_allows_verifying_hashes_and_messages() {
        assert_eq!(
            allowed(only(&["verify_hash"])),
            [Usage::VerifyHash, Usage::VerifyMessage]
        );
    }

    #[test]
    fn a_message_flag_alone_allows_no_hash() {
        assert_eq!(allowed(only(&["sign_message"])), [Usage::SignMessage]);
        assert_eq!(allowed(only(&["verify_message"])), [Usage::VerifyMessage]);
    }

    #[test]
    fn every_other_flag_allows_its_own_usage_only() {
        for (name, usage) in [
            ("export", Usage::Export),
            ("encrypt", Usage::Encrypt),
            ("decrypt", Usage::Decrypt),
            ("derive", Usage::Derive),
        ] {
            assert_eq!(allowed(only(&[name])), [usage], "{name}");
        }
        assert_eq!(allowed(only(&["copy", "cache"])), []);
    }

    #[test]
    fn a_missing_usage_flag_is_not_permitted_and_named() {
        let key = signing_key(UsageFlags::default(), ecdsa(Hash::Sha256.into()));
        let error = require("k", &key, Usage::SignHash, None).unwrap_err();
        assert!(matches!(error, ProviderError::NotPermitted(_)), "{error}");
        assert!(error.to_string().contains("`k`"), "{error}");
        assert!(error.to_string().contains("sign_hash"), "{error}");
        let error = require("k", &key, Usage::SignMessage, None).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("sign_message (or sign_hash) usage flag"),
            "{error}"
        );
    }

    #[test]
    fn an_algorithm_outside_the_policy_is_not_permitted() {
        let key = signing_key(only(&["sign_hash"]), ecdsa(Hash::Sha256.into()));
        let alg = ecdsa(Hash::Sha384.into()).into();
        for usage in [Usage::SignHash, Usage::SignMessage] {
            let error = require("k", &key, usage, Some(alg)).unwrap_err();
            assert!(matches!(error, ProviderError::NotPermitted(_)), "{error}");
            assert!(error.to_string().contains("does not permit"), "{error}");
        }
    }

    #[test]
    fn a_wildcard_hash_policy_permits_each_specific_hash() {
        let key = signing_key(only(&["sign_hash"]), ecdsa(SignHash::Any));
        for hash in [Hash::Sha256, Hash::Sha384, Hash::Sha512] {
            let alg = ecdsa(hash.into()).into();
            require("k", &key, Usage::SignHash, Some(alg)).unwrap();
            require("k", &key, Usage::SignMessage, Some(alg)).unwrap();
        }
    }
}
