//! PsaSignMessage: hash a message and sign the digest, in one step.

use super::algorithm::required;
use super::{Wire, WireResult};
use crate::SecretBytes;
use crate::generated::psa_sign_message as wire;
use psa_crypto::types::algorithm::AsymmetricSignature;
use std::mem::take;

/// Sign `message` with the private key `key_name` using `alg`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The signing key.
    pub key_name: String,
    /// The signature algorithm; its hash is applied to the message.
    pub alg: AsymmetricSignature,
    /// The message.
    pub message: SecretBytes,
}

/// The signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Result {
    /// The signature, in the PSA format.
    pub signature: Vec<u8>,
}

impl Wire for Operation {
    type Message = wire::Operation;

    fn into_wire(self) -> WireResult<wire::Operation> {
        Ok(wire::Operation {
            key_name: self.key_name,
            alg: Some(self.alg.into()),
            message: self.message.into_vec(),
        })
    }

    fn from_wire(mut message: wire::Operation) -> WireResult<Self> {
        Ok(Operation {
            key_name: take(&mut message.key_name),
            alg: required(message.alg.take())?.try_into()?,
            message: take(&mut message.message).into(),
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
