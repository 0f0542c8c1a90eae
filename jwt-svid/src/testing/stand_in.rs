//! A stand-in for a SPIRE agent's Workload API, for tests on machines where
//! SPIRE can not run. It is not SPIRE: it attests nothing but the caller's
//! uid. It serves the real Workload API protobuf over HTTP/2 on a Unix
//! socket, as an agent does: FetchJWTBundles (streamed, a new message on
//! every rotation), FetchJWTSVID and ValidateJWTSVID. Like SPIRE's
//! `unix:uid` selector, each caller's identity is derived from the peer uid
//! the kernel reports (SO_PEERCRED): `spiffe://<trust domain>/uid/<uid>`.

use super::Signer;
use crate::Validator;
use crate::workload_api::grpc::{self, Messages, code};
use crate::workload_api::{SECURITY_HEADER, proto};
use bytes::Bytes;
use h2::server::SendResponse;
use serde_json::json;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};
use tokio::sync::{oneshot, watch};

/// A Workload API server standing in for a SPIRE agent (see the module
/// docs): one trust domain, a set of JWT authorities of which the first
/// signs the SVIDs, a socket that can be stopped and served again.
pub struct StandInWorkloadApi {
    path: PathBuf,
    shared: Arc<Shared>,
    running: Option<Running>,
}

struct Shared {
    trust_domain: String,
    authorities: watch::Sender<Vec<Signer>>,
    svid_ttl: Mutex<Duration>,
    issued: std::sync::atomic::AtomicUsize,
    bundle_streams: std::sync::atomic::AtomicUsize,
}

struct Running {
    stop: oneshot::Sender<()>,
    thread: JoinHandle<()>,
}

impl StandInWorkloadApi {
    /// Serves at `path` (a socket file that must not exist) for
    /// `trust_domain` (`example.org`), with `authorities` (the first signs
    /// SVIDs; all are in the bundle).
    pub fn start(
        path: &Path,
        trust_domain: &str,
        authorities: Vec<Signer>,
    ) -> io::Result<StandInWorkloadApi> {
        let mut stand_in = StandInWorkloadApi {
            path: path.to_path_buf(),
            shared: Arc::new(Shared {
                trust_domain: trust_domain.to_string(),
                authorities: watch::Sender::new(authorities),
                svid_ttl: Mutex::new(Duration::from_secs(3600)),
                issued: std::sync::atomic::AtomicUsize::new(0),
                bundle_streams: std::sync::atomic::AtomicUsize::new(0),
            }),
            running: None,
        };
        stand_in.resume()?;
        Ok(stand_in)
    }

    /// The endpoint URI clients are given: `unix://` and the path.
    pub fn endpoint(&self) -> String {
        format!("unix://{}", self.path.display())
    }

    /// The SPIFFE ID it gives a caller running as `uid`.
    pub fn spiffe_id_of_uid(&self, uid: u32) -> String {
        spiffe_id(&self.shared.trust_domain, uid)
    }

    /// Replaces the authorities: the first signs SVIDs from now on, and
    /// every open FetchJWTBundles stream gets the new bundle. While stopped,
    /// the change is what clients get when it serves again.
    pub fn rotate(&self, authorities: Vec<Signer>) {
        self.shared.authorities.send_replace(authorities);
    }

    /// How long the SVIDs it mints are valid (an hour unless set).
    pub fn set_svid_ttl(&self, ttl: Duration) {
        *lock(&self.shared.svid_ttl) = ttl;
    }

    /// How many JWT-SVIDs FetchJWTSVID has issued.
    pub fn svids_issued(&self) -> usize {
        self.shared.issued.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// How many FetchJWTBundles streams it has opened: one per client
    /// that follows the bundles, and one more each time a client connects
    /// again.
    pub fn bundle_streams(&self) -> usize {
        self.shared
            .bundle_streams
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Stops serving: every connection and stream is closed and the socket
    /// file removed, as when an agent goes down.
    pub fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            let _ = running.stop.send(());
            let _ = running.thread.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }

    /// Serves again on the same path, after [`StandInWorkloadApi::stop`].
    pub fn resume(&mut self) -> io::Result<()> {
        if self.running.is_some() {
            return Ok(());
        }
        let listener = std::os::unix::net::UnixListener::bind(&self.path)?;
        // Any local user may ask, as of a SPIRE agent's socket.
        std::fs::set_permissions(
            &self.path,
            std::os::unix::fs::PermissionsExt::from_mode(0o666),
        )?;
        listener.set_nonblocking(true)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (stop, stopped) = oneshot::channel();
        let shared = Arc::clone(&self.shared);
        let thread = std::thread::Builder::new()
            .name("stand-in-workload-api".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = tokio::net::UnixListener::from_std(listener) else {
                        return;
                    };
                    tokio::select! {
                        () = serve(listener, shared) => {}
                        _ = stopped => {}
                    }
                });
                // Dropping the runtime here ends every connection task.
            })?;
        self.running = Some(Running { stop, thread });
        Ok(())
    }
}

