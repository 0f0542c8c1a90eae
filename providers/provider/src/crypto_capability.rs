//! CanDoCrypto: the frame every provider shares, around the checks each
//! provider makes of its own backend ([`CanDoCrypto`]).
//!
//! The frame is Parsec 1.5's (its `src/providers/crypto_capability.rs`),
//! so that a Parsec client asking any psec provider gets the answer
//! Parsec's provider gives wherever psec can do the same:
//!
//! - **Use**: the policy names an algorithm; it allows at least one of
//!   encrypting, decrypting, signing or verifying (a hash or a message),
//!   whatever the algorithm, or it names a key agreement and allows
//!   deriving; the key type fits the algorithm (PSA's
//!   `is_compatible_with_alg`); then the provider's
//!   [`use_check`](CanDoCrypto::use_check).
//! - **Generate**, **Import**: the provider's
//!   [`generate_check`](CanDoCrypto::generate_check) or
//!   [`import_check`](CanDoCrypto::import_check); then, if the policy names
//!   an algorithm, all of Use.
//! - **Derive**: never; the provider is not asked.
//!
//! Every refusal of the frame is NotSupported, so a key whose policy allows
//! only exporting, copying or caching is not reported usable.
//!
//! One difference from Parsec, on purpose: Parsec does not count the
//! derive flag, so it calls every key-agreement key NotSupported, although
//! PSA's raw key agreement needs that flag and no other, and Parsec's
//! Mbed Crypto provider does ECDH. psec counts the derive flag for a
//! key-agreement policy, so that CanDoCrypto says what the provider can
//! really do.

use crate::{CanDoCrypto, ProviderError, Result};
use psec_interface::operations::can_do_crypto::{self, CheckType};
use psec_interface::psa_crypto::types::algorithm::Algorithm;
use psec_interface::psa_crypto::types::key::Attributes;

fn unsupported(what: impl std::fmt::Display) -> ProviderError {
    ProviderError::NotSupported(format!("CanDoCrypto: {what}"))
}

/// Answers CanDoCrypto for `op` with `provider`'s own checks inside the
/// common frame (see the module's documentation).
pub fn can_do_crypto(
    provider: &dyn CanDoCrypto,
    op: can_do_crypto::Operation,
) -> Result<can_do_crypto::Result> {
    let attributes = &op.attributes;
    let names_algorithm = attributes.policy.permitted_algorithms != Algorithm::None;
    match op.check_type {
        CheckType::Use => use_check(provider, attributes)?,
        CheckType::Generate => {
            provider.generate_check(attributes)?;
            if names_algorithm {
                use_check(provider, attributes)?;
            }
        }
        CheckType::Import => {
            provider.import_check(attributes)?;
            if names_algorithm {
                use_check(provider, attributes)?;
            }
        }
        CheckType::Derive => return Err(unsupported("no provider derives keys")),
        // A check type added to the protocol later: no provider does it.
        _ => return Err(unsupported("an unknown check type")),
    }
    Ok(can_do_crypto::Result {})
}

