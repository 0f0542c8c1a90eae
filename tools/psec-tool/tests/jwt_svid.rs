//! `psec --jwt-svid-file`: authenticated by a JWT-SVID against a psecd
//! whose only authenticator is JwtSvid, each SPIFFE ID with its own keys.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

mod common;

use common::{Psecd, key_names};
use psec_jwt_svid::testing::{Signer, bundle_set};
use std::path::Path;

#[test]
fn each_jwt_svid_file_is_its_own_application() {
    let es = Signer::es256("k1", "psec-tool test authority");
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("jwt-bundles.json");
    std::fs::write(&bundle, bundle_set(&[("example.org", &[&es])])).unwrap();
    let psecd = Psecd::start_with_authenticators(&format!(
        "[authenticator]\nauth_type = \"JwtSvid\"\njwt_bundle_path = \"{}\"\n",
        bundle.display()
    ));
    let token_file = |name: &str, token: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, format!("{token}\n")).unwrap();
        path
    };
    let web = token_file("web.jwt", &es.mint("spiffe://example.org/web", &["parsec"]));
    let db = token_file("db.jwt", &es.mint("spiffe://example.org/db", &["parsec"]));
    let with = |file: &Path, args: &[&str]| {
        let mut all = vec!["--jwt-svid-file", file.to_str().unwrap()];
        all.extend_from_slice(args);
        psecd.psec().args(&all).output().unwrap()
    };
    let ok = |file: &Path, args: &[&str]| {
        let output = with(file, args);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    ok(&web, &["create-ecc-key", "-k", "web-key"]);
    assert_eq!(
        key_names(&ok(&web, &["list-keys", "--output", "json"])),
        ["web-key"]
    );
    assert!(key_names(&ok(&db, &["list-keys", "--output", "json"])).is_empty());

    // A token the service refuses: exit 3, and the token is not printed.
    let expired = es.sign(
        &es.header(),
        &serde_json::json!({ "sub": "spiffe://example.org/web", "aud": "parsec", "exp": 1 }),
    );
    let bad = token_file("expired.jwt", &expired);
    let output = with(&bad, &["list-keys"]);
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.to_lowercase().contains("authentic"), "{stderr}");
    for part in expired.split('.') {
        assert!(!stderr.contains(part), "the token is printed: {stderr}");
    }
    // A missing or empty file is a usage error.
    let missing = with(&dir.path().join("none.jwt"), &["list-keys"]);
    assert_eq!(missing.status.code(), Some(2));
    let empty = token_file("empty.jwt", "  ");
    assert_eq!(with(&empty, &["list-keys"]).status.code(), Some(2));
}