impl Drop for StandInWorkloadApi {
    fn drop(&mut self) {
        self.stop();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

fn spiffe_id(trust_domain: &str, uid: u32) -> String {
    format!("spiffe://{trust_domain}/uid/{uid}")
}

async fn serve(listener: tokio::net::UnixListener, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let Ok(peer) = stream.peer_cred() else {
            continue;
        };
        let shared = Arc::clone(&shared);
        drop(tokio::spawn(async move {
            let Ok(mut connection) = h2::server::handshake(stream).await else {
                return;
            };
            while let Some(Ok((request, respond))) = connection.accept().await {
                let shared = Arc::clone(&shared);
                drop(tokio::spawn(handle(request, respond, peer.uid(), shared)));
            }
        }));
    }
}

type Request = http::Request<h2::RecvStream>;

async fn handle(request: Request, mut respond: SendResponse<Bytes>, uid: u32, shared: Arc<Shared>) {
    let (head, body) = request.into_parts();
    let mut body = Messages::new(body);
    if head.headers.get(SECURITY_HEADER.0).map(|v| v.as_bytes()) != Some(b"true") {
        // What SPIRE's agent answers.
        fail(
            &mut respond,
            code::INVALID_ARGUMENT,
            "security header missing from request",
        );
        return;
    }
    let path = head.uri.path();
    if path == grpc::path("FetchJWTBundles") {
        if let Ok(Some(proto::JwtBundlesRequest {})) = body.next().await {
            stream_bundles(respond, &shared).await;
        } else {
            fail(&mut respond, code::INVALID_ARGUMENT, "no request message");
        }
    } else if path == grpc::path("FetchJWTSVID") {
        match body.next::<proto::JwtSvidRequest>().await {
            Ok(Some(request)) => match mint(&request, uid, &shared) {
                Ok(response) => reply(respond, &response),
                Err((code, message)) => fail(&mut respond, code, message),
            },
            _ => fail(&mut respond, code::INVALID_ARGUMENT, "no request message"),
        }
    } else if path == grpc::path("ValidateJWTSVID") {
        match body.next::<proto::ValidateJwtSvidRequest>().await {
            Ok(Some(request)) => match validate(&request, &shared) {
                Ok(response) => reply(respond, &response),
                Err(message) => fail(&mut respond, code::INVALID_ARGUMENT, &message),
            },
            _ => fail(&mut respond, code::INVALID_ARGUMENT, "no request message"),
        }
    } else {
        fail(
            &mut respond,
            code::UNIMPLEMENTED,
            "not served by the stand-in",
        );
    }
}

fn mint(
    request: &proto::JwtSvidRequest,
    uid: u32,
    shared: &Shared,
) -> Result<proto::JwtSvidResponse, (u32, &'static str)> {
    if request.audience.is_empty() {
        return Err((code::INVALID_ARGUMENT, "audience must be specified"));
    }
    let id = spiffe_id(&shared.trust_domain, uid);
    if !request.spiffe_id.is_empty() && request.spiffe_id != id {
        return Err((code::PERMISSION_DENIED, "no identity issued"));
    }
    let signer = shared
        .authorities
        .borrow()
        .first()
        .cloned()
        .ok_or((code::PERMISSION_DENIED, "no JWT authority"))?;
    let now = super::unix_now();
    let ttl = lock(&shared.svid_ttl).as_secs();
    let token = signer.sign(
        &signer.header(),
        &json!({ "sub": id, "aud": request.audience, "iat": now, "exp": now + ttl }),
    );
    shared
        .issued
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    Ok(proto::JwtSvidResponse {
        svids: vec![proto::JwtSvid {
            spiffe_id: id,
            svid: token,
            hint: String::new(),
        }],
    })
}

fn validate(
    request: &proto::ValidateJwtSvidRequest,
    shared: &Shared,
) -> Result<proto::ValidateJwtSvidResponse, String> {
    let bundles = bundles_of(&shared.trust_domain, &shared.authorities.borrow());
    let bundles = crate::workload_api::bundles_of(&bundles).map_err(|e| e.to_string())?;
    let validator = Validator {
        audience: request.audience.clone(),
        ..Validator::default()
    };
    let id = validator
        .validate(request.svid.as_bytes(), &bundles, SystemTime::now())
        .map_err(|e| e.to_string())?;
    let claims = claims_of(&request.svid).unwrap_or_default();
    Ok(proto::ValidateJwtSvidResponse {
        spiffe_id: id.to_string(),
        claims: Some(proto::Struct::from(&claims)),
    })
}

/// The claims of a token already validated.
fn claims_of(token: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    serde_json::from_slice(&json).ok()
}

fn bundles_of(trust_domain: &str, authorities: &[Signer]) -> proto::JwtBundlesResponse {
    let keys: Vec<serde_json::Value> = authorities.iter().map(Signer::jwk).collect();
    let jwks = json!({ "keys": keys, "spiffe_refresh_hint": 60 }).to_string();
    proto::JwtBundlesResponse {
        bundles: [(format!("spiffe://{trust_domain}"), jwks.into_bytes())].into(),
    }
}

/// The bundle now, and again after every rotation, until the client goes
/// or the stand-in stops.
async fn stream_bundles(mut respond: SendResponse<Bytes>, shared: &Shared) {
    let Ok(mut send) = respond.send_response(grpc_head(None), false) else {
        return;
    };
    shared
        .bundle_streams
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let mut authorities = shared.authorities.subscribe();
    loop {
        let message = bundles_of(&shared.trust_domain, &authorities.borrow_and_update());
        if send.send_data(grpc::frame(&message), false).is_err() {
            return;
        }
        if authorities.changed().await.is_err() {
            return;
        }
    }
}

fn grpc_head(status: Option<(u32, &str)>) -> http::Response<()> {
    let mut head = http::Response::builder()
        .status(http::StatusCode::OK)
        .header(http::header::CONTENT_TYPE, "application/grpc");
    if let Some((code, message)) = status {
        head = head
            .header("grpc-status", code.to_string())
            .header("grpc-message", message.replace(['\r', '\n'], " "));
    }
    head.body(()).unwrap_or_default()
}

fn reply(mut respond: SendResponse<Bytes>, message: &impl prost::Message) {
    let Ok(mut send) = respond.send_response(grpc_head(None), false) else {
        return;
    };
    if send.send_data(grpc::frame(message), false).is_ok() {
        let mut trailers = http::HeaderMap::new();
        trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
        let _ = send.send_trailers(trailers);
    }
}

/// A "trailers-only" error answer.
fn fail(respond: &mut SendResponse<Bytes>, code: u32, message: &str) {
    let _ = respond.send_response(grpc_head(Some((code, message))), true);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test fails by panicking")]

    use super::*;
    use crate::workload_api::WorkloadApiError;

    #[test]
    fn calls_without_the_security_header_are_refused_as_an_agent_does() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.sock");
        let _agent =
            StandInWorkloadApi::start(&path, "example.org", vec![Signer::es256("k", "k")]).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let stream = tokio::net::UnixStream::connect(&path).await.unwrap();
            let (send, connection) = h2::client::handshake(stream).await.unwrap();
            drop(tokio::spawn(connection));
            let mut send = send.ready().await.unwrap();
            let head = http::Request::post("http://localhost/SpiffeWorkloadAPI/FetchJWTSVID")
                .header(http::header::CONTENT_TYPE, "application/grpc")
                .header(http::header::TE, "trailers")
                .body(())
                .unwrap();
            let (response, mut body) = send.send_request(head, false).unwrap();
            let request = proto::JwtSvidRequest {
                audience: vec!["parsec".into()],
                spiffe_id: String::new(),
            };
            body.send_data(grpc::frame(&request), true).unwrap();
            let response = response.await.unwrap();
            match grpc::status(response.headers()) {
                Some(Err(WorkloadApiError::Status { code: 3, message })) => {
                    assert_eq!(message, "security header missing from request")
                }
                other => panic!("{other:?}"),
            }
        });
    }
}
