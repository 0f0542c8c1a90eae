//! ListClients: the applications that own keys (administrators only).

use super::{Wire, WireResult, empty_wire};
use crate::generated::list_clients as wire;

/// Ask for the applications that own at least one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Operation {}

/// The applications, by name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Result {
    /// Application names.
    pub clients: Vec<String>,
}

empty_wire!(Operation, wire::Operation);

impl Wire for Result {
    type Message = wire::Result;

    fn into_wire(self) -> WireResult<wire::Result> {
        Ok(wire::Result {
            clients: self.clients,
        })
    }

    fn from_wire(message: wire::Result) -> WireResult<Self> {
        Ok(Result {
            clients: message.clients,
        })
    }
}
