//! AttestKey: have the provider prove that a key lives in its hardware.
//!
//! The only mechanism the protocol defines is TPM 2.0 credential activation:
//! a verifier encrypts a secret to the attesting key (the endorsement key by
//! default) bound to the attested key's name, and only a TPM that holds both
//! can give the secret back.

use super::algorithm::required;
use super::{Wire, WireResult};
use crate::SecretBytes;
use crate::generated::attest_key as wire;
use std::mem::take;

/// The inputs of an attestation mechanism.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttestationParams {
    /// TPM2_ActivateCredential.
    ActivateCredential {
        /// The credential blob from TPM2_MakeCredential.
        credential_blob: Vec<u8>,
        /// The encrypted seed from TPM2_MakeCredential.
        secret: Vec<u8>,
    },
}

/// What an attestation mechanism gives back.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttestationOutput {
    /// TPM2_ActivateCredential: the decrypted credential.
    ActivateCredential {
        /// The credential the verifier chose.
        credential: SecretBytes,
    },
}

/// Attest the key `attested_key_name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The key being attested.
    pub attested_key_name: String,
    /// The mechanism and its inputs.
    pub parameters: AttestationParams,
    /// The key that vouches for it; `None` for the provider's default (the
    /// endorsement key for a TPM).
    pub attesting_key_name: Option<String>,
}

/// The attestation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Result {
    /// The mechanism's output.
    pub output: AttestationOutput,
}

/// An optional name: proto3 can not tell empty from absent, so empty means
/// absent.
pub(crate) fn optional_name(name: String) -> Option<String> {
    (!name.is_empty()).then_some(name)
}

impl Wire for Operation {
    type Message = wire::Operation;

    fn into_wire(self) -> WireResult<wire::Operation> {
        use wire::attestation_mechanism_params::{ActivateCredential, Mechanism};
        let mechanism = match self.parameters {
            AttestationParams::ActivateCredential {
                credential_blob,
                secret,
            } => Mechanism::ActivateCredential(ActivateCredential {
                credential_blob,
                secret,
            }),
        };
        Ok(wire::Operation {
            attested_key_name: self.attested_key_name,
            parameters: Some(wire::AttestationMechanismParams {
                mechanism: Some(mechanism),
            }),
            attesting_key_name: self.attesting_key_name.unwrap_or_default(),
        })
    }

    fn from_wire(message: wire::Operation) -> WireResult<Self> {
        use wire::attestation_mechanism_params::Mechanism;
        let parameters = match required(required(message.parameters)?.mechanism)? {
            Mechanism::ActivateCredential(params) => AttestationParams::ActivateCredential {
                credential_blob: params.credential_blob,
                secret: params.secret,
            },
        };
        Ok(Operation {
            attested_key_name: message.attested_key_name,
            parameters,
            attesting_key_name: optional_name(message.attesting_key_name),
        })
    }
}

impl Wire for Result {
    type Message = wire::Result;

    fn into_wire(self) -> WireResult<wire::Result> {
        use wire::attestation_output::{ActivateCredential, Mechanism};
        let mechanism = match self.output {
            AttestationOutput::ActivateCredential { credential } => {
                Mechanism::ActivateCredential(ActivateCredential {
                    credential: credential.into_vec(),
                })
            }
        };
        Ok(wire::Result {
            output: Some(wire::AttestationOutput {
                mechanism: Some(mechanism),
            }),
        })
    }

    fn from_wire(message: wire::Result) -> WireResult<Self> {
        use wire::attestation_output::Mechanism;
        let output = match required(required(message.output)?.mechanism)? {
            Mechanism::ActivateCredential(mut activated) => AttestationOutput::ActivateCredential {
                credential: take(&mut activated.credential).into(),
            },
        };
        Ok(Result { output })
    }
}
