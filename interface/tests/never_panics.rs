//! Decoding arbitrary bytes as a header, a request, a response or the body of any operation or result returns a value or an error, and never panics.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use psec_interface::header::WIRE_HEADER_LEN;
use psec_interface::operations::{
    attest_key, list_keys, list_providers, psa_aead_encrypt, psa_generate_key, psa_import_key,
    psa_mac_compute, psa_sign_hash,
};
use psec_interface::psa_crypto::types::algorithm::{
    Aead, AeadWithDefaultLengthTag, Algorithm, AsymmetricSignature, FullLengthMac, Hash,
    KeyAgreement, KeyDerivation, Mac, RawKeyAgreement, SignHash,
};
use psec_interface::psa_crypto::types::key::{
    Attributes, EccFamily, Lifetime, Policy, Type, UsageFlags,
};
use psec_interface::{
    AuthBuffer, AuthType, Body, NativeOperation, NativeResult, Opcode, ProviderId, RawHeader,
    Request, RequestHeader, Response, ResponseHeader, ResponseStatus,
};

/// The body length limit given to the readers: large enough for every
/// generated body, small enough that a random length is often over it.
const BODY_LIMIT: usize = 4096;

/// `cases` random cases. Failures print the minimal input; no regression
/// file is written next to the sources.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Decodes `body` as the operation and the result of every opcode. Only a
/// panic can fail this; errors are expected.
fn decode_as_every_body(body: &Body) {
    for &opcode in Opcode::ALL {
        let _ = NativeOperation::from_body(opcode, body);
        let _ = NativeResult::from_body(opcode, body);
    }
}

// ---------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------

/// Any header, every field over its whole range.
fn any_raw_header() -> impl Strategy<Value = RawHeader> {
    (
        any::<u16>(),
        any::<u8>(),
        any::<u64>(),
        any::<u8>(),
        any::<u8>(),
        any::<u8>(),
        any::<u32>(),
        any::<u16>(),
        any::<u32>(),
        any::<u16>(),
    )
        .prop_map(
            |(
                flags,
                provider,
                session,
                content_type,
                accept_type,
                auth_type,
                body_len,
                auth_len,
                opcode,
                status,
            )| {
                RawHeader {
                    flags,
                    provider,
                    session,
                    content_type,
                    accept_type,
                    auth_type,
                    body_len,
                    auth_len,
                    opcode,
                    status,
                }
            },
        )
}

/// A byte that is a valid id most of the time, and any byte otherwise.
fn mostly_valid_id(valid: Vec<u8>) -> impl Strategy<Value = u8> {
    prop_oneof![9 => select(valid), 1 => any::<u8>()]
}

fn mostly_valid_opcode() -> impl Strategy<Value = u32> {
    let codes: Vec<u32> = Opcode::ALL.iter().map(|opcode| opcode.code()).collect();
    prop_oneof![9 => select(codes), 1 => any::<u32>()]
}

/// A request header that is valid most of the time, so that reading goes
/// on to the body. Lengths are set by the caller.
fn mostly_valid_request_header() -> impl Strategy<Value = RawHeader> {
    (
        any::<u16>(),
        mostly_valid_id(ProviderId::ALL.iter().map(|p| p.id()).collect()),
        any::<u64>(),
        mostly_valid_id(vec![0]),
        mostly_valid_id(vec![0]),
        mostly_valid_id(AuthType::ALL.iter().map(|a| a.id()).collect()),
        mostly_valid_opcode(),
    )
        .prop_map(
            |(flags, provider, session, content_type, accept_type, auth_type, opcode)| RawHeader {
                flags,
                provider,
                session,
                content_type,
                accept_type,
                auth_type,
                opcode,
                ..RawHeader::default()
            },
        )
}

/// A response header that is valid most of the time.
fn mostly_valid_response_header() -> impl Strategy<Value = RawHeader> {
    let statuses: Vec<u16> = ResponseStatus::ALL.iter().map(|s| s.code()).collect();
    (
        mostly_valid_id(ProviderId::ALL.iter().map(|p| p.id()).collect()),
        any::<u64>(),
        mostly_valid_id(vec![0]),
        mostly_valid_opcode(),
        prop_oneof![9 => select(statuses), 1 => any::<u16>()],
    )
        .prop_map(
            |(provider, session, content_type, opcode, status)| RawHeader {
                provider,
                session,
                content_type,
                opcode,
                status,
                ..RawHeader::default()
            },
        )
}

