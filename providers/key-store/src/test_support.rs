//! Fixtures shared by the key store tests.

use psec_interface::AuthType;
use psec_interface::psa_crypto::types::algorithm::{
    Algorithm, AsymmetricSignature, Hash, SignHash,
};
use psec_interface::psa_crypto::types::key::{
    Attributes, EccFamily, Lifetime, Policy, Type, UsageFlags,
};
use psec_provider::{Application, KeyIdentity, KeyInfo};

/// An ECDSA P-256 signing key's attributes (persistent, as the SQLite store
/// gives them back).
pub(crate) fn attributes() -> Attributes {
    let mut usage_flags = UsageFlags::default();
    // Each also sets its `_message` flag.
    let _ = usage_flags.set_sign_hash().set_verify_hash();
    Attributes {
        lifetime: Lifetime::Persistent,
        key_type: Type::EccKeyPair {
            curve_family: EccFamily::SecpR1,
        },
        bits: 256,
        policy: Policy {
            usage_flags,
            permitted_algorithms: Algorithm::AsymmetricSignature(AsymmetricSignature::Ecdsa {
                hash_alg: SignHash::Specific(Hash::Sha256),
            }),
        },
    }
}

/// A key info with the given backend id and [`attributes`].
pub(crate) fn info(backend_id: &[u8]) -> KeyInfo {
    KeyInfo {
        backend_id: backend_id.to_vec(),
        attributes: attributes(),
    }
}

/// A key name.
pub(crate) fn key(auth: AuthType, application: &str, provider: &str, name: &str) -> KeyIdentity {
    KeyIdentity {
        application: Application::new(auth, application),
        provider: provider.to_owned(),
        key_name: name.to_owned(),
    }
}

/// The permission bits of a file or directory.
#[cfg(any(feature = "sqlite", feature = "on-disk"))]
pub(crate) fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

/// What Parsec's `bincode::serialize(&KeyInfo { id, attributes })` writes for
/// `id = [0x11, 0x22, 0x33, 0x44]` (an Mbed Crypto key id 0x44332211, itself
/// bincode of a `u32`) and [`attributes`], built by hand from the bincode 1
/// rules so that it does not depend on our encoder.
#[cfg(feature = "on-disk")]
pub(crate) fn parsec_fixture_bytes() -> Vec<u8> {
    let mut bytes = Vec::new();
    bytes.extend(4u64.to_le_bytes()); // id: Vec<u8> length
    bytes.extend([0x11, 0x22, 0x33, 0x44]);
    bytes.extend(1u32.to_le_bytes()); // Lifetime::Persistent
    bytes.extend(10u32.to_le_bytes()); // Type::EccKeyPair
    bytes.extend(1u32.to_le_bytes()); //   curve_family: EccFamily::SecpR1
    bytes.extend(256u64.to_le_bytes()); // bits: usize as u64
    // UsageFlags in declaration order: export, copy, cache, encrypt,
    // decrypt, sign_message, verify_message, sign_hash, verify_hash, derive.
    bytes.extend([0, 0, 0, 0, 0, 1, 1, 1, 1, 0]);
    bytes.extend(5u32.to_le_bytes()); // Algorithm::AsymmetricSignature
    bytes.extend(3u32.to_le_bytes()); //   AsymmetricSignature::Ecdsa
    bytes.extend(0u32.to_le_bytes()); //     SignHash::Specific
    bytes.extend(6u32.to_le_bytes()); //       Hash::Sha256
    bytes
}
