//! `AsyncBasicClient` against `FakeServiceForTests` on a real Unix socket:
//! it sends byte for byte what `BasicClient` sends, and makes the same of
//! silence, refusals, oversized, truncated and malformed answers.
#![cfg(feature = "tokio")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

mod common;

use common::{Answer, FakeServiceForTests, raw_response_header};
use psec_client::psa_crypto::types::algorithm::{Algorithm, AsymmetricSignature, Hash};
use psec_client::psa_crypto::types::key::{
    Attributes, EccFamily, Lifetime, Policy, Type, UsageFlags,
};
use psec_client::psec_interface::header::RawHeader;
use psec_client::psec_interface::operations::{
    can_do_crypto, list_keys, ping, psa_generate_key, psa_generate_random, psa_sign_hash,
};
use psec_client::psec_interface::{NativeResult, Opcode};
use psec_client::{
    AsyncBasicClient, Authentication, BasicClient, CheckType, ClientErrorKind, Error, ProviderId,
    ResponseProblem, ResponseStatus, SecretBytes,
};
use std::time::{Duration, Instant};

fn blocking_client_of(fake: &FakeServiceForTests) -> BasicClient {
    BasicClient::new_naked(fake.endpoint())
        .with_timeout(Some(Duration::from_secs(5)))
        .with_provider(ProviderId::MbedCrypto)
        .with_auth(Authentication::direct("async-app").unwrap())
}

fn client_of(fake: &FakeServiceForTests) -> AsyncBasicClient {
    blocking_client_of(fake).into()
}

fn client_kind(result: Result<impl std::fmt::Debug, Error>) -> ClientErrorKind {
    match result {
        Err(Error::Client(kind)) => kind,
        other => panic!("expected a client error, got {other:?}"),
    }
}

fn random_result(bytes: usize) -> NativeResult {
    NativeResult::PsaGenerateRandom(psa_generate_random::Result {
        random_bytes: SecretBytes::new(vec![0x5a; bytes]),
    })
}

fn p256() -> Attributes {
    let mut usage_flags = UsageFlags::default();
    usage_flags.set_sign_hash();
    Attributes {
        lifetime: Lifetime::Persistent,
        key_type: Type::EccKeyPair {
            curve_family: EccFamily::SecpR1,
        },
        bits: 256,
        policy: Policy {
            usage_flags,
            permitted_algorithms: Algorithm::None,
        },
    }
}

#[tokio::test]
async fn every_kind_of_request_is_the_same_bytes_as_the_blocking_clients() {
    let ecdsa = AsymmetricSignature::Ecdsa {
        hash_alg: Hash::Sha256.into(),
    };
    let answers = || {
        vec![
            Answer::Result(NativeResult::Ping(ping::Result {
                wire_protocol_version_maj: 1,
                wire_protocol_version_min: 0,
            })),
            Answer::Result(NativeResult::PsaGenerateKey(psa_generate_key::Result {})),
            Answer::Result(NativeResult::PsaSignHash(psa_sign_hash::Result {
                signature: vec![7; 64],
            })),
            Answer::Result(random_result(8)),
            Answer::Result(NativeResult::ListKeys(list_keys::Result { keys: vec![] })),
            Answer::Result(NativeResult::CanDoCrypto(can_do_crypto::Result {})),
        ]
    };
    let blocking_fake = FakeServiceForTests::start(answers());
    let blocking = blocking_client_of(&blocking_fake);
    assert_eq!(blocking.ping().unwrap(), (1, 0));
    blocking.psa_generate_key("k", p256()).unwrap();
    let blocking_signature = blocking.psa_sign_hash("k", &[1; 32], ecdsa).unwrap();
    let blocking_random = blocking.psa_generate_random(8).unwrap();
    assert!(blocking.list_keys().unwrap().is_empty());
    assert!(blocking.can_do_crypto(CheckType::Use, p256()).unwrap());

    let async_fake = FakeServiceForTests::start(answers());
    let client = client_of(&async_fake);
    assert_eq!(client.ping().await.unwrap(), (1, 0));
    client.psa_generate_key("k", p256()).await.unwrap();
    let signature = client.psa_sign_hash("k", &[1; 32], ecdsa).await.unwrap();
    let random = client.psa_generate_random(8).await.unwrap();
    assert!(client.list_keys().await.unwrap().is_empty());
    assert!(client.can_do_crypto(CheckType::Use, p256()).await.unwrap());

    assert_eq!(signature, blocking_signature);
    assert_eq!(&*random, &*blocking_random);
    let sent = async_fake.finish();
    let blocking_sent = blocking_fake.finish();
    assert_eq!(sent.len(), 6);
    for (index, (ours, theirs)) in sent.iter().zip(&blocking_sent).enumerate() {
        assert_eq!(ours.raw, theirs.raw, "request {index}");
        assert!(ours.trailing.is_empty(), "request {index}");
    }
}

