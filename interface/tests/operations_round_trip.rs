//! Every operation and every result of every opcode survives native -> protobuf body -> native unchanged, and malformed bodies fail with the documented status.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]
#![allow(
    deprecated,
    reason = "MD2, MD4, MD5, SHA-1, DES, ARC4 and weak curves are on the wire"
)]

use psec_interface::operations::{
    attest_key, can_do_crypto, delete_client, list_authenticators, list_clients, list_keys,
    list_opcodes, list_providers, ping, prepare_key_attestation, psa_aead_decrypt,
    psa_aead_encrypt, psa_asymmetric_decrypt, psa_asymmetric_encrypt, psa_cipher_decrypt,
    psa_cipher_encrypt, psa_destroy_key, psa_export_key, psa_export_public_key, psa_generate_key,
    psa_generate_random, psa_hash_compare, psa_hash_compute, psa_import_key, psa_mac_compute,
    psa_mac_verify, psa_raw_key_agreement, psa_sign_hash, psa_sign_message, psa_verify_hash,
    psa_verify_message,
};
use psec_interface::psa_crypto::types::algorithm::{
    Aead, AeadWithDefaultLengthTag, Algorithm, AsymmetricEncryption, AsymmetricSignature, Cipher,
    FullLengthMac, Hash, KeyAgreement, KeyDerivation, Mac, RawKeyAgreement, SignHash,
};
use psec_interface::psa_crypto::types::key::{
    Attributes, DhFamily, EccFamily, Lifetime, Policy, Type, UsageFlags,
};
use psec_interface::{
    AuthType, Body, NativeOperation, NativeResult, Opcode, ProviderId, ResponseStatus, SecretBytes,
};
use std::collections::BTreeSet;
use uuid::Uuid;

// ---------------------------------------------------------------------------
// Round-trip machinery
// ---------------------------------------------------------------------------

/// The values built for one opcode: operations and results.
struct Cases {
    operations: Vec<NativeOperation>,
    results: Vec<NativeResult>,
}

fn assert_operation_round_trips(operation: NativeOperation) {
    let opcode = operation.opcode();
    let body = operation
        .clone()
        .into_body()
        .unwrap_or_else(|status| panic!("{opcode:?}: encoding {operation:?} failed: {status}"));
    let decoded = NativeOperation::from_body(opcode, &body)
        .unwrap_or_else(|status| panic!("{opcode:?}: decoding {operation:?} failed: {status}"));
    assert_eq!(
        decoded, operation,
        "{opcode:?} operation changed on the way"
    );
}

fn assert_result_round_trips(result: NativeResult) {
    let opcode = result.opcode();
    let body = result
        .clone()
        .into_body()
        .unwrap_or_else(|status| panic!("{opcode:?}: encoding {result:?} failed: {status}"));
    let decoded = NativeResult::from_body(opcode, &body)
        .unwrap_or_else(|status| panic!("{opcode:?}: decoding {result:?} failed: {status}"));
    assert_eq!(decoded, result, "{opcode:?} result changed on the way");
}

/// Checks that the cases are for `opcode`, that there is at least one of
/// each kind, and that each one round trips.
fn check(opcode: Opcode, cases: Cases) {
    assert!(
        !cases.operations.is_empty(),
        "{opcode:?}: no operation case"
    );
    assert!(!cases.results.is_empty(), "{opcode:?}: no result case");
    for operation in cases.operations {
        assert_eq!(
            operation.opcode(),
            opcode,
            "an operation case filed under the wrong opcode"
        );
        assert_operation_round_trips(operation);
    }
    for result in cases.results {
        assert_eq!(
            result.opcode(),
            opcode,
            "a result case filed under the wrong opcode"
        );
        assert_result_round_trips(result);
    }
}

/// The `i`-th item, cycling: walking `i` over the longest list of a case
/// builder puts every item of every list in at least one case.
fn pick<T: Clone>(items: &[T], i: usize) -> T {
    items[i % items.len()].clone()
}

/// How many cases it takes for every item of every list to appear.
fn rounds(lengths: &[usize]) -> usize {
    lengths.iter().copied().max().unwrap_or(0)
}

// ---------------------------------------------------------------------------
// Edge values
// ---------------------------------------------------------------------------

/// 64 KiB, the large buffer of the brief.
const LARGE: usize = 64 * 1024;

fn pattern(len: usize) -> Vec<u8> {
    (0..=u8::MAX).cycle().take(len).collect()
}

/// Empty, one zero byte, a digest-sized run of 0xff, and 64 KiB.
fn buffers() -> Vec<Vec<u8>> {
    vec![Vec::new(), vec![0], vec![0xff; 32], pattern(LARGE)]
}

fn secrets() -> Vec<SecretBytes> {
    buffers().into_iter().map(SecretBytes::from).collect()
}

/// Empty, short, non-ASCII, and long.
fn names() -> Vec<String> {
    vec![
        String::new(),
        "k".to_string(),
        "clé de signature 🔑".to_string(),
        "n".repeat(4096),
    ]
}

/// An optional name is sent as an empty string when absent, so a present
/// one is never empty (see `empty_optional_fields_decode_as_absent`).
fn optional_names() -> Vec<Option<String>> {
    vec![
        None,
        Some("ek".to_string()),
        Some("attestant ✓".to_string()),
        Some("a".repeat(4096)),
    ]
}

/// Likewise, a present optional secret is never empty.
fn optional_secrets() -> Vec<Option<SecretBytes>> {
    vec![
        None,
        Some(vec![0].into()),
        Some(b"OAEP label".as_slice().into()),
        Some(pattern(LARGE).into()),
    ]
}

/// Lengths carried in a `uint32` on the wire, from zero to the largest.
fn wire_lengths() -> Vec<usize> {
    vec![0, 1, 4, 16, usize::try_from(u32::MAX).unwrap()]
}

// ---------------------------------------------------------------------------
// Algorithms and key attributes
// ---------------------------------------------------------------------------

const HASHES: [Hash; 15] = [
    Hash::Md2,
    Hash::Md4,
    Hash::Md5,
    Hash::Ripemd160,
    Hash::Sha1,
    Hash::Sha224,
    Hash::Sha256,
    Hash::Sha384,
    Hash::Sha512,
    Hash::Sha512_224,
    Hash::Sha512_256,
    Hash::Sha3_224,
    Hash::Sha3_256,
    Hash::Sha3_384,
    Hash::Sha3_512,
];

const CIPHERS: [Cipher; 8] = [
    Cipher::StreamCipher,
    Cipher::Ctr,
    Cipher::Cfb,
    Cipher::Ofb,
    Cipher::Xts,
    Cipher::EcbNoPadding,
    Cipher::CbcNoPadding,
    Cipher::CbcPkcs7,
];

const AEAD_BASES: [AeadWithDefaultLengthTag; 3] = [
    AeadWithDefaultLengthTag::Ccm,
    AeadWithDefaultLengthTag::Gcm,
    AeadWithDefaultLengthTag::Chacha20Poly1305,
];

const RAW_KEY_AGREEMENTS: [RawKeyAgreement; 2] = [RawKeyAgreement::Ffdh, RawKeyAgreement::Ecdh];

const ECC_FAMILIES: [EccFamily; 9] = [
    EccFamily::SecpK1,
    EccFamily::SecpR1,
    EccFamily::SecpR2,
    EccFamily::SectK1,
    EccFamily::SectR1,
    EccFamily::SectR2,
    EccFamily::BrainpoolPR1,
    EccFamily::Frp,
    EccFamily::Montgomery,
];

