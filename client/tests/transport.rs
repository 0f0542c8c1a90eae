//! The client's side of the wire, against `FakeServiceForTests` on a real
//! Unix socket: the bytes it sends, and what it makes of silence, refusals,
//! oversized, truncated and malformed answers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

mod common;

use common::{Answer, FakeServiceForTests, raw_response_header, temp_dir};
use psec_client::ipc::IpcClient;
use psec_client::psec_interface::header::RawHeader;
use psec_client::psec_interface::operations::{ping, psa_destroy_key, psa_generate_random};
use psec_client::psec_interface::{
    AuthBuffer, AuthType, Body, NativeOperation, NativeResult, Opcode, ProviderId, Request,
    RequestHeader, ResponseStatus, SecretBytes,
};
use psec_client::{Authentication, BasicClient, ClientErrorKind, Endpoint, Error, ResponseProblem};
use std::error::Error as _;
use std::time::{Duration, Instant};

/// A client of the fake with Mbed Crypto, direct authentication and a
/// timeout that fails a broken test quickly.
fn client_of(fake: &FakeServiceForTests) -> BasicClient {
    BasicClient::new_naked(fake.endpoint())
        .with_timeout(Some(Duration::from_secs(5)))
        .with_provider(ProviderId::MbedCrypto)
        .with_auth(Authentication::direct("wire-app").unwrap())
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

#[test]
fn request_bytes_are_the_36_byte_header_then_body_then_auth() {
    let fake = FakeServiceForTests::start(vec![Answer::Result(NativeResult::PsaDestroyKey(
        psa_destroy_key::Result {},
    ))]);
    client_of(&fake).psa_destroy_key("old-key").unwrap();
    let received = fake.finish();
    let raw = &received[0].raw;
    let body = NativeOperation::PsaDestroyKey(psa_destroy_key::Operation {
        key_name: "old-key".to_string(),
    })
    .into_body()
    .unwrap();
    let auth = b"wire-app";
    assert_eq!(raw.len(), 36 + body.len() + auth.len());

    let mut expected_header = Vec::new();
    expected_header.extend_from_slice(&[0x10, 0xA7, 0xC0, 0x5E]); // magic
    expected_header.extend_from_slice(&30u16.to_le_bytes()); // header size
    expected_header.extend_from_slice(&[1, 0]); // version 1.0
    expected_header.extend_from_slice(&0u16.to_le_bytes()); // flags
    expected_header.push(1); // provider: Mbed Crypto
    expected_header.extend_from_slice(&0u64.to_le_bytes()); // session
    expected_header.extend_from_slice(&[0, 0, 1]); // content, accept: protobuf; auth: direct
    expected_header.extend_from_slice(&u32::try_from(body.len()).unwrap().to_le_bytes());
    expected_header.extend_from_slice(&u16::try_from(auth.len()).unwrap().to_le_bytes());
    expected_header.extend_from_slice(&0x03u32.to_le_bytes()); // PsaDestroyKey
    expected_header.extend_from_slice(&[0, 0, 0, 0]); // status, reserved
    assert_eq!(raw[..36], expected_header[..]);
    assert_eq!(raw[36..36 + body.len()], *body.bytes());
    assert_eq!(raw[36 + body.len()..], auth[..]);
}

#[test]
fn one_request_per_connection_and_nothing_after_it() {
    let fake = FakeServiceForTests::start(vec![
        Answer::Result(NativeResult::Ping(ping::Result {
            wire_protocol_version_maj: 1,
            wire_protocol_version_min: 0,
        })),
        Answer::Result(random_result(8)),
    ]);
    let client = client_of(&fake);
    assert_eq!(client.ping().unwrap(), (1, 0));
    assert_eq!(client.psa_generate_random(8).unwrap().len(), 8);
    let received = fake.finish();
    assert_eq!(received.len(), 2);
    for connection in &received {
        assert!(
            connection.trailing.is_empty(),
            "the client sent more after its request"
        );
    }
}

#[test]
fn connection_failure_names_the_endpoint() {
    let dir = temp_dir();
    let missing = dir.join("nobody-listens.sock");
    let client = BasicClient::new_naked(Endpoint::unix_socket(&missing));
    let error = client.ping().unwrap_err();
    let text = error.to_string();
    assert!(text.contains(&*missing.to_string_lossy()), "{text}");
    assert!(text.contains("is the service running?"), "{text}");
    match error.client_kind() {
        Some(ClientErrorKind::Connect { endpoint, source }) => {
            assert_eq!(endpoint.path(), missing);
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("expected Connect, got {other:?}"),
    }
    assert!(error.source().is_some(), "the I/O error is chained");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn silent_service_times_out_after_the_timeout() {
    let fake = FakeServiceForTests::start(vec![Answer::Silence]);
    let timeout = Duration::from_millis(200);
    let client = client_of(&fake).with_timeout(Some(timeout));
    let started = Instant::now();
    let kind = client_kind(client.ping());
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
    assert!(
        waited < Duration::from_secs(3),
        "took {waited:?} to time out"
    );
    fake.finish();
}

#[test]
fn zero_timeout_is_refused_before_connecting() {
    let client = BasicClient::new_naked(Endpoint::unix_socket("/nonexistent/psec.sock"))
        .with_timeout(Some(Duration::ZERO));
    assert!(matches!(
        client_kind(client.ping()),
        ClientErrorKind::ZeroTimeout
    ));
}

#[test]
fn response_body_over_the_limit_is_refused() {
    let fake = FakeServiceForTests::start(vec![Answer::Result(random_result(64))]);
    let client = client_of(&fake).with_max_response_body_len(16);
    match client_kind(client.psa_generate_random(64)) {
        ClientErrorKind::ResponseTooLarge { limit } => assert_eq!(limit, 16),
        other => panic!("expected ResponseTooLarge, got {other:?}"),
    }
    fake.finish();
}

#[test]
fn response_claiming_a_huge_body_is_refused_without_waiting_for_it() {
    // The header announces 4 GiB - 1 bytes and none follow: the client must
    // refuse from the header alone, not wait or allocate.
    let fake = FakeServiceForTests::start(vec![Answer::Raw(raw_response_header(
        1,
        Opcode::PsaGenerateRandom.code(),
        0,
        u32::MAX,
    ))]);
    match client_kind(client_of(&fake).psa_generate_random(1)) {
        ClientErrorKind::ResponseTooLarge { limit } => assert_eq!(limit, 1 << 20),
        other => panic!("expected ResponseTooLarge, got {other:?}"),
    }
    fake.finish();
}

#[test]
fn garbage_response_is_malformed_with_an_invalid_header() {
    let fake = FakeServiceForTests::start(vec![Answer::Raw(
        b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec(),
    )]);
    let error = client_of(&fake).ping().unwrap_err();
    match error.client_kind() {
        Some(ClientErrorKind::MalformedResponse(ResponseProblem::Header(status))) => {
            assert_eq!(*status, ResponseStatus::InvalidHeader);
        }
        other => panic!("expected a malformed header, got {other:?}"),
    }
    assert!(error.to_string().contains("not valid Parsec wire protocol"));
    fake.finish();
}

#[test]
fn unknown_status_code_is_malformed() {
    let fake = FakeServiceForTests::start(vec![Answer::Raw(raw_response_header(
        0,
        Opcode::Ping.code(),
        999,
        0,
    ))]);
    assert!(matches!(
        client_kind(client_of(&fake).ping()),
        ClientErrorKind::MalformedResponse(ResponseProblem::Header(
            ResponseStatus::InvalidEncoding
        ))
    ));
    fake.finish();
}

#[test]
fn undecodable_body_is_malformed() {
    let mut answer = raw_response_header(1, Opcode::PsaGenerateRandom.code(), 0, 3);
    answer.extend_from_slice(&[0xff, 0xff, 0xff]);
    let fake = FakeServiceForTests::start(vec![Answer::Raw(answer)]);
    match client_kind(client_of(&fake).psa_generate_random(4)) {
        ClientErrorKind::MalformedResponse(ResponseProblem::Body { opcode, status }) => {
            assert_eq!(opcode, Opcode::PsaGenerateRandom);
            assert_eq!(status, ResponseStatus::DeserializingBodyFailed);
        }
        other => panic!("expected an undecodable body, got {other:?}"),
    }
    fake.finish();
}

#[test]
fn answer_to_another_opcode_or_provider_is_malformed() {
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
        client_kind(client.psa_generate_random(4)),
        ClientErrorKind::MalformedResponse(ResponseProblem::OpcodeMismatch {
            sent: Opcode::PsaGenerateRandom,
            received: Opcode::PsaHashCompute
        })
    ));
    assert!(matches!(
        client_kind(client.psa_generate_random(4)),
        ClientErrorKind::MalformedResponse(ResponseProblem::ProviderMismatch {
            sent: ProviderId::MbedCrypto,
            received: ProviderId::Tpm
        })
    ));
    fake.finish();
}

#[test]
fn truncated_response_is_a_closed_connection() {
    let mut answer = raw_response_header(1, Opcode::PsaGenerateRandom.code(), 0, 100);
    answer.extend_from_slice(&[0; 10]);
    let fake = FakeServiceForTests::start(vec![
        Answer::Raw(answer),
        Answer::Raw(raw_response_header(0, 1, 0, 0)[..20].to_vec()),
    ]);
    let client = client_of(&fake);
    for _ in 0..2 {
        match client_kind(client.psa_generate_random(4)) {
            ClientErrorKind::ConnectionClosed { endpoint } => {
                assert_eq!(endpoint, fake.endpoint());
            }
            other => panic!("expected ConnectionClosed, got {other:?}"),
        }
    }
    fake.finish();
}

#[test]
fn service_that_hangs_up_without_answering_is_a_closed_connection() {
    let fake = FakeServiceForTests::start(vec![Answer::Close]);
    let error = client_of(&fake).ping().unwrap_err();
    assert!(
        matches!(
            error.client_kind(),
            Some(ClientErrorKind::ConnectionClosed { .. })
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("see the service log"), "{error}");
    fake.finish();
}

#[test]
fn error_header_that_echoes_nothing_is_the_service_status() {
    // What a service answers to a request whose header it can not read:
    // every field zero (opcode 0 is no operation) except the status.
    let status = ResponseStatus::WireProtocolVersionNotSupported;
    let answer = RawHeader::unreadable_request_reply(status)
        .encode()
        .to_vec();
    let fake = FakeServiceForTests::start(vec![Answer::Raw(answer)]);
    let error = client_of(&fake).ping().unwrap_err();
    assert_eq!(error.service_status(), Some(status), "{error:?}");
    fake.finish();
}

#[test]
fn refusal_sent_before_the_body_is_read_reaches_the_caller() {
    // A body far larger than the socket buffers: the service answers from
    // the header and hangs up while the client is still writing.
    let fake = FakeServiceForTests::start(vec![Answer::RefuseAfterHeader(
        ResponseStatus::BodySizeExceedsLimit,
    )]);
    let material = vec![0x11; 8 << 20];
    let attributes = psec_client::psa_crypto::types::key::Attributes {
        lifetime: psec_client::psa_crypto::types::key::Lifetime::Persistent,
        key_type: psec_client::psa_crypto::types::key::Type::RawData,
        bits: 0,
        policy: psec_client::psa_crypto::types::key::Policy {
            usage_flags: Default::default(),
            permitted_algorithms: psec_client::psa_crypto::types::algorithm::Algorithm::None,
        },
    };
    let error = client_of(&fake)
        .psa_import_key("big", &material, attributes)
        .unwrap_err();
    assert_eq!(
        error.service_status(),
        Some(ResponseStatus::BodySizeExceedsLimit),
        "{error:?}"
    );
    fake.finish();
}

#[test]
fn ipc_client_sends_a_hand_built_request_and_returns_any_status() {
    let fake = FakeServiceForTests::start(vec![Answer::Status(ResponseStatus::NotAuthenticated)]);
    let ipc = IpcClient::new(fake.endpoint()).with_timeout(Some(Duration::from_secs(5)));
    let request = Request {
        header: RequestHeader::new(ProviderId::Core, AuthType::NoAuth, Opcode::ListKeys),
        body: Body::default(),
        auth: AuthBuffer::default(),
    };
    let response = ipc.send(&request).unwrap();
    assert_eq!(response.header.status, ResponseStatus::NotAuthenticated);
    assert_eq!(response.header.opcode, Opcode::ListKeys);
    assert!(response.body.is_empty());
    let received = fake.finish();
    assert_eq!(received[0].request(), &request);
}
