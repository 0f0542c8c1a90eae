//! `BasicClient` against `FakeServiceForTests` on a real Unix socket: how it
//! picks a provider and an authenticator, where and how it sends each of
//! the 31 operations, and how service refusals reach the caller.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

mod common;

use common::{Answer, FakeServiceForTests, Received};
use psec_client::psa_crypto::types::algorithm::{
    Aead, AeadWithDefaultLengthTag, AsymmetricEncryption, AsymmetricSignature, Cipher,
    FullLengthMac, Hash, Mac, RawKeyAgreement,
};
use psec_client::psa_crypto::types::key::{
    Attributes, EccFamily, Lifetime, Policy, Type, UsageFlags,
};
use psec_client::psec_interface::operations::{
    attest_key, can_do_crypto, delete_client, list_authenticators, list_clients, list_keys,
    list_opcodes, list_providers, ping, prepare_key_attestation, psa_aead_decrypt,
    psa_aead_encrypt, psa_asymmetric_decrypt, psa_asymmetric_encrypt, psa_cipher_decrypt,
    psa_cipher_encrypt, psa_destroy_key, psa_export_key, psa_export_public_key, psa_generate_key,
    psa_generate_random, psa_hash_compare, psa_hash_compute, psa_import_key, psa_mac_compute,
    psa_mac_verify, psa_raw_key_agreement, psa_sign_hash, psa_sign_message, psa_verify_hash,
    psa_verify_message,
};
use psec_client::psec_interface::{NativeOperation, NativeResult};
use psec_client::{
    AttestationOutput, AttestationParams, AuthType, Authentication, AuthenticatorInfo, BasicClient,
    CheckType, ClientErrorKind, Error, KeyInfo, Opcode, PrepareKeyAttestationOutput,
    PrepareKeyAttestationParams, ProviderId, ProviderInfo, ResponseProblem, ResponseStatus,
    SecretBytes,
};
use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt;
use std::time::Duration;

const TEST_TIMEOUT: Duration = Duration::from_secs(5);

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn provider_info(id: ProviderId) -> ProviderInfo {
    ProviderInfo {
        uuid: id.uuid(),
        description: format!("{id} provider"),
        vendor: "psec tests".to_string(),
        version_maj: 0,
        version_min: 1,
        version_rev: 0,
        id,
    }
}

fn authenticator_info(id: AuthType) -> AuthenticatorInfo {
    AuthenticatorInfo {
        description: format!("{id} authenticator"),
        version_maj: 0,
        version_min: 1,
        version_rev: 0,
        id,
    }
}

/// The three answers `select_defaults` needs: Ping, ListProviders,
/// ListAuthenticators.
fn discovery(providers: &[ProviderId], authenticators: &[AuthType]) -> Vec<Answer> {
    vec![
        Answer::Result(NativeResult::Ping(ping::Result {
            wire_protocol_version_maj: 1,
            wire_protocol_version_min: 0,
        })),
        Answer::Result(NativeResult::ListProviders(list_providers::Result {
            providers: providers.iter().copied().map(provider_info).collect(),
        })),
        Answer::Result(NativeResult::ListAuthenticators(
            list_authenticators::Result {
                authenticators: authenticators
                    .iter()
                    .copied()
                    .map(authenticator_info)
                    .collect(),
            },
        )),
    ]
}

fn naked_client(fake: &FakeServiceForTests) -> BasicClient {
    BasicClient::new_naked(fake.endpoint()).with_timeout(Some(TEST_TIMEOUT))
}

fn own_uid() -> u32 {
    std::fs::metadata("/proc/self").unwrap().uid()
}

/// Asserts that a connection carried `opcode` to `provider` with
/// `auth_type` and `auth` bytes.
fn assert_sent(
    received: &Received,
    opcode: Opcode,
    provider: ProviderId,
    auth_type: AuthType,
    auth: &[u8],
) {
    let request = received.request();
    assert_eq!(request.header.opcode, opcode);
    assert_eq!(request.header.provider, provider, "{opcode:?}: provider");
    assert_eq!(request.header.auth_type, auth_type, "{opcode:?}: auth type");
    assert_eq!(request.auth.bytes(), auth, "{opcode:?}: auth bytes");
}

