//! The fixed cases: every opcode Parsec 1.x knows, valid and invalid, on
//! one backend. Keys whose answers are compared byte for byte are imported
//! from fixed material, so both services hold the same key.

use crate::interface::operations::psa_algorithm::{
    Aead, AeadWithDefaultLengthTag, Algorithm, AsymmetricEncryption, AsymmetricSignature, Cipher,
    FullLengthMac, Hash, KeyAgreement, Mac, RawKeyAgreement,
};
use crate::interface::operations::psa_key_attributes::{
    Attributes, EccFamily, Lifetime, Policy, Type, UsageFlags,
};
use crate::interface::operations::{
    NativeOperation, NativeResult, attest_key, can_do_crypto, delete_client, list_authenticators,
    list_clients, list_keys, list_opcodes, list_providers, ping, prepare_key_attestation,
    psa_aead_decrypt, psa_aead_encrypt, psa_asymmetric_decrypt, psa_asymmetric_encrypt,
    psa_cipher_decrypt, psa_cipher_encrypt, psa_destroy_key, psa_export_key, psa_export_public_key,
    psa_generate_key, psa_generate_random, psa_hash_compare, psa_hash_compute, psa_import_key,
    psa_raw_key_agreement, psa_sign_hash, psa_sign_message, psa_verify_hash, psa_verify_message,
};
use crate::interface::requests::ProviderId;
use crate::outcome::Detail::{self, Exact, Shape};
use crate::pair::Pair;
use crate::service::ADMIN_APP;
use parsec_client::core::secrecy::Secret;

/// The application that owns the keys.
pub const ALICE: &str = "alice";
/// Another application, which must never reach alice's keys.
pub const MALLORY: &str = "mallory";

/// A P-256 private scalar (RFC 6979, A.2.5).
pub const P256_PRIVATE: &str = "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721";
/// Its public point, uncompressed.
pub const P256_PUBLIC: &str = "0460fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb67903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299";
/// Another P-256 public point: the peer of the key agreement.
pub const P256_PEER_PUBLIC: &str = "04ead218590119e8876b29146ff89ca61770c4edbbf97d38ce385ed281d8a6b23028af61281fd35e2fa7002523acc85a429cb06ee6648325389f59edfce1405141";
/// An RSA 2048 key pair, PKCS#1 DER.
pub const RSA_PRIVATE: &[u8] = include_bytes!("../fixtures/rsa2048-private.der");
/// Its public part, PKCS#1 DER.
pub const RSA_PUBLIC: &[u8] = include_bytes!("../fixtures/rsa2048-public.der");
/// An AES-128 key.
pub const AES_128: [u8; 16] = *b"compat-aes-key!!";

/// Bytes from hexadecimal.
pub fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

/// ECDSA over SHA-256.
pub fn ecdsa_sha256() -> AsymmetricSignature {
    AsymmetricSignature::Ecdsa {
        hash_alg: Hash::Sha256.into(),
    }
}

/// RSA PKCS#1 v1.5 signatures over `hash`.
pub fn rsa_pkcs1(hash: Hash) -> AsymmetricSignature {
    AsymmetricSignature::RsaPkcs1v15Sign {
        hash_alg: hash.into(),
    }
}

/// AES-GCM with its full tag.
pub fn gcm() -> Aead {
    Aead::AeadWithDefaultLengthTag(AeadWithDefaultLengthTag::Gcm)
}

/// HMAC over SHA-256.
pub fn hmac_sha256() -> Mac {
    Mac::FullLength(FullLengthMac::Hmac {
        hash_alg: Hash::Sha256,
    })
}

/// Persistent key attributes.
pub fn attributes(
    key_type: Type,
    bits: usize,
    alg: impl Into<Algorithm>,
    usage: impl Fn(&mut UsageFlags),
) -> Attributes {
    let mut usage_flags = UsageFlags::default();
    usage(&mut usage_flags);
    Attributes {
        lifetime: Lifetime::Persistent,
        key_type,
        bits,
        policy: Policy {
            usage_flags,
            permitted_algorithms: alg.into(),
        },
    }
}

/// A NIST P-curve key pair.
pub fn secp_r1_pair() -> Type {
    Type::EccKeyPair {
        curve_family: EccFamily::SecpR1,
    }
}

/// A NIST P-curve public key.
pub fn secp_r1_public() -> Type {
    Type::EccPublicKey {
        curve_family: EccFamily::SecpR1,
    }
}

fn sign_and_verify(usage: &mut UsageFlags) {
    usage.set_sign_hash().set_verify_hash().set_export();
}

fn verify_only(usage: &mut UsageFlags) {
    usage.set_verify_hash();
}

fn crypt(usage: &mut UsageFlags) {
    usage.set_encrypt().set_decrypt();
}

/// The import operation.
pub fn import(name: &str, attributes: Attributes, data: &[u8]) -> NativeOperation {
    NativeOperation::PsaImportKey(psa_import_key::Operation {
        key_name: name.to_string(),
        attributes,
        data: Secret::new(data.to_vec()),
    })
}

/// The generate operation.
pub fn generate(name: &str, attributes: Attributes) -> NativeOperation {
    NativeOperation::PsaGenerateKey(psa_generate_key::Operation {
        key_name: name.to_string(),
        attributes,
    })
}

/// The destroy operation.
pub fn destroy(name: &str) -> NativeOperation {
    NativeOperation::PsaDestroyKey(psa_destroy_key::Operation {
        key_name: name.to_string(),
    })
}

/// The export-public-key operation.
pub fn export_public(name: &str) -> NativeOperation {
    NativeOperation::PsaExportPublicKey(psa_export_public_key::Operation {
        key_name: name.to_string(),
    })
}

/// The sign-hash operation.
pub fn sign_hash(name: &str, alg: AsymmetricSignature, hash: &[u8]) -> NativeOperation {
    NativeOperation::PsaSignHash(psa_sign_hash::Operation {
        key_name: name.to_string(),
        alg,
        hash: hash.to_vec().into(),
    })
}

