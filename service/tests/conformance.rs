//! The conformance suite: every crypto operation through a real psecd and
//! psec-client, success paths and documented failures, written once and
//! instantiated for each provider (`conformance_suite!` at the bottom).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

mod common;

use common::{Backend, ECDSA, Psecd, TestConfig, p256_signing, status};
use psec_client::psa_crypto::types::algorithm::{
    Aead, AeadWithDefaultLengthTag, Algorithm, AsymmetricEncryption, Cipher, FullLengthMac, Hash,
    KeyAgreement, Mac, RawKeyAgreement,
};
use psec_client::psa_crypto::types::key::{Attributes, EccFamily, Type};
use psec_client::{BasicClient, CheckType, Error, Opcode, ResponseStatus};
use psec_test_support::attributes::persistent as attributes;
use std::collections::BTreeSet;

/// Something a backend may or may not offer, which the suite pins per
/// backend ([`offers`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Feature {
    /// AES-256-GCM keys: AEAD encryption and decryption.
    AesGcm,
    /// AES-128-CBC-PKCS#7 keys: cipher encryption and decryption.
    AesCbc,
    /// HMAC-SHA-256 keys: MAC compute and verify.
    Hmac,
    /// P-256 ECDH keys: raw key agreement.
    Ecdh,
    /// RSA-2048 keys for OAEP with SHA-256.
    RsaOaep,
    /// RSA-2048 keys for PKCS#1 v1.5 encryption.
    RsaPkcs1v15,
    /// Importing an AES key, and exporting it where its policy allows.
    ImportAes,
    /// Importing a P-256 public key and verifying with it.
    ImportP256Public,
}

/// What each backend must offer, as it does today (Mbed Crypto: Mbed TLS;
/// PKCS#11: SoftHSM2 2.6; TPM: swtpm). The suite fails if a backend
/// refuses something pinned here, and also if it offers something that is
/// not, so that the pin is updated with the provider.
fn offers(backend: Backend) -> &'static [Feature] {
    use Feature::*;
    match backend {
        Backend::MbedCrypto => &[
            AesGcm,
            AesCbc,
            Hmac,
            Ecdh,
            RsaOaep,
            RsaPkcs1v15,
            ImportAes,
            ImportP256Public,
        ],
        // SoftHSM2 2.6 has no CKM_RSA_PKCS_OAEP with SHA-256.
        Backend::Pkcs11 | Backend::Pkcs11SoftwarePublic => &[
            AesGcm,
            AesCbc,
            Hmac,
            Ecdh,
            RsaPkcs1v15,
            ImportAes,
            ImportP256Public,
        ],
        // The TPM provider makes and uses key pairs only.
        Backend::Tpm => &[RsaOaep, RsaPkcs1v15, ImportP256Public],
    }
}

/// The opcodes each backend must list in ListOpcodes, exactly. The MAC
/// opcodes are never listed (Parsec 1.x clients can not decode them); the
/// [`Feature::Hmac`] pin checks that they are served.
fn lists(backend: Backend) -> BTreeSet<Opcode> {
    let mut opcodes = BTreeSet::from([
        Opcode::PsaGenerateKey,
        Opcode::PsaDestroyKey,
        Opcode::PsaSignHash,
        Opcode::PsaVerifyHash,
        Opcode::PsaImportKey,
        Opcode::PsaExportPublicKey,
        Opcode::PsaAsymmetricEncrypt,
        Opcode::PsaAsymmetricDecrypt,
        Opcode::PsaGenerateRandom,
        Opcode::PsaHashCompute,
        Opcode::PsaHashCompare,
        Opcode::PsaSignMessage,
        Opcode::PsaVerifyMessage,
        Opcode::CanDoCrypto,
    ]);
    match backend {
        Backend::MbedCrypto | Backend::Pkcs11 | Backend::Pkcs11SoftwarePublic => {
            opcodes.extend([
                Opcode::PsaExportKey,
                Opcode::PsaAeadEncrypt,
                Opcode::PsaAeadDecrypt,
                Opcode::PsaRawKeyAgreement,
                Opcode::PsaCipherEncrypt,
                Opcode::PsaCipherDecrypt,
            ]);
        }
        Backend::Tpm => opcodes.extend([Opcode::AttestKey, Opcode::PrepareKeyAttestation]),
    }
    opcodes
}

