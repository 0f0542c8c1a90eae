//! The one error type of every provider, and its one mapping to the wire.

use crate::KeyStoreError;
use psec_interface::ResponseStatus;

/// Why a provider could not do an operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderError {
    /// The application has no key of that name in this provider. (Another
    /// application's key of that name gives this too: a tenant never learns
    /// of another's keys.)
    #[error("no key named `{0}` for this application")]
    KeyDoesNotExist(String),
    /// The application already has a key of that name in this provider.
    #[error("a key named `{0}` already exists for this application")]
    KeyAlreadyExists(String),
    /// The provider can not do this (operation, algorithm, key type or size).
    #[error("not supported: {0}")]
    NotSupported(String),
    /// The key's policy forbids it.
    #[error("not permitted: {0}")]
    NotPermitted(String),
    /// A parameter is wrong.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The operation needs an authenticated application.
    #[error("this operation needs an authenticated application")]
    NotAuthenticated,
    /// The key info store failed.
    #[error("key info store: {0}")]
    KeyStore(#[from] KeyStoreError),
    /// The backend answered with a PSA status (an invalid signature, a
    /// failed tag check, a hardware fault...).
    #[error("{context}: {status}")]
    Backend {
        /// The status to send back.
        status: ResponseStatus,
        /// What the provider was doing, for the service log.
        context: String,
    },
}

impl ProviderError {
    /// A backend failure with its PSA status.
    pub fn backend(status: ResponseStatus, context: impl Into<String>) -> Self {
        ProviderError::Backend {
            status,
            context: context.into(),
        }
    }

    /// The status the client receives. This is the only place provider
    /// errors meet the wire.
    pub fn status(&self) -> ResponseStatus {
        match self {
            ProviderError::KeyDoesNotExist(_) => ResponseStatus::PsaErrorDoesNotExist,
            ProviderError::KeyAlreadyExists(_) => ResponseStatus::PsaErrorAlreadyExists,
            ProviderError::NotSupported(_) => ResponseStatus::PsaErrorNotSupported,
            ProviderError::NotPermitted(_) => ResponseStatus::PsaErrorNotPermitted,
            ProviderError::InvalidArgument(_) => ResponseStatus::PsaErrorInvalidArgument,
            ProviderError::NotAuthenticated => ResponseStatus::NotAuthenticated,
            ProviderError::KeyStore(_) => ResponseStatus::KeyInfoManagerError,
            ProviderError::Backend { status, .. } => *status,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_maps_to_its_documented_status() {
        let cases = [
            (
                ProviderError::KeyDoesNotExist("k".into()),
                ResponseStatus::PsaErrorDoesNotExist,
            ),
            (
                ProviderError::KeyAlreadyExists("k".into()),
                ResponseStatus::PsaErrorAlreadyExists,
            ),
            (
                ProviderError::NotSupported("x".into()),
                ResponseStatus::PsaErrorNotSupported,
            ),
            (
                ProviderError::NotPermitted("x".into()),
                ResponseStatus::PsaErrorNotPermitted,
            ),
            (
                ProviderError::InvalidArgument("x".into()),
                ResponseStatus::PsaErrorInvalidArgument,
            ),
            (
                ProviderError::NotAuthenticated,
                ResponseStatus::NotAuthenticated,
            ),
            (
                ProviderError::KeyStore(KeyStoreError::Corrupt("x".into())),
                ResponseStatus::KeyInfoManagerError,
            ),
            (
                ProviderError::backend(ResponseStatus::PsaErrorInvalidSignature, "verify"),
                ResponseStatus::PsaErrorInvalidSignature,
            ),
        ];
        for (error, status) in cases {
            assert_eq!(error.status(), status, "{error}");
        }
    }
}