/// The verify-hash operation.
pub fn verify_hash(
    name: &str,
    alg: AsymmetricSignature,
    hash: &[u8],
    signature: &[u8],
) -> NativeOperation {
    NativeOperation::PsaVerifyHash(psa_verify_hash::Operation {
        key_name: name.to_string(),
        alg,
        hash: hash.to_vec().into(),
        signature: signature.to_vec().into(),
    })
}

/// The signature in a sign result.
fn signature_of(result: &NativeResult) -> Option<Vec<u8>> {
    match result {
        NativeResult::PsaSignHash(r) => Some(r.signature.to_vec()),
        NativeResult::PsaSignMessage(r) => Some(r.signature.to_vec()),
        _ => None,
    }
}

/// `bytes` with its last byte changed.
pub fn corrupted(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    if let Some(last) = out.last_mut() {
        *last ^= 0x5A;
    }
    out
}

/// How exactly the answers of a fixture key used after [`keys`] can be
/// compared: `Exact` where both services imported the same material,
/// `Shape` where Parsec could not import it and both generated the key
/// instead.
struct Fixtures {
    aes_gcm: Detail,
}

/// Runs every fixed case on `pair`.
pub fn run_all(pair: &mut Pair) {
    core(pair);
    let fixtures = keys(pair);
    signatures(pair);
    asymmetric_encryption(pair);
    symmetric(pair, &fixtures);
    hashes_and_random(pair);
    key_agreement(pair);
    can_do_crypto(pair);
    attestation(pair);
    tenants_and_administration(pair);
    cleanup(pair);
}

/// Imports `data` as `name` for `app`, compared. Where Parsec cannot
/// import such a key (its PKCS#11 and TPM providers import public keys
/// only), both services generate it instead, so that the cases after it
/// still exercise a real key on both sides. Returns how exactly answers
/// from the key can be compared.
fn provide_key(
    pair: &mut Pair,
    case: &str,
    app: &str,
    name: &str,
    attributes: Attributes,
    data: &[u8],
) -> Detail {
    let p = pair.backend.provider();
    pair.compare(case, p, Some(app), Exact, || import(name, attributes, data));
    if pair.last().0.is_some() {
        return Exact;
    }
    pair.unchecked(p, Some(app), || destroy(name));
    pair.compare(
        &format!("{case}/generated-instead"),
        p,
        Some(app),
        Exact,
        || generate(name, attributes),
    );
    Shape
}

/// Core operations: discovery and listing.
fn core(pair: &mut Pair) {
    let core = ProviderId::Core;
    let own = pair.backend.provider();
    pair.compare("core/ping", core, None, Exact, || {
        NativeOperation::Ping(ping::Operation {})
    });
    pair.compare("core/list-providers", core, None, Exact, || {
        NativeOperation::ListProviders(list_providers::Operation {})
    });
    pair.compare("core/list-authenticators", core, None, Exact, || {
        NativeOperation::ListAuthenticators(list_authenticators::Operation {})
    });
    for (name, provider) in [
        ("core/list-opcodes/core", core),
        ("core/list-opcodes/own", own),
        ("core/list-opcodes/unregistered", ProviderId::TrustedService),
    ] {
        pair.compare(name, core, None, Exact, || {
            NativeOperation::ListOpcodes(list_opcodes::Operation {
                provider_id: provider,
            })
        });
    }
    pair.compare("core/list-keys/empty", core, Some(ALICE), Exact, || {
        NativeOperation::ListKeys(list_keys::Operation {})
    });
    pair.compare("core/list-keys/unauthenticated", core, None, Exact, || {
        NativeOperation::ListKeys(list_keys::Operation {})
    });
    // A core operation sent to a crypto provider, and the reverse.
    pair.compare("core/ping-to-crypto-provider", own, None, Exact, || {
        NativeOperation::Ping(ping::Operation {})
    });
    pair.compare("core/generate-to-core", core, Some(ALICE), Exact, || {
        generate(
            "k",
            attributes(secp_r1_pair(), 256, ecdsa_sha256(), sign_and_verify),
        )
    });
    pair.compare(
        "core/to-unregistered-provider",
        ProviderId::TrustedService,
        Some(ALICE),
        Exact,
        || {
            generate(
                "k",
                attributes(secp_r1_pair(), 256, ecdsa_sha256(), sign_and_verify),
            )
        },
    );
    pair.compare(
        "core/key-operation-unauthenticated",
        own,
        None,
        Exact,
        || {
            generate(
                "k",
                attributes(secp_r1_pair(), 256, ecdsa_sha256(), sign_and_verify),
            )
        },
    );
}

