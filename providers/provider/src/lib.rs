//! The contract between the psec service and its crypto backends.
//!
//! - [`Provider`] says who a backend is and which capabilities it has; each
//!   capability is a small trait ([`KeyManagement`], [`AsymmetricSigning`],
//!   [`Aead`], ...). [`supported_opcodes`] derives the opcode list from the
//!   capabilities, and [`execute`] routes an operation to the right one,
//!   both generated from one table of (opcode, capability, method), so
//!   neither can drift from what the provider implements.
//! - [`can_do_crypto`] answers CanDoCrypto in the frame every provider
//!   shares (Parsec's), around the provider's own [`CanDoCrypto`] checks.
//! - [`ProviderError`] is the one error of every provider; [`ProviderError::status`]
//!   is the one place it becomes a wire [`ResponseStatus`](psec_interface::ResponseStatus).
//! - [`policy::require`] is the PSA usage-policy check every provider
//!   makes before it uses a key.
//! - [`check_generatable`], [`check_policy_fits`] and [`check_random_size`]
//!   hold the rules on a request that do not depend on the backend.
//! - [`KeyStore`] is the key info store as providers see it: which backend
//!   key belongs to which application's key name, changed in steps that a
//!   crash at any point leaves recoverable.
//! - [`KeyLifecycle`] takes a provider's keys through those steps: create,
//!   commit or roll back, destroy, and recovery at start-up; the provider
//!   gives only its backend's part ([`KeyBackend`]).
//!
//! # Features
//!
//! - `testing` (off by default, for providers' dev-dependencies): the
//!   [`testing`] module, a key store in memory and the checks every
//!   provider's tests share.
//!
//! # Example
//!
//! ```
//! use psec_provider::{supported_opcodes, Provider};
//! use psec_interface::operations::list_providers::ProviderInfo;
//! use psec_interface::{Opcode, ProviderId};
//!
//! /// A provider with no capability at all.
//! struct Empty;
//! impl Provider for Empty {
//!     fn info(&self) -> ProviderInfo {
//!         ProviderInfo {
//!             uuid: ProviderId::MbedCrypto.uuid(),
//!             description: "does nothing".into(),
//!             vendor: "nobody".into(),
//!             version_maj: 0,
//!             version_min: 1,
//!             version_rev: 0,
//!             id: ProviderId::MbedCrypto,
//!         }
//!     }
//! }
//! assert!(supported_opcodes(&Empty).is_empty());
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

mod capabilities;
mod checks;
mod crypto_capability;
mod error;
mod key_store;
mod lifecycle;
pub mod policy;
#[cfg(any(test, feature = "testing"))]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

pub use capabilities::{
    Aead, AsymmetricEncryption, AsymmetricSigning, Attestation, CanDoCrypto, Cipher, Hashing,
    KeyAgreement, KeyExport, KeyManagement, Mac, Provider, Random, execute, supported_opcodes,
};
pub use checks::{check_generatable, check_policy_fits, check_random_size, mac_length};
pub use crypto_capability::can_do_crypto;
pub use error::ProviderError;
pub use key_store::{Application, KeyIdentity, KeyInfo, KeyState, KeyStore, KeyStoreError};
pub use lifecycle::{KeyBackend, KeyLifecycle};
pub use psec_interface;

/// The result of a provider operation: [`ProviderError`] unless said
/// otherwise.
pub type Result<T, E = ProviderError> = std::result::Result<T, E>;
