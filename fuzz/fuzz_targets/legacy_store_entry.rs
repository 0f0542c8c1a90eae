//! What psecd does with one mapping file of Parsec's legacy on-disk key
//! store (bincode 1 key id and attributes): the bytes go in a file where
//! Parsec would have written a key, and the public store reads it back. Any
//! content must give a key info or an error, never a panic; a key info
//! read must be written and read again unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use psec_interface::AuthType;
use psec_key_store::OnDiskKeyStore;
use psec_provider::{Application, KeyIdentity, KeyStore};
use std::path::PathBuf;
use std::sync::OnceLock;

/// The mappings directory, one per fuzzing process, reused by every input.
fn root() -> &'static PathBuf {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let dir =
            std::env::temp_dir().join(format!("psec-fuzz-legacy-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir.join("mappings")
    })
}

fn key(name: &str) -> KeyIdentity {
    KeyIdentity {
        application: Application::new(AuthType::Direct, "app"),
        provider: "mbed-crypto-provider".to_owned(),
        key_name: name.to_owned(),
    }
}

fuzz_target!(|data: &[u8]| {
    let root = root();
    let store = OnDiskKeyStore::open(root, AuthType::Direct).expect("the store opens");
    // Parsec's layout: <base64url(app)>/<provider id>/<base64url(key)>;
    // provider 1 is Mbed Crypto. "YXBw" is "app", "a2V5" is "key".
    let dir = root.join("YXBw").join("1");
    std::fs::create_dir_all(&dir).expect("the provider directory is made");
    std::fs::write(dir.join("a2V5"), data).expect("the mapping file is written");

    let read = store.get(&key("key"));
    let listed = store.keys_in("mbed-crypto-provider");
    match (&read, &listed) {
        (Ok(Some(info)), Ok(keys)) => {
            assert_eq!(keys.len(), 1);
            assert_eq!(&keys[0].1, info);
            // What is read is written again as Parsec would, and reads back.
            let copy = key("copy");
            store.begin_create(&copy, info).expect("the copy is begun");
            store.commit_create(&copy).expect("the copy is committed");
            assert_eq!(
                store.get(&copy).expect("the copy reads"),
                Some(info.clone())
            );
            store
                .begin_destroy(&copy)
                .expect("the copy is being destroyed");
            store.finish_destroy(&copy).expect("the copy is destroyed");
        }
        (Ok(Some(_)), Err(_)) | (Ok(None), _) => panic!("get {read:?} but keys_in {listed:?}"),
        (Err(_), _) => assert!(listed.is_err(), "get failed but keys_in {listed:?}"),
    }
});
