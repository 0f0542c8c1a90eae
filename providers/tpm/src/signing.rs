//! Asymmetric signatures in the TPM: RSA PKCS#1 v1.5 (RSASSA), RSA PSS and
//! ECDSA, on hashes and on messages (hashed on the TPM first).
//!
//! Signatures are in PSA's formats: RSA signatures as the TPM gives them,
//! ECDSA as `r || s`, each the size of the curve. The TPM's ECDSA is
//! randomized; deterministic ECDSA is not supported. A message is hashed
//! in one TPM2_Hash command, so it can be at most 1024 bytes.

use crate::TpmProvider;
use crate::blob::left_pad;
use crate::keys::LoadedKey;
use crate::tpm::{status_of, tpm_error};
use psec_interface::ResponseStatus;
use psec_interface::operations::{
    psa_sign_hash, psa_sign_message, psa_verify_hash, psa_verify_message,
};
use psec_interface::psa_crypto::types::algorithm::{AsymmetricSignature, Hash, SignHash};
use psec_provider::policy::{Usage, require};
use psec_provider::{Application, AsymmetricSigning, ProviderError, Result};
use tss_esapi::Context;
use tss_esapi::constants::tss::{TPM2_RH_NULL, TPM2_ST_HASHCHECK};
use tss_esapi::interface_types::algorithm::HashingAlgorithm;
use tss_esapi::interface_types::resource_handles::Hierarchy;
use tss_esapi::interface_types::session_handles::AuthSession;
use tss_esapi::structures::{
    Digest, EccParameter, EccSignature, HashScheme, HashcheckTicket, MaxBuffer, PublicKeyRsa,
    RsaSignature, Signature, SignatureScheme,
};
use tss_esapi::tss2_esys::TPMT_TK_HASHCHECK;

/// The three schemes the TPM signs with.
#[derive(Debug, Clone, Copy)]
enum Scheme {
    RsaSsa,
    RsaPss,
    EcDsa,
}

/// The scheme and hash of `alg`.
fn scheme_of(alg: AsymmetricSignature) -> Result<(Scheme, Hash)> {
    let (scheme, hash) = match alg {
        AsymmetricSignature::RsaPkcs1v15Sign { hash_alg } => (Scheme::RsaSsa, hash_alg),
        AsymmetricSignature::RsaPss { hash_alg } => (Scheme::RsaPss, hash_alg),
        AsymmetricSignature::Ecdsa { hash_alg } => (Scheme::EcDsa, hash_alg),
        other => {
            return Err(ProviderError::NotSupported(format!(
                "{other:?} on the TPM provider"
            )));
        }
    };
    match hash {
        SignHash::Specific(hash) => Ok((scheme, hash)),
        SignHash::Any => Err(ProviderError::InvalidArgument(format!(
            "{alg:?} names no hash to sign with"
        ))),
    }
}