fn ecdsa() -> AsymmetricSignature {
    AsymmetricSignature::Ecdsa {
        hash_alg: Hash::Sha256.into(),
    }
}

fn ecc_attributes() -> Attributes {
    let mut usage_flags = UsageFlags::default();
    usage_flags.set_sign_hash().set_verify_hash();
    Attributes {
        lifetime: Lifetime::Persistent,
        key_type: Type::EccKeyPair {
            curve_family: EccFamily::SecpR1,
        },
        bits: 256,
        policy: Policy {
            usage_flags,
            permitted_algorithms: ecdsa().into(),
        },
    }
}

fn secret(bytes: &[u8]) -> SecretBytes {
    SecretBytes::from(bytes)
}

// ---------------------------------------------------------------------------
// Provider and authenticator selection
// ---------------------------------------------------------------------------

#[test]
fn select_defaults_pings_lists_and_takes_the_first_crypto_provider() {
    let fake = FakeServiceForTests::start(discovery(
        &[ProviderId::Tpm, ProviderId::MbedCrypto, ProviderId::Core],
        &[AuthType::Direct],
    ));
    let client = naked_client(&fake)
        .select_defaults(Some("discovering-app".to_string()))
        .unwrap();
    assert_eq!(client.provider(), Some(ProviderId::Tpm));
    assert_eq!(
        client.auth(),
        &Authentication::direct("discovering-app").unwrap()
    );
    let received = fake.finish();
    let opcodes: Vec<_> = received.iter().map(|r| r.request().header.opcode).collect();
    assert_eq!(
        opcodes,
        [
            Opcode::Ping,
            Opcode::ListProviders,
            Opcode::ListAuthenticators
        ]
    );
    for connection in &received {
        // Discovery is unauthenticated and goes to Core.
        let opcode = connection.request().header.opcode;
        assert_sent(connection, opcode, ProviderId::Core, AuthType::NoAuth, b"");
    }
}

#[test]
fn core_listed_first_is_skipped_for_the_next_provider() {
    let fake = FakeServiceForTests::start(discovery(
        &[ProviderId::Core, ProviderId::Pkcs11],
        &[AuthType::NoAuth],
    ));
    let client = naked_client(&fake).select_defaults(None).unwrap();
    assert_eq!(client.provider(), Some(ProviderId::Pkcs11));
    assert_eq!(client.auth(), &Authentication::none());
    fake.finish();
}

#[test]
fn direct_authentication_sends_the_application_name() {
    let mut answers = discovery(
        &[ProviderId::MbedCrypto, ProviderId::Core],
        &[AuthType::Direct],
    );
    answers.push(Answer::Result(NativeResult::PsaDestroyKey(
        psa_destroy_key::Result {},
    )));
    let fake = FakeServiceForTests::start(answers);
    let client = naked_client(&fake)
        .select_defaults(Some("named-app".to_string()))
        .unwrap();
    client.psa_destroy_key("k").unwrap();
    let received = fake.finish();
    assert_sent(
        &received[3],
        Opcode::PsaDestroyKey,
        ProviderId::MbedCrypto,
        AuthType::Direct,
        b"named-app",
    );
}

#[test]
fn unix_peer_credentials_send_our_uid_as_four_bytes_little_endian() {
    let mut answers = discovery(
        &[ProviderId::MbedCrypto, ProviderId::Core],
        &[AuthType::UnixPeerCredentials, AuthType::Direct],
    );
    answers.push(Answer::Result(NativeResult::ListKeys(list_keys::Result {
        keys: Vec::new(),
    })));
    let fake = FakeServiceForTests::start(answers);
    let client = naked_client(&fake)
        .select_defaults(Some("ignored-app".to_string()))
        .unwrap();
    assert_eq!(client.auth().auth_type(), AuthType::UnixPeerCredentials);
    assert!(client.list_keys().unwrap().is_empty());
    let received = fake.finish();
    assert_sent(
        &received[3],
        Opcode::ListKeys,
        ProviderId::Core,
        AuthType::UnixPeerCredentials,
        &own_uid().to_le_bytes(),
    );
}

