//! Hand-made bytes on a real socket to a real psecd: every malformed request
//! gets the right status, and the service keeps serving everyone else.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

mod common;

use common::{Psecd, TestConfig};
use psec_interface::header::WIRE_HEADER_LEN;
use psec_interface::operations::{NativeOperation, NativeResult, ping};
use psec_interface::{
    AuthBuffer, AuthType, Body, Opcode, ProviderId, RawHeader, Request, RequestHeader, Response,
    ResponseStatus,
};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// Writes `bytes`, closes the writing half, and reads the whole answer.
fn exchange(psecd: &Psecd, bytes: &[u8]) -> Vec<u8> {
    let mut stream = UnixStream::connect(&psecd.socket).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(bytes).unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    answer
}

/// The status of the response header in `answer`.
fn status_of(answer: &[u8]) -> ResponseStatus {
    let header: [u8; WIRE_HEADER_LEN] = answer[..WIRE_HEADER_LEN]
        .try_into()
        .expect("a whole header");
    ResponseStatus::from_code(RawHeader::decode(&header).unwrap().status).unwrap()
}

fn ping_bytes() -> Vec<u8> {
    let op = NativeOperation::Ping(ping::Operation {});
    Request {
        header: RequestHeader::new(ProviderId::Core, AuthType::NoAuth, Opcode::Ping),
        body: op.into_body().unwrap(),
        auth: AuthBuffer::default(),
    }
    .encode()
    .unwrap()
    .to_vec()
}

/// The service still answers a Ping correctly.
fn assert_still_serves(psecd: &Psecd) {
    let answer = exchange(psecd, &ping_bytes());
    let response = Response::read_from(&mut answer.as_slice(), 1 << 20).unwrap();
    assert_eq!(response.header.status, ResponseStatus::Success);
    let result = NativeResult::from_body(Opcode::Ping, &response.body).unwrap();
    assert_eq!(
        result,
        NativeResult::Ping(ping::Result {
            wire_protocol_version_maj: 1,
            wire_protocol_version_min: 0
        })
    );
}

#[test]
fn ping_over_a_raw_socket_answers_version_1_0() {
    let psecd = Psecd::start();
    assert_still_serves(&psecd);
}

#[test]
fn wrong_magic_number_answers_invalid_header_and_the_service_still_serves() {
    let psecd = Psecd::start();
    let mut bytes = ping_bytes();
    bytes[0] ^= 0xFF;
    assert_eq!(
        status_of(&exchange(&psecd, &bytes)),
        ResponseStatus::InvalidHeader
    );
    assert_still_serves(&psecd);
}

