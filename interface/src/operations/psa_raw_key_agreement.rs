//! PsaRawKeyAgreement: agree a shared secret with a peer's public key.

use super::algorithm::{raw_key_agreement_from_wire, raw_key_agreement_to_wire};
use super::{Wire, WireResult};
use crate::SecretBytes;
use crate::generated::psa_raw_key_agreement as wire;
use psa_crypto::types::algorithm::RawKeyAgreement;
use std::mem::take;

/// Combine the private key `private_key_name` with `peer_key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The key agreement algorithm.
    pub alg: RawKeyAgreement,
    /// Our private key.
    pub private_key_name: String,
    /// The peer's public key, in the PSA public key format.
    pub peer_key: Vec<u8>,
}

/// The raw shared secret; feed it to a key derivation before use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Result {
    /// The shared secret.
    pub shared_secret: SecretBytes,
}

impl Wire for Operation {
    type Message = wire::Operation;

    fn into_wire(self) -> WireResult<wire::Operation> {
        Ok(wire::Operation {
            alg: raw_key_agreement_to_wire(self.alg),
            private_key_name: self.private_key_name,
            peer_key: self.peer_key,
        })
    }

    fn from_wire(message: wire::Operation) -> WireResult<Self> {
        Ok(Operation {
            alg: raw_key_agreement_from_wire(message.alg)?,
            private_key_name: message.private_key_name,
            peer_key: message.peer_key,
        })
    }
}

impl Wire for Result {
    type Message = wire::Result;

    fn into_wire(self) -> WireResult<wire::Result> {
        Ok(wire::Result {
            shared_secret: self.shared_secret.into_vec(),
        })
    }

    fn from_wire(mut message: wire::Result) -> WireResult<Self> {
        Ok(Result {
            shared_secret: take(&mut message.shared_secret).into(),
        })
    }
}
