//! The client for tokio applications (feature `tokio`): the typed methods
//! of [`BasicClient`] as futures, over tokio's Unix socket.
//!
//! Requests and results are built and read by the same code as the
//! blocking client's (the typed methods come from one table in `basic.rs`,
//! requests and results from `ipc.rs`); only the socket differs. The same
//! limits hold: one timeout for the whole exchange, and a response body
//! over the limit refused from its header.

use crate::basic::{can_do_answer, can_do_operation, select_authentication, select_provider};
use crate::ipc::{IpcClient, header_error_status, request_for, result_of};
use crate::{Authentication, BasicClient, ClientErrorKind, Endpoint, Error, ResponseProblem};
use psec_interface::header::{RawHeader, WIRE_HEADER_LEN};
use psec_interface::operations::can_do_crypto::CheckType;
use psec_interface::psa_crypto::types::key::Attributes;
use psec_interface::{NativeOperation, NativeResult, ProviderId, Request, Response};
use std::io;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

/// A client of a psec or Parsec service for tokio applications: the
/// methods of [`BasicClient`], each a future, so that a tokio server needs
/// no `spawn_blocking` to use keys.
///
/// It holds the same settings as a [`BasicClient`] (endpoint, timeout,
/// response limit, provider, authentication) and, like it, no connection:
/// each call connects, sends one request, reads one response and closes.
/// It is cheap to clone, and its futures are `Send`.
///
/// ```no_run
/// # async fn run() -> Result<(), psec_client::Error> {
/// use psec_client::AsyncBasicClient;
/// use psec_client::psa_crypto::types::algorithm::Hash;
///
/// let client = AsyncBasicClient::new(Some("my-application".to_string())).await?;
/// let digest = client.psa_hash_compute(Hash::Sha256, b"hello, psec").await?;
/// assert_eq!(digest.len(), 32);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct AsyncBasicClient {
    settings: BasicClient,
}

impl From<BasicClient> for AsyncBasicClient {
    /// The async client with `client`'s settings.
    fn from(client: BasicClient) -> Self {
        AsyncBasicClient { settings: client }
    }
}

impl AsyncBasicClient {
    /// A client of the service named by `PARSEC_SERVICE_ENDPOINT` (or at
    /// `/run/parsec/parsec.sock`), with the provider and authentication the
    /// service offers first, as [`BasicClient::new`].
    pub async fn new(app_name: Option<String>) -> Result<Self, Error> {
        AsyncBasicClient::new_naked(Endpoint::from_env()?)
            .select_defaults(app_name)
            .await
    }

    /// A client of the service at `endpoint` with no provider and no
    /// authentication selected, as [`BasicClient::new_naked`].
    pub fn new_naked(endpoint: Endpoint) -> Self {
        BasicClient::new_naked(endpoint).into()
    }

    /// Pings the service and selects the provider and authentication it
    /// offers first, by the rules of [`BasicClient::select_defaults`].
    pub async fn select_defaults(self, app_name: Option<String>) -> Result<Self, Error> {
        let _version = self.ping().await?;
        let provider = select_provider(&self.list_providers().await?)?;
        let auth = select_authentication(&self.list_authenticators().await?, app_name.as_deref())?;
        Ok(self.with_provider(provider).with_auth(auth))
    }

    /// Sets the endpoint.
    pub fn with_endpoint(self, endpoint: Endpoint) -> Self {
        self.settings.with_endpoint(endpoint).into()
    }

    /// Sets how long a whole request may take, from just before connecting
    /// to the last byte of the response (connecting included); `None`
    /// waits forever.
    pub fn with_timeout(self, timeout: Option<Duration>) -> Self {
        self.settings.with_timeout(timeout).into()
    }

    /// Sets the largest response body accepted, in bytes.
    pub fn with_max_response_body_len(self, limit: usize) -> Self {
        self.settings.with_max_response_body_len(limit).into()
    }

    /// Sets the provider crypto operations go to.
    pub fn with_provider(self, provider: ProviderId) -> Self {
        self.settings.with_provider(provider).into()
    }

    /// Sets the authentication sent with operations that need it.
    pub fn with_auth(self, auth: Authentication) -> Self {
        self.settings.with_auth(auth).into()
    }

    /// The settings, as the blocking client that has them: its getters
    /// tell the endpoint, timeout, provider and authentication.
    pub fn settings(&self) -> &BasicClient {
        &self.settings
    }

    /// Sends any operation, to the provider and with the authentication
    /// [`BasicClient::process`] would, and returns its result.
    pub async fn process(&self, operation: NativeOperation) -> Result<NativeResult, Error> {
        let (provider, auth) = self.settings.route(operation.opcode())?;
        let request = request_for(provider, auth, operation)?;
        let response = send(self.settings.ipc(), &request).await?;
        result_of(&request, &response)
    }

