//! Asymmetric signatures: RSA PKCS#1 v1.5 and PSS, ECDSA and deterministic
//! ECDSA.
//!
//! psa-crypto 0.13 has no `sign_message`: a message is hashed with the
//! algorithm's hash and the hash signed, which is what PSA defines
//! `psa_sign_message` to be for these algorithms. Mbed TLS then checks the
//! key's `sign_hash` flag, so a key whose policy has `sign_message` without
//! `sign_hash` can not sign messages (psa-crypto does not pass the message
//! flags to Mbed TLS at all).

use crate::MbedCryptoProvider;
use crate::backend::psa_error;
use crate::keys::OpenKey;
use psa_crypto::operations::{asym_signature, hash};
use psa_crypto::types::algorithm::{AsymmetricSignature, Hash, SignHash};
use psec_interface::operations::{
    psa_sign_hash, psa_sign_message, psa_verify_hash, psa_verify_message,
};
use psec_provider::policy::Usage;
use psec_provider::{Application, AsymmetricSigning, ProviderError, Result};

/// A hash to sign or verify must be as long as the hash `alg` names (any
/// length, for the algorithms that sign raw data). Mbed TLS checks this
/// for RSA but not for ECDSA, which would sign a truncated or padded hash;
/// Parsec answers InvalidArgument for every algorithm, as PSA does.
pub(crate) fn check_hash_length(alg: AsymmetricSignature, hash: &[u8]) -> Result<()> {
    if alg.is_hash_len_permitted(hash.len()) {
        Ok(())
    } else {
        Err(ProviderError::InvalidArgument(format!(
            "a {}-byte hash for {alg:?}",
            hash.len()
        )))
    }
}

fn sign(key: &OpenKey<'_>, alg: AsymmetricSignature, hash: &[u8]) -> Result<Vec<u8>> {
    let size = key.attributes.sign_output_size(alg);
    let mut signature = vec![0; size.map_err(key.failed("sizing the signature"))?];
    let len = asym_signature::sign_hash(key.id, alg, hash, &mut signature)
        .map_err(key.failed("signing"))?;
    signature.truncate(len);
    Ok(signature)
}

fn verify(
    key: &OpenKey<'_>,
    alg: AsymmetricSignature,
    hash: &[u8],
    signature: &[u8],
) -> Result<()> {
    asym_signature::verify_hash(key.id, alg, hash, signature).map_err(key.failed("verifying"))
}

/// The hash `alg` signs messages with; an algorithm that signs raw data or
/// any hash can not sign a message.
fn message_hash(alg: AsymmetricSignature) -> Result<Hash> {
    match alg.hash() {
        Some(SignHash::Specific(hash)) => Ok(hash),
        _ => Err(ProviderError::InvalidArgument(format!(
            "{alg:?} names no hash to sign a message with"
        ))),
    }
}

/// `message` hashed as `alg` signs it. Runs under the caller's PSA lock.
pub(crate) fn hash_message(alg: AsymmetricSignature, message: &[u8]) -> Result<Vec<u8>> {
    let hash_alg = message_hash(alg)?;
    let mut digest = vec![0; hash_alg.hash_length()];
    let len = hash::hash_compute(hash_alg, message, &mut digest)
        .map_err(|error| psa_error(error, format!("hashing the message with {hash_alg:?}")))?;
    digest.truncate(len);
    Ok(digest)
}

impl AsymmetricSigning for MbedCryptoProvider {
    fn sign_hash(
        &self,
        app: &Application,
        op: psa_sign_hash::Operation,
    ) -> Result<psa_sign_hash::Result> {
        self.use_key(
            app,
            &op.key_name,
            Usage::SignHash,
            Some(op.alg.into()),
            |key| {
                check_hash_length(op.alg, &op.hash)?;
                let signature = sign(key, op.alg, &op.hash)?;
                Ok(psa_sign_hash::Result { signature })
            },
        )
    }

    fn verify_hash(
        &self,
        app: &Application,
        op: psa_verify_hash::Operation,
    ) -> Result<psa_verify_hash::Result> {
        self.use_key(
            app,
            &op.key_name,
            Usage::VerifyHash,
            Some(op.alg.into()),
            |key| {
                check_hash_length(op.alg, &op.hash)?;
                verify(key, op.alg, &op.hash, &op.signature)?;
                Ok(psa_verify_hash::Result {})
            },
        )
    }

    fn sign_message(
        &self,
        app: &Application,
        op: psa_sign_message::Operation,
    ) -> Result<psa_sign_message::Result> {
        message_hash(op.alg)?;
        self.use_key(
            app,
            &op.key_name,
            Usage::SignMessage,
            Some(op.alg.into()),
            |key| {
                let digest = hash_message(op.alg, &op.message)?;
                let signature = sign(key, op.alg, &digest)?;
                Ok(psa_sign_message::Result { signature })
            },
        )
    }