/// Creating, importing, exporting and destroying keys.
fn keys(pair: &mut Pair) -> Fixtures {
    let p = pair.backend.provider();
    let a = Some(ALICE);
    let ecc = attributes(secp_r1_pair(), 256, ecdsa_sha256(), sign_and_verify);
    let rsa_sign = attributes(
        Type::RsaKeyPair,
        2048,
        rsa_pkcs1(Hash::Sha256),
        sign_and_verify,
    );
    let ecc_detail = provide_key(
        pair,
        "keys/import/ecc-p256",
        ALICE,
        "ecc-sign",
        ecc,
        &unhex(P256_PRIVATE),
    );
    pair.compare("keys/import/ecc-p256-again", p, a, Exact, || {
        import("ecc-sign", ecc, &unhex(P256_PRIVATE))
    });
    let rsa_detail = provide_key(
        pair,
        "keys/import/rsa-2048",
        ALICE,
        "rsa-sign",
        rsa_sign,
        RSA_PRIVATE,
    );
    pair.compare("keys/import/rsa-public", p, a, Exact, || {
        import(
            "rsa-public",
            attributes(
                Type::RsaPublicKey,
                2048,
                rsa_pkcs1(Hash::Sha256),
                verify_only,
            ),
            RSA_PUBLIC,
        )
    });
    pair.compare("keys/import/ecc-public", p, a, Exact, || {
        import(
            "ecc-public",
            attributes(secp_r1_public(), 256, ecdsa_sha256(), verify_only),
            &unhex(P256_PUBLIC),
        )
    });
    let aes_gcm_detail = provide_key(
        pair,
        "keys/import/aes-128-gcm",
        ALICE,
        "aes-gcm",
        attributes(Type::Aes, 128, gcm(), crypt),
        &AES_128,
    );
    provide_key(
        pair,
        "keys/import/aes-128-cbc",
        ALICE,
        "aes-cbc",
        attributes(Type::Aes, 128, Cipher::CbcPkcs7, crypt),
        &AES_128,
    );
    pair.compare("keys/import/garbage-ecc", p, a, Exact, || {
        import("bad-ecc", ecc, &[0x42; 7])
    });
    pair.compare("keys/import/ecc-wrong-bits", p, a, Exact, || {
        import(
            "bad-ecc-bits",
            attributes(secp_r1_pair(), 384, ecdsa_sha256(), sign_and_verify),
            &unhex(P256_PRIVATE),
        )
    });
    pair.compare("keys/import/aes-wrong-length", p, a, Exact, || {
        import(
            "bad-aes",
            attributes(Type::Aes, 128, gcm(), crypt),
            &[7; 15],
        )
    });
    pair.compare("keys/import/empty-name", p, a, Exact, || {
        import("", ecc, &unhex(P256_PRIVATE))
    });
    pair.compare("keys/import/deprecated-sha1", p, a, Exact, || {
        import(
            "sha1-key",
            attributes(
                secp_r1_pair(),
                256,
                AsymmetricSignature::Ecdsa {
                    hash_alg: Hash::Sha1.into(),
                },
                sign_and_verify,
            ),
            &unhex(P256_PRIVATE),
        )
    });

    pair.compare("keys/generate/ecc-p256", p, a, Exact, || {
        generate("ecc-gen", ecc)
    });
    pair.compare("keys/generate/ecc-p256-existing-name", p, a, Exact, || {
        generate("ecc-gen", ecc)
    });
    pair.compare("keys/generate/ecc-p384", p, a, Exact, || {
        generate(
            "ecc-p384",
            attributes(
                secp_r1_pair(),
                384,
                AsymmetricSignature::Ecdsa {
                    hash_alg: Hash::Sha384.into(),
                },
                sign_and_verify,
            ),
        )
    });
    pair.compare("keys/generate/ecc-no-export", p, a, Exact, || {
        generate(
            "ecc-no-export",
            attributes(secp_r1_pair(), 256, ecdsa_sha256(), |u| {
                u.set_sign_hash().set_verify_hash();
            }),
        )
    });
    pair.compare("keys/generate/rsa-2048", p, a, Exact, || {
        generate(
            "rsa-gen",
            attributes(
                Type::RsaKeyPair,
                2048,
                rsa_pkcs1(Hash::Sha256),
                sign_and_verify,
            ),
        )
    });
    pair.compare("keys/generate/rsa-public-key-type", p, a, Exact, || {
        generate(
            "rsa-public-gen",
            attributes(
                Type::RsaPublicKey,
                2048,
                rsa_pkcs1(Hash::Sha256),
                verify_only,
            ),
        )
    });
    pair.compare("keys/generate/ecc-public-key-type", p, a, Exact, || {
        generate(
            "ecc-public-gen",
            attributes(secp_r1_public(), 256, ecdsa_sha256(), verify_only),
        )
    });
    pair.compare("keys/generate/ecc-odd-bits", p, a, Exact, || {
        generate(
            "ecc-odd",
            attributes(secp_r1_pair(), 255, ecdsa_sha256(), sign_and_verify),
        )
    });
    pair.compare("keys/generate/aes-256", p, a, Exact, || {
        generate("aes-gen", attributes(Type::Aes, 256, gcm(), crypt))
    });
    pair.compare("keys/generate/hmac", p, a, Exact, || {
        generate(
            "hmac-gen",
            attributes(Type::Hmac, 256, hmac_sha256(), |u| {
                u.set_sign_message().set_verify_message();
            }),
        )
    });
    pair.compare("keys/generate/raw-data", p, a, Exact, || {
        generate(
            "raw-gen",
            attributes(Type::RawData, 128, Algorithm::None, |u| {
                u.set_export();
            }),
        )
    });

    pair.compare("keys/export-public/imported-ecc", p, a, ecc_detail, || {
        export_public("ecc-sign")
    });
    pair.compare("keys/export-public/imported-rsa", p, a, rsa_detail, || {
        export_public("rsa-sign")
    });
    pair.compare("keys/export-public/rsa-public", p, a, Exact, || {
        export_public("rsa-public")
    });
    pair.compare("keys/export-public/ecc-public", p, a, Exact, || {
        export_public("ecc-public")
    });
    pair.compare("keys/export-public/generated-ecc", p, a, Shape, || {
        export_public("ecc-gen")
    });
    pair.compare("keys/export-public/generated-rsa", p, a, Shape, || {
        export_public("rsa-gen")
    });
    pair.compare("keys/export-public/aes", p, a, Exact, || {
        export_public("aes-gcm")
    });
    pair.compare("keys/export-public/missing", p, a, Exact, || {
        export_public("no-such-key")
    });
    pair.compare(
        "keys/export-public/foreign",
        p,
        Some(MALLORY),
        Exact,
        || export_public("ecc-sign"),
    );
    let export = |name: &str| {
        NativeOperation::PsaExportKey(psa_export_key::Operation {
            key_name: name.to_string(),
        })
    };
    pair.compare("keys/export/imported-ecc", p, a, ecc_detail, || {
        export("ecc-sign")
    });
    pair.compare("keys/export/no-export-usage", p, a, Exact, || {
        export("ecc-no-export")
    });
    pair.compare("keys/export/aes-no-export-usage", p, a, Exact, || {
        export("aes-gcm")
    });
    pair.compare("keys/export/ecc-public", p, a, Exact, || {
        export("ecc-public")
    });
    pair.compare("keys/export/missing", p, a, Exact, || export("no-such-key"));
    pair.compare("keys/destroy/missing", p, a, Exact, || {
        destroy("no-such-key")
    });
    pair.compare("keys/destroy/foreign", p, Some(MALLORY), Exact, || {
        destroy("ecc-sign")
    });
    pair.compare("keys/destroy/own", p, a, Exact, || destroy("ecc-p384"));
    pair.compare("keys/destroy/again", p, a, Exact, || destroy("ecc-p384"));
    pair.compare("keys/list-keys", ProviderId::Core, a, Exact, || {
        NativeOperation::ListKeys(list_keys::Operation {})
    });
    Fixtures {
        aes_gcm: aes_gcm_detail,
    }
}

