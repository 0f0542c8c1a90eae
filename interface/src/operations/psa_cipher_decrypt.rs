//! PsaCipherDecrypt: unauthenticated symmetric decryption.

use super::algorithm::{cipher_from_wire, cipher_to_wire};
use super::{Wire, WireResult};
use crate::SecretBytes;
use crate::generated::psa_cipher_decrypt as wire;
use psa_crypto::types::algorithm::Cipher;
use std::mem::take;

/// Decrypt `ciphertext` (IV first) with the key `key_name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The key.
    pub key_name: String,
    /// The cipher mode.
    pub alg: Cipher,
    /// IV then ciphertext.
    pub ciphertext: Vec<u8>,
}

/// The plaintext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Result {
    /// The plaintext.
    pub plaintext: SecretBytes,
}

impl Wire for Operation {
    type Message = wire::Operation;

    fn into_wire(self) -> WireResult<wire::Operation> {
        Ok(wire::Operation {
            key_name: self.key_name,
            alg: cipher_to_wire(self.alg),
            ciphertext: self.ciphertext,
        })
    }

    fn from_wire(message: wire::Operation) -> WireResult<Self> {
        Ok(Operation {
            key_name: message.key_name,
            alg: cipher_from_wire(message.alg)?,
            ciphertext: message.ciphertext,
        })
    }
}

impl Wire for Result {
    type Message = wire::Result;

    fn into_wire(self) -> WireResult<wire::Result> {
        Ok(wire::Result {
            plaintext: self.plaintext.into_vec(),
        })
    }

    fn from_wire(mut message: wire::Result) -> WireResult<Self> {
        Ok(Result {
            plaintext: take(&mut message.plaintext).into(),
        })
    }
}
