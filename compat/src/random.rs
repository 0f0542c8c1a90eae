//! Generated requests: a key of a random kind, policy and origin, one
//! random operation on it, then its destruction, sent to both services.
//!
//! Seeded (`PSEC_COMPAT_SEED`, a number; fixed by default so that a run
//! can be repeated) and bounded (`PSEC_COMPAT_CASES` cases per backend).
//! The first case whose answers differ without a listed reason is shrunk
//! by proptest to a minimal one, which the failure shows.

use crate::cases::{
    AES_128, ALICE, P256_PEER_PUBLIC, P256_PRIVATE, RSA_PRIVATE, RSA_PUBLIC, attributes, corrupted,
    destroy, export_public, gcm, generate, hmac_sha256, import, rsa_pkcs1, secp_r1_pair,
    secp_r1_public, sign_hash, unhex, verify_hash,
};
use crate::interface::operations::can_do_crypto::{self, CheckType};
use crate::interface::operations::psa_algorithm::{
    Aead, AeadWithDefaultLengthTag, Algorithm, AsymmetricEncryption, AsymmetricSignature, Cipher,
    Hash, KeyAgreement, RawKeyAgreement,
};
use crate::interface::operations::psa_key_attributes::{Attributes, Type, UsageFlags};
use crate::interface::operations::{
    NativeOperation, psa_aead_decrypt, psa_aead_encrypt, psa_asymmetric_decrypt,
    psa_asymmetric_encrypt, psa_cipher_decrypt, psa_cipher_encrypt, psa_export_key,
    psa_raw_key_agreement, psa_sign_message,
};
use crate::outcome::Detail;
use crate::pair::Pair;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use std::cell::{Cell, RefCell};

/// The kinds of key a case makes.
const KINDS: [&str; 7] = [
    "ecc-p256",
    "ecc-p384",
    "ecc-p256-public",
    "rsa-2048",
    "rsa-2048-public",
    "aes-128",
    "hmac-256",
];

/// The algorithms a key's policy may name, whatever its kind: a policy
/// that does not fit the key is a case too.
fn algorithm(index: usize) -> Algorithm {
    let menu: [Algorithm; 10] = [
        AsymmetricSignature::Ecdsa {
            hash_alg: Hash::Sha256.into(),
        }
        .into(),
        AsymmetricSignature::Ecdsa {
            hash_alg: Hash::Sha384.into(),
        }
        .into(),
        rsa_pkcs1(Hash::Sha256).into(),
        AsymmetricSignature::RsaPss {
            hash_alg: Hash::Sha256.into(),
        }
        .into(),
        AsymmetricEncryption::RsaPkcs1v15Crypt.into(),
        AsymmetricEncryption::RsaOaep {
            hash_alg: Hash::Sha256,
        }
        .into(),
        gcm().into(),
        Cipher::CbcPkcs7.into(),
        hmac_sha256().into(),
        KeyAgreement::Raw(RawKeyAgreement::Ecdh).into(),
    ];
    menu[index % menu.len()]
}

/// The operations a case tries.
const OPERATIONS: [&str; 12] = [
    "sign-hash",
    "verify-hash",
    "sign-message",
    "encrypt",
    "decrypt",
    "aead-encrypt",
    "aead-decrypt",
    "cipher-encrypt",
    "cipher-decrypt",
    "export-public",
    "export",
    "agree",
];

/// One generated case, as small numbers so that proptest shrinks it well.
#[derive(Clone, Debug)]
pub struct RandomCase {
    kind: usize,
    imported: bool,
    algorithm: usize,
    usage: u8,
    operation: usize,
    operation_algorithm: usize,
    input_len: usize,
    can_do: usize,
}

fn strategy() -> impl Strategy<Value = RandomCase> {
    (
        0..KINDS.len(),
        any::<bool>(),
        0..10usize,
        any::<u8>(),
        0..OPERATIONS.len() + 1,
        0..10usize,
        prop_oneof![Just(32usize), 0..300usize],
        0..4usize,
    )
        .prop_map(
            |(
                kind,
                imported,
                algorithm,
                usage,
                operation,
                operation_algorithm,
                input_len,
                can_do,
            )| RandomCase {
                kind,
                imported,
                algorithm,
                usage,
                operation,
                operation_algorithm,
                input_len,
                can_do,
            },
        )
}