/// Signing and verification, hash and message. Each service verifies its
/// own signature, so the flows hold whether or not both have the same key.
fn signatures(pair: &mut Pair) {
    let p = pair.backend.provider();
    let a = Some(ALICE);
    let hash = [0x5C_u8; 32];
    for (key, alg, case) in [
        ("ecc-sign", ecdsa_sha256(), "ecdsa"),
        ("rsa-sign", rsa_pkcs1(Hash::Sha256), "rsa-pkcs1"),
    ] {
        pair.compare(&format!("sign/{case}/sign-hash"), p, a, Shape, || {
            sign_hash(key, alg, &hash)
        });
        pair.compare_from_last(&format!("sign/{case}/verify-hash"), p, a, Exact, |signed| {
            Some(verify_hash(key, alg, &hash, &signature_of(signed)?))
        });
        pair.compare_from_last(
            &format!("sign/{case}/verify-hash-corrupted"),
            p,
            a,
            Exact,
            |signed| {
                Some(verify_hash(
                    key,
                    alg,
                    &hash,
                    &corrupted(&signature_of(signed)?),
                ))
            },
        );
        pair.compare_from_last(
            &format!("sign/{case}/verify-hash-other-hash"),
            p,
            a,
            Exact,
            |signed| Some(verify_hash(key, alg, &[0x11; 32], &signature_of(signed)?)),
        );
        pair.compare(&format!("sign/{case}/hash-too-short"), p, a, Exact, || {
            sign_hash(key, alg, &hash[..31])
        });
        pair.compare(&format!("sign/{case}/hash-too-long"), p, a, Exact, || {
            sign_hash(key, alg, &[0x5C; 64])
        });
        pair.compare(&format!("sign/{case}/missing-key"), p, a, Exact, || {
            sign_hash("no-such-key", alg, &hash)
        });
        pair.compare(
            &format!("sign/{case}/foreign-key"),
            p,
            Some(MALLORY),
            Exact,
            || sign_hash(key, alg, &hash),
        );
        let message = b"a message to sign".to_vec();
        pair.compare(&format!("sign/{case}/sign-message"), p, a, Shape, || {
            NativeOperation::PsaSignMessage(psa_sign_message::Operation {
                key_name: key.to_string(),
                alg,
                message: message.clone().into(),
            })
        });
        for (what, spoil) in [("", false), ("-corrupted", true)] {
            pair.compare_from_last(
                &format!("sign/{case}/verify-message{what}"),
                p,
                a,
                Exact,
                |signed| {
                    let signature = signature_of(signed)?;
                    let signature = if spoil {
                        corrupted(&signature)
                    } else {
                        signature
                    };
                    Some(NativeOperation::PsaVerifyMessage(
                        psa_verify_message::Operation {
                            key_name: key.to_string(),
                            alg,
                            message: message.clone().into(),
                            signature: signature.into(),
                        },
                    ))
                },
            );
        }
    }
    // Algorithms the key's policy does not permit.
    pair.compare("sign/rsa-pkcs1/sha384-on-sha256-key", p, a, Exact, || {
        sign_hash("rsa-sign", rsa_pkcs1(Hash::Sha384), &[1; 48])
    });
    pair.compare("sign/ecdsa/sha384-on-sha256-key", p, a, Exact, || {
        sign_hash(
            "ecc-sign",
            AsymmetricSignature::Ecdsa {
                hash_alg: Hash::Sha384.into(),
            },
            &[1; 48],
        )
    });
    pair.compare("sign/ecdsa-alg-on-rsa-key", p, a, Exact, || {
        sign_hash("rsa-sign", ecdsa_sha256(), &hash)
    });
    pair.compare("sign/with-public-key", p, a, Exact, || {
        sign_hash("ecc-public", ecdsa_sha256(), &hash)
    });
    pair.compare("sign/with-aes-key", p, a, Exact, || {
        sign_hash("aes-gcm", ecdsa_sha256(), &hash)
    });
    pair.compare("sign/deprecated-sha1", p, a, Exact, || {
        sign_hash(
            "ecc-sign",
            AsymmetricSignature::Ecdsa {
                hash_alg: Hash::Sha1.into(),
            },
            &[1; 20],
        )
    });
    pair.compare("sign/generated-ecc", p, a, Shape, || {
        sign_hash("ecc-gen", ecdsa_sha256(), &hash)
    });
    pair.compare("sign/generated-rsa", p, a, Shape, || {
        sign_hash("rsa-gen", rsa_pkcs1(Hash::Sha256), &hash)
    });
    // A public key verifies what its private half signed (where both hold
    // the imported pair; where the pair was generated instead, both refuse).
    pair.compare("sign/rsa-for-public-key", p, a, Shape, || {
        sign_hash("rsa-sign", rsa_pkcs1(Hash::Sha256), &hash)
    });
    pair.compare_from_last("sign/rsa-public-key-verifies", p, a, Exact, |signed| {
        Some(verify_hash(
            "rsa-public",
            rsa_pkcs1(Hash::Sha256),
            &hash,
            &signature_of(signed)?,
        ))
    });
    pair.compare("sign/ecdsa-for-public-key", p, a, Shape, || {
        sign_hash("ecc-sign", ecdsa_sha256(), &hash)
    });
    pair.compare_from_last("sign/ecc-public-key-verifies", p, a, Exact, |signed| {
        Some(verify_hash(
            "ecc-public",
            ecdsa_sha256(),
            &hash,
            &signature_of(signed)?,
        ))
    });
    pair.compare("sign/verify-garbage-signature", p, a, Exact, || {
        verify_hash("ecc-public", ecdsa_sha256(), &hash, &[0; 3])
    });
    pair.compare("sign/verify-message-wrong-signature", p, a, Exact, || {
        NativeOperation::PsaVerifyMessage(psa_verify_message::Operation {
            key_name: "ecc-public".to_string(),
            alg: ecdsa_sha256(),
            message: b"a message".to_vec().into(),
            signature: vec![1; 64].into(),
        })
    });
}

