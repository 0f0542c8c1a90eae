//! Checks of a key's policy before it is used. The TPM knows nothing of
//! PSA policies: these checks are the only ones.

use psec_interface::psa_crypto::types::algorithm::Algorithm;
use psec_interface::psa_crypto::types::key::{Attributes, UsageFlags};
use psec_provider::ProviderError;
use std::fmt;

/// What a key is about to be used for, as its usage flags name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Usage {
    Encrypt,
    Decrypt,
    SignHash,
    VerifyHash,
    SignMessage,
    VerifyMessage,
}

impl Usage {
    /// Whether `flags` allow this use. As PSA defines them, a key that may
    /// sign (verify) hashes may also sign (verify) messages.
    fn allowed_by(self, flags: &UsageFlags) -> bool {
        match self {
            Usage::Encrypt => flags.encrypt(),
            Usage::Decrypt => flags.decrypt(),
            Usage::SignHash => flags.sign_hash(),
            Usage::VerifyHash => flags.verify_hash(),
            Usage::SignMessage => flags.sign_message() || flags.sign_hash(),
            Usage::VerifyMessage => flags.verify_message() || flags.verify_hash(),
        }
    }
}

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Usage::Encrypt => "encrypt",
            Usage::Decrypt => "decrypt",
            Usage::SignHash => "sign_hash",
            Usage::VerifyHash => "verify_hash",
            Usage::SignMessage => "sign_message",
            Usage::VerifyMessage => "verify_message",
        })
    }
}

/// Checks that the policy of `key` allows `usage` with `alg`.
pub(crate) fn require(
    key: &str,
    attributes: &Attributes,
    usage: Usage,
    alg: Algorithm,
) -> Result<(), ProviderError> {
    if !usage.allowed_by(&attributes.policy.usage_flags) {
        return Err(ProviderError::NotPermitted(format!(
            "the policy of key `{key}` lacks the {usage} usage flag"
        )));
    }
    if !attributes.is_alg_permitted(alg) {
        return Err(ProviderError::NotPermitted(format!(
            "the policy of key `{key}` does not permit {alg:?}"
        )));
    }
    Ok(())
}
