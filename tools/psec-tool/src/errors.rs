//! Errors that say what to do, and the exit code each kind gives.

use crate::cli::provider_name;
use psec_client::{ClientErrorKind, Error, ProviderId, ResponseStatus};
use std::fmt;

/// Exit code: a verification failed.
pub(crate) const EXIT_FAILED_CHECK: u8 = 1;
/// Exit code: bad arguments or input; nothing was sent.
pub(crate) const EXIT_USAGE: u8 = 2;
/// Exit code: the service refused the request.
pub(crate) const EXIT_SERVICE: u8 = 3;
/// Exit code: the service could not be reached.
pub(crate) const EXIT_CONNECTION: u8 = 4;

/// A usage error: bad arguments or input.
#[derive(Debug)]
pub(crate) struct Usage(pub(crate) String);

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// A check that did not pass (a signature that does not verify).
#[derive(Debug)]
pub(crate) struct CheckFailed(pub(crate) String);

impl fmt::Display for CheckFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CheckFailed {}

/// A usage error with this message.
pub(crate) fn usage(message: impl Into<String>) -> anyhow::Error {
    Usage(message.into()).into()
}

/// Marks any error (a parse failure of the input, say) as a usage error,
/// keeping its message.
pub(crate) fn as_usage(error: anyhow::Error) -> anyhow::Error {
    usage(format!("{error:#}"))
}

/// The exit code for `error`: the first cause that says.
pub(crate) fn exit_code(error: &anyhow::Error) -> u8 {
    for cause in error.chain() {
        if cause.is::<Usage>() {
            return EXIT_USAGE;
        }
        if cause.is::<CheckFailed>() {
            return EXIT_FAILED_CHECK;
        }
        if let Some(client_error) = cause.downcast_ref::<Error>() {
            return match client_error {
                Error::Client(kind) => client_exit_code(kind),
                _ => EXIT_SERVICE,
            };
        }
    }
    EXIT_USAGE
}

fn client_exit_code(kind: &ClientErrorKind) -> u8 {
    match kind {
        ClientErrorKind::InvalidEndpoint { .. }
        | ClientErrorKind::MissingApplicationName
        | ClientErrorKind::ZeroTimeout => EXIT_USAGE,
        ClientErrorKind::Connect { .. }
        | ClientErrorKind::Io { .. }
        | ClientErrorKind::Timeout { .. }
        | ClientErrorKind::ConnectionClosed { .. } => EXIT_CONNECTION,
        _ => EXIT_SERVICE,
    }
}

/// What the user is doing, for the messages of service errors.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Subject<'a> {
    /// The key involved, if any.
    pub(crate) key: Option<&'a str>,
    /// The provider the request went to.
    pub(crate) provider: Option<ProviderId>,
}

/// Wraps a client error with a message that says what to do.
pub(crate) fn explain(error: Error, subject: Subject<'_>) -> anyhow::Error {
    let provider = subject
        .provider
        .map(|p| format!(" in provider {}", provider_name(p)))
        .unwrap_or_default();
    let key = subject.key.unwrap_or("?");
    let message = match &error {
        Error::Service(status) => match status {
            ResponseStatus::PsaErrorDoesNotExist if subject.key.is_some() => {
                format!("no key named {key} for this application{provider}; see psec list-keys")
            }
            ResponseStatus::PsaErrorAlreadyExists if subject.key.is_some() => format!(
                "a key named {key} already exists{provider}; pick another name or run psec delete-key -k {key}"
            ),
            ResponseStatus::PsaErrorNotPermitted if subject.key.is_some() => {
                format!("the policy of key {key} does not permit this; see psec key-info -k {key}")
            }
            ResponseStatus::PsaErrorInvalidSignature => {
                return CheckFailed("the signature does not verify".to_string()).into();
            }
            ResponseStatus::AdminOperation => {
                "this operation is for the service's administrators; \
                 run it as an admin application (--app-name) or user"
                    .to_string()
            }
            ResponseStatus::ProviderNotRegistered | ResponseStatus::ProviderDoesNotExist => {
                format!("the service does not run the provider{provider}; see psec list-providers")
            }
            ResponseStatus::PsaErrorNotSupported => {
                format!(
                    "the provider{provider} does not support this operation or these parameters; see psec list-opcodes"
                )
            }
            ResponseStatus::AuthenticationError => {
                "the service refused this application's credentials; check --app-name".to_string()
            }
            _ => "the request failed".to_string(),
        },
        Error::Client(ClientErrorKind::Connect { endpoint, .. }) => format!(
            "can not connect to the service at {}; is psecd running? (set --endpoint or PARSEC_SERVICE_ENDPOINT)",
            endpoint.path().display()
        ),
        Error::Client(ClientErrorKind::MissingApplicationName) => {
            "the service identifies applications by name; pass --app-name NAME".to_string()
        }
        Error::Client(ClientErrorKind::NoUsableProvider) => {
            "the service runs no crypto provider".to_string()
        }
        Error::Client(_) => "no usable answer from the service".to_string(),
        _ => "the request failed".to_string(),
    };
    anyhow::Error::new(error).context(message)
}
