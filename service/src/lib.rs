//! psecd, the psec service: the PSA Crypto API over a Unix socket, to any
//! number of client applications, each seeing only its own keys.
//!
//! The pieces, in the order a request meets them:
//!
//! - [`front`]: the socket; reads one request per connection under a
//!   timeout, checks the body length before reading the body;
//! - [`authenticators`]: who is asking (Direct, Unix peer credentials);
//! - [`dispatcher`]: the checks in protocol order, then the provider;
//! - [`core_provider`]: what the service answers itself (Ping, ListKeys...);
//! - [`key_store`]: which backend key belongs to which application's name
//!   (SQLite, or Parsec's legacy directory tree);
//! - [`config`]: `config.toml`, as Parsec reads it.
//!
//! [`run`] puts them together: systemd socket activation, SIGHUP reload,
//! SIGTERM/SIGINT graceful stop, sd_notify.
//!
//! Backends are optional features (`mbed-crypto`, on by default); which
//! providers run is decided by the configuration.
//!
//! ```
//! use psec_service::config::Config;
//! let config = Config::built_in_default("/tmp/psec-state".as_ref(), "/tmp/psec.sock".as_ref());
//! assert_eq!(config.provider[0].name(), "mbed-crypto-provider");
//! ```

pub mod assemble;
pub mod authenticators;
pub mod config;
pub mod core_provider;
mod deprecated;
pub mod dispatcher;
pub mod front;
pub mod key_store;
mod run;

pub use assemble::StartError;
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
