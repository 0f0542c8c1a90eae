//! psecd, the psec service: the PSA Crypto API over a Unix socket, to any
//! number of client applications, each seeing only its own keys.
//!
//! This crate is the daemon `psecd`; as a library it offers what the daemon
//! is made of that others may use:
//!
//! - [`run`]: the whole service, from a configuration file to a served
//!   socket: systemd socket activation, SIGHUP reload, SIGTERM/SIGINT
//!   graceful stop, sd_notify;
//! - [`config`]: `config.toml`, as Parsec reads it;
//! - [`migrate_on_disk`]: Parsec's legacy on-disk key store moved to the
//!   SQLite key manager a configuration names.
//!
//! The key info stores themselves (SQLite, Parsec's legacy directory tree)
//! are the crate `psec-key-store`, re-exported as [`key_store`].
//!
//! Inside, a request meets, in order: the front end (the socket; one
//! request per connection under a timeout, the body length checked before
//! the body is read), the authenticators (Direct, Unix peer credentials),
//! the dispatcher (the checks in protocol order), then the core provider
//! (Ping, ListKeys...) or a crypto provider.
//!
//! Backends are optional features, all on by default: `mbed-crypto`,
//! `pkcs11` and `tpm`, and `pkcs11-software-public-operations` (the PKCS#11
//! provider's `software_public_operations`, which builds Mbed TLS; a
//! PKCS#11-only or TPM-only psecd without it builds no C crypto library).
//! So is the `jwt-svid` authenticator, on by default too. Which providers
//! run is decided by the configuration; one that is not compiled in is a
//! start-up error that names the feature.
//!
//! ```
//! use psec_service::config::Config;
//! let config = Config::built_in_default("/tmp/psec-state".as_ref(), "/tmp/psec.sock".as_ref());
//! assert_eq!(config.provider[0].name(), "mbed-crypto-provider");
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

mod assemble;
mod authenticators;
pub mod config;
mod core_provider;
mod deprecated;
mod dispatcher;
mod front;
mod run;

pub use assemble::{StartError, migrate_on_disk};
/// The key info stores, from the crate `psec-key-store` (import them from
/// there).
pub use psec_key_store as key_store;
pub use run::{Options, run};

/// The service's version, as ListProviders and ListAuthenticators give it.
pub fn version() -> (u32, u32, u32) {
    let part = |text: &str| text.parse().unwrap_or(0);
    (
        part(env!("CARGO_PKG_VERSION_MAJOR")),
        part(env!("CARGO_PKG_VERSION_MINOR")),
        part(env!("CARGO_PKG_VERSION_PATCH")),
    )
}
