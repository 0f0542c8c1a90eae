//! PsaExportKey: read a key's material out, where its policy allows export.

use super::{Wire, WireResult};
use crate::SecretBytes;
use crate::generated::psa_export_key as wire;
use std::mem::take;

/// Export the key `key_name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The key.
    pub key_name: String,
}

/// The key material, in the PSA export format for its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Result {
    /// The key material.
    pub data: SecretBytes,
}

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

impl Wire for Result {
    type Message = wire::Result;

    fn into_wire(self) -> WireResult<wire::Result> {
        Ok(wire::Result {
            data: self.data.into_vec(),
        })
    }

    fn from_wire(mut message: wire::Result) -> WireResult<Self> {
        Ok(Result {
            data: take(&mut message.data).into(),
        })
    }
}
