//! Key types, algorithms and policies as JSON a script can read, and as
//! short text for tables and messages.
//!
//! The JSON shape is psec's own, documented in the README ("JSON output"),
//! and does not follow the Rust names of the PSA types: every key type and
//! every algorithm is an object with a `kind` (a lower-case, hyphenated name)
//! and named fields; algorithms also have a `category`; hashes are strings
//! such as `"sha256"`; a field that does not apply to this value of the kind
//! is `null`, never missing.

use psec_client::psa_crypto::types::algorithm::{
    Aead, AeadWithDefaultLengthTag, Algorithm, AsymmetricEncryption, AsymmetricSignature, Cipher,
    FullLengthMac, Hash, KeyAgreement, KeyDerivation, Mac, RawKeyAgreement, SignHash,
};
use psec_client::psa_crypto::types::key::{
    Attributes, DhFamily, EccFamily, Lifetime, Policy, Type, UsageFlags,
};
use serde_json::{Map, Value, json};

/// A hash's name: `sha256`, `sha3-256`, `sha512-224`, as `psec hash --alg`
/// spells the ones it takes.
#[allow(
    deprecated,
    reason = "a key made with a deprecated hash is still shown"
)]
pub(crate) fn hash_name(hash: Hash) -> &'static str {
    match hash {
        Hash::Md2 => "md2",
        Hash::Md4 => "md4",
        Hash::Md5 => "md5",
        Hash::Ripemd160 => "ripemd160",
        Hash::Sha1 => "sha1",
        Hash::Sha224 => "sha224",
        Hash::Sha256 => "sha256",
        Hash::Sha384 => "sha384",
        Hash::Sha512 => "sha512",
        Hash::Sha512_224 => "sha512-224",
        Hash::Sha512_256 => "sha512-256",
        Hash::Sha3_224 => "sha3-224",
        Hash::Sha3_256 => "sha3-256",
        Hash::Sha3_384 => "sha3-384",
        Hash::Sha3_512 => "sha3-512",
    }
}

/// A signature's hash: a hash name, or `any` for a wildcard policy.
fn sign_hash_name(hash: SignHash) -> &'static str {
    match hash {
        SignHash::Specific(hash) => hash_name(hash),
        SignHash::Any => "any",
    }
}

#[allow(deprecated, reason = "a key on a deprecated curve is still shown")]
fn ecc_family_name(family: EccFamily) -> &'static str {
    match family {
        EccFamily::SecpK1 => "secp-k1",
        EccFamily::SecpR1 => "secp-r1",
        EccFamily::SecpR2 => "secp-r2",
        EccFamily::SectK1 => "sect-k1",
        EccFamily::SectR1 => "sect-r1",
        EccFamily::SectR2 => "sect-r2",
        EccFamily::BrainpoolPR1 => "brainpool-p-r1",
        EccFamily::Frp => "frp",
        EccFamily::Montgomery => "montgomery",
    }
}

fn dh_family_name(family: DhFamily) -> &'static str {
    match family {
        DhFamily::Rfc7919 => "rfc7919",
    }
}

/// A key type's `kind`.
pub(crate) fn type_kind(key_type: Type) -> &'static str {
    match key_type {
        Type::RawData => "raw-data",
        Type::Hmac => "hmac",
        Type::Derive => "derive",
        Type::Aes => "aes",
        Type::Des => "des",
        Type::Camellia => "camellia",
        Type::Arc4 => "arc4",
        Type::Chacha20 => "chacha20",
        Type::RsaPublicKey => "rsa-public-key",
        Type::RsaKeyPair => "rsa-key-pair",
        Type::EccKeyPair { .. } => "ecc-key-pair",
        Type::EccPublicKey { .. } => "ecc-public-key",
        Type::DhKeyPair { .. } => "dh-key-pair",
        Type::DhPublicKey { .. } => "dh-public-key",
    }
}

/// A key type: `{"kind", "curve_family", "group_family"}`; the families are
/// `null` unless the kind has one (ECC, DH).
pub(crate) fn key_type(key_type: Type) -> Value {
    let (curve, group) = match key_type {
        Type::EccKeyPair { curve_family } | Type::EccPublicKey { curve_family } => {
            (Some(ecc_family_name(curve_family)), None)
        }
        Type::DhKeyPair { group_family } | Type::DhPublicKey { group_family } => {
            (None, Some(dh_family_name(group_family)))
        }
        _ => (None, None),
    };
    json!({
        "kind": type_kind(key_type),
        "curve_family": curve,
        "group_family": group,
    })
}