#[tokio::test]
async fn a_not_supported_answer_to_can_do_crypto_is_a_no() {
    let fake =
        FakeServiceForTests::start(vec![Answer::Status(ResponseStatus::PsaErrorNotSupported)]);
    assert!(
        !client_of(&fake)
            .can_do_crypto(CheckType::Generate, p256())
            .await
            .unwrap()
    );
    fake.finish();
}

#[tokio::test]
async fn a_service_refusal_is_the_service_status() {
    let fake =
        FakeServiceForTests::start(vec![Answer::Status(ResponseStatus::PsaErrorDoesNotExist)]);
    let error = client_of(&fake).psa_destroy_key("nope").await.unwrap_err();
    assert_eq!(
        error.service_status(),
        Some(ResponseStatus::PsaErrorDoesNotExist)
    );
    fake.finish();
}

#[tokio::test]
async fn a_silent_service_times_out_after_the_timeout() {
    let fake = FakeServiceForTests::start(vec![Answer::Silence]);
    let timeout = Duration::from_millis(200);
    let client = client_of(&fake).with_timeout(Some(timeout));
    let started = Instant::now();
    let kind = client_kind(client.ping().await);
    let waited = started.elapsed();
    match kind {
        ClientErrorKind::Timeout {
            endpoint,
            timeout: reported,
        } => {
            assert_eq!(endpoint, fake.endpoint());
            assert_eq!(reported, timeout);
        }
        other => panic!("expected Timeout, got {other:?}"),
    }
    assert!(waited >= timeout, "gave up early, after {waited:?}");
    fake.finish();
}

#[tokio::test]
async fn a_zero_timeout_is_refused_before_connecting() {
    let client =
        AsyncBasicClient::new_naked(psec_client::Endpoint::unix_socket("/nonexistent/psec.sock"))
            .with_timeout(Some(Duration::ZERO));
    assert!(matches!(
        client_kind(client.ping().await),
        ClientErrorKind::ZeroTimeout
    ));
}

#[tokio::test]
async fn a_missing_socket_is_a_connect_error_naming_the_endpoint() {
    let endpoint = psec_client::Endpoint::unix_socket("/nonexistent/psec.sock");
    let client = AsyncBasicClient::new_naked(endpoint.clone());
    match client_kind(client.ping().await) {
        ClientErrorKind::Connect {
            endpoint: named, ..
        } => assert_eq!(named, endpoint),
        other => panic!("expected Connect, got {other:?}"),
    }
}

#[tokio::test]
async fn a_response_body_over_the_limit_is_refused() {
    let fake = FakeServiceForTests::start(vec![Answer::Result(random_result(64))]);
    let client = client_of(&fake).with_max_response_body_len(16);
    match client_kind(client.psa_generate_random(64).await) {
        ClientErrorKind::ResponseTooLarge { limit } => assert_eq!(limit, 16),
        other => panic!("expected ResponseTooLarge, got {other:?}"),
    }
    fake.finish();
}

#[tokio::test]
async fn a_response_claiming_a_huge_body_is_refused_without_waiting_for_it() {
    let fake = FakeServiceForTests::start(vec![Answer::Raw(raw_response_header(
        1,
        Opcode::PsaGenerateRandom.code(),
        0,
        u32::MAX,
    ))]);
    match client_kind(client_of(&fake).psa_generate_random(1).await) {
        ClientErrorKind::ResponseTooLarge { limit } => assert_eq!(limit, 1 << 20),
        other => panic!("expected ResponseTooLarge, got {other:?}"),
    }
    fake.finish();
}

