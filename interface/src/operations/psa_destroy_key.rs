//! PsaDestroyKey: delete a key for good.

use super::{Wire, WireResult, empty_wire};
use crate::generated::psa_destroy_key as wire;

/// Destroy the key named `key_name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The key.
    pub key_name: String,
}

/// The key is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Result {}

impl Wire for Operation {
    type Message = wire::Operation;

    fn into_wire(self) -> WireResult<wire::Operation> {
        Ok(wire::Operation {
            key_name: self.key_name,
        })
    }

    fn from_wire(message: wire::Operation) -> WireResult<Self> {
        Ok(Operation {
            key_name: message.key_name,
        })
    }
}

empty_wire!(Result, wire::Result);
