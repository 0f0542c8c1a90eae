//! The JWT-SVID authenticator: a request's auth bytes are a JWT-SVID,
//! validated locally against the trust domains' JWT bundles; the
//! application is its SPIFFE ID.
//!
//! Where the bundles come from: the SPIFFE Workload API at
//! `workload_endpoint` (as Parsec's configuration names it; see [`agent`]),
//! or the file `jwt_bundle_path` (a psec extension, for nodes without an
//! agent), read at start, on SIGHUP (with the whole configuration) and
//! whenever the file changes (its modification time, size or inode, looked
//! at most once a second). When both are set, the file is used.
//!
//! A reload builds the authenticator anew, from the running one: on a
//! `workload_endpoint` naming the same agent socket it keeps the running
//! Workload API client, its thread and the last bundles received, so that
//! an agent outage outlives the reload and the reload never waits for the
//! agent.

mod agent;

use super::AuthError;
use psec_interface::ResponseStatus;
use psec_jwt_svid::{JwtBundles, ValidatedCache, Validator};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// The largest bundle file read.
const MAX_BUNDLE_FILE: u64 = 4 * 1024 * 1024;

/// How often the bundle file is looked at for a change.
const RECHECK: Duration = Duration::from_secs(1);

/// How many validated tokens are remembered (one per workload that talks
/// to this psecd is what counts).
const CACHE_CAPACITY: usize = 4096;

/// The JWT-SVID authenticator of one `[authenticator]` table.
#[derive(Debug)]
pub(crate) struct JwtSvid {
    source: Source,
    validator: Validator,
    cache: ValidatedCache,
}

#[derive(Debug)]
enum Source {
    /// A bundle file, watched.
    File(BundleFile),
    /// The Workload API, followed by a thread of its own; shared with the
    /// authenticator that a reload builds on the same endpoint.
    Agent(Arc<agent::AgentSource>),
}

#[derive(Debug)]
struct BundleFile {
    path: PathBuf,
    state: Mutex<FileState>,
}

#[derive(Debug)]
struct FileState {
    bundles: Arc<JwtBundles>,
    /// Counts the bundle sets read, so that the cache forgets tokens
    /// validated against an older one.
    generation: u64,
    stamp: Option<Stamp>,
    checked: Instant,
}

/// What tells that the file changed: modification time, size, inode.
type Stamp = (Option<SystemTime>, u64, u64);

impl JwtSvid {
    /// From the table's `workload_endpoint` and `jwt_bundle_path`; an
    /// unreadable or invalid bundle file is an error naming it. At a
    /// reload, `running` is the authenticator in service: if it follows
    /// the same Workload API endpoint, the new one shares its client
    /// rather than starting another.
    pub(crate) fn new(
        workload_endpoint: Option<&str>,
        jwt_bundle_path: Option<&Path>,
        running: Option<&JwtSvid>,
    ) -> Result<JwtSvid, String> {
        if let Some(endpoint) = workload_endpoint {
            if !(endpoint.starts_with("unix:") || endpoint.starts_with("tcp:")) {
                return Err(format!(
                    "[authenticator] workload_endpoint = {endpoint:?}: a unix: or tcp: URI, \
                     such as \"unix:///run/spire/sockets/agent.sock\""
                ));
            }
        }
        let source = match (jwt_bundle_path, workload_endpoint) {
            (Some(path), endpoint) => {
                let (bundles, stamp) = load(path)?;
                let mut domains: Vec<&str> = bundles.trust_domains().collect();
                domains.sort_unstable();
                log::info!(
                    "JwtSvid: {} JWT authorities of trust domains [{}] from {}",
                    bundles.authority_count(),
                    domains.join(", "),
                    path.display()
                );
                if let Some(endpoint) = endpoint {
                    log::info!(
                        "JwtSvid: workload_endpoint {endpoint} is not used: jwt_bundle_path \
                         is set, and the bundles come from that file"
                    );
                }
                Source::File(BundleFile {
                    path: path.to_path_buf(),
                    state: Mutex::new(FileState {
                        bundles: Arc::new(bundles),
                        generation: 0,
                        stamp: Some(stamp),
                        checked: Instant::now(),
                    }),
                })
            }
            (None, Some(endpoint)) => match running.and_then(|r| r.agent_source(endpoint)) {
                Some(source) => {
                    log::info!(
                        "JwtSvid: workload_endpoint {endpoint} names the agent socket already \
                         followed: the running Workload API client carries on, with the \
                         bundles it holds"
                    );
                    Source::Agent(Arc::clone(source))
                }
                None => Source::Agent(Arc::new(agent::AgentSource::start(endpoint)?)),
            },
            (None, None) => {
                return Err(
                    "[authenticator] auth_type = \"JwtSvid\" needs workload_endpoint \
                            (the SPIFFE Workload API) or jwt_bundle_path (a JWT bundle file)"
                        .to_string(),
                );
            }
        };
        Ok(JwtSvid {
            source,
            validator: Validator::default(),
            cache: ValidatedCache::new(CACHE_CAPACITY),
        })
    }

