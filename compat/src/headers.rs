//! Requests as raw bytes: each header field malformed in turn, bodies and
//! auth bytes that never come, and the authentication cases. The valid
//! request each case starts from is encoded by Parsec's own interface.

use crate::interface::operations::{
    Convert, NativeOperation, list_keys, ping, psa_generate_random,
};
use crate::interface::operations_protobuf::ProtobufConverter;
use crate::interface::requests::request::{Request, RequestAuth, RequestHeader};
use crate::interface::requests::{AuthType, BodyType, Opcode, ProviderId};
use crate::pair::Pair;

/// The encoded request, as Parsec's client would send it.
pub fn encode(
    provider: ProviderId,
    auth_type: AuthType,
    auth: &[u8],
    operation: NativeOperation,
) -> Vec<u8> {
    let opcode = operation.opcode();
    let body = ProtobufConverter
        .operation_to_body(operation)
        .expect("Parsec's converter encodes the operation");
    let request = Request {
        header: RequestHeader {
            provider,
            session: 0,
            content_type: BodyType::Protobuf,
            accept_type: BodyType::Protobuf,
            auth_type,
            opcode,
        },
        body,
        auth: RequestAuth::new(auth.to_vec()),
    };
    let mut bytes = Vec::new();
    request.write_to_stream(&mut bytes).expect("encode");
    bytes
}

/// `bytes` with the little-endian `value` written at `offset`.
fn with(bytes: &[u8], offset: usize, value: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[offset..offset + value.len()].copy_from_slice(value);
    out
}

/// Every raw case.
pub fn run_all(pair: &mut Pair) {
    let p = pair.backend.provider();
    let ping = encode(
        ProviderId::Core,
        AuthType::NoAuth,
        &[],
        NativeOperation::Ping(ping::Operation {}),
    );
    let random = encode(
        p,
        AuthType::NoAuth,
        &[],
        NativeOperation::PsaGenerateRandom(psa_generate_random::Operation { size: 8 }),
    );
    let list_keys = encode(
        ProviderId::Core,
        AuthType::Direct,
        b"alice",
        NativeOperation::ListKeys(list_keys::Operation {}),
    );
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("header/valid-ping", ping.clone()),
        ("header/valid-random", random.clone()),
        ("header/bad-magic", with(&ping, 0, &[0x11])),
        (
            "header/http-request",
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        ),
        (
            "header/header-size-29",
            with(&ping, 4, &29u16.to_le_bytes()),
        ),
        (
            "header/header-size-31",
            with(&ping, 4, &31u16.to_le_bytes()),
        ),
        ("header/version-major-2", with(&ping, 6, &[2])),
        ("header/version-minor-1", with(&ping, 7, &[1])),
        ("header/flags-set", with(&ping, 8, &[0xFF, 0xFF])),
        (
            "header/session-echoed",
            with(&ping, 11, &0x0102_0304_0506_0708u64.to_le_bytes()),
        ),
        (
            "header/session-echoed-on-crypto",
            with(&random, 11, &77u64.to_le_bytes()),
        ),
        ("header/provider-unknown", with(&ping, 10, &[0xFF])),
        (
            "header/provider-not-configured",
            with(&random, 10, &[ProviderId::TrustedService as u8]),
        ),
        ("header/provider-core-for-crypto", with(&random, 10, &[0])),
        ("header/content-type-unknown", with(&ping, 19, &[1])),
        ("header/accept-type-unknown", with(&ping, 20, &[1])),
        ("header/auth-type-unknown", with(&ping, 21, &[9])),
        (
            "header/auth-type-jwt",
            with(&list_keys, 21, &[AuthType::Jwt as u8]),
        ),
        (
            "header/auth-type-unix-peer-credentials-not-configured",
            with(&list_keys, 21, &[AuthType::UnixPeerCredentials as u8]),
        ),
        (
            "header/opcode-unknown",
            with(&ping, 28, &0x7777u32.to_le_bytes()),
        ),
        (
            "header/opcode-0x1d",
            with(&ping, 28, &0x1Du32.to_le_bytes()),
        ),
        (
            "header/opcode-mac-compute",
            with(&random, 28, &0x16u32.to_le_bytes()),
        ),
        (
            "header/opcode-mac-verify",
            with(&random, 28, &0x17u32.to_le_bytes()),
        ),
        ("header/status-set-in-request", with(&ping, 32, &[5, 0])),
        ("header/reserved-1-set", with(&ping, 34, &[1])),
        ("header/reserved-2-set", with(&ping, 35, &[1])),
        (
            "header/body-over-limit",
            with(&ping[..36], 22, &(2u32 << 20).to_le_bytes()),
        ),
        (
            "header/body-over-limit-unknown-opcode",
            with(
                &with(&ping[..36], 22, &(2u32 << 20).to_le_bytes()),
                28,
                &0x7777u32.to_le_bytes(),
            ),
        ),
        (
            "header/body-never-comes",
            with(&random, 22, &(random.len() as u32).to_le_bytes()),
        ),
        (
            "header/body-never-comes-unknown-provider",
            with(&with(&random, 22, &1000u32.to_le_bytes()), 10, &[0xFF]),
        ),
        (
            "header/auth-never-comes",
            with(&list_keys, 26, &200u16.to_le_bytes()),
        ),
        ("header/garbage-body", {
            let mut bytes = with(&random, 22, &8u32.to_le_bytes());
            bytes.truncate(36);
            bytes.extend_from_slice(&[0xFF; 8]);
            bytes
        }),
        ("header/body-for-ping", {
            let mut bytes = with(&ping, 22, &4u32.to_le_bytes());
            bytes.extend_from_slice(&[0x08, 0x01, 0x10, 0x02]);
            bytes
        }),
        ("header/only-six-bytes", ping[..6].to_vec()),
        ("header/only-twenty-bytes", ping[..20].to_vec()),
        ("header/nothing", Vec::new()),
        (
            "auth/direct-empty-name",
            encode(
                ProviderId::Core,
                AuthType::Direct,
                b"",
                NativeOperation::ListKeys(list_keys::Operation {}),
            ),
        ),
        (
            "auth/direct-not-utf8",
            encode(
                ProviderId::Core,
                AuthType::Direct,
                &[0xFF, 0xFE],
                NativeOperation::ListKeys(list_keys::Operation {}),
            ),
        ),
        (
            "auth/none-for-list-keys",
            encode(
                ProviderId::Core,
                AuthType::NoAuth,
                &[],
                NativeOperation::ListKeys(list_keys::Operation {}),
            ),
        ),
        (
            "auth/direct-for-ping",
            encode(
                ProviderId::Core,
                AuthType::Direct,
                b"alice",
                NativeOperation::Ping(ping::Operation {}),
            ),
        ),
        ("auth/direct-valid", list_keys.clone()),
    ];
    debug_assert_eq!(Opcode::Ping as u32, 1);
    for (name, bytes) in cases {
        pair.compare_raw(name, &bytes);
    }
}
