//! A client of the SPIFFE Workload API (feature `workload-api`): the JWT
//! bundles of the trust domains, streamed by the agent as they change
//! (FetchJWTBundles), and JWT-SVIDs for the calling workload
//! (FetchJWTSVID), over the agent's Unix socket.
//!
//! gRPC is written here on the `h2` crate: each call is an HTTP/2 POST to
//! `/SpiffeWorkloadAPI/<Method>` with `content-type: application/grpc`,
//! `te: trailers` and the header `workload.spiffe.io: true` the agent
//! demands; messages are the prost structs of [`proto`]. Only `unix:` endpoints
//! are supported (`unix:///path` or `unix:/path`); `tcp:` is refused with
//! [`WorkloadApiError::Endpoint`].
//!
//! Needs a tokio runtime (the HTTP/2 connection runs as a task of it).

pub(crate) mod grpc;
pub mod proto;

use crate::{Error, JwtBundles};
use bytes::Bytes;
use std::path::PathBuf;

/// The environment variable that names the Workload API endpoint, as every
/// SPIFFE library reads it.
pub const ENDPOINT_ENV: &str = "SPIFFE_ENDPOINT_SOCKET";

/// The header every Workload API call must carry, and its value.
pub const SECURITY_HEADER: (&str, &str) = ("workload.spiffe.io", "true");