    fn verify_message(
        &self,
        app: &Application,
        op: psa_verify_message::Operation,
    ) -> Result<psa_verify_message::Result> {
        message_hash(op.alg)?;
        self.use_key(
            app,
            &op.key_name,
            Usage::VerifyMessage,
            Some(op.alg.into()),
            |key| {
                let digest = hash_message(op.alg, &op.message)?;
                verify(key, op.alg, &digest, &op.signature)?;
                Ok(psa_verify_message::Result {})
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;
    use psa_crypto::types::algorithm::Algorithm;
    use psa_crypto::types::key::{Attributes, EccFamily};
    use psec_interface::ResponseStatus;

    fn signing_key(base: Attributes, policy: AsymmetricSignature) -> Attributes {
        let mut attributes = base;
        attributes.policy.permitted_algorithms = policy.into();
        attributes
            .policy
            .usage_flags
            .set_sign_hash()
            .set_verify_hash();
        attributes
    }

    /// Every scheme on every key it applies to, by hash and by message.
    #[test]
    fn each_scheme_signs_hashes_and_messages_that_verify() {
        let (_, provider) = setup();
        let owner = app("alice");
        let rsa = rsa_key(1024, Algorithm::None, |_| {});
        let sha256 = SignHash::Specific(Hash::Sha256);
        let cases = [
            (
                rsa,
                AsymmetricSignature::RsaPkcs1v15Sign { hash_alg: sha256 },
            ),
            (rsa, AsymmetricSignature::RsaPss { hash_alg: sha256 }),
            (
                ecc_key(EccFamily::SecpR1, 256),
                AsymmetricSignature::Ecdsa { hash_alg: sha256 },
            ),
            (
                ecc_key(EccFamily::SecpR1, 384),
                AsymmetricSignature::Ecdsa {
                    hash_alg: Hash::Sha384.into(),
                },
            ),
            (
                ecc_key(EccFamily::SecpR1, 521),
                AsymmetricSignature::Ecdsa {
                    hash_alg: Hash::Sha512.into(),
                },
            ),
            (
                ecc_key(EccFamily::SecpR1, 256),
                AsymmetricSignature::DeterministicEcdsa { hash_alg: sha256 },
            ),
            (
                ecc_key(EccFamily::SecpR1, 384),
                AsymmetricSignature::DeterministicEcdsa {
                    hash_alg: Hash::Sha384.into(),
                },
            ),
            (
                ecc_key(EccFamily::SecpR1, 521),
                AsymmetricSignature::DeterministicEcdsa {
                    hash_alg: Hash::Sha512.into(),
                },
            ),
            (
                ecc_key(EccFamily::SecpK1, 256),
                AsymmetricSignature::Ecdsa { hash_alg: sha256 },
            ),
            (
                ecc_key(EccFamily::BrainpoolPR1, 384),
                AsymmetricSignature::DeterministicEcdsa {
                    hash_alg: Hash::Sha3_384.into(),
                },
            ),
            (
                ecc_key(EccFamily::BrainpoolPR1, 512),
                AsymmetricSignature::Ecdsa {
                    hash_alg: Hash::Sha512.into(),
                },
            ),
        ];
        for (index, (base, alg)) in cases.into_iter().enumerate() {
            let name = format!("key-{index}");
            generate(&provider, &owner, &name, signing_key(base, alg)).unwrap();
            let digest = vec![0x5a; message_hash(alg).unwrap().hash_length()];
            let signature = sign_hash(&provider, &owner, &name, alg, &digest).unwrap();
            verify_hash(&provider, &owner, &name, alg, &digest, &signature).unwrap();
            let signature = sign_message(&provider, &owner, &name, alg, b"a message").unwrap();
            verify_message(&provider, &owner, &name, alg, b"a message", &signature).unwrap();
        }
    }

    #[test]
    fn a_hash_not_as_long_as_the_algorithms_hash_is_an_invalid_argument() {
        let (_, provider) = setup();
        let owner = app("alice");
        let sha256 = SignHash::Specific(Hash::Sha256);
        let rsa = rsa_key(1024, Algorithm::None, |_| {});
        let p256 = ecc_p256_signing_key();
        let cases = [
            (p256, AsymmetricSignature::Ecdsa { hash_alg: sha256 }),
            (
                p256,
                AsymmetricSignature::DeterministicEcdsa { hash_alg: sha256 },
            ),
            (
                rsa,
                AsymmetricSignature::RsaPkcs1v15Sign { hash_alg: sha256 },
            ),
            (rsa, AsymmetricSignature::RsaPss { hash_alg: sha256 }),
        ];
        for (index, (base, alg)) in cases.into_iter().enumerate() {
            let name = format!("key-{index}");
            generate(&provider, &owner, &name, signing_key(base, alg)).unwrap();
            let signature = sign_hash(&provider, &owner, &name, alg, &[7; 32]).unwrap();
            for length in [0, 31, 33, 64] {
                let hash = vec![7; length];
                let errors = [
                    sign_hash(&provider, &owner, &name, alg, &hash).unwrap_err(),
                    verify_hash(&provider, &owner, &name, alg, &hash, &signature).unwrap_err(),
                ];
                for error in errors {
                    assert_eq!(
                        error.status(),
                        ResponseStatus::PsaErrorInvalidArgument,
                        "{alg:?}, {length} bytes: {error}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_message_signature_verifies_as_a_signature_of_its_hash() {
        let (_, provider) = setup();
        let owner = app("alice");
        let alg = AsymmetricSignature::DeterministicEcdsa {
            hash_alg: Hash::Sha256.into(),
        };
        generate(
            &provider,
            &owner,
            "k",
            signing_key(ecc_p256_signing_key(), alg),
        )
        .unwrap();
        let signature = sign_message(&provider, &owner, "k", alg, b"abc").unwrap();
        let digest = {
            let _psa = crate::backend::Psa::lock();
            hash_message(alg, b"abc").unwrap()
        };
        assert_eq!(digest[..4], [0xba, 0x78, 0x16, 0xbf]);
        verify_hash(&provider, &owner, "k", alg, &digest, &signature).unwrap();
        assert_eq!(
            sign_hash(&provider, &owner, "k", alg, &digest).unwrap(),
            signature
        );
    }

    #[test]
    fn deterministic_ecdsa_signs_the_same_hash_the_same_way() {
        let (_, provider) = setup();
        let owner = app("alice");
        let alg = AsymmetricSignature::DeterministicEcdsa {
            hash_alg: Hash::Sha256.into(),
        };
        generate(
            &provider,
            &owner,
            "k",
            signing_key(ecc_p256_signing_key(), alg),
        )
        .unwrap();
        let first = sign_hash(&provider, &owner, "k", alg, &[1; 32]).unwrap();
        assert_eq!(
            sign_hash(&provider, &owner, "k", alg, &[1; 32]).unwrap(),
            first
        );
    }

    #[test]
    fn a_tampered_signature_or_message_is_an_invalid_signature() {
        let (_, provider) = setup();
        let owner = app("alice");
        let alg = AsymmetricSignature::Ecdsa {
            hash_alg: Hash::Sha256.into(),
        };
        generate(&provider, &owner, "k", ecc_p256_signing_key()).unwrap();
        let mut signature = sign_hash(&provider, &owner, "k", alg, &[1; 32]).unwrap();
        let error = verify_hash(&provider, &owner, "k", alg, &[2; 32], &signature).unwrap_err();
        assert_eq!(
            error.status(),
            ResponseStatus::PsaErrorInvalidSignature,
            "{error}"
        );
        signature[10] ^= 1;
        let error = verify_hash(&provider, &owner, "k", alg, &[1; 32], &signature).unwrap_err();
        assert_eq!(
            error.status(),
            ResponseStatus::PsaErrorInvalidSignature,
            "{error}"
        );
        let signature = sign_message(&provider, &owner, "k", alg, b"one").unwrap();
        let error = verify_message(&provider, &owner, "k", alg, b"two", &signature).unwrap_err();
        assert_eq!(
            error.status(),
            ResponseStatus::PsaErrorInvalidSignature,
            "{error}"
        );
    }

    #[test]
    fn a_public_key_verifies_what_its_key_pair_signed() {
        let (_, provider) = setup();
        let owner = app("alice");
        let alg = AsymmetricSignature::RsaPss {
            hash_alg: Hash::Sha256.into(),
        };
        generate(
            &provider,
            &owner,
            "pair",
            signing_key(rsa_key(1024, alg.into(), |_| {}), alg),
        )
        .unwrap();
        let op = psec_interface::operations::psa_export_public_key::Operation {
            key_name: "pair".into(),
        };
        let public = psec_provider::KeyManagement::export_public_key(&provider, &owner, op)
            .unwrap()
            .data;
        let mut attributes = signing_key(rsa_key(1024, alg.into(), |_| {}), alg);
        attributes.key_type = psa_crypto::types::key::Type::RsaPublicKey;
        import(&provider, &owner, "public", attributes, &public).unwrap();
        let signature = sign_message(&provider, &owner, "pair", alg, b"m").unwrap();
        verify_message(&provider, &owner, "public", alg, b"m", &signature).unwrap();
        let error = sign_message(&provider, &owner, "public", alg, b"m").unwrap_err();
        assert_eq!(
            error.status(),
            ResponseStatus::PsaErrorInvalidArgument,
            "{error}"
        );
    }

    /// A key migrated from Parsec's legacy store may carry `sign_hash`
    /// without `sign_message`: it signs messages, as on every provider.
    #[test]
    fn a_key_stored_with_only_the_hash_flags_signs_and_verifies_messages_too() {
        let (_, provider) = setup();
        let alg = AsymmetricSignature::Ecdsa {
            hash_alg: Hash::Sha256.into(),
        };
        psec_provider::testing::check_hash_usage_flags_imply_message_flags(
            &provider,
            &app("alice"),
            ecc_p256_signing_key(),
            alg,
            &[0x5a; 32],
        );
    }

    #[test]
    fn signing_without_the_sign_flag_is_not_permitted() {
        let (_, provider) = setup();
        let owner = app("alice");
        let alg = AsymmetricSignature::Ecdsa {
            hash_alg: Hash::Sha256.into(),
        };
        let mut attributes = ecc_p256_signing_key();
        attributes.policy.usage_flags = Default::default();
        attributes.policy.usage_flags.set_verify_hash();
        generate(&provider, &owner, "k", attributes).unwrap();
        let errors = [
            sign_hash(&provider, &owner, "k", alg, &[1; 32]).unwrap_err(),
            sign_message(&provider, &owner, "k", alg, b"m").unwrap_err(),
        ];
        for error in errors {
            assert!(matches!(error, ProviderError::NotPermitted(_)), "{error}");
        }
    }

    /// psa-crypto gives Mbed TLS no `sign_message` flag, and messages are
    /// signed as hashes: such a key can not sign at all.
    #[test]
    fn a_key_allowed_sign_message_but_not_sign_hash_can_not_sign_messages() {
        let (_, provider) = setup();
        let owner = app("alice");
        let alg = AsymmetricSignature::Ecdsa {
            hash_alg: Hash::Sha256.into(),
        };
        let mut attributes = ecc_p256_signing_key();
        attributes.policy.usage_flags = Default::default();
        attributes.policy.usage_flags.set_sign_message();
        generate(&provider, &owner, "k", attributes).unwrap();
        let error = sign_message(&provider, &owner, "k", alg, b"m").unwrap_err();
        assert_eq!(
            error.status(),
            ResponseStatus::PsaErrorNotPermitted,
            "{error}"
        );
    }

    #[test]
    fn an_algorithm_the_policy_does_not_name_is_not_permitted() {
        let (_, provider) = setup();
        let owner = app("alice");
        let policy = AsymmetricSignature::Ecdsa {
            hash_alg: Hash::Sha256.into(),
        };
        generate(
            &provider,
            &owner,
            "k",
            signing_key(ecc_p256_signing_key(), policy),
        )
        .unwrap();
        let others = [
            AsymmetricSignature::Ecdsa {
                hash_alg: Hash::Sha384.into(),
            },
            AsymmetricSignature::DeterministicEcdsa {
                hash_alg: Hash::Sha256.into(),
            },
        ];
        for alg in others {
            let digest = vec![1; message_hash(alg).unwrap().hash_length()];
            let error = sign_hash(&provider, &owner, "k", alg, &digest).unwrap_err();
            assert!(
                matches!(error, ProviderError::NotPermitted(_)),
                "{alg:?}: {error}"
            );
        }
    }

    #[test]
    fn a_message_can_not_be_signed_with_a_hashless_algorithm() {
        let (_, provider) = setup();
        let owner = app("alice");
        let alg = AsymmetricSignature::EcdsaAny;
        generate(
            &provider,
            &owner,
            "k",
            signing_key(ecc_p256_signing_key(), alg),
        )
        .unwrap();
        let error = sign_message(&provider, &owner, "k", alg, b"m").unwrap_err();
        assert!(
            matches!(error, ProviderError::InvalidArgument(_)),
            "{error}"
        );
        // It still signs hashes of any length the curve takes.
        sign_hash(&provider, &owner, "k", alg, &[1; 20]).unwrap();
    }

    #[test]
    fn unknown_keys_and_other_applications_keys_do_not_exist() {
        let (_, provider) = setup();
        generate(&provider, &app("alice"), "k", ecc_p256_signing_key()).unwrap();
        let alg = AsymmetricSignature::Ecdsa {
            hash_alg: Hash::Sha256.into(),
        };
        for (owner, name) in [(app("alice"), "nope"), (app("bob"), "k")] {
            let errors = [
                sign_hash(&provider, &owner, name, alg, &[1; 32]).unwrap_err(),
                verify_hash(&provider, &owner, name, alg, &[1; 32], &[0; 64]).unwrap_err(),
                sign_message(&provider, &owner, name, alg, b"m").unwrap_err(),
                verify_message(&provider, &owner, name, alg, b"m", &[0; 64]).unwrap_err(),
            ];
            for error in errors {
                assert!(
                    matches!(error, ProviderError::KeyDoesNotExist(_)),
                    "{error}"
                );
            }
        }
    }
}
