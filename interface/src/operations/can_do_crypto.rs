//! CanDoCrypto: ask a provider whether it could do something with a key of
//! given attributes, without doing it.

use super::key_attributes::{attributes_from_wire, attributes_to_wire};
use super::{Wire, WireResult, empty_wire};
use crate::ResponseStatus;
use crate::generated::can_do_crypto as wire;
use psa_crypto::types::key::Attributes;

/// What kind of support is asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CheckType {
    /// Using such a key with the algorithm in its policy.
    Use,
    /// Generating such a key.
    Generate,
    /// Importing such a key.
    Import,
    /// Deriving such a key.
    Derive,
}

/// Could the provider do `check_type` with a key of `attributes`?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    /// The kind of support asked about.
    pub check_type: CheckType,
    /// The key's type, size and policy.
    pub attributes: Attributes,
}

/// Yes. (No is the status `PsaErrorNotSupported`.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Result {}

fn check_type_from_wire(value: i32) -> WireResult<CheckType> {
    use wire::CheckType as W;
    match W::try_from(value).map_err(|_| ResponseStatus::InvalidEncoding)? {
        W::ChecktypeNone => Err(ResponseStatus::InvalidEncoding),
        W::Use => Ok(CheckType::Use),
        W::Generate => Ok(CheckType::Generate),
        W::Import => Ok(CheckType::Import),
        W::Derive => Ok(CheckType::Derive),
    }
}

fn check_type_to_wire(check_type: CheckType) -> i32 {
    let value = match check_type {
        CheckType::Use => wire::CheckType::Use,
        CheckType::Generate => wire::CheckType::Generate,
        CheckType::Import => wire::CheckType::Import,
        CheckType::Derive => wire::CheckType::Derive,
    };
    value.into()
}

impl Wire for Operation {
    type Message = wire::Operation;

    fn into_wire(self) -> WireResult<wire::Operation> {
        Ok(wire::Operation {
            check_type: check_type_to_wire(self.check_type),
            attributes: attributes_to_wire(self.attributes)?,
        })
    }

    fn from_wire(message: wire::Operation) -> WireResult<Self> {
        Ok(Operation {
            check_type: check_type_from_wire(message.check_type)?,
            attributes: attributes_from_wire(message.attributes)?,
        })
    }
}

empty_wire!(Result, wire::Result);
