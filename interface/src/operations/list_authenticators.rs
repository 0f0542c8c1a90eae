//! ListAuthenticators: the authenticators the service accepts.

use super::{Wire, WireResult, empty_wire};
use crate::generated::list_authenticators as wire;
use crate::{AuthType, ResponseStatus};

/// Ask for the authenticators. Needs no authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Operation {}

/// One authenticator the service accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatorInfo {
    /// What it is, for people.
    pub description: String,
    /// Version: major.
    pub version_maj: u32,
    /// Version: minor.
    pub version_min: u32,
    /// Version: revision.
    pub version_rev: u32,
    /// The auth type to put in request headers to use it.
    pub id: AuthType,
}

/// The authenticators, the preferred one first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Result {
    /// The authenticators.
    pub authenticators: Vec<AuthenticatorInfo>,
}

empty_wire!(Operation, wire::Operation);

impl Wire for Result {
    type Message = wire::Result;

    fn into_wire(self) -> WireResult<wire::Result> {
        let authenticators = self
            .authenticators
            .into_iter()
            .map(|a| wire::AuthenticatorInfo {
                description: a.description,
                version_maj: a.version_maj,
                version_min: a.version_min,
                version_rev: a.version_rev,
                id: a.id.id().into(),
            })
            .collect();
        Ok(wire::Result { authenticators })
    }

    fn from_wire(message: wire::Result) -> WireResult<Self> {
        let authenticators = message
            .authenticators
            .into_iter()
            .map(|a| {
                Ok(AuthenticatorInfo {
                    description: a.description,
                    version_maj: a.version_maj,
                    version_min: a.version_min,
                    version_rev: a.version_rev,
                    id: u8::try_from(a.id)
                        .ok()
                        .and_then(AuthType::from_id)
                        .ok_or(ResponseStatus::InvalidEncoding)?,
                })
            })
            .collect::<WireResult<_>>()?;
        Ok(Result { authenticators })
    }
}
