//! PsaCipherEncrypt: unauthenticated symmetric encryption.

use super::algorithm::{cipher_from_wire, cipher_to_wire};
use super::{Wire, WireResult};
use crate::SecretBytes;
use crate::generated::psa_cipher_encrypt as wire;
use psa_crypto::types::algorithm::Cipher;
use std::mem::take;

/// Encrypt `plaintext` with the key `key_name`; the provider picks the IV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The key.
    pub key_name: String,
    /// The cipher mode.
    pub alg: Cipher,
    /// The message.
    pub plaintext: SecretBytes,
}

/// The IV followed by the ciphertext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Result {
    /// IV then ciphertext.
    pub ciphertext: Vec<u8>,
}

impl Wire for Operation {
    type Message = wire::Operation;

    fn into_wire(self) -> WireResult<wire::Operation> {
        Ok(wire::Operation {
            key_name: self.key_name,
            alg: cipher_to_wire(self.alg),
            plaintext: self.plaintext.into_vec(),
        })
    }

    fn from_wire(mut message: wire::Operation) -> WireResult<Self> {
        Ok(Operation {
            key_name: take(&mut message.key_name),
            alg: cipher_from_wire(message.alg)?,
            plaintext: take(&mut message.plaintext).into(),
        })
    }
}

impl Wire for Result {
    type Message = wire::Result;

    fn into_wire(self) -> WireResult<wire::Result> {
        Ok(wire::Result {
            ciphertext: self.ciphertext,
        })
    }

    fn from_wire(message: wire::Result) -> WireResult<Self> {
        Ok(Result {
            ciphertext: message.ciphertext,
        })
    }
}
