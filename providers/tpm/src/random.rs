//! Random bytes from the TPM's generator (TPM2_GetRandom).

use crate::TpmProvider;
use psec_interface::operations::psa_generate_random;
use psec_provider::{ProviderError, Random, check_random_size};
use zeroize::Zeroizing;

/// The most random bytes one request may ask for: the TPM gives at most a
/// digest's worth per command, so this bounds the time the TPM is held.
pub(crate) const MAX_RANDOM_BYTES: usize = 64 * 1024;

/// The bytes asked of the TPM per command (what every TPM gives).
const CHUNK: usize = 32;

impl Random for TpmProvider {
    fn generate_random(
        &self,
        op: psa_generate_random::Operation,
    ) -> Result<psa_generate_random::Result, ProviderError> {
        check_random_size(op.size, MAX_RANDOM_BYTES)?;
        let mut bytes = Zeroizing::new(Vec::with_capacity(op.size));
        let mut tpm = self.tpm();
        while bytes.len() < op.size {
            let want = CHUNK.min(op.size - bytes.len());
            let got = tpm
                .again_after_reset("getting random bytes from the TPM", |context, _| {
                    context.get_random(want)
                })?;
            if got.is_empty() {
                return Err(ProviderError::backend(
                    psec_interface::ResponseStatus::PsaErrorInsufficientEntropy,
                    "the TPM gave no random bytes",
                ));
            }
            bytes.extend_from_slice(got.value());
        }
        bytes.truncate(op.size);
        Ok(psa_generate_random::Result {
            random_bytes: bytes.to_vec().into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::setup;
    use psec_provider::testing::generate_random as random;

    #[test]
    fn gives_as_many_bytes_as_asked_and_different_ones_each_time() {
        let setup = setup();
        assert!(random(&setup.provider, 0).unwrap().is_empty());
        let first = random(&setup.provider, 100).unwrap();
        assert_eq!(first.len(), 100);
        assert_ne!(first, random(&setup.provider, 100).unwrap());
        assert_eq!(
            random(&setup.provider, MAX_RANDOM_BYTES).unwrap().len(),
            MAX_RANDOM_BYTES
        );
    }

    #[test]
    fn more_than_the_limit_is_an_invalid_argument() {
        let setup = setup();
        let error = random(&setup.provider, MAX_RANDOM_BYTES + 1).unwrap_err();
        assert!(
            matches!(error, ProviderError::InvalidArgument(_)),
            "{error}"
        );
    }
}
