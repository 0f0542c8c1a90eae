//! What can go wrong: the service refused the request, or the client could
//! not get an answer it can use.

use crate::Endpoint;
use psec_interface::{AuthType, Opcode, ProviderId, ResponseStatus};
use std::fmt;
use std::io;
use std::time::Duration;

/// Why an operation failed.
///
/// [`Error::Service`] means the service received the request and refused it:
/// the [`ResponseStatus`] says why (a missing key, a policy that forbids the
/// operation, a provider that does not support it, ...).
/// [`Error::Client`] means no usable answer came back: the service could not
/// be reached, took too long, or answered something this client can not read;
/// the [`ClientErrorKind`] says which.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The service refused the request with this status.
    Service(ResponseStatus),
    /// The client failed before it had the service's answer.
    Client(ClientErrorKind),
}

impl Error {
    /// The service's status, if the service refused the request.
    pub fn service_status(&self) -> Option<ResponseStatus> {
        match self {
            Error::Service(status) => Some(*status),
            Error::Client(_) => None,
        }
    }

    /// What failed in the client, if the service did not answer usably.
    pub fn client_kind(&self) -> Option<&ClientErrorKind> {
        match self {
            Error::Service(_) => None,
            Error::Client(kind) => Some(kind),
        }
    }
}

impl From<ClientErrorKind> for Error {
    fn from(kind: ClientErrorKind) -> Self {
        Error::Client(kind)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Service(status) => write!(f, "the service refused the request: {status}"),
            Error::Client(kind) => kind.fmt(f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            // The status is already the whole message.
            Error::Service(_) => None,
            // `Client` shows the kind's message, so its cause comes next.
            Error::Client(kind) => kind.source(),
        }
    }
}

/// What failed in the client.
///
/// The message of each kind says what to check; the underlying I/O error, if
/// any, is its [`source`](std::error::Error::source).
#[derive(Debug)]
#[non_exhaustive]
pub enum ClientErrorKind {
    /// The endpoint is not a Unix socket path or a `unix:` URI.
    InvalidEndpoint {
        /// The text given, lossily converted to UTF-8.
        endpoint: String,
        /// What is wrong with it.
        reason: &'static str,
        /// Whether it came from the `PARSEC_SERVICE_ENDPOINT` variable.
        from_env: bool,
    },
    /// Connecting to the service's socket failed.
    Connect {
        /// The endpoint tried.
        endpoint: Endpoint,
        /// Why.
        source: io::Error,
    },
    /// Writing the request or reading the response failed.
    Io {
        /// The endpoint.
        endpoint: Endpoint,
        /// Why.
        source: io::Error,
    },
    /// The service did not answer within the timeout.
    Timeout {
        /// The endpoint.
        endpoint: Endpoint,
        /// The timeout that ran out.
        timeout: Duration,
    },
    /// The service closed the connection before a whole response arrived.
    ConnectionClosed {
        /// The endpoint.
        endpoint: Endpoint,
    },
    /// The response body is longer than the client accepts; nothing of it
    /// was read.
    ResponseTooLarge {
        /// The client's limit, in bytes.
        limit: usize,
    },
    /// The service answered something this client can not read.
    MalformedResponse(ResponseProblem),
    /// The request could not be encoded (a value the wire can not carry).
    InvalidRequest(ResponseStatus),
    /// A timeout of zero was set; use `None` for no timeout.
    ZeroTimeout,
    /// The service runs no crypto provider: ListProviders listed only Core.
    NoUsableProvider,
    /// A crypto operation was asked of a client with no provider selected.
    NoProviderSelected {
        /// The operation.
        opcode: Opcode,
    },
    /// None of the authenticators the service offers is one this client can
    /// use.
    NoUsableAuthenticator {
        /// What the service offered, in its order of preference.
        offered: Vec<AuthType>,
    },
    /// The service identifies applications by name (Direct authentication)
    /// and no application name was given, or an empty one.
    MissingApplicationName,
    /// The authentication data is longer than the 65,535 bytes the wire
    /// allows.
    AuthDataTooLong {
        /// Its length.
        len: usize,
    },
    /// This process's user id could not be found (needed for Unix peer
    /// credentials authentication).
    UnknownUid {
        /// Why.
        source: io::Error,
    },
    /// No JWT-SVID could be had from the SPIFFE Workload API (feature
    /// `spiffe-auth`).
    #[cfg(feature = "spiffe-auth")]
    #[cfg_attr(docsrs, doc(cfg(feature = "spiffe-auth")))]
    WorkloadApi {
        /// The endpoint, or the variable that should have named it.
        endpoint: String,
        /// Why.
        source: psec_jwt_svid::workload_api::WorkloadApiError,
    },
}

