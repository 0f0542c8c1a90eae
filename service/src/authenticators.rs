//! Authenticators: who is asking.
//!
//! Several may be enabled at once (Parsec allows one); the auth type in the
//! request header picks which one reads the request's auth bytes.

#[cfg(feature = "jwt-svid")]
mod jwt_svid;

use crate::config::{self, AuthenticatorConfig};
use psec_interface::operations::list_authenticators::AuthenticatorInfo;
use psec_interface::{AuthBuffer, AuthType, ResponseStatus};
use psec_provider::Application;

/// The credentials of the process at the other end of the socket, from
/// SO_PEERCRED.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PeerCredentials {
    /// User id.
    pub(crate) uid: u32,
    /// Group id.
    pub(crate) gid: u32,
}

/// One enabled authenticator and its administrators.
#[derive(Debug, Clone)]
struct Enabled {
    auth_type: AuthType,
    admins: Vec<String>,
    /// The JWT-SVID authenticator, for `JwtSvid`.
    #[cfg(feature = "jwt-svid")]
    jwt_svid: Option<std::sync::Arc<jwt_svid::JwtSvid>>,
}

/// The enabled authenticators, in configuration order.
#[derive(Debug, Clone)]
pub(crate) struct Authenticators {
    enabled: Vec<Enabled>,
}

/// Why a request could not be authenticated; each is a wire status.
pub(crate) type AuthError = ResponseStatus;

