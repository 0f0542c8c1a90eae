//! PsaAsymmetricEncrypt: encrypt a short message with a public key.

use super::algorithm::required;
use super::{Wire, WireResult};
use crate::SecretBytes;
use crate::generated::psa_asymmetric_encrypt as wire;
use psa_crypto::types::algorithm::AsymmetricEncryption;
use std::mem::take;

/// Encrypt `plaintext` with the public part of `key_name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The encrypting key.
    pub key_name: String,
    /// The encryption algorithm.
    pub alg: AsymmetricEncryption,
    /// The message.
    pub plaintext: SecretBytes,
    /// The OAEP label, if any (`None` is sent as an empty field).
    pub salt: Option<SecretBytes>,
}

/// The ciphertext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Result {
    /// The ciphertext.
    pub ciphertext: Vec<u8>,
}

/// An optional byte field: proto3 can not tell empty from absent, so empty
/// means absent.
pub(crate) fn optional_secret(bytes: Vec<u8>) -> Option<SecretBytes> {
    (!bytes.is_empty()).then(|| bytes.into())
}

impl Wire for Operation {
    type Message = wire::Operation;

    fn into_wire(self) -> WireResult<wire::Operation> {
        Ok(wire::Operation {
            key_name: self.key_name,
            alg: Some(self.alg.into()),
            plaintext: self.plaintext.into_vec(),
            salt: self.salt.map(SecretBytes::into_vec).unwrap_or_default(),
        })
    }

    fn from_wire(mut message: wire::Operation) -> WireResult<Self> {
        Ok(Operation {
            key_name: take(&mut message.key_name),
            alg: required(message.alg.take())?.try_into()?,
            plaintext: take(&mut message.plaintext).into(),
            salt: optional_secret(take(&mut message.salt)),
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
