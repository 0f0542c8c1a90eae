//! PrepareKeyAttestation: get what a verifier needs before calling AttestKey.

use super::algorithm::required;
use super::attest_key::optional_name;
use super::{Wire, WireResult};
use crate::generated::prepare_key_attestation as wire;

/// The inputs of the preparation, per mechanism.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PrepareKeyAttestationParams {
    /// TPM2_ActivateCredential.
    ActivateCredential {
        /// The key that will be attested.
        attested_key_name: String,
        /// The key that will vouch for it; `None` for the default.
        attesting_key_name: Option<String>,
    },
}

/// What the verifier needs, per mechanism.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PrepareKeyAttestationOutput {
    /// TPM2_ActivateCredential.
    ActivateCredential {
        /// The TPM name of the attested key.
        name: Vec<u8>,
        /// The TPM public area of the attested key.
        public: Vec<u8>,
        /// The public key of the attesting key, to encrypt the credential to.
        attesting_key_pub: Vec<u8>,
    },
}

/// Prepare an attestation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The mechanism and its inputs.
    pub parameters: PrepareKeyAttestationParams,
}

/// What the verifier needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Result {
    /// The mechanism's output.
    pub output: PrepareKeyAttestationOutput,
}

impl Wire for Operation {
    type Message = wire::Operation;

    fn into_wire(self) -> WireResult<wire::Operation> {
        use wire::prepare_key_attestation_params::{ActivateCredential, Mechanism};
        let mechanism = match self.parameters {
            PrepareKeyAttestationParams::ActivateCredential {
                attested_key_name,
                attesting_key_name,
            } => Mechanism::ActivateCredential(ActivateCredential {
                attested_key_name,
                attesting_key_name: attesting_key_name.unwrap_or_default(),
            }),
        };
        Ok(wire::Operation {
            parameters: Some(wire::PrepareKeyAttestationParams {
                mechanism: Some(mechanism),
            }),
        })
    }

    fn from_wire(message: wire::Operation) -> WireResult<Self> {
        use wire::prepare_key_attestation_params::Mechanism;
        let parameters = match required(required(message.parameters)?.mechanism)? {
            Mechanism::ActivateCredential(params) => {
                PrepareKeyAttestationParams::ActivateCredential {
                    attested_key_name: params.attested_key_name,
                    attesting_key_name: optional_name(params.attesting_key_name),
                }
            }
        };
        Ok(Operation { parameters })
    }
}

impl Wire for Result {
    type Message = wire::Result;

    fn into_wire(self) -> WireResult<wire::Result> {
        use wire::prepare_key_attestation_output::{ActivateCredential, Mechanism};
        let mechanism = match self.output {
            PrepareKeyAttestationOutput::ActivateCredential {
                name,
                public,
                attesting_key_pub,
            } => Mechanism::ActivateCredential(ActivateCredential {
                name,
                public,
                attesting_key_pub,
            }),
        };
        Ok(wire::Result {
            output: Some(wire::PrepareKeyAttestationOutput {
                mechanism: Some(mechanism),
            }),
        })
    }

    fn from_wire(message: wire::Result) -> WireResult<Self> {
        use wire::prepare_key_attestation_output::Mechanism;
        let output = match required(required(message.output)?.mechanism)? {
            Mechanism::ActivateCredential(out) => PrepareKeyAttestationOutput::ActivateCredential {
                name: out.name,
                public: out.public,
                attesting_key_pub: out.attesting_key_pub,
            },
        };
        Ok(Result { output })
    }
}
