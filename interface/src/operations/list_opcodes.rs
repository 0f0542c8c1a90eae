//! ListOpcodes: the operations one provider supports.

use super::list_providers::provider_from_wire;
use super::{Wire, WireResult};
use crate::generated::list_opcodes as wire;
use crate::{Opcode, ProviderId};
use std::collections::BTreeSet;

/// Ask which opcodes `provider_id` supports. Needs no authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    /// The provider asked about.
    pub provider_id: ProviderId,
}

/// The opcodes the provider supports.
///
/// A code this crate does not know (from a newer service) is left out rather
/// than failing the whole answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Result {
    /// The supported opcodes.
    pub opcodes: BTreeSet<Opcode>,
}

impl Wire for Operation {
    type Message = wire::Operation;

    fn into_wire(self) -> WireResult<wire::Operation> {
        Ok(wire::Operation {
            provider_id: self.provider_id.id().into(),
        })
    }

    fn from_wire(message: wire::Operation) -> WireResult<Self> {
        Ok(Operation {
            provider_id: provider_from_wire(message.provider_id)?,
        })
    }
}

impl Wire for Result {
    type Message = wire::Result;

    fn into_wire(self) -> WireResult<wire::Result> {
        Ok(wire::Result {
            opcodes: self.opcodes.into_iter().map(Opcode::code).collect(),
        })
    }

    fn from_wire(message: wire::Result) -> WireResult<Self> {
        Ok(Result {
            opcodes: message
                .opcodes
                .into_iter()
                .filter_map(Opcode::from_code)
                .collect(),
        })
    }
}