impl RandomCase {
    fn kind_name(&self) -> &'static str {
        KINDS[self.kind]
    }

    fn operation_name(&self) -> &'static str {
        OPERATIONS
            .get(self.operation)
            .copied()
            .unwrap_or("can-do-crypto")
    }

    fn attributes(&self) -> Attributes {
        let (key_type, bits) = match self.kind_name() {
            "ecc-p256" => (secp_r1_pair(), 256),
            "ecc-p384" => (secp_r1_pair(), 384),
            "ecc-p256-public" => (secp_r1_public(), 256),
            "rsa-2048" => (Type::RsaKeyPair, 2048),
            "rsa-2048-public" => (Type::RsaPublicKey, 2048),
            "aes-128" => (Type::Aes, 128),
            _ => (Type::Hmac, 256),
        };
        let usage = self.usage;
        attributes(
            key_type,
            bits,
            algorithm(self.algorithm),
            move |u: &mut UsageFlags| {
                let setters: [fn(&mut UsageFlags) -> &mut UsageFlags; 8] = [
                    UsageFlags::set_sign_hash,
                    UsageFlags::set_verify_hash,
                    UsageFlags::set_sign_message,
                    UsageFlags::set_verify_message,
                    UsageFlags::set_encrypt,
                    UsageFlags::set_decrypt,
                    UsageFlags::set_export,
                    UsageFlags::set_derive,
                ];
                for (bit, set) in setters.iter().enumerate() {
                    if usage & (1 << bit) != 0 {
                        set(u);
                    }
                }
            },
        )
    }

    /// The key material of an imported key: the fixtures, except for a
    /// P-384 key, whose material is the P-256 scalar padded (the service
    /// decides whether it is a valid scalar).
    fn material(&self) -> Vec<u8> {
        match self.kind_name() {
            "ecc-p256" => unhex(P256_PRIVATE),
            "ecc-p384" => [unhex(P256_PRIVATE), vec![1; 16]].concat(),
            "ecc-p256-public" => unhex(crate::cases::P256_PUBLIC),
            "rsa-2048" => RSA_PRIVATE.to_vec(),
            "rsa-2048-public" => RSA_PUBLIC.to_vec(),
            "aes-128" => AES_128.to_vec(),
            _ => vec![0x6B; 32],
        }
    }

    fn create(&self, name: &str) -> NativeOperation {
        // Key pairs of RSA are only imported: generating 2048-bit keys on
        // every case would make the run slow, and generation is covered by
        // the fixed cases.
        let imported =
            self.imported || self.kind_name().contains("public") || self.kind_name() == "rsa-2048";
        if imported {
            import(name, self.attributes(), &self.material())
        } else {
            generate(name, self.attributes())
        }
    }

    fn operation(&self, name: &str) -> NativeOperation {
        let input = vec![0xA5u8; self.input_len];
        let key_name = name.to_string();
        let signature_alg = match algorithm(self.operation_algorithm) {
            Algorithm::AsymmetricSignature(alg) => alg,
            _ => AsymmetricSignature::Ecdsa {
                hash_alg: Hash::Sha256.into(),
            },
        };
        let encryption_alg = match algorithm(self.operation_algorithm) {
            Algorithm::AsymmetricEncryption(alg) => alg,
            _ => AsymmetricEncryption::RsaPkcs1v15Crypt,
        };
        let aead_alg = match algorithm(self.operation_algorithm) {
            Algorithm::Aead(alg) => alg,
            _ => Aead::AeadWithDefaultLengthTag(AeadWithDefaultLengthTag::Ccm),
        };
        match self.operation_name() {
            "sign-hash" => sign_hash(name, signature_alg, &input),
            "verify-hash" => verify_hash(name, signature_alg, &input, &corrupted(&input)),
            "sign-message" => NativeOperation::PsaSignMessage(psa_sign_message::Operation {
                key_name,
                alg: signature_alg,
                message: input.into(),
            }),
            "encrypt" => NativeOperation::PsaAsymmetricEncrypt(psa_asymmetric_encrypt::Operation {
                key_name,
                alg: encryption_alg,
                plaintext: input.into(),
                salt: None,
            }),
            "decrypt" => NativeOperation::PsaAsymmetricDecrypt(psa_asymmetric_decrypt::Operation {
                key_name,
                alg: encryption_alg,
                ciphertext: input.into(),
                salt: None,
            }),
            "aead-encrypt" => NativeOperation::PsaAeadEncrypt(psa_aead_encrypt::Operation {
                key_name,
                alg: aead_alg,
                nonce: vec![3; 12].into(),
                additional_data: vec![].into(),
                plaintext: input.into(),
            }),
            "aead-decrypt" => NativeOperation::PsaAeadDecrypt(psa_aead_decrypt::Operation {
                key_name,
                alg: aead_alg,
                nonce: vec![3; 12].into(),
                additional_data: vec![].into(),
                ciphertext: input.into(),
            }),
            "cipher-encrypt" => NativeOperation::PsaCipherEncrypt(psa_cipher_encrypt::Operation {
                key_name,
                alg: Cipher::CbcPkcs7,
                plaintext: input.into(),
            }),
            "cipher-decrypt" => NativeOperation::PsaCipherDecrypt(psa_cipher_decrypt::Operation {
                key_name,
                alg: Cipher::CbcPkcs7,
                ciphertext: input.into(),
            }),
            "export-public" => export_public(name),
            "export" => NativeOperation::PsaExportKey(psa_export_key::Operation { key_name }),
            "agree" => NativeOperation::PsaRawKeyAgreement(psa_raw_key_agreement::Operation {
                alg: RawKeyAgreement::Ecdh,
                private_key_name: key_name,
                peer_key: if self.input_len == 32 {
                    unhex(P256_PEER_PUBLIC).into()
                } else {
                    input.into()
                },
            }),
            _ => NativeOperation::CanDoCrypto(can_do_crypto::Operation {
                check_type: [
                    CheckType::Use,
                    CheckType::Generate,
                    CheckType::Import,
                    CheckType::Derive,
                ][self.can_do],
                attributes: self.attributes(),
            }),
        }
    }
}

