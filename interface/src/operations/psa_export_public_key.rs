//! PsaExportPublicKey: the public part of a key pair (or a public key).

use super::{Wire, WireResult};
use crate::generated::psa_export_public_key as wire;

/// Export the public part of `key_name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The key.
    pub key_name: String,
}

/// The public key, in the PSA format: DER `RSAPublicKey` for RSA, the
/// uncompressed point for Weierstrass curves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Result {
    /// The public key.
    pub data: Vec<u8>,
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
        Ok(wire::Result { data: self.data })
    }

    fn from_wire(message: wire::Result) -> WireResult<Self> {
        Ok(Result { data: message.data })
    }
}