    /// Whether the provider can do `check_type` with a key of `attributes`,
    /// as [`BasicClient::can_do_crypto`].
    pub async fn can_do_crypto(
        &self,
        check_type: CheckType,
        attributes: Attributes,
    ) -> Result<bool, Error> {
        can_do_answer(self.process(can_do_operation(check_type, attributes)).await)
    }
}

/// Sends `request` over a new connection and reads the response, within
/// `ipc`'s timeout and response limit. The errors are those of
/// [`IpcClient::send`].
async fn send(ipc: &IpcClient, request: &Request) -> Result<Response, Error> {
    let exchange = exchange(ipc, request);
    match ipc.timeout() {
        Some(Duration::ZERO) => Err(ClientErrorKind::ZeroTimeout.into()),
        None => exchange.await,
        Some(timeout) => match tokio::time::timeout(timeout, exchange).await {
            Ok(result) => result,
            Err(_elapsed) => Err(ClientErrorKind::Timeout {
                endpoint: ipc.endpoint().clone(),
                timeout,
            }
            .into()),
        },
    }
}

async fn exchange(ipc: &IpcClient, request: &Request) -> Result<Response, Error> {
    let wire = request.encode().map_err(ClientErrorKind::InvalidRequest)?;
    let mut stream = UnixStream::connect(ipc.endpoint().path())
        .await
        .map_err(|source| ClientErrorKind::Connect {
            endpoint: ipc.endpoint().clone(),
            source,
        })?;
    if let Err(error) = stream.write_all(&wire).await {
        // As the blocking client: a service that refused the request from
        // its header may have answered before closing.
        if matches!(
            error.kind(),
            io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
        ) {
            if let Ok(response) = read_response(ipc, &mut stream).await {
                return Ok(response);
            }
        }
        return Err(ipc.io_error(error));
    }
    read_response(ipc, &mut stream).await
}

/// Reads one response: its header, then (if the header's length is within
/// the limit) its body, and decodes both with the blocking client's
/// decoder.
async fn read_response(ipc: &IpcClient, stream: &mut UnixStream) -> Result<Response, Error> {
    let closed = |error: io::Error| match error.kind() {
        io::ErrorKind::UnexpectedEof => ClientErrorKind::ConnectionClosed {
            endpoint: ipc.endpoint().clone(),
        }
        .into(),
        _ => ipc.io_error(error),
    };
    // The prefix first, as the blocking reader: garbage is refused without
    // waiting for 36 bytes.
    let mut header = [0u8; WIRE_HEADER_LEN];
    let (prefix, rest) = header.split_at_mut(6);
    stream.read_exact(prefix).await.map_err(closed)?;
    if let Ok(prefix) = <&[u8; 6]>::try_from(&*prefix) {
        RawHeader::check_prefix(prefix).map_err(|status| {
            Error::from(ClientErrorKind::MalformedResponse(ResponseProblem::Header(
                status,
            )))
        })?;
    }
    stream.read_exact(rest).await.map_err(closed)?;
    let raw = match RawHeader::decode(&header) {
        Ok(raw) => raw,
        Err(status) => {
            return Err(match header_error_status(&header) {
                Some(service_status) => Error::Service(service_status),
                None => ClientErrorKind::MalformedResponse(ResponseProblem::Header(status)).into(),
            });
        }
    };
    let limit = ipc.max_response_body_len();
    let body_len = usize::try_from(raw.body_len).unwrap_or(usize::MAX);
    if body_len > limit {
        return Err(ClientErrorKind::ResponseTooLarge { limit }.into());
    }
    let mut wire = header.to_vec();
    wire.resize(WIRE_HEADER_LEN + body_len, 0);
    if let Some(body) = wire.get_mut(WIRE_HEADER_LEN..) {
        stream.read_exact(body).await.map_err(closed)?;
    }
    Response::read_from(&mut wire.as_slice(), limit).map_err(|status| {
        match header_error_status(&header) {
            Some(service_status) => Error::Service(service_status),
            None => ClientErrorKind::MalformedResponse(ResponseProblem::Header(status)).into(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_and_its_futures_are_send_and_sync() {
        fn send_sync<T: Send + Sync>(_: &T) {}
        let client = AsyncBasicClient::new_naked(Endpoint::default());
        send_sync(&client);
        let future = client.psa_generate_random(4);
        fn send<T: Send>(_: &T) {}
        send(&future);
    }

    #[test]
    fn its_debug_hides_the_application_name() {
        let client = AsyncBasicClient::new_naked(Endpoint::default())
            .with_auth(Authentication::direct("secret-app").unwrap_or_else(|_| unreachable!()));
        let shown = format!("{client:?}");
        assert!(!shown.contains("secret-app"), "{shown}");
    }
}
