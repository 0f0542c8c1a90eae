//! PsaMacCompute: compute a message authentication code.

use super::algorithm::required;
use super::{Wire, WireResult};
use crate::SecretBytes;
use crate::generated::psa_mac_compute as wire;
use psa_crypto::types::algorithm::Mac;
use std::mem::take;

/// Compute the MAC of `input` with the key `key_name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The key.
    pub key_name: String,
    /// The MAC algorithm.
    pub alg: Mac,
    /// The message.
    pub input: SecretBytes,
}

/// The MAC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Result {
    /// The MAC.
    pub mac: Vec<u8>,
}

impl Wire for Operation {
    type Message = wire::Operation;

    fn into_wire(self) -> WireResult<wire::Operation> {
        Ok(wire::Operation {
            key_name: self.key_name,
            alg: Some(self.alg.try_into()?),
            input: self.input.into_vec(),
        })
    }

    fn from_wire(mut message: wire::Operation) -> WireResult<Self> {
        Ok(Operation {
            key_name: take(&mut message.key_name),
            alg: required(message.alg.take())?.try_into()?,
            input: take(&mut message.input).into(),
        })
    }
}

impl Wire for Result {
    type Message = wire::Result;

    fn into_wire(self) -> WireResult<wire::Result> {
        Ok(wire::Result { mac: self.mac })
    }

    fn from_wire(message: wire::Result) -> WireResult<Self> {
        Ok(Result { mac: message.mac })
    }
}
