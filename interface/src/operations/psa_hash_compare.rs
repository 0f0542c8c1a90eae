//! PsaHashCompare: hash a message and compare with an expected digest.

use super::algorithm::{hash_from_wire, hash_to_wire};
use super::{Wire, WireResult, empty_wire};
use crate::SecretBytes;
use crate::generated::psa_hash_compare as wire;
use psa_crypto::types::algorithm::Hash;
use std::mem::take;

/// Check that `hash` is the `alg` digest of `input`. Needs no authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The hash algorithm.
    pub alg: Hash,
    /// The message.
    pub input: SecretBytes,
    /// The expected digest.
    pub hash: Vec<u8>,
}

/// The digests match. (A mismatch is the status `PsaErrorInvalidSignature`.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Result {}

impl Wire for Operation {
    type Message = wire::Operation;

    fn into_wire(self) -> WireResult<wire::Operation> {
        Ok(wire::Operation {
            alg: hash_to_wire(self.alg),
            input: self.input.into_vec(),
            hash: self.hash,
        })
    }

    fn from_wire(mut message: wire::Operation) -> WireResult<Self> {
        Ok(Operation {
            alg: hash_from_wire(message.alg)?,
            input: take(&mut message.input).into(),
            hash: take(&mut message.hash),
        })
    }
}

empty_wire!(Result, wire::Result);
