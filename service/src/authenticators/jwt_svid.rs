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
    /// The Workload API, followed by a thread of its own.
    Agent(agent::AgentSource),
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
    /// unreadable or invalid bundle file is an error naming it.
    pub(crate) fn new(
        workload_endpoint: Option<&str>,
        jwt_bundle_path: Option<&Path>,
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
            (None, Some(endpoint)) => Source::Agent(agent::AgentSource::start(endpoint)?),
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
    use psec_jwt_svid::testing::{Signer, bundle_set};

    const WEB: &str = "spiffe://example.org/web";

    #[test]
    fn a_valid_token_gives_its_spiffe_id() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bundles.json");
        let s = Signer::es256("k", "k");
        std::fs::write(&path, bundle_set(&[("example.org", &[&s])])).unwrap();
        let auth = JwtSvid::new(None, Some(&path)).unwrap();
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
        let auth = JwtSvid::new(Some("unix:///nowhere/agent.sock"), None).unwrap();
        let s = Signer::es256("k", "k");
        assert_eq!(
            auth.authenticate(s.mint(WEB, &["parsec"]).as_bytes()),
            Err(ResponseStatus::AuthenticationError)
        );
    }

    #[test]
    fn bad_settings_are_start_errors_saying_what() {
        let none = JwtSvid::new(None, None).unwrap_err();
        assert!(
            none.contains("workload_endpoint") && none.contains("jwt_bundle_path"),
            "{none}"
        );
        let scheme = JwtSvid::new(Some("/run/agent.sock"), None).unwrap_err();
        assert!(scheme.contains("unix:"), "{scheme}");
        let tcp = JwtSvid::new(Some("tcp://127.0.0.1:8081"), None).unwrap_err();
        assert!(tcp.contains("tcp: endpoints are not supported"), "{tcp}");
        let missing = JwtSvid::new(None, Some(Path::new("/nowhere/b.json"))).unwrap_err();
        assert!(missing.contains("/nowhere/b.json"), "{missing}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.json");
        std::fs::write(&path, "{\"example.org\": 1}").unwrap();
        let bad = JwtSvid::new(None, Some(&path)).unwrap_err();
        assert!(bad.contains("example.org") && bad.contains("JWKS"), "{bad}");
    }
}
