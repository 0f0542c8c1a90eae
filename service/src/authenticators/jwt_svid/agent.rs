//! JWT bundles from the SPIFFE Workload API (`workload_endpoint`).
//!
//! A thread of its own, with a one-thread tokio runtime, follows the
//! agent's FetchJWTBundles stream: each message replaces the bundle set
//! and counts a new generation, so that the validated-token cache forgets
//! tokens checked against an older one. When the stream ends or the agent
//! can not be reached, it connects again after a backoff that doubles from
//! 100 ms up to 5 s. Meanwhile the last set received stays in force: a JWT
//! bundle holds the trust domain's keys until the agent replaces them. The
//! outage is logged once, and its end too. Until a first set arrives,
//! JWT-SVID requests are refused, with a warning at most every 30 s. A
//! reload on the same endpoint hands the source on to the new
//! authenticator; the thread ends when the last authenticator holding it
//! is dropped (at a reload that changes or removes the endpoint, a new
//! source takes over, or none). The socket front end never waits on the
//! agent.

use psec_jwt_svid::JwtBundles;
use psec_jwt_svid::workload_api::{self, WorkloadApiClient, WorkloadApiError};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// The first wait before connecting again, and the longest.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(5));

/// How long the start (or a reload onto a new endpoint) waits for a first
/// bundle set, so that requests right after it do not fail while the agent
/// is up.
const FIRST_WAIT: Duration = Duration::from_secs(1);

/// At most one "no bundles yet" warning in this time.
const WARN_EVERY: Duration = Duration::from_secs(30);

/// The bundles the agent sent last, and the thread that follows it.
#[derive(Debug)]
pub(super) struct AgentSource {
    /// The `workload_endpoint` it follows, for messages.
    endpoint: String,
    /// The agent's socket, as `endpoint` names it.
    socket: PathBuf,
    state: Arc<(Mutex<State>, Condvar)>,
    warned: Mutex<Option<Instant>>,
    /// Dropped with the source, which ends the thread.
    _stop: oneshot::Sender<()>,
}

#[derive(Debug, Default)]
struct State {
    bundles: Option<Arc<JwtBundles>>,
    /// Counts the bundle sets received.
    generation: u64,
}

impl AgentSource {
    /// Starts following the agent at `endpoint`; waits up to a second for
    /// its first bundles. An endpoint this client can not use (`tcp:`, not
    /// a `unix:` URI) is an error.
    pub(super) fn start(endpoint: &str) -> Result<AgentSource, String> {
        let socket = workload_api::unix_socket_path(endpoint)
            .map_err(|e| format!("[authenticator] workload_endpoint: {e}"))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("JwtSvid: start the Workload API client: {e}"))?;
        let state = Arc::new((Mutex::new(State::default()), Condvar::new()));
        let (stop, stopped) = oneshot::channel();
        let watcher = Watcher {
            endpoint: endpoint.to_string(),
            state: Arc::clone(&state),
        };
        std::thread::Builder::new()
            .name("workload-api".into())
            .spawn(move || {
                runtime.block_on(async move {
                    tokio::select! {
                        () = watcher.run() => {}
                        _ = stopped => {}
                    }
                });
            })
            .map_err(|e| format!("JwtSvid: start the Workload API client: {e}"))?;
        {
            let (lock, arrived) = &*state;
            let guard = locked(lock);
            let _ = arrived.wait_timeout_while(guard, FIRST_WAIT, |s| s.bundles.is_none());
        }
        Ok(AgentSource {
            endpoint: endpoint.to_string(),
            socket,
            state,
            warned: Mutex::new(None),
            _stop: stop,
        })
    }

    /// Whether `endpoint` names the socket this source follows, however it
    /// is written (`unix:/path` or `unix:///path`).
    pub(super) fn follows(&self, endpoint: &str) -> bool {
        workload_api::unix_socket_path(endpoint).is_ok_and(|socket| socket == self.socket)
    }

    /// The bundles in force and their generation, if any were received.
    /// When none were, logs why (at most every 30 s) and gives `None`.
    pub(super) fn current(&self) -> Option<(Arc<JwtBundles>, u64)> {
        let state = locked(&self.state.0);
        if let Some(bundles) = &state.bundles {
            return Some((Arc::clone(bundles), state.generation));
        }
        drop(state);
        let mut warned = locked(&self.warned);
        if warned.is_none_or(|at| at.elapsed() >= WARN_EVERY) {
            *warned = Some(Instant::now());
            log::warn!(
                "JWT-SVID refused: no JWT bundles received yet from the Workload API at {} \
                 (is the SPIRE agent running?); JWT-SVID requests are refused until they \
                 arrive (this warning is given at most every {} s)",
                self.endpoint,
                WARN_EVERY.as_secs()
            );
        }
        None
    }
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// The loop on the thread.
struct Watcher {
    endpoint: String,
    state: Arc<(Mutex<State>, Condvar)>,
}

impl Watcher {
    async fn run(self) {
        let mut backoff = BACKOFF.0;
        let mut outage = false;
        loop {
            let mut received = false;
            let why = self.follow(&mut received, &mut outage).await;
            if received {
                backoff = BACKOFF.0;
            }
            if !outage {
                outage = true;
                let held = locked(&self.state.0)
                    .bundles
                    .as_ref()
                    .map(|b| b.authority_count());
                match held {
                    Some(count) => log::warn!(
                        "JwtSvid: the Workload API at {} is unreachable ({why}); validating \
                         with the last JWT bundles received ({count} authorities) until it \
                         returns",
                        self.endpoint
                    ),
                    None => log::warn!(
                        "JwtSvid: the Workload API at {} is unreachable ({why}); JWT-SVID \
                         requests are refused until it sends JWT bundles",
                        self.endpoint
                    ),
                }
            } else {
                log::debug!("JwtSvid: Workload API at {}: {why}", self.endpoint);
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(BACKOFF.1);
        }
    }

    /// Follows one FetchJWTBundles stream until it ends; says why it did.
    async fn follow(&self, received: &mut bool, outage: &mut bool) -> String {
        let client = match WorkloadApiClient::connect(&self.endpoint).await {
            Ok(client) => client,
            Err(error) => return error.to_string(),
        };
        let mut stream = match client.fetch_jwt_bundles().await {
            Ok(stream) => stream,
            Err(error) => return error.to_string(),
        };
        loop {
            match stream.next().await {
                Ok(Some(bundles)) => {
                    *received = true;
                    if std::mem::take(outage) {
                        log::info!("JwtSvid: the Workload API at {} is back", self.endpoint);
                    }
                    self.install(bundles);
                }
                Ok(None) => return "the agent ended the JWT bundle stream".into(),
                Err(error @ WorkloadApiError::Bundle(_)) => {
                    log::error!("JwtSvid: {error}; keeping the JWT bundles received before")
                }
                Err(error) => return error.to_string(),
            }
        }
    }

    fn install(&self, bundles: JwtBundles) {
        let mut domains: Vec<&str> = bundles.trust_domains().collect();
        domains.sort_unstable();
        log::info!(
            "JwtSvid: {} JWT authorities of trust domains [{}] from the Workload API at {}",
            bundles.authority_count(),
            domains.join(", "),
            self.endpoint
        );
        let (lock, arrived) = &*self.state;
        let mut state = locked(lock);
        state.bundles = Some(Arc::new(bundles));
        state.generation += 1;
        arrived.notify_all();
    }
}
