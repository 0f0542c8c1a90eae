//! ListKeys: the caller's keys, in every provider.

use super::key_attributes::{attributes_from_wire, attributes_to_wire};
use super::list_providers::provider_from_wire;
use super::{Wire, WireResult, empty_wire};
use crate::ProviderId;
use crate::generated::list_keys as wire;
use psa_crypto::types::key::Attributes;

/// Ask for the caller's keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Operation {}

/// One key of the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// The provider that holds it.
    pub provider_id: ProviderId,
    /// Its name.
    pub name: String,
    /// Its type, size and policy.
    pub attributes: Attributes,
}

/// The caller's keys.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Result {
    /// The keys.
    pub keys: Vec<KeyInfo>,
}

empty_wire!(Operation, wire::Operation);

impl Wire for Result {
    type Message = wire::Result;

    fn into_wire(self) -> WireResult<wire::Result> {
        let keys = self
            .keys
            .into_iter()
            .map(|k| {
                Ok(wire::KeyInfo {
                    provider_id: k.provider_id.id().into(),
                    name: k.name,
                    attributes: attributes_to_wire(k.attributes)?,
                })
            })
            .collect::<WireResult<_>>()?;
        Ok(wire::Result { keys })
    }

    fn from_wire(message: wire::Result) -> WireResult<Self> {
        let keys = message
            .keys
            .into_iter()
            .map(|k| {
                Ok(KeyInfo {
                    provider_id: provider_from_wire(k.provider_id)?,
                    name: k.name,
                    attributes: attributes_from_wire(k.attributes)?,
                })
            })
            .collect::<WireResult<_>>()?;
        Ok(Result { keys })
    }
}
