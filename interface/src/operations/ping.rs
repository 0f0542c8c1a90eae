//! Ping: is the service there, and which wire protocol version does it speak.

use super::{Wire, WireResult, empty_wire};
use crate::ResponseStatus;
use crate::generated::ping as wire;

/// Ask for the service's wire protocol version. Needs no authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Operation {}

/// The highest wire protocol version the service speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Result {
    /// Major version.
    pub wire_protocol_version_maj: u8,
    /// Minor version.
    pub wire_protocol_version_min: u8,
}

empty_wire!(Operation, wire::Operation);

impl Wire for Result {
    type Message = wire::Result;

    fn into_wire(self) -> WireResult<wire::Result> {
        Ok(wire::Result {
            wire_protocol_version_maj: self.wire_protocol_version_maj.into(),
            wire_protocol_version_min: self.wire_protocol_version_min.into(),
        })
    }

    fn from_wire(message: wire::Result) -> WireResult<Self> {
        let byte = |v: u32| u8::try_from(v).map_err(|_| ResponseStatus::InvalidEncoding);
        Ok(Result {
            wire_protocol_version_maj: byte(message.wire_protocol_version_maj)?,
            wire_protocol_version_min: byte(message.wire_protocol_version_min)?,
        })
    }
}