impl TpmProvider {
    /// Runs `f` on `app`'s key `name`, loaded in the TPM, with the scheme
    /// and the TPM hash of `alg`, once the request is checked in the order
    /// Parsec checks it: the key exists; `alg` is a scheme the TPM signs
    /// with (NotSupported) and names a hash (a wildcard is an invalid
    /// argument, as PSA says, where Parsec finds it not permitted); the
    /// key's policy allows `usage` with `alg` (NotPermitted); `hash`, if
    /// given, is as long as that hash, and the TPM has the hash. So a use
    /// the policy forbids is NotPermitted whatever else is wrong with the
    /// request.
    fn use_signing_key<T>(
        &self,
        app: &Application,
        name: &str,
        usage: Usage,
        alg: AsymmetricSignature,
        hash: Option<&[u8]>,
        f: impl FnOnce(&mut Context, &LoadedKey<'_>, Scheme, HashingAlgorithm) -> Result<T>,
    ) -> Result<T> {
        let (info, blob) = self.ready_key(app, name)?;
        let (scheme, psa_hash) = scheme_of(alg)?;
        require(name, &info.attributes, usage, Some(alg.into()))?;
        if let Some(hash) = hash {
            if hash.len() != psa_hash.hash_length() {
                return Err(ProviderError::InvalidArgument(format!(
                    "a {psa_hash:?} hash is {} bytes, not {}",
                    psa_hash.hash_length(),
                    hash.len()
                )));
            }
        }
        let tpm_hash = self.support().hash(psa_hash)?;
        self.with_loaded(name, info, blob, |context, key| {
            f(context, key, scheme, tpm_hash)
        })
    }
}

fn digest(bytes: &[u8]) -> Result<Digest> {
    Digest::try_from(bytes.to_vec()).map_err(|error| tpm_error(error, "reading the hash"))
}

/// `message` as the TPM hashes it in one command.
pub(crate) fn message_buffer(message: &[u8]) -> Result<MaxBuffer> {
    MaxBuffer::try_from(message.to_vec()).map_err(|_| {
        ProviderError::NotSupported(format!(
            "hashing {} bytes on the TPM: at most {} bytes at once",
            message.len(),
            MaxBuffer::MAX_SIZE
        ))
    })
}

/// `message` hashed on the TPM.
pub(crate) fn tpm_hash(
    context: &mut Context,
    alg: HashingAlgorithm,
    message: &[u8],
) -> Result<Vec<u8>> {
    let buffer = message_buffer(message)?;
    let (digest, _) = context
        .hash(buffer, alg, Hierarchy::Null)
        .map_err(|error| tpm_error(error, format!("hashing with {alg:?}")))?;
    Ok(digest.value().to_vec())
}

fn sign(
    context: &mut Context,
    key: &LoadedKey<'_>,
    scheme: Scheme,
    hash_alg: HashingAlgorithm,
    hash: &[u8],
) -> Result<Vec<u8>> {
    key.need_pair("sign")?;
    let hash_scheme = HashScheme::new(hash_alg);
    let tpm_scheme = match scheme {
        Scheme::RsaSsa => SignatureScheme::RsaSsa { hash_scheme },
        Scheme::RsaPss => SignatureScheme::RsaPss { hash_scheme },
        Scheme::EcDsa => SignatureScheme::EcDsa { hash_scheme },
    };
    // An unrestricted key signs any digest: no ticket needed.
    let ticket = HashcheckTicket::try_from(TPMT_TK_HASHCHECK {
        tag: TPM2_ST_HASHCHECK,
        hierarchy: TPM2_RH_NULL,
        digest: Default::default(),
    })
    .map_err(|error| tpm_error(error, "making a null ticket"))?;
    let digest = digest(hash)?;
    let handle = key.handle;
    let signature = context
        .execute_with_session(Some(AuthSession::Password), |context| {
            context.sign(handle, digest, tpm_scheme, ticket)
        })
        .map_err(|error| tpm_error(error, format!("signing with key `{}`", key.name)))?;
    match signature {
        Signature::RsaSsa(signature) | Signature::RsaPss(signature) => {
            Ok(signature.signature().value().to_vec())
        }
        Signature::EcDsa(signature) => {
            let mut out = left_pad(signature.signature_r().value(), key.bytes());
            out.extend(left_pad(signature.signature_s().value(), key.bytes()));
            Ok(out)
        }
        _ => Err(ProviderError::backend(
            ResponseStatus::PsaErrorHardwareFailure,
            "the TPM signed with another scheme than asked",
        )),
    }
}

fn invalid_signature(why: &str) -> ProviderError {
    ProviderError::backend(ResponseStatus::PsaErrorInvalidSignature, why.to_owned())
}

fn verify(
    context: &mut Context,
    key: &LoadedKey<'_>,
    scheme: Scheme,
    hash_alg: HashingAlgorithm,
    hash: &[u8],
    signature: &[u8],
) -> Result<()> {
    let bytes = key.bytes();
    let rsa = |signature: &[u8]| {
        if signature.len() != bytes {
            return Err(invalid_signature(
                "the signature is not the size of the key",
            ));
        }
        let signature = PublicKeyRsa::try_from(signature.to_vec())
            .map_err(|error| tpm_error(error, "reading the signature"))?;
        RsaSignature::create(hash_alg, signature)
            .map_err(|error| tpm_error(error, "reading the signature"))
    };
    let tpm_signature = match scheme {
        Scheme::RsaSsa => Signature::RsaSsa(rsa(signature)?),
        Scheme::RsaPss => Signature::RsaPss(rsa(signature)?),
        Scheme::EcDsa => {
            if signature.len() != 2 * bytes {
                return Err(invalid_signature(
                    "an ECDSA signature is r || s, each the size of the curve",
                ));
            }
            let (r, s) = signature.split_at(bytes);
            let parameter = |value: &[u8]| {
                EccParameter::try_from(value.to_vec())
                    .map_err(|error| tpm_error(error, "reading the signature"))
            };
            let signature = EccSignature::create(hash_alg, parameter(r)?, parameter(s)?)
                .map_err(|error| tpm_error(error, "reading the signature"))?;
            Signature::EcDsa(signature)
        }
    };
    let digest = digest(hash)?;
    context
        .verify_signature(key.handle, digest, tpm_signature)
        .map(|_| ())
        .map_err(|error| {
            let status = match status_of(&error) {
                // A value out of range (an RSA signature above the modulus,
                // an ECDSA r or s above the order) is a bad signature too.
                ResponseStatus::PsaErrorInvalidArgument => ResponseStatus::PsaErrorInvalidSignature,
                status => status,
            };
            ProviderError::backend(
                status,
                format!("verifying with key `{}`: {error}", key.name),
            )
        })
}

impl AsymmetricSigning for TpmProvider {
    fn sign_hash(
        &self,
        app: &Application,
        op: psa_sign_hash::Operation,
    ) -> Result<psa_sign_hash::Result> {
        self.use_signing_key(
            app,
            &op.key_name,
            Usage::SignHash,
            op.alg,
            Some(&op.hash),
            |context, key, scheme, hash_alg| {
                let signature = sign(context, key, scheme, hash_alg, &op.hash)?;
                Ok(psa_sign_hash::Result { signature })
            },
        )
    }