/// A declared length: usually the real one, sometimes any `u32` (too long,
/// too short, over the limit).
fn declared_len() -> impl Strategy<Value = Option<u32>> {
    prop_oneof![4 => Just(None), 1 => any::<u32>().prop_map(Some)]
}

fn varint(mut value: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let low = u8::try_from(value & 0x7f).unwrap();
        value >>= 7;
        if value == 0 {
            out.push(low);
            return out;
        }
        out.push(low | 0x80);
    }
}

fn key(number: u32, wire_type: u8) -> Vec<u8> {
    varint((u64::from(number) << 3) | u64::from(wire_type))
}

fn length_delimited(number: u32, payload: &[u8]) -> Vec<u8> {
    [
        key(number, 2),
        varint(u64::try_from(payload.len()).unwrap()),
        payload.to_vec(),
    ]
    .concat()
}

/// One protobuf field with a small field number and a value of any wire
/// type, or a few raw bytes. Varints are mostly small, like enum values.
fn protobuf_field() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (1u32..16, prop_oneof![0u64..20, any::<u64>()])
            .prop_map(|(n, v)| [key(n, 0), varint(v)].concat()),
        (1u32..16, vec(any::<u8>(), 0..24)).prop_map(|(n, bytes)| length_delimited(n, &bytes)),
        (1u32..16, any::<u64>()).prop_map(|(n, v)| [key(n, 1), v.to_le_bytes().to_vec()].concat()),
        (1u32..16, any::<u32>()).prop_map(|(n, v)| [key(n, 5), v.to_le_bytes().to_vec()].concat()),
        (1u32..16, 3u8..5).prop_map(|(n, group)| key(n, group)),
        vec(any::<u8>(), 1..4),
    ]
}

/// Bytes shaped like protobuf, with messages nested in length-delimited
/// fields, so that decoding gets past the first tag and into the algorithm,
/// key attribute and list decoders.
fn protobuf_like() -> impl Strategy<Value = Vec<u8>> {
    let leaf = vec(protobuf_field(), 0..6).prop_map(|fields| fields.concat());
    leaf.prop_recursive(5, 64, 6, |inner| {
        vec(
            prop_oneof![
                protobuf_field(),
                (1u32..16, inner).prop_map(|(n, message)| length_delimited(n, &message)),
            ],
            0..6,
        )
        .prop_map(|fields| fields.concat())
    })
}

/// Random bytes or protobuf-shaped bytes.
fn any_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![vec(any::<u8>(), 0..512), protobuf_like()]
}

