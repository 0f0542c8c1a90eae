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

use libfuzzer_sys::fuzz_target;
use psec_interface::AuthType;
use psec_interface::operations::{
    decode_key_attributes, psa_destroy_key, psa_export_public_key, psa_import_key,
};
use psec_provider::testing::InMemoryKeyStoreForTests;
use psec_provider::{Application, KeyStore, Provider};
use psec_provider_mbed_crypto::MbedCryptoSettings;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

const PROVIDER: &str = "mbed-crypto-provider";

struct Fixture {
    provider: Arc<dyn Provider>,
    store: Arc<InMemoryKeyStoreForTests>,
    /// Where Mbed TLS writes its key files.
    dir: PathBuf,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir =
            std::env::temp_dir().join(format!("psec-fuzz-import-mbed-{}", std::process::id()));
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
        Fixture {
            provider,
            store,
            dir,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((length, rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let Some((attributes, key_data)) = rest.split_at_checked(u16::from_be_bytes(*length).into())
    else {
        return;
    };
    let Ok(attributes) = decode_key_attributes(attributes) else {
        return;
    };
    let fixture = fixture();
    let keys = fixture
        .provider
        .key_management()
        .expect("the provider manages keys");
    let app = Application::new(AuthType::Direct, "fuzz");
    let import = psa_import_key::Operation {
        key_name: "key".to_owned(),
        attributes,
        data: key_data.to_vec().into(),
    };
    if keys.import_key(&app, import).is_ok() {
        let export = psa_export_public_key::Operation {
            key_name: "key".to_owned(),
        };
        // Symmetric keys have no public part: an error is fine.
        let _ = keys.export_public_key(&app, export);
        let destroy = psa_destroy_key::Operation {
            key_name: "key".to_owned(),
        };
        keys.destroy_key(&app, destroy)
            .expect("an imported key is destroyed");
    }
    let unfinished = fixture.store.unfinished(PROVIDER).expect("the store reads");
    assert!(unfinished.is_empty(), "left unfinished: {unfinished:?}");
    let left = fixture.store.keys_of(&app).expect("the store reads");
    assert!(left.is_empty(), "left in the store: {left:?}");
    let files = std::fs::read_dir(&fixture.dir)
        .expect("the key directory reads")
        .count();
    assert_eq!(files, 0, "a key file outlived its key");
});
