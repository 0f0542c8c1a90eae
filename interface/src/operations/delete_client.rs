//! DeleteClient: delete every key of one application (administrators only).

use super::{Wire, WireResult, empty_wire};
use crate::generated::delete_client as wire;

/// Delete all keys of `client`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The application's name.
    pub client: String,
}

/// The application's keys are gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Result {}

impl Wire for Operation {
    type Message = wire::Operation;

    fn into_wire(self) -> WireResult<wire::Operation> {
        Ok(wire::Operation {
            client: self.client,
        })
    }

    fn from_wire(message: wire::Operation) -> WireResult<Self> {
        Ok(Operation {
            client: message.client,
        })
    }
}

empty_wire!(Result, wire::Result);
