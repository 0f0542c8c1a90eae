//! PsaAeadEncrypt: authenticated encryption with a symmetric key.

use super::algorithm::required;
use super::{Wire, WireResult};
use crate::SecretBytes;
use crate::generated::psa_aead_encrypt as wire;
use psa_crypto::types::algorithm::Aead;
use std::mem::take;

/// Encrypt and authenticate `plaintext`, and authenticate `additional_data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The key.
    pub key_name: String,
    /// The AEAD algorithm.
    pub alg: Aead,
    /// The nonce; never reuse one with the same key.
    pub nonce: Vec<u8>,
    /// Data authenticated but not encrypted.
    pub additional_data: Vec<u8>,
    /// The message.
    pub plaintext: SecretBytes,
}

/// The ciphertext with the tag appended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Result {
    /// Ciphertext then tag.
    pub ciphertext: Vec<u8>,
}

impl Wire for Operation {
    type Message = wire::Operation;

    fn into_wire(self) -> WireResult<wire::Operation> {
        Ok(wire::Operation {
            key_name: self.key_name,
            alg: Some(self.alg.try_into()?),
            nonce: self.nonce,
            additional_data: self.additional_data,
            plaintext: self.plaintext.into_vec(),
        })
    }

    fn from_wire(mut message: wire::Operation) -> WireResult<Self> {
        Ok(Operation {
            key_name: take(&mut message.key_name),
            alg: required(message.alg.take())?.try_into()?,
            nonce: take(&mut message.nonce),
            additional_data: take(&mut message.additional_data),
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
