//! PsaGenerateRandom: random bytes from the provider's generator.

use super::{Wire, WireResult};
use crate::generated::psa_generate_random as wire;
use crate::{ResponseStatus, SecretBytes};
use std::mem::take;

/// Ask for `size` random bytes. Needs no authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    /// How many bytes.
    pub size: usize,
}

/// The random bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Result {
    /// Exactly `size` bytes.
    pub random_bytes: SecretBytes,
}

impl Wire for Operation {
    type Message = wire::Operation;

    fn into_wire(self) -> WireResult<wire::Operation> {
        Ok(wire::Operation {
            size: u64::try_from(self.size).map_err(|_| ResponseStatus::InvalidEncoding)?,
        })
    }

    fn from_wire(message: wire::Operation) -> WireResult<Self> {
        Ok(Operation {
            size: usize::try_from(message.size).map_err(|_| ResponseStatus::InvalidEncoding)?,
        })
    }
}

impl Wire for Result {
    type Message = wire::Result;

    fn into_wire(self) -> WireResult<wire::Result> {
        Ok(wire::Result {
            random_bytes: self.random_bytes.into_vec(),
        })
    }

    fn from_wire(mut message: wire::Result) -> WireResult<Self> {
        Ok(Result {
            random_bytes: take(&mut message.random_bytes).into(),
        })
    }
}
