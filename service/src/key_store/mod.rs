//! The key info stores: where the service keeps, for every key, what its
//! provider needs to find it again.
//!
//! Both stores implement [`psec_provider::KeyStore`], the contract the
//! providers see (keys named by authenticator, application, provider name and
//! key name; crash-safe `Creating` / `Ready` / `Destroying` steps, each one
//! atomic change):
//!
//! - [`SqliteKeyStore`], the default: one SQLite database file (mode 0600, in
//!   a directory of mode 0700), one transaction per method, `synchronous=FULL`
//!   in WAL mode, so a kill or power cut at any instant leaves the state
//!   before or after a call.
//! - [`OnDiskKeyStore`], Parsec's legacy on-disk key info manager layout
//!   (`mappings/<app>/<provider id>/<key>` files, bincode 1 content), so the
//!   mappings of an existing Parsec install can be read, and moved to SQLite
//!   with [`migrate_on_disk_to_sqlite`].
//!
//! ```no_run
//! use psec_interface::AuthType;
//! use psec_service::key_store::{OnDiskKeyStore, SqliteKeyStore, migrate_on_disk_to_sqlite};
//! use std::path::Path;
//!
//! # fn main() -> Result<(), psec_provider::KeyStoreError> {
//! let sqlite = SqliteKeyStore::open(Path::new("/var/lib/psec/keys.sqlite3"))?;
//! let legacy = OnDiskKeyStore::open(Path::new("/var/lib/parsec/mappings"), AuthType::Direct)?;
//! let report = migrate_on_disk_to_sqlite(&legacy, &sqlite)?;
//! println!("{} keys migrated, {} already there", report.migrated, report.already_present);
//! # Ok(())
//! # }
//! ```

mod fs_util;
mod legacy;
mod migrate;
mod on_disk;
mod sqlite;

#[cfg(test)]
mod contract_tests;
#[cfg(test)]
mod test_support;

pub use migrate::{MigrationReport, migrate_on_disk_to_sqlite};
pub use on_disk::{OnDiskKeyStore, UnsupportedKey};
pub use sqlite::{SqliteKeyStore, UnsupportedSchema};