#[test]
fn http_request_answers_invalid_header() {
    let psecd = Psecd::start();
    let answer = exchange(&psecd, b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert_eq!(status_of(&answer), ResponseStatus::InvalidHeader);
    assert_still_serves(&psecd);
}

#[test]
fn truncated_header_answers_connection_error_and_the_service_still_serves() {
    let psecd = Psecd::start();
    let bytes = ping_bytes();
    assert_eq!(
        status_of(&exchange(&psecd, &bytes[..20])),
        ResponseStatus::ConnectionError
    );
    assert_still_serves(&psecd);
}

#[test]
fn huge_body_length_answers_body_size_exceeds_limit_without_waiting_for_the_body() {
    let psecd = Psecd::start();
    let mut raw = RequestHeader::new(
        ProviderId::MbedCrypto,
        AuthType::Direct,
        Opcode::PsaGenerateKey,
    )
    .to_raw(u32::MAX, 0);
    raw.session = 77;
    // Only the header is sent, and the writing half stays open: the answer
    // must come from the header alone.
    let mut stream = UnixStream::connect(&psecd.socket).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(&raw.encode()).unwrap();
    let mut header = [0u8; WIRE_HEADER_LEN];
    stream.read_exact(&mut header).unwrap();
    let reply = RawHeader::decode(&header).unwrap();
    assert_eq!(reply.status, ResponseStatus::BodySizeExceedsLimit.code());
    // Nothing of an unread request is echoed, as in Parsec.
    assert_eq!(reply.session, 0);
    assert_eq!(reply.opcode, Opcode::Ping.code());
    assert_eq!(reply.provider, ProviderId::Core.id());
    assert_still_serves(&psecd);
}

#[test]
fn garbage_body_answers_deserializing_body_failed() {
    let psecd = Psecd::start();
    let request = Request {
        header: RequestHeader::new(
            ProviderId::MbedCrypto,
            AuthType::Direct,
            Opcode::PsaGenerateKey,
        ),
        body: Body::new(vec![0xFF; 40]),
        auth: AuthBuffer::from("app"),
    };
    let answer = exchange(&psecd, &request.encode().unwrap());
    assert_eq!(status_of(&answer), ResponseStatus::DeserializingBodyFailed);
    assert_still_serves(&psecd);
}

#[test]
fn unknown_ids_answer_their_status_with_a_header_parsec_clients_decode() {
    let psecd = Psecd::start();
    let ping = RequestHeader::new(ProviderId::Core, AuthType::NoAuth, Opcode::Ping).to_raw(0, 0);
    let cases = [
        (
            RawHeader {
                opcode: 0x7777,
                ..ping
            },
            ResponseStatus::OpcodeDoesNotExist,
        ),
        (
            RawHeader {
                provider: 0xFF,
                ..ping
            },
            ResponseStatus::ProviderDoesNotExist,
        ),
        (
            RawHeader {
                auth_type: 0x09,
                ..ping
            },
            ResponseStatus::AuthenticatorDoesNotExist,
        ),
        (
            RawHeader {
                content_type: 0x05,
                ..ping
            },
            ResponseStatus::ContentTypeNotSupported,
        ),
    ];
    for (raw, status) in cases {
        let answer = exchange(&psecd, &raw.encode());
        assert_eq!(status_of(&answer), status);
        let reply = RawHeader::decode(&answer[..WIRE_HEADER_LEN].try_into().unwrap()).unwrap();
        // An unknown value is never echoed: Parsec 1.x clients could not
        // decode the reply and would never see the status.
        assert_eq!(reply.opcode, Opcode::Ping.code(), "{status}");
        assert_eq!(reply.provider, ProviderId::Core.id(), "{status}");
    }
    assert_still_serves(&psecd);
}

#[test]
fn wrong_version_answers_wire_protocol_version_not_supported() {
    let psecd = Psecd::start();
    let mut bytes = ping_bytes();
    bytes[6] = 2;
    assert_eq!(
        status_of(&exchange(&psecd, &bytes)),
        ResponseStatus::WireProtocolVersionNotSupported
    );
}

#[test]
fn silent_clients_do_not_block_others() {
    // A long connection timeout: if silent clients held the workers, the
    // pings below would wait for it and their 10 s read timeout would fail
    // them.
    let psecd = Psecd::start_with(&TestConfig {
        timeout_ms: 60_000,
        ..TestConfig::default()
    });
    // More silent clients than worker threads (8), holding their connections.
    let silent: Vec<UnixStream> = (0..20)
        .map(|_| UnixStream::connect(&psecd.socket).unwrap())
        .collect();
    for _ in 0..5 {
        assert_still_serves(&psecd);
    }
    drop(silent);
}

#[test]
fn connections_queued_together_are_all_answered() {
    // psecd takes queued connections in batches (64 at a time) and serves
    // each as far as it goes before the next; a connection that must wait
    // goes on as a task of its own. 150 connections wait in the queue
    // before psecd looks: every third has sent only part of its request
    // and sends the rest after all the others were accepted.
    let psecd = Psecd::start();
    let ping = ping_bytes();
    let (head, tail) = ping.split_at(10);
    let mut streams: Vec<(UnixStream, bool)> = (0..150)
        .map(|index| {
            let mut stream = UnixStream::connect(&psecd.socket).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let in_pieces = index % 3 == 0;
            stream
                .write_all(if in_pieces { head } else { &ping })
                .unwrap();
            (stream, in_pieces)
        })
        .collect();
    for (stream, in_pieces) in &mut streams {
        if *in_pieces {
            stream.write_all(tail).unwrap();
        }
    }
    for (stream, _) in &mut streams {
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).unwrap();
        let response = Response::read_from(&mut answer.as_slice(), 1 << 20).unwrap();
        assert_eq!(response.header.status, ResponseStatus::Success);
    }
    assert_still_serves(&psecd);
}

#[test]
fn a_silent_client_is_disconnected_after_the_timeout() {
    let psecd = Psecd::start();
    let mut stream = UnixStream::connect(&psecd.socket).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    assert_eq!(status_of(&answer), ResponseStatus::ConnectionError);
}

