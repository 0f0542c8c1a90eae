//! The psec key info stores: where psecd keeps, for every key, what its
//! provider needs to find it again.
//!
//! The providers see a store through [`psec_provider::KeyStore`] (keys named
//! by authenticator, application, provider name and key name; crash-safe
//! `Creating` / `Ready` / `Destroying` steps, each one atomic change). This
//! crate has its implementations, for psec-service (which opens the ones its
//! configuration names) and for anything else that needs a real store, such
//! as the benchmarks:
//!
//! - [`SqliteKeyStore`] (feature `sqlite`), the default: one SQLite database
//!   file (mode 0600, in a directory of mode 0700), one transaction per
//!   method, `synchronous=FULL` in WAL mode, so a kill or power cut at any
//!   instant leaves the state before or after a call.
//! - [`OnDiskKeyStore`] (feature `on-disk`), Parsec's legacy on-disk key info
//!   manager layout (`mappings/<app>/<provider id>/<key>` files, bincode 1
//!   content), so the mappings of an existing Parsec install can be read, and
//!   moved to SQLite with [`migrate_on_disk_to_sqlite`] (both features).
//!
//! Both features are on by default.
//!
//! ```
//! use psec_interface::AuthType;
//! use psec_key_store::{OnDiskKeyStore, SqliteKeyStore, migrate_on_disk_to_sqlite};
//! use psec_provider::{Application, KeyIdentity, KeyInfo, KeyStore};
//! # use psec_interface::psa_crypto::types::algorithm::Algorithm;
//! # use psec_interface::psa_crypto::types::key::{Attributes, Lifetime, Policy, Type};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! # let policy = Policy { usage_flags: Default::default(), permitted_algorithms: Algorithm::None };
//! # let attributes = Attributes { lifetime: Lifetime::Persistent, key_type: Type::RawData, bits: 8, policy };
//! // A key Parsec filed under its legacy layout...
//! let legacy = OnDiskKeyStore::open(&dir.path().join("mappings"), AuthType::Direct)?;
//! let key = KeyIdentity {
//!     application: Application::new(AuthType::Direct, "app"),
//!     provider: "mbed-crypto-provider".to_owned(),
//!     key_name: "signing".to_owned(),
//! };
//! let info = KeyInfo { backend_id: vec![1, 0, 0, 0], attributes };
//! legacy.begin_create(&key, &info)?;
//! legacy.commit_create(&key)?;
//!
//! // ...moved to SQLite.
//! let sqlite = SqliteKeyStore::open(&dir.path().join("psec/keys.sqlite3"))?;
//! let report = migrate_on_disk_to_sqlite(&legacy, &sqlite)?;
//! assert_eq!(report.migrated, 1);
//! assert_eq!(sqlite.get(&key)?, Some(info));
//! # Ok(())
//! # }
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(any(feature = "sqlite", feature = "on-disk"))]
mod fs_util;
#[cfg(feature = "on-disk")]
mod legacy;
#[cfg(all(feature = "sqlite", feature = "on-disk"))]
mod migrate;
#[cfg(feature = "on-disk")]
mod on_disk;
#[cfg(feature = "sqlite")]
mod sqlite;

#[cfg(test)]
mod contract_tests;
#[cfg(test)]
mod test_support;

#[cfg(all(feature = "sqlite", feature = "on-disk"))]
#[cfg_attr(docsrs, doc(cfg(all(feature = "sqlite", feature = "on-disk"))))]
pub use migrate::{MigrationReport, migrate_on_disk_to_sqlite};
#[cfg(feature = "on-disk")]
#[cfg_attr(docsrs, doc(cfg(feature = "on-disk")))]
pub use on_disk::{OnDiskKeyStore, UnsupportedKey};
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use sqlite::{SqliteKeyStore, UnsupportedSchema};
