//! PsaVerifyHash: check a signature over a digest.

use super::algorithm::required;
use super::{Wire, WireResult, empty_wire};
use crate::generated::psa_verify_hash as wire;
use psa_crypto::types::algorithm::AsymmetricSignature;

/// Verify `signature` over `hash` with the public part of `key_name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The verifying key.
    pub key_name: String,
    /// The signature algorithm.
    pub alg: AsymmetricSignature,
    /// The digest that was signed.
    pub hash: Vec<u8>,
    /// The signature to check.
    pub signature: Vec<u8>,
}

/// The signature is valid. (An invalid one is the status
/// `PsaErrorInvalidSignature`, not a result.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Result {}

impl Wire for Operation {
    type Message = wire::Operation;

    fn into_wire(self) -> WireResult<wire::Operation> {
        Ok(wire::Operation {
            key_name: self.key_name,
            alg: Some(self.alg.into()),
            hash: self.hash,
            signature: self.signature,
        })
    }

    fn from_wire(message: wire::Operation) -> WireResult<Self> {
        Ok(Operation {
            key_name: message.key_name,
            alg: required(message.alg)?.try_into()?,
            hash: message.hash,
            signature: message.signature,
        })
    }
}

empty_wire!(Result, wire::Result);
