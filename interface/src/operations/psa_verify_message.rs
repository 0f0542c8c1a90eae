//! PsaVerifyMessage: hash a message and check its signature, in one step.

use super::algorithm::required;
use super::{Wire, WireResult, empty_wire};
use crate::SecretBytes;
use crate::generated::psa_verify_message as wire;
use psa_crypto::types::algorithm::AsymmetricSignature;
use std::mem::take;

/// Verify `signature` over `message` with the public part of `key_name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The verifying key.
    pub key_name: String,
    /// The signature algorithm.
    pub alg: AsymmetricSignature,
    /// The message that was signed.
    pub message: SecretBytes,
    /// The signature to check.
    pub signature: Vec<u8>,
}

/// The signature is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Result {}

impl Wire for Operation {
    type Message = wire::Operation;

    fn into_wire(self) -> WireResult<wire::Operation> {
        Ok(wire::Operation {
            key_name: self.key_name,
            alg: Some(self.alg.into()),
            message: self.message.into_vec(),
            signature: self.signature,
        })
    }

    fn from_wire(mut message: wire::Operation) -> WireResult<Self> {
        Ok(Operation {
            key_name: take(&mut message.key_name),
            alg: required(message.alg.take())?.try_into()?,
            message: take(&mut message.message).into(),
            signature: take(&mut message.signature),
        })
    }
}

empty_wire!(Result, wire::Result);
