//! Key attributes the tests of several crates build alike.

use psec_interface::psa_crypto::types::algorithm::{
    Algorithm, AsymmetricSignature, Hash, SignHash,
};
use psec_interface::psa_crypto::types::key::{
    Attributes, EccFamily, Lifetime, Policy, Type, UsageFlags,
};

/// ECDSA with SHA-256.
pub const ECDSA_SHA256: AsymmetricSignature = AsymmetricSignature::Ecdsa {
    hash_alg: SignHash::Specific(Hash::Sha256),
};

/// ECDSA with any hash.
pub const ECDSA_ANY: AsymmetricSignature = AsymmetricSignature::Ecdsa {
    hash_alg: SignHash::Any,
};

/// A key pair on a NIST SECP R1 curve (P-256, P-384...).
pub const SECP_R1: Type = Type::EccKeyPair {
    curve_family: EccFamily::SecpR1,
};

/// Attributes of a `lifetime` key with the usage flags `usage` sets.
pub fn with_lifetime(
    lifetime: Lifetime,
    key_type: Type,
    bits: usize,
    alg: Algorithm,
    usage: impl FnOnce(&mut UsageFlags),
) -> Attributes {
    let mut usage_flags = UsageFlags::default();
    usage(&mut usage_flags);
    Attributes {
        lifetime,
        key_type,
        bits,
        policy: Policy {
            usage_flags,
            permitted_algorithms: alg,
        },
    }
}

/// Attributes of a persistent key with the usage flags `usage` sets.
pub fn persistent(
    key_type: Type,
    bits: usize,
    alg: Algorithm,
    usage: impl FnOnce(&mut UsageFlags),
) -> Attributes {
    with_lifetime(Lifetime::Persistent, key_type, bits, alg, usage)
}

/// Attributes of a volatile key with the usage flags `usage` sets.
pub fn volatile(
    key_type: Type,
    bits: usize,
    alg: Algorithm,
    usage: impl FnOnce(&mut UsageFlags),
) -> Attributes {
    with_lifetime(Lifetime::Volatile, key_type, bits, alg, usage)
}

/// Sets the flags to sign and verify both hashes and messages.
pub fn sign_and_verify(flags: &mut UsageFlags) {
    let _ = flags
        .set_sign_hash()
        .set_verify_hash()
        .set_sign_message()
        .set_verify_message();
}

/// A persistent P-256 key pair that may sign and verify hashes with
/// [`ECDSA_SHA256`].
pub fn p256_signing() -> Attributes {
    persistent(SECP_R1, 256, ECDSA_SHA256.into(), |flags| {
        let _ = flags.set_sign_hash().set_verify_hash();
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p256_signing_is_a_persistent_p256_ecdsa_sha256_hash_signer() {
        let attributes = p256_signing();
        assert_eq!(attributes.lifetime, Lifetime::Persistent);
        assert_eq!(attributes.key_type, SECP_R1);
        assert_eq!(attributes.bits, 256);
        assert_eq!(
            attributes.policy.permitted_algorithms,
            Algorithm::from(ECDSA_SHA256)
        );
        assert!(attributes.policy.usage_flags.sign_hash());
        assert!(!attributes.policy.usage_flags.encrypt());
    }

    #[test]
    fn sign_and_verify_sets_hash_and_message_flags_only() {
        let attributes = volatile(SECP_R1, 384, ECDSA_ANY.into(), sign_and_verify);
        let flags = attributes.policy.usage_flags;
        assert_eq!(attributes.lifetime, Lifetime::Volatile);
        assert!(flags.sign_hash() && flags.verify_hash());
        assert!(flags.sign_message() && flags.verify_message());
        assert!(!flags.encrypt() && !flags.export());
    }
}
