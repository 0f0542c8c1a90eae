//! ListProviders: the providers the service runs, in priority order, Core last.

use super::{Wire, WireResult, empty_wire};
use crate::generated::list_providers as wire;
use crate::{ProviderId, ResponseStatus};
use uuid::Uuid;

/// Ask for the providers. Needs no authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Operation {}

/// One provider the service runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderInfo {
    /// Identifies the kind of provider (see [`ProviderId::uuid`]).
    pub uuid: Uuid,
    /// What it is, for people.
    pub description: String,
    /// Who makes the backend.
    pub vendor: String,
    /// Version of the provider: major.
    pub version_maj: u32,
    /// Version of the provider: minor.
    pub version_min: u32,
    /// Version of the provider: revision.
    pub version_rev: u32,
    /// The id to put in request headers to reach it.
    pub id: ProviderId,
}

/// The providers, in the service's priority order; the first is the one
/// clients use by default.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Result {
    /// The providers.
    pub providers: Vec<ProviderInfo>,
}

empty_wire!(Operation, wire::Operation);

/// A provider id as carried in a `uint32` field.
pub(crate) fn provider_from_wire(id: u32) -> WireResult<ProviderId> {
    u8::try_from(id)
        .ok()
        .and_then(ProviderId::from_id)
        .ok_or(ResponseStatus::InvalidEncoding)
}

impl Wire for Result {
    type Message = wire::Result;

    fn into_wire(self) -> WireResult<wire::Result> {
        let providers = self
            .providers
            .into_iter()
            .map(|p| wire::ProviderInfo {
                uuid: p.uuid.to_string(),
                description: p.description,
                vendor: p.vendor,
                version_maj: p.version_maj,
                version_min: p.version_min,
                version_rev: p.version_rev,
                id: p.id.id().into(),
            })
            .collect();
        Ok(wire::Result { providers })
    }

    fn from_wire(message: wire::Result) -> WireResult<Self> {
        let providers = message
            .providers
            .into_iter()
            .map(|p| {
                Ok(ProviderInfo {
                    uuid: Uuid::parse_str(&p.uuid).map_err(|_| ResponseStatus::InvalidEncoding)?,
                    description: p.description,
                    vendor: p.vendor,
                    version_maj: p.version_maj,
                    version_min: p.version_min,
                    version_rev: p.version_rev,
                    id: provider_from_wire(p.id)?,
                })
            })
            .collect::<WireResult<_>>()?;
        Ok(Result { providers })
    }
}