#[tokio::test]
async fn a_garbage_response_is_malformed_with_an_invalid_header() {
    let fake = FakeServiceForTests::start(vec![Answer::Raw(
        b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec(),
    )]);
    let error = client_of(&fake).ping().await.unwrap_err();
    match error.client_kind() {
        Some(ClientErrorKind::MalformedResponse(ResponseProblem::Header(status))) => {
            assert_eq!(*status, ResponseStatus::InvalidHeader);
        }
        other => panic!("expected a malformed header, got {other:?}"),
    }
    fake.finish();
}

#[tokio::test]
async fn a_truncated_response_is_a_closed_connection() {
    let mut answer = raw_response_header(1, Opcode::PsaGenerateRandom.code(), 0, 100);
    answer.extend_from_slice(&[0; 10]);
    let fake = FakeServiceForTests::start(vec![
        Answer::Raw(answer),
        Answer::Raw(raw_response_header(0, 1, 0, 0)[..20].to_vec()),
        Answer::Close,
    ]);
    let client = client_of(&fake);
    for _ in 0..3 {
        match client_kind(client.psa_generate_random(4).await) {
            ClientErrorKind::ConnectionClosed { endpoint } => {
                assert_eq!(endpoint, fake.endpoint());
            }
            other => panic!("expected ConnectionClosed, got {other:?}"),
        }
    }
    fake.finish();
}

#[tokio::test]
async fn an_answer_to_another_opcode_or_provider_is_malformed() {
    let body = random_result(4).into_body().unwrap();
    let len = u32::try_from(body.len()).unwrap();
    let mut wrong_opcode = raw_response_header(1, Opcode::PsaHashCompute.code(), 0, len);
    wrong_opcode.extend_from_slice(body.bytes());
    let mut wrong_provider = raw_response_header(3, Opcode::PsaGenerateRandom.code(), 0, len);
    wrong_provider.extend_from_slice(body.bytes());
    let fake =
        FakeServiceForTests::start(vec![Answer::Raw(wrong_opcode), Answer::Raw(wrong_provider)]);
    let client = client_of(&fake);
    assert!(matches!(
        client_kind(client.psa_generate_random(4).await),
        ClientErrorKind::MalformedResponse(ResponseProblem::OpcodeMismatch {
            sent: Opcode::PsaGenerateRandom,
            received: Opcode::PsaHashCompute
        })
    ));
    assert!(matches!(
        client_kind(client.psa_generate_random(4).await),
        ClientErrorKind::MalformedResponse(ResponseProblem::ProviderMismatch {
            sent: ProviderId::MbedCrypto,
            received: ProviderId::Tpm
        })
    ));
    fake.finish();
}

#[tokio::test]
async fn an_error_header_that_echoes_nothing_is_the_service_status() {
    let status = ResponseStatus::WireProtocolVersionNotSupported;
    let answer = RawHeader::unreadable_request_reply(status)
        .encode()
        .to_vec();
    let fake = FakeServiceForTests::start(vec![Answer::Raw(answer)]);
    let error = client_of(&fake).ping().await.unwrap_err();
    assert_eq!(error.service_status(), Some(status), "{error:?}");
    fake.finish();
}

#[tokio::test]
async fn a_refusal_sent_before_the_body_is_read_reaches_the_caller() {
    let fake = FakeServiceForTests::start(vec![Answer::RefuseAfterHeader(
        ResponseStatus::BodySizeExceedsLimit,
    )]);
    let material = vec![0x11; 8 << 20];
    let mut attributes = p256();
    attributes.key_type = Type::RawData;
    attributes.bits = 0;
    let error = client_of(&fake)
        .psa_import_key("big", &material, attributes)
        .await
        .unwrap_err();
    assert_eq!(
        error.service_status(),
        Some(ResponseStatus::BodySizeExceedsLimit),
        "{error:?}"
    );
    fake.finish();
}
