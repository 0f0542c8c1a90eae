//! The Mbed Crypto provider's key import: attributes and key data from the
//! input, imported as a client's PsaImportKey would be; a key that imports
//! has its public part exported and is destroyed. Any input must give a key
//! or an error, never a panic, and leave no key half made or half destroyed
//! in the store, nor a key file behind.
//!
//! Input: a 2-byte big-endian length N, N bytes of protobuf `KeyAttributes`
//! (decoded as the service decodes a client's), then the key data.
//!
//! Mbed TLS keeps its keys as files in the current directory: the target
//! moves into a temporary directory of its own when it starts, so inputs
//! given on the command line need absolute paths (cargo fuzz gives them)
//! if there is more than one.
#![no_main]

#[path = "../common/import.rs"]
mod import;
#[path = "../common/mbed_provider.rs"]
mod mbed_provider;

use libfuzzer_sys::fuzz_target;
use psec_provider::Provider;
use psec_provider::testing::InMemoryKeyStoreForTests;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

struct Fixture {
    provider: Arc<dyn Provider>,
    store: Arc<InMemoryKeyStoreForTests>,
    /// Where Mbed TLS writes its key files.
    dir: PathBuf,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let (provider, store, dir) = mbed_provider::start("import-mbed");
        Fixture {
            provider,
            store,
            dir,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((attributes, key_data)) = import::parse(data) else {
        return;
    };
    let fixture = fixture();
    let keys = fixture
        .provider
        .key_management()
        .expect("the provider manages keys");
    // Symmetric keys have no public part: its export may fail.
    import::round(keys, attributes, key_data, false);
    import::assert_nothing_left(&fixture.store, mbed_provider::PROVIDER);
    let files = std::fs::read_dir(&fixture.dir)
        .expect("the key directory reads")
        .count();
    assert_eq!(files, 0, "a key file outlived its key");
});
