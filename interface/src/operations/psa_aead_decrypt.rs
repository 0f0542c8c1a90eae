//! PsaAeadDecrypt: authenticated decryption with a symmetric key.

use super::algorithm::required;
use super::{Wire, WireResult};
use crate::SecretBytes;
use crate::generated::psa_aead_decrypt as wire;
use psa_crypto::types::algorithm::Aead;
use std::mem::take;

/// Check and decrypt `ciphertext` (with its tag), and check `additional_data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The key.
    pub key_name: String,
    /// The AEAD algorithm.
    pub alg: Aead,
    /// The nonce used to encrypt.
    pub nonce: Vec<u8>,
    /// Data authenticated but not encrypted.
    pub additional_data: Vec<u8>,
    /// Ciphertext then tag.
    pub ciphertext: Vec<u8>,
}

/// The plaintext, given only when the tag checked out.
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
            alg: Some(self.alg.try_into()?),
            nonce: self.nonce,
            additional_data: self.additional_data,
            ciphertext: self.ciphertext,
        })
    }

    fn from_wire(message: wire::Operation) -> WireResult<Self> {
        Ok(Operation {
            key_name: message.key_name,
            alg: required(message.alg)?.try_into()?,
            nonce: message.nonce,
            additional_data: message.additional_data,
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