/// Valid bodies of the operations and results with the deepest messages,
/// to mutate.
fn valid_bodies() -> Vec<Vec<u8>> {
    let mut usage = UsageFlags::default();
    usage.set_sign_hash().set_export();
    let attributes = Attributes {
        lifetime: Lifetime::Persistent,
        key_type: Type::EccKeyPair {
            curve_family: EccFamily::SecpR1,
        },
        bits: 256,
        policy: Policy {
            usage_flags: usage,
            permitted_algorithms: Algorithm::KeyAgreement(KeyAgreement::WithKeyDerivation {
                ka_alg: RawKeyAgreement::Ecdh,
                kdf_alg: KeyDerivation::Hkdf {
                    hash_alg: Hash::Sha256,
                },
            }),
        },
    };
    let operations = [
        NativeOperation::PsaSignHash(psa_sign_hash::Operation {
            key_name: "key".to_string(),
            alg: AsymmetricSignature::DeterministicEcdsa {
                hash_alg: SignHash::Specific(Hash::Sha384),
            },
            hash: vec![7; 48],
        }),
        NativeOperation::PsaGenerateKey(psa_generate_key::Operation {
            key_name: "ec".to_string(),
            attributes,
        }),
        NativeOperation::PsaImportKey(psa_import_key::Operation {
            key_name: "ec".to_string(),
            attributes,
            data: vec![1; 32].into(),
        }),
        NativeOperation::PsaAeadEncrypt(psa_aead_encrypt::Operation {
            key_name: "aes".to_string(),
            alg: Aead::AeadWithShortenedTag {
                aead_alg: AeadWithDefaultLengthTag::Ccm,
                tag_length: 8,
            },
            nonce: vec![0; 12],
            additional_data: b"header".to_vec(),
            plaintext: b"secret".as_slice().into(),
        }),
        NativeOperation::PsaMacCompute(psa_mac_compute::Operation {
            key_name: "hmac".to_string(),
            alg: Mac::Truncated {
                mac_alg: FullLengthMac::Hmac {
                    hash_alg: Hash::Sha512,
                },
                mac_length: 16,
            },
            input: b"message".as_slice().into(),
        }),
        NativeOperation::AttestKey(attest_key::Operation {
            attested_key_name: "key".to_string(),
            parameters: attest_key::AttestationParams::ActivateCredential {
                credential_blob: vec![2; 16],
                secret: vec![3; 16],
            },
            attesting_key_name: Some("ek".to_string()),
        }),
    ];
    let results = [
        NativeResult::ListKeys(list_keys::Result {
            keys: vec![list_keys::KeyInfo {
                provider_id: ProviderId::Tpm,
                name: "key".to_string(),
                attributes,
            }],
        }),
        NativeResult::ListProviders(list_providers::Result {
            providers: vec![list_providers::ProviderInfo {
                uuid: ProviderId::MbedCrypto.uuid(),
                description: "software".to_string(),
                vendor: "Arm".to_string(),
                version_maj: 1,
                version_min: 0,
                version_rev: 0,
                id: ProviderId::MbedCrypto,
            }],
        }),
    ];
    let mut bodies: Vec<Vec<u8>> = operations
        .into_iter()
        .map(|operation| operation.into_body().unwrap().bytes().to_vec())
        .collect();
    bodies.extend(
        results
            .into_iter()
            .map(|result| result.into_body().unwrap().bytes().to_vec()),
    );
    bodies
}

/// A valid body with a few bytes overwritten, inserted or cut.
fn mutated_valid_body() -> impl Strategy<Value = Vec<u8>> {
    (
        select(valid_bodies()),
        vec((any::<Index>(), any::<u8>()), 1..4),
        proptest::option::of((any::<Index>(), any::<u8>())),
        proptest::option::of(any::<Index>()),
    )
        .prop_map(|(mut body, overwrites, insert, cut)| {
            for (at, byte) in overwrites {
                let at = at.index(body.len());
                body[at] = byte;
            }
            if let Some((at, byte)) = insert {
                let at = at.index(body.len() + 1);
                body.insert(at, byte);
            }
            if let Some(at) = cut {
                body.truncate(at.index(body.len() + 1));
            }
            body
        })
}

// ---------------------------------------------------------------------------
// Headers
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(10_000))]

    #[test]
    fn any_raw_header_encodes_and_decodes_to_itself(header in any_raw_header()) {
        let bytes = header.encode();
        prop_assert_eq!(RawHeader::decode(&bytes), Ok(header));
        prop_assert_eq!(RawHeader::read_from(&mut bytes.as_slice()), Ok(header));
    }

    #[test]
    fn raw_header_decode_never_panics_and_what_it_accepts_reencodes_to_the_same_bytes(
        bytes in vec(any::<u8>(), WIRE_HEADER_LEN),
    ) {
        let bytes: [u8; WIRE_HEADER_LEN] = bytes.try_into().unwrap();
        if let Ok(header) = RawHeader::decode(&bytes) {
            prop_assert_eq!(header.encode(), bytes);
        }
    }

    #[test]
    fn raw_header_decode_never_panics_after_a_valid_magic_and_size(
        rest in vec(any::<u8>(), WIRE_HEADER_LEN - 6),
        version in prop_oneof![Just([1u8, 0]), any::<[u8; 2]>()],
        reserved in prop_oneof![Just([0u8, 0]), any::<[u8; 2]>()],
    ) {
        let mut bytes = RawHeader::default().encode();
        bytes[6..].copy_from_slice(&rest);
        bytes[6..8].copy_from_slice(&version);
        bytes[34..].copy_from_slice(&reserved);
        match RawHeader::decode(&bytes) {
            Ok(header) => prop_assert_eq!(header.encode(), bytes),
            Err(status) => prop_assert!(
                matches!(status, ResponseStatus::InvalidHeader | ResponseStatus::WireProtocolVersionNotSupported),
                "{status:?}"
            ),
        }
    }

    #[test]
    fn raw_header_read_from_never_panics_on_short_or_random_streams(bytes in vec(any::<u8>(), 0..64)) {
        let _ = RawHeader::read_from(&mut bytes.as_slice());
        let mut valid_prefix = RawHeader::default().encode()[..6].to_vec();
        valid_prefix.extend_from_slice(&bytes);
        let read = RawHeader::read_from(&mut valid_prefix.as_slice());
        if valid_prefix.len() < WIRE_HEADER_LEN {
            prop_assert_eq!(read, Err(ResponseStatus::ConnectionError));
        }
    }
}

