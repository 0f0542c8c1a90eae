//! JWT-SVIDs from the SPIFFE Workload API, for
//! [`Authentication::spiffe`](crate::Authentication::spiffe) (feature
//! `spiffe-auth`).
//!
//! Each fetch asks the agent (FetchJWTSVID) for an SVID of audience
//! `parsec` on a small one-thread tokio runtime in a thread of its own, so
//! it works the same from blocking code and from inside another runtime.
//! The SVID is kept until shortly before its `exp`: a minute before, or
//! half its lifetime before when that is shorter.

use crate::{ClientErrorKind, Error};
use psec_interface::SecretBytes;
use psec_jwt_svid::workload_api::{self, WorkloadApiClient, WorkloadApiError};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};
use zeroize::Zeroize;

/// The variable naming the Workload API endpoint, `SPIFFE_ENDPOINT_SOCKET`.
pub use psec_jwt_svid::workload_api::ENDPOINT_ENV;

/// The audience psecd and Parsec expect.
pub const AUDIENCE: &str = "parsec";

/// Renew at most this long before `exp`.
const RENEW_BEFORE: Duration = Duration::from_secs(60);

/// Where SVIDs come from, and the one in use.
#[derive(Debug)]
pub(crate) struct SvidSource {
    endpoint: String,
    cached: Mutex<Option<Cached>>,
}

struct Cached {
    token: SecretBytes,
    /// When to fetch another.
    renew_at: SystemTime,
}

impl std::fmt::Debug for Cached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cached(token hidden)")
    }
}

impl SvidSource {
    /// From `endpoint`, or from `SPIFFE_ENDPOINT_SOCKET`.
    pub(crate) fn new(endpoint: Option<&str>) -> Result<SvidSource, Error> {
        let endpoint = match endpoint {
            Some(endpoint) => endpoint.to_string(),
            None => std::env::var(ENDPOINT_ENV).map_err(|_| ClientErrorKind::WorkloadApi {
                endpoint: format!("${ENDPOINT_ENV}"),
                source: WorkloadApiError::Protocol(
                    "SPIFFE_ENDPOINT_SOCKET is not set; set it to the agent's socket \
                     (unix:///path) or give the endpoint",
                ),
            })?,
        };
        workload_api::unix_socket_path(&endpoint).map_err(|source| {
            ClientErrorKind::WorkloadApi {
                endpoint: endpoint.clone(),
                source,
            }
        })?;
        Ok(SvidSource {
            endpoint,
            cached: Mutex::new(None),
        })
    }

    /// The SVID to send now: the one kept, or a new one.
    pub(crate) fn token(&self) -> Result<SecretBytes, Error> {
        let mut cached = match self.cached.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let now = SystemTime::now();
        if let Some(c) = cached.as_ref() {
            if now < c.renew_at {
                return Ok(c.token.clone());
            }
        }
        *cached = None;
        let fresh = self.fetch(now)?;
        let token = fresh.token.clone();
        *cached = Some(fresh);
        Ok(token)
    }

    fn fetch(&self, now: SystemTime) -> Result<Cached, Error> {
        let endpoint = self.endpoint.clone();
        let fetched = std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(|e| WorkloadApiError::Connect {
                            path: "a tokio runtime".into(),
                            source: e,
                        })?;
                    runtime.block_on(async {
                        let client = WorkloadApiClient::connect(&endpoint).await?;
                        client.fetch_jwt_svids(&[AUDIENCE], None).await
                    })
                })
                .join()
                .unwrap_or(Err(WorkloadApiError::Protocol(
                    "the Workload API fetch panicked",
                )))
        });
        let fail = |source| ClientErrorKind::WorkloadApi {
            endpoint: self.endpoint.clone(),
            source,
        };
        let mut svids = fetched.map_err(fail)?;
        let result = match svids.first() {
            Some(svid) => workload_api::unverified_expiry(&svid.svid).and_then(|exp| {
                if svid.svid.len() > crate::auth::MAX_AUTH_LEN {
                    return Err(WorkloadApiError::Protocol(
                        "the JWT-SVID is longer than the 65,535 bytes a request carries",
                    ));
                }
                let lifetime = exp.duration_since(now).unwrap_or_default();
                Ok(Cached {
                    token: SecretBytes::from(svid.svid.as_bytes()),
                    renew_at: exp
                        .checked_sub(RENEW_BEFORE.min(lifetime / 2))
                        .unwrap_or(exp),
                })
            }),
            None => Err(WorkloadApiError::Protocol(
                "FetchJWTSVID answered no JWT-SVID",
            )),
        };
        for svid in &mut svids {
            svid.svid.zeroize();
        }
        result.map_err(|e| fail(e).into())
    }
}