/// `Any` and every specific hash.
fn sign_hashes() -> Vec<SignHash> {
    let mut hashes = vec![SignHash::Any];
    hashes.extend(HASHES.map(SignHash::Specific));
    hashes
}

/// Every signature scheme; those with a hash with `Any` and with each hash.
fn signature_algorithms() -> Vec<AsymmetricSignature> {
    let mut algorithms = vec![
        AsymmetricSignature::RsaPkcs1v15SignRaw,
        AsymmetricSignature::EcdsaAny,
    ];
    for hash_alg in sign_hashes() {
        algorithms.extend([
            AsymmetricSignature::RsaPkcs1v15Sign { hash_alg },
            AsymmetricSignature::RsaPss { hash_alg },
            AsymmetricSignature::Ecdsa { hash_alg },
            AsymmetricSignature::DeterministicEcdsa { hash_alg },
        ]);
    }
    algorithms
}

/// PKCS#1 v1.5 and OAEP with each hash.
fn encryption_algorithms() -> Vec<AsymmetricEncryption> {
    let mut algorithms = vec![AsymmetricEncryption::RsaPkcs1v15Crypt];
    algorithms.extend(HASHES.map(|hash_alg| AsymmetricEncryption::RsaOaep { hash_alg }));
    algorithms
}

/// Each AEAD with its default tag and with shortened tags of every length.
fn aead_algorithms() -> Vec<Aead> {
    let mut algorithms: Vec<Aead> = AEAD_BASES.map(Aead::AeadWithDefaultLengthTag).to_vec();
    for aead_alg in AEAD_BASES {
        for tag_length in wire_lengths() {
            algorithms.push(Aead::AeadWithShortenedTag {
                aead_alg,
                tag_length,
            });
        }
    }
    algorithms
}

/// HMAC with each hash, CBC-MAC and CMAC.
fn full_length_macs() -> Vec<FullLengthMac> {
    let mut macs = vec![FullLengthMac::CbcMac, FullLengthMac::Cmac];
    macs.extend(HASHES.map(|hash_alg| FullLengthMac::Hmac { hash_alg }));
    macs
}

/// Every full-length MAC, then each truncated to every length.
fn mac_algorithms() -> Vec<Mac> {
    let full = full_length_macs();
    let mut macs: Vec<Mac> = full.iter().copied().map(Mac::FullLength).collect();
    for mac_alg in full {
        for mac_length in wire_lengths() {
            macs.push(Mac::Truncated {
                mac_alg,
                mac_length,
            });
        }
    }
    macs
}

/// HKDF, TLS 1.2 PRF and TLS 1.2 PSK-to-MS, each with each hash.
fn key_derivations() -> Vec<KeyDerivation> {
    HASHES
        .iter()
        .flat_map(|&hash_alg| {
            [
                KeyDerivation::Hkdf { hash_alg },
                KeyDerivation::Tls12Prf { hash_alg },
                KeyDerivation::Tls12PskToMs { hash_alg },
            ]
        })
        .collect()
}

/// Raw FFDH and ECDH, and each followed by each key derivation.
fn key_agreements() -> Vec<KeyAgreement> {
    let mut algorithms: Vec<KeyAgreement> = RAW_KEY_AGREEMENTS.map(KeyAgreement::Raw).to_vec();
    for ka_alg in RAW_KEY_AGREEMENTS {
        for kdf_alg in key_derivations() {
            algorithms.push(KeyAgreement::WithKeyDerivation { ka_alg, kdf_alg });
        }
    }
    algorithms
}

/// Every algorithm of every family, `None` included.
fn algorithms() -> Vec<Algorithm> {
    let mut algorithms = vec![Algorithm::None];
    algorithms.extend(HASHES.map(Algorithm::Hash));
    algorithms.extend(mac_algorithms().into_iter().map(Algorithm::Mac));
    algorithms.extend(CIPHERS.map(Algorithm::Cipher));
    algorithms.extend(aead_algorithms().into_iter().map(Algorithm::Aead));
    algorithms.extend(
        signature_algorithms()
            .into_iter()
            .map(Algorithm::AsymmetricSignature),
    );
    algorithms.extend(
        encryption_algorithms()
            .into_iter()
            .map(Algorithm::AsymmetricEncryption),
    );
    algorithms.extend(key_agreements().into_iter().map(Algorithm::KeyAgreement));
    algorithms.extend(key_derivations().into_iter().map(Algorithm::KeyDerivation));
    algorithms
}

/// Every key type, the ECC ones with every curve family.
fn key_types() -> Vec<Type> {
    let mut types = vec![
        Type::RawData,
        Type::Hmac,
        Type::Derive,
        Type::Aes,
        Type::Des,
        Type::Camellia,
        Type::Arc4,
        Type::Chacha20,
        Type::RsaPublicKey,
        Type::RsaKeyPair,
        Type::DhKeyPair {
            group_family: DhFamily::Rfc7919,
        },
        Type::DhPublicKey {
            group_family: DhFamily::Rfc7919,
        },
    ];
    for curve_family in ECC_FAMILIES {
        types.push(Type::EccKeyPair { curve_family });
        types.push(Type::EccPublicKey { curve_family });
    }
    types
}

/// No flag, each flag alone, and all of them. (Setting sign_hash also sets
/// sign_message, and verify_hash verify_message, as in the PSA API.)
fn usage_flag_sets() -> Vec<UsageFlags> {
    type Setter = fn(&mut UsageFlags) -> &mut UsageFlags;
    let setters: [Setter; 10] = [
        UsageFlags::set_export,
        UsageFlags::set_copy,
        UsageFlags::set_cache,
        UsageFlags::set_encrypt,
        UsageFlags::set_decrypt,
        UsageFlags::set_sign_message,
        UsageFlags::set_verify_message,
        UsageFlags::set_sign_hash,
        UsageFlags::set_verify_hash,
        UsageFlags::set_derive,
    ];
    let mut sets = vec![UsageFlags::default()];
    let mut all = UsageFlags::default();
    for set in setters {
        let mut one = UsageFlags::default();
        set(&mut one);
        sets.push(one);
        set(&mut all);
    }
    sets.push(all);
    sets
}