#[test]
fn a_request_that_arrives_in_pieces_is_answered() {
    // psecd reads what is in the socket when it accepts without waiting; a
    // request not all there yet is waited for. Three ways to be early:
    // nothing sent yet, part of the header, the header without its body.
    let psecd = Psecd::start();
    let request = ping_bytes();
    for split in [0, 10, WIRE_HEADER_LEN] {
        let mut stream = UnixStream::connect(&psecd.socket).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.write_all(&request[..split]).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        stream.write_all(&request[split..]).unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).unwrap();
        let response = Response::read_from(&mut answer.as_slice(), 1 << 20).unwrap();
        assert_eq!(
            response.header.status,
            ResponseStatus::Success,
            "split at {split}"
        );
        assert!(
            matches!(
                NativeResult::from_body(Opcode::Ping, &response.body).unwrap(),
                NativeResult::Ping(_)
            ),
            "split at {split}"
        );
    }
}

#[test]
fn an_answer_larger_than_the_socket_buffer_arrives_whole() {
    // 1 MiB of random bytes is several times a Unix socket's send buffer:
    // psecd's write cannot finish until the client reads, which it starts
    // doing only after a pause.
    const SIZE: usize = 1 << 20;
    let psecd = Psecd::start();
    let request = random_request(SIZE);
    let mut stream = UnixStream::connect(&psecd.socket).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(&request).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    assert_random_bytes(&answer, SIZE);
    assert_still_serves(&psecd);
}

/// A request for `size` random bytes from the Mbed Crypto provider: work
/// for a worker thread.
fn random_request(size: usize) -> Vec<u8> {
    let op = NativeOperation::PsaGenerateRandom(
        psec_interface::operations::psa_generate_random::Operation { size },
    );
    Request {
        header: RequestHeader::new(
            ProviderId::MbedCrypto,
            AuthType::Direct,
            Opcode::PsaGenerateRandom,
        ),
        body: op.into_body().unwrap(),
        auth: AuthBuffer::from("app"),
    }
    .encode()
    .unwrap()
    .to_vec()
}

/// `answer` is a successful answer with `size` random bytes.
fn assert_random_bytes(answer: &[u8], size: usize) {
    let response = Response::read_from(&mut &answer[..], 2 << 20).unwrap();
    assert_eq!(response.header.status, ResponseStatus::Success);
    match NativeResult::from_body(Opcode::PsaGenerateRandom, &response.body).unwrap() {
        NativeResult::PsaGenerateRandom(result) => assert_eq!(result.random_bytes.len(), size),
        other => panic!("not random bytes: {other:?}"),
    }
}

#[test]
fn while_workers_take_connections_themselves_every_kind_of_request_is_answered() {
    // Under load a worker takes its next connection from the socket itself
    // and the serving loop stops watching it. Mixed into that load: what
    // a worker must neither be held by nor answer wrongly. Silent clients
    // (a 60 s timeout: one that held the only worker would starve
    // everyone past the 10 s read timeout), requests in pieces, Pings and
    // malformed requests, which a worker answers or hands to the loop.
    let psecd = Psecd::start_with(&TestConfig {
        thread_pool_size: 1,
        timeout_ms: 60_000,
        ..TestConfig::default()
    });
    let random = random_request(32);
    let mut bad_magic = ping_bytes();
    bad_magic[0] ^= 0xff;
    let silent = std::thread::scope(|scope| {
        for thread in 0..8_usize {
            let (psecd, random, bad_magic) = (&psecd, &random, &bad_magic);
            scope.spawn(move || {
                for round in 0..60_usize {
                    match (thread + round) % 5 {
                        0 | 1 => assert_random_bytes(&exchange(psecd, random), 32),
                        2 => {
                            let mut stream = UnixStream::connect(&psecd.socket).unwrap();
                            stream
                                .set_read_timeout(Some(Duration::from_secs(10)))
                                .unwrap();
                            stream.write_all(&random[..10]).unwrap();
                            std::thread::sleep(Duration::from_millis(2));
                            stream.write_all(&random[10..]).unwrap();
                            let mut answer = Vec::new();
                            stream.read_to_end(&mut answer).unwrap();
                            assert_random_bytes(&answer, 32);
                        }
                        3 => assert_still_serves(psecd),
                        _ => assert_eq!(
                            status_of(&exchange(psecd, bad_magic)),
                            ResponseStatus::InvalidHeader
                        ),
                    }
                }
            });
        }
        // Opened while the load runs, and held until it is over.
        std::thread::sleep(Duration::from_millis(20));
        (0..10)
            .map(|_| UnixStream::connect(&psecd.socket).unwrap())
            .collect::<Vec<_>>()
    });
    assert_still_serves(&psecd);
    drop(silent);
}
