//! Switching from Parsec to psecd: keys Parsec made on its legacy on-disk
//! key store with Mbed Crypto keep working in psecd, read from that store
//! directly and after `psecd --migrate-on-disk-store` into SQLite.

use crate::cases::{
    ALICE, P256_PRIVATE, P256_PUBLIC, attributes, ecdsa_sha256, export_public, gcm, generate,
    import, secp_r1_pair, sign_hash, unhex, verify_hash,
};
use crate::interface::operations::psa_key_attributes::{Type, UsageFlags};
use crate::interface::operations::{
    NativeOperation, NativeResult, list_keys, psa_aead_decrypt, psa_aead_encrypt,
};
use crate::interface::requests::ProviderId;
use crate::outcome::Client;
use crate::service::{Backend, Implementation, KeyStore, Service, Workspace, config_text};
use parsec_client::auth::Authentication;
use std::path::Path;
use std::process::Command;

const HASH: [u8; 32] = [0x42; 32];
const NONCE: [u8; 12] = [7; 12];

/// What Parsec left behind, to check against psecd.
struct Made {
    generated_public: Vec<u8>,
    signature: Vec<u8>,
    sealed: Vec<u8>,
}

fn send(client: &Client, provider: ProviderId, operation: NativeOperation) -> NativeResult {
    client
        .send(
            provider,
            &Authentication::Direct(ALICE.to_string()),
            operation,
        )
        .unwrap_or_else(|outcome| panic!("refused: {outcome}"))
}

fn seal(name: &str, data: &[u8]) -> NativeOperation {
    NativeOperation::PsaAeadEncrypt(psa_aead_encrypt::Operation {
        key_name: name.to_string(),
        alg: gcm(),
        nonce: NONCE.to_vec().into(),
        additional_data: vec![].into(),
        plaintext: data.to_vec().into(),
    })
}

/// Makes the keys with Parsec.
fn make_with_parsec(client: &Client) -> Made {
    let p = ProviderId::MbedCrypto;
    let signing = attributes(secp_r1_pair(), 256, ecdsa_sha256(), |u: &mut UsageFlags| {
        u.set_sign_hash().set_verify_hash();
    });
    send(
        client,
        p,
        import("legacy-imported", signing, &unhex(P256_PRIVATE)),
    );
    send(client, p, generate("legacy-generated", signing));
    send(
        client,
        p,
        generate(
            "legacy-aes",
            attributes(Type::Aes, 256, gcm(), |u: &mut UsageFlags| {
                u.set_encrypt().set_decrypt();
            }),
        ),
    );
    let NativeResult::PsaExportPublicKey(public) =
        send(client, p, export_public("legacy-generated"))
    else {
        panic!("not an export result")
    };
    let NativeResult::PsaSignHash(signed) = send(
        client,
        p,
        sign_hash("legacy-generated", ecdsa_sha256(), &HASH),
    ) else {
        panic!("not a sign result")
    };
    let NativeResult::PsaAeadEncrypt(sealed) =
        send(client, p, seal("legacy-aes", b"kept across the switch"))
    else {
        panic!("not an AEAD result")
    };
    Made {
        generated_public: public.data.to_vec(),
        signature: signed.signature.to_vec(),
        sealed: sealed.ciphertext.to_vec(),
    }
}

/// Checks, through psecd, that every key Parsec made works as before.
fn check_with_psecd(client: &Client, made: &Made, how: &str) {
    let p = ProviderId::MbedCrypto;
    let NativeResult::ListKeys(listed) = send(
        client,
        ProviderId::Core,
        NativeOperation::ListKeys(list_keys::Operation {}),
    ) else {
        panic!("not a list")
    };
    let mut names: Vec<&str> = listed.keys.iter().map(|k| k.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["legacy-aes", "legacy-generated", "legacy-imported"],
        "{how}"
    );
    let NativeResult::PsaExportPublicKey(public) =
        send(client, p, export_public("legacy-imported"))
    else {
        panic!("not an export result")
    };
    assert_eq!(
        public.data.to_vec(),
        unhex(P256_PUBLIC),
        "{how}: imported key"
    );
    let NativeResult::PsaExportPublicKey(public) =
        send(client, p, export_public("legacy-generated"))
    else {
        panic!("not an export result")
    };
    assert_eq!(
        public.data.to_vec(),
        made.generated_public,
        "{how}: generated key"
    );
    send(
        client,
        p,
        verify_hash("legacy-generated", ecdsa_sha256(), &HASH, &made.signature),
    );
    let NativeResult::PsaSignHash(signed) = send(
        client,
        p,
        sign_hash("legacy-generated", ecdsa_sha256(), &HASH),
    ) else {
        panic!("not a sign result")
    };
    send(
        client,
        p,
        verify_hash("legacy-generated", ecdsa_sha256(), &HASH, &signed.signature),
    );
    let NativeResult::PsaAeadDecrypt(opened) = send(
        client,
        p,
        NativeOperation::PsaAeadDecrypt(psa_aead_decrypt::Operation {
            key_name: "legacy-aes".to_string(),
            alg: gcm(),
            nonce: NONCE.to_vec().into(),
            additional_data: vec![].into(),
            ciphertext: made.sealed.clone().into(),
        }),
    ) else {
        panic!("not an AEAD result")
    };
    assert_eq!(
        opened.plaintext.as_slice(),
        b"kept across the switch",
        "{how}"
    );
}

/// The whole switch: Parsec on the on-disk store, then psecd on the same
/// store and directory, then psecd after migrating into SQLite.
pub fn run() {
    let workspace = Workspace::new("legacy");
    let on_disk = workspace.write_config(&config_text(Backend::MbedCrypto, KeyStore::OnDisk));
    // Parsec's key files (Mbed Crypto's, in the working directory) and its
    // mappings stay where Parsec left them: psecd runs in the same place.
    let dir = workspace.dir(Implementation::Parsec);
    let made = {
        let parsec = Service::start(Implementation::Parsec, Backend::MbedCrypto, &on_disk, &dir);
        make_with_parsec(&Client::new(&parsec.socket))
    };
    {
        let psecd = Service::start(Implementation::Psecd, Backend::MbedCrypto, &on_disk, &dir);
        check_with_psecd(&Client::new(&psecd.socket), &made, "on the legacy store");
    }
    let sqlite = dir.join("config-sqlite.toml");
    std::fs::write(&sqlite, config_text(Backend::MbedCrypto, KeyStore::Sqlite)).expect("config");
    migrate(&sqlite, &dir);
    let psecd = Service::start(Implementation::Psecd, Backend::MbedCrypto, &sqlite, &dir);
    check_with_psecd(
        &Client::new(&psecd.socket),
        &made,
        "after migrating to SQLite",
    );
    println!(
        "compat legacy: 3 keys made by Parsec on its on-disk store work in psecd, on that store and after migration"
    );
}

fn migrate(config: &Path, dir: &Path) {
    let output = Command::new(Implementation::Psecd.binary())
        .arg("--config")
        .arg(config)
        .arg("--migrate-on-disk-store")
        .arg(dir.join("mappings"))
        .current_dir(dir)
        .output()
        .expect("psecd --migrate-on-disk-store");
    assert!(
        output.status.success(),
        "migration failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}