/// Checks that the provider's CanDoCrypto `check` of `key` answers what
/// the pin of `backend` says of `feature`, and, where it is not offered,
/// that `attempt` is refused with NotSupported. Returns whether it is
/// offered; the caller then does it, which must succeed.
fn pinned(
    backend: Backend,
    feature: Feature,
    c: &BasicClient,
    check: CheckType,
    key: Attributes,
    attempt: impl FnOnce() -> Result<(), Error>,
) -> bool {
    let offered = offers(backend).contains(&feature);
    assert_eq!(
        c.can_do_crypto(check, key).unwrap(),
        offered,
        "{backend:?}: CanDoCrypto {check:?} for {feature:?} does not say what the pin says"
    );
    if !offered {
        let refused = status(attempt().unwrap_err());
        assert_eq!(refused, ResponseStatus::PsaErrorNotSupported, "{feature:?}");
    }
    offered
}

/// Generates the key `name` if `backend` must offer `feature`; if it must
/// not, checks that it refuses to. Returns whether the key was made.
fn generate_pinned(
    backend: Backend,
    feature: Feature,
    c: &BasicClient,
    name: &str,
    key: Attributes,
) -> bool {
    let offered = pinned(backend, feature, c, CheckType::Generate, key, || {
        c.psa_generate_key(name, key)
    });
    if offered {
        c.psa_generate_key(name, key)
            .unwrap_or_else(|e| panic!("{backend:?} must generate {feature:?}: {e}"));
    }
    offered
}

/// As [`generate_pinned`], for importing `data`.
fn import_pinned(
    backend: Backend,
    feature: Feature,
    c: &BasicClient,
    name: &str,
    data: &[u8],
    key: Attributes,
) -> bool {
    let offered = pinned(backend, feature, c, CheckType::Import, key, || {
        c.psa_import_key(name, data, key)
    });
    if offered {
        c.psa_import_key(name, data, key)
            .unwrap_or_else(|e| panic!("{backend:?} must import {feature:?}: {e}"));
    }
    offered
}