#[test]
fn direct_without_an_application_name_falls_to_the_next_authenticator() {
    let fake = FakeServiceForTests::start(discovery(
        &[ProviderId::MbedCrypto, ProviderId::Core],
        &[AuthType::Direct, AuthType::UnixPeerCredentials],
    ));
    let client = naked_client(&fake).select_defaults(None).unwrap();
    assert_eq!(
        client.auth(),
        &Authentication::unix_peer_credentials(own_uid())
    );
    fake.finish();
}

#[test]
fn direct_only_without_an_application_name_is_a_missing_application_name() {
    let fake = FakeServiceForTests::start(discovery(
        &[ProviderId::MbedCrypto, ProviderId::Core],
        &[AuthType::Direct],
    ));
    let error = naked_client(&fake).select_defaults(None).unwrap_err();
    assert!(
        matches!(
            error,
            Error::Client(ClientErrorKind::MissingApplicationName)
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("BasicClient::new"), "{error}");
    fake.finish();
}

#[test]
fn only_unsupported_authenticators_is_no_usable_authenticator() {
    let fake = FakeServiceForTests::start(discovery(
        &[ProviderId::MbedCrypto, ProviderId::Core],
        &[AuthType::JwtSvid],
    ));
    match naked_client(&fake).select_defaults(Some("app".to_string())) {
        Err(Error::Client(ClientErrorKind::NoUsableAuthenticator { offered })) => {
            assert_eq!(offered, [AuthType::JwtSvid]);
        }
        other => panic!("expected NoUsableAuthenticator, got {other:?}"),
    }
    fake.finish();
}

#[test]
fn a_service_with_only_core_is_no_usable_provider() {
    let mut answers = discovery(&[ProviderId::Core], &[AuthType::Direct]);
    answers.pop(); // It gives up before asking for authenticators.
    let fake = FakeServiceForTests::start(answers);
    let error = naked_client(&fake)
        .select_defaults(Some("app".to_string()))
        .unwrap_err();
    assert!(
        matches!(error, Error::Client(ClientErrorKind::NoUsableProvider)),
        "{error:?}"
    );
    assert_eq!(fake.finish().len(), 2);
}

#[test]
fn a_refused_ping_stops_select_defaults_with_the_service_status() {
    let fake = FakeServiceForTests::start(vec![Answer::Status(
        ResponseStatus::WireProtocolVersionNotSupported,
    )]);
    let error = naked_client(&fake).select_defaults(None).unwrap_err();
    assert_eq!(
        error.service_status(),
        Some(ResponseStatus::WireProtocolVersionNotSupported)
    );
    fake.finish();
}

// ---------------------------------------------------------------------------
// Every operation: provider, authentication, body, result
// ---------------------------------------------------------------------------

/// One typed method: what it must send, what the fake answers, and a call
/// that checks what the method returns.
struct Case {
    sends: NativeOperation,
    answer: NativeResult,
    call: Box<dyn Fn(&BasicClient)>,
}

fn case(
    sends: NativeOperation,
    answer: NativeResult,
    call: impl Fn(&BasicClient) + 'static,
) -> Case {
    Case {
        sends,
        answer,
        call: Box::new(call),
    }
}

fn every_operation() -> Vec<Case> {
    let attributes = ecc_attributes();
    let oaep = AsymmetricEncryption::RsaOaep {
        hash_alg: Hash::Sha256,
    };
    let gcm = Aead::AeadWithDefaultLengthTag(AeadWithDefaultLengthTag::Gcm);
    let hmac = Mac::FullLength(FullLengthMac::Hmac {
        hash_alg: Hash::Sha256,
    });
    let providers = vec![
        provider_info(ProviderId::Tpm),
        provider_info(ProviderId::Core),
    ];
    let authenticators = vec![authenticator_info(AuthType::Direct)];
    let keys = vec![KeyInfo {
        provider_id: ProviderId::Tpm,
        name: "listed".to_string(),
        attributes,
    }];
    let opcodes: BTreeSet<Opcode> = [Opcode::Ping, Opcode::PsaSignHash].into();
    vec![
        case(
            NativeOperation::Ping(ping::Operation {}),
            NativeResult::Ping(ping::Result {
                wire_protocol_version_maj: 1,
                wire_protocol_version_min: 0,
            }),
            |c| assert_eq!(c.ping().unwrap(), (1, 0)),
        ),
        case(
            NativeOperation::ListProviders(list_providers::Operation {}),
            NativeResult::ListProviders(list_providers::Result {
                providers: providers.clone(),
            }),
            move |c| assert_eq!(c.list_providers().unwrap(), providers),
        ),
        case(
            NativeOperation::ListOpcodes(list_opcodes::Operation {
                provider_id: ProviderId::Pkcs11,
            }),
            NativeResult::ListOpcodes(list_opcodes::Result {
                opcodes: opcodes.clone(),
            }),
            move |c| assert_eq!(c.list_opcodes(ProviderId::Pkcs11).unwrap(), opcodes),
        ),
        case(
            NativeOperation::ListAuthenticators(list_authenticators::Operation {}),
            NativeResult::ListAuthenticators(list_authenticators::Result {
                authenticators: authenticators.clone(),
            }),
            move |c| assert_eq!(c.list_authenticators().unwrap(), authenticators),
        ),
        case(
            NativeOperation::ListKeys(list_keys::Operation {}),
            NativeResult::ListKeys(list_keys::Result { keys: keys.clone() }),
            move |c| assert_eq!(c.list_keys().unwrap(), keys),
        ),
        case(
            NativeOperation::ListClients(list_clients::Operation {}),
            NativeResult::ListClients(list_clients::Result {
                clients: vec!["alice".to_string(), "bob".to_string()],
            }),
            |c| assert_eq!(c.list_clients().unwrap(), ["alice", "bob"]),
        ),
        case(
            NativeOperation::DeleteClient(delete_client::Operation {
                client: "bob".to_string(),
            }),
            NativeResult::DeleteClient(delete_client::Result {}),
            |c| c.delete_client("bob").unwrap(),
        ),
        case(
            NativeOperation::PsaGenerateKey(psa_generate_key::Operation {
                key_name: "new-key".to_string(),
                attributes,
            }),
            NativeResult::PsaGenerateKey(psa_generate_key::Result {}),
            move |c| c.psa_generate_key("new-key", attributes).unwrap(),
        ),
        case(
            NativeOperation::PsaDestroyKey(psa_destroy_key::Operation {
                key_name: "old-key".to_string(),
            }),
            NativeResult::PsaDestroyKey(psa_destroy_key::Result {}),
            |c| c.psa_destroy_key("old-key").unwrap(),
        ),
        case(
            NativeOperation::PsaImportKey(psa_import_key::Operation {
                key_name: "imported".to_string(),
                attributes,
                data: secret(&[7; 32]),
            }),
            NativeResult::PsaImportKey(psa_import_key::Result {}),
            move |c| c.psa_import_key("imported", &[7; 32], attributes).unwrap(),
        ),
        case(
            NativeOperation::PsaExportPublicKey(psa_export_public_key::Operation {
                key_name: "pub".to_string(),
            }),
            NativeResult::PsaExportPublicKey(psa_export_public_key::Result { data: vec![4; 65] }),
            |c| assert_eq!(c.psa_export_public_key("pub").unwrap(), vec![4; 65]),
        ),
        case(
            NativeOperation::PsaExportKey(psa_export_key::Operation {
                key_name: "exportable".to_string(),
            }),
            NativeResult::PsaExportKey(psa_export_key::Result {
                data: secret(&[9; 16]),
            }),
            |c| assert_eq!(*c.psa_export_key("exportable").unwrap(), [9; 16]),
        ),
        case(
            NativeOperation::PsaSignHash(psa_sign_hash::Operation {
                key_name: "signer".to_string(),
                alg: ecdsa(),
                hash: vec![1; 32],
            }),
            NativeResult::PsaSignHash(psa_sign_hash::Result {
                signature: vec![2; 64],
            }),
            |c| {
                assert_eq!(
                    c.psa_sign_hash("signer", &[1; 32], ecdsa()).unwrap(),
                    vec![2; 64]
                )
            },
        ),
        case(
            NativeOperation::PsaVerifyHash(psa_verify_hash::Operation {
                key_name: "signer".to_string(),
                alg: ecdsa(),
                hash: vec![1; 32],
                signature: vec![2; 64],
            }),
            NativeResult::PsaVerifyHash(psa_verify_hash::Result {}),
            |c| {
                c.psa_verify_hash("signer", &[1; 32], ecdsa(), &[2; 64])
                    .unwrap()
            },
        ),
        case(
            NativeOperation::PsaSignMessage(psa_sign_message::Operation {
                key_name: "signer".to_string(),
                alg: ecdsa(),
                message: secret(b"message"),
            }),
            NativeResult::PsaSignMessage(psa_sign_message::Result {
                signature: vec![3; 64],
            }),
            |c| {
                let signature = c.psa_sign_message("signer", b"message", ecdsa()).unwrap();
                assert_eq!(signature, vec![3; 64]);
            },
        ),
        case(
            NativeOperation::PsaVerifyMessage(psa_verify_message::Operation {
                key_name: "signer".to_string(),
                alg: ecdsa(),
                message: secret(b"message"),
                signature: vec![3; 64],
            }),
            NativeResult::PsaVerifyMessage(psa_verify_message::Result {}),
            |c| {
                c.psa_verify_message("signer", b"message", ecdsa(), &[3; 64])
                    .unwrap();
            },
        ),
        case(
            NativeOperation::PsaAsymmetricEncrypt(psa_asymmetric_encrypt::Operation {
                key_name: "rsa".to_string(),
                alg: oaep,
                plaintext: secret(b"plain"),
                salt: Some(secret(b"label")),
            }),
            NativeResult::PsaAsymmetricEncrypt(psa_asymmetric_encrypt::Result {
                ciphertext: vec![5; 256],
            }),
            move |c| {
                let ciphertext = c
                    .psa_asymmetric_encrypt("rsa", oaep, b"plain", Some(b"label"))
                    .unwrap();
                assert_eq!(ciphertext, vec![5; 256]);
            },
        ),
        case(
            NativeOperation::PsaAsymmetricDecrypt(psa_asymmetric_decrypt::Operation {
                key_name: "rsa".to_string(),
                alg: oaep,
                ciphertext: vec![5; 256],
                salt: None,
            }),
            NativeResult::PsaAsymmetricDecrypt(psa_asymmetric_decrypt::Result {
                plaintext: secret(b"plain"),
            }),
            move |c| {
                let plaintext = c
                    .psa_asymmetric_decrypt("rsa", oaep, &[5; 256], None)
                    .unwrap();
                assert_eq!(*plaintext, *b"plain");
            },
        ),
        case(
            NativeOperation::PsaAeadEncrypt(psa_aead_encrypt::Operation {
                key_name: "aes".to_string(),
                alg: gcm,
                nonce: vec![0; 12],
                additional_data: b"header".to_vec(),
                plaintext: secret(b"payload"),
            }),
            NativeResult::PsaAeadEncrypt(psa_aead_encrypt::Result {
                ciphertext: vec![6; 23],
            }),
            move |c| {
                let ciphertext = c
                    .psa_aead_encrypt("aes", gcm, &[0; 12], b"header", b"payload")
                    .unwrap();
                assert_eq!(ciphertext, vec![6; 23]);
            },
        ),
        case(
            NativeOperation::PsaAeadDecrypt(psa_aead_decrypt::Operation {
                key_name: "aes".to_string(),
                alg: gcm,
                nonce: vec![0; 12],
                additional_data: b"header".to_vec(),
                ciphertext: vec![6; 23],
            }),
            NativeResult::PsaAeadDecrypt(psa_aead_decrypt::Result {
                plaintext: secret(b"payload"),
            }),
            move |c| {
                let plaintext = c
                    .psa_aead_decrypt("aes", gcm, &[0; 12], b"header", &[6; 23])
                    .unwrap();
                assert_eq!(*plaintext, *b"payload");
            },
        ),
        case(
            NativeOperation::PsaCipherEncrypt(psa_cipher_encrypt::Operation {
                key_name: "aes".to_string(),
                alg: Cipher::Ctr,
                plaintext: secret(b"stream"),
            }),
            NativeResult::PsaCipherEncrypt(psa_cipher_encrypt::Result {
                ciphertext: vec![8; 22],
            }),
            |c| {
                let ciphertext = c.psa_cipher_encrypt("aes", Cipher::Ctr, b"stream").unwrap();
                assert_eq!(ciphertext, vec![8; 22]);
            },
        ),
        case(
            NativeOperation::PsaCipherDecrypt(psa_cipher_decrypt::Operation {
                key_name: "aes".to_string(),
                alg: Cipher::Ctr,
                ciphertext: vec![8; 22],
            }),
            NativeResult::PsaCipherDecrypt(psa_cipher_decrypt::Result {
                plaintext: secret(b"stream"),
            }),
            |c| {
                let plaintext = c.psa_cipher_decrypt("aes", Cipher::Ctr, &[8; 22]).unwrap();
                assert_eq!(*plaintext, *b"stream");
            },
        ),
        case(
            NativeOperation::PsaMacCompute(psa_mac_compute::Operation {
                key_name: "hmac".to_string(),
                alg: hmac,
                input: secret(b"data"),
            }),
            NativeResult::PsaMacCompute(psa_mac_compute::Result { mac: vec![10; 32] }),
            move |c| {
                assert_eq!(
                    c.psa_mac_compute("hmac", hmac, b"data").unwrap(),
                    vec![10; 32]
                )
            },
        ),
        case(
            NativeOperation::PsaMacVerify(psa_mac_verify::Operation {
                key_name: "hmac".to_string(),
                alg: hmac,
                input: secret(b"data"),
                mac: vec![10; 32],
            }),
            NativeResult::PsaMacVerify(psa_mac_verify::Result {}),
            move |c| c.psa_mac_verify("hmac", hmac, b"data", &[10; 32]).unwrap(),
        ),
        case(
            NativeOperation::PsaGenerateRandom(psa_generate_random::Operation { size: 16 }),
            NativeResult::PsaGenerateRandom(psa_generate_random::Result {
                random_bytes: secret(&[11; 16]),
            }),
            |c| assert_eq!(*c.psa_generate_random(16).unwrap(), [11; 16]),
        ),
        case(
            NativeOperation::PsaHashCompute(psa_hash_compute::Operation {
                alg: Hash::Sha256,
                input: secret(b"abc"),
            }),
            NativeResult::PsaHashCompute(psa_hash_compute::Result { hash: vec![12; 32] }),
            |c| {
                assert_eq!(
                    c.psa_hash_compute(Hash::Sha256, b"abc").unwrap(),
                    vec![12; 32]
                )
            },
        ),
        case(
            NativeOperation::PsaHashCompare(psa_hash_compare::Operation {
                alg: Hash::Sha256,
                input: secret(b"abc"),
                hash: vec![12; 32],
            }),
            NativeResult::PsaHashCompare(psa_hash_compare::Result {}),
            |c| c.psa_hash_compare(Hash::Sha256, b"abc", &[12; 32]).unwrap(),
        ),
        case(
            NativeOperation::PsaRawKeyAgreement(psa_raw_key_agreement::Operation {
                alg: RawKeyAgreement::Ecdh,
                private_key_name: "ecdh".to_string(),
                peer_key: vec![4; 65],
            }),
            NativeResult::PsaRawKeyAgreement(psa_raw_key_agreement::Result {
                shared_secret: secret(&[13; 32]),
            }),
            |c| {
                let shared = c
                    .psa_raw_key_agreement(RawKeyAgreement::Ecdh, "ecdh", &[4; 65])
                    .unwrap();
                assert_eq!(*shared, [13; 32]);
            },
        ),
        case(
            NativeOperation::CanDoCrypto(can_do_crypto::Operation {
                check_type: CheckType::Generate,
                attributes,
            }),
            NativeResult::CanDoCrypto(can_do_crypto::Result {}),
            move |c| assert!(c.can_do_crypto(CheckType::Generate, attributes).unwrap()),
        ),
        case(
            NativeOperation::AttestKey(attest_key::Operation {
                attested_key_name: "attested".to_string(),
                parameters: AttestationParams::ActivateCredential {
                    credential_blob: vec![14; 8],
                    secret: vec![15; 8],
                },
                attesting_key_name: Some("attesting".to_string()),
            }),
            NativeResult::AttestKey(attest_key::Result {
                output: AttestationOutput::ActivateCredential {
                    credential: secret(b"credential"),
                },
            }),
            |c| {
                let output = c
                    .attest_key(
                        "attested",
                        AttestationParams::ActivateCredential {
                            credential_blob: vec![14; 8],
                            secret: vec![15; 8],
                        },
                        Some("attesting"),
                    )
                    .unwrap();
                assert_eq!(
                    output,
                    AttestationOutput::ActivateCredential {
                        credential: secret(b"credential")
                    }
                );
            },
        ),
        case(
            NativeOperation::PrepareKeyAttestation(prepare_key_attestation::Operation {
                parameters: PrepareKeyAttestationParams::ActivateCredential {
                    attested_key_name: "attested".to_string(),
                    attesting_key_name: None,
                },
            }),
            NativeResult::PrepareKeyAttestation(prepare_key_attestation::Result {
                output: PrepareKeyAttestationOutput::ActivateCredential {
                    name: vec![16; 4],
                    public: vec![17; 4],
                    attesting_key_pub: vec![18; 4],
                },
            }),
            |c| {
                let output = c
                    .prepare_key_attestation(PrepareKeyAttestationParams::ActivateCredential {
                        attested_key_name: "attested".to_string(),
                        attesting_key_name: None,
                    })
                    .unwrap();
                assert_eq!(
                    output,
                    PrepareKeyAttestationOutput::ActivateCredential {
                        name: vec![16; 4],
                        public: vec![17; 4],
                        attesting_key_pub: vec![18; 4],
                    }
                );
            },
        ),
    ]
}

#[test]
fn every_operation_has_a_typed_method_case() {
    let covered: BTreeSet<Opcode> = every_operation()
        .iter()
        .map(|case| case.sends.opcode())
        .collect();
    let all: BTreeSet<Opcode> = Opcode::ALL.iter().copied().collect();
    assert_eq!(covered, all);
    assert_eq!(every_operation().len(), 31);
}

#[test]
fn every_operation_goes_to_its_provider_with_its_authentication_and_decodes() {
    let cases = every_operation();
    let fake = FakeServiceForTests::start(
        cases
            .iter()
            .map(|case| Answer::Result(case.answer.clone()))
            .collect(),
    );
    let client = naked_client(&fake)
        .with_provider(ProviderId::Tpm)
        .with_auth(Authentication::direct("every-op-app").unwrap());
    for case in &cases {
        (case.call)(&client);
    }
    let received = fake.finish();
    assert_eq!(received.len(), cases.len());
    for (case, connection) in cases.iter().zip(&received) {
        let opcode = case.sends.opcode();
        let (provider, auth_type, auth): (_, _, &[u8]) = (
            if opcode.is_core() {
                ProviderId::Core
            } else {
                ProviderId::Tpm
            },
            if opcode.needs_auth() {
                AuthType::Direct
            } else {
                AuthType::NoAuth
            },
            if opcode.needs_auth() {
                b"every-op-app"
            } else {
                b""
            },
        );
        assert_sent(connection, opcode, provider, auth_type, auth);
        let request = connection.request();
        let sent = NativeOperation::from_body(opcode, &request.body).unwrap();
        assert_eq!(sent, case.sends, "{opcode:?}: body");
        assert!(connection.trailing.is_empty());
    }
}

// ---------------------------------------------------------------------------
// Service refusals
// ---------------------------------------------------------------------------

#[test]
fn service_statuses_are_surfaced_as_service_errors() {
    let statuses = [
        ResponseStatus::PsaErrorDoesNotExist,
        ResponseStatus::NotAuthenticated,
        ResponseStatus::AdminOperation,
        ResponseStatus::PsaErrorInvalidSignature,
        ResponseStatus::ProviderNotRegistered,
    ];
    let fake = FakeServiceForTests::start(statuses.iter().map(|&s| Answer::Status(s)).collect());
    let client = naked_client(&fake)
        .with_provider(ProviderId::MbedCrypto)
        .with_auth(Authentication::direct("refused-app").unwrap());
    let errors = [
        client.psa_export_public_key("missing").map(drop),
        client.list_keys().map(drop),
        client.list_clients().map(drop),
        client.psa_verify_hash("k", &[0; 32], ecdsa(), &[0; 64]),
        client.psa_generate_random(4).map(drop),
    ];
    for (status, result) in statuses.iter().zip(errors) {
        let error = result.unwrap_err();
        assert!(
            matches!(error, Error::Service(s) if s == *status),
            "expected {status:?}, got {error:?}"
        );
        let text = error.to_string();
        assert!(text.contains(status.description()), "{text}");
        assert!(text.contains(&status.code().to_string()), "{text}");
    }
    fake.finish();
}

#[test]
fn can_do_crypto_answered_not_supported_is_false() {
    let fake = FakeServiceForTests::start(vec![
        Answer::Status(ResponseStatus::PsaErrorNotSupported),
        Answer::Status(ResponseStatus::PsaErrorInvalidArgument),
    ]);
    let client = naked_client(&fake)
        .with_provider(ProviderId::MbedCrypto)
        .with_auth(Authentication::direct("asking-app").unwrap());
    assert!(
        !client
            .can_do_crypto(CheckType::Use, ecc_attributes())
            .unwrap()
    );
    assert_eq!(
        client
            .can_do_crypto(CheckType::Use, ecc_attributes())
            .unwrap_err()
            .service_status(),
        Some(ResponseStatus::PsaErrorInvalidArgument)
    );
    fake.finish();
}

#[test]
fn random_bytes_of_the_wrong_length_are_malformed() {
    let fake = FakeServiceForTests::start(vec![Answer::Result(NativeResult::PsaGenerateRandom(
        psa_generate_random::Result {
            random_bytes: secret(&[0; 8]),
        },
    ))]);
    let client = naked_client(&fake).with_provider(ProviderId::MbedCrypto);
    match client.psa_generate_random(32) {
        Err(Error::Client(ClientErrorKind::MalformedResponse(ResponseProblem::RandomLength {
            asked,
            received,
        }))) => assert_eq!((asked, received), (32, 8)),
        other => panic!("expected RandomLength, got {other:?}"),
    }
    fake.finish();
}
