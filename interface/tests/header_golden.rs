//! Golden byte vectors for the fixed header and whole messages: what we write
//! is byte for byte what the protocol lays out, and each invalid field is
//! refused with its documented status.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

use psec_interface::header::WIRE_HEADER_LEN;
use psec_interface::{
    AuthBuffer, AuthType, Body, BodyType, Opcode, ProviderId, RawHeader, Request, RequestHeader,
    Response, ResponseHeader, ResponseStatus,
};
use std::io::Read;

/// A request header for PsaSignHash to Mbed Crypto, session
/// 0x0102030405060708, Direct auth, 16 body bytes, 5 auth bytes.
const SIGN_HASH_REQUEST: [u8; WIRE_HEADER_LEN] = [
    0x10, 0xA7, 0xC0, 0x5E, // magic 0x5EC0A710
    0x1E, 0x00, // header size 30
    0x01, 0x00, // version 1.0
    0x00, 0x00, // flags
    0x01, // provider: Mbed Crypto
    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // session
    0x00, // content type: protobuf
    0x00, // accept type: protobuf
    0x01, // auth type: Direct
    0x10, 0x00, 0x00, 0x00, // body length 16
    0x05, 0x00, // auth length 5
    0x04, 0x00, 0x00, 0x00, // opcode PsaSignHash
    0x00, 0x00, // status
    0x00, 0x00, // reserved
];

/// The response to it: PsaErrorDoesNotExist (1140 = 0x0474), 3 body bytes.
const SIGN_HASH_RESPONSE: [u8; WIRE_HEADER_LEN] = [
    0x10, 0xA7, 0xC0, 0x5E, 0x1E, 0x00, 0x01, 0x00, 0x00, 0x00, //
    0x01, // provider
    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // session
    0x00, 0x00, 0x00, // content type, accept type, auth type
    0x03, 0x00, 0x00, 0x00, // body length 3
    0x00, 0x00, // auth length
    0x04, 0x00, 0x00, 0x00, // opcode
    0x74, 0x04, // status 1140
    0x00, 0x00, // reserved
];

fn sign_hash_request_header() -> RequestHeader {
    RequestHeader {
        provider: ProviderId::MbedCrypto,
        session: 0x0102_0304_0506_0708,
        content_type: BodyType::Protobuf,
        accept_type: BodyType::Protobuf,
        auth_type: AuthType::Direct,
        opcode: Opcode::PsaSignHash,
    }
}

/// The golden request header with one byte changed.
fn with_byte(offset: usize, value: u8) -> [u8; WIRE_HEADER_LEN] {
    let mut bytes = SIGN_HASH_REQUEST;
    bytes[offset] = value;
    bytes
}

#[test]
fn request_header_encodes_to_the_golden_bytes() {
    let raw = sign_hash_request_header().to_raw(16, 5);
    assert_eq!(raw.encode(), SIGN_HASH_REQUEST);
}

#[test]
fn golden_request_header_decodes_to_each_field() {
    let raw = RawHeader::decode(&SIGN_HASH_REQUEST).unwrap();
    assert_eq!(raw.body_len, 16);
    assert_eq!(raw.auth_len, 5);
    assert_eq!(raw.flags, 0);
    assert_eq!(
        RequestHeader::from_raw(&raw).unwrap(),
        sign_hash_request_header()
    );
}

#[test]
fn response_header_encodes_to_the_golden_bytes_and_back() {
    let header = sign_hash_request_header().reply(ResponseStatus::PsaErrorDoesNotExist);
    assert_eq!(header.to_raw(3).encode(), SIGN_HASH_RESPONSE);
    let raw = RawHeader::decode(&SIGN_HASH_RESPONSE).unwrap();
    assert_eq!(ResponseHeader::from_raw(&raw).unwrap(), header);
}

#[test]
fn wrong_magic_number_is_an_invalid_header() {
    assert_eq!(
        RawHeader::decode(&with_byte(0, 0x11)),
        Err(ResponseStatus::InvalidHeader)
    );
    assert_eq!(
        RawHeader::decode(&with_byte(3, 0x5F)),
        Err(ResponseStatus::InvalidHeader)
    );
}

#[test]
fn wrong_header_size_is_an_invalid_header() {
    assert_eq!(
        RawHeader::decode(&with_byte(4, 0x1F)),
        Err(ResponseStatus::InvalidHeader)
    );
    assert_eq!(
        RawHeader::decode(&with_byte(5, 0x01)),
        Err(ResponseStatus::InvalidHeader)
    );
}