/// The suite, for one backend.
macro_rules! conformance_suite {
    ($module:ident, $backend:expr) => {
        mod $module {
            use super::*;

            const BACKEND: Backend = $backend;

            fn start() -> Psecd {
                Psecd::start_with(&TestConfig {
                    backend: BACKEND,
                    ..TestConfig::default()
                })
            }

            #[test]
            fn list_opcodes_names_exactly_the_pinned_opcodes() {
                let psecd = start();
                let c = psecd.client("app");
                assert_eq!(
                    c.list_opcodes(BACKEND.provider_id()).unwrap(),
                    lists(BACKEND),
                    "{BACKEND:?}"
                );
            }

            #[test]
            fn ecdsa_key_signs_verifies_and_rejects_a_bad_signature() {
                let psecd = start();
                let c = psecd.client("signer");
                c.psa_generate_key("p256", p256_signing()).unwrap();
                let hash = c.psa_hash_compute(Hash::Sha256, b"message").unwrap();
                let signature = c.psa_sign_hash("p256", &hash, ECDSA).unwrap();
                c.psa_verify_hash("p256", &hash, ECDSA, &signature).unwrap();
                let mut bad = signature.clone();
                bad[10] ^= 1;
                assert_eq!(
                    status(c.psa_verify_hash("p256", &hash, ECDSA, &bad).unwrap_err()),
                    ResponseStatus::PsaErrorInvalidSignature
                );
                let message_signature = c.psa_sign_message("p256", b"message", ECDSA).unwrap();
                c.psa_verify_message("p256", b"message", ECDSA, &message_signature)
                    .unwrap();
                c.psa_verify_hash("p256", &hash, ECDSA, &message_signature)
                    .unwrap();
                let public = c.psa_export_public_key("p256").unwrap();
                assert_eq!(public.len(), 65);
                assert_eq!(public[0], 0x04, "uncompressed point");
            }

            #[test]
            fn rsa_key_encrypts_and_decrypts_with_each_pinned_scheme() {
                let psecd = start();
                let c = psecd.client("rsa-app");
                let schemes = [
                    (
                        Feature::RsaOaep,
                        AsymmetricEncryption::RsaOaep {
                            hash_alg: Hash::Sha256,
                        },
                    ),
                    (Feature::RsaPkcs1v15, AsymmetricEncryption::RsaPkcs1v15Crypt),
                ];
                for (n, (feature, scheme)) in schemes.into_iter().enumerate() {
                    let name = format!("rsa-{n}");
                    let key = attributes(Type::RsaKeyPair, 2048, scheme.into(), |u| {
                        let _ = u.set_encrypt().set_decrypt();
                    });
                    if !generate_pinned(BACKEND, feature, &c, &name, key) {
                        continue;
                    }
                    let ciphertext = c
                        .psa_asymmetric_encrypt(&name, scheme, b"secret", None)
                        .unwrap();
                    assert_eq!(ciphertext.len(), 256);
                    let plaintext = c
                        .psa_asymmetric_decrypt(&name, scheme, &ciphertext, None)
                        .unwrap();
                    assert_eq!(&*plaintext, b"secret", "{scheme:?}");
                }
            }

            #[test]
            fn eight_clients_signing_at_once_all_get_valid_signatures() {
                let psecd = start();
                psecd
                    .client("crowd")
                    .psa_generate_key("shared", p256_signing())
                    .unwrap();
                std::thread::scope(|scope| {
                    for thread in 0..8u8 {
                        let psecd = &psecd;
                        let _ = scope.spawn(move || {
                            let c = psecd.client("crowd");
                            for round in 0..10u8 {
                                let hash = [thread.wrapping_mul(31).wrapping_add(round); 32];
                                let signature = c.psa_sign_hash("shared", &hash, ECDSA).unwrap();
                                c.psa_verify_hash("shared", &hash, ECDSA, &signature)
                                    .unwrap();
                            }
                        });
                    }
                });
            }

            #[test]
            fn aes_key_does_aead_and_cipher_and_detects_tampering() {
                let psecd = start();
                let c = psecd.client("aes-app");
                let gcm = Aead::AeadWithDefaultLengthTag(AeadWithDefaultLengthTag::Gcm);
                let gcm_key = attributes(Type::Aes, 256, gcm.into(), |u| {
                    let _ = u.set_encrypt().set_decrypt();
                });
                if generate_pinned(BACKEND, Feature::AesGcm, &c, "gcm", gcm_key) {
                    let nonce = [7u8; 12];
                    let sealed = c
                        .psa_aead_encrypt("gcm", gcm, &nonce, b"header", b"payload")
                        .unwrap();
                    assert_eq!(
                        &*c.psa_aead_decrypt("gcm", gcm, &nonce, b"header", &sealed)
                            .unwrap(),
                        b"payload"
                    );
                    let mut tampered = sealed.clone();
                    tampered[0] ^= 1;
                    let error = status(
                        c.psa_aead_decrypt("gcm", gcm, &nonce, b"header", &tampered)
                            .unwrap_err(),
                    );
                    assert!(
                        matches!(
                            error,
                            ResponseStatus::PsaErrorInvalidSignature
                                | ResponseStatus::PsaErrorCorruptionDetected
                        ),
                        "{error:?}"
                    );
                }

                let cbc_key = attributes(Type::Aes, 128, Cipher::CbcPkcs7.into(), |u| {
                    let _ = u.set_encrypt().set_decrypt();
                });
                if generate_pinned(BACKEND, Feature::AesCbc, &c, "cbc", cbc_key) {
                    let ciphertext = c
                        .psa_cipher_encrypt("cbc", Cipher::CbcPkcs7, b"sixteen byte msg and more")
                        .unwrap();
                    assert_eq!(
                        &*c.psa_cipher_decrypt("cbc", Cipher::CbcPkcs7, &ciphertext)
                            .unwrap(),
                        b"sixteen byte msg and more"
                    );
                }
            }

            #[test]
            fn hmac_key_computes_and_verifies_a_mac() {
                let psecd = start();
                let c = psecd.client("mac-app");
                let hmac = Mac::FullLength(FullLengthMac::Hmac {
                    hash_alg: Hash::Sha256,
                });
                let hmac_key = attributes(Type::Hmac, 256, hmac.into(), |u| {
                    let _ = u.set_sign_hash().set_verify_hash();
                });
                if !generate_pinned(BACKEND, Feature::Hmac, &c, "hmac", hmac_key) {
                    return;
                }
                let mac = c.psa_mac_compute("hmac", hmac, b"data").unwrap();
                assert_eq!(mac.len(), 32);
                c.psa_mac_verify("hmac", hmac, b"data", &mac).unwrap();
                assert_eq!(
                    status(c.psa_mac_verify("hmac", hmac, b"other", &mac).unwrap_err()),
                    ResponseStatus::PsaErrorInvalidSignature
                );
            }

            #[test]
            fn hashing_and_random_need_no_key() {
                let psecd = start();
                let c = psecd.client("app");
                let digest = c.psa_hash_compute(Hash::Sha256, b"abc").unwrap();
                assert_eq!(digest[..4], [0xba, 0x78, 0x16, 0xbf], "SHA-256 of abc");
                c.psa_hash_compare(Hash::Sha256, b"abc", &digest).unwrap();
                assert_eq!(
                    status(
                        c.psa_hash_compare(Hash::Sha256, b"abd", &digest)
                            .unwrap_err()
                    ),
                    ResponseStatus::PsaErrorInvalidSignature
                );
                let a = c.psa_generate_random(32).unwrap();
                let b = c.psa_generate_random(32).unwrap();
                assert_eq!(a.len(), 32);
                assert_ne!(&*a, &*b);
            }

            #[test]
            fn ecdh_agrees_the_same_secret_on_both_sides() {
                let psecd = start();
                let c = psecd.client("ecdh-app");
                let ecdh = Algorithm::KeyAgreement(KeyAgreement::Raw(RawKeyAgreement::Ecdh));
                let p256 = Type::EccKeyPair {
                    curve_family: EccFamily::SecpR1,
                };
                let ecdh_key = attributes(p256, 256, ecdh, |u| {
                    let _ = u.set_derive();
                });
                if !generate_pinned(BACKEND, Feature::Ecdh, &c, "alice", ecdh_key) {
                    return;
                }
                c.psa_generate_key("bob", ecdh_key).unwrap();
                let alice_public = c.psa_export_public_key("alice").unwrap();
                let bob_public = c.psa_export_public_key("bob").unwrap();
                let one = c
                    .psa_raw_key_agreement(RawKeyAgreement::Ecdh, "alice", &bob_public)
                    .unwrap();
                let two = c
                    .psa_raw_key_agreement(RawKeyAgreement::Ecdh, "bob", &alice_public)
                    .unwrap();
                assert_eq!(&*one, &*two);
                assert_eq!(one.len(), 32);
            }

            #[test]
            fn an_imported_public_key_verifies_what_its_pair_signed() {
                let psecd = start();
                let c = psecd.client("import-public-app");
                c.psa_generate_key("pair", p256_signing()).unwrap();
                let public = c.psa_export_public_key("pair").unwrap();
                let verify = attributes(
                    Type::EccPublicKey {
                        curve_family: EccFamily::SecpR1,
                    },
                    256,
                    ECDSA.into(),
                    |u| {
                        let _ = u.set_verify_hash();
                    },
                );
                if !import_pinned(
                    BACKEND,
                    Feature::ImportP256Public,
                    &c,
                    "public",
                    &public,
                    verify,
                ) {
                    return;
                }
                assert_eq!(c.psa_export_public_key("public").unwrap(), public);
                let signature = c.psa_sign_hash("pair", &[5; 32], ECDSA).unwrap();
                c.psa_verify_hash("public", &[5; 32], ECDSA, &signature)
                    .unwrap();
                assert_eq!(
                    status(
                        c.psa_verify_hash("public", &[6; 32], ECDSA, &signature)
                            .unwrap_err()
                    ),
                    ResponseStatus::PsaErrorInvalidSignature
                );
            }

            #[test]
            fn import_export_and_destroy_follow_the_key_policy() {
                let psecd = start();
                let c = psecd.client("import-app");
                let exportable = attributes(Type::Aes, 128, Cipher::CbcPkcs7.into(), |u| {
                    let _ = u.set_export().set_encrypt();
                });
                if !import_pinned(
                    BACKEND,
                    Feature::ImportAes,
                    &c,
                    "imported",
                    &[0x2b; 16],
                    exportable,
                ) {
                    return;
                }
                assert_eq!(&*c.psa_export_key("imported").unwrap(), &[0x2b; 16]);
                let sealed = attributes(Type::Aes, 128, Cipher::CbcPkcs7.into(), |u| {
                    let _ = u.set_encrypt();
                });
                c.psa_import_key("sealed", &[0x2c; 16], sealed).unwrap();
                assert_eq!(
                    status(c.psa_export_key("sealed").unwrap_err()),
                    ResponseStatus::PsaErrorNotPermitted
                );
                assert_eq!(
                    status(c.psa_import_key("sealed", &[0; 16], sealed).unwrap_err()),
                    ResponseStatus::PsaErrorAlreadyExists
                );
                c.psa_destroy_key("sealed").unwrap();
                assert_eq!(
                    status(c.psa_export_public_key("sealed").unwrap_err()),
                    ResponseStatus::PsaErrorDoesNotExist
                );
            }

            #[test]
            fn a_use_the_policy_forbids_is_not_permitted() {
                let psecd = start();
                let c = psecd.client("policy-app");
                let verify_only = attributes(
                    Type::EccKeyPair {
                        curve_family: EccFamily::SecpR1,
                    },
                    256,
                    ECDSA.into(),
                    |u| {
                        let _ = u.set_verify_hash();
                    },
                );
                c.psa_generate_key("verify-only", verify_only).unwrap();
                assert_eq!(
                    status(c.psa_sign_hash("verify-only", &[1; 32], ECDSA).unwrap_err()),
                    ResponseStatus::PsaErrorNotPermitted
                );
            }

            #[test]
            fn unknown_key_does_not_exist() {
                let psecd = start();
                let c = psecd.client("app");
                assert_eq!(
                    status(c.psa_sign_hash("nothing", &[1; 32], ECDSA).unwrap_err()),
                    ResponseStatus::PsaErrorDoesNotExist
                );
                assert_eq!(
                    status(c.psa_destroy_key("nothing").unwrap_err()),
                    ResponseStatus::PsaErrorDoesNotExist
                );
            }

            #[test]
            fn applications_see_only_their_own_keys() {
                let psecd = start();
                let alice = psecd.client("alice");
                let bob = psecd.client("bob");
                alice
                    .psa_generate_key("shared-name", p256_signing())
                    .unwrap();
                alice
                    .psa_generate_key("alice-only", p256_signing())
                    .unwrap();
                // Bob may use the same name for his own key.
                bob.psa_generate_key("shared-name", p256_signing()).unwrap();
                assert_ne!(
                    alice.psa_export_public_key("shared-name").unwrap(),
                    bob.psa_export_public_key("shared-name").unwrap()
                );
                // Alice's other key does not exist for Bob, whatever he tries.
                assert_eq!(
                    status(
                        bob.psa_sign_hash("alice-only", &[1; 32], ECDSA)
                            .unwrap_err()
                    ),
                    ResponseStatus::PsaErrorDoesNotExist
                );
                assert_eq!(
                    status(bob.psa_export_public_key("alice-only").unwrap_err()),
                    ResponseStatus::PsaErrorDoesNotExist
                );
                assert_eq!(
                    status(bob.psa_destroy_key("alice-only").unwrap_err()),
                    ResponseStatus::PsaErrorDoesNotExist
                );
                let names = |c: &BasicClient| {
                    let mut n: Vec<String> =
                        c.list_keys().unwrap().into_iter().map(|k| k.name).collect();
                    n.sort();
                    n
                };
                assert_eq!(names(&alice), ["alice-only", "shared-name"]);
                assert_eq!(names(&bob), ["shared-name"]);
                // Alice's key survived Bob's attempt to destroy it.
                alice.psa_sign_hash("alice-only", &[1; 32], ECDSA).unwrap();
            }

            #[test]
            fn list_keys_gives_provider_and_attributes() {
                let psecd = start();
                let c = psecd.client("lister");
                c.psa_generate_key("k", p256_signing()).unwrap();
                let keys = c.list_keys().unwrap();
                assert_eq!(keys.len(), 1);
                assert_eq!(keys[0].provider_id, BACKEND.provider_id());
                assert_eq!(keys[0].attributes.bits, 256);
                assert_eq!(
                    keys[0].attributes.key_type,
                    Type::EccKeyPair {
                        curve_family: EccFamily::SecpR1
                    }
                );
            }

            #[test]
            fn can_do_crypto_answers_from_what_the_provider_supports() {
                let psecd = start();
                let c = psecd.client("app");
                assert!(
                    c.can_do_crypto(CheckType::Generate, p256_signing())
                        .unwrap()
                );
                let odd = attributes(
                    Type::EccKeyPair {
                        curve_family: EccFamily::SecpR1,
                    },
                    200,
                    ECDSA.into(),
                    |u| {
                        let _ = u.set_sign_hash();
                    },
                );
                assert!(!c.can_do_crypto(CheckType::Generate, odd).unwrap());
            }

            #[test]
            fn keys_survive_a_restart() {
                let mut psecd = start();
                let public = {
                    let c = psecd.client("durable");
                    c.psa_generate_key("k", p256_signing()).unwrap();
                    c.psa_export_public_key("k").unwrap()
                };
                assert!(
                    psecd.stop(),
                    "psecd exits cleanly on SIGTERM:\n{}",
                    psecd.log()
                );
                psecd.spawn();
                let c = psecd.client("durable");
                assert_eq!(c.psa_export_public_key("k").unwrap(), public);
                let signature = c.psa_sign_hash("k", &[3; 32], ECDSA).unwrap();
                c.psa_verify_hash("k", &[3; 32], ECDSA, &signature).unwrap();
            }
        }
    };
}

conformance_suite!(mbed_crypto, Backend::MbedCrypto);
conformance_suite!(pkcs11, Backend::Pkcs11);
conformance_suite!(pkcs11_software_public, Backend::Pkcs11SoftwarePublic);
conformance_suite!(tpm, Backend::Tpm);