impl fmt::Display for ClientErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientErrorKind::InvalidEndpoint {
                endpoint,
                reason,
                from_env,
            } => {
                write!(f, "invalid service endpoint `{endpoint}`")?;
                if *from_env {
                    write!(f, " (from {})", crate::endpoint::ENDPOINT_ENV_VAR)?;
                }
                write!(
                    f,
                    ": {reason}; expected `unix:/path/to/socket` or a socket path"
                )
            }
            ClientErrorKind::Connect { endpoint, source } => {
                write!(f, "could not connect to the service at {endpoint}: ")?;
                match source.kind() {
                    io::ErrorKind::NotFound => write!(
                        f,
                        "there is no socket at that path; is the service running? \
                         If it listens elsewhere, set {} to `unix:/path/to/socket`",
                        crate::endpoint::ENDPOINT_ENV_VAR
                    ),
                    io::ErrorKind::PermissionDenied => f.write_str(
                        "permission denied; this user needs write access to the socket \
                         (for a Parsec service, membership of its clients group, \
                         usually `parsec-clients`)",
                    ),
                    io::ErrorKind::ConnectionRefused => {
                        f.write_str("nothing is listening on the socket; is the service running?")
                    }
                    _ => f.write_str("the connection failed"),
                }
            }
            ClientErrorKind::Io { endpoint, .. } => write!(
                f,
                "the connection to the service at {endpoint} failed while sending the \
                 request or reading the response; see the service log"
            ),
            ClientErrorKind::Timeout { endpoint, timeout } => write!(
                f,
                "the service at {endpoint} did not answer within {} ms; it may be \
                 overloaded or stuck, or the timeout may be too short for this operation",
                timeout.as_millis()
            ),
            ClientErrorKind::ConnectionClosed { endpoint } => write!(
                f,
                "the service at {endpoint} closed the connection before sending a whole \
                 response; see the service log"
            ),
            ClientErrorKind::ResponseTooLarge { limit } => write!(
                f,
                "the service's response is larger than this client accepts ({limit} bytes); \
                 raise the limit with `with_max_response_body_len`"
            ),
            ClientErrorKind::MalformedResponse(problem) => write!(
                f,
                "the service's response is not valid Parsec wire protocol 1.0: {problem}"
            ),
            ClientErrorKind::InvalidRequest(status) => write!(
                f,
                "the request could not be encoded: {}",
                status.description()
            ),
            ClientErrorKind::ZeroTimeout => {
                f.write_str("a timeout of zero is not allowed; use `None` for no timeout")
            }
            ClientErrorKind::NoUsableProvider => f.write_str(
                "the service runs no crypto provider (ListProviders lists only Core); \
                 configure a provider in the service",
            ),
            ClientErrorKind::NoProviderSelected { opcode } => write!(
                f,
                "no crypto provider is selected for {opcode:?}; call `select_defaults` \
                 or `with_provider` first"
            ),
            ClientErrorKind::NoUsableAuthenticator { offered } => {
                f.write_str("this client can use none of the authenticators the service offers (")?;
                let mut first = true;
                for auth in offered {
                    if !first {
                        f.write_str(", ")?;
                    }
                    write!(f, "{auth}")?;
                    first = false;
                }
                f.write_str("); it supports direct, Unix peer credentials and no authentication")
            }
            ClientErrorKind::MissingApplicationName => f.write_str(
                "the service authenticates applications by name (direct authentication) \
                 and no application name was given; pass one to `BasicClient::new`",
            ),
            ClientErrorKind::AuthDataTooLong { len } => write!(
                f,
                "the authentication data is {len} bytes long; the wire protocol allows \
                 at most {}",
                u16::MAX
            ),
            ClientErrorKind::UnknownUid { .. } => f.write_str(
                "could not read this process's user id from /proc/self (needed for Unix \
                 peer credentials authentication); is /proc mounted?",
            ),
            #[cfg(feature = "spiffe-auth")]
            ClientErrorKind::WorkloadApi { endpoint, source } => write!(
                f,
                "no JWT-SVID from the SPIFFE Workload API at {endpoint}: {source}"
            ),
        }
    }
}

impl std::error::Error for ClientErrorKind {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ClientErrorKind::Connect { source, .. }
            | ClientErrorKind::Io { source, .. }
            | ClientErrorKind::UnknownUid { source } => Some(source),
            #[cfg(feature = "spiffe-auth")]
            ClientErrorKind::WorkloadApi { source, .. } => Some(source),
            ClientErrorKind::MalformedResponse(problem) => {
                let status: &(dyn std::error::Error + 'static) = problem.status()?;
                Some(status)
            }
            _ => None,
        }
    }
}

/// What is wrong with a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResponseProblem {
    /// The header could not be read: the status says which field is wrong.
    Header(ResponseStatus),
    /// The response answers another operation than the one sent.
    OpcodeMismatch {
        /// The operation sent.
        sent: Opcode,
        /// The operation the response answers.
        received: Opcode,
    },
    /// The response comes from another provider than the one asked.
    ProviderMismatch {
        /// The provider asked.
        sent: ProviderId,
        /// The provider named in the response.
        received: ProviderId,
    },
    /// The response carries another session handle than the request.
    SessionMismatch {
        /// The session handle sent.
        sent: u64,
        /// The session handle received.
        received: u64,
    },
    /// The body could not be decoded as the operation's result.
    Body {
        /// The operation.
        opcode: Opcode,
        /// What decoding said.
        status: ResponseStatus,
    },
    /// PsaGenerateRandom gave another number of bytes than asked.
    RandomLength {
        /// Bytes asked for.
        asked: usize,
        /// Bytes received.
        received: usize,
    },
}