// ---------------------------------------------------------------------------
// Whole requests and responses
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(4096))]

    #[test]
    fn request_read_from_never_panics_on_random_bytes(bytes in vec(any::<u8>(), 0..512)) {
        let _ = Request::read_from(&mut bytes.as_slice(), BODY_LIMIT);
    }

    #[test]
    fn request_read_from_never_panics_and_reads_back_what_a_consistent_header_announces(
        mut header in mostly_valid_request_header(),
        body in any_body(),
        auth in vec(any::<u8>(), 0..64),
        body_len in declared_len(),
        auth_len in prop_oneof![4 => Just(None), 1 => any::<u16>().prop_map(Some)],
    ) {
        header.body_len = body_len.unwrap_or_else(|| u32::try_from(body.len()).unwrap());
        header.auth_len = auth_len.unwrap_or_else(|| u16::try_from(auth.len()).unwrap());
        let mut wire = header.encode().to_vec();
        wire.extend_from_slice(&body);
        wire.extend_from_slice(&auth);

        let consistent = RequestHeader::from_raw(&header).is_ok()
            && body.len() <= BODY_LIMIT
            && body_len.is_none_or(|len| usize::try_from(len).unwrap() == body.len())
            && auth_len.is_none_or(|len| usize::from(len) == auth.len());
        match Request::read_from(&mut wire.as_slice(), BODY_LIMIT) {
            Ok(request) => {
                prop_assert!(request.body.len() <= BODY_LIMIT);
                decode_as_every_body(&request.body);
                if consistent {
                    prop_assert_eq!(request.body.bytes(), body.as_slice());
                    prop_assert_eq!(request.auth, AuthBuffer::new(auth));
                }
            }
            Err(error) => {
                prop_assert!(!consistent, "a consistent request was refused: {error}");
            }
        }
    }

    #[test]
    fn response_read_from_never_panics_on_random_bytes(bytes in vec(any::<u8>(), 0..512)) {
        let _ = Response::read_from(&mut bytes.as_slice(), BODY_LIMIT);
    }

    #[test]
    fn response_read_from_never_panics_and_reads_back_what_a_consistent_header_announces(
        mut header in mostly_valid_response_header(),
        body in any_body(),
        body_len in declared_len(),
    ) {
        header.body_len = body_len.unwrap_or_else(|| u32::try_from(body.len()).unwrap());
        let mut wire = header.encode().to_vec();
        wire.extend_from_slice(&body);

        let consistent = ResponseHeader::from_raw(&header).is_ok()
            && body.len() <= BODY_LIMIT
            && body_len.is_none_or(|len| usize::try_from(len).unwrap() == body.len());
        match Response::read_from(&mut wire.as_slice(), BODY_LIMIT) {
            Ok(response) => {
                decode_as_every_body(&response.body);
                if consistent {
                    prop_assert_eq!(response.body.bytes(), body.as_slice());
                }
            }
            Err(status) => prop_assert!(!consistent, "a consistent response was refused: {status}"),
        }
    }
}

// ---------------------------------------------------------------------------
// Bodies, for every opcode
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(4096))]

    #[test]
    fn operation_and_result_from_body_never_panic_on_random_bytes_for_any_opcode(
        bytes in vec(any::<u8>(), 0..256),
    ) {
        decode_as_every_body(&Body::new(bytes));
    }

    #[test]
    fn operation_and_result_from_body_never_panic_on_protobuf_shaped_bytes_for_any_opcode(
        bytes in protobuf_like(),
    ) {
        decode_as_every_body(&Body::new(bytes));
    }

    #[test]
    fn operation_and_result_from_body_never_panic_on_mutated_valid_bodies_for_any_opcode(
        bytes in mutated_valid_body(),
    ) {
        decode_as_every_body(&Body::new(bytes));
    }
}