    fn verify_hash(
        &self,
        app: &Application,
        op: psa_verify_hash::Operation,
    ) -> Result<psa_verify_hash::Result> {
        self.use_signing_key(
            app,
            &op.key_name,
            Usage::VerifyHash,
            op.alg,
            Some(&op.hash),
            |context, key, scheme, hash_alg| {
                verify(context, key, scheme, hash_alg, &op.hash, &op.signature)?;
                Ok(psa_verify_hash::Result {})
            },
        )
    }

    fn sign_message(
        &self,
        app: &Application,
        op: psa_sign_message::Operation,
    ) -> Result<psa_sign_message::Result> {
        self.use_signing_key(
            app,
            &op.key_name,
            Usage::SignMessage,
            op.alg,
            None,
            |context, key, scheme, hash_alg| {
                key.need_pair("sign")?;
                let hash = tpm_hash(context, hash_alg, &op.message)?;
                let signature = sign(context, key, scheme, hash_alg, &hash)?;
                Ok(psa_sign_message::Result { signature })
            },
        )
    }

    fn verify_message(
        &self,
        app: &Application,
        op: psa_verify_message::Operation,
    ) -> Result<psa_verify_message::Result> {
        self.use_signing_key(
            app,
            &op.key_name,
            Usage::VerifyMessage,
            op.alg,
            None,
            |context, key, scheme, hash_alg| {
                let hash = tpm_hash(context, hash_alg, &op.message)?;
                verify(context, key, scheme, hash_alg, &hash, &op.signature)?;
                Ok(psa_verify_message::Result {})
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;
    use psec_interface::operations::{psa_export_public_key, psa_import_key};
    use psec_interface::psa_crypto::types::key::{Attributes, Type};
    use psec_provider::Provider;
    use std::sync::{Arc, OnceLock};

    const SHA256: SignHash = SignHash::Specific(Hash::Sha256);

    /// The schemes the TPM signs with, on the keys they apply to: RSA 2048
    /// and P-256 always, P-384, P-521 and RSA 3072 where the TPM has them
    /// (the swtpm of the tests has).
    fn cases(setup: &Setup) -> Vec<(Attributes, AsymmetricSignature)> {
        let pkcs1 = AsymmetricSignature::RsaPkcs1v15Sign { hash_alg: SHA256 };
        let pss = AsymmetricSignature::RsaPss { hash_alg: SHA256 };
        let mut cases = vec![
            (rsa_signing_key(2048, pkcs1), pkcs1),
            (rsa_signing_key(2048, pss), pss),
            (ecc_key(256), ECDSA_SHA256),
        ];
        if setup.provider.support().ecc_bits.contains(&384) {
            let alg = AsymmetricSignature::Ecdsa {
                hash_alg: Hash::Sha384.into(),
            };
            cases.push((ecc_key(384), alg));
        }
        if setup.provider.support().ecc_bits.contains(&521) {
            let alg = AsymmetricSignature::Ecdsa {
                hash_alg: Hash::Sha512.into(),
            };
            cases.push((ecc_key(521), alg));
        }
        if setup.provider.support().rsa_bits.contains(&3072) {
            let alg = AsymmetricSignature::RsaPss {
                hash_alg: Hash::Sha384.into(),
            };
            cases.push((rsa_signing_key(3072, alg), alg));
        }
        cases
    }

    fn hash_for(alg: AsymmetricSignature) -> Vec<u8> {
        let (_, hash) = scheme_of(alg).unwrap();
        vec![0x5a; hash.hash_length()]
    }

    #[test]
    fn each_scheme_signs_hashes_and_messages_that_verify() {
        let setup = setup();
        let owner = app("alice");
        let provider = &setup.provider;
        for (index, (attributes, alg)) in cases(&setup).into_iter().enumerate() {
            let name = format!("key-{index}");
            generate(provider, &owner, &name, attributes).unwrap();
            let hash = hash_for(alg);
            let signature = sign_hash(provider, &owner, &name, alg, &hash).unwrap();
            assert_eq!(
                signature.len(),
                attributes.bits.div_ceil(8)
                    * if attributes.key_type == Type::RsaKeyPair {
                        1
                    } else {
                        2
                    }
            );
            verify_hash(provider, &owner, &name, alg, &hash, &signature).unwrap();
            let signature = sign_message(provider, &owner, &name, alg, b"a message").unwrap();
            verify_message(provider, &owner, &name, alg, b"a message", &signature).unwrap();
        }
    }

    /// A key migrated from Parsec's legacy store may carry `sign_hash`
    /// without `sign_message`: it signs messages, as on every provider.
    #[test]
    fn a_key_stored_with_only_the_hash_flags_signs_and_verifies_messages_too() {
        let setup = setup();
        psec_provider::testing::check_hash_usage_flags_imply_message_flags(
            &setup.provider,
            &app("alice"),
            ecc_key(256),
            ECDSA_SHA256,
            &[0x5a; 32],
        );
    }

    #[test]
    fn a_message_signature_verifies_as_a_signature_of_its_hash() {
        let setup = setup();
        let owner = app("alice");
        generate(&setup.provider, &owner, "k", ecc_key(256)).unwrap();
        let signature = sign_message(&setup.provider, &owner, "k", ECDSA_SHA256, b"abc").unwrap();
        let digest = tpm_hash(
            &mut setup.provider.tpm().context,
            HashingAlgorithm::Sha256,
            b"abc",
        )
        .unwrap();
        assert_eq!(digest[..4], [0xba, 0x78, 0x16, 0xbf]);
        verify_hash(
            &setup.provider,
            &owner,
            "k",
            ECDSA_SHA256,
            &digest,
            &signature,
        )
        .unwrap();
    }

    /// The Mbed Crypto provider, in a working directory of its own.
    fn mbed_crypto() -> Arc<dyn Provider> {
        static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
        DIR.get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            std::env::set_current_dir(dir.path()).unwrap();
            dir
        });
        let store = Arc::new(InMemoryKeyStoreForTests::default());
        psec_provider_mbed_crypto::build("mbed".into(), store, Default::default()).unwrap()
    }

    #[test]
    fn tpm_signatures_verify_in_the_mbed_crypto_provider_and_back() {
        let setup = setup();
        let owner = app("alice");
        let mbed = mbed_crypto();
        let mbed_keys = mbed.key_management().unwrap();
        let mbed_signer = mbed.asymmetric_signing().unwrap();
        for (index, (attributes, alg)) in cases(&setup).into_iter().enumerate() {
            let name = format!("key-{index}");
            generate(&setup.provider, &owner, &name, attributes).unwrap();
            let public = export_public(&setup.provider, &owner, &name).unwrap();
            let key_type = match attributes.key_type {
                Type::EccKeyPair { curve_family } => Type::EccPublicKey { curve_family },
                _ => Type::RsaPublicKey,
            };
            let op = psa_import_key::Operation {
                key_name: name.clone(),
                attributes: Attributes {
                    key_type,
                    ..attributes
                },
                data: public.into(),
            };
            mbed_keys.import_key(&owner, op).unwrap();
            let hash = hash_for(alg);
            let signature = sign_hash(&setup.provider, &owner, &name, alg, &hash).unwrap();
            let verify = |signature: Vec<u8>| psa_verify_hash::Operation {
                key_name: name.clone(),
                alg,
                hash: hash.clone(),
                signature,
            };
            mbed_signer
                .verify_hash(&owner, verify(signature.clone()))
                .unwrap();
            let mut tampered = signature;
            tampered[9] ^= 1;
            let error = mbed_signer
                .verify_hash(&owner, verify(tampered))
                .unwrap_err();
            assert_eq!(
                error.status(),
                ResponseStatus::PsaErrorInvalidSignature,
                "{error}"
            );
        }
        // And an Mbed Crypto signature verifies with its public key in the TPM.
        mbed_keys
            .generate_key(
                &owner,
                psec_interface::operations::psa_generate_key::Operation {
                    key_name: "mbed".into(),
                    attributes: ecc_key(256),
                },
            )
            .unwrap();
        let public = mbed_keys
            .export_public_key(
                &owner,
                psa_export_public_key::Operation {
                    key_name: "mbed".into(),
                },
            )
            .unwrap()
            .data;
        let mut attributes = ecc_key(256);
        attributes.key_type = Type::EccPublicKey {
            curve_family: psec_interface::psa_crypto::types::key::EccFamily::SecpR1,
        };
        import(&setup.provider, &owner, "from-mbed", attributes, &public).unwrap();
        let signature = mbed_signer
            .sign_hash(
                &owner,
                psa_sign_hash::Operation {
                    key_name: "mbed".into(),
                    alg: ECDSA_SHA256,
                    hash: vec![3; 32],
                },
            )
            .unwrap()
            .signature;
        verify_hash(
            &setup.provider,
            &owner,
            "from-mbed",
            ECDSA_SHA256,
            &[3; 32],
            &signature,
        )
        .unwrap();
    }

    /// Runs openssl with `args` in `dir`; whether it succeeded.
    fn openssl(dir: &std::path::Path, args: &[&str]) -> bool {
        let output = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl runs (is it installed?)");
        if !output.status.success() {
            eprintln!(
                "openssl {args:?}: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        output.status.success()
    }

    #[test]
    fn tpm_message_signatures_verify_with_openssl_on_the_exported_public_key() {
        let setup = setup();
        let owner = app("alice");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path();
        std::fs::write(path.join("message"), b"a message for openssl").unwrap();
        for (index, (attributes, alg)) in cases(&setup).into_iter().take(3).enumerate() {
            let name = format!("key-{index}");
            generate(&setup.provider, &owner, &name, attributes).unwrap();
            let public = export_public(&setup.provider, &owner, &name).unwrap();
            let signature = sign_message(
                &setup.provider,
                &owner,
                &name,
                alg,
                b"a message for openssl",
            )
            .unwrap();
            let mut sigopts: Vec<&str> = Vec::new();
            let signature = if attributes.key_type == Type::RsaKeyPair {
                std::fs::write(path.join("public.der"), &public).unwrap();
                assert!(openssl(
                    path,
                    &[
                        "rsa",
                        "-RSAPublicKey_in",
                        "-inform",
                        "DER",
                        "-in",
                        "public.der"
                    ]
                    .into_iter()
                    .chain(["-pubout", "-out", "public.pem"])
                    .collect::<Vec<_>>()
                ));
                if matches!(alg, AsymmetricSignature::RsaPss { .. }) {
                    // PSS with a salt as long as the hash.
                    sigopts = vec![
                        "-sigopt",
                        "rsa_padding_mode:pss",
                        "-sigopt",
                        "rsa_pss_saltlen:digest",
                    ];
                }
                signature
            } else {
                // SubjectPublicKeyInfo of a P-256 key, then the point.
                let mut spki = vec![
                    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
                    0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
                ];
                spki.extend(&public);
                std::fs::write(path.join("public.der"), &spki).unwrap();
                assert!(openssl(
                    path,
                    &[
                        "pkey",
                        "-pubin",
                        "-inform",
                        "DER",
                        "-in",
                        "public.der",
                        "-out",
                        "public.pem"
                    ]
                ));
                // ECDSA-Sig-Value: SEQUENCE { r INTEGER, s INTEGER }.
                let (r, s) = signature.split_at(32);
                use der::Encode;
                use der::asn1::UintRef;
                [UintRef::new(r).unwrap(), UintRef::new(s).unwrap()]
                    .to_der()
                    .unwrap()
            };
            std::fs::write(path.join("signature"), &signature).unwrap();
            let mut args = vec![
                "dgst",
                "-sha256",
                "-verify",
                "public.pem",
                "-signature",
                "signature",
            ];
            args.extend(&sigopts);
            args.push("message");
            assert!(openssl(path, &args), "{alg:?}");
            std::fs::write(path.join("message"), b"another message").unwrap();
            assert!(!openssl(path, &args), "{alg:?}");
            std::fs::write(path.join("message"), b"a message for openssl").unwrap();
        }
    }

    #[test]
    fn a_tampered_signature_hash_or_message_is_an_invalid_signature() {
        let setup = setup();
        let owner = app("alice");
        let provider = &setup.provider;
        for (index, (attributes, alg)) in cases(&setup).into_iter().take(3).enumerate() {
            let name = format!("key-{index}");
            generate(provider, &owner, &name, attributes).unwrap();
            let hash = hash_for(alg);
            let mut signature = sign_hash(provider, &owner, &name, alg, &hash).unwrap();
            let mut other = hash.clone();
            other[0] ^= 1;
            let short = &signature[1..];
            let errors = [
                verify_hash(provider, &owner, &name, alg, &other, &signature).unwrap_err(),
                verify_hash(provider, &owner, &name, alg, &hash, short).unwrap_err(),
                {
                    signature[10] ^= 1;
                    verify_hash(provider, &owner, &name, alg, &hash, &signature).unwrap_err()
                },
                {
                    let signature = sign_message(provider, &owner, &name, alg, b"one").unwrap();
                    verify_message(provider, &owner, &name, alg, b"two", &signature).unwrap_err()
                },
            ];
            for error in errors {
                assert_eq!(
                    error.status(),
                    ResponseStatus::PsaErrorInvalidSignature,
                    "{alg:?}: {error}"
                );
            }
        }
    }

    #[test]
    fn signing_without_the_flag_or_with_another_algorithm_is_not_permitted() {
        let setup = setup();
        let owner = app("alice");
        let mut verify_only = ecc_key(256);
        verify_only.policy.usage_flags = Default::default();
        verify_only.policy.usage_flags.set_verify_hash();
        generate(&setup.provider, &owner, "verify-only", verify_only).unwrap();
        let mut sha256_only = ecc_key(256);
        sha256_only.policy.permitted_algorithms = ECDSA_SHA256.into();
        generate(&setup.provider, &owner, "sha256-only", sha256_only).unwrap();
        let sha384 = AsymmetricSignature::Ecdsa {
            hash_alg: Hash::Sha384.into(),
        };
        let errors = [
            sign_hash(
                &setup.provider,
                &owner,
                "verify-only",
                ECDSA_SHA256,
                &[1; 32],
            )
            .unwrap_err(),
            sign_message(&setup.provider, &owner, "verify-only", ECDSA_SHA256, b"m").unwrap_err(),
            sign_hash(&setup.provider, &owner, "sha256-only", sha384, &[1; 48]).unwrap_err(),
        ];
        for error in errors {
            assert!(matches!(error, ProviderError::NotPermitted(_)), "{error}");
        }
    }

    #[test]
    fn an_algorithm_the_policy_does_not_permit_is_not_permitted_for_hashes_and_messages() {
        let setup = setup();
        let owner = app("alice");
        let provider = &setup.provider;
        let pkcs1 = |hash: Hash| AsymmetricSignature::RsaPkcs1v15Sign {
            hash_alg: hash.into(),
        };
        let ecdsa = |hash: Hash| AsymmetricSignature::Ecdsa {
            hash_alg: hash.into(),
        };
        let rsa = rsa_signing_key(2048, pkcs1(Hash::Sha256));
        generate(provider, &owner, "rsa", rsa).unwrap();
        let mut ecc = ecc_key(256);
        ecc.policy.permitted_algorithms = ECDSA_SHA256.into();
        generate(provider, &owner, "ecc", ecc).unwrap();
        let rsa_signature =
            sign_hash(provider, &owner, "rsa", pkcs1(Hash::Sha256), &[1; 32]).unwrap();
        let ecc_signature = sign_hash(provider, &owner, "ecc", ECDSA_SHA256, &[1; 32]).unwrap();
        // Other hashes (one the TPM lacks: SHA3-256) and another scheme,
        // each with a hash of its own length and one of SHA-256's.
        let forbidden = [
            ("rsa", pkcs1(Hash::Sha384), &rsa_signature),
            ("rsa", pkcs1(Hash::Sha512), &rsa_signature),
            ("rsa", pkcs1(Hash::Sha3_256), &rsa_signature),
            (
                "rsa",
                AsymmetricSignature::RsaPss { hash_alg: SHA256 },
                &rsa_signature,
            ),
            ("ecc", ecdsa(Hash::Sha384), &ecc_signature),
        ];
        for (name, alg, signature) in forbidden {
            let own_length = vec![1; hash_for(alg).len()];
            let errors = [
                sign_hash(provider, &owner, name, alg, &own_length).unwrap_err(),
                sign_hash(provider, &owner, name, alg, &[1; 32]).unwrap_err(),
                verify_hash(provider, &owner, name, alg, &own_length, signature).unwrap_err(),
                verify_hash(provider, &owner, name, alg, &[1; 32], signature).unwrap_err(),
                sign_message(provider, &owner, name, alg, b"m").unwrap_err(),
                verify_message(provider, &owner, name, alg, b"m", signature).unwrap_err(),
            ];
            for error in errors {
                assert_eq!(
                    error.status(),
                    ResponseStatus::PsaErrorNotPermitted,
                    "{name} {alg:?}: {error}"
                );
            }
        }
    }

    #[test]
    fn an_unknown_key_does_not_exist_whatever_the_algorithm_or_hash() {
        let setup = setup();
        let owner = app("alice");
        let deterministic = AsymmetricSignature::DeterministicEcdsa { hash_alg: SHA256 };
        let errors = [
            sign_hash(&setup.provider, &owner, "nope", ECDSA_SHA256, &[1; 31]).unwrap_err(),
            sign_hash(&setup.provider, &owner, "nope", deterministic, &[1; 32]).unwrap_err(),
            verify_message(
                &setup.provider,
                &owner,
                "nope",
                deterministic,
                b"m",
                &[0; 64],
            )
            .unwrap_err(),
        ];
        for error in errors {
            assert!(
                matches!(error, ProviderError::KeyDoesNotExist(_)),
                "{error}"
            );
        }
    }

    #[test]
    fn a_public_key_verifies_but_can_not_sign() {
        let setup = setup();
        let owner = app("alice");
        let pss = AsymmetricSignature::RsaPss { hash_alg: SHA256 };
        generate(&setup.provider, &owner, "pair", rsa_signing_key(2048, pss)).unwrap();
        let public = export_public(&setup.provider, &owner, "pair").unwrap();
        let mut attributes = rsa_signing_key(2048, pss);
        attributes.key_type = Type::RsaPublicKey;
        import(&setup.provider, &owner, "public", attributes, &public).unwrap();
        let signature = sign_message(&setup.provider, &owner, "pair", pss, b"m").unwrap();
        verify_message(&setup.provider, &owner, "public", pss, b"m", &signature).unwrap();
        let error = sign_message(&setup.provider, &owner, "public", pss, b"m").unwrap_err();
        assert_eq!(
            error.status(),
            ResponseStatus::PsaErrorInvalidArgument,
            "{error}"
        );
    }

    #[test]
    fn bad_requests_are_refused_with_their_documented_status() {
        let setup = setup();
        let owner = app("alice");
        generate(&setup.provider, &owner, "k", ecc_key(256)).unwrap();
        let any = AsymmetricSignature::Ecdsa {
            hash_alg: SignHash::Any,
        };
        let deterministic = AsymmetricSignature::DeterministicEcdsa { hash_alg: SHA256 };
        let cases = [
            (
                sign_hash(&setup.provider, &owner, "k", ECDSA_SHA256, &[1; 31]).unwrap_err(),
                ResponseStatus::PsaErrorInvalidArgument,
            ),
            (
                sign_hash(&setup.provider, &owner, "k", any, &[1; 32]).unwrap_err(),
                ResponseStatus::PsaErrorInvalidArgument,
            ),
            (
                sign_hash(&setup.provider, &owner, "k", deterministic, &[1; 32]).unwrap_err(),
                ResponseStatus::PsaErrorNotSupported,
            ),
            (
                sign_message(&setup.provider, &owner, "k", ECDSA_SHA256, &[0; 1025]).unwrap_err(),
                ResponseStatus::PsaErrorNotSupported,
            ),
        ];
        for (error, status) in cases {
            assert_eq!(error.status(), status, "{error}");
        }
        sign_message(&setup.provider, &owner, "k", ECDSA_SHA256, &[0; 1024]).unwrap();
    }
}
