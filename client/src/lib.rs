//! A pure-Rust client for psec and Parsec services.
//!
//! The service (`psecd`, or the Parsec service it re-implements) offers the
//! PSA Crypto API over a Unix socket and keeps each application's keys apart.
//! This crate is what an application links to use it: [`BasicClient`] has a
//! typed method for every operation of the Parsec wire protocol 1.0, from
//! [`ping`](BasicClient::ping) to [`can_do_crypto`](BasicClient::can_do_crypto),
//! and works unchanged against a Parsec service.
//!
//! It sits on [`psec_interface`], which encodes the requests and decodes the
//! responses; it needs no C compiler and no system library, and an async
//! runtime only for the async client.
//!
//! # Layers
//!
//! - [`BasicClient`]: finds the service (`PARSEC_SERVICE_ENDPOINT`, else
//!   `/run/parsec/parsec.sock`), picks the provider and authentication the
//!   service offers first, and sends each operation to the right provider
//!   with the right authentication.
//! - [`ipc::IpcClient`]: one request over one connection, with a timeout on
//!   the whole exchange and a limit on the response size, for callers that
//!   build their own requests.
//! - [`Endpoint`] and [`Authentication`]: where the service is and who the
//!   application is, for when the defaults do not fit.
//! - `AsyncBasicClient` (feature `tokio`): the methods of [`BasicClient`]
//!   as futures, for tokio applications.
//!
//! # Errors
//!
//! Every call returns [`Error`]: [`Error::Service`] when the service refused
//! the request (with the [`ResponseStatus`] it gave), [`Error::Client`] when
//! no usable answer came back (with a [`ClientErrorKind`] naming the
//! endpoint, the timeout or the limit involved).
//!
//! # Secrets
//!
//! Key material, plaintexts, shared secrets and random bytes come back as
//! [`SecretBytes`], wiped from memory when dropped; the copies of secret
//! inputs made for a request are wiped too. No `Debug` output of this crate
//! shows them, nor an application name or token.
//!
//! # Features
//!
//! - `tokio` (off by default): `AsyncBasicClient`, the same typed methods
//!   as [`BasicClient`] (built from the same table, sending the same
//!   bytes), each an `async fn` on tokio's Unix socket, with the same
//!   timeout and response limit. It adds tokio (its `net`, `io-util` and
//!   `time` parts), still pure Rust.
//! - `spiffe-auth` (off by default): [`Authentication::spiffe`], JWT-SVID
//!   authentication with SVIDs fetched from the SPIFFE Workload API
//!   (`SPIFFE_ENDPOINT_SOCKET`) and kept until shortly before they expire.
//!   It adds psec-jwt-svid's Workload API client (h2, prost, tokio), pure
//!   Rust; Parsec's client names the same feature.
//!
//! # Example
//!
//! Generate an ECDSA key, sign the hash of a message and check the signature
//! (it needs a running service, so it is only compiled here):
//!
//! ```no_run
//! use psec_client::psa_crypto::types::algorithm::{AsymmetricSignature, Hash};
//! use psec_client::psa_crypto::types::key::{
//!     Attributes, EccFamily, Lifetime, Policy, Type, UsageFlags,
//! };
//! use psec_client::{BasicClient, Error, ResponseStatus};
//!
//! let client = BasicClient::new(Some("my-application".to_string()))?;
//!
//! let alg = AsymmetricSignature::Ecdsa { hash_alg: Hash::Sha256.into() };
//! let mut usage_flags = UsageFlags::default();
//! usage_flags.set_sign_hash().set_verify_hash();
//! let attributes = Attributes {
//!     lifetime: Lifetime::Persistent,
//!     key_type: Type::EccKeyPair { curve_family: EccFamily::SecpR1 },
//!     bits: 256,
//!     policy: Policy { usage_flags, permitted_algorithms: alg.into() },
//! };
//! match client.psa_generate_key("device-identity", attributes) {
//!     Ok(()) | Err(Error::Service(ResponseStatus::PsaErrorAlreadyExists)) => {}
//!     Err(error) => return Err(error),
//! }
//!
//! let hash = client.psa_hash_compute(Hash::Sha256, b"hello, psec")?;
//! let signature = client.psa_sign_hash("device-identity", &hash, alg)?;
//! client.psa_verify_hash("device-identity", &hash, alg, &signature)?;
//! # Ok::<(), Error>(())
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "tokio")]
mod async_client;
mod auth;
mod basic;
mod endpoint;
mod error;
pub mod ipc;
#[cfg(feature = "spiffe-auth")]
#[cfg_attr(docsrs, doc(cfg(feature = "spiffe-auth")))]
pub mod spiffe;

#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use async_client::AsyncBasicClient;
pub use auth::{Authentication, MAX_AUTH_LEN};
pub use basic::BasicClient;
pub use endpoint::{DEFAULT_SOCKET_PATH, ENDPOINT_ENV_VAR, Endpoint};
pub use error::{ClientErrorKind, Error, ResponseProblem};

pub use psec_interface;
pub use psec_interface::operations::attest_key::{AttestationOutput, AttestationParams};
pub use psec_interface::operations::can_do_crypto::CheckType;
pub use psec_interface::operations::list_authenticators::AuthenticatorInfo;
pub use psec_interface::operations::list_keys::KeyInfo;
pub use psec_interface::operations::list_providers::ProviderInfo;
pub use psec_interface::operations::prepare_key_attestation::{
    PrepareKeyAttestationOutput, PrepareKeyAttestationParams,
};
pub use psec_interface::psa_crypto;
pub use psec_interface::{AuthType, Opcode, ProviderId, ResponseStatus, SecretBytes};

/// The examples of README.md, compiled as doctests so that they can not rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