    /// The Workload API client, if this authenticator follows `endpoint`.
    fn agent_source(&self, endpoint: &str) -> Option<&Arc<agent::AgentSource>> {
        match &self.source {
            Source::Agent(source) if source.follows(endpoint) => Some(source),
            Source::Agent(_) | Source::File(_) => None,
        }
    }

    /// The SPIFFE ID of a valid token. A refusal is logged with its reason,
    /// never with the token.
    pub(crate) fn authenticate(&self, token: &[u8]) -> Result<String, AuthError> {
        let (bundles, generation) = match &self.source {
            Source::File(file) => file.current(),
            Source::Agent(agent) => agent.current().ok_or(ResponseStatus::AuthenticationError)?,
        };
        let now = SystemTime::now();
        match self
            .cache
            .validate(&self.validator, token, &bundles, generation, now)
        {
            Ok(id) => Ok(id.to_string()),
            Err(error) => {
                log::warn!("JWT-SVID refused: {error}");
                Err(ResponseStatus::AuthenticationError)
            }
        }
    }
}

impl BundleFile {
    /// The bundles and their generation, read again first if the file
    /// changed.
    fn current(&self) -> (Arc<JwtBundles>, u64) {
        let mut state = match self.state.lock() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        };
        if state.checked.elapsed() >= RECHECK {
            state.checked = Instant::now();
            let now = std::fs::metadata(&self.path).ok().map(|m| stamp(&m));
            if now.is_some() && now != state.stamp {
                state.stamp = now;
                match load(&self.path) {
                    Ok((bundles, _)) => {
                        log::info!(
                            "JwtSvid: {} changed: {} JWT authorities now",
                            self.path.display(),
                            bundles.authority_count()
                        );
                        state.bundles = Arc::new(bundles);
                        state.generation += 1;
                    }
                    Err(error) => {
                        log::error!("{error}; keeping the JWT bundles read before")
                    }
                }
            }
        }
        (Arc::clone(&state.bundles), state.generation)
    }
}

fn stamp(meta: &std::fs::Metadata) -> Stamp {
    (meta.modified().ok(), meta.len(), meta.ino())
}