/// A key type as text: `ecc-key-pair (secp-r1)`.
pub(crate) fn key_type_text(key_type: Type) -> String {
    match key_type {
        Type::EccKeyPair { curve_family } | Type::EccPublicKey { curve_family } => {
            format!(
                "{} ({})",
                type_kind(key_type),
                ecc_family_name(curve_family)
            )
        }
        Type::DhKeyPair { group_family } | Type::DhPublicKey { group_family } => {
            format!("{} ({})", type_kind(key_type), dh_family_name(group_family))
        }
        _ => type_kind(key_type).to_string(),
    }
}

fn full_length_mac(mac: FullLengthMac) -> (&'static str, Option<&'static str>) {
    match mac {
        FullLengthMac::Hmac { hash_alg } => ("hmac", Some(hash_name(hash_alg))),
        FullLengthMac::CbcMac => ("cbc-mac", None),
        FullLengthMac::Cmac => ("cmac", None),
    }
}

fn aead_kind(aead: AeadWithDefaultLengthTag) -> &'static str {
    match aead {
        AeadWithDefaultLengthTag::Ccm => "ccm",
        AeadWithDefaultLengthTag::Gcm => "gcm",
        AeadWithDefaultLengthTag::Chacha20Poly1305 => "chacha20-poly1305",
    }
}

fn raw_key_agreement_kind(alg: RawKeyAgreement) -> &'static str {
    match alg {
        RawKeyAgreement::Ffdh => "ffdh",
        RawKeyAgreement::Ecdh => "ecdh",
    }
}

/// A key derivation algorithm (also the `kdf` of a key agreement).
fn key_derivation(alg: KeyDerivation) -> Value {
    let (kind, hash) = match alg {
        KeyDerivation::Hkdf { hash_alg } => ("hkdf", hash_alg),
        KeyDerivation::Tls12Prf { hash_alg } => ("tls12-prf", hash_alg),
        KeyDerivation::Tls12PskToMs { hash_alg } => ("tls12-psk-to-ms", hash_alg),
    };
    json!({ "category": "key-derivation", "kind": kind, "hash": hash_name(hash) })
}

/// An algorithm: an object with a `category`, a `kind`, and the fields of
/// that category (see the README's table).
pub(crate) fn algorithm(alg: Algorithm) -> Value {
    match alg {
        Algorithm::None => json!({ "category": "none", "kind": "none" }),
        Algorithm::Hash(hash) => {
            json!({ "category": "hash", "kind": hash_name(hash), "hash": hash_name(hash) })
        }
        Algorithm::Mac(mac) => {
            let (full, length) = match mac {
                Mac::FullLength(full) => (full, None),
                Mac::Truncated {
                    mac_alg,
                    mac_length,
                } => (mac_alg, Some(mac_length)),
            };
            let (kind, hash) = full_length_mac(full);
            json!({ "category": "mac", "kind": kind, "hash": hash, "mac_length": length })
        }
        Algorithm::Cipher(cipher) => {
            let kind = match cipher {
                Cipher::StreamCipher => "stream-cipher",
                Cipher::Ctr => "ctr",
                Cipher::Cfb => "cfb",
                Cipher::Ofb => "ofb",
                Cipher::Xts => "xts",
                Cipher::EcbNoPadding => "ecb-no-padding",
                Cipher::CbcNoPadding => "cbc-no-padding",
                Cipher::CbcPkcs7 => "cbc-pkcs7",
            };
            json!({ "category": "cipher", "kind": kind })
        }
        Algorithm::Aead(aead) => {
            let (base, tag_length) = match aead {
                Aead::AeadWithDefaultLengthTag(base) => (base, None),
                Aead::AeadWithShortenedTag {
                    aead_alg,
                    tag_length,
                } => (aead_alg, Some(tag_length)),
            };
            json!({ "category": "aead", "kind": aead_kind(base), "tag_length": tag_length })
        }
        Algorithm::AsymmetricSignature(sig) => {
            let (kind, hash) = match sig {
                AsymmetricSignature::RsaPkcs1v15Sign { hash_alg } => {
                    ("rsa-pkcs1v15-sign", Some(sign_hash_name(hash_alg)))
                }
                AsymmetricSignature::RsaPkcs1v15SignRaw => ("rsa-pkcs1v15-sign-raw", None),
                AsymmetricSignature::RsaPss { hash_alg } => {
                    ("rsa-pss", Some(sign_hash_name(hash_alg)))
                }
                AsymmetricSignature::Ecdsa { hash_alg } => {
                    ("ecdsa", Some(sign_hash_name(hash_alg)))
                }
                AsymmetricSignature::EcdsaAny => ("ecdsa-any", None),
                AsymmetricSignature::DeterministicEcdsa { hash_alg } => {
                    ("deterministic-ecdsa", Some(sign_hash_name(hash_alg)))
                }
            };
            json!({ "category": "signature", "kind": kind, "hash": hash })
        }
        Algorithm::AsymmetricEncryption(enc) => {
            let (kind, hash) = match enc {
                AsymmetricEncryption::RsaPkcs1v15Crypt => ("rsa-pkcs1v15-crypt", None),
                AsymmetricEncryption::RsaOaep { hash_alg } => {
                    ("rsa-oaep", Some(hash_name(hash_alg)))
                }
            };
            json!({ "category": "encryption", "kind": kind, "hash": hash })
        }
        Algorithm::KeyAgreement(agreement) => {
            let (raw, kdf) = match agreement {
                KeyAgreement::Raw(raw) => (raw, None),
                KeyAgreement::WithKeyDerivation { ka_alg, kdf_alg } => {
                    (ka_alg, Some(key_derivation(kdf_alg)))
                }
            };
            json!({ "category": "key-agreement", "kind": raw_key_agreement_kind(raw), "kdf": kdf })
        }
        Algorithm::KeyDerivation(kdf) => key_derivation(kdf),
    }
}

