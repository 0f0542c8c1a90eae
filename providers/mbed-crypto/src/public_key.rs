//! Public key operations in software, for other providers: verifying a
//! signature and encrypting to a public key given as data rather than as
//! a key of this provider.
//!
//! The PKCS#11 provider uses these when `software_public_operations` is
//! set, for tokens that lack or are slow at public key mechanisms, as
//! Parsec does. Each call imports the public key into Mbed TLS as a
//! volatile key allowed only the one algorithm, uses it and destroys it,
//! all under the process-wide PSA lock unless Mbed TLS is thread-safe
//! (see the crate's docs); nothing is written to disk.

use crate::backend::{self, Psa, psa_error};
use crate::signing::{check_hash_length, hash_message};
use psa_crypto::operations::{asym_encryption, asym_signature, key_management};
use psa_crypto::types::algorithm::{AsymmetricEncryption, AsymmetricSignature};
use psa_crypto::types::key::{Attributes, Id, Lifetime, Policy, Type, UsageFlags};
use psec_provider::{ProviderError, Result};

/// A public key in PSA's export format: for RSA the DER `RSAPublicKey`,
/// for elliptic curves the uncompressed point `04 || x || y`.
#[derive(Debug, Clone, Copy)]
pub struct PublicKey<'a> {
    /// An `RsaPublicKey` or `EccPublicKey` type; the key pair types are
    /// taken as their public halves.
    pub key_type: Type,
    /// The key's data; its size comes from these bytes.
    pub data: &'a [u8],
}

/// The public type of `key_type`: pairs become public keys.
fn public_type(key_type: Type) -> Result<Type> {
    match key_type {
        Type::RsaKeyPair | Type::RsaPublicKey => Ok(Type::RsaPublicKey),
        Type::EccKeyPair { curve_family } | Type::EccPublicKey { curve_family } => {
            Ok(Type::EccPublicKey { curve_family })
        }
        other => Err(ProviderError::NotSupported(format!(
            "{other:?} has no public key operations"
        ))),
    }
}

/// Runs `f` on `key` imported as a volatile key that may do only `alg`,
/// with the usage `usage` sets, and destroys the key afterwards. `f` gets
/// the key's id and runs under the PSA lock.
///
/// The key goes in with size 0, which Mbed TLS reads from the data:
/// psa-crypto 0.13 refuses the size 384 for secp384r1 (see `keys.rs`).
fn with_volatile_key<T>(
    key: PublicKey<'_>,
    alg: psa_crypto::types::algorithm::Algorithm,
    usage: impl FnOnce(&mut UsageFlags),
    f: impl FnOnce(Id) -> Result<T>,
) -> Result<T> {
    let mut usage_flags = UsageFlags::default();
    usage(&mut usage_flags);
    let attributes = Attributes {
        lifetime: Lifetime::Volatile,
        key_type: public_type(key.key_type)?,
        bits: 0,
        policy: Policy {
            usage_flags,
            permitted_algorithms: alg,
        },
    };
    backend::init()?;
    let psa = Psa::lock();
    let id = key_management::import(attributes, None, key.data)
        .map_err(|error| psa_error(error, "importing the public key"))?;
    let outcome = f(id);
    if let Err(error) = psa.destroy_volatile(id) {
        log::warn!("could not destroy a volatile public key in Mbed TLS: {error:?}");
    }
    outcome
}

/// Checks `signature` over `hash` with `key`; a wrong signature is
/// `PsaErrorInvalidSignature`, a hash not as long as `alg`'s
/// `PsaErrorInvalidArgument`.
pub fn verify_hash(
    key: PublicKey<'_>,
    alg: AsymmetricSignature,
    hash: &[u8],
    signature: &[u8],
) -> Result<()> {
    check_hash_length(alg, hash)?;
    with_volatile_key(
        key,
        alg.into(),
        |flags| {
            flags.set_verify_hash();
        },
        |id| {
            asym_signature::verify_hash(id, alg, hash, signature)
                .map_err(|error| psa_error(error, "verifying in software"))
        },
    )
}

/// Checks `signature` over `message`, hashed with `alg`'s hash.
pub fn verify_message(
    key: PublicKey<'_>,
    alg: AsymmetricSignature,
    message: &[u8],
    signature: &[u8],
) -> Result<()> {
    let digest = {
        backend::init()?;
        let _psa = Psa::lock();
        hash_message(alg, message)?
    };
    verify_hash(key, alg, &digest, signature)
}

/// Encrypts `plaintext` to `key`; `salt` is OAEP's label.
pub fn asymmetric_encrypt(
    key: PublicKey<'_>,
    alg: AsymmetricEncryption,
    plaintext: &[u8],
    salt: Option<&[u8]>,
) -> Result<Vec<u8>> {
    with_volatile_key(
        key,
        alg.into(),
        |flags| {
            flags.set_encrypt();
        },
        |id| {
            let size = Attributes::from_key_id(id)
                .and_then(|attributes| attributes.asymmetric_encrypt_output_size(alg))
                .map_err(|error| psa_error(error, "sizing the ciphertext"))?;
            let mut ciphertext = vec![0; size];
            let len = asym_encryption::encrypt(id, alg, plaintext, salt, &mut ciphertext)
                .map_err(|error| psa_error(error, "encrypting in software"))?;
            ciphertext.truncate(len);
            Ok(ciphertext)
        },
    )
}

