//! PsaHashCompute: hash a message.

use super::algorithm::{hash_from_wire, hash_to_wire};
use super::{Wire, WireResult};
use crate::SecretBytes;
use crate::generated::psa_hash_compute as wire;
use psa_crypto::types::algorithm::Hash;
use std::mem::take;

/// Hash `input` with `alg`. Needs no authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The hash algorithm.
    pub alg: Hash,
    /// The message.
    pub input: SecretBytes,
}

/// The digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Result {
    /// The digest.
    pub hash: Vec<u8>,
}

impl Wire for Operation {
    type Message = wire::Operation;

    fn into_wire(self) -> WireResult<wire::Operation> {
        Ok(wire::Operation {
            alg: hash_to_wire(self.alg),
            input: self.input.into_vec(),
        })
    }

    fn from_wire(mut message: wire::Operation) -> WireResult<Self> {
        Ok(Operation {
            alg: hash_from_wire(message.alg)?,
            input: take(&mut message.input).into(),
        })
    }
}

impl Wire for Result {
    type Message = wire::Result;

    fn into_wire(self) -> WireResult<wire::Result> {
        Ok(wire::Result { hash: self.hash })
    }

    fn from_wire(message: wire::Result) -> WireResult<Self> {
        Ok(Result { hash: message.hash })
    }
}