/// Why a Workload API call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkloadApiError {
    /// The endpoint is not a `unix:` URI this client can use.
    #[error("Workload API endpoint {endpoint:?}: {reason}")]
    Endpoint {
        /// The endpoint given.
        endpoint: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Connecting to the agent's socket failed.
    #[error("Workload API at {path}: {source}")]
    Connect {
        /// The socket.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// HTTP/2 failed (the connection broke, the agent went away).
    #[error("Workload API: HTTP/2: {0}")]
    Http2(#[source] h2::Error),
    /// The agent answered with an HTTP status other than 200.
    #[error("Workload API: HTTP status {0}")]
    HttpStatus(u16),
    /// The agent answered with a gRPC error.
    #[error("Workload API: gRPC status {code}: {message}")]
    Status {
        /// The gRPC status code (7 PermissionDenied: no identity for this
        /// workload).
        code: u32,
        /// The agent's message.
        message: String,
    },
    /// A message did not decode.
    #[error("Workload API: undecodable message: {0}")]
    Decode(#[source] prost::DecodeError),
    /// The answer broke the protocol.
    #[error("Workload API: {0}")]
    Protocol(&'static str),
    /// A bundle the agent sent is not a usable JWKS.
    #[error("Workload API: {0}")]
    Bundle(#[source] Error),
}

/// The socket path of a `unix:` endpoint (`unix:///run/spire/agent.sock`
/// or `unix:/run/spire/agent.sock`).
pub fn unix_socket_path(endpoint: &str) -> Result<PathBuf, WorkloadApiError> {
    let bad = |reason| WorkloadApiError::Endpoint {
        endpoint: endpoint.to_string(),
        reason,
    };
    if endpoint.starts_with("tcp:") {
        return Err(bad(
            "tcp: endpoints are not supported; use the agent's Unix socket (unix:///path)",
        ));
    }
    let rest = endpoint
        .strip_prefix("unix:")
        .ok_or_else(|| bad("not a unix: URI such as unix:///run/spire/sockets/agent.sock"))?;
    let path = match rest.strip_prefix("//") {
        Some(after) if after.starts_with('/') => after,
        Some(_) => return Err(bad("a unix:// URI has no host: write unix:///path")),
        None => rest,
    };
    if !path.starts_with('/') || path.contains(['?', '#']) {
        return Err(bad(
            "the socket path must be absolute, without query or fragment",
        ));
    }
    Ok(PathBuf::from(path))
}

/// One connection to the Workload API.
#[derive(Debug, Clone)]
pub struct WorkloadApiClient {
    send: h2::client::SendRequest<Bytes>,
}

impl WorkloadApiClient {
    /// Connects to the agent at `endpoint` (see [`unix_socket_path`]).
    pub async fn connect(endpoint: &str) -> Result<Self, WorkloadApiError> {
        let path = unix_socket_path(endpoint)?;
        let stream = tokio::net::UnixStream::connect(&path)
            .await
            .map_err(|source| WorkloadApiError::Connect { path, source })?;
        let (send, connection) = h2::client::handshake(stream)
            .await
            .map_err(WorkloadApiError::Http2)?;
        // The connection does the I/O; it ends when the socket closes or
        // every handle to it is dropped.
        drop(tokio::spawn(async move {
            let _ = connection.await;
        }));
        Ok(WorkloadApiClient { send })
    }

    /// Starts the FetchJWTBundles stream: each message is the whole set of
    /// JWT bundles, sent at once and again whenever it changes.
    pub async fn fetch_jwt_bundles(&self) -> Result<JwtBundlesStream, WorkloadApiError> {
        let messages = self
            .call("FetchJWTBundles", &proto::JwtBundlesRequest {})
            .await?;
        Ok(JwtBundlesStream {
            messages,
            ended: false,
        })
    }

    /// FetchJWTSVID: the calling workload's JWT-SVIDs for `audience`, one
    /// per identity (only `spiffe_id`'s when given).
    pub async fn fetch_jwt_svids(
        &self,
        audience: &[&str],
        spiffe_id: Option<&str>,
    ) -> Result<Vec<proto::JwtSvid>, WorkloadApiError> {
        let request = proto::JwtSvidRequest {
            audience: audience.iter().map(|a| a.to_string()).collect(),
            spiffe_id: spiffe_id.unwrap_or_default().to_string(),
        };
        let response: proto::JwtSvidResponse = self.unary("FetchJWTSVID", &request).await?;
        if response.svids.is_empty() {
            return Err(WorkloadApiError::Protocol(
                "FetchJWTSVID answered no JWT-SVID",
            ));
        }
        Ok(response.svids)
    }

    /// ValidateJWTSVID: the agent checks `svid` for `audience` and gives
    /// its SPIFFE ID.
    pub async fn validate_jwt_svid(
        &self,
        audience: &str,
        svid: &str,
    ) -> Result<proto::ValidateJwtSvidResponse, WorkloadApiError> {
        let request = proto::ValidateJwtSvidRequest {
            audience: audience.to_string(),
            svid: svid.to_string(),
        };
        self.unary("ValidateJWTSVID", &request).await
    }

    async fn unary<M: prost::Message + Default>(
        &self,
        method: &str,
        request: &impl prost::Message,
    ) -> Result<M, WorkloadApiError> {
        let mut messages = self.call(method, request).await?;
        let message = messages.next::<M>().await?;
        match messages.trailers().await?.as_ref().and_then(grpc::status) {
            Some(Err(error)) => Err(error),
            Some(Ok(())) => message.ok_or(WorkloadApiError::Protocol("no message in the answer")),
            None => Err(WorkloadApiError::Protocol("no grpc-status in the trailers")),
        }
    }

    /// Sends a request and reads the response headers.
    async fn call(
        &self,
        method: &str,
        request: &impl prost::Message,
    ) -> Result<grpc::Messages, WorkloadApiError> {
        let mut send = self
            .send
            .clone()
            .ready()
            .await
            .map_err(WorkloadApiError::Http2)?;
        let head = http::Request::builder()
            .method(http::Method::POST)
            .uri(format!("http://localhost{}", grpc::path(method)))
            .header(http::header::CONTENT_TYPE, "application/grpc")
            .header(http::header::TE, "trailers")
            .header(SECURITY_HEADER.0, SECURITY_HEADER.1)
            .body(())
            .map_err(|_| WorkloadApiError::Protocol("a request that HTTP can not carry"))?;
        let (response, mut body) = send
            .send_request(head, false)
            .map_err(WorkloadApiError::Http2)?;
        body.send_data(grpc::frame(request), true)
            .map_err(WorkloadApiError::Http2)?;
        let response = response.await.map_err(WorkloadApiError::Http2)?;
        if response.status() != http::StatusCode::OK {
            return Err(WorkloadApiError::HttpStatus(response.status().as_u16()));
        }
        // A "trailers-only" answer: the status is in the headers.
        if let Some(Err(error)) = grpc::status(response.headers()) {
            return Err(error);
        }
        Ok(grpc::Messages::new(response.into_body()))
    }
}

/// The FetchJWTBundles stream.
#[derive(Debug)]
pub struct JwtBundlesStream {
    messages: grpc::Messages,
    ended: bool,
}

impl JwtBundlesStream {
    /// The next set of JWT bundles; `Ok(None)` when the agent ended the
    /// stream with status OK. A set that is not usable is an error
    /// ([`WorkloadApiError::Bundle`]), and the stream can go on.
    pub async fn next(&mut self) -> Result<Option<JwtBundles>, WorkloadApiError> {
        if self.ended {
            return Ok(None);
        }
        match self.messages.next::<proto::JwtBundlesResponse>().await? {
            Some(response) => bundles_of(&response).map(Some),
            None => {
                self.ended = true;
                match self
                    .messages
                    .trailers()
                    .await?
                    .as_ref()
                    .and_then(grpc::status)
                {
                    Some(Err(error)) => Err(error),
                    _ => Ok(None),
                }
            }
        }
    }
}

/// The `exp` of a JWT-SVID the agent issued, read without checking the
/// signature: for a client deciding when to fetch a new one, never for
/// accepting a token.
pub fn unverified_expiry(svid: &str) -> Result<std::time::SystemTime, WorkloadApiError> {
    use base64::Engine;
    #[derive(serde::Deserialize)]
    struct Exp {
        exp: u64,
    }
    let bad = || WorkloadApiError::Protocol("a JWT-SVID without a readable exp claim");
    let payload = svid.split('.').nth(1).ok_or_else(bad)?;
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| bad())?;
    let exp: Exp = serde_json::from_slice(&json).map_err(|_| bad())?;
    Ok(std::time::UNIX_EPOCH + std::time::Duration::from_secs(exp.exp))
}

/// The bundle set of a FetchJWTBundles message.
pub fn bundles_of(response: &proto::JwtBundlesResponse) -> Result<JwtBundles, WorkloadApiError> {
    let mut bundles = JwtBundles::new();
    for (trust_domain, jwks) in &response.bundles {
        bundles
            .insert_jwks(trust_domain, jwks)
            .map_err(WorkloadApiError::Bundle)?;
    }
    Ok(bundles)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test fails by panicking")]

    use super::*;

    #[test]
    fn unix_endpoints_give_their_path_and_others_are_refused() {
        for (endpoint, path) in [
            (
                "unix:///run/spire/sockets/agent.sock",
                "/run/spire/sockets/agent.sock",
            ),
            ("unix:/tmp/agent.sock", "/tmp/agent.sock"),
        ] {
            assert_eq!(unix_socket_path(endpoint).unwrap(), PathBuf::from(path));
        }
        for (endpoint, why) in [
            ("tcp://127.0.0.1:8081", "tcp: endpoints are not supported"),
            ("/run/agent.sock", "not a unix: URI"),
            ("unix://host/agent.sock", "no host"),
            ("unix:relative.sock", "absolute"),
            ("unix:///a.sock?x=1", "query"),
        ] {
            let error = unix_socket_path(endpoint).unwrap_err().to_string();
            assert!(error.contains(why), "{endpoint}: {error}");
        }
    }
}
