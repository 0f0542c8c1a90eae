//! Hashing on the TPM (TPM2_Hash): the SHA-1, SHA-2 and SHA-3 hashes the
//! TPM reports, on inputs of at most 1024 bytes.

use crate::TpmProvider;
use crate::signing::message_buffer;
use psec_interface::ResponseStatus;
use psec_interface::operations::{psa_hash_compare, psa_hash_compute};
use psec_interface::psa_crypto::types::algorithm::Hash;
use psec_provider::{Hashing, ProviderError, Result};
use tss_esapi::interface_types::resource_handles::Hierarchy;

impl TpmProvider {
    /// `input` hashed with `alg` on the TPM.
    fn tpm_hash(&self, alg: Hash, input: &[u8]) -> Result<Vec<u8>> {
        let tpm_alg = self.support().hash(alg)?;
        let buffer = message_buffer(input)?;
        let (digest, _) = self
            .tpm()
            .again_after_reset(&format!("hashing with {alg:?}"), |context, _| {
                context.hash(buffer.clone(), tpm_alg, Hierarchy::Null)
            })?;
        Ok(digest.value().to_vec())
    }
}

impl Hashing for TpmProvider {
    fn hash_compute(&self, op: psa_hash_compute::Operation) -> Result<psa_hash_compute::Result> {
        let hash = self.tpm_hash(op.alg, &op.input)?;
        Ok(psa_hash_compute::Result { hash })
    }

    fn hash_compare(&self, op: psa_hash_compare::Operation) -> Result<psa_hash_compare::Result> {
        let hash = self.tpm_hash(op.alg, &op.input)?;
        // Not secret, but compared without an early exit all the same.
        let same = hash.len() == op.hash.len()
            && hash
                .iter()
                .zip(&op.hash)
                .fold(0u8, |diff, (a, b)| diff | (a ^ b))
                == 0;
        if same {
            Ok(psa_hash_compare::Result {})
        } else {
            Err(ProviderError::backend(
                ResponseStatus::PsaErrorInvalidSignature,
                format!("the {:?} hash of the input is not the one given", op.alg),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::setup;
    use psec_interface::psa_crypto::types::algorithm::Hash;
    use psec_provider::testing::{hash_compare as compare, hash_compute as compute};

    #[test]
    fn known_answers_for_abc_on_every_sha2_hash() {
        let setup = setup();
        let cases = [
            (Hash::Sha256, [0xba, 0x78, 0x16, 0xbf]),
            (Hash::Sha384, [0xcb, 0x00, 0x75, 0x3f]),
            (Hash::Sha512, [0xdd, 0xaf, 0x35, 0xa1]),
        ];
        for (alg, start) in cases {
            if !setup.provider.support().hashes.contains(&alg) {
                continue;
            }
            let digest = compute(&setup.provider, alg, b"abc").unwrap();
            assert_eq!(digest.len(), alg.hash_length(), "{alg:?}");
            assert_eq!(digest[..4], start, "{alg:?}");
            compare(&setup.provider, alg, b"abc", &digest).unwrap();
        }
        assert!(setup.provider.support().hashes.contains(&Hash::Sha256));
    }

    #[test]
    fn a_different_hash_is_an_invalid_signature() {
        let setup = setup();
        let mut digest = compute(&setup.provider, Hash::Sha256, b"data").unwrap();
        digest[31] ^= 1;
        let error = compare(&setup.provider, Hash::Sha256, b"data", &digest).unwrap_err();
        assert_eq!(
            error.status(),
            ResponseStatus::PsaErrorInvalidSignature,
            "{error}"
        );
        let error = compare(&setup.provider, Hash::Sha256, b"data", &digest[..31]).unwrap_err();
        assert_eq!(
            error.status(),
            ResponseStatus::PsaErrorInvalidSignature,
            "{error}"
        );
    }

    #[test]
    #[allow(deprecated, reason = "MD5 is asked for to be refused")]
    fn hashes_the_tpm_lacks_and_long_inputs_are_not_supported() {
        let setup = setup();
        for alg in [Hash::Md5, Hash::Sha224, Hash::Sha512_256] {
            let error = compute(&setup.provider, alg, b"data").unwrap_err();
            assert!(matches!(error, ProviderError::NotSupported(_)), "{error}");
        }
        let error = compute(&setup.provider, Hash::Sha256, &[0; 1025]).unwrap_err();
        assert!(matches!(error, ProviderError::NotSupported(_)), "{error}");
    }
}
