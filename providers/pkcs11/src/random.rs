//! Random numbers from the token's generator.

use crate::Pkcs11Provider;
use crate::token::ck_error;
use psec_interface::operations::psa_generate_random;
use psec_provider::{ProviderError, Random, check_random_size};

/// The most bytes one request may ask for.
const MAX_RANDOM: usize = 1 << 20;

impl Random for Pkcs11Provider {
    fn generate_random(
        &self,
        op: psa_generate_random::Operation,
    ) -> Result<psa_generate_random::Result, ProviderError> {
        check_random_size(op.size, MAX_RANDOM)?;
        let mut bytes = vec![0; op.size];
        if !bytes.is_empty() {
            self.token()
                .session()?
                .generate_random_slice(&mut bytes)
                .map_err(ck_error("drawing random bytes"))?;
        }
        Ok(psa_generate_random::Result {
            random_bytes: bytes.into(),
        })
    }
}