/// RSA encryption and decryption.
fn asymmetric_encryption(pair: &mut Pair) {
    let p = pair.backend.provider();
    let a = Some(ALICE);
    let oaep = AsymmetricEncryption::RsaOaep {
        hash_alg: Hash::Sha256,
    };
    for (key, alg, case) in [
        (
            "rsa-pkcs1-crypt",
            AsymmetricEncryption::RsaPkcs1v15Crypt,
            "pkcs1",
        ),
        ("rsa-oaep", oaep, "oaep"),
    ] {
        provide_key(
            pair,
            &format!("crypt/{case}/import"),
            ALICE,
            key,
            attributes(Type::RsaKeyPair, 2048, alg, crypt),
            RSA_PRIVATE,
        );
        let encrypt = |plaintext: Vec<u8>, salt: Option<Vec<u8>>| {
            move || {
                NativeOperation::PsaAsymmetricEncrypt(psa_asymmetric_encrypt::Operation {
                    key_name: key.to_string(),
                    alg,
                    plaintext: plaintext.clone().into(),
                    salt: salt.clone().map(Into::into),
                })
            }
        };
        let decrypt = |ciphertext: Vec<u8>| {
            move || {
                NativeOperation::PsaAsymmetricDecrypt(psa_asymmetric_decrypt::Operation {
                    key_name: key.to_string(),
                    alg,
                    ciphertext: ciphertext.clone().into(),
                    salt: None,
                })
            }
        };
        pair.compare(
            &format!("crypt/{case}/encrypt"),
            p,
            a,
            Shape,
            encrypt(b"a secret".to_vec(), None),
        );
        for (what, spoil) in [("", false), ("-corrupted", true)] {
            pair.compare_from_last(
                &format!("crypt/{case}/decrypt{what}"),
                p,
                a,
                Exact,
                |result| {
                    let NativeResult::PsaAsymmetricEncrypt(r) = result else {
                        return None;
                    };
                    let ciphertext = r.ciphertext.to_vec();
                    Some(decrypt(if spoil {
                        corrupted(&ciphertext)
                    } else {
                        ciphertext
                    })())
                },
            );
        }
        pair.compare(
            &format!("crypt/{case}/decrypt-short"),
            p,
            a,
            Exact,
            decrypt(vec![1; 16]),
        );
        pair.compare(
            &format!("crypt/{case}/encrypt-too-long"),
            p,
            a,
            Exact,
            encrypt(vec![1; 300], None),
        );
        pair.compare(
            &format!("crypt/{case}/encrypt-with-salt"),
            p,
            a,
            Shape,
            encrypt(b"salted".to_vec(), Some(b"label".to_vec())),
        );
    }
    pair.compare("crypt/with-signing-key", p, a, Exact, || {
        NativeOperation::PsaAsymmetricEncrypt(psa_asymmetric_encrypt::Operation {
            key_name: "rsa-sign".to_string(),
            alg: AsymmetricEncryption::RsaPkcs1v15Crypt,
            plaintext: b"x".to_vec().into(),
            salt: None,
        })
    });
    pair.compare("crypt/with-public-key", p, a, Shape, || {
        NativeOperation::PsaAsymmetricEncrypt(psa_asymmetric_encrypt::Operation {
            key_name: "rsa-public".to_string(),
            alg: AsymmetricEncryption::RsaPkcs1v15Crypt,
            plaintext: b"x".to_vec().into(),
            salt: None,
        })
    });
}

