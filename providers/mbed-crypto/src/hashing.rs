//! Hashing, with no key: MD5, RIPEMD-160, SHA-1, the SHA-2 family but the
//! truncated SHA-512s, and SHA-3.

use crate::MbedCryptoProvider;
use crate::backend::{Psa, psa_error};
use crate::support::hash_supported;
use psa_crypto::operations::hash;
use psa_crypto::types::algorithm::Hash;
use psec_interface::operations::{psa_hash_compare, psa_hash_compute};
use psec_provider::{Hashing, ProviderError, Result};

fn supported(alg: Hash) -> Result<()> {
    if hash_supported(alg) {
        Ok(())
    } else {
        Err(ProviderError::NotSupported(format!(
            "the Mbed Crypto provider does not support {alg:?}"
        )))
    }
}

impl Hashing for MbedCryptoProvider {
    fn hash_compute(&self, op: psa_hash_compute::Operation) -> Result<psa_hash_compute::Result> {
        supported(op.alg)?;
        let mut digest = vec![0; op.alg.hash_length()];
        let _psa = Psa::lock();
        let len = hash::hash_compute(op.alg, &op.input, &mut digest)
            .map_err(|error| psa_error(error, format!("hashing with {:?}", op.alg)))?;
        digest.truncate(len);
        Ok(psa_hash_compute::Result { hash: digest })
    }

    fn hash_compare(&self, op: psa_hash_compare::Operation) -> Result<psa_hash_compare::Result> {
        supported(op.alg)?;
        let _psa = Psa::lock();
        hash::hash_compare(op.alg, &op.input, &op.hash)
            .map_err(|error| psa_error(error, format!("comparing a {:?} hash", op.alg)))?;
        Ok(psa_hash_compare::Result {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::setup;
    use psec_interface::ResponseStatus;
    use psec_provider::testing::{hash_compare as compare, hash_compute as compute};

    #[test]
    fn known_answers_for_abc() {
        let (_, provider) = setup();
        let cases = [
            (Hash::Sha256, [0xba, 0x78, 0x16, 0xbf]),
            (Hash::Sha384, [0xcb, 0x00, 0x75, 0x3f]),
            (Hash::Sha512, [0xdd, 0xaf, 0x35, 0xa1]),
            (Hash::Sha3_256, [0x3a, 0x98, 0x5d, 0xa7]),
        ];
        for (alg, start) in cases {
            let digest = compute(&provider, alg, b"abc").unwrap();
            assert_eq!(digest.len(), alg.hash_length(), "{alg:?}");
            assert_eq!(digest[..4], start, "{alg:?}");
        }
    }

    #[test]
    fn every_supported_hash_computes_and_compares() {
        let (_, provider) = setup();
        let all = [
            Hash::Ripemd160,
            Hash::Sha224,
            Hash::Sha256,
            Hash::Sha384,
            Hash::Sha512,
            Hash::Sha3_224,
            Hash::Sha3_256,
            Hash::Sha3_384,
            Hash::Sha3_512,
        ];
        for alg in all {
            let digest = compute(&provider, alg, b"data").unwrap();
            compare(&provider, alg, b"data", &digest).unwrap();
        }
    }

    #[test]
    fn a_different_hash_is_an_invalid_signature() {
        let (_, provider) = setup();
        let mut digest = compute(&provider, Hash::Sha256, b"data").unwrap();
        digest[31] ^= 1;
        let error = compare(&provider, Hash::Sha256, b"data", &digest).unwrap_err();
        assert_eq!(
            error.status(),
            ResponseStatus::PsaErrorInvalidSignature,
            "{error}"
        );
    }

    #[test]
    fn unsupported_hashes_are_not_supported() {
        let (_, provider) = setup();
        for alg in [Hash::Sha512_224, Hash::Sha512_256] {
            let error = compute(&provider, alg, b"data").unwrap_err();
            assert!(matches!(error, ProviderError::NotSupported(_)), "{error}");
        }
    }
}
