//! Tests of the provider against a real SoftHSM2 token, each in its own
//! process with its own token directory (see `test_support`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

use crate::test_support::*;
use crate::{Pkcs11Provider, Pkcs11Settings, TokenChoice};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, KeyType, ObjectClass};
use psec_interface::operations::{
    can_do_crypto, psa_aead_decrypt, psa_aead_encrypt, psa_asymmetric_decrypt,
    psa_asymmetric_encrypt, psa_cipher_decrypt, psa_cipher_encrypt, psa_export_key,
    psa_export_public_key, psa_generate_key, psa_generate_random, psa_hash_compare,
    psa_hash_compute, psa_mac_compute, psa_mac_verify, psa_raw_key_agreement, psa_sign_hash,
    psa_sign_message, psa_verify_hash, psa_verify_message,
};
use psec_interface::psa_crypto::types::algorithm::{
    Aead as AeadAlg, AeadWithDefaultLengthTag, Algorithm, AsymmetricEncryption as Encryption,
    AsymmetricSignature, Cipher, FullLengthMac, Hash, KeyAgreement as AgreementAlg, Mac as MacAlg,
    RawKeyAgreement, SignHash,
};
use psec_interface::psa_crypto::types::key::{Attributes, EccFamily, Type, UsageFlags};
use psec_interface::{NativeOperation, NativeResult, Opcode, ResponseStatus};
use psec_provider::{
    Aead, Application, AsymmetricEncryption, AsymmetricSigning, Hashing, KeyAgreement, KeyExport,
    KeyInfo, KeyStore, Mac, ProviderError, Random, execute, supported_opcodes,
};
use std::process::Command;
use std::sync::Arc;

fn status(error: &ProviderError) -> ResponseStatus {
    error.status()
}

fn ecdsa(hash: Hash) -> AsymmetricSignature {
    AsymmetricSignature::Ecdsa {
        hash_alg: hash.into(),
    }
}

fn pkcs1(hash: Hash) -> AsymmetricSignature {
    AsymmetricSignature::RsaPkcs1v15Sign {
        hash_alg: hash.into(),
    }
}

fn pss(hash: Hash) -> AsymmetricSignature {
    AsymmetricSignature::RsaPss {
        hash_alg: hash.into(),
    }
}

fn rsa_any_pkcs1() -> Algorithm {
    AsymmetricSignature::RsaPkcs1v15Sign {
        hash_alg: SignHash::Any,
    }
    .into()
}

/// A P-256 public key that verifies hashes with `alg`, for the Mbed
/// Crypto provider that checks this provider's signatures.
fn p256_verify_key(alg: AsymmetricSignature) -> Attributes {
    attributes(
        Type::EccPublicKey {
            curve_family: EccFamily::SecpR1,
        },
        256,
        alg.into(),
        |flags| {
            flags.set_verify_hash();
        },
    )
}