/// An algorithm as text: its kind, then its set fields in brackets, e.g.
/// `ecdsa (sha256)`, `gcm (tag_length 8)`, `ecdh (kdf hkdf (sha256))`.
pub(crate) fn algorithm_text(alg: Algorithm) -> String {
    value_text(&algorithm(alg))
}

fn value_text(value: &Value) -> String {
    let Some(object) = value.as_object() else {
        return value.to_string();
    };
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("?");
    let details: Vec<String> = object
        .iter()
        .filter(|(name, v)| !matches!(name.as_str(), "kind" | "category") && !v.is_null())
        .map(|(name, v)| match (name.as_str(), v) {
            ("hash", Value::String(hash)) if hash != kind => hash.clone(),
            ("hash", _) => String::new(),
            (_, Value::String(text)) => format!("{name} {text}"),
            (_, Value::Object(_)) => format!("{name} {}", value_text(v)),
            (_, other) => format!("{name} {other}"),
        })
        .filter(|d| !d.is_empty())
        .collect();
    if details.is_empty() {
        kind.to_string()
    } else {
        format!("{kind} ({})", details.join(", "))
    }
}

/// The usage flags that are set, by name, in a fixed order.
pub(crate) fn usage_names(flags: UsageFlags) -> Vec<&'static str> {
    [
        (flags.export(), "export"),
        (flags.copy(), "copy"),
        (flags.cache(), "cache"),
        (flags.encrypt(), "encrypt"),
        (flags.decrypt(), "decrypt"),
        (flags.sign_hash(), "sign-hash"),
        (flags.sign_message(), "sign-message"),
        (flags.verify_hash(), "verify-hash"),
        (flags.verify_message(), "verify-message"),
        (flags.derive(), "derive"),
    ]
    .into_iter()
    .filter_map(|(set, name)| set.then_some(name))
    .collect()
}

/// A policy: `{"usage": [...], "algorithm": {...}}`.
pub(crate) fn policy(policy: Policy) -> Value {
    json!({
        "usage": usage_names(policy.usage_flags),
        "algorithm": algorithm(policy.permitted_algorithms),
    })
}

/// A lifetime: `"volatile"`, `"persistent"`, or the number of a custom one.
pub(crate) fn lifetime(lifetime: Lifetime) -> Value {
    match lifetime {
        Lifetime::Volatile => json!("volatile"),
        Lifetime::Persistent => json!("persistent"),
        Lifetime::Custom(value) => json!(value),
    }
}