/// AEAD and unauthenticated ciphers.
fn symmetric(pair: &mut Pair, fixtures: &Fixtures) {
    let p = pair.backend.provider();
    let a = Some(ALICE);
    let aead_encrypt = |nonce: Vec<u8>, plaintext: Vec<u8>| {
        move || {
            NativeOperation::PsaAeadEncrypt(psa_aead_encrypt::Operation {
                key_name: "aes-gcm".to_string(),
                alg: gcm(),
                nonce: nonce.clone().into(),
                additional_data: b"header".to_vec().into(),
                plaintext: plaintext.clone().into(),
            })
        }
    };
    let aead_decrypt = |nonce: Vec<u8>, ciphertext: Vec<u8>| {
        move || {
            NativeOperation::PsaAeadDecrypt(psa_aead_decrypt::Operation {
                key_name: "aes-gcm".to_string(),
                alg: gcm(),
                nonce: nonce.clone().into(),
                additional_data: b"header".to_vec().into(),
                ciphertext: ciphertext.clone().into(),
            })
        }
    };
    let nonce = vec![9u8; 12];
    pair.compare(
        "aead/gcm/encrypt",
        p,
        a,
        fixtures.aes_gcm,
        aead_encrypt(nonce.clone(), b"sealed text".to_vec()),
    );
    for (what, spoil) in [("", false), ("-tampered", true)] {
        pair.compare_from_last(&format!("aead/gcm/decrypt{what}"), p, a, Exact, |result| {
            let NativeResult::PsaAeadEncrypt(r) = result else {
                return None;
            };
            let ciphertext = r.ciphertext.to_vec();
            Some(aead_decrypt(
                nonce.clone(),
                if spoil {
                    corrupted(&ciphertext)
                } else {
                    ciphertext
                },
            )())
        });
    }
    pair.compare(
        "aead/gcm/encrypt-empty-nonce",
        p,
        a,
        Exact,
        aead_encrypt(vec![], b"x".to_vec()),
    );
    pair.compare(
        "aead/gcm/decrypt-too-short",
        p,
        a,
        Exact,
        aead_decrypt(nonce.clone(), vec![1; 5]),
    );
    pair.compare("aead/ccm-on-gcm-key", p, a, Exact, || {
        NativeOperation::PsaAeadEncrypt(psa_aead_encrypt::Operation {
            key_name: "aes-gcm".to_string(),
            alg: Aead::AeadWithDefaultLengthTag(AeadWithDefaultLengthTag::Ccm),
            nonce: vec![1; 12].into(),
            additional_data: vec![].into(),
            plaintext: b"x".to_vec().into(),
        })
    });

    let cipher_encrypt = |plaintext: Vec<u8>| {
        move || {
            NativeOperation::PsaCipherEncrypt(psa_cipher_encrypt::Operation {
                key_name: "aes-cbc".to_string(),
                alg: Cipher::CbcPkcs7,
                plaintext: plaintext.clone().into(),
            })
        }
    };
    let cipher_decrypt = |ciphertext: Vec<u8>| {
        move || {
            NativeOperation::PsaCipherDecrypt(psa_cipher_decrypt::Operation {
                key_name: "aes-cbc".to_string(),
                alg: Cipher::CbcPkcs7,
                ciphertext: ciphertext.clone().into(),
            })
        }
    };
    pair.compare(
        "cipher/cbc/encrypt",
        p,
        a,
        Shape,
        cipher_encrypt(b"block of text".to_vec()),
    );
    pair.compare_from_last("cipher/cbc/decrypt", p, a, Exact, |result| {
        let NativeResult::PsaCipherEncrypt(r) = result else {
            return None;
        };
        Some(cipher_decrypt(r.ciphertext.to_vec())())
    });
    pair.compare(
        "cipher/cbc/decrypt-not-a-block",
        p,
        a,
        Exact,
        cipher_decrypt(vec![3; 21]),
    );
    pair.compare(
        "cipher/cbc/decrypt-iv-only",
        p,
        a,
        Exact,
        cipher_decrypt(vec![3; 16]),
    );
    pair.compare("cipher/ctr-on-cbc-key", p, a, Exact, || {
        NativeOperation::PsaCipherEncrypt(psa_cipher_encrypt::Operation {
            key_name: "aes-cbc".to_string(),
            alg: Cipher::Ctr,
            plaintext: b"x".to_vec().into(),
        })
    });
}

/// Hashes and random bytes: no key, no authentication needed.
fn hashes_and_random(pair: &mut Pair) {
    let p = pair.backend.provider();
    let input = b"the quick brown fox".to_vec();
    for (name, alg) in [
        ("sha256", Hash::Sha256),
        ("sha384", Hash::Sha384),
        ("sha512", Hash::Sha512),
        ("sha1", Hash::Sha1),
        ("md5", Hash::Md5),
        ("ripemd160", Hash::Ripemd160),
    ] {
        let input = input.clone();
        pair.compare(&format!("hash/{name}/compute"), p, None, Exact, || {
            NativeOperation::PsaHashCompute(psa_hash_compute::Operation {
                alg,
                input: input.clone().into(),
            })
        });
        for (what, spoil) in [("", false), ("-mismatch", true)] {
            pair.compare_from_last(
                &format!("hash/{name}/compare{what}"),
                p,
                None,
                Exact,
                |result| {
                    let NativeResult::PsaHashCompute(r) = result else {
                        return None;
                    };
                    let hash = r.hash.to_vec();
                    Some(NativeOperation::PsaHashCompare(
                        psa_hash_compare::Operation {
                            alg,
                            input: input.clone().into(),
                            hash: if spoil { corrupted(&hash) } else { hash }.into(),
                        },
                    ))
                },
            );
        }
    }
    pair.compare("hash/compare-wrong-length", p, None, Exact, || {
        NativeOperation::PsaHashCompare(psa_hash_compare::Operation {
            alg: Hash::Sha256,
            input: b"x".to_vec().into(),
            hash: vec![0; 5].into(),
        })
    });
    for size in [0usize, 1, 32, 1024] {
        pair.compare(&format!("random/{size}-bytes"), p, None, Shape, || {
            NativeOperation::PsaGenerateRandom(psa_generate_random::Operation { size })
        });
    }
    pair.compare("random/over-the-buffer-limit", p, None, Exact, || {
        NativeOperation::PsaGenerateRandom(psa_generate_random::Operation { size: 4 << 20 })
    });
}

/// ECDH with a fixed key and peer: the shared secret is the same on both.
fn key_agreement(pair: &mut Pair) {
    let p = pair.backend.provider();
    let a = Some(ALICE);
    let ecdh = KeyAgreement::Raw(RawKeyAgreement::Ecdh);
    let detail = provide_key(
        pair,
        "ecdh/import",
        ALICE,
        "ecdh",
        attributes(secp_r1_pair(), 256, ecdh, |u| {
            u.set_derive();
        }),
        &unhex(P256_PRIVATE),
    );
    let agree = |key: &'static str, peer: Vec<u8>| {
        move || {
            NativeOperation::PsaRawKeyAgreement(psa_raw_key_agreement::Operation {
                alg: RawKeyAgreement::Ecdh,
                private_key_name: key.to_string(),
                peer_key: peer.clone().into(),
            })
        }
    };
    pair.compare(
        "ecdh/agree",
        p,
        a,
        detail,
        agree("ecdh", unhex(P256_PEER_PUBLIC)),
    );
    pair.compare(
        "ecdh/bad-peer-point",
        p,
        a,
        Exact,
        agree("ecdh", vec![4; 65]),
    );
    pair.compare(
        "ecdh/peer-too-short",
        p,
        a,
        Exact,
        agree("ecdh", vec![4; 10]),
    );
    pair.compare(
        "ecdh/key-without-derive",
        p,
        a,
        Exact,
        agree("ecc-sign", unhex(P256_PEER_PUBLIC)),
    );
    pair.compare(
        "ecdh/missing-key",
        p,
        a,
        Exact,
        agree("no-such-key", unhex(P256_PEER_PUBLIC)),
    );
}