/// The common part of Use, then the provider's.
fn use_check(provider: &dyn CanDoCrypto, attributes: &Attributes) -> Result<()> {
    let alg = attributes.policy.permitted_algorithms;
    if alg == Algorithm::None {
        return Err(unsupported("using a key whose policy names no algorithm"));
    }
    let flags = &attributes.policy.usage_flags;
    let crypto_use = flags.decrypt()
        || flags.encrypt()
        || flags.sign_hash()
        || flags.sign_message()
        || flags.verify_hash()
        || flags.verify_message()
        || (matches!(alg, Algorithm::KeyAgreement(_)) && flags.derive());
    if !crypto_use {
        return Err(unsupported(
            "using a key whose policy allows no encrypting, decrypting, signing, verifying \
             or (for a key agreement) deriving",
        ));
    }
    if !attributes.is_compatible_with_alg(alg) {
        return Err(unsupported(format_args!(
            "{alg:?} with a key of type {:?}",
            attributes.key_type
        )));
    }
    provider.use_check(attributes)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test fails by panicking")]

    use super::*;
    use psec_interface::ResponseStatus;
    use psec_interface::psa_crypto::types::algorithm::{
        AsymmetricSignature, Cipher, Hash, KeyAgreement, RawKeyAgreement,
    };
    use psec_interface::psa_crypto::types::key::{EccFamily, Lifetime, Policy, Type, UsageFlags};
    use std::sync::Mutex;

    /// A provider whose own checks answer as told and are recorded.
    #[derive(Default)]
    struct Recorder {
        calls: Mutex<Vec<&'static str>>,
        refuse: Vec<&'static str>,
    }

    impl Recorder {
        fn refusing(checks: &[&'static str]) -> Self {
            Recorder {
                refuse: checks.to_vec(),
                ..Recorder::default()
            }
        }

        fn answer(&self, check: &'static str) -> Result<()> {
            self.calls.lock().unwrap().push(check);
            if self.refuse.contains(&check) {
                Err(ProviderError::NotSupported(check.into()))
            } else {
                Ok(())
            }
        }

        fn calls(&self) -> Vec<&'static str> {
            self.calls.lock().unwrap().clone()
        }
    }

    impl CanDoCrypto for Recorder {
        fn generate_check(&self, _: &Attributes) -> Result<()> {
            self.answer("generate")
        }
        fn import_check(&self, _: &Attributes) -> Result<()> {
            self.answer("import")
        }
        fn use_check(&self, _: &Attributes) -> Result<()> {
            self.answer("use")
        }
    }

    const ECDSA_SHA256: AsymmetricSignature = AsymmetricSignature::Ecdsa {
        hash_alg: psec_interface::psa_crypto::types::algorithm::SignHash::Specific(Hash::Sha256),
    };

    fn p256(alg: impl Into<Algorithm>, flags: impl FnOnce(&mut UsageFlags)) -> Attributes {
        let mut usage_flags = UsageFlags::default();
        flags(&mut usage_flags);
        Attributes {
            lifetime: Lifetime::Persistent,
            key_type: Type::EccKeyPair {
                curve_family: EccFamily::SecpR1,
            },
            bits: 256,
            policy: Policy {
                usage_flags,
                permitted_algorithms: alg.into(),
            },
        }
    }

    fn sign(flags: &mut UsageFlags) {
        flags.set_sign_hash();
    }

    fn ask(provider: &Recorder, check_type: CheckType, attributes: Attributes) -> Result<()> {
        can_do_crypto(
            provider,
            can_do_crypto::Operation {
                check_type,
                attributes,
            },
        )
        .map(|_| ())
    }

    fn assert_not_supported(answer: Result<()>) {
        let error = answer.unwrap_err();
        assert_eq!(
            error.status(),
            ResponseStatus::PsaErrorNotSupported,
            "{error}"
        );
    }

    #[test]
    fn use_of_a_policy_without_algorithm_is_not_supported_and_the_provider_is_not_asked() {
        let provider = Recorder::default();
        assert_not_supported(ask(&provider, CheckType::Use, p256(Algorithm::None, sign)));
        assert!(provider.calls().is_empty());
    }

    #[test]
    fn use_needs_one_of_the_six_crypto_usage_flags() {
        let setters: [fn(&mut UsageFlags); 6] = [
            |f| {
                f.set_decrypt();
            },
            |f| {
                f.set_encrypt();
            },
            |f| {
                f.set_sign_hash();
            },
            |f| {
                f.set_sign_message();
            },
            |f| {
                f.set_verify_hash();
            },
            |f| {
                f.set_verify_message();
            },
        ];
        for set in setters {
            let provider = Recorder::default();
            ask(&provider, CheckType::Use, p256(ECDSA_SHA256, set)).unwrap();
            assert_eq!(provider.calls(), ["use"]);
        }
        let provider = Recorder::default();
        let others = p256(ECDSA_SHA256, |f| {
            f.set_export().set_copy().set_cache().set_derive();
        });
        assert_not_supported(ask(&provider, CheckType::Use, others));
        assert_not_supported(ask(&provider, CheckType::Use, p256(ECDSA_SHA256, |_| {})));
        assert!(provider.calls().is_empty());
    }

    #[test]
    fn the_derive_flag_counts_for_a_key_agreement_policy_only() {
        let derive = |flags: &mut UsageFlags| {
            flags.set_derive();
        };
        let ecdh = KeyAgreement::Raw(RawKeyAgreement::Ecdh);
        for check_type in [CheckType::Use, CheckType::Generate, CheckType::Import] {
            let provider = Recorder::default();
            ask(&provider, check_type, p256(ecdh, derive)).unwrap();
            assert!(provider.calls().contains(&"use"), "{check_type:?}");
            let provider = Recorder::default();
            assert_not_supported(ask(&provider, check_type, p256(ecdh, |_| {})));
        }
        let provider = Recorder::default();
        assert_not_supported(ask(&provider, CheckType::Use, p256(ECDSA_SHA256, derive)));
        assert!(provider.calls().is_empty());
    }

    #[test]
    fn use_of_an_algorithm_the_key_type_does_not_fit_is_not_supported() {
        let provider = Recorder::default();
        for alg in [
            Algorithm::from(Cipher::Ctr),
            Algorithm::from(Hash::Sha256),
            AsymmetricSignature::RsaPss {
                hash_alg: Hash::Sha256.into(),
            }
            .into(),
        ] {
            assert_not_supported(ask(&provider, CheckType::Use, p256(alg, sign)));
        }
        assert!(provider.calls().is_empty());
    }

    #[test]
    fn use_ends_with_the_providers_use_check() {
        let provider = Recorder::refusing(&["use"]);
        assert_not_supported(ask(&provider, CheckType::Use, p256(ECDSA_SHA256, sign)));
        assert_eq!(provider.calls(), ["use"]);
    }

    #[test]
    fn generate_and_import_check_use_only_when_the_policy_names_an_algorithm() {
        for (check_type, own) in [
            (CheckType::Generate, "generate"),
            (CheckType::Import, "import"),
        ] {
            let provider = Recorder::default();
            ask(&provider, check_type, p256(Algorithm::None, |_| {})).unwrap();
            assert_eq!(provider.calls(), [own]);

            let provider = Recorder::default();
            ask(&provider, check_type, p256(ECDSA_SHA256, sign)).unwrap();
            assert_eq!(provider.calls(), [own, "use"]);

            // With an algorithm, the whole of Use applies: a policy with no
            // crypto usage flag is refused after the provider's own check.
            let provider = Recorder::default();
            assert_not_supported(ask(&provider, check_type, p256(ECDSA_SHA256, |_| {})));
            assert_eq!(provider.calls(), [own]);

            let provider = Recorder::refusing(&["use"]);
            assert_not_supported(ask(&provider, check_type, p256(ECDSA_SHA256, sign)));
            assert_eq!(provider.calls(), [own, "use"]);
        }
    }

    #[test]
    fn generate_and_import_stop_at_the_providers_own_refusal() {
        for (check_type, own) in [
            (CheckType::Generate, "generate"),
            (CheckType::Import, "import"),
        ] {
            let provider = Recorder::refusing(&[own]);
            assert_not_supported(ask(&provider, check_type, p256(ECDSA_SHA256, sign)));
            assert_eq!(provider.calls(), [own]);
        }
    }

    #[test]
    fn derive_is_never_supported_and_the_provider_is_not_asked() {
        let provider = Recorder::default();
        assert_not_supported(ask(&provider, CheckType::Derive, p256(ECDSA_SHA256, sign)));
        assert!(provider.calls().is_empty());
    }
}
