//! PsaImportKey: bring existing key material into a provider under a new name.

use super::key_attributes::{attributes_from_wire, attributes_to_wire};
use super::{Wire, WireResult, empty_wire};
use crate::SecretBytes;
use crate::generated::psa_import_key as wire;
use psa_crypto::types::key::Attributes;
use std::mem::take;

/// Import `data` as the key `key_name`.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// Name of the new key.
    pub key_name: String,
    /// Type, size and policy of the key.
    pub attributes: Attributes,
    /// The key material, in the PSA export format for its type (for an RSA
    /// public key, the DER `RSAPublicKey`; for an EC key pair, the private
    /// scalar).
    pub data: SecretBytes,
}

/// The key was imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Result {}

impl Wire for Operation {
    type Message = wire::Operation;

    fn into_wire(self) -> WireResult<wire::Operation> {
        Ok(wire::Operation {
            key_name: self.key_name,
            attributes: attributes_to_wire(self.attributes)?,
            data: self.data.into_vec(),
        })
    }

    fn from_wire(mut message: wire::Operation) -> WireResult<Self> {
        Ok(Operation {
            key_name: take(&mut message.key_name),
            attributes: attributes_from_wire(message.attributes.take())?,
            data: take(&mut message.data).into(),
        })
    }
}

empty_wire!(Result, wire::Result);