/// The seed: `PSEC_COMPAT_SEED` or a fixed default.
fn seed() -> u64 {
    std::env::var("PSEC_COMPAT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5053_4543)
}

/// How many cases: `PSEC_COMPAT_CASES` or `default`.
fn case_count(default: u32) -> u32 {
    std::env::var("PSEC_COMPAT_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Runs the generated cases on `pair`; panics with the minimal case if an
/// unlisted difference is found. Returns how many cases ran.
pub fn run(pair: &mut Pair, default_cases: u32) -> u32 {
    let seed = seed();
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config {
        cases: case_count(default_cases),
        failure_persistence: None,
        max_shrink_iters: 200,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes));
    let backend = pair.backend;
    let provider = backend.provider();
    let before_random = pair.unlisted.len();
    let shared = RefCell::new(pair);
    let counter = Cell::new(0u32);
    let ran = Cell::new(0u32);
    let result = runner.run(&strategy(), |case| {
        let mut pair = shared.borrow_mut();
        ran.set(ran.get() + 1);
        counter.set(counter.get() + 1);
        let name = format!("random-{}", counter.get());
        let kind = case.kind_name();
        let before = pair.unlisted.len();
        let differs = |pair: &Pair| pair.unlisted.len() != before;
        let fail = || {
            Err(TestCaseError::fail(format!(
                "the services answered differently (seed {seed})"
            )))
        };
        pair.compare(
            &format!("random/create/{kind}"),
            provider,
            Some(ALICE),
            Detail::Exact,
            || case.create(&name),
        );
        let (parsec_made, psec_made) = {
            let (parsec, psec) = pair.last();
            (parsec.is_some(), psec.is_some())
        };
        if parsec_made != psec_made {
            // One side made the key and the other refused (a listed
            // difference, or a failure already recorded): the operation
            // would only compare a key with no key. Tidy up and stop.
            pair.unchecked(provider, Some(ALICE), || destroy(&name));
            return if differs(&pair) { fail() } else { Ok(()) };
        }
        let detail = match case.operation_name() {
            // Outputs that differ between runs even for the same key.
            "sign-hash" | "sign-message" | "encrypt" | "cipher-encrypt" => Detail::Shape,
            _ if case.imported => Detail::Exact,
            _ => Detail::Shape,
        };
        pair.compare(
            &format!("random/{}/{kind}", case.operation_name()),
            provider,
            Some(ALICE),
            detail,
            || case.operation(&name),
        );
        pair.compare(
            &format!("random/destroy/{kind}"),
            provider,
            Some(ALICE),
            Detail::Exact,
            || destroy(&name),
        );
        if differs(&pair) { fail() } else { Ok(()) }
    });
    match result {
        Ok(()) => ran.get(),
        Err(TestError::Fail(why, minimal)) => {
            let pair = shared.borrow();
            let mut seen: Vec<&String> = pair.unlisted[before_random..].iter().collect();
            seen.sort();
            seen.dedup();
            let seen: Vec<&str> = seen.iter().map(|line| line.as_str()).collect();
            panic!(
                "{}: {why}; minimal case: {minimal:?}; the differences seen while generating and shrinking:\n{}",
                backend.name(),
                seen.join("\n")
            )
        }
        Err(TestError::Abort(why)) => {
            panic!("{}: the generated run stopped: {why}", backend.name())
        }
    }
}