/// Reads and parses a bundle file.
fn load(path: &Path) -> Result<(JwtBundles, Stamp), String> {
    let fail = |why: String| format!("jwt_bundle_path {}: {why}", path.display());
    let file = std::fs::File::open(path).map_err(|e| fail(e.to_string()))?;
    let meta = file.metadata().map_err(|e| fail(e.to_string()))?;
    if meta.len() > MAX_BUNDLE_FILE {
        return Err(fail(format!(
            "{} bytes; at most {MAX_BUNDLE_FILE} are read",
            meta.len()
        )));
    }
    let mut json = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(file, MAX_BUNDLE_FILE + 1),
        &mut json,
    )
    .map_err(|e| fail(e.to_string()))?;
    let bundles = JwtBundles::from_json(&json).map_err(|e| fail(e.to_string()))?;
    Ok((bundles, stamp(&meta)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test fails by panicking")]

    use super::*;
    use psec_jwt_svid::testing::{Signer, StandInWorkloadApi, bundle_set};

    const WEB: &str = "spiffe://example.org/web";

    #[test]
    fn a_valid_token_gives_its_spiffe_id() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bundles.json");
        let s = Signer::es256("k", "k");
        std::fs::write(&path, bundle_set(&[("example.org", &[&s])])).unwrap();
        let auth = JwtSvid::new(None, Some(&path), None).unwrap();
        assert_eq!(
            auth.authenticate(s.mint(WEB, &["parsec"]).as_bytes()),
            Ok(WEB.into())
        );
        assert_eq!(
            auth.authenticate(s.mint(WEB, &["vault"]).as_bytes()),
            Err(ResponseStatus::AuthenticationError)
        );
    }

    #[test]
    fn an_unreachable_agent_starts_and_refuses_every_token() {
        let auth = JwtSvid::new(Some("unix:///nowhere/agent.sock"), None, None).unwrap();
        let s = Signer::es256("k", "k");
        assert_eq!(
            auth.authenticate(s.mint(WEB, &["parsec"]).as_bytes()),
            Err(ResponseStatus::AuthenticationError)
        );
    }

    /// The Workload API client of an authenticator that follows one.
    fn agent_of(auth: &JwtSvid) -> &Arc<agent::AgentSource> {
        match &auth.source {
            Source::Agent(source) => source,
            Source::File(_) => panic!("a bundle file, not the Workload API"),
        }
    }

    #[test]
    fn a_reload_keeps_the_client_of_the_same_endpoint_and_starts_one_for_another() {
        let s = Signer::es256("k", "k");
        let dir = tempfile::tempdir().unwrap();
        let mut first = StandInWorkloadApi::start(
            &dir.path().join("first.sock"),
            "example.org",
            vec![s.clone()],
        )
        .unwrap();
        let second = StandInWorkloadApi::start(
            &dir.path().join("second.sock"),
            "example.org",
            vec![s.clone()],
        )
        .unwrap();
        let token = s.mint(WEB, &["parsec"]);
        let running = JwtSvid::new(Some(&first.endpoint()), None, None).unwrap();
        assert_eq!(running.authenticate(token.as_bytes()), Ok(WEB.into()));

        // Same endpoint, the agent gone: the running client and its
        // bundles carry on.
        first.stop();
        let reloaded = JwtSvid::new(Some(&first.endpoint()), None, Some(&running)).unwrap();
        assert!(Arc::ptr_eq(agent_of(&running), agent_of(&reloaded)));
        assert_eq!(reloaded.authenticate(token.as_bytes()), Ok(WEB.into()));
        // The same socket written the other way (unix:/path, not
        // unix:///path) is the same endpoint.
        let short = first.endpoint().replacen("unix://", "unix:", 1);
        assert_ne!(short, first.endpoint());
        let respelled = JwtSvid::new(Some(&short), None, Some(&reloaded)).unwrap();
        assert!(Arc::ptr_eq(agent_of(&running), agent_of(&respelled)));
        drop(respelled);

        // Another endpoint: a client of its own.
        let moved = JwtSvid::new(Some(&second.endpoint()), None, Some(&reloaded)).unwrap();
        assert!(!Arc::ptr_eq(agent_of(&reloaded), agent_of(&moved)));
        assert!(agent_of(&moved).follows(&second.endpoint()));
        assert!(!agent_of(&moved).follows(&first.endpoint()));
        assert_eq!(second.bundle_streams(), 1);

        // A bundle file beside the same endpoint: the file, as at a start.
        let path = dir.path().join("bundles.json");
        std::fs::write(&path, bundle_set(&[("example.org", &[&s])])).unwrap();
        let file = JwtSvid::new(Some(&second.endpoint()), Some(&path), Some(&moved)).unwrap();
        assert!(matches!(file.source, Source::File(_)));

        // The old client goes with the last authenticator holding it,
        // which ends its thread.
        let old = Arc::downgrade(agent_of(&running));
        drop(running);
        assert!(old.upgrade().is_some(), "the reloaded one still holds it");
        drop(reloaded);
        assert!(old.upgrade().is_none());
    }

    #[test]
    fn bad_settings_are_start_errors_saying_what() {
        let none = JwtSvid::new(None, None, None).unwrap_err();
        assert!(
            none.contains("workload_endpoint") && none.contains("jwt_bundle_path"),
            "{none}"
        );
        let scheme = JwtSvid::new(Some("/run/agent.sock"), None, None).unwrap_err();
        assert!(scheme.contains("unix:"), "{scheme}");
        let tcp = JwtSvid::new(Some("tcp://127.0.0.1:8081"), None, None).unwrap_err();
        assert!(tcp.contains("tcp: endpoints are not supported"), "{tcp}");
        let missing = JwtSvid::new(None, Some(Path::new("/nowhere/b.json")), None).unwrap_err();
        assert!(missing.contains("/nowhere/b.json"), "{missing}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.json");
        std::fs::write(&path, "{\"example.org\": 1}").unwrap();
        let bad = JwtSvid::new(None, Some(&path), None).unwrap_err();
        assert!(bad.contains("example.org") && bad.contains("JWKS"), "{bad}");
    }
}
