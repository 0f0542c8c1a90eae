//! The Mbed Crypto provider the Mbed fuzz targets run on: over the
//! in-memory key store, in a key directory of the process's own (Mbed TLS
//! keeps its keys as files in the current directory, so the process moves
//! there; inputs named on the command line then need absolute paths).

use psec_provider::Provider;
use psec_provider::testing::InMemoryKeyStoreForTests;
use psec_provider_mbed_crypto::MbedCryptoSettings;
use std::path::PathBuf;
use std::sync::Arc;

/// The provider's configured name.
pub const PROVIDER: &str = "mbed-crypto-provider";

/// The provider, its store, and the key directory the process moved into
/// (named after `target`).
pub fn start(target: &str) -> (Arc<dyn Provider>, Arc<InMemoryKeyStoreForTests>, PathBuf) {
    let dir = std::env::temp_dir().join(format!("psec-fuzz-{target}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a key directory");
    std::env::set_current_dir(&dir).expect("moving into the key directory");
    let store = Arc::new(InMemoryKeyStoreForTests::default());
    let provider = psec_provider_mbed_crypto::build(
        PROVIDER.to_owned(),
        store.clone(),
        MbedCryptoSettings::default(),
    )
    .expect("the Mbed Crypto provider starts");
    (provider, store, dir)
}
