//! PsaMacVerify: check a message authentication code.

use super::algorithm::required;
use super::{Wire, WireResult, empty_wire};
use crate::SecretBytes;
use crate::generated::psa_mac_verify as wire;
use psa_crypto::types::algorithm::Mac;
use std::mem::take;

/// Check that `mac` is the MAC of `input` under the key `key_name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The key.
    pub key_name: String,
    /// The MAC algorithm.
    pub alg: Mac,
    /// The message.
    pub input: SecretBytes,
    /// The MAC to check.
    pub mac: Vec<u8>,
}

/// The MAC is right. (A wrong one is the status `PsaErrorInvalidSignature`.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Result {}

impl Wire for Operation {
    type Message = wire::Operation;

    fn into_wire(self) -> WireResult<wire::Operation> {
        Ok(wire::Operation {
            key_name: self.key_name,
            alg: Some(self.alg.try_into()?),
            input: self.input.into_vec(),
            mac: self.mac,
        })
    }

    fn from_wire(mut message: wire::Operation) -> WireResult<Self> {
        Ok(Operation {
            key_name: take(&mut message.key_name),
            alg: required(message.alg.take())?.try_into()?,
            input: take(&mut message.input).into(),
            mac: take(&mut message.mac),
        })
    }
}

empty_wire!(Result, wire::Result);
