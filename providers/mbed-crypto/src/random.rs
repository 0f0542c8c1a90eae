//! Random bytes from Mbed TLS's CTR-DRBG.

use crate::MbedCryptoProvider;
use crate::backend::{Psa, psa_error};
use psec_interface::operations::psa_generate_random;
use psec_provider::{ProviderError, Random, check_random_size};

/// The most random bytes one request may ask for. The wire puts no bound
/// on the size, and the answer is built in memory.
pub(crate) const MAX_RANDOM_BYTES: usize = 1 << 20;

impl Random for MbedCryptoProvider {
    fn generate_random(
        &self,
        op: psa_generate_random::Operation,
    ) -> Result<psa_generate_random::Result, ProviderError> {
        check_random_size(op.size, MAX_RANDOM_BYTES)?;
        let random_bytes = Psa::lock()
            .random(op.size)
            .map_err(|error| psa_error(error, "generating random bytes"))?;
        Ok(psa_generate_random::Result { random_bytes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::setup;
    use psec_provider::testing::generate_random as random;

    #[test]
    fn gives_as_many_bytes_as_asked_and_different_ones_each_time() {
        let (_, provider) = setup();
        assert!(random(&provider, 0).unwrap().is_empty());
        let first = random(&provider, 64).unwrap();
        assert_eq!(first.len(), 64);
        assert_ne!(first, random(&provider, 64).unwrap());
        assert_eq!(
            random(&provider, MAX_RANDOM_BYTES).unwrap().len(),
            MAX_RANDOM_BYTES
        );
    }

    #[test]
    fn more_than_the_limit_is_an_invalid_argument() {
        let (_, provider) = setup();
        let error = random(&provider, MAX_RANDOM_BYTES + 1).unwrap_err();
        assert!(
            matches!(error, ProviderError::InvalidArgument(_)),
            "{error}"
        );
    }
}