/// Attributes covering every key type, every algorithm as policy, every
/// flag set and sizes from 0 to `u32::MAX` bits. Lifetime is persistent,
/// as the wire has none and decoding sets it.
fn attribute_cases() -> Vec<Attributes> {
    let types = key_types();
    let algorithms = algorithms();
    let flags = usage_flag_sets();
    let bits = [
        0,
        1,
        128,
        255,
        256,
        521,
        2048,
        4096,
        usize::try_from(u32::MAX).unwrap(),
    ];
    (0..rounds(&[types.len(), algorithms.len(), flags.len(), bits.len()]))
        .map(|i| Attributes {
            lifetime: Lifetime::Persistent,
            key_type: pick(&types, i),
            bits: pick(&bits, i),
            policy: Policy {
                usage_flags: pick(&flags, i),
                permitted_algorithms: pick(&algorithms, i),
            },
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Cases, one builder per opcode
// ---------------------------------------------------------------------------

fn ping_cases() -> Cases {
    Cases {
        operations: vec![NativeOperation::Ping(ping::Operation {})],
        results: [(0, 0), (1, 0), (0, u8::MAX), (u8::MAX, u8::MAX)]
            .into_iter()
            .map(|(maj, min)| {
                NativeResult::Ping(ping::Result {
                    wire_protocol_version_maj: maj,
                    wire_protocol_version_min: min,
                })
            })
            .collect(),
    }
}

fn generate_key_cases() -> Cases {
    let (names, attributes) = (names(), attribute_cases());
    Cases {
        operations: (0..rounds(&[names.len(), attributes.len()]))
            .map(|i| {
                NativeOperation::PsaGenerateKey(psa_generate_key::Operation {
                    key_name: pick(&names, i),
                    attributes: pick(&attributes, i),
                })
            })
            .collect(),
        results: vec![NativeResult::PsaGenerateKey(psa_generate_key::Result {})],
    }
}

fn destroy_key_cases() -> Cases {
    Cases {
        operations: names()
            .into_iter()
            .map(|key_name| NativeOperation::PsaDestroyKey(psa_destroy_key::Operation { key_name }))
            .collect(),
        results: vec![NativeResult::PsaDestroyKey(psa_destroy_key::Result {})],
    }
}

fn sign_hash_cases() -> Cases {
    let (names, algorithms, buffers) = (names(), signature_algorithms(), buffers());
    Cases {
        operations: (0..rounds(&[names.len(), algorithms.len(), buffers.len()]))
            .map(|i| {
                NativeOperation::PsaSignHash(psa_sign_hash::Operation {
                    key_name: pick(&names, i),
                    alg: pick(&algorithms, i),
                    hash: pick(&buffers, i),
                })
            })
            .collect(),
        results: buffers
            .into_iter()
            .map(|signature| NativeResult::PsaSignHash(psa_sign_hash::Result { signature }))
            .collect(),
    }
}

fn verify_hash_cases() -> Cases {
    let (names, algorithms, buffers) = (names(), signature_algorithms(), buffers());
    Cases {
        operations: (0..rounds(&[names.len(), algorithms.len(), buffers.len()]))
            .map(|i| {
                NativeOperation::PsaVerifyHash(psa_verify_hash::Operation {
                    key_name: pick(&names, i),
                    alg: pick(&algorithms, i),
                    hash: pick(&buffers, i),
                    signature: pick(&buffers, i + 1),
                })
            })
            .collect(),
        results: vec![NativeResult::PsaVerifyHash(psa_verify_hash::Result {})],
    }
}

fn import_key_cases() -> Cases {
    let (names, attributes, secrets) = (names(), attribute_cases(), secrets());
    Cases {
        operations: (0..rounds(&[names.len(), attributes.len(), secrets.len()]))
            .map(|i| {
                NativeOperation::PsaImportKey(psa_import_key::Operation {
                    key_name: pick(&names, i),
                    attributes: pick(&attributes, i),
                    data: pick(&secrets, i),
                })
            })
            .collect(),
        results: vec![NativeResult::PsaImportKey(psa_import_key::Result {})],
    }
}

fn export_public_key_cases() -> Cases {
    Cases {
        operations: names()
            .into_iter()
            .map(|key_name| {
                NativeOperation::PsaExportPublicKey(psa_export_public_key::Operation { key_name })
            })
            .collect(),
        results: buffers()
            .into_iter()
            .map(|data| NativeResult::PsaExportPublicKey(psa_export_public_key::Result { data }))
            .collect(),
    }
}

fn list_providers_cases() -> Cases {
    let every_provider = ProviderId::ALL
        .iter()
        .map(|&id| list_providers::ProviderInfo {
            uuid: id.uuid(),
            description: format!("{id} provider"),
            vendor: "Arm".to_string(),
            version_maj: 1,
            version_min: 2,
            version_rev: 3,
            id,
        })
        .collect();
    let edges = vec![
        list_providers::ProviderInfo {
            uuid: Uuid::nil(),
            description: String::new(),
            vendor: String::new(),
            version_maj: 0,
            version_min: 0,
            version_rev: 0,
            id: ProviderId::Core,
        },
        list_providers::ProviderInfo {
            uuid: Uuid::from_u128(u128::MAX),
            description: "d".repeat(4096),
            vendor: "fournisseur ✓".to_string(),
            version_maj: u32::MAX,
            version_min: u32::MAX,
            version_rev: u32::MAX,
            id: ProviderId::CryptoAuthLib,
        },
    ];
    Cases {
        operations: vec![NativeOperation::ListProviders(list_providers::Operation {})],
        results: [Vec::new(), every_provider, edges]
            .into_iter()
            .map(|providers| NativeResult::ListProviders(list_providers::Result { providers }))
            .collect(),
    }
}

fn list_opcodes_cases() -> Cases {
    Cases {
        operations: ProviderId::ALL
            .iter()
            .map(|&provider_id| {
                NativeOperation::ListOpcodes(list_opcodes::Operation { provider_id })
            })
            .collect(),
        results: [
            BTreeSet::new(),
            BTreeSet::from([Opcode::PsaSignHash]),
            Opcode::ALL.iter().copied().collect(),
        ]
        .into_iter()
        .map(|opcodes| NativeResult::ListOpcodes(list_opcodes::Result { opcodes }))
        .collect(),
    }
}

fn asymmetric_encrypt_cases() -> Cases {
    let (names, algorithms, secrets, salts) = (
        names(),
        encryption_algorithms(),
        secrets(),
        optional_secrets(),
    );
    Cases {
        operations: (0..rounds(&[names.len(), algorithms.len(), secrets.len(), salts.len()]))
            .map(|i| {
                NativeOperation::PsaAsymmetricEncrypt(psa_asymmetric_encrypt::Operation {
                    key_name: pick(&names, i),
                    alg: pick(&algorithms, i),
                    plaintext: pick(&secrets, i),
                    salt: pick(&salts, i),
                })
            })
            .collect(),
        results: buffers()
            .into_iter()
            .map(|ciphertext| {
                NativeResult::PsaAsymmetricEncrypt(psa_asymmetric_encrypt::Result { ciphertext })
            })
            .collect(),
    }
}

fn asymmetric_decrypt_cases() -> Cases {
    let (names, algorithms, buffers, salts) = (
        names(),
        encryption_algorithms(),
        buffers(),
        optional_secrets(),
    );
    Cases {
        operations: (0..rounds(&[names.len(), algorithms.len(), buffers.len(), salts.len()]))
            .map(|i| {
                NativeOperation::PsaAsymmetricDecrypt(psa_asymmetric_decrypt::Operation {
                    key_name: pick(&names, i),
                    alg: pick(&algorithms, i),
                    ciphertext: pick(&buffers, i),
                    salt: pick(&salts, i + 1),
                })
            })
            .collect(),
        results: secrets()
            .into_iter()
            .map(|plaintext| {
                NativeResult::PsaAsymmetricDecrypt(psa_asymmetric_decrypt::Result { plaintext })
            })
            .collect(),
    }
}

fn export_key_cases() -> Cases {
    Cases {
        operations: names()
            .into_iter()
            .map(|key_name| NativeOperation::PsaExportKey(psa_export_key::Operation { key_name }))
            .collect(),
        results: secrets()
            .into_iter()
            .map(|data| NativeResult::PsaExportKey(psa_export_key::Result { data }))
            .collect(),
    }
}

fn generate_random_cases() -> Cases {
    Cases {
        operations: [
            0,
            1,
            32,
            LARGE,
            usize::try_from(u32::MAX).unwrap(),
            usize::MAX,
        ]
        .into_iter()
        .map(|size| NativeOperation::PsaGenerateRandom(psa_generate_random::Operation { size }))
        .collect(),
        results: secrets()
            .into_iter()
            .map(|random_bytes| {
                NativeResult::PsaGenerateRandom(psa_generate_random::Result { random_bytes })
            })
            .collect(),
    }
}

fn list_authenticators_cases() -> Cases {
    let every_authenticator = AuthType::ALL
        .iter()
        .map(|&id| list_authenticators::AuthenticatorInfo {
            description: format!("{id} authenticator"),
            version_maj: 0,
            version_min: 1,
            version_rev: u32::MAX,
            id,
        })
        .collect();
    let edge = vec![list_authenticators::AuthenticatorInfo {
        description: String::new(),
        version_maj: u32::MAX,
        version_min: 0,
        version_rev: 0,
        id: AuthType::NoAuth,
    }];
    Cases {
        operations: vec![NativeOperation::ListAuthenticators(
            list_authenticators::Operation {},
        )],
        results: [Vec::new(), every_authenticator, edge]
            .into_iter()
            .map(|authenticators| {
                NativeResult::ListAuthenticators(list_authenticators::Result { authenticators })
            })
            .collect(),
    }
}

fn hash_compute_cases() -> Cases {
    let secrets = secrets();
    Cases {
        operations: (0..rounds(&[HASHES.len(), secrets.len()]))
            .map(|i| {
                NativeOperation::PsaHashCompute(psa_hash_compute::Operation {
                    alg: pick(&HASHES, i),
                    input: pick(&secrets, i),
                })
            })
            .collect(),
        results: buffers()
            .into_iter()
            .map(|hash| NativeResult::PsaHashCompute(psa_hash_compute::Result { hash }))
            .collect(),
    }
}

fn hash_compare_cases() -> Cases {
    let (secrets, buffers) = (secrets(), buffers());
    Cases {
        operations: (0..rounds(&[HASHES.len(), secrets.len(), buffers.len()]))
            .map(|i| {
                NativeOperation::PsaHashCompare(psa_hash_compare::Operation {
                    alg: pick(&HASHES, i),
                    input: pick(&secrets, i),
                    hash: pick(&buffers, i + 1),
                })
            })
            .collect(),
        results: vec![NativeResult::PsaHashCompare(psa_hash_compare::Result {})],
    }
}

fn aead_encrypt_cases() -> Cases {
    let (names, algorithms, buffers, secrets) = (names(), aead_algorithms(), buffers(), secrets());
    Cases {
        operations: (0..rounds(&[names.len(), algorithms.len(), buffers.len()]))
            .map(|i| {
                NativeOperation::PsaAeadEncrypt(psa_aead_encrypt::Operation {
                    key_name: pick(&names, i),
                    alg: pick(&algorithms, i),
                    nonce: pick(&buffers, i),
                    additional_data: pick(&buffers, i + 1),
                    plaintext: pick(&secrets, i + 2),
                })
            })
            .collect(),
        results: buffers
            .into_iter()
            .map(|ciphertext| NativeResult::PsaAeadEncrypt(psa_aead_encrypt::Result { ciphertext }))
            .collect(),
    }
}

fn aead_decrypt_cases() -> Cases {
    let (names, algorithms, buffers) = (names(), aead_algorithms(), buffers());
    Cases {
        operations: (0..rounds(&[names.len(), algorithms.len(), buffers.len()]))
            .map(|i| {
                NativeOperation::PsaAeadDecrypt(psa_aead_decrypt::Operation {
                    key_name: pick(&names, i),
                    alg: pick(&algorithms, i),
                    nonce: pick(&buffers, i + 1),
                    additional_data: pick(&buffers, i + 2),
                    ciphertext: pick(&buffers, i),
                })
            })
            .collect(),
        results: secrets()
            .into_iter()
            .map(|plaintext| NativeResult::PsaAeadDecrypt(psa_aead_decrypt::Result { plaintext }))
            .collect(),
    }
}

fn raw_key_agreement_cases() -> Cases {
    let (names, buffers) = (names(), buffers());
    Cases {
        operations: (0..rounds(&[RAW_KEY_AGREEMENTS.len(), names.len(), buffers.len()]))
            .map(|i| {
                NativeOperation::PsaRawKeyAgreement(psa_raw_key_agreement::Operation {
                    alg: pick(&RAW_KEY_AGREEMENTS, i),
                    private_key_name: pick(&names, i),
                    peer_key: pick(&buffers, i + 1),
                })
            })
            .collect(),
        results: secrets()
            .into_iter()
            .map(|shared_secret| {
                NativeResult::PsaRawKeyAgreement(psa_raw_key_agreement::Result { shared_secret })
            })
            .collect(),
    }
}

fn cipher_encrypt_cases() -> Cases {
    let (names, secrets) = (names(), secrets());
    Cases {
        operations: (0..rounds(&[CIPHERS.len(), names.len(), secrets.len()]))
            .map(|i| {
                NativeOperation::PsaCipherEncrypt(psa_cipher_encrypt::Operation {
                    key_name: pick(&names, i),
                    alg: pick(&CIPHERS, i),
                    plaintext: pick(&secrets, i),
                })
            })
            .collect(),
        results: buffers()
            .into_iter()
            .map(|ciphertext| {
                NativeResult::PsaCipherEncrypt(psa_cipher_encrypt::Result { ciphertext })
            })
            .collect(),
    }
}

fn cipher_decrypt_cases() -> Cases {
    let (names, buffers) = (names(), buffers());
    Cases {
        operations: (0..rounds(&[CIPHERS.len(), names.len(), buffers.len()]))
            .map(|i| {
                NativeOperation::PsaCipherDecrypt(psa_cipher_decrypt::Operation {
                    key_name: pick(&names, i),
                    alg: pick(&CIPHERS, i),
                    ciphertext: pick(&buffers, i),
                })
            })
            .collect(),
        results: secrets()
            .into_iter()
            .map(|plaintext| {
                NativeResult::PsaCipherDecrypt(psa_cipher_decrypt::Result { plaintext })
            })
            .collect(),
    }
}

fn mac_compute_cases() -> Cases {
    let (names, algorithms, secrets) = (names(), mac_algorithms(), secrets());
    Cases {
        operations: (0..rounds(&[names.len(), algorithms.len(), secrets.len()]))
            .map(|i| {
                NativeOperation::PsaMacCompute(psa_mac_compute::Operation {
                    key_name: pick(&names, i),
                    alg: pick(&algorithms, i),
                    input: pick(&secrets, i),
                })
            })
            .collect(),
        results: buffers()
            .into_iter()
            .map(|mac| NativeResult::PsaMacCompute(psa_mac_compute::Result { mac }))
            .collect(),
    }
}

fn mac_verify_cases() -> Cases {
    let (names, algorithms, secrets, buffers) = (names(), mac_algorithms(), secrets(), buffers());
    Cases {
        operations: (0..rounds(&[names.len(), algorithms.len(), secrets.len()]))
            .map(|i| {
                NativeOperation::PsaMacVerify(psa_mac_verify::Operation {
                    key_name: pick(&names, i),
                    alg: pick(&algorithms, i),
                    input: pick(&secrets, i),
                    mac: pick(&buffers, i + 1),
                })
            })
            .collect(),
        results: vec![NativeResult::PsaMacVerify(psa_mac_verify::Result {})],
    }
}

fn sign_message_cases() -> Cases {
    let (names, algorithms, secrets) = (names(), signature_algorithms(), secrets());
    Cases {
        operations: (0..rounds(&[names.len(), algorithms.len(), secrets.len()]))
            .map(|i| {
                NativeOperation::PsaSignMessage(psa_sign_message::Operation {
                    key_name: pick(&names, i),
                    alg: pick(&algorithms, i),
                    message: pick(&secrets, i),
                })
            })
            .collect(),
        results: buffers()
            .into_iter()
            .map(|signature| NativeResult::PsaSignMessage(psa_sign_message::Result { signature }))
            .collect(),
    }
}

fn verify_message_cases() -> Cases {
    let (names, algorithms, secrets, buffers) =
        (names(), signature_algorithms(), secrets(), buffers());
    Cases {
        operations: (0..rounds(&[names.len(), algorithms.len(), secrets.len()]))
            .map(|i| {
                NativeOperation::PsaVerifyMessage(psa_verify_message::Operation {
                    key_name: pick(&names, i),
                    alg: pick(&algorithms, i),
                    message: pick(&secrets, i),
                    signature: pick(&buffers, i + 1),
                })
            })
            .collect(),
        results: vec![NativeResult::PsaVerifyMessage(
            psa_verify_message::Result {},
        )],
    }
}

fn list_keys_cases() -> Cases {
    let (names, attributes) = (names(), attribute_cases());
    let every_attribute_case: Vec<list_keys::KeyInfo> =
        (0..rounds(&[names.len(), attributes.len()]))
            .map(|i| list_keys::KeyInfo {
                provider_id: pick(ProviderId::ALL, i),
                name: pick(&names, i),
                attributes: pick(&attributes, i),
            })
            .collect();
    let one = every_attribute_case[..1].to_vec();
    Cases {
        operations: vec![NativeOperation::ListKeys(list_keys::Operation {})],
        results: [Vec::new(), one, every_attribute_case]
            .into_iter()
            .map(|keys| NativeResult::ListKeys(list_keys::Result { keys }))
            .collect(),
    }
}

fn list_clients_cases() -> Cases {
    Cases {
        operations: vec![NativeOperation::ListClients(list_clients::Operation {})],
        results: [Vec::new(), vec![String::new()], names()]
            .into_iter()
            .map(|clients| NativeResult::ListClients(list_clients::Result { clients }))
            .collect(),
    }
}

fn delete_client_cases() -> Cases {
    Cases {
        operations: names()
            .into_iter()
            .map(|client| NativeOperation::DeleteClient(delete_client::Operation { client }))
            .collect(),
        results: vec![NativeResult::DeleteClient(delete_client::Result {})],
    }
}

fn attest_key_cases() -> Cases {
    let (names, attesting, buffers) = (names(), optional_names(), buffers());
    Cases {
        operations: (0..rounds(&[names.len(), attesting.len(), buffers.len()]))
            .map(|i| {
                NativeOperation::AttestKey(attest_key::Operation {
                    attested_key_name: pick(&names, i),
                    parameters: attest_key::AttestationParams::ActivateCredential {
                        credential_blob: pick(&buffers, i),
                        secret: pick(&buffers, i + 1),
                    },
                    attesting_key_name: pick(&attesting, i),
                })
            })
            .collect(),
        results: secrets()
            .into_iter()
            .map(|credential| {
                NativeResult::AttestKey(attest_key::Result {
                    output: attest_key::AttestationOutput::ActivateCredential { credential },
                })
            })
            .collect(),
    }
}

fn prepare_key_attestation_cases() -> Cases {
    use prepare_key_attestation::{PrepareKeyAttestationOutput, PrepareKeyAttestationParams};
    let (names, attesting, buffers) = (names(), optional_names(), buffers());
    let rounds = rounds(&[names.len(), attesting.len(), buffers.len()]);
    Cases {
        operations: (0..rounds)
            .map(|i| {
                NativeOperation::PrepareKeyAttestation(prepare_key_attestation::Operation {
                    parameters: PrepareKeyAttestationParams::ActivateCredential {
                        attested_key_name: pick(&names, i),
                        attesting_key_name: pick(&attesting, i + 1),
                    },
                })
            })
            .collect(),
        results: (0..rounds)
            .map(|i| {
                NativeResult::PrepareKeyAttestation(prepare_key_attestation::Result {
                    output: PrepareKeyAttestationOutput::ActivateCredential {
                        name: pick(&buffers, i),
                        public: pick(&buffers, i + 1),
                        attesting_key_pub: pick(&buffers, i + 2),
                    },
                })
            })
            .collect(),
    }
}

fn can_do_crypto_cases() -> Cases {
    use can_do_crypto::CheckType;
    let check_types = [
        CheckType::Use,
        CheckType::Generate,
        CheckType::Import,
        CheckType::Derive,
    ];
    let attributes = attribute_cases();
    Cases {
        operations: (0..rounds(&[check_types.len(), attributes.len()]))
            .map(|i| {
                NativeOperation::CanDoCrypto(can_do_crypto::Operation {
                    check_type: pick(&check_types, i),
                    attributes: pick(&attributes, i),
                })
            })
            .collect(),
        results: vec![NativeResult::CanDoCrypto(can_do_crypto::Result {})],
    }
}

/// One test per opcode, and the list of every builder for the coverage
/// test, from one table, so that a builder can not lack either.
macro_rules! round_trip_tests {
    ($( $test:ident: $opcode:ident => $cases:ident, )+) => {
        $(
            #[test]
            fn $test() {
                check(Opcode::$opcode, $cases());
            }
        )+

        fn every_case() -> Vec<Cases> {
            vec![$( $cases(), )+]
        }
    };
}

round_trip_tests! {
    ping_round_trips_with_every_version_edge: Ping => ping_cases,
    generate_key_round_trips_for_every_key_type_policy_and_size: PsaGenerateKey => generate_key_cases,
    destroy_key_round_trips_for_empty_unicode_and_long_names: PsaDestroyKey => destroy_key_cases,
    sign_hash_round_trips_for_every_signature_algorithm: PsaSignHash => sign_hash_cases,
    verify_hash_round_trips_for_every_signature_algorithm: PsaVerifyHash => verify_hash_cases,
    import_key_round_trips_for_every_key_type_policy_and_key_size: PsaImportKey => import_key_cases,
    export_public_key_round_trips_for_empty_and_large_keys: PsaExportPublicKey => export_public_key_cases,
    list_providers_round_trips_for_every_provider_and_version_edge: ListProviders => list_providers_cases,
    list_opcodes_round_trips_for_every_provider_and_opcode_set: ListOpcodes => list_opcodes_cases,
    asymmetric_encrypt_round_trips_for_every_encryption_algorithm_with_and_without_salt:
        PsaAsymmetricEncrypt => asymmetric_encrypt_cases,
    asymmetric_decrypt_round_trips_for_every_encryption_algorithm_with_and_without_salt:
        PsaAsymmetricDecrypt => asymmetric_decrypt_cases,
    export_key_round_trips_for_empty_and_large_key_material: PsaExportKey => export_key_cases,
    generate_random_round_trips_for_sizes_up_to_usize_max: PsaGenerateRandom => generate_random_cases,
    list_authenticators_round_trips_for_every_auth_type: ListAuthenticators => list_authenticators_cases,
    hash_compute_round_trips_for_every_hash: PsaHashCompute => hash_compute_cases,
    hash_compare_round_trips_for_every_hash: PsaHashCompare => hash_compare_cases,
    aead_encrypt_round_trips_for_every_aead_with_default_and_shortened_tags: PsaAeadEncrypt => aead_encrypt_cases,
    aead_decrypt_round_trips_for_every_aead_with_default_and_shortened_tags: PsaAeadDecrypt => aead_decrypt_cases,
    raw_key_agreement_round_trips_for_ffdh_and_ecdh: PsaRawKeyAgreement => raw_key_agreement_cases,
    cipher_encrypt_round_trips_for_every_cipher_mode: PsaCipherEncrypt => cipher_encrypt_cases,
    cipher_decrypt_round_trips_for_every_cipher_mode: PsaCipherDecrypt => cipher_decrypt_cases,
    mac_compute_round_trips_for_every_full_length_and_truncated_mac: PsaMacCompute => mac_compute_cases,
    mac_verify_round_trips_for_every_full_length_and_truncated_mac: PsaMacVerify => mac_verify_cases,
    sign_message_round_trips_for_every_signature_algorithm: PsaSignMessage => sign_message_cases,
    verify_message_round_trips_for_every_signature_algorithm: PsaVerifyMessage => verify_message_cases,
    list_keys_round_trips_for_zero_one_and_hundreds_of_keys: ListKeys => list_keys_cases,
    list_clients_round_trips_for_no_client_an_empty_name_and_many_names: ListClients => list_clients_cases,
    delete_client_round_trips_for_empty_unicode_and_long_names: DeleteClient => delete_client_cases,
    attest_key_round_trips_with_and_without_an_attesting_key: AttestKey => attest_key_cases,
    prepare_key_attestation_round_trips_with_and_without_an_attesting_key:
        PrepareKeyAttestation => prepare_key_attestation_cases,
    can_do_crypto_round_trips_for_every_check_type_and_attributes: CanDoCrypto => can_do_crypto_cases,
}

#[test]
fn round_trip_cases_cover_every_opcode_for_operations_and_results() {
    let mut operations = BTreeSet::new();
    let mut results = BTreeSet::new();
    for cases in every_case() {
        operations.extend(cases.operations.iter().map(NativeOperation::opcode));
        results.extend(cases.results.iter().map(NativeResult::opcode));
    }
    let every_opcode: BTreeSet<Opcode> = Opcode::ALL.iter().copied().collect();
    assert_eq!(every_opcode.len(), 31);
    assert_eq!(
        operations, every_opcode,
        "opcodes without an operation case"
    );
    assert_eq!(results, every_opcode, "opcodes without a result case");
}

#[test]
fn key_attributes_cases_cover_every_key_type_algorithm_and_usage_flag_set() {
    let cases = attribute_cases();
    for key_type in key_types() {
        assert!(
            cases.iter().any(|a| a.key_type == key_type),
            "{key_type:?} missing"
        );
    }
    for algorithm in algorithms() {
        assert!(
            cases
                .iter()
                .any(|a| a.policy.permitted_algorithms == algorithm),
            "{algorithm:?} missing"
        );
    }
    for flags in usage_flag_sets() {
        assert!(
            cases.iter().any(|a| a.policy.usage_flags == flags),
            "{flags:?} missing"
        );
    }
}

// ---------------------------------------------------------------------------
// Documented conversions and failures
// ---------------------------------------------------------------------------

#[test]
fn empty_optional_fields_decode_as_absent() {
    // proto3 can not tell an empty field from an absent one.
    let encrypt = NativeOperation::PsaAsymmetricEncrypt(psa_asymmetric_encrypt::Operation {
        key_name: "rsa".to_string(),
        alg: AsymmetricEncryption::RsaPkcs1v15Crypt,
        plaintext: b"hi".as_slice().into(),
        salt: Some(SecretBytes::default()),
    });
    let decoded =
        NativeOperation::from_body(Opcode::PsaAsymmetricEncrypt, &encrypt.into_body().unwrap());
    let Ok(NativeOperation::PsaAsymmetricEncrypt(decoded)) = decoded else {
        panic!("{decoded:?}");
    };
    assert_eq!(decoded.salt, None);

    let attest = NativeOperation::AttestKey(attest_key::Operation {
        attested_key_name: "key".to_string(),
        parameters: attest_key::AttestationParams::ActivateCredential {
            credential_blob: vec![1],
            secret: vec![2],
        },
        attesting_key_name: Some(String::new()),
    });
    let decoded = NativeOperation::from_body(Opcode::AttestKey, &attest.into_body().unwrap());
    let Ok(NativeOperation::AttestKey(decoded)) = decoded else {
        panic!("{decoded:?}");
    };
    assert_eq!(decoded.attesting_key_name, None);
}

#[cfg(target_pointer_width = "64")]
#[test]
fn lengths_over_u32_max_fail_to_encode_with_invalid_encoding() {
    let too_long = usize::try_from(u64::from(u32::MAX) + 1).unwrap();
    let attributes = Attributes {
        bits: too_long,
        ..attribute_cases()[0]
    };
    let generate = NativeOperation::PsaGenerateKey(psa_generate_key::Operation {
        key_name: "big".to_string(),
        attributes,
    });
    assert_eq!(generate.into_body(), Err(ResponseStatus::InvalidEncoding));

    let aead = NativeOperation::PsaAeadEncrypt(psa_aead_encrypt::Operation {
        key_name: "aes".to_string(),
        alg: Aead::AeadWithShortenedTag {
            aead_alg: AeadWithDefaultLengthTag::Gcm,
            tag_length: too_long,
        },
        nonce: Vec::new(),
        additional_data: Vec::new(),
        plaintext: SecretBytes::default(),
    });
    assert_eq!(aead.into_body(), Err(ResponseStatus::InvalidEncoding));

    let mac = NativeOperation::PsaMacCompute(psa_mac_compute::Operation {
        key_name: "hmac".to_string(),
        alg: Mac::Truncated {
            mac_alg: FullLengthMac::Cmac,
            mac_length: too_long,
        },
        input: SecretBytes::default(),
    });
    assert_eq!(mac.into_body(), Err(ResponseStatus::InvalidEncoding));
}

/// Protobuf encoding by hand, for bodies the native types can not express.
mod wire {
    pub(crate) fn varint(mut value: u64) -> Vec<u8> {
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

    /// Field `number` with wire type 0 (varint); written even when zero.
    pub(crate) fn varint_field(number: u32, value: u64) -> Vec<u8> {
        [varint(u64::from(number) << 3), varint(value)].concat()
    }

    /// Field `number` with wire type 2 (length-delimited): bytes, a string
    /// or a nested message.
    pub(crate) fn bytes_field(number: u32, bytes: &[u8]) -> Vec<u8> {
        let length = u64::try_from(bytes.len()).unwrap();
        [
            varint((u64::from(number) << 3) | 2),
            varint(length),
            bytes.to_vec(),
        ]
        .concat()
    }

    /// Key attributes with the given key type and policy algorithm
    /// messages, 256 bits, and the sign-hash usage flag.
    pub(crate) fn attributes(key_type: &[u8], algorithm: &[u8]) -> Vec<u8> {
        let usage = bytes_field(1, &varint_field(8, 1));
        let policy = bytes_field(3, &[usage, bytes_field(2, algorithm)].concat());
        [bytes_field(1, key_type), varint_field(2, 256), policy].concat()
    }

    /// A key type message: AES.
    pub(crate) fn aes() -> Vec<u8> {
        bytes_field(4, &[])
    }

    /// An algorithm message: `None`.
    pub(crate) fn no_algorithm() -> Vec<u8> {
        bytes_field(1, &[])
    }
}

fn decode_operation(opcode: Opcode, bytes: Vec<u8>) -> Result<NativeOperation, ResponseStatus> {
    NativeOperation::from_body(opcode, &Body::new(bytes))
}

fn decode_result(opcode: Opcode, bytes: Vec<u8>) -> Result<NativeResult, ResponseStatus> {
    NativeResult::from_body(opcode, &Body::new(bytes))
}

/// Bytes that are not a protobuf message of any schema: field number 0,
/// wire type 7, a truncated varint, a length past the end, an over-long
/// varint key, an unterminated group and a stray end-group tag.
fn not_protobuf() -> Vec<Vec<u8>> {
    vec![
        vec![0x00],
        vec![0x0f],
        vec![0x08],
        vec![0x0a, 0x05, 0x01],
        vec![0x80; 11],
        vec![0x0b],
        vec![0x0c],
    ]
}

#[test]
fn a_body_that_is_not_protobuf_fails_with_deserializing_body_failed_for_every_opcode() {
    for &opcode in Opcode::ALL {
        for bytes in not_protobuf() {
            assert_eq!(
                decode_operation(opcode, bytes.clone()),
                Err(ResponseStatus::DeserializingBodyFailed),
                "{opcode:?} operation, body {bytes:02x?}"
            );
            assert_eq!(
                decode_result(opcode, bytes.clone()),
                Err(ResponseStatus::DeserializingBodyFailed),
                "{opcode:?} result, body {bytes:02x?}"
            );
        }
    }
}

#[test]
fn a_string_that_is_not_utf8_fails_with_deserializing_body_failed() {
    let bad_name = wire::bytes_field(1, &[0xff, 0xfe]);
    assert_eq!(
        decode_operation(Opcode::PsaDestroyKey, bad_name.clone()),
        Err(ResponseStatus::DeserializingBodyFailed)
    );
    assert_eq!(
        decode_result(Opcode::ListClients, bad_name),
        Err(ResponseStatus::DeserializingBodyFailed)
    );
}

#[test]
fn a_sign_hash_body_without_alg_fails_with_invalid_encoding() {
    // proto3 decodes empty bytes to a message with every field at its default.
    assert_eq!(
        decode_operation(Opcode::PsaSignHash, Vec::new()),
        Err(ResponseStatus::InvalidEncoding)
    );

    let without_alg = [
        wire::bytes_field(1, b"key"),
        wire::bytes_field(3, &[0xab; 32]),
    ]
    .concat();
    assert_eq!(
        decode_operation(Opcode::PsaSignHash, without_alg),
        Err(ResponseStatus::InvalidEncoding)
    );

    let alg_without_variant = [wire::bytes_field(1, b"key"), wire::bytes_field(2, &[])].concat();
    assert_eq!(
        decode_operation(Opcode::PsaSignHash, alg_without_variant),
        Err(ResponseStatus::InvalidEncoding)
    );
}

#[test]
fn an_empty_body_decodes_to_defaults_unless_a_field_is_required() {
    // Those whose empty body lacks a required message or holds a "none" enum.
    let operation_needs_a_field = [
        Opcode::PsaGenerateKey,
        Opcode::PsaSignHash,
        Opcode::PsaVerifyHash,
        Opcode::PsaImportKey,
        Opcode::PsaAsymmetricEncrypt,
        Opcode::PsaAsymmetricDecrypt,
        Opcode::PsaHashCompute,
        Opcode::PsaHashCompare,
        Opcode::PsaAeadEncrypt,
        Opcode::PsaAeadDecrypt,
        Opcode::PsaRawKeyAgreement,
        Opcode::PsaCipherEncrypt,
        Opcode::PsaCipherDecrypt,
        Opcode::PsaMacCompute,
        Opcode::PsaMacVerify,
        Opcode::PsaSignMessage,
        Opcode::PsaVerifyMessage,
        Opcode::AttestKey,
        Opcode::PrepareKeyAttestation,
        Opcode::CanDoCrypto,
    ];
    let result_needs_a_field = [Opcode::AttestKey, Opcode::PrepareKeyAttestation];
    for &opcode in Opcode::ALL {
        let operation = decode_operation(opcode, Vec::new());
        if operation_needs_a_field.contains(&opcode) {
            assert_eq!(
                operation,
                Err(ResponseStatus::InvalidEncoding),
                "{opcode:?} operation"
            );
        } else {
            assert!(operation.is_ok(), "{opcode:?} operation: {operation:?}");
        }
        let result = decode_result(opcode, Vec::new());
        if result_needs_a_field.contains(&opcode) {
            assert_eq!(
                result,
                Err(ResponseStatus::InvalidEncoding),
                "{opcode:?} result"
            );
        } else {
            assert!(result.is_ok(), "{opcode:?} result: {result:?}");
        }
    }
}

#[test]
fn a_hash_compute_body_with_hash_value_99_fails_with_invalid_encoding() {
    let body = wire::varint_field(1, 99);
    assert_eq!(body, [0x08, 99]);
    assert_eq!(
        decode_operation(Opcode::PsaHashCompute, body),
        Err(ResponseStatus::InvalidEncoding)
    );
}

/// An enum field somewhere in a body, and a value of it that is valid.
struct EnumField {
    what: &'static str,
    opcode: Opcode,
    result: bool,
    body: fn(u64) -> Vec<u8>,
    valid: u64,
}

impl EnumField {
    fn decode(&self, value: u64) -> Result<(), ResponseStatus> {
        let bytes = (self.body)(value);
        if self.result {
            decode_result(self.opcode, bytes).map(drop)
        } else {
            decode_operation(self.opcode, bytes).map(drop)
        }
    }
}

/// Enum fields whose value 0 means "none", at every depth: top-level
/// operation fields, inside algorithms, inside key attributes, in a result.
fn enum_fields_with_a_none_value() -> Vec<EnumField> {
    use wire::{aes, attributes, bytes_field, no_algorithm, varint_field};
    vec![
        EnumField {
            what: "PsaHashCompute alg (Hash)",
            opcode: Opcode::PsaHashCompute,
            result: false,
            body: |v| [varint_field(1, v), bytes_field(2, b"abc")].concat(),
            valid: 7,
        },
        EnumField {
            what: "PsaHashCompare alg (Hash)",
            opcode: Opcode::PsaHashCompare,
            result: false,
            body: |v| {
                [
                    varint_field(1, v),
                    bytes_field(2, b"abc"),
                    bytes_field(3, &[1; 32]),
                ]
                .concat()
            },
            valid: 15,
        },
        EnumField {
            what: "PsaCipherEncrypt alg (Cipher)",
            opcode: Opcode::PsaCipherEncrypt,
            result: false,
            body: |v| {
                [
                    bytes_field(1, b"aes"),
                    varint_field(2, v),
                    bytes_field(3, b"msg"),
                ]
                .concat()
            },
            valid: 8,
        },
        EnumField {
            what: "PsaRawKeyAgreement alg (KeyAgreement.Raw)",
            opcode: Opcode::PsaRawKeyAgreement,
            result: false,
            body: |v| {
                [
                    varint_field(1, v),
                    bytes_field(2, b"ecdh"),
                    bytes_field(3, &[4; 65]),
                ]
                .concat()
            },
            valid: 2,
        },
        EnumField {
            what: "PsaSignHash alg Ecdsa hash_alg specific (Hash)",
            opcode: Opcode::PsaSignHash,
            result: false,
            body: |v| {
                let sign_hash = varint_field(2, v);
                let ecdsa = bytes_field(1, &sign_hash);
                let alg = bytes_field(4, &ecdsa);
                [
                    bytes_field(1, b"ec"),
                    bytes_field(2, &alg),
                    bytes_field(3, &[0; 32]),
                ]
                .concat()
            },
            valid: 7,
        },
        EnumField {
            what: "PsaAsymmetricDecrypt alg RsaOaep hash_alg (Hash)",
            opcode: Opcode::PsaAsymmetricDecrypt,
            result: false,
            body: |v| {
                let alg = bytes_field(2, &varint_field(1, v));
                [
                    bytes_field(1, b"rsa"),
                    bytes_field(2, &alg),
                    bytes_field(3, &[9; 256]),
                ]
                .concat()
            },
            valid: 7,
        },
        EnumField {
            what: "PsaAeadEncrypt alg default tag (AeadWithDefaultLengthTag)",
            opcode: Opcode::PsaAeadEncrypt,
            result: false,
            body: |v| [bytes_field(1, b"aes"), bytes_field(2, &varint_field(1, v))].concat(),
            valid: 2,
        },
        EnumField {
            what: "PsaAeadDecrypt alg shortened tag aead_alg (AeadWithDefaultLengthTag)",
            opcode: Opcode::PsaAeadDecrypt,
            result: false,
            body: |v| {
                let shortened = [varint_field(1, v), varint_field(2, 8)].concat();
                [
                    bytes_field(1, b"aes"),
                    bytes_field(2, &bytes_field(2, &shortened)),
                ]
                .concat()
            },
            valid: 1,
        },
        EnumField {
            what: "PsaMacCompute alg full length Hmac hash_alg (Hash)",
            opcode: Opcode::PsaMacCompute,
            result: false,
            body: |v| {
                let hmac = bytes_field(1, &varint_field(1, v));
                [
                    bytes_field(1, b"hmac"),
                    bytes_field(2, &bytes_field(1, &hmac)),
                ]
                .concat()
            },
            valid: 9,
        },
        EnumField {
            what: "PsaGenerateKey attributes EccKeyPair curve_family (EccFamily)",
            opcode: Opcode::PsaGenerateKey,
            result: false,
            body: |v| {
                let key_type = bytes_field(11, &varint_field(1, v));
                [
                    bytes_field(1, b"ec"),
                    bytes_field(2, &attributes(&key_type, &no_algorithm())),
                ]
                .concat()
            },
            valid: 2,
        },
        EnumField {
            what: "CanDoCrypto check_type (CheckType)",
            opcode: Opcode::CanDoCrypto,
            result: false,
            body: |v| {
                [
                    varint_field(1, v),
                    bytes_field(2, &attributes(&aes(), &no_algorithm())),
                ]
                .concat()
            },
            valid: 1,
        },
        EnumField {
            what: "PsaImportKey policy KeyAgreement WithKeyDerivation ka_alg (KeyAgreement.Raw)",
            opcode: Opcode::PsaImportKey,
            result: false,
            body: |v| {
                let hkdf = bytes_field(1, &varint_field(1, 7));
                let with = [varint_field(1, v), bytes_field(2, &hkdf)].concat();
                let algorithm = bytes_field(8, &bytes_field(2, &with));
                let key_type = bytes_field(11, &varint_field(1, 2));
                [
                    bytes_field(1, b"ec"),
                    bytes_field(2, &attributes(&key_type, &algorithm)),
                ]
                .concat()
            },
            valid: 2,
        },
        EnumField {
            what: "ListKeys result key policy Algorithm::Hash (Hash)",
            opcode: Opcode::ListKeys,
            result: true,
            body: |v| {
                let key_info = [
                    varint_field(1, 1),
                    bytes_field(2, b"key"),
                    bytes_field(3, &attributes(&aes(), &varint_field(2, v))),
                ]
                .concat();
                bytes_field(1, &key_info)
            },
            valid: 7,
        },
    ]
}

#[test]
fn zero_none_enum_values_fail_with_invalid_encoding() {
    for field in enum_fields_with_a_none_value() {
        assert_eq!(
            field.decode(field.valid),
            Ok(()),
            "{}: the valid value",
            field.what
        );
        assert_eq!(
            field.decode(0),
            Err(ResponseStatus::InvalidEncoding),
            "{}: none",
            field.what
        );
    }
}

#[test]
fn out_of_range_enum_values_fail_with_invalid_encoding() {
    let mut fields = enum_fields_with_a_none_value();
    // The one DH family is value 0, so only values above it are undefined.
    fields.push(EnumField {
        what: "PsaGenerateKey attributes DhKeyPair group_family (DhFamily)",
        opcode: Opcode::PsaGenerateKey,
        result: false,
        body: |v| {
            let key_type = wire::bytes_field(13, &wire::varint_field(1, v));
            let attributes = wire::attributes(&key_type, &wire::no_algorithm());
            [
                wire::bytes_field(1, b"dh"),
                wire::bytes_field(2, &attributes),
            ]
            .concat()
        },
        valid: 0,
    });
    for field in fields {
        assert_eq!(
            field.decode(field.valid),
            Ok(()),
            "{}: the valid value",
            field.what
        );
        // 99, the largest int32, and -1 (a 10-byte varint).
        for value in [99, u64::from(i32::MAX.unsigned_abs()), u64::MAX] {
            assert_eq!(
                field.decode(value),
                Err(ResponseStatus::InvalidEncoding),
                "{}: value {value}",
                field.what
            );
        }
    }
}

#[test]
fn unknown_provider_and_authenticator_ids_bad_uuids_and_wide_versions_fail_with_invalid_encoding() {
    use wire::{bytes_field, varint_field};
    assert!(decode_operation(Opcode::ListOpcodes, varint_field(1, 5)).is_ok());
    assert_eq!(
        decode_operation(Opcode::ListOpcodes, varint_field(1, 6)),
        Err(ResponseStatus::InvalidEncoding)
    );
    assert_eq!(
        decode_operation(Opcode::ListOpcodes, varint_field(1, 0x101)),
        Err(ResponseStatus::InvalidEncoding),
        "a provider id that only fits in 8 bits once truncated"
    );

    assert!(decode_result(Opcode::Ping, varint_field(1, 255)).is_ok());
    assert_eq!(
        decode_result(Opcode::Ping, varint_field(2, 256)),
        Err(ResponseStatus::InvalidEncoding)
    );

    let provider = |uuid: &[u8], id: u64| {
        bytes_field(1, &[bytes_field(1, uuid), varint_field(7, id)].concat())
    };
    let uuid = ProviderId::Tpm.uuid().to_string();
    assert!(decode_result(Opcode::ListProviders, provider(uuid.as_bytes(), 3)).is_ok());
    assert_eq!(
        decode_result(Opcode::ListProviders, provider(b"not-a-uuid", 3)),
        Err(ResponseStatus::InvalidEncoding)
    );
    assert_eq!(
        decode_result(Opcode::ListProviders, provider(b"", 3)),
        Err(ResponseStatus::InvalidEncoding)
    );
    assert_eq!(
        decode_result(Opcode::ListProviders, provider(uuid.as_bytes(), 6)),
        Err(ResponseStatus::InvalidEncoding)
    );

    let authenticator = |id: u64| bytes_field(1, &varint_field(5, id));
    assert!(decode_result(Opcode::ListAuthenticators, authenticator(4)).is_ok());
    assert_eq!(
        decode_result(Opcode::ListAuthenticators, authenticator(5)),
        Err(ResponseStatus::InvalidEncoding)
    );

    let key = |provider_id: u64| {
        let attributes = wire::attributes(&wire::aes(), &wire::no_algorithm());
        bytes_field(
            1,
            &[varint_field(1, provider_id), bytes_field(3, &attributes)].concat(),
        )
    };
    assert!(decode_result(Opcode::ListKeys, key(2)).is_ok());
    assert_eq!(
        decode_result(Opcode::ListKeys, key(200)),
        Err(ResponseStatus::InvalidEncoding)
    );
}

#[test]
fn unknown_opcodes_in_a_list_opcodes_result_are_left_out() {
    let body = [0x04, 0x1d, 0x21, 0x63, 0x20]
        .into_iter()
        .flat_map(|code| wire::varint_field(1, code))
        .collect();
    assert_eq!(
        decode_result(Opcode::ListOpcodes, body),
        Ok(NativeResult::ListOpcodes(list_opcodes::Result {
            opcodes: BTreeSet::from([Opcode::PsaSignHash, Opcode::CanDoCrypto]),
        }))
    );
}