impl ResponseProblem {
    /// The decoding status behind the problem, if there is one.
    fn status(&self) -> Option<&ResponseStatus> {
        match self {
            ResponseProblem::Header(status) | ResponseProblem::Body { status, .. } => Some(status),
            _ => None,
        }
    }
}

impl fmt::Display for ResponseProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResponseProblem::Header(_) => f.write_str("its header could not be read"),
            ResponseProblem::OpcodeMismatch { sent, received } => write!(
                f,
                "it answers {received:?} (opcode {:#x}) to a {sent:?} request (opcode {:#x})",
                received.code(),
                sent.code()
            ),
            ResponseProblem::ProviderMismatch { sent, received } => write!(
                f,
                "it comes from provider {} ({received}) for a request to provider {} ({sent})",
                received.id(),
                sent.id()
            ),
            ResponseProblem::SessionMismatch { sent, received } => write!(
                f,
                "it carries session {received} for a request with session {sent}"
            ),
            ResponseProblem::Body { opcode, .. } => {
                write!(f, "its body could not be decoded as a {opcode:?} result")
            }
            ResponseProblem::RandomLength { asked, received } => write!(
                f,
                "it holds {received} random bytes where {asked} were asked for"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    fn endpoint() -> Endpoint {
        Endpoint::unix_socket("/run/parsec/parsec.sock")
    }

    #[test]
    fn service_errors_show_the_status_and_have_no_source() {
        let error = Error::Service(ResponseStatus::PsaErrorDoesNotExist);
        let text = error.to_string();
        assert!(
            text.starts_with("the service refused the request"),
            "{text}"
        );
        assert!(text.contains("no key with that name"), "{text}");
        assert!(text.contains("1140"), "{text}");
        assert!(error.source().is_none());
        assert_eq!(
            error.service_status(),
            Some(ResponseStatus::PsaErrorDoesNotExist)
        );
        assert!(error.client_kind().is_none());
    }

    #[test]
    fn connect_errors_name_the_endpoint_give_a_hint_and_chain_the_io_error() {
        let error = Error::from(ClientErrorKind::Connect {
            endpoint: endpoint(),
            source: io::Error::from(io::ErrorKind::NotFound),
        });
        let text = error.to_string();
        assert!(text.contains("unix:/run/parsec/parsec.sock"), "{text}");
        assert!(text.contains("PARSEC_SERVICE_ENDPOINT"), "{text}");
        let source = error.source().expect("the I/O error is the source");
        let io = source.downcast_ref::<io::Error>().expect("an io::Error");
        assert_eq!(io.kind(), io::ErrorKind::NotFound);

        let denied = ClientErrorKind::Connect {
            endpoint: endpoint(),
            source: io::Error::from(io::ErrorKind::PermissionDenied),
        }
        .to_string();
        assert!(denied.contains("permission denied"), "{denied}");
    }

    #[test]
    fn timeouts_say_how_long_was_waited() {
        let text = ClientErrorKind::Timeout {
            endpoint: endpoint(),
            timeout: Duration::from_millis(250),
        }
        .to_string();
        assert!(text.contains("250 ms"), "{text}");
        assert!(text.contains("unix:/run/parsec/parsec.sock"), "{text}");
    }

    #[test]
    fn malformed_responses_chain_the_decoding_status() {
        let error = Error::from(ClientErrorKind::MalformedResponse(ResponseProblem::Body {
            opcode: Opcode::PsaSignHash,
            status: ResponseStatus::DeserializingBodyFailed,
        }));
        assert!(error.to_string().contains("PsaSignHash"), "{error}");
        let source = error.source().expect("the status is the source");
        assert_eq!(
            source.downcast_ref::<ResponseStatus>(),
            Some(&ResponseStatus::DeserializingBodyFailed)
        );
    }

    #[test]
    fn no_usable_authenticator_lists_what_was_offered() {
        let text = ClientErrorKind::NoUsableAuthenticator {
            offered: vec![AuthType::JwtSvid, AuthType::Jwt],
        }
        .to_string();
        assert!(text.contains("(JWT-SVID, JWT)"), "{text}");
    }

    #[test]
    fn invalid_endpoints_from_the_environment_say_so() {
        let text = ClientErrorKind::InvalidEndpoint {
            endpoint: "tcp://host:1".to_string(),
            reason: "only unix: endpoints are supported",
            from_env: true,
        }
        .to_string();
        assert!(text.contains("tcp://host:1"), "{text}");
        assert!(text.contains("PARSEC_SERVICE_ENDPOINT"), "{text}");
    }
}