#[test]
fn other_major_version_is_not_supported() {
    assert_eq!(
        RawHeader::decode(&with_byte(6, 2)),
        Err(ResponseStatus::WireProtocolVersionNotSupported)
    );
    assert_eq!(
        RawHeader::decode(&with_byte(6, 0)),
        Err(ResponseStatus::WireProtocolVersionNotSupported)
    );
}

#[test]
fn other_minor_version_is_not_supported() {
    assert_eq!(
        RawHeader::decode(&with_byte(7, 1)),
        Err(ResponseStatus::WireProtocolVersionNotSupported)
    );
}

#[test]
fn non_zero_reserved_bytes_are_an_invalid_header() {
    assert_eq!(
        RawHeader::decode(&with_byte(34, 1)),
        Err(ResponseStatus::InvalidHeader)
    );
    assert_eq!(
        RawHeader::decode(&with_byte(35, 0x80)),
        Err(ResponseStatus::InvalidHeader)
    );
}

#[test]
fn flags_are_ignored_on_receipt() {
    let raw = RawHeader::decode(&with_byte(8, 0xFF)).unwrap();
    assert_eq!(raw.flags, 0x00FF);
    assert_eq!(
        RequestHeader::from_raw(&raw).unwrap(),
        sign_hash_request_header()
    );
}

fn typed_request_error(bytes: [u8; WIRE_HEADER_LEN]) -> ResponseStatus {
    let raw = RawHeader::decode(&bytes).expect("raw header is valid");
    RequestHeader::from_raw(&raw).expect_err("typed header must be refused")
}

#[test]
fn unknown_provider_id_does_not_exist() {
    assert_eq!(
        typed_request_error(with_byte(10, 6)),
        ResponseStatus::ProviderDoesNotExist
    );
    assert_eq!(
        typed_request_error(with_byte(10, 0xFF)),
        ResponseStatus::ProviderDoesNotExist
    );
}

#[test]
fn non_protobuf_content_type_is_not_supported() {
    assert_eq!(
        typed_request_error(with_byte(19, 1)),
        ResponseStatus::ContentTypeNotSupported
    );
}

#[test]
fn non_protobuf_accept_type_is_not_supported() {
    assert_eq!(
        typed_request_error(with_byte(20, 1)),
        ResponseStatus::AcceptTypeNotSupported
    );
}

#[test]
fn unknown_auth_type_does_not_exist() {
    assert_eq!(
        typed_request_error(with_byte(21, 5)),
        ResponseStatus::AuthenticatorDoesNotExist
    );
}

#[test]
fn unknown_opcode_does_not_exist() {
    assert_eq!(
        typed_request_error(with_byte(28, 0x1D)),
        ResponseStatus::OpcodeDoesNotExist
    );
    assert_eq!(
        typed_request_error(with_byte(31, 0x01)),
        ResponseStatus::OpcodeDoesNotExist
    );
}

#[test]
fn unknown_response_status_is_an_invalid_encoding() {
    let mut bytes = SIGN_HASH_RESPONSE;
    bytes[32] = 0x17; // status 0x0417 = 1047, not a status
    let raw = RawHeader::decode(&bytes).unwrap();
    assert_eq!(
        ResponseHeader::from_raw(&raw),
        Err(ResponseStatus::InvalidEncoding)
    );
}

fn golden_request_bytes() -> Vec<u8> {
    let mut bytes = SIGN_HASH_REQUEST.to_vec();
    bytes.extend_from_slice(&[0xAA; 16]);
    bytes.extend_from_slice(b"alice");
    bytes
}

#[test]
fn whole_request_reads_header_body_and_auth() {
    let request = Request::read_from(&mut golden_request_bytes().as_slice(), 1024).unwrap();
    assert_eq!(request.header, sign_hash_request_header());
    assert_eq!(request.body.bytes(), &[0xAA; 16]);
    assert_eq!(request.auth.bytes(), b"alice");
}

#[test]
fn whole_request_writes_the_golden_bytes() {
    let request = Request {
        header: sign_hash_request_header(),
        body: Body::new(vec![0xAA; 16]),
        auth: AuthBuffer::from("alice"),
    };
    let mut out = Vec::new();
    request.write_to(&mut out).unwrap();
    assert_eq!(out, golden_request_bytes());
}

/// A reader that hands out its bytes and then fails the test if read again:
/// it proves the reader stopped where it should.
struct ThenPanic<'a>(&'a [u8]);