#[cfg(test)]
mod tests {
    // The functions under test are named as the shared test helpers that
    // go through a provider: those are used by path.
    use super::{PublicKey, asymmetric_encrypt, verify_hash, verify_message};
    use crate::test_support::{
        app, ecc_p256_signing_key, export_public, generate, in_test_dir, rsa_key, setup,
    };
    use psa_crypto::types::algorithm::{AsymmetricEncryption, AsymmetricSignature, Hash, SignHash};
    use psa_crypto::types::key::Type;
    use psec_interface::ResponseStatus;
    use psec_interface::operations::psa_asymmetric_decrypt;
    use psec_provider::AsymmetricEncryption as _;
    use psec_provider::testing;

    const ECDSA: AsymmetricSignature = AsymmetricSignature::Ecdsa {
        hash_alg: SignHash::Specific(Hash::Sha256),
    };

    #[test]
    fn signatures_of_a_stored_key_verify_with_its_exported_public_key() {
        let (_, provider) = setup();
        let owner = app("alice");
        let mut attributes = ecc_p256_signing_key();
        attributes.policy.usage_flags.set_sign_message();
        generate(&provider, &owner, "ec", attributes).unwrap();
        let data = export_public(&provider, &owner, "ec").unwrap();
        let key = PublicKey {
            key_type: attributes.key_type,
            data: &data,
        };
        let hash = [0x5a; 32];
        let signature = testing::sign_hash(&provider, &owner, "ec", ECDSA, &hash).unwrap();
        verify_hash(key, ECDSA, &hash, &signature).unwrap();

        let mut wrong = signature.clone();
        wrong[10] ^= 1;
        let error = verify_hash(key, ECDSA, &hash, &wrong).unwrap_err();
        assert_eq!(
            error.status(),
            ResponseStatus::PsaErrorInvalidSignature,
            "{error}"
        );

        let signature =
            testing::sign_message(&provider, &owner, "ec", ECDSA, b"a message").unwrap();
        verify_message(key, ECDSA, b"a message", &signature).unwrap();
        let error = verify_message(key, ECDSA, b"another message", &signature).unwrap_err();
        assert_eq!(
            error.status(),
            ResponseStatus::PsaErrorInvalidSignature,
            "{error}"
        );
    }

    #[test]
    fn a_hash_not_as_long_as_the_algorithms_hash_is_an_invalid_argument() {
        let (_, provider) = setup();
        let owner = app("alice");
        generate(&provider, &owner, "ec", ecc_p256_signing_key()).unwrap();
        let data = export_public(&provider, &owner, "ec").unwrap();
        let key = PublicKey {
            key_type: Type::EccPublicKey {
                curve_family: psa_crypto::types::key::EccFamily::SecpR1,
            },
            data: &data,
        };
        let signature = testing::sign_hash(&provider, &owner, "ec", ECDSA, &[7; 32]).unwrap();
        for length in [31, 64] {
            let error = verify_hash(key, ECDSA, &vec![7; length], &signature).unwrap_err();
            assert_eq!(
                error.status(),
                ResponseStatus::PsaErrorInvalidArgument,
                "{length} bytes: {error}"
            );
        }
    }

    #[test]
    fn ciphertexts_made_with_an_exported_public_key_decrypt_with_the_stored_key() {
        let (_, provider) = setup();
        let owner = app("alice");
        let alg = AsymmetricEncryption::RsaOaep {
            hash_alg: Hash::Sha256,
        };
        let attributes = rsa_key(1024, alg.into(), |flags| {
            flags.set_encrypt().set_decrypt();
        });
        generate(&provider, &owner, "rsa", attributes).unwrap();
        let data = export_public(&provider, &owner, "rsa").unwrap();
        let key = PublicKey {
            key_type: Type::RsaPublicKey,
            data: &data,
        };
        let ciphertext = asymmetric_encrypt(key, alg, b"secret", Some(b"label")).unwrap();
        assert_eq!(ciphertext.len(), 128);
        let op = psa_asymmetric_decrypt::Operation {
            key_name: "rsa".into(),
            alg,
            ciphertext,
            salt: Some(b"label".to_vec().into()),
        };
        let plaintext = provider.asymmetric_decrypt(&owner, op).unwrap().plaintext;
        assert_eq!(&*plaintext, b"secret");
    }

    #[test]
    fn malformed_public_keys_and_symmetric_types_are_refused() {
        in_test_dir();
        let key = PublicKey {
            key_type: Type::RsaPublicKey,
            data: b"not DER",
        };
        let error = verify_hash(key, ECDSA, &[0; 32], &[0; 64]).unwrap_err();
        assert_ne!(error.status(), ResponseStatus::Success);
        let aes = PublicKey {
            key_type: Type::Aes,
            ..key
        };
        let error = verify_hash(aes, ECDSA, &[0; 32], &[0; 64]).unwrap_err();
        assert_eq!(
            error.status(),
            ResponseStatus::PsaErrorNotSupported,
            "{error}"
        );
    }
}