/// CanDoCrypto over a table of attributes and check types.
fn can_do_crypto(pair: &mut Pair) {
    use can_do_crypto::CheckType;
    let p = pair.backend.provider();
    let all_usage = |u: &mut UsageFlags| {
        u.set_sign_hash()
            .set_verify_hash()
            .set_encrypt()
            .set_decrypt()
            .set_export();
    };
    let table: Vec<(&str, Attributes)> = vec![
        (
            "ecc-p256-ecdsa-sha256",
            attributes(secp_r1_pair(), 256, ecdsa_sha256(), all_usage),
        ),
        (
            "ecc-p256-public",
            attributes(secp_r1_public(), 256, ecdsa_sha256(), verify_only),
        ),
        (
            "ecc-p384-ecdsa-sha384",
            attributes(
                secp_r1_pair(),
                384,
                AsymmetricSignature::Ecdsa {
                    hash_alg: Hash::Sha384.into(),
                },
                all_usage,
            ),
        ),
        (
            "ecc-p256-ecdsa-sha512",
            attributes(
                secp_r1_pair(),
                256,
                AsymmetricSignature::Ecdsa {
                    hash_alg: Hash::Sha512.into(),
                },
                all_usage,
            ),
        ),
        (
            "ecc-p256-any-hash",
            attributes(
                secp_r1_pair(),
                256,
                AsymmetricSignature::Ecdsa {
                    hash_alg: crate::interface::operations::psa_algorithm::SignHash::Any,
                },
                all_usage,
            ),
        ),
        (
            "ecc-255-bits",
            attributes(secp_r1_pair(), 255, ecdsa_sha256(), all_usage),
        ),
        (
            "ecc-0-bits",
            attributes(secp_r1_pair(), 0, ecdsa_sha256(), all_usage),
        ),
        (
            "rsa-2048-pkcs1-sha256",
            attributes(Type::RsaKeyPair, 2048, rsa_pkcs1(Hash::Sha256), all_usage),
        ),
        (
            "rsa-1024-pkcs1-sha256",
            attributes(Type::RsaKeyPair, 1024, rsa_pkcs1(Hash::Sha256), all_usage),
        ),
        (
            "rsa-2048-pkcs1-sha1",
            attributes(Type::RsaKeyPair, 2048, rsa_pkcs1(Hash::Sha1), all_usage),
        ),
        (
            "rsa-2048-pss",
            attributes(
                Type::RsaKeyPair,
                2048,
                AsymmetricSignature::RsaPss {
                    hash_alg: Hash::Sha256.into(),
                },
                all_usage,
            ),
        ),
        (
            "rsa-2048-oaep",
            attributes(
                Type::RsaKeyPair,
                2048,
                AsymmetricEncryption::RsaOaep {
                    hash_alg: Hash::Sha256,
                },
                all_usage,
            ),
        ),
        (
            "rsa-2048-public",
            attributes(
                Type::RsaPublicKey,
                2048,
                rsa_pkcs1(Hash::Sha256),
                verify_only,
            ),
        ),
        (
            "rsa-2048-no-usage",
            attributes(Type::RsaKeyPair, 2048, rsa_pkcs1(Hash::Sha256), |_| {}),
        ),
        (
            "rsa-2048-no-alg",
            attributes(Type::RsaKeyPair, 2048, Algorithm::None, all_usage),
        ),
        ("aes-128-gcm", attributes(Type::Aes, 128, gcm(), crypt)),
        (
            "aes-128-cbc",
            attributes(Type::Aes, 128, Cipher::CbcPkcs7, crypt),
        ),
        (
            "hmac-sha256",
            attributes(Type::Hmac, 256, hmac_sha256(), |u| {
                u.set_sign_message().set_verify_message();
            }),
        ),
        (
            "raw-data",
            attributes(Type::RawData, 256, Algorithm::None, |u| {
                u.set_export();
            }),
        ),
        (
            "hash-alg-on-ecc",
            attributes(secp_r1_pair(), 256, Hash::Sha256, all_usage),
        ),
    ];
    for (name, attrs) in table {
        for (check, check_name) in [
            (CheckType::Use, "use"),
            (CheckType::Generate, "generate"),
            (CheckType::Import, "import"),
            (CheckType::Derive, "derive"),
        ] {
            pair.compare(
                &format!("can-do-crypto/{name}/{check_name}"),
                p,
                Some(ALICE),
                Exact,
                || {
                    NativeOperation::CanDoCrypto(can_do_crypto::Operation {
                        check_type: check,
                        attributes: attrs,
                    })
                },
            );
        }
    }
}

