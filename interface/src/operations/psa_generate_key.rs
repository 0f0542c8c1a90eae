//! PsaGenerateKey: create a new key inside a provider.

use super::key_attributes::{attributes_from_wire, attributes_to_wire};
use super::{Wire, WireResult, empty_wire};
use crate::generated::psa_generate_key as wire;
use psa_crypto::types::key::Attributes;

/// Generate a key named `key_name` with `attributes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// Name of the new key, unique for the application in that provider.
    pub key_name: String,
    /// Type, size and policy of the key.
    pub attributes: Attributes,
}

/// The key was created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Result {}

impl Wire for Operation {
    type Message = wire::Operation;

    fn into_wire(self) -> WireResult<wire::Operation> {
        Ok(wire::Operation {
            key_name: self.key_name,
            attributes: attributes_to_wire(self.attributes)?,
        })
    }

    fn from_wire(message: wire::Operation) -> WireResult<Self> {
        Ok(Operation {
            key_name: message.key_name,
            attributes: attributes_from_wire(message.attributes)?,
        })
    }
}

empty_wire!(Result, wire::Result);
