//! An install that used Parsec's legacy on-disk key store moves to SQLite:
//! keys made by psecd on the on-disk store are migrated by
//! `psecd --migrate-on-disk-store`, and still sign after psecd restarts on
//! the SQLite store.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

mod common;

use common::{ECDSA, Psecd, p256_signing};
use std::process::Command;

fn migrate(psecd: &Psecd) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_psecd"))
        .arg("--config")
        .arg(&psecd.config)
        .arg("--migrate-on-disk-store")
        .arg(psecd.dir.path().join("mappings"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn keys_on_the_legacy_store_migrate_to_sqlite_and_still_sign() {
    // Direct first: the legacy store serves the first authenticator.
    let mut psecd = Psecd::start();
    let sqlite_config = std::fs::read_to_string(&psecd.config).unwrap();
    let on_disk_config = sqlite_config.replace(
        "manager_type = \"SQLite\"",
        &format!(
            "manager_type = \"OnDisk\"\nstore_path = \"{}/mappings\"",
            psecd.dir.path().display()
        ),
    );
    assert!(psecd.stop());
    std::fs::write(&psecd.config, &on_disk_config).unwrap();
    psecd.spawn();
    let mut publics = Vec::new();
    for (app, key) in [("alice", "a1"), ("alice", "a2"), ("bob", "b1")] {
        let c = psecd.client(app);
        c.psa_generate_key(key, p256_signing()).unwrap();
        publics.push((app, key, c.psa_export_public_key(key).unwrap()));
    }
    assert!(psecd.stop());

    // The legacy tree is Parsec's: one directory per application.
    assert!(
        psecd
            .dir
            .path()
            .join("mappings")
            .read_dir()
            .unwrap()
            .count()
            >= 2
    );
    std::fs::write(&psecd.config, &sqlite_config).unwrap();
    assert!(migrate(&psecd).contains("migrated 3 key(s)"));
    assert!(
        migrate(&psecd).contains("migrated 0 key(s)"),
        "running it again changes nothing"
    );

    psecd.spawn();
    for (app, key, public) in publics {
        let c = psecd.client(app);
        assert_eq!(c.psa_export_public_key(key).unwrap(), public, "{app}/{key}");
        let signature = c.psa_sign_hash(key, &[4; 32], ECDSA).unwrap();
        c.psa_verify_hash(key, &[4; 32], ECDSA, &signature).unwrap();
    }
    assert_eq!(psecd.client("bob").list_keys().unwrap().len(), 1);
}
