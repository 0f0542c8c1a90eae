//! PsaAsymmetricDecrypt: decrypt a message with a private key.

use super::algorithm::required;
use super::psa_asymmetric_encrypt::optional_secret;
use super::{Wire, WireResult};
use crate::SecretBytes;
use crate::generated::psa_asymmetric_decrypt as wire;
use psa_crypto::types::algorithm::AsymmetricEncryption;
use std::mem::take;

/// Decrypt `ciphertext` with the private key `key_name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The decrypting key.
    pub key_name: String,
    /// The encryption algorithm.
    pub alg: AsymmetricEncryption,
    /// The ciphertext.
    pub ciphertext: Vec<u8>,
    /// The OAEP label, if any.
    pub salt: Option<SecretBytes>,
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
            alg: Some(self.alg.into()),
            ciphertext: self.ciphertext,
            salt: self.salt.map(SecretBytes::into_vec).unwrap_or_default(),
        })
    }

    fn from_wire(mut message: wire::Operation) -> WireResult<Self> {
        Ok(Operation {
            key_name: take(&mut message.key_name),
            alg: required(message.alg.take())?.try_into()?,
            ciphertext: take(&mut message.ciphertext),
            salt: optional_secret(take(&mut message.salt)),
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
