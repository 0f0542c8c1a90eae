//! Checks of a key's policy before it is used. Mbed TLS enforces the same
//! policy again; checking first gives the client a clear NotPermitted
//! without touching the backend.

use psa_crypto::types::algorithm::Algorithm;
use psa_crypto::types::key::{Attributes, UsageFlags};
use psec_provider::ProviderError;
use std::fmt;

/// What a key is about to be used for, as its usage flags name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Usage {
    Export,
    Encrypt,
    Decrypt,
    SignHash,
    VerifyHash,
    SignMessage,
    VerifyMessage,
    Derive,
}

impl Usage {
    fn allowed_by(self, flags: &UsageFlags) -> bool {
        match self {
            Usage::Export => flags.export(),
            Usage::Encrypt => flags.encrypt(),
            Usage::Decrypt => flags.decrypt(),
            Usage::SignHash => flags.sign_hash(),
            Usage::VerifyHash => flags.verify_hash(),
            Usage::SignMessage => flags.sign_message(),
            Usage::VerifyMessage => flags.verify_message(),
            Usage::Derive => flags.derive(),
        }
    }
}

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Usage::Export => "export",
            Usage::Encrypt => "encrypt",
            Usage::Decrypt => "decrypt",
            Usage::SignHash => "sign_hash",
            Usage::VerifyHash => "verify_hash",
            Usage::SignMessage => "sign_message",
            Usage::VerifyMessage => "verify_message",
            Usage::Derive => "derive",
        };
        f.write_str(text)
    }
}

/// Checks that the policy of `key` (the attributes it was created with)
/// allows `usage`, and `alg` if one is given.
pub(crate) fn require(
    key: &str,
    attributes: &Attributes,
    usage: Usage,
    alg: Option<Algorithm>,
) -> Result<(), ProviderError> {
    if !usage.allowed_by(&attributes.policy.usage_flags) {
        return Err(ProviderError::NotPermitted(format!(
            "the policy of key `{key}` lacks the {usage} usage flag"
        )));
    }
    match alg {
        Some(alg) if !attributes.is_alg_permitted(alg) => Err(ProviderError::NotPermitted(
            format!("the policy of key `{key}` does not permit {alg:?}"),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use psa_crypto::types::algorithm::{AsymmetricSignature, Hash, SignHash};
    use psa_crypto::types::key::{EccFamily, Lifetime, Policy, Type};

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

    #[test]
    fn a_missing_usage_flag_is_not_permitted() {
        let key = signing_key(UsageFlags::default(), ecdsa(Hash::Sha256.into()));
        let error = require("k", &key, Usage::SignHash, None).unwrap_err();
        assert!(matches!(error, ProviderError::NotPermitted(_)), "{error}");
        assert!(error.to_string().contains("sign_hash"), "{error}");
    }

    #[test]
    fn an_algorithm_outside_the_policy_is_not_permitted() {
        let mut flags = UsageFlags::default();
        flags.set_sign_hash();
        let key = signing_key(flags, ecdsa(Hash::Sha256.into()));
        let alg = ecdsa(Hash::Sha384.into()).into();
        let error = require("k", &key, Usage::SignHash, Some(alg)).unwrap_err();
        assert!(matches!(error, ProviderError::NotPermitted(_)), "{error}");
    }

    #[test]
    fn a_wildcard_hash_policy_permits_each_specific_hash() {
        let mut flags = UsageFlags::default();
        flags.set_sign_hash();
        let key = signing_key(flags, ecdsa(SignHash::Any));
        for hash in [Hash::Sha256, Hash::Sha384, Hash::Sha512] {
            let alg = ecdsa(hash.into()).into();
            require("k", &key, Usage::SignHash, Some(alg)).unwrap();
        }
    }
}