fn sha256(data: &[u8]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data");
    std::fs::write(&path, data).unwrap();
    let out = Command::new("openssl")
        .args(["dgst", "-sha256", "-binary"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout
}

/// An RSA private key made by openssl, as PKCS#1 DER, and its PEM file.
fn openssl_rsa_key(dir: &std::path::Path, bits: usize) -> (Vec<u8>, std::path::PathBuf) {
    let pem = dir.join("key.pem");
    let der = dir.join("key.der");
    let ok = Command::new("openssl")
        .args(["genrsa", "-out"])
        .arg(&pem)
        .arg(bits.to_string())
        .output()
        .unwrap();
    assert!(ok.status.success(), "{ok:?}");
    let ok = Command::new("openssl")
        .args(["rsa", "-traditional", "-outform", "DER", "-in"])
        .arg(&pem)
        .arg("-out")
        .arg(&der)
        .output()
        .unwrap();
    assert!(ok.status.success(), "{ok:?}");
    (std::fs::read(der).unwrap(), pem)
}

// ---------------------------------------------------------------- start-up

#[test]
fn a_missing_library_names_the_path_and_the_loader_error() {
    let store = Arc::new(InMemoryKeyStoreForTests::default());
    let settings = Pkcs11Settings::new("/nonexistent/libpkcs11-missing.so");
    let error = Pkcs11Provider::new("p".into(), store, settings).unwrap_err();
    let text = error.to_string();
    assert!(text.contains("/nonexistent/libpkcs11-missing.so"), "{text}");
    assert!(text.contains("library_path"), "{text}");
    assert!(text.contains("No such file"), "{text}");
}

softhsm_test! {
    fn a_wrong_pin_is_a_start_up_error_that_never_shows_the_pin() {
        let store = Arc::new(InMemoryKeyStoreForTests::default());
        let settings =
            Pkcs11Settings::new(library()).with_user_pin(zeroize::Zeroizing::new(b"999111".to_vec()));
        let error = Pkcs11Provider::new("p".into(), store, settings).unwrap_err();
        let text = error.to_string();
        assert!(text.contains("user PIN") && text.contains("wrong"), "{text}");
        assert!(text.contains("psec-test"), "{text}");
        assert!(!text.contains("999111"), "{text}");
    }
}

softhsm_test! {
    fn a_locked_pin_is_a_start_up_error_that_says_how_to_unlock_it() {
        lock_user_pins();
        let store = Arc::new(InMemoryKeyStoreForTests::default());
        let error = Pkcs11Provider::new("p".into(), store, settings()).unwrap_err();
        let text = error.to_string();
        assert!(text.contains("user PIN") && text.contains("is locked"), "{text}");
        assert!(text.contains("psec-test") && text.contains("SO PIN"), "{text}");
        assert!(!text.contains(USER_PIN), "{text}");
    }
}

#[test]
fn no_initialised_token_is_a_start_up_error() {
    on_softhsm(
        concat!(module_path!(), "::no_initialised_token_is_a_start_up_error"),
        &[],
        || {
            let store = Arc::new(InMemoryKeyStoreForTests::default());
            let error = Pkcs11Provider::new("p".into(), store, settings()).unwrap_err();
            let text = error.to_string();
            assert!(text.contains("no initialised token"), "{text}");
        },
    );
}

#[test]
fn several_tokens_need_a_choice_and_the_error_lists_them() {
    on_softhsm(
        concat!(
            module_path!(),
            "::several_tokens_need_a_choice_and_the_error_lists_them"
        ),
        &["first", "second"],
        || {
            let store: Arc<dyn KeyStore> = Arc::new(InMemoryKeyStoreForTests::default());
            let error =
                Pkcs11Provider::new("p".into(), Arc::clone(&store), settings()).unwrap_err();
            let text = error.to_string();
            assert!(text.contains("several tokens"), "{text}");
            assert!(
                text.contains("`first`") && text.contains("`second`"),
                "{text}"
            );
            assert!(
                text.contains("slot_number") && text.contains("serial_number"),
                "{text}"
            );

            let mut wrong = settings();
            wrong.token = TokenChoice::Serial("no-such-serial".into());
            let error = Pkcs11Provider::new("p".into(), Arc::clone(&store), wrong).unwrap_err();
            assert!(error.to_string().contains("`first`"), "{error}");

            // The serial the listing gives selects that token.
            let serial = text
                .split("serial_number = \"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .unwrap()
                .to_owned();
            let chosen = settings().with_token(None, Some(serial));
            Pkcs11Provider::new("p".into(), store, chosen).unwrap();
        },
    );
}

// ---------------------------------------------------------- capabilities

softhsm_test! {
    fn capabilities_come_from_the_token_and_export_needs_allow_export() {
        let (_, provider) = setup();
        let opcodes = supported_opcodes(&provider);
        for opcode in [
            Opcode::PsaGenerateKey,
            Opcode::PsaImportKey,
            Opcode::PsaExportPublicKey,
            Opcode::PsaDestroyKey,
            Opcode::PsaExportKey,
            Opcode::PsaSignHash,
            Opcode::PsaVerifyMessage,
            Opcode::PsaAsymmetricEncrypt,
            Opcode::PsaAsymmetricDecrypt,
            Opcode::PsaGenerateRandom,
            Opcode::CanDoCrypto,
        ] {
            assert!(opcodes.contains(&opcode), "{opcode:?} in {opcodes:?}");
        }
        assert!(!opcodes.contains(&Opcode::AttestKey));
        let store: Arc<dyn KeyStore> = Arc::new(InMemoryKeyStoreForTests::default());
        let no_export = crate::build("p".into(), store, settings().with_allow_export(false)).unwrap();
        let opcodes = supported_opcodes(no_export.as_ref());
        assert!(!opcodes.contains(&Opcode::PsaExportKey));
        assert!(opcodes.contains(&Opcode::PsaSignHash));
        assert_eq!(no_export.info().id, psec_interface::ProviderId::Pkcs11);
    }
}

softhsm_test! {
    fn can_do_crypto_follows_the_token_and_the_supported_keys() {
        let (_, provider) = setup();
        let check = |check_type, attributes: Attributes| {
            psec_provider::can_do_crypto(
                &provider,
                can_do_crypto::Operation {
                    check_type,
                    attributes,
                },
            )
            .is_ok()
        };
        use can_do_crypto::CheckType::{Derive, Generate, Import, Use};
        for bits in [256, 384, 521] {
            assert!(check(Generate, ecc_key(bits)), "{bits}");
            assert!(check(Use, ecc_key(bits)), "{bits}");
        }
        assert!(!check(Generate, ecc_key(224)));
        // A key pair is imported from its private scalar on these curves.
        for bits in [256, 384, 521] {
            assert!(check(Import, ecc_key(bits)), "{bits}");
        }
        assert!(!check(Import, ecc_key(224)));
        let k1 = attributes(
            Type::EccKeyPair {
                curve_family: EccFamily::SecpK1,
            },
            256,
            ecdsa(Hash::Sha256).into(),
            |_| {},
        );
        assert!(!check(Import, k1));
        assert!(!check(Derive, ecc_key(256)));
        for bits in [1024, 2048, 3072, 4096] {
            assert!(check(Generate, rsa_key(bits, pss(Hash::Sha256).into())), "{bits}");
        }
        assert!(!check(Generate, rsa_key(512, rsa_any_pkcs1())));
        assert!(!check(Generate, rsa_key(8192, rsa_any_pkcs1())));
        #[allow(deprecated, reason = "OAEP with SHA-1 is still used")]
        let oaep_sha1 = Encryption::RsaOaep {
            hash_alg: Hash::Sha1,
        };
        assert!(check(Use, rsa_key(2048, oaep_sha1.into())));
        // SoftHSM2 2.6 lists CKM_RSA_PKCS_OAEP but takes only SHA-1.
        let oaep_sha256 = Encryption::RsaOaep {
            hash_alg: Hash::Sha256,
        };
        assert!(!check(Use, rsa_key(2048, oaep_sha256.into())));
        assert!(!check(Generate, rsa_key(2048, oaep_sha256.into())));
        assert!(!check(Use, rsa_key(2048, ecdsa(Hash::Sha256).into())));
        assert!(check(
            Generate,
            attributes(Type::Aes, 128, Algorithm::None, |_| {})
        ));
        assert!(!check(
            Generate,
            attributes(Type::Aes, 512, Algorithm::None, |_| {})
        ));
        assert!(!check(
            Generate,
            attributes(Type::Chacha20, 256, Algorithm::None, |_| {})
        ));
        let crypt = |flags: &mut UsageFlags| {
            flags.set_encrypt().set_decrypt();
        };
        assert!(check(
            Use,
            attributes(Type::Aes, 256, Cipher::CbcPkcs7.into(), crypt)
        ));
        assert!(check(
            Use,
            attributes(Type::Aes, 256, Cipher::Ctr.into(), crypt)
        ));
        // No PKCS#11 mechanism this provider uses does CFB.
        assert!(!check(
            Use,
            attributes(Type::Aes, 256, Cipher::Cfb.into(), crypt)
        ));
        let public = attributes(Type::RsaPublicKey, 2048, rsa_any_pkcs1(), |flags| {
            flags.set_verify_hash();
        });
        assert!(check(Import, public));
        assert!(!check(Generate, public));
    }
}

softhsm_test! {
    fn can_do_crypto_refuses_a_policy_without_a_crypto_usage_flag_as_parsec_does() {
        let (_, provider) = setup();
        let check = |check_type, attributes| {
            psec_provider::can_do_crypto(
                &provider,
                can_do_crypto::Operation {
                    check_type,
                    attributes,
                },
            )
        };
        use can_do_crypto::CheckType::{Generate, Import, Use};
        let export_only = attributes(Type::RsaKeyPair, 2048, pkcs1(Hash::Sha256).into(), |flags| {
            flags.set_export();
        });
        for check_type in [Use, Generate, Import] {
            let error = check(check_type, export_only).unwrap_err();
            assert!(matches!(error, ProviderError::NotSupported(_)), "{check_type:?}: {error}");
            check(check_type, rsa_key(2048, pkcs1(Hash::Sha256).into())).unwrap();
        }
    }
}

softhsm_test! {
    fn can_do_crypto_needs_the_size_of_a_key_to_use_and_of_every_curve_as_parsec_does() {
        let (_, provider) = setup();
        let check = |check_type, attributes| {
            psec_provider::can_do_crypto(
                &provider,
                can_do_crypto::Operation {
                    check_type,
                    attributes,
                },
            )
        };
        use can_do_crypto::CheckType::{Generate, Import, Use};
        let not_supported = |answer: Result<_, ProviderError>| {
            let error = answer.unwrap_err();
            assert!(matches!(error, ProviderError::NotSupported(_)), "{error}");
        };
        for check_type in [Use, Generate, Import] {
            not_supported(check(check_type, ecc_key(0)));
        }
        let mut ecc_public = ecc_key(0);
        ecc_public.key_type = Type::EccPublicKey { curve_family: EccFamily::SecpR1 };
        ecc_public.policy.permitted_algorithms = Algorithm::None;
        not_supported(check(Import, ecc_public));
        not_supported(check(Use, rsa_key(0, pkcs1(Hash::Sha256).into())));
        let aes = attributes(Type::Aes, 0, Cipher::Ctr.into(), |flags| {
            flags.set_encrypt();
        });
        not_supported(check(Use, aes));
        // An RSA or AES key to import without an algorithm takes the size
        // of its data.
        let mut rsa_public = rsa_key(0, Algorithm::None);
        rsa_public.key_type = Type::RsaPublicKey;
        check(Import, rsa_public).unwrap();
        check(Import, attributes(Type::Aes, 0, Algorithm::None, |_| {})).unwrap();
    }
}

softhsm_test! {
    fn operations_route_through_execute_and_need_an_application() {
        let (_, provider) = setup();
        let owner = app("alice");
        let generate = NativeOperation::PsaGenerateKey(psa_generate_key::Operation {
            key_name: "k".into(),
            attributes: ecc_key(256),
        });
        let error = execute(&provider, None, generate.clone()).unwrap_err();
        assert!(matches!(error, ProviderError::NotAuthenticated), "{error}");
        execute(&provider, Some(&owner), generate).unwrap();
        let export = NativeOperation::PsaExportPublicKey(psa_export_public_key::Operation {
            key_name: "k".into(),
        });
        let result = execute(&provider, Some(&owner), export).unwrap();
        assert!(matches!(result, NativeResult::PsaExportPublicKey(_)));
    }
}

// ---------------------------------------------------------- key management

softhsm_test! {
    fn generating_a_public_key_type_is_an_invalid_argument() {
        let (store, provider) = setup();
        let owner = app("alice");
        let mut ecc_public = ecc_key(256);
        ecc_public.key_type = Type::EccPublicKey {
            curve_family: EccFamily::SecpR1,
        };
        let mut rsa_public = rsa_key(2048, pkcs1(Hash::Sha256).into());
        rsa_public.key_type = Type::RsaPublicKey;
        for attributes in [ecc_public, rsa_public] {
            let error = generate(&provider, &owner, "k", attributes).unwrap_err();
            assert_eq!(
                error.status(),
                ResponseStatus::PsaErrorInvalidArgument,
                "{attributes:?}: {error}"
            );
        }
        assert!(store.keys_in(PROVIDER_NAME).unwrap().is_empty());
        assert!(store.unfinished(PROVIDER_NAME).unwrap().is_empty());
    }
}

softhsm_test! {
    fn generated_ec_keys_sign_verify_and_export_uncompressed_points() {
        let (store, provider) = setup();
        let owner = app("alice");
        for (bits, hash, point_len) in [
            (256, Hash::Sha256, 65),
            (384, Hash::Sha384, 97),
            (521, Hash::Sha512, 133),
        ] {
            let name = format!("ec{bits}");
            generate(&provider, &owner, &name, ecc_key(bits)).unwrap();
            let info = store.get(&identity_of(&owner, &name)).unwrap().unwrap();
            assert_eq!(info.backend_id.len(), 16);
            assert_eq!(info.attributes.bits, bits);
            let point = export_public(&provider, &owner, &name).unwrap();
            assert_eq!(point.len(), point_len, "{bits}");
            assert_eq!(point[0], 4);
            let digest = vec![7u8; hash.hash_length()];
            let signature = sign_hash(&provider, &owner, &name, ecdsa(hash), &digest).unwrap();
            assert_eq!(signature.len(), point_len - 1, "raw r || s");
            verify_hash(&provider, &owner, &name, ecdsa(hash), &digest, &signature).unwrap();
        }
    }
}

softhsm_test! {
    fn generated_rsa_keys_export_der_rsa_public_keys_with_the_asked_size() {
        let (store, provider) = setup();
        let owner = app("alice");
        for bits in [1024, 2048, 3072] {
            let name = format!("rsa{bits}");
            generate(&provider, &owner, &name, rsa_key(bits, rsa_any_pkcs1())).unwrap();
            let der = export_public(&provider, &owner, &name).unwrap();
            let (modulus, exponent) = crate::der::parse_rsa_public_key(&der).unwrap();
            assert_eq!(crate::der::bit_length(&modulus), bits);
            assert_eq!(exponent, [1, 0, 1]);
            let info = store.get(&identity_of(&owner, &name)).unwrap().unwrap();
            assert_eq!(info.attributes.bits, bits);
        }
    }
}

softhsm_test! {
    fn an_exported_public_key_imports_as_a_public_key_that_verifies() {
        let (_, provider) = setup();
        let owner = app("alice");
        generate(&provider, &owner, "ec", ecc_key(256)).unwrap();
        generate(&provider, &owner, "rsa", rsa_key(2048, rsa_any_pkcs1())).unwrap();
        let digest = [9u8; 32];
        for (name, key_type, alg) in [
            (
                "ec",
                Type::EccPublicKey {
                    curve_family: EccFamily::SecpR1,
                },
                ecdsa(Hash::Sha256),
            ),
            ("rsa", Type::RsaPublicKey, pkcs1(Hash::Sha256)),
        ] {
            let public = export_public(&provider, &owner, name).unwrap();
            let signature = sign_hash(&provider, &owner, name, alg, &digest).unwrap();
            let attributes = attributes(key_type, 0, alg.into(), |flags| {
                flags.set_verify_hash();
            });
            let imported = format!("{name}-public");
            import(&provider, &owner, &imported, attributes, &public).unwrap();
            assert_eq!(export_public(&provider, &owner, &imported).unwrap(), public);
            verify_hash(&provider, &owner, &imported, alg, &digest, &signature).unwrap();
            let error = sign_hash(&provider, &owner, &imported, alg, &digest).unwrap_err();
            assert!(matches!(error, ProviderError::NotPermitted(_)), "{error}");
        }
    }
}

softhsm_test! {
    fn an_openssl_rsa_key_imports_and_signs_exactly_as_openssl_does() {
        let (_, provider) = setup();
        let owner = app("alice");
        let dir = tempfile::tempdir().unwrap();
        let (der, pem) = openssl_rsa_key(dir.path(), 2048);
        import(&provider, &owner, "k", rsa_key(0, rsa_any_pkcs1()), &der).unwrap();
        let message = b"signed by psec through PKCS#11";
        let digest = sha256(message);
        let signature = sign_hash(&provider, &owner, "k", pkcs1(Hash::Sha256), &digest).unwrap();
        let message_path = dir.path().join("message");
        std::fs::write(&message_path, message).unwrap();
        let expected = Command::new("openssl")
            .args(["dgst", "-sha256", "-sign"])
            .arg(&pem)
            .arg(&message_path)
            .output()
            .unwrap();
        assert!(expected.status.success());
        assert_eq!(signature, expected.stdout);
    }
}

softhsm_test! {
    fn malformed_or_mismatched_key_data_is_refused_before_any_step() {
        let (store, provider) = setup();
        let owner = app("alice");
        let public = attributes(Type::RsaPublicKey, 0, rsa_any_pkcs1(), |_| {});
        let error = import(&provider, &owner, "k", public, &[0x30, 0x01]).unwrap_err();
        assert_eq!(status(&error), ResponseStatus::PsaErrorInvalidArgument, "{error}");
        let ec_public = attributes(
            Type::EccPublicKey {
                curve_family: EccFamily::SecpR1,
            },
            384,
            ecdsa(Hash::Sha256).into(),
            |_| {},
        );
        let error = import(&provider, &owner, "k", ec_public, &[4u8; 65]).unwrap_err();
        assert_eq!(status(&error), ResponseStatus::PsaErrorInvalidArgument, "{error}");
        // EC private scalars of a wrong length, zero, or not below the
        // curve's order; a length that names another size than asked.
        let p256_order =
            hex("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551");
        let mut p521_too_big = vec![0xff_u8; 66];
        p521_too_big[0] = 0x01;
        for (bits, scalar) in [
            (0, vec![1u8; 31]),
            (0, vec![1u8; 33]),
            (0, vec![1u8; 65]),
            (0, Vec::new()),
            (0, vec![0u8; 32]),
            (0, vec![0u8; 48]),
            (0, vec![0u8; 66]),
            (0, p256_order),
            (0, vec![0xff; 32]),
            (0, vec![0xff; 48]),
            (0, p521_too_big),
            (384, vec![1u8; 32]),
        ] {
            let error = import(&provider, &owner, "k", ecc_key(bits), &scalar).unwrap_err();
            assert_eq!(
                status(&error),
                ResponseStatus::PsaErrorInvalidArgument,
                "{} bytes: {error}",
                scalar.len()
            );
        }
        let k1 = attributes(
            Type::EccKeyPair {
                curve_family: EccFamily::SecpK1,
            },
            0,
            ecdsa(Hash::Sha256).into(),
            |_| {},
        );
        let error = import(&provider, &owner, "k", k1, &[1u8; 32]).unwrap_err();
        assert_eq!(status(&error), ResponseStatus::PsaErrorNotSupported, "{error}");
        assert_eq!(provider.all_objects_for_tests(), 0);
        assert!(store.unfinished(PROVIDER_NAME).unwrap().is_empty());
        assert!(store.keys_in(PROVIDER_NAME).unwrap().is_empty());
    }
}

softhsm_test! {
    /// A key migrated from Parsec's legacy store may carry `sign_hash`
    /// without `sign_message`: it signs messages, as on every provider.
    fn a_key_stored_with_only_the_hash_flags_signs_and_verifies_messages_too() {
        let (_, provider) = setup();
        psec_provider::testing::check_hash_usage_flags_imply_message_flags(
            &provider,
            &app("alice"),
            ecc_key(256),
            ecdsa(Hash::Sha256),
            &[0x5a; 32],
        );
    }
}

softhsm_test! {
    fn a_taken_name_unknown_keys_and_other_applications_keys() {
        let (_, provider) = setup();
        let alice = app("alice");
        let bob = app("bob");
        generate(&provider, &alice, "k", ecc_key(256)).unwrap();
        let error = generate(&provider, &alice, "k", ecc_key(256)).unwrap_err();
        assert_eq!(status(&error), ResponseStatus::PsaErrorAlreadyExists, "{error}");
        for (owner, name) in [(&alice, "missing"), (&bob, "k")] {
            let error = export_public(&provider, owner, name).unwrap_err();
            assert_eq!(status(&error), ResponseStatus::PsaErrorDoesNotExist, "{error}");
            let error = sign_hash(&provider, owner, name, ecdsa(Hash::Sha256), &[0; 32]).unwrap_err();
            assert_eq!(status(&error), ResponseStatus::PsaErrorDoesNotExist, "{error}");
            let error = destroy(&provider, owner, name).unwrap_err();
            assert_eq!(status(&error), ResponseStatus::PsaErrorDoesNotExist, "{error}");
        }
        // Bob may use the same name for a key of his own.
        generate(&provider, &bob, "k", ecc_key(256)).unwrap();
        assert_ne!(
            export_public(&provider, &alice, "k").unwrap(),
            export_public(&provider, &bob, "k").unwrap()
        );
    }
}

softhsm_test! {
    fn destroying_a_key_removes_its_token_objects_and_its_row() {
        let (store, provider) = setup();
        let owner = app("alice");
        generate(&provider, &owner, "k", rsa_key(1024, rsa_any_pkcs1())).unwrap();
        let info = store.get(&identity_of(&owner, "k")).unwrap().unwrap();
        assert_eq!(provider.objects_for_tests(&info.backend_id), 2);
        destroy(&provider, &owner, "k").unwrap();
        assert_eq!(provider.objects_for_tests(&info.backend_id), 0);
        assert!(store.get(&identity_of(&owner, "k")).unwrap().is_none());
        assert!(store.unfinished(PROVIDER_NAME).unwrap().is_empty());
        generate(&provider, &owner, "k", ecc_key(256)).unwrap();
    }
}

softhsm_test! {
    fn keys_survive_a_restart() {
        let (store, provider) = setup();
        let owner = app("alice");
        generate(&provider, &owner, "ec", ecc_key(256)).unwrap();
        generate(&provider, &owner, "rsa", rsa_key(2048, rsa_any_pkcs1())).unwrap();
        let ec = export_public(&provider, &owner, "ec").unwrap();
        let rsa = export_public(&provider, &owner, "rsa").unwrap();
        let signature = sign_hash(&provider, &owner, "ec", ecdsa(Hash::Sha256), &[3; 32]).unwrap();
        drop(provider);
        let restarted = restart(&store);
        assert_eq!(export_public(&restarted, &owner, "ec").unwrap(), ec);
        assert_eq!(export_public(&restarted, &owner, "rsa").unwrap(), rsa);
        verify_hash(&restarted, &owner, "ec", ecdsa(Hash::Sha256), &[3; 32], &signature).unwrap();
        sign_hash(&restarted, &owner, "rsa", pkcs1(Hash::Sha256), &[3; 32]).unwrap();
    }
}

// ------------------------------------------------------- crash recovery

softhsm_test! {
    fn start_up_destroys_the_token_objects_of_unfinished_rows_and_drops_the_rows() {
        let (store, provider) = setup();
        let crashed = app("crashed");
        // Creating, objects made: the crash came before commit_create.
        let creating = identity_of(&crashed, "half-made");
        let creating_id = vec![0xc1; 16];
        store
            .begin_create(
                &creating,
                &KeyInfo {
                    backend_id: creating_id.clone(),
                    attributes: ecc_key(256),
                },
            )
            .unwrap();
        provider.make_objects_for_tests(&creating_id, &ecc_key(256));
        // Creating, nothing made yet.
        let never = identity_of(&crashed, "never-made");
        store
            .begin_create(
                &never,
                &KeyInfo {
                    backend_id: vec![0xc2; 16],
                    attributes: ecc_key(256),
                },
            )
            .unwrap();
        // Destroying, objects still there.
        generate(&provider, &crashed, "half-destroyed", ecc_key(256)).unwrap();
        let destroying = identity_of(&crashed, "half-destroyed");
        let destroying_id = store.begin_destroy(&destroying).unwrap().unwrap().backend_id;
        assert_eq!(store.unfinished(PROVIDER_NAME).unwrap().len(), 3);
        assert_eq!(provider.objects_for_tests(&creating_id), 2);
        assert_eq!(provider.objects_for_tests(&destroying_id), 2);
        drop(provider);

        let restarted = restart(&store);

        assert!(store.unfinished(PROVIDER_NAME).unwrap().is_empty());
        assert_eq!(restarted.objects_for_tests(&creating_id), 0);
        assert_eq!(restarted.objects_for_tests(&destroying_id), 0);
        for identity in [creating, never, destroying] {
            generate(&restarted, &crashed, &identity.key_name, ecc_key(256)).unwrap();
        }
    }
}

softhsm_test! {
    fn vanished_token_objects_drop_their_rows_and_rowless_objects_are_kept() {
        let (store, provider) = setup();
        let owner = app("alice");
        generate(&provider, &owner, "gone", ecc_key(256)).unwrap();
        generate(&provider, &owner, "kept", ecc_key(256)).unwrap();
        let gone = store.get(&identity_of(&owner, "gone")).unwrap().unwrap();
        provider.destroy_objects_for_tests(&gone.backend_id);
        let rowless = vec![0xee; 16];
        provider.make_objects_for_tests(&rowless, &ecc_key(256));
        drop(provider);

        let restarted = restart(&store);

        assert!(store.get(&identity_of(&owner, "gone")).unwrap().is_none());
        assert!(store.get(&identity_of(&owner, "kept")).unwrap().is_some());
        assert_eq!(restarted.objects_for_tests(&rowless), 2);
        export_public(&restarted, &owner, "kept").unwrap();
    }
}

softhsm_test! {
    fn a_known_handle_is_not_used_past_the_copys_recheck_once_its_object_is_gone_or_replaced() {
        let (store, provider) = setup();
        let owner = app("alice");
        let alg = ecdsa(Hash::Sha256);
        generate(&provider, &owner, "ec", ecc_key(256)).unwrap();
        let id = store.get(&identity_of(&owner, "ec")).unwrap().unwrap().backend_id;
        // The handles are now known.
        sign_hash(&provider, &owner, "ec", alg, &[1; 32]).unwrap();

        // Replaced behind the provider's back by new objects under the same
        // CKA_ID (with new handles): at the next use of the token object
        // (the session copy's recheck) the stale handle is dropped, the new
        // objects found, and the key works at once, with the new objects.
        provider.destroy_objects_for_tests(&id);
        provider.make_objects_for_tests(&id, &ecc_key(256));
        provider.token().recheck_copies_for_tests();
        let signature = sign_hash(&provider, &owner, "ec", alg, &[1; 32]).unwrap();
        verify_hash(&provider, &owner, "ec", alg, &[1; 32], &signature).unwrap();
        let public = export_public(&provider, &owner, "ec").unwrap();
        let (_dir, mbed) = mbed_provider();
        let key = p256_verify_key(alg);
        import(mbed.key_management().unwrap(), &owner, "ec", key, &public).unwrap();
        let op = psa_verify_hash::Operation {
            key_name: "ec".into(),
            alg,
            hash: vec![1; 32],
            signature,
        };
        mbed.asymmetric_signing().unwrap().verify_hash(&owner, op).unwrap();

        // Gone for good: the key's objects do not exist.
        provider.destroy_objects_for_tests(&id);
        provider.token().recheck_copies_for_tests();
        let error = sign_hash(&provider, &owner, "ec", alg, &[1; 32]).unwrap_err();
        assert_eq!(status(&error), ResponseStatus::PsaErrorDoesNotExist, "{error}");
    }
}

softhsm_test! {
    /// On a library that may give a freed handle number to a new object,
    /// a remembered handle is read back before each use.
    fn a_known_handle_that_names_another_tenants_object_is_never_used() {
        let (store, mut provider) = setup();
        provider.read_handles_back_for_tests();
        let (alice, bob) = (app("alice"), app("bob"));
        let alg = ecdsa(Hash::Sha256);
        generate(&provider, &alice, "k", ecc_key(256)).unwrap();
        generate(&provider, &bob, "k", ecc_key(256)).unwrap();
        let id_of = |owner: &Application| {
            store.get(&identity_of(owner, "k")).unwrap().unwrap().backend_id
        };
        provider.mix_up_private_handles_for_tests(&id_of(&alice), &id_of(&bob));

        let hash = [0x42; 32];
        let signature = sign_hash(&provider, &alice, "k", alg, &hash).unwrap();
        verify_hash(&provider, &alice, "k", alg, &hash, &signature).unwrap();
        let error = verify_hash(&provider, &bob, "k", alg, &hash, &signature).unwrap_err();
        assert_eq!(status(&error), ResponseStatus::PsaErrorInvalidSignature, "{error}");
    }
}

softhsm_test! {
    /// What lets this provider use remembered handles on SoftHSM2 without
    /// reading them back: it is recognised, and it never issues a handle
    /// number twice, for token or session objects, created or found.
    fn softhsm2_is_recognised_and_never_issues_a_handle_number_twice() {
        let (_store, provider) = setup();
        assert!(provider.token().handles_unique());
        let session = provider.token().session().unwrap();
        let mut seen = std::collections::HashSet::new();
        for round in 0..40u8 {
            let on_token = round % 2 == 0;
            let template = [
                Attribute::Class(ObjectClass::SECRET_KEY),
                Attribute::KeyType(KeyType::AES),
                Attribute::Token(on_token),
                Attribute::Id(vec![round; 16]),
                Attribute::ValueLen(16.into()),
            ];
            let made = session.generate_key(&Mechanism::AesKeyGen, &template).unwrap();
            // Found again, the object keeps its number.
            let found = session
                .find_objects(&[Attribute::Id(vec![round; 16])])
                .unwrap();
            assert_eq!(found, vec![made]);
            assert!(seen.insert(made.handle()), "handle {made} issued twice");
            session.destroy_object(made).unwrap();
        }
    }
}

softhsm_test! {
    /// A key's session copy signs in its stead until the recheck; then the
    /// token object is used, found gone, and the copy destroyed with it.
    fn a_key_destroyed_behind_the_providers_back_signs_until_its_copys_recheck_then_is_missing() {
        let (store, provider) = setup();
        let owner = app("alice");
        let alg = ecdsa(Hash::Sha256);
        generate(&provider, &owner, "ec", ecc_key(256)).unwrap();
        let id = store.get(&identity_of(&owner, "ec")).unwrap().unwrap().backend_id;
        let (_dir, mbed) = mbed_provider();
        let public = export_public(&provider, &owner, "ec").unwrap();
        import(mbed.key_management().unwrap(), &owner, "ec", p256_verify_key(alg), &public)
            .unwrap();
        sign_hash(&provider, &owner, "ec", alg, &[1; 32]).unwrap();
        assert_eq!(provider.session_objects_for_tests(&id), 2, "a copy of each object");

        provider.destroy_objects_for_tests(&id);
        assert_eq!(provider.objects_for_tests(&id), 0);
        let signature = sign_hash(&provider, &owner, "ec", alg, &[2; 32]).unwrap();
        let op = psa_verify_hash::Operation {
            key_name: "ec".into(),
            alg,
            hash: vec![2; 32],
            signature,
        };
        mbed.asymmetric_signing().unwrap().verify_hash(&owner, op).unwrap();

        provider.token().recheck_copies_for_tests();
        let error = sign_hash(&provider, &owner, "ec", alg, &[3; 32]).unwrap_err();
        assert_eq!(status(&error), ResponseStatus::PsaErrorDoesNotExist, "{error}");
        assert_eq!(provider.session_objects_for_tests(&id), 0);
        assert_eq!(provider.token().copies_for_tests(), 0);
    }
}

softhsm_test! {
    fn no_session_copy_outlives_its_key() {
        let (store, provider) = setup();
        let owner = app("alice");
        let alg = ecdsa(Hash::Sha256);
        generate(&provider, &owner, "ec", ecc_key(256)).unwrap();
        let id = store.get(&identity_of(&owner, "ec")).unwrap().unwrap().backend_id;
        let hash = [1; 32];
        let signature = sign_hash(&provider, &owner, "ec", alg, &hash).unwrap();
        verify_hash(&provider, &owner, "ec", alg, &hash, &signature).unwrap();
        assert_eq!(provider.session_objects_for_tests(&id), 2);

        destroy(&provider, &owner, "ec").unwrap();

        assert_eq!(provider.objects_for_tests(&id), 0);
        assert_eq!(provider.session_objects_for_tests(&id), 0);
        assert_eq!(provider.token().copies_for_tests(), 0);
    }
}

softhsm_test! {
    /// Keys found once the limit is reached are used on their token
    /// objects; a destroyed key's place goes to the next key found.
    fn session_copies_stop_at_the_limit_and_a_destroyed_keys_copy_frees_a_place() {
        let (store, mut provider) = setup();
        provider.limit_copies_for_tests(2);
        let owner = app("alice");
        let alg = ecdsa(Hash::Sha256);
        let names = ["first", "second", "third", "fourth"];
        for name in names {
            generate(&provider, &owner, name, ecc_key(256)).unwrap();
        }
        let id_of =
            |name: &str| store.get(&identity_of(&owner, name)).unwrap().unwrap().backend_id;
        let copies = |name: &str| provider.session_objects_for_tests(&id_of(name));
        let signs = |name: &str| {
            let hash = [name.as_bytes()[0]; 32];
            let signature = sign_hash(&provider, &owner, name, alg, &hash).unwrap();
            verify_hash(&provider, &owner, name, alg, &hash, &signature).unwrap();
        };
        for name in ["first", "second", "third"] {
            signs(name);
        }
        // The first key's two objects took both places.
        assert_eq!([copies("first"), copies("second"), copies("third")], [2, 0, 0]);

        let first = id_of("first");
        destroy(&provider, &owner, "first").unwrap();
        signs("fourth");

        assert_eq!(provider.session_objects_for_tests(&first), 0);
        assert_eq!([copies("second"), copies("third"), copies("fourth")], [0, 0, 2]);
        assert_eq!(provider.token().copies_for_tests(), 2);
    }
}

softhsm_test! {
    /// Threads that use a new key at once all find its objects, and more
    /// than one may make a session copy of the same object: none may
    /// destroy a copy another thread is using (SoftHSM2 then fails the
    /// use half-way, with errors other than an invalid handle).
    fn threads_using_a_new_key_at_once_all_sign_and_verify() {
        let alg = ecdsa(Hash::Sha256);
        for round in 0..8 {
            let (_store, provider) = setup();
            let owner = app("alice");
            let name = format!("fresh-{round}");
            generate(&provider, &owner, &name, ecc_key(256)).unwrap();
            let start = std::sync::Barrier::new(8);
            std::thread::scope(|scope| {
                for thread in 0..8_u8 {
                    let (provider, owner, name, start) = (&provider, &owner, &name, &start);
                    scope.spawn(move || {
                        start.wait();
                        for n in 0..4_u8 {
                            let hash = [thread ^ (n << 4); 32];
                            let signature = sign_hash(provider, owner, name, alg, &hash).unwrap();
                            verify_hash(provider, owner, name, alg, &hash, &signature).unwrap();
                        }
                    });
                }
            });
            assert!(provider.token().copies_for_tests() <= 2);
        }
    }
}

/// Set, in a child process of a test, to the hex `CKA_ID` whose objects it
/// destroys as another process on the token would.
const FOREIGN_ENV: &str = "PSEC_PKCS11_TEST_FOREIGN";

/// As another process with the user PIN: destroys the objects with
/// `CKA_ID` `id`, then makes key pairs of its own under other ids.
fn destroy_and_make_objects_as_another_process(id: &[u8]) {
    use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
    use cryptoki::session::UserType;
    use cryptoki::types::AuthPin;
    let context = Pkcs11::new(library()).unwrap();
    context
        .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .unwrap();
    let slot = context.get_slots_with_initialized_token().unwrap()[0];
    let session = context.open_rw_session(slot).unwrap();
    session
        .login(UserType::User, Some(&AuthPin::new(USER_PIN.into())))
        .unwrap();
    let objects = session
        .find_objects(&[Attribute::Token(true), Attribute::Id(id.to_vec())])
        .unwrap();
    assert_eq!(objects.len(), 2);
    for object in objects {
        session.destroy_object(object).unwrap();
    }
    // P-256 (prime256v1), as CKA_EC_PARAMS.
    let params = vec![0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    for n in 0..8u8 {
        let public = [
            Attribute::Token(true),
            Attribute::Id(vec![n; 16]),
            Attribute::Verify(true),
            Attribute::EcParams(params.clone()),
        ];
        let private = [
            Attribute::Token(true),
            Attribute::Id(vec![n; 16]),
            Attribute::Private(true),
            Attribute::Sign(true),
        ];
        session
            .generate_key_pair(&Mechanism::EccKeyPairGen, &public, &private)
            .unwrap();
    }
}

softhsm_test! {
    /// Another process on the token destroys a key's objects behind this
    /// provider's back and makes objects of its own: the handles this
    /// provider remembered for the key name none of them, the key no
    /// longer exists (from its session copy's recheck on), and the other
    /// tenants' keys are untouched.
    fn another_process_destroying_a_keys_objects_never_makes_its_handles_name_other_objects() {
        if let Ok(id) = std::env::var(FOREIGN_ENV) {
            destroy_and_make_objects_as_another_process(&hex(&id));
            return;
        }
        let (store, provider) = setup();
        let (alice, bob) = (app("alice"), app("bob"));
        let alg = ecdsa(Hash::Sha256);
        generate(&provider, &alice, "k", ecc_key(256)).unwrap();
        generate(&provider, &bob, "k", ecc_key(256)).unwrap();
        // Both keys' handles are now remembered.
        sign_hash(&provider, &alice, "k", alg, &[1; 32]).unwrap();
        sign_hash(&provider, &bob, "k", alg, &[1; 32]).unwrap();
        let id = store.get(&identity_of(&alice, "k")).unwrap().unwrap().backend_id;

        let name = "tests::another_process_destroying_a_keys_objects_never_makes_its_handles_name_other_objects";
        let output = Command::new(std::env::current_exe().unwrap())
            .args([name, "--exact", "--nocapture", "--include-ignored", "--test-threads=1"])
            .env(FOREIGN_ENV, id.iter().map(|b| format!("{b:02x}")).collect::<String>())
            .output()
            .unwrap();
        assert!(
            output.status.success() && String::from_utf8_lossy(&output.stdout).contains("1 passed"),
            "the other process failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );

        provider.token().recheck_copies_for_tests();
        for _ in 0..2 {
            let error = sign_hash(&provider, &alice, "k", alg, &[2; 32]).unwrap_err();
            assert_eq!(status(&error), ResponseStatus::PsaErrorDoesNotExist, "{error}");
        }
        let signature = sign_hash(&provider, &bob, "k", alg, &[2; 32]).unwrap();
        verify_hash(&provider, &bob, "k", alg, &[2; 32], &signature).unwrap();
    }
}

softhsm_test! {
    /// While other keys are made and destroyed, and a tenant's own key is
    /// destroyed under its signing threads, every signature the tenant
    /// gets is one of its own key's: with remembered handles used as they
    /// are (SoftHSM2) and read back before each use (any other library).
    fn signatures_are_made_by_the_tenants_own_key_while_keys_come_and_go() {
        let alg = ecdsa(Hash::Sha256);
        let (_dir, mbed) = mbed_provider();
        let public_key = p256_verify_key(alg);
        let (alice, bob) = (app("alice"), app("bob"));
        for read_back in [false, true] {
            let store = Arc::new(InMemoryKeyStoreForTests::default());
            let mut provider = restart(&store);
            if read_back {
                provider.read_handles_back_for_tests();
            }
            let provider = &provider;
            generate(provider, &alice, "kept", ecc_key(256)).unwrap();
            generate(provider, &alice, "doomed", ecc_key(256)).unwrap();
            let verifier = |name: &str| format!("{name}-{read_back}");
            for name in ["kept", "doomed"] {
                let public = export_public(provider, &alice, name).unwrap();
                import(mbed.key_management().unwrap(), &alice, &verifier(name), public_key, &public)
                    .unwrap();
            }
            let signed = std::sync::Mutex::new(Vec::new());
            std::thread::scope(|scope| {
                for thread in 0..4u8 {
                    let signed = &signed;
                    let alice = &alice;
                    scope.spawn(move || {
                        for n in 0..30u8 {
                            let name = if n % 2 == 0 { "kept" } else { "doomed" };
                            let hash = [thread ^ n; 32];
                            match sign_hash(provider, alice, name, alg, &hash) {
                                Ok(signature) => {
                                    signed.lock().unwrap().push((name, hash, signature));
                                }
                                Err(error) => {
                                    assert_eq!(name, "doomed", "{error}");
                                    assert_eq!(
                                        status(&error),
                                        ResponseStatus::PsaErrorDoesNotExist,
                                        "{error}"
                                    );
                                }
                            }
                        }
                    });
                }
                scope.spawn(|| {
                    for round in 0..6 {
                        let name = format!("k{round}");
                        generate(provider, &bob, &name, ecc_key(256)).unwrap();
                        sign_hash(provider, &bob, &name, alg, &[3; 32]).unwrap();
                        destroy(provider, &bob, &name).unwrap();
                        if round == 2 {
                            destroy(provider, &alice, "doomed").unwrap();
                        }
                    }
                });
            });
            let signed = signed.into_inner().unwrap();
            assert!(signed.iter().filter(|(name, _, _)| *name == "kept").count() == 60);
            for (name, hash, signature) in signed {
                let op = psa_verify_hash::Operation {
                    key_name: verifier(name),
                    alg,
                    hash: hash.to_vec(),
                    signature,
                };
                mbed.asymmetric_signing()
                    .unwrap()
                    .verify_hash(&alice, op)
                    .unwrap_or_else(|error| panic!("a signature by `{name}`: {error}"));
            }
        }
    }
}

softhsm_test! {
    fn rows_of_other_providers_are_left_alone() {
        let (store, _provider) = setup();
        let mut identity = identity_of(&app("other"), "theirs");
        identity.provider = "another-provider".into();
        let info = KeyInfo {
            backend_id: vec![1; 16],
            attributes: ecc_key(256),
        };
        store.begin_create(&identity, &info).unwrap();
        restart(&store);
        assert_eq!(store.unfinished("another-provider").unwrap().len(), 1);
    }
}

// ---------------------------------------------------------------- signing

softhsm_test! {
    fn rsa_pkcs1_and_pss_sign_and_verify_hashes_and_messages() {
        let (_, provider) = setup();
        let owner = app("alice");
        let any_pss = AsymmetricSignature::RsaPss {
            hash_alg: SignHash::Any,
        };
        generate(&provider, &owner, "pkcs1", rsa_key(2048, rsa_any_pkcs1())).unwrap();
        generate(&provider, &owner, "pss", rsa_key(2048, any_pss.into())).unwrap();
        #[allow(deprecated, reason = "SHA-1 is still signed with")]
        let hashes = [Hash::Sha1, Hash::Sha256, Hash::Sha384, Hash::Sha512];
        for hash in hashes {
            for (name, alg) in [("pkcs1", pkcs1(hash)), ("pss", pss(hash))] {
                let digest = vec![5u8; hash.hash_length()];
                let signature = sign_hash(&provider, &owner, name, alg, &digest).unwrap();
                assert_eq!(signature.len(), 256);
                verify_hash(&provider, &owner, name, alg, &digest, &signature).unwrap();
                let message: psec_interface::SecretBytes = b"a message".to_vec().into();
                let signed = provider
                    .sign_message(
                        &owner,
                        psa_sign_message::Operation {
                            key_name: name.into(),
                            alg,
                            message: message.clone(),
                        },
                    )
                    .unwrap();
                provider
                    .verify_message(
                        &owner,
                        psa_verify_message::Operation {
                            key_name: name.into(),
                            alg,
                            message,
                            signature: signed.signature,
                        },
                    )
                    .unwrap();
            }
        }
        // PKCS#1 v1.5 is deterministic: a message signature is the hash's.
        let message = b"same bytes";
        let by_message = provider
            .sign_message(
                &owner,
                psa_sign_message::Operation {
                    key_name: "pkcs1".into(),
                    alg: pkcs1(Hash::Sha256),
                    message: message.to_vec().into(),
                },
            )
            .unwrap()
            .signature;
        let by_hash =
            sign_hash(&provider, &owner, "pkcs1", pkcs1(Hash::Sha256), &sha256(message)).unwrap();
        assert_eq!(by_message, by_hash);
    }
}

softhsm_test! {
    fn a_bad_signature_is_an_invalid_signature() {
        let (_, provider) = setup();
        let owner = app("alice");
        generate(&provider, &owner, "ec", ecc_key(256)).unwrap();
        generate(&provider, &owner, "rsa", rsa_key(2048, rsa_any_pkcs1())).unwrap();
        for (name, alg) in [("ec", ecdsa(Hash::Sha256)), ("rsa", pkcs1(Hash::Sha256))] {
            let mut signature = sign_hash(&provider, &owner, name, alg, &[1; 32]).unwrap();
            let error = verify_hash(&provider, &owner, name, alg, &[2; 32], &signature).unwrap_err();
            assert_eq!(status(&error), ResponseStatus::PsaErrorInvalidSignature, "{error}");
            signature[10] ^= 1;
            let error = verify_hash(&provider, &owner, name, alg, &[1; 32], &signature).unwrap_err();
            assert_eq!(status(&error), ResponseStatus::PsaErrorInvalidSignature, "{error}");
            let error = verify_hash(&provider, &owner, name, alg, &[1; 32], &signature[..20]).unwrap_err();
            assert_eq!(status(&error), ResponseStatus::PsaErrorInvalidSignature, "{error}");
        }
        let error = provider
            .verify_message(
                &owner,
                psa_verify_message::Operation {
                    key_name: "ec".into(),
                    alg: ecdsa(Hash::Sha256),
                    message: b"m".to_vec().into(),
                    signature: vec![1; 64],
                },
            )
            .unwrap_err();
        assert_eq!(status(&error), ResponseStatus::PsaErrorInvalidSignature, "{error}");
    }
}

softhsm_test! {
    fn the_policy_is_enforced_before_the_token_is_asked() {
        let (_, provider) = setup();
        let owner = app("alice");
        let verify_only = attributes(
            Type::EccKeyPair {
                curve_family: EccFamily::SecpR1,
            },
            256,
            ecdsa(Hash::Sha256).into(),
            |flags| {
                flags.set_verify_hash();
            },
        );
        generate(&provider, &owner, "verify-only", verify_only).unwrap();
        let error = sign_hash(&provider, &owner, "verify-only", ecdsa(Hash::Sha256), &[0; 32]).unwrap_err();
        assert_eq!(status(&error), ResponseStatus::PsaErrorNotPermitted, "{error}");
        generate(&provider, &owner, "sha256-only", {
            let mut key = ecc_key(256);
            key.policy.permitted_algorithms = ecdsa(Hash::Sha256).into();
            key
        })
        .unwrap();
        let error = sign_hash(&provider, &owner, "sha256-only", ecdsa(Hash::Sha384), &[0; 48]).unwrap_err();
        assert_eq!(status(&error), ResponseStatus::PsaErrorNotPermitted, "{error}");
        let error = provider
            .export_key(
                &owner,
                psa_export_key::Operation {
                    key_name: "sha256-only".into(),
                },
            )
            .unwrap_err();
        assert_eq!(status(&error), ResponseStatus::PsaErrorNotPermitted, "{error}");
        // A hash of the wrong length is an invalid argument.
        let error = sign_hash(&provider, &owner, "sha256-only", ecdsa(Hash::Sha256), &[0; 31]).unwrap_err();
        assert_eq!(status(&error), ResponseStatus::PsaErrorInvalidArgument, "{error}");
    }
}

softhsm_test! {
    fn eight_threads_signing_at_once_all_get_correct_signatures() {
        let (_, provider) = setup();
        let provider = Arc::new(provider);
        let owner = app("alice");
        generate(&*provider, &owner, "ec", ecc_key(256)).unwrap();
        generate(&*provider, &owner, "rsa", rsa_key(2048, rsa_any_pkcs1())).unwrap();
        let threads: Vec<_> = (0..8u8)
            .map(|thread| {
                let provider = Arc::clone(&provider);
                let owner = owner.clone();
                std::thread::spawn(move || {
                    for round in 0..10u8 {
                        let digest = [thread.wrapping_mul(31).wrapping_add(round); 32];
                        for (name, alg) in [("ec", ecdsa(Hash::Sha256)), ("rsa", pkcs1(Hash::Sha256))] {
                            let signature = sign_hash(&*provider, &owner, name, alg, &digest).unwrap();
                            verify_hash(&*provider, &owner, name, alg, &digest, &signature).unwrap();
                        }
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
    }
}

// ------------------------------------------------------------ encryption

softhsm_test! {
    fn rsa_pkcs1_and_oaep_sha1_encrypt_and_decrypt() {
        let (_, provider) = setup();
        let owner = app("alice");
        #[allow(deprecated, reason = "OAEP with SHA-1 is still used")]
        let algs = [
            Encryption::RsaPkcs1v15Crypt,
            Encryption::RsaOaep { hash_alg: Hash::Sha1 },
        ];
        for (index, alg) in algs.into_iter().enumerate() {
            let name = format!("k{index}");
            generate(&provider, &owner, &name, rsa_key(2048, alg.into())).unwrap();
            let salt: Option<psec_interface::SecretBytes> = None;
            let ciphertext = provider
                .asymmetric_encrypt(
                    &owner,
                    psa_asymmetric_encrypt::Operation {
                        key_name: name.clone(),
                        alg,
                        plaintext: b"secret".to_vec().into(),
                        salt: salt.clone(),
                    },
                )
                .unwrap()
                .ciphertext;
            assert_eq!(ciphertext.len(), 256);
            let plaintext = provider
                .asymmetric_decrypt(
                    &owner,
                    psa_asymmetric_decrypt::Operation {
                        key_name: name.clone(),
                        alg,
                        ciphertext: ciphertext.clone(),
                        salt,
                    },
                )
                .unwrap()
                .plaintext;
            assert_eq!(&plaintext[..], b"secret");
            let mut corrupt = ciphertext;
            corrupt[100] ^= 0x40;
            let error = provider
                .asymmetric_decrypt(
                    &owner,
                    psa_asymmetric_decrypt::Operation {
                        key_name: name.clone(),
                        alg,
                        ciphertext: corrupt,
                        salt: None,
                    },
                )
                .unwrap_err();
            assert_eq!(status(&error), ResponseStatus::PsaErrorInvalidPadding, "{error}");
            if let Encryption::RsaOaep { .. } = alg {
                // SoftHSM2 takes no OAEP label.
                let error = provider
                    .asymmetric_encrypt(
                        &owner,
                        psa_asymmetric_encrypt::Operation {
                            key_name: name.clone(),
                            alg,
                            plaintext: b"secret".to_vec().into(),
                            salt: Some(b"label".to_vec().into()),
                        },
                    )
                    .unwrap_err();
                assert_eq!(status(&error), ResponseStatus::PsaErrorNotSupported, "{error}");
            }
        }
    }
}

/// The test provider with `software_public_operations` set.
#[cfg(feature = "software-public-operations")]
fn software_public_provider() -> Pkcs11Provider {
    let store = Arc::new(InMemoryKeyStoreForTests::default());
    let settings = settings().with_software_public_operations(true);
    Pkcs11Provider::new(PROVIDER_NAME.into(), store, settings).unwrap()
}

#[cfg(feature = "software-public-operations")]
softhsm_test! {
    fn with_software_public_operations_token_signatures_verify_and_bad_ones_do_not() {
        let provider = software_public_provider();
        let owner = app("alice");
        let cases = [
            ("ec", ecc_key(256), ecdsa(Hash::Sha256)),
            ("ec384", ecc_key(384), ecdsa(Hash::Sha384)),
            ("pkcs1", rsa_key(2048, pkcs1(Hash::Sha256).into()), pkcs1(Hash::Sha256)),
            ("pss", rsa_key(2048, pss(Hash::Sha256).into()), pss(Hash::Sha256)),
        ];
        for (name, key, alg) in cases {
            generate(&provider, &owner, name, key).unwrap();
            let hash_alg = match alg.hash() {
                Some(SignHash::Specific(hash)) => hash,
                _ => unreachable!(),
            };
            let digest = vec![0x42; hash_alg.hash_length()];
            let signature = sign_hash(&provider, &owner, name, alg, &digest).unwrap();
            verify_hash(&provider, &owner, name, alg, &digest, &signature).unwrap_or_else(|e| panic!("{name}: {e}"));
            let mut wrong = signature.clone();
            wrong[5] ^= 1;
            let error = verify_hash(&provider, &owner, name, alg, &digest, &wrong).unwrap_err();
            assert_eq!(status(&error), ResponseStatus::PsaErrorInvalidSignature, "{name}: {error}");

            let message = b"signed on the token, checked in software";
            let signature = sign_message(&provider, &owner, name, alg, message).unwrap();
            let verify =
                |message: &[u8]| verify_message(&provider, &owner, name, alg, message, &signature);
            verify(message).unwrap();
            let error = verify(b"another message").unwrap_err();
            assert_eq!(status(&error), ResponseStatus::PsaErrorInvalidSignature, "{name}: {error}");
        }
        // The key's policy still rules: no verify_hash flag, no verifying.
        let sign_only = attributes(Type::RsaKeyPair, 2048, pkcs1(Hash::Sha256).into(), |flags| {
            flags.set_sign_hash();
        });
        generate(&provider, &owner, "sign-only", sign_only).unwrap();
        let signature = sign_hash(&provider, &owner, "sign-only", pkcs1(Hash::Sha256), &[1; 32]).unwrap();
        let error =
            verify_hash(&provider, &owner, "sign-only", pkcs1(Hash::Sha256), &[1; 32], &signature)
                .unwrap_err();
        assert_eq!(status(&error), ResponseStatus::PsaErrorNotPermitted, "{error}");
    }
}

#[cfg(feature = "software-public-operations")]
softhsm_test! {
    fn with_software_public_operations_oaep_labels_work_though_the_token_takes_none() {
        // SoftHSM2 refuses OAEP labels (see rsa_pkcs1_and_oaep_sha1_...):
        // a labelled ciphertext can only have been made in software. The
        // same private key in Mbed Crypto opens it.
        let dir = tempfile::tempdir().unwrap();
        let (der, _) = openssl_rsa_key(dir.path(), 2048);
        let provider = software_public_provider();
        let (_mbed_dir, mbed) = mbed_provider();
        let owner = app("alice");
        #[allow(deprecated, reason = "the OAEP hash SoftHSM2 takes")]
        let alg = Encryption::RsaOaep { hash_alg: Hash::Sha1 };
        let key = attributes(Type::RsaKeyPair, 0, alg.into(), |flags| {
            flags.set_encrypt().set_decrypt();
        });
        import(&provider, &owner, "rsa", key, &der).unwrap();
        import(mbed.key_management().unwrap(), &owner, "rsa", key, &der).unwrap();
        let ciphertext = provider
            .asymmetric_encrypt(
                &owner,
                psa_asymmetric_encrypt::Operation {
                    key_name: "rsa".into(),
                    alg,
                    plaintext: b"secret".to_vec().into(),
                    salt: Some(b"label".to_vec().into()),
                },
            )
            .unwrap()
            .ciphertext;
        assert_eq!(ciphertext.len(), 256);
        let plaintext = mbed
            .asymmetric_encryption()
            .unwrap()
            .asymmetric_decrypt(
                &owner,
                psa_asymmetric_decrypt::Operation {
                    key_name: "rsa".into(),
                    alg,
                    ciphertext,
                    salt: Some(b"label".to_vec().into()),
                },
            )
            .unwrap()
            .plaintext;
        assert_eq!(&plaintext[..], b"secret");
    }
}

softhsm_test! {
    fn encryption_needs_its_usage_flags_and_a_matching_algorithm() {
        let (_, provider) = setup();
        let owner = app("alice");
        let encrypt_only = attributes(
            Type::RsaKeyPair,
            2048,
            Encryption::RsaPkcs1v15Crypt.into(),
            |flags| {
                flags.set_encrypt();
            },
        );
        generate(&provider, &owner, "k", encrypt_only).unwrap();
        let ciphertext = provider
            .asymmetric_encrypt(
                &owner,
                psa_asymmetric_encrypt::Operation {
                    key_name: "k".into(),
                    alg: Encryption::RsaPkcs1v15Crypt,
                    plaintext: b"x".to_vec().into(),
                    salt: None,
                },
            )
            .unwrap()
            .ciphertext;
        let error = provider
            .asymmetric_decrypt(
                &owner,
                psa_asymmetric_decrypt::Operation {
                    key_name: "k".into(),
                    alg: Encryption::RsaPkcs1v15Crypt,
                    ciphertext,
                    salt: None,
                },
            )
            .unwrap_err();
        assert_eq!(status(&error), ResponseStatus::PsaErrorNotPermitted, "{error}");
        let error = provider
            .asymmetric_encrypt(
                &owner,
                psa_asymmetric_encrypt::Operation {
                    key_name: "k".into(),
                    alg: Encryption::RsaOaep {
                        hash_alg: Hash::Sha256,
                    },
                    plaintext: b"x".to_vec().into(),
                    salt: None,
                },
            )
            .unwrap_err();
        assert_eq!(status(&error), ResponseStatus::PsaErrorNotPermitted, "{error}");
    }
}

// ----------------------------------------------------- export and random

softhsm_test! {
    fn exportable_keys_export_in_psa_formats() {
        let (_, provider) = setup();
        let owner = app("alice");
        let dir = tempfile::tempdir().unwrap();
        let (der, _) = openssl_rsa_key(dir.path(), 1024);
        let mut rsa = rsa_key(1024, rsa_any_pkcs1());
        rsa.policy.usage_flags.set_export();
        import(&provider, &owner, "rsa", rsa, &der).unwrap();
        let exported = provider
            .export_key(&owner, psa_export_key::Operation { key_name: "rsa".into() })
            .unwrap()
            .data;
        assert_eq!(&exported[..], &der[..]);
        let mut ec = ecc_key(521);
        ec.policy.usage_flags.set_export();
        generate(&provider, &owner, "ec", ec).unwrap();
        let scalar = provider
            .export_key(&owner, psa_export_key::Operation { key_name: "ec".into() })
            .unwrap()
            .data;
        assert_eq!(scalar.len(), 66);
    }
}

softhsm_test! {
    fn a_public_key_exports_without_the_export_flag() {
        let (_, provider) = setup();
        let owner = app("alice");
        let export = |name: &str| {
            provider.export_key(&owner, psa_export_key::Operation { key_name: name.into() })
        };
        generate(&provider, &owner, "ec", ecc_key(256)).unwrap();
        generate(&provider, &owner, "rsa", rsa_key(2048, rsa_any_pkcs1())).unwrap();
        for (name, key_type) in [
            ("ec", Type::EccPublicKey { curve_family: EccFamily::SecpR1 }),
            ("rsa", Type::RsaPublicKey),
        ] {
            let public = export_public(&provider, &owner, name).unwrap();
            let attributes = attributes(key_type, 0, Algorithm::None, |_| {});
            let imported = format!("{name}-public");
            import(&provider, &owner, &imported, attributes, &public).unwrap();
            assert_eq!(&export(&imported).unwrap().data[..], &public[..]);
            // The key pair itself still needs the flag.
            let error = export(name).unwrap_err();
            assert_eq!(status(&error), ResponseStatus::PsaErrorNotPermitted, "{error}");
        }
    }
}

softhsm_test! {
    fn random_bytes_come_from_the_token() {
        let (_, provider) = setup();
        let draw = |size| {
            provider
                .generate_random(psa_generate_random::Operation { size })
                .unwrap()
                .random_bytes
        };
        let (a, b) = (draw(32), draw(32));
        assert_eq!(a.len(), 32);
        assert_ne!(&a[..], &b[..]);
        assert!(draw(0).is_empty());
        let error = provider
            .generate_random(psa_generate_random::Operation { size: (1 << 20) + 1 })
            .unwrap_err();
        assert_eq!(status(&error), ResponseStatus::PsaErrorInvalidArgument, "{error}");
    }
}

// ------------------------------------------- beyond Parsec: AES, HMAC, ...

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn aes_key(bits: usize, alg: Algorithm) -> Attributes {
    attributes(Type::Aes, bits, alg, |flags| {
        flags.set_encrypt().set_decrypt().set_export();
    })
}

fn cipher_encrypt(
    provider: &Pkcs11Provider,
    owner: &Application,
    name: &str,
    alg: Cipher,
    plaintext: &[u8],
) -> Result<Vec<u8>, ProviderError> {
    let op = psa_cipher_encrypt::Operation {
        key_name: name.into(),
        alg,
        plaintext: plaintext.to_vec().into(),
    };
    psec_provider::Cipher::cipher_encrypt(provider, owner, op).map(|r| r.ciphertext)
}

fn cipher_decrypt(
    provider: &Pkcs11Provider,
    owner: &Application,
    name: &str,
    alg: Cipher,
    ciphertext: &[u8],
) -> Result<Vec<u8>, ProviderError> {
    let op = psa_cipher_decrypt::Operation {
        key_name: name.into(),
        alg,
        ciphertext: ciphertext.to_vec(),
    };
    psec_provider::Cipher::cipher_decrypt(provider, owner, op).map(|r| r.plaintext.to_vec())
}

softhsm_test! {
    fn aes_ecb_matches_the_fips_197_vector_and_cbc_round_trips() {
        let (_, provider) = setup();
        let owner = app("alice");
        let key = hex("000102030405060708090a0b0c0d0e0f");
        import(&provider, &owner, "ecb", aes_key(0, Cipher::EcbNoPadding.into()), &key).unwrap();
        let block = hex("00112233445566778899aabbccddeeff");
        let ciphertext =
            cipher_encrypt(&provider, &owner, "ecb", Cipher::EcbNoPadding, &block).unwrap();
        assert_eq!(ciphertext, hex("69c4e0d86a7b0430d8cdb78070b4c55a"));
        assert_eq!(
            cipher_decrypt(&provider, &owner, "ecb", Cipher::EcbNoPadding, &ciphertext).unwrap(),
            block
        );
        let error =
            cipher_encrypt(&provider, &owner, "ecb", Cipher::EcbNoPadding, &[0; 15]).unwrap_err();
        assert_eq!(status(&error), ResponseStatus::PsaErrorInvalidArgument, "{error}");
        let exported = provider
            .export_key(&owner, psa_export_key::Operation { key_name: "ecb".into() })
            .unwrap()
            .data;
        assert_eq!(&exported[..], &key[..]);

        for (name, alg, bits) in [
            ("cbc", Cipher::CbcNoPadding, 128),
            ("pkcs7", Cipher::CbcPkcs7, 256),
        ] {
            generate(&provider, &owner, name, aes_key(bits, alg.into())).unwrap();
            let plaintext = [0x5a; 32];
            let a = cipher_encrypt(&provider, &owner, name, alg, &plaintext).unwrap();
            let b = cipher_encrypt(&provider, &owner, name, alg, &plaintext).unwrap();
            assert_ne!(a[..16], b[..16], "a fresh IV each time");
            let expected = if alg == Cipher::CbcPkcs7 { 16 + 48 } else { 16 + 32 };
            assert_eq!(a.len(), expected);
            assert_eq!(cipher_decrypt(&provider, &owner, name, alg, &a).unwrap(), plaintext);
        }
        let mut bad = cipher_encrypt(&provider, &owner, "pkcs7", Cipher::CbcPkcs7, b"x").unwrap();
        let last = bad.len() - 1;
        bad[last] ^= 0xff;
        let error = cipher_decrypt(&provider, &owner, "pkcs7", Cipher::CbcPkcs7, &bad).unwrap_err();
        assert_eq!(status(&error), ResponseStatus::PsaErrorInvalidPadding, "{error}");
        let error = cipher_encrypt(&provider, &owner, "cbc", Cipher::CbcPkcs7, &[0; 16]).unwrap_err();
        assert_eq!(status(&error), ResponseStatus::PsaErrorNotPermitted, "{error}");
    }
}

softhsm_test! {
    fn aes_ctr_matches_the_sp_800_38a_vector_and_takes_any_length() {
        let (_, provider) = setup();
        let owner = app("alice");
        // NIST SP 800-38A, F.5.1 and F.5.2 (CTR-AES128), first two blocks.
        let key = hex("2b7e151628aed2a6abf7158809cf4f3c");
        import(&provider, &owner, "ctr", aes_key(0, Cipher::Ctr.into()), &key).unwrap();
        let counter = hex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
        let plaintext = hex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51");
        let expected = hex("874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff");
        let mut sent = counter.clone();
        sent.extend_from_slice(&expected);
        assert_eq!(
            cipher_decrypt(&provider, &owner, "ctr", Cipher::Ctr, &sent).unwrap(),
            plaintext
        );

        // A stream mode: any length, the IV first, nothing added.
        let message = b"thirty-seven bytes, not whole blocks!";
        let a = cipher_encrypt(&provider, &owner, "ctr", Cipher::Ctr, message).unwrap();
        let b = cipher_encrypt(&provider, &owner, "ctr", Cipher::Ctr, message).unwrap();
        assert_eq!(a.len(), 16 + message.len());
        assert_ne!(a[..16], b[..16], "a fresh IV each time");
        assert_eq!(cipher_decrypt(&provider, &owner, "ctr", Cipher::Ctr, &a).unwrap(), message);

        // The same key in Mbed Crypto reads the token's ciphertext.
        let (_dir, mbed) = mbed_provider();
        let mbed_keys = mbed.key_management().unwrap();
        import(mbed_keys, &owner, "ctr", aes_key(0, Cipher::Ctr.into()), &key).unwrap();
        let op = psa_cipher_decrypt::Operation {
            key_name: "ctr".into(),
            alg: Cipher::Ctr,
            ciphertext: a,
        };
        let plain = mbed.cipher().unwrap().cipher_decrypt(&owner, op).unwrap().plaintext;
        assert_eq!(&plain[..], message);

        let error = cipher_decrypt(&provider, &owner, "ctr", Cipher::Ctr, &[0; 15]).unwrap_err();
        assert_eq!(status(&error), ResponseStatus::PsaErrorInvalidArgument, "{error}");
    }
}

softhsm_test! {
    fn aes_gcm_seals_and_opens_and_a_bad_tag_is_an_invalid_signature() {
        let (_, provider) = setup();
        let owner = app("alice");
        let gcm = AeadAlg::AeadWithDefaultLengthTag(AeadWithDefaultLengthTag::Gcm);
        generate(&provider, &owner, "k", aes_key(256, gcm.into())).unwrap();
        let seal = |nonce: &[u8], aad: &[u8], plaintext: &[u8]| {
            provider
                .aead_encrypt(
                    &owner,
                    psa_aead_encrypt::Operation {
                        key_name: "k".into(),
                        alg: gcm,
                        nonce: nonce.to_vec(),
                        additional_data: aad.to_vec(),
                        plaintext: plaintext.to_vec().into(),
                    },
                )
                .map(|r| r.ciphertext)
        };
        let open = |aad: &[u8], ciphertext: &[u8]| {
            provider
                .aead_decrypt(
                    &owner,
                    psa_aead_decrypt::Operation {
                        key_name: "k".into(),
                        alg: gcm,
                        nonce: vec![7; 12],
                        additional_data: aad.to_vec(),
                        ciphertext: ciphertext.to_vec(),
                    },
                )
                .map(|r| r.plaintext.to_vec())
        };
        let sealed = seal(&[7; 12], b"header", b"the message").unwrap();
        assert_eq!(sealed.len(), 11 + 16);
        assert_eq!(open(b"header", &sealed).unwrap(), b"the message");
        let error = open(b"other header", &sealed).unwrap_err();
        assert_eq!(status(&error), ResponseStatus::PsaErrorInvalidSignature, "{error}");
        let error = seal(&[], b"", b"x").unwrap_err();
        assert_eq!(status(&error), ResponseStatus::PsaErrorInvalidArgument, "{error}");
    }
}

softhsm_test! {
    fn hmac_matches_rfc_4231_case_6_and_a_wrong_mac_is_an_invalid_signature() {
        let (_, provider) = setup();
        let owner = app("alice");
        let full = MacAlg::FullLength(FullLengthMac::Hmac {
            hash_alg: Hash::Sha256,
        });
        let truncated = MacAlg::Truncated {
            mac_alg: FullLengthMac::Hmac {
                hash_alg: Hash::Sha256,
            },
            mac_length: 16,
        };
        let policy = attributes(Type::Hmac, 0, full.into(), |flags| {
            flags.set_sign_message().set_verify_message();
        });
        // Below the hash length: SoftHSM2 refuses, and so does the provider.
        let error = import(&provider, &owner, "k", policy, &[0x0b; 20]).unwrap_err();
        assert_eq!(status(&error), ResponseStatus::PsaErrorNotSupported, "{error}");
        import(&provider, &owner, "k", policy, &[0xaa; 131]).unwrap();
        let mac = provider
            .mac_compute(
                &owner,
                psa_mac_compute::Operation {
                    key_name: "k".into(),
                    alg: full,
                    input: b"Test Using Larger Than Block-Size Key - Hash Key First".to_vec().into(),
                },
            )
            .unwrap()
            .mac;
        let expected = hex("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
        assert_eq!(mac, expected);
        let verify = |alg, mac: &[u8]| {
            provider.mac_verify(
                &owner,
                psa_mac_verify::Operation {
                    key_name: "k".into(),
                    alg,
                    input: b"Test Using Larger Than Block-Size Key - Hash Key First".to_vec().into(),
                    mac: mac.to_vec(),
                },
            )
        };
        verify(full, &expected).unwrap();
        let error = verify(full, &expected[..31]).unwrap_err();
        assert_eq!(status(&error), ResponseStatus::PsaErrorInvalidSignature, "{error}");
        let error = verify(truncated, &expected[..16]).unwrap_err();
        assert_eq!(status(&error), ResponseStatus::PsaErrorNotPermitted, "{error}");

        let policy = attributes(Type::Hmac, 256, truncated.into(), |flags| {
            flags.set_sign_message().set_verify_message();
        });
        generate(&provider, &owner, "short", policy).unwrap();
        let mac = provider
            .mac_compute(
                &owner,
                psa_mac_compute::Operation {
                    key_name: "short".into(),
                    alg: truncated,
                    input: b"data".to_vec().into(),
                },
            )
            .unwrap()
            .mac;
        assert_eq!(mac.len(), 16);
    }
}

softhsm_test! {
    fn hashes_are_computed_and_compared_on_the_token() {
        let (_, provider) = setup();
        let hash = provider
            .hash_compute(psa_hash_compute::Operation {
                alg: Hash::Sha256,
                input: b"abc".to_vec().into(),
            })
            .unwrap()
            .hash;
        let expected = hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(hash, expected);
        let compare = |hash: &[u8]| {
            provider.hash_compare(psa_hash_compare::Operation {
                alg: Hash::Sha256,
                input: b"abc".to_vec().into(),
                hash: hash.to_vec(),
            })
        };
        compare(&expected).unwrap();
        let error = compare(&expected[1..]).unwrap_err();
        assert_eq!(status(&error), ResponseStatus::PsaErrorInvalidSignature, "{error}");
        let error = provider
            .hash_compute(psa_hash_compute::Operation {
                alg: Hash::Sha3_256,
                input: b"abc".to_vec().into(),
            })
            .unwrap_err();
        assert_eq!(status(&error), ResponseStatus::PsaErrorNotSupported, "{error}");
    }
}

softhsm_test! {
    fn raw_ecdh_gives_both_sides_the_same_secret() {
        let (_, provider) = setup();
        let owner = app("alice");
        let ecdh = AgreementAlg::Raw(RawKeyAgreement::Ecdh);
        for bits in [256, 384] {
            let key = attributes(
                Type::EccKeyPair {
                    curve_family: EccFamily::SecpR1,
                },
                bits,
                ecdh.into(),
                |flags| {
                    flags.set_derive();
                },
            );
            let (a, b) = (format!("a{bits}"), format!("b{bits}"));
            generate(&provider, &owner, &a, key).unwrap();
            generate(&provider, &owner, &b, key).unwrap();
            let agree = |mine: &str, theirs: &str| {
                let peer_key = export_public(&provider, &owner, theirs).unwrap();
                provider
                    .raw_key_agreement(
                        &owner,
                        psa_raw_key_agreement::Operation {
                            alg: RawKeyAgreement::Ecdh,
                            private_key_name: mine.into(),
                            peer_key,
                        },
                    )
                    .map(|r| r.shared_secret.to_vec())
            };
            let ab = agree(&a, &b).unwrap();
            assert_eq!(ab.len(), bits / 8);
            assert_eq!(ab, agree(&b, &a).unwrap());
        }
        generate(&provider, &owner, "signer", ecc_key(256)).unwrap();
        let error = provider
            .raw_key_agreement(
                &owner,
                psa_raw_key_agreement::Operation {
                    alg: RawKeyAgreement::Ecdh,
                    private_key_name: "signer".into(),
                    peer_key: vec![4; 65],
                },
            )
            .unwrap_err();
        assert_eq!(status(&error), ResponseStatus::PsaErrorNotPermitted, "{error}");
    }
}

// ------------------------------------------------- across providers

softhsm_test! {
    fn imported_ec_key_pairs_match_mbed_crypto_and_sign_for_it() {
        let (_dir, mbed) = mbed_provider();
        let mbed_keys = mbed.key_management().unwrap();
        let mbed_signing = mbed.asymmetric_signing().unwrap();
        let (store, provider) = setup();
        let owner = app("alice");
        // P-521's scalar is 66 bytes of which the top 7 bits are zero.
        let mut p521_scalar = vec![0xa5_u8; 66];
        p521_scalar[0] = 0x01;
        let cases = [
            (256, Hash::Sha256, vec![0x5a_u8; 32]),
            (384, Hash::Sha384, vec![0x3c_u8; 48]),
            (521, Hash::Sha512, p521_scalar),
        ];
        for (bits, hash, scalar) in cases {
            let name = format!("ec{bits}");
            import(&provider, &owner, &name, ecc_key(0), &scalar).unwrap();
            let info = store.get(&identity_of(&owner, &name)).unwrap().unwrap();
            assert_eq!(info.attributes.bits, bits);
            assert_eq!(provider.objects_for_tests(&info.backend_id), 2);
            mbed_keys
                .import_key(
                    &owner,
                    psec_interface::operations::psa_import_key::Operation {
                        key_name: name.clone(),
                        attributes: ecc_key(bits),
                        data: scalar.clone().into(),
                    },
                )
                .unwrap_or_else(|error| panic!("{name}: {error}"));
            let expected = mbed_keys
                .export_public_key(
                    &owner,
                    psa_export_public_key::Operation {
                        key_name: name.clone(),
                    },
                )
                .unwrap()
                .data;
            let public = export_public(&provider, &owner, &name).unwrap();
            assert_eq!(public, expected, "{name}");
            assert_eq!(public.len(), 1 + 2 * bits.div_ceil(8), "{name}");

            let alg = ecdsa(hash);
            let digest = vec![0x42; hash.hash_length()];
            let signature = sign_hash(&provider, &owner, &name, alg, &digest).unwrap();
            let verify = |signature: Vec<u8>| {
                mbed_signing.verify_hash(
                    &owner,
                    psa_verify_hash::Operation {
                        key_name: name.clone(),
                        alg,
                        hash: digest.clone(),
                        signature,
                    },
                )
            };
            verify(signature.clone()).unwrap_or_else(|error| panic!("{name}: {error}"));
            let mut bad = signature;
            bad[3] ^= 1;
            let error = verify(bad).unwrap_err();
            assert_eq!(status(&error), ResponseStatus::PsaErrorInvalidSignature, "{name}");
            // And the other way: Mbed TLS signs, the token verifies.
            let signature = mbed_signing
                .sign_hash(
                    &owner,
                    psa_sign_hash::Operation {
                        key_name: name.clone(),
                        alg,
                        hash: digest.clone(),
                    },
                )
                .unwrap()
                .signature;
            verify_hash(&provider, &owner, &name, alg, &digest, &signature).unwrap();
        }
        assert!(store.unfinished(PROVIDER_NAME).unwrap().is_empty());
    }
}

softhsm_test! {
    fn signatures_verify_in_mbed_crypto_and_its_ciphertexts_decrypt_here() {
        let (_dir, mbed) = mbed_provider();
        let (_, provider) = setup();
        let owner = app("alice");
        let ec_public = |bits| {
            (
                Type::EccPublicKey {
                    curve_family: EccFamily::SecpR1,
                },
                bits,
            )
        };
        let cases = [
            ("ec256", ecc_key(256), ecdsa(Hash::Sha256), ec_public(256)),
            ("ec384", ecc_key(384), ecdsa(Hash::Sha384), ec_public(384)),
            (
                "rsa-pkcs1",
                rsa_key(2048, pkcs1(Hash::Sha256).into()),
                pkcs1(Hash::Sha256),
                (Type::RsaPublicKey, 2048),
            ),
            (
                "rsa-pss",
                rsa_key(3072, pss(Hash::Sha384).into()),
                pss(Hash::Sha384),
                (Type::RsaPublicKey, 3072),
            ),
        ];
        let mbed_keys = mbed.key_management().unwrap();
        let mbed_signing = mbed.asymmetric_signing().unwrap();
        for (name, key, alg, (public_type, bits)) in cases {
            generate(&provider, &owner, name, key).unwrap();
            let public = export_public(&provider, &owner, name).unwrap();
            let hash_alg = match alg.hash() {
                Some(SignHash::Specific(hash)) => hash,
                _ => unreachable!(),
            };
            let digest = vec![0x42; hash_alg.hash_length()];
            let signature = sign_hash(&provider, &owner, name, alg, &digest).unwrap();
            let attributes = attributes(public_type, bits, alg.into(), |flags| {
                flags.set_verify_hash();
            });
            mbed_keys
                .import_key(
                    &owner,
                    psec_interface::operations::psa_import_key::Operation {
                        key_name: name.into(),
                        attributes,
                        data: public.into(),
                    },
                )
                .unwrap();
            let verify = |signature: Vec<u8>| {
                mbed_signing.verify_hash(
                    &owner,
                    psa_verify_hash::Operation {
                        key_name: name.into(),
                        alg,
                        hash: digest.clone(),
                        signature,
                    },
                )
            };
            verify(signature.clone()).unwrap_or_else(|error| panic!("{name}: {error}"));
            let mut bad = signature;
            bad[3] ^= 1;
            let error = verify(bad).unwrap_err();
            assert_eq!(status(&error), ResponseStatus::PsaErrorInvalidSignature, "{name}");
        }

        #[allow(deprecated, reason = "OAEP with SHA-1 is what SoftHSM2 takes")]
        let algs = [
            Encryption::RsaPkcs1v15Crypt,
            Encryption::RsaOaep { hash_alg: Hash::Sha1 },
        ];
        let mbed_encryption = mbed.asymmetric_encryption().unwrap();
        for (index, alg) in algs.into_iter().enumerate() {
            let name = format!("enc{index}");
            generate(&provider, &owner, &name, rsa_key(2048, alg.into())).unwrap();
            let public = export_public(&provider, &owner, &name).unwrap();
            let attributes = attributes(Type::RsaPublicKey, 2048, alg.into(), |flags| {
                flags.set_encrypt();
            });
            mbed_keys
                .import_key(
                    &owner,
                    psec_interface::operations::psa_import_key::Operation {
                        key_name: name.clone(),
                        attributes,
                        data: public.into(),
                    },
                )
                .unwrap();
            let ciphertext = mbed_encryption
                .asymmetric_encrypt(
                    &owner,
                    psa_asymmetric_encrypt::Operation {
                        key_name: name.clone(),
                        alg,
                        plaintext: b"from Mbed TLS".to_vec().into(),
                        salt: None,
                    },
                )
                .unwrap()
                .ciphertext;
            let plaintext = provider
                .asymmetric_decrypt(
                    &owner,
                    psa_asymmetric_decrypt::Operation {
                        key_name: name,
                        alg,
                        ciphertext,
                        salt: None,
                    },
                )
                .unwrap()
                .plaintext;
            assert_eq!(&plaintext[..], b"from Mbed TLS");
        }
    }
}

fn openssl(args: &[&str], dir: &std::path::Path) -> std::process::Output {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(output.status.success(), "openssl {args:?}: {output:?}");
    output
}

softhsm_test! {
    fn openssl_verifies_ecdsa_signatures_and_encrypts_to_exported_rsa_keys() {
        let (_, provider) = setup();
        let owner = app("alice");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path();

        generate(&provider, &owner, "ec", ecc_key(256)).unwrap();
        let point = export_public(&provider, &owner, "ec").unwrap();
        let mut spki = hex("3059301306072a8648ce3d020106082a8648ce3d030107034200");
        spki.extend_from_slice(&point);
        std::fs::write(path.join("ec.der"), spki).unwrap();
        let message = b"checked by openssl";
        std::fs::write(path.join("message"), message).unwrap();
        let signature = sign_hash(&provider, &owner, "ec", ecdsa(Hash::Sha256), &sha256(message))
            .unwrap();
        let (r, s) = signature.split_at(32);
        // An ECDSA-Sig-Value is, like an RSAPublicKey, two unsigned INTEGERs.
        std::fs::write(path.join("sig.der"), crate::der::rsa_public_key(r, s).unwrap()).unwrap();
        let output = openssl(
            &["dgst", "-sha256", "-verify", "ec.der", "-keyform", "DER", "-signature", "sig.der", "message"],
            path,
        );
        assert!(String::from_utf8_lossy(&output.stdout).contains("Verified OK"));

        #[allow(deprecated, reason = "OAEP with SHA-1 is what SoftHSM2 takes")]
        let cases = [
            (Encryption::RsaPkcs1v15Crypt, "rsa_padding_mode:pkcs1"),
            (Encryption::RsaOaep { hash_alg: Hash::Sha1 }, "rsa_padding_mode:oaep"),
        ];
        for (index, (alg, padding)) in cases.into_iter().enumerate() {
            let name = format!("rsa{index}");
            generate(&provider, &owner, &name, rsa_key(2048, alg.into())).unwrap();
            std::fs::write(path.join("rsa.der"), export_public(&provider, &owner, &name).unwrap())
                .unwrap();
            openssl(
                &["rsa", "-RSAPublicKey_in", "-inform", "DER", "-in", "rsa.der", "-pubout", "-out", "rsa.pem"],
                path,
            );
            openssl(
                &["pkeyutl", "-encrypt", "-pubin", "-inkey", "rsa.pem", "-pkeyopt", padding, "-in", "message", "-out", "ciphertext"],
                path,
            );
            let plaintext = provider
                .asymmetric_decrypt(
                    &owner,
                    psa_asymmetric_decrypt::Operation {
                        key_name: name,
                        alg,
                        ciphertext: std::fs::read(path.join("ciphertext")).unwrap(),
                        salt: None,
                    },
                )
                .unwrap()
                .plaintext;
            assert_eq!(&plaintext[..], message);
        }
    }
}

softhsm_test! {
    fn busy_sessions_make_the_pool_open_more_and_idle_ones_are_reused() {
        let (_, provider) = setup();
        let token = provider.token();
        let before = token.idle_sessions();
        let first = token.session().unwrap();
        let second = token.session().unwrap();
        assert_ne!(first.handle(), second.handle());
        let handles = [first.handle(), second.handle()];
        drop(first);
        drop(second);
        assert_eq!(token.idle_sessions(), before.max(2));
        let again = token.session().unwrap();
        assert!(handles.contains(&again.handle()));
    }
}