impl Read for ThenPanic<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        assert!(!self.0.is_empty(), "read past the bytes the decoder needed");
        let n = buf.len().min(self.0.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

/// What Parsec's clients need of a reply to an unreadable request: a
/// provider and an opcode they know, so that they read the status.
fn assert_parsec_readable_refusal(status: ResponseStatus) {
    let reply = RawHeader::decode(&RawHeader::unreadable_request_reply(status).encode()).unwrap();
    assert_eq!(reply.status, status.code());
    assert_eq!(reply.provider, ProviderId::Core.id());
    assert_eq!(reply.opcode, Opcode::Ping.code());
    assert_eq!(reply.session, 0);
    assert_eq!(reply.body_len, 0);
    let header = ResponseHeader::from_raw(&reply).unwrap();
    assert_eq!(header.status, status);
}

#[test]
fn body_longer_than_the_limit_is_refused_before_reading_it() {
    // Only the header is available: reading any body byte would panic.
    let status = Request::read_from(&mut ThenPanic(&SIGN_HASH_REQUEST), 15).unwrap_err();
    assert_eq!(status, ResponseStatus::BodySizeExceedsLimit);
    assert_parsec_readable_refusal(status);
}

#[test]
fn bad_magic_is_answered_without_waiting_for_the_rest_of_the_header() {
    let garbage = [0x47, 0x45, 0x54, 0x20, 0x2F, 0x20]; // "GET / "
    let status = Request::read_from(&mut ThenPanic(&garbage), 1024).unwrap_err();
    assert_eq!(status, ResponseStatus::InvalidHeader);
    assert_parsec_readable_refusal(status);
}

#[test]
fn unknown_field_values_are_checked_in_parsec_order_after_the_body() {
    // Each case: bytes to change in the golden request, and Parsec's status.
    // Where several fields are wrong, Parsec names the first of content
    // type, accept type, auth type, opcode, provider.
    let cases: [(&[(usize, u8)], ResponseStatus); 6] = [
        (&[(10, 0xFF)], ResponseStatus::ProviderDoesNotExist),
        (
            &[(28, 0x16), (29, 0xFF)],
            ResponseStatus::OpcodeDoesNotExist,
        ),
        (
            &[(10, 0xFF), (28, 0x1D)],
            ResponseStatus::OpcodeDoesNotExist,
        ),
        (
            &[(10, 0xFF), (21, 0x09)],
            ResponseStatus::AuthenticatorDoesNotExist,
        ),
        (
            &[(21, 0x09), (20, 0x07)],
            ResponseStatus::AcceptTypeNotSupported,
        ),
        (
            &[(20, 0x07), (19, 0x07)],
            ResponseStatus::ContentTypeNotSupported,
        ),
    ];
    for (changes, expected) in cases {
        let mut bytes = golden_request_bytes();
        for &(offset, value) in changes {
            bytes[offset] = value;
        }
        let status = Request::read_from(&mut bytes.as_slice(), 1024).unwrap_err();
        assert_eq!(status, expected, "{changes:?}");
        assert_parsec_readable_refusal(status);
        // The body and auth bytes are read first, as Parsec does: the same
        // header with its body cut short is a connection error instead.
        let cut = &bytes[..bytes.len() - 1];
        assert_eq!(
            Request::read_from(&mut &cut[..], 1024).unwrap_err(),
            ResponseStatus::ConnectionError,
            "{changes:?}"
        );
    }
}

#[test]
fn truncated_request_is_a_connection_error() {
    let bytes = golden_request_bytes();
    for cut in [
        0,
        3,
        6,
        20,
        WIRE_HEADER_LEN,
        WIRE_HEADER_LEN + 10,
        bytes.len() - 1,
    ] {
        let status = Request::read_from(&mut &bytes[..cut], 1024).unwrap_err();
        assert_eq!(status, ResponseStatus::ConnectionError, "cut at {cut}");
    }
}

#[test]
fn response_reads_back_what_was_written() {
    let response = Response {
        header: sign_hash_request_header().reply(ResponseStatus::Success),
        body: Body::new(vec![1, 2, 3]),
    };
    let mut out = Vec::new();
    response.write_to(&mut out).unwrap();
    assert_eq!(
        Response::read_from(&mut out.as_slice(), 3).unwrap(),
        response
    );
    assert_eq!(
        Response::read_from(&mut out.as_slice(), 2),
        Err(ResponseStatus::ResponseTooLarge)
    );
}
