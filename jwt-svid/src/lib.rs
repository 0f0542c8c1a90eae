//! JWT-SVID validation for psec.
//!
//! A workload proves its SPIFFE identity to psecd with a JWT-SVID: a JWT
//! signed by its trust domain's authority, whose `sub` is its SPIFFE ID.
//! psecd's `JwtSvid` authenticator checks each token locally with this
//! crate, against the trust domains' JWT bundles (JWKS documents), and
//! takes the SPIFFE ID as the application name. No network, no agent
//! round trip per request.
//!
//! Verified algorithms: ES256, ES384 (RustCrypto `p256`, `p384`), RS256,
//! RS384, RS512, PS256, PS384, PS512 (RustCrypto `rsa`, public-key
//! operations only). Pure Rust.
//!
//! Features: `workload-api` adds `workload_api`, a client of the SPIFFE
//! Workload API (the JWT bundle stream, JWT-SVIDs for the caller) on h2 and
//! tokio. `testing` adds [`testing`], which mints bundles and tokens with
//! fixed test keys (for tests, fuzz seeds and benchmarks only); with both,
//! `testing::StandInWorkloadApi`, a stand-in agent for tests.
//!
//! ```
//! use psec_jwt_svid::{Error, JwtBundles, Validator};
//! use std::time::SystemTime;
//!
//! let bundles = JwtBundles::from_json(br#"{ "example.org": { "keys": [] } }"#)?;
//! let refused = Validator::default().validate(b"not.a.token", &bundles, SystemTime::now());
//! assert!(matches!(refused, Err(Error::Malformed(_))));
//! # Ok::<(), Error>(())
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

mod bundle;
mod cache;
mod spiffe_id;
#[cfg(any(test, feature = "testing"))]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
mod token;
#[cfg(feature = "workload-api")]
#[cfg_attr(docsrs, doc(cfg(feature = "workload-api")))]
pub mod workload_api;

pub use bundle::{JwtBundles, MIN_RSA_BITS};
pub use cache::ValidatedCache;
pub use spiffe_id::{MAX_LEN as MAX_SPIFFE_ID_LEN, SpiffeId};
pub use token::{Alg, DEFAULT_LEEWAY, PARSEC_AUDIENCE, Validator};

/// Why a bundle or a token was refused. Token errors never quote the token.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The bundle set is not what [`JwtBundles`] describes.
    #[error("JWT bundle: {0}")]
    BadBundle(String),
    /// The token is not a well-formed JWT-SVID.
    #[error("malformed JWT-SVID: {0}")]
    Malformed(&'static str),
    /// `alg` is `none`, HMAC or another algorithm not verified here.
    #[error(
        "JWT-SVID: unsupported alg (ES256, ES384, RS256, RS384, RS512, PS256, PS384, PS512 are)"
    )]
    UnsupportedAlgorithm,
    /// `sub` is not a workload SPIFFE ID.
    #[error("JWT-SVID sub is not a workload SPIFFE ID: {0}")]
    BadSpiffeId(&'static str),
    /// The SPIFFE ID's trust domain has no bundle.
    #[error("JWT-SVID from a trust domain that has no JWT bundle")]
    UnknownTrustDomain,
    /// The trust domain's bundle has no key with the token's `kid`.
    #[error("JWT-SVID kid is not in its trust domain's JWT bundle")]
    UnknownKeyId,
    /// The token's `alg` does not fit the key its `kid` names.
    #[error("JWT-SVID alg does not fit the key its kid names")]
    KeyAlgorithmMismatch,
    /// The signature does not verify.
    #[error("JWT-SVID signature does not verify")]
    BadSignature,
    /// `exp` has passed.
    #[error("JWT-SVID has expired")]
    Expired,
    /// `nbf` or `iat` is in the future.
    #[error("JWT-SVID is not valid yet (nbf or iat in the future)")]
    NotYetValid,
    /// No `aud`, or none of them is the expected audience.
    #[error("JWT-SVID is not for this audience")]
    WrongAudience,
}