impl Authenticators {
    /// The authenticators of the configuration. A JwtSvid table reads its
    /// bundle file here; without the `jwt-svid` feature it is an error. At
    /// a reload, `running` are the authenticators in service: a JwtSvid
    /// authenticator whose `workload_endpoint` names the same agent socket
    /// carries on with the running Workload API client and its bundles.
    pub(crate) fn from_config(
        configs: &[AuthenticatorConfig],
        running: Option<&Authenticators>,
    ) -> Result<Self, String> {
        #[cfg(feature = "jwt-svid")]
        let running_jwt_svid =
            running.and_then(|r| r.enabled.iter().find_map(|e| e.jwt_svid.as_deref()));
        #[cfg(not(feature = "jwt-svid"))]
        let _ = running;
        let enabled = configs
            .iter()
            .map(|c| {
                if c.auth_type != config::AuthType::JwtSvid
                    && (c.workload_endpoint.is_some() || c.jwt_bundle_path.is_some())
                {
                    // Parsec ignores what another auth type does not use.
                    log::warn!(
                        "[authenticator] auth_type = \"{:?}\": workload_endpoint and \
                         jwt_bundle_path are for auth_type = \"JwtSvid\"; ignored",
                        c.auth_type
                    );
                }
                let auth_type = match c.auth_type {
                    config::AuthType::Direct => AuthType::Direct,
                    config::AuthType::UnixPeerCredentials => AuthType::UnixPeerCredentials,
                    config::AuthType::JwtSvid => AuthType::JwtSvid,
                };
                Ok(Enabled {
                    auth_type,
                    admins: c.admins.iter().map(|a| a.name.clone()).collect(),
                    #[cfg(feature = "jwt-svid")]
                    jwt_svid: match c.auth_type {
                        config::AuthType::JwtSvid => {
                            Some(std::sync::Arc::new(jwt_svid::JwtSvid::new(
                                c.workload_endpoint.as_deref(),
                                c.jwt_bundle_path.as_deref(),
                                running_jwt_svid,
                            )?))
                        }
                        _ => None,
                    },
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        #[cfg(not(feature = "jwt-svid"))]
        if enabled.iter().any(|e| e.auth_type == AuthType::JwtSvid) {
            return Err(
                "[authenticator] auth_type = \"JwtSvid\" is not compiled into this \
                        build; rebuild psecd with --features jwt-svid"
                    .to_string(),
            );
        }
        Ok(Authenticators { enabled })
    }

    /// Authenticates a request. `NoAuth` gives no application; an auth type
    /// that is not enabled gives `AuthenticatorNotRegistered`; credentials
    /// that do not check out give `AuthenticationError`.
    pub(crate) fn authenticate(
        &self,
        auth_type: AuthType,
        auth: &AuthBuffer,
        peer: Option<PeerCredentials>,
    ) -> Result<Option<Application>, AuthError> {
        if auth_type == AuthType::NoAuth {
            return Ok(None);
        }
        let Some(enabled) = self.enabled.iter().find(|e| e.auth_type == auth_type) else {
            return Err(ResponseStatus::AuthenticatorNotRegistered);
        };
        let name = match auth_type {
            AuthType::Direct => direct(auth)?,
            AuthType::UnixPeerCredentials => unix_peer(auth, peer)?,
            #[cfg(feature = "jwt-svid")]
            AuthType::JwtSvid => match &enabled.jwt_svid {
                Some(jwt_svid) => jwt_svid.authenticate(auth.bytes())?,
                None => return Err(ResponseStatus::AuthenticatorNotRegistered),
            },
            _ => return Err(ResponseStatus::AuthenticatorNotRegistered),
        };
        #[cfg(not(feature = "jwt-svid"))]
        let _ = enabled;
        Ok(Some(Application::new(auth_type, name)))
    }

    /// Whether `app` is an administrator of the authenticator that
    /// authenticated it.
    pub(crate) fn is_admin(&self, app: &Application) -> bool {
        self.enabled
            .iter()
            .any(|e| e.auth_type == app.auth && e.admins.contains(&app.name))
    }

    /// The auth type of the first enabled authenticator (the one a store
    /// that knows no auth types files its keys under).
    pub(crate) fn primary(&self) -> Option<AuthType> {
        self.enabled.first().map(|e| e.auth_type)
    }

    /// For ListAuthenticators, in configuration order.
    pub(crate) fn infos(&self) -> Vec<AuthenticatorInfo> {
        let (maj, min, rev) = crate::version();
        self.enabled
            .iter()
            .map(|e| AuthenticatorInfo {
                description: match e.auth_type {
                    AuthType::Direct => {
                        "Direct authenticator: the application name is taken from the request"
                    }
                    AuthType::UnixPeerCredentials => {
                        "Unix peer credentials authenticator: the application is the client's UID"
                    }
                    AuthType::JwtSvid => {
                        "JWT-SVID authenticator: the application is the SPIFFE ID of a JWT-SVID \
                         checked against its trust domain's JWT bundle"
                    }
                    _ => "authenticator",
                }
                .to_string(),
                version_maj: maj,
                version_min: min,
                version_rev: rev,
                id: e.auth_type,
            })
            .collect()
    }
}

/// Direct: the auth bytes are the application name, non-empty UTF-8.
fn direct(auth: &AuthBuffer) -> Result<String, AuthError> {
    let name =
        std::str::from_utf8(auth.bytes()).map_err(|_| ResponseStatus::AuthenticationError)?;
    if name.is_empty() {
        return Err(ResponseStatus::AuthenticationError);
    }
    Ok(name.to_string())
}

/// Unix peer credentials: the auth bytes are the client's UID, 4 bytes
/// little-endian, and must be the UID the kernel reports for the peer.
fn unix_peer(auth: &AuthBuffer, peer: Option<PeerCredentials>) -> Result<String, AuthError> {
    let claimed: [u8; 4] = auth
        .bytes()
        .try_into()
        .map_err(|_| ResponseStatus::AuthenticationError)?;
    let peer = peer.ok_or(ResponseStatus::AuthenticationError)?;
    if u32::from_le_bytes(claimed) != peer.uid {
        return Err(ResponseStatus::AuthenticationError);
    }
    Ok(peer.uid.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Admin;

    fn both() -> Authenticators {
        let config = |auth_type, admins: &[&str]| AuthenticatorConfig {
            auth_type,
            admins: admins
                .iter()
                .map(|a| Admin {
                    name: a.to_string(),
                })
                .collect(),
            workload_endpoint: None,
            jwt_bundle_path: None,
        };
        Authenticators::from_config(
            &[
                config(config::AuthType::UnixPeerCredentials, &["0"]),
                config(config::AuthType::Direct, &["root-app"]),
            ],
            None,
        )
        .unwrap()
    }

    const PEER: Option<PeerCredentials> = Some(PeerCredentials {
        uid: 1000,
        gid: 1000,
    });

    #[test]
    fn direct_takes_the_name_from_the_request() {
        let app = both()
            .authenticate(AuthType::Direct, &AuthBuffer::from("alice"), None)
            .unwrap();
        assert_eq!(app, Some(Application::new(AuthType::Direct, "alice")));
    }

    #[test]
    fn direct_refuses_empty_and_non_utf8_names() {
        let a = both();
        for bytes in [vec![], vec![0xff, 0xfe]] {
            let result = a.authenticate(AuthType::Direct, &AuthBuffer::new(bytes), None);
            assert_eq!(result, Err(ResponseStatus::AuthenticationError));
        }
    }

    #[test]
    fn unix_peer_credentials_accepts_only_the_peers_own_uid() {
        let a = both();
        let app = a
            .authenticate(
                AuthType::UnixPeerCredentials,
                &AuthBuffer::new(1000u32.to_le_bytes().to_vec()),
                PEER,
            )
            .unwrap();
        assert_eq!(
            app,
            Some(Application::new(AuthType::UnixPeerCredentials, "1000"))
        );
        let lie = a.authenticate(
            AuthType::UnixPeerCredentials,
            &AuthBuffer::new(0u32.to_le_bytes().to_vec()),
            PEER,
        );
        assert_eq!(lie, Err(ResponseStatus::AuthenticationError));
        let short = a.authenticate(
            AuthType::UnixPeerCredentials,
            &AuthBuffer::new(vec![1, 2]),
            PEER,
        );
        assert_eq!(short, Err(ResponseStatus::AuthenticationError));
    }

    #[test]
    fn an_auth_type_that_is_not_enabled_is_not_registered() {
        let direct_only = Authenticators::from_config(
            &[AuthenticatorConfig {
                auth_type: config::AuthType::Direct,
                admins: vec![],
                workload_endpoint: None,
                jwt_bundle_path: None,
            }],
            None,
        )
        .unwrap();
        let result = direct_only.authenticate(
            AuthType::UnixPeerCredentials,
            &AuthBuffer::new(1000u32.to_le_bytes().to_vec()),
            PEER,
        );
        assert_eq!(result, Err(ResponseStatus::AuthenticatorNotRegistered));
    }

    #[test]
    fn admins_belong_to_their_own_authenticator() {
        let a = both();
        assert!(a.is_admin(&Application::new(AuthType::Direct, "root-app")));
        assert!(a.is_admin(&Application::new(AuthType::UnixPeerCredentials, "0")));
        assert!(!a.is_admin(&Application::new(AuthType::Direct, "0")));
        assert!(!a.is_admin(&Application::new(AuthType::UnixPeerCredentials, "root-app")));
    }

    #[test]
    fn no_auth_gives_no_application() {
        assert_eq!(
            both().authenticate(AuthType::NoAuth, &AuthBuffer::default(), None),
            Ok(None)
        );
    }
}

/// What authenticating one request costs, JWT-SVID beside Unix peer
/// credentials. Figures, not pass or fail: run in release with
/// `cargo test --release -p psec-service --lib -- --ignored --nocapture authentication_cost`.
#[cfg(all(test, feature = "jwt-svid"))]
mod cost {
    #![allow(clippy::unwrap_used, reason = "a test fails by panicking")]

    use super::*;
    use psec_jwt_svid::testing::{Signer, bundle_set};
    use std::time::Instant;

    fn per_call(what: &str, n: u32, mut f: impl FnMut()) {
        f();
        let start = Instant::now();
        for _ in 0..n {
            f();
        }
        let micros = start.elapsed().as_secs_f64() * 1e6 / f64::from(n);
        println!("{what:<36} {micros:>10.2} µs per request");
    }

    #[test]
    #[ignore = "a measurement, not a test"]
    fn authentication_cost() {
        let signers = [
            Signer::es256("es256", "cost"),
            Signer::es384("es384", "cost"),
            Signer::rs256("rs256", 0),
            Signer::ps256("ps256", 1),
        ];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bundles.json");
        let refs: Vec<&Signer> = signers.iter().collect();
        std::fs::write(&path, bundle_set(&[("example.org", &refs)])).unwrap();
        let auth = Authenticators::from_config(
            &[
                AuthenticatorConfig {
                    auth_type: config::AuthType::JwtSvid,
                    admins: vec![],
                    workload_endpoint: None,
                    jwt_bundle_path: Some(path),
                },
                AuthenticatorConfig {
                    auth_type: config::AuthType::UnixPeerCredentials,
                    admins: vec![],
                    workload_endpoint: None,
                    jwt_bundle_path: None,
                },
            ],
            None,
        )
        .unwrap();
        let peer = Some(PeerCredentials {
            uid: 1000,
            gid: 1000,
        });
        let uid = AuthBuffer::new(1000u32.to_le_bytes().to_vec());
        per_call("UnixPeerCredentials", 1_000_000, || {
            auth.authenticate(AuthType::UnixPeerCredentials, &uid, peer)
                .unwrap();
        });
        let bundles =
            psec_jwt_svid::JwtBundles::from_json(bundle_set(&[("example.org", &refs)]).as_bytes())
                .unwrap();
        let validator = psec_jwt_svid::Validator::default();
        for s in &signers {
            let text = s.mint("spiffe://example.org/ns/prod/sa/web", &["parsec"]);
            per_call(
                &format!("JwtSvid {}, full validation", s.alg()),
                2_000,
                || {
                    validator
                        .validate(text.as_bytes(), &bundles, std::time::SystemTime::now())
                        .unwrap();
                },
            );
            let token = AuthBuffer::new(text.into_bytes());
            per_call(
                &format!("JwtSvid {}, token seen before", s.alg()),
                200_000,
                || {
                    auth.authenticate(AuthType::JwtSvid, &token, None).unwrap();
                },
            );
        }
    }
}