/// A lifetime as text: `volatile`, `persistent`, or `custom N`.
pub(crate) fn lifetime_text(lifetime: Lifetime) -> String {
    match lifetime {
        Lifetime::Volatile => "volatile".into(),
        Lifetime::Persistent => "persistent".into(),
        Lifetime::Custom(value) => format!("custom {value}"),
    }
}

/// The attributes of a key as fields of its JSON object: `type`, `bits`,
/// `lifetime`, `policy`.
pub(crate) fn attributes(attributes: Attributes) -> Map<String, Value> {
    let mut fields = Map::new();
    let _ = fields.insert("type".into(), key_type(attributes.key_type));
    let _ = fields.insert("bits".into(), json!(attributes.bits));
    let _ = fields.insert("lifetime".into(), lifetime(attributes.lifetime));
    let _ = fields.insert("policy".into(), policy(attributes.policy));
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecdsa_is_an_object_with_category_kind_and_hash_name() {
        let alg = AsymmetricSignature::Ecdsa {
            hash_alg: SignHash::Specific(Hash::Sha256),
        };
        assert_eq!(
            algorithm(alg.into()),
            json!({ "category": "signature", "kind": "ecdsa", "hash": "sha256" })
        );
        assert_eq!(algorithm_text(alg.into()), "ecdsa (sha256)");
    }

    #[test]
    fn wildcard_signature_hash_is_any() {
        let alg = AsymmetricSignature::RsaPss {
            hash_alg: SignHash::Any,
        };
        assert_eq!(algorithm(alg.into())["hash"], "any");
    }

    #[test]
    fn fields_that_do_not_apply_are_null_not_missing() {
        let pkcs1 = algorithm(AsymmetricEncryption::RsaPkcs1v15Crypt.into());
        assert_eq!(pkcs1["hash"], Value::Null);
        assert!(pkcs1.as_object().unwrap().contains_key("hash"));
        let gcm = algorithm(Aead::AeadWithDefaultLengthTag(AeadWithDefaultLengthTag::Gcm).into());
        assert!(gcm.as_object().unwrap().contains_key("tag_length"));
        assert_eq!(algorithm_text(Algorithm::None), "none");
        assert_eq!(
            key_type(Type::RsaKeyPair),
            json!({ "kind": "rsa-key-pair", "curve_family": null, "group_family": null })
        );
    }

    #[test]
    fn shortened_tags_truncated_macs_and_derivations_carry_their_parameters() {
        let ccm8 = Aead::AeadWithShortenedTag {
            aead_alg: AeadWithDefaultLengthTag::Ccm,
            tag_length: 8,
        };
        assert_eq!(
            algorithm(ccm8.into()),
            json!({ "category": "aead", "kind": "ccm", "tag_length": 8 })
        );
        assert_eq!(algorithm_text(ccm8.into()), "ccm (tag_length 8)");
        let hmac = Mac::Truncated {
            mac_alg: FullLengthMac::Hmac {
                hash_alg: Hash::Sha3_256,
            },
            mac_length: 16,
        };
        assert_eq!(
            algorithm(hmac.into()),
            json!({ "category": "mac", "kind": "hmac", "hash": "sha3-256", "mac_length": 16 })
        );
        let ecdh_hkdf = KeyAgreement::WithKeyDerivation {
            ka_alg: RawKeyAgreement::Ecdh,
            kdf_alg: KeyDerivation::Hkdf {
                hash_alg: Hash::Sha384,
            },
        };
        assert_eq!(
            algorithm(ecdh_hkdf.into()),
            json!({
                "category": "key-agreement",
                "kind": "ecdh",
                "kdf": { "category": "key-derivation", "kind": "hkdf", "hash": "sha384" },
            })
        );
        assert_eq!(algorithm_text(ecdh_hkdf.into()), "ecdh (kdf hkdf (sha384))");
    }

    #[test]
    fn hash_algorithms_name_themselves() {
        assert_eq!(
            algorithm(Hash::Sha512_256.into()),
            json!({ "category": "hash", "kind": "sha512-256", "hash": "sha512-256" })
        );
        assert_eq!(algorithm_text(Hash::Sha256.into()), "sha256");
    }

    #[test]
    fn ecc_types_name_their_curve_family() {
        let pair = Type::EccKeyPair {
            curve_family: EccFamily::BrainpoolPR1,
        };
        assert_eq!(key_type(pair)["curve_family"], "brainpool-p-r1");
        assert_eq!(key_type_text(pair), "ecc-key-pair (brainpool-p-r1)");
    }
}
