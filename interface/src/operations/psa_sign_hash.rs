//! PsaSignHash: sign a digest the caller has already computed.

use super::algorithm::required;
use super::{Wire, WireResult};
use crate::generated::psa_sign_hash as wire;
use psa_crypto::types::algorithm::AsymmetricSignature;

/// Sign `hash` with the private key `key_name` using `alg`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The signing key.
    pub key_name: String,
    /// The signature algorithm; it must be permitted by the key's policy.
    pub alg: AsymmetricSignature,
    /// The digest to sign.
    pub hash: Vec<u8>,
}

/// The signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Result {
    /// The signature, in the PSA format (raw `r || s` for ECDSA).
    pub signature: Vec<u8>,
}

impl Wire for Operation {
    type Message = wire::Operation;

    fn into_wire(self) -> WireResult<wire::Operation> {
        Ok(wire::Operation {
            key_name: self.key_name,
            alg: Some(self.alg.into()),
            hash: self.hash,
        })
    }

    fn from_wire(message: wire::Operation) -> WireResult<Self> {
        Ok(Operation {
            key_name: message.key_name,
            alg: required(message.alg)?.try_into()?,
            hash: message.hash,
        })
    }
}

impl Wire for Result {
    type Message = wire::Result;

    fn into_wire(self) -> WireResult<wire::Result> {
        Ok(wire::Result {
            signature: self.signature,
        })
    }

    fn from_wire(message: wire::Result) -> WireResult<Self> {
        Ok(Result {
            signature: message.signature,
        })
    }
}