/// Key attestation: the parameters, and refusals.
fn attestation(pair: &mut Pair) {
    let p = pair.backend.provider();
    let a = Some(ALICE);
    let prepare = |key: &'static str| {
        move || {
            NativeOperation::PrepareKeyAttestation(
                prepare_key_attestation::Operation::ActivateCredential {
                    attested_key_name: key.to_string(),
                    attesting_key_name: None,
                },
            )
        }
    };
    pair.compare(
        "attestation/prepare/rsa-gen",
        p,
        a,
        Exact,
        prepare("rsa-gen"),
    );
    // Verifiers written for Parsec read the attesting key as a DER
    // RSAPublicKey: Parsec's must read so (else this harness is wrong), and
    // so must psecd's.
    let (parsec, psec) = pair.last();
    for (who, result) in [("Parsec", parsec), ("psecd", psec)] {
        if let Some(NativeResult::PrepareKeyAttestation(
            prepare_key_attestation::Result::ActivateCredential {
                attesting_key_pub, ..
            },
        )) = result
        {
            assert!(
                is_rsa_public_key_der(attesting_key_pub),
                "{who}'s attesting key is not a DER RSAPublicKey"
            );
        }
    }
    pair.compare(
        "attestation/prepare/missing-key",
        p,
        a,
        Exact,
        prepare("no-such-key"),
    );
    pair.compare(
        "attestation/prepare/ecc-key",
        p,
        a,
        Exact,
        prepare("ecc-gen"),
    );
    pair.compare("attestation/attest/garbage-credential", p, a, Exact, || {
        NativeOperation::AttestKey(attest_key::Operation::ActivateCredential {
            attested_key_name: "rsa-gen".to_string(),
            credential_blob: vec![1; 40].into(),
            secret: vec![2; 256].into(),
            attesting_key_name: None,
        })
    });
    pair.compare("attestation/attest/missing-key", p, a, Exact, || {
        NativeOperation::AttestKey(attest_key::Operation::ActivateCredential {
            attested_key_name: "no-such-key".to_string(),
            credential_blob: vec![1; 40].into(),
            secret: vec![2; 256].into(),
            attesting_key_name: None,
        })
    });
}

/// Whether `der` is a PKCS#1 RSAPublicKey: a SEQUENCE of two INTEGERs and
/// nothing else. Verifiers written for Parsec read the attesting key so.
pub fn is_rsa_public_key_der(der: &[u8]) -> bool {
    fn element(bytes: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let (&tag, rest) = bytes.split_first()?;
        let (&first, rest) = rest.split_first()?;
        let (len, rest) = if first < 0x80 {
            (usize::from(first), rest)
        } else {
            let count = usize::from(first & 0x7F);
            if count == 0 || count > 2 || rest.len() < count {
                return None;
            }
            let len = rest[..count]
                .iter()
                .fold(0usize, |n, b| n << 8 | usize::from(*b));
            (len, &rest[count..])
        };
        (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
    }
    let Some((0x30, body, [])) = element(der) else {
        return false;
    };
    let Some((0x02, _modulus, rest)) = element(body) else {
        return false;
    };
    matches!(element(rest), Some((0x02, _, [])))
}

/// Keys of two tenants, and the administrator's view of them.
fn tenants_and_administration(pair: &mut Pair) {
    let p = pair.backend.provider();
    let core = ProviderId::Core;
    provide_key(
        pair,
        "tenants/same-name-other-app",
        MALLORY,
        "ecc-sign",
        attributes(secp_r1_pair(), 256, ecdsa_sha256(), sign_and_verify),
        &unhex(P256_PRIVATE),
    );
    pair.compare(
        "tenants/list-keys-mallory",
        core,
        Some(MALLORY),
        Exact,
        || NativeOperation::ListKeys(list_keys::Operation {}),
    );
    let list_clients = || NativeOperation::ListClients(list_clients::Operation {});
    pair.compare(
        "admin/list-clients-not-admin",
        core,
        Some(ALICE),
        Exact,
        list_clients,
    );
    pair.compare(
        "admin/list-clients",
        core,
        Some(ADMIN_APP),
        Exact,
        list_clients,
    );
    let delete = |client: &'static str| {
        move || {
            NativeOperation::DeleteClient(delete_client::Operation {
                client: client.to_string(),
            })
        }
    };
    pair.compare(
        "admin/delete-client-not-admin",
        core,
        Some(ALICE),
        Exact,
        delete(MALLORY),
    );
    pair.compare(
        "admin/delete-client",
        core,
        Some(ADMIN_APP),
        Exact,
        delete(MALLORY),
    );
    pair.compare(
        "admin/delete-client-unknown",
        core,
        Some(ADMIN_APP),
        Exact,
        delete("nobody"),
    );
    pair.compare(
        "admin/list-clients-after-delete",
        core,
        Some(ADMIN_APP),
        Exact,
        list_clients,
    );
    pair.compare(
        "tenants/list-keys-mallory-after-delete",
        core,
        Some(MALLORY),
        Exact,
        || NativeOperation::ListKeys(list_keys::Operation {}),
    );
    pair.compare("tenants/alice-key-survives", p, Some(ALICE), Shape, || {
        export_public("ecc-sign")
    });
}

/// Destroys what the cases made; the store ends empty on both.
fn cleanup(pair: &mut Pair) {
    let p = pair.backend.provider();
    for key in [
        "ecc-sign",
        "rsa-sign",
        "rsa-public",
        "ecc-public",
        "aes-gcm",
        "aes-cbc",
        "ecc-gen",
        "ecc-no-export",
        "rsa-gen",
        "aes-gen",
        "hmac-gen",
        "raw-gen",
        "rsa-pkcs1-crypt",
        "rsa-oaep",
        "ecdh",
        "",
        "sha1-key",
        "ecc-p384",
    ] {
        pair.compare(
            &format!("cleanup/destroy/{key}"),
            p,
            Some(ALICE),
            Exact,
            || destroy(key),
        );
    }
    pair.compare(
        "cleanup/list-keys",
        ProviderId::Core,
        Some(ALICE),
        Exact,
        || NativeOperation::ListKeys(list_keys::Operation {}),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rsa_fixture_public_key_reads_as_rsa_public_key_der() {
        assert!(is_rsa_public_key_der(RSA_PUBLIC));
        assert!(!is_rsa_public_key_der(RSA_PRIVATE));
        assert!(!is_rsa_public_key_der(&RSA_PUBLIC[..RSA_PUBLIC.len() - 1]));
        assert!(!is_rsa_public_key_der(&unhex(P256_PUBLIC)));
    }
}
