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
use psec_jwt_svid::testing::{Signer, StandInWorkloadApi, bundle_set};
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

/// psecd whose JwtSvid authenticator follows the stand-in agent at
/// `endpoint`, with `spiffe://example.org/uid/0` (root) as administrator.
fn psecd_on_agent(endpoint: &str) -> Psecd {
    Psecd::start_with_authenticators(&format!(
        "[authenticator]\nauth_type = \"JwtSvid\"\nworkload_endpoint = \"{endpoint}\"\n\
         admins = [ {{ name = \"spiffe://example.org/uid/0\" }} ]\n"
    ))
}

#[test]
fn psec_spiffe_authenticates_with_svids_from_the_workload_api() {
    let dir = tempfile::tempdir().unwrap();
    let agent = StandInWorkloadApi::start(
        &dir.path().join("agent.sock"),
        "example.org",
        vec![Signer::es256("k1", "psec-tool agent authority")],
    )
    .unwrap();
    let psecd = psecd_on_agent(&agent.endpoint());
    let run = |args: &[&str]| {
        psecd
            .psec()
            .env("SPIFFE_ENDPOINT_SOCKET", agent.endpoint())
            .args(args)
            .output()
            .unwrap()
    };
    let ok = |args: &[&str]| {
        let output = run(args);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    ok(&["--spiffe", "create-ecc-key", "-k", "agent-key"]);
    assert_eq!(
        key_names(&ok(&["--spiffe", "list-keys", "--output", "json"])),
        ["agent-key"]
    );
    let endpoint = agent.endpoint();
    assert_eq!(
        key_names(&ok(&[
            "--spiffe-endpoint",
            &endpoint,
            "list-keys",
            "--output",
            "json"
        ])),
        ["agent-key"]
    );
    assert_eq!(agent.svids_issued(), 3, "one SVID per psec run");
    // No endpoint: a usage error naming the variable.
    let output = psecd
        .psec()
        .env_remove("SPIFFE_ENDPOINT_SOCKET")
        .args(["--spiffe", "list-keys"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("SPIFFE_ENDPOINT_SOCKET"), "{stderr}");
}

/// Runs `psec ARGS` as `uid` (and gid `uid`) with the agent's endpoint.
fn as_user(psecd: &Psecd, endpoint: &str, uid: u32, args: &[&str]) -> std::process::Output {
    use std::os::unix::process::CommandExt;
    psecd
        .psec()
        .env("SPIFFE_ENDPOINT_SOCKET", endpoint)
        .arg("--spiffe")
        .args(args)
        .uid(uid)
        .gid(uid)
        .output()
        .unwrap()
}

#[test]
fn two_unix_users_get_different_spiffe_ids_and_never_see_each_others_keys() {
    if !nix_is_root() {
        println!("SKIPPED: needs root to run psec as two other users (uids 65534 and 64999)");
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    const NOBODY: u32 = 65534;
    const OTHER: u32 = 64999;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    let agent = StandInWorkloadApi::start(
        &dir.path().join("agent.sock"),
        "example.org",
        vec![Signer::es256("k1", "two users authority")],
    )
    .unwrap();
    let endpoint = agent.endpoint();
    let psecd = psecd_on_agent(&endpoint);
    // The users reach psecd's socket (0666) through its directory.
    std::fs::set_permissions(psecd.dir.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    let ok = |uid: u32, args: &[&str]| {
        let output = as_user(&psecd, &endpoint, uid, args);
        assert!(
            output.status.success(),
            "uid {uid}: psec {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    ok(NOBODY, &["create-ecc-key", "-k", "nobody-only"]);
    ok(NOBODY, &["create-ecc-key", "-k", "same-name"]);
    ok(OTHER, &["create-ecc-key", "-k", "same-name"]);
    let list = |uid| key_names(&ok(uid, &["list-keys", "--output", "json"]));
    assert_eq!(list(NOBODY), ["nobody-only", "same-name"]);
    assert_eq!(list(OTHER), ["same-name"]);
    // The other user can neither use, read nor delete nobody's key.
    for args in [
        &["sign", "-k", "nobody-only", "hello"][..],
        &["export-public-key", "-k", "nobody-only"][..],
        &["delete-key", "-k", "nobody-only"][..],
    ] {
        let output = as_user(&psecd, &endpoint, OTHER, args);
        let stderr = String::from_utf8_lossy(&output.stderr).to_lowercase();
        assert!(
            !output.status.success() && stderr.contains("psaerrordoesnotexist"),
            "uid {OTHER}: psec {args:?}: {stderr}"
        );
    }
    assert_eq!(list(NOBODY), ["nobody-only", "same-name"]);
    // Same name, two keys: their public keys differ.
    assert_ne!(
        ok(NOBODY, &["export-public-key", "-k", "same-name"]),
        ok(OTHER, &["export-public-key", "-k", "same-name"])
    );
    // Two SPIFFE IDs from the agent, seen by the administrator (root).
    let clients = ok(0, &["list-clients"]);
    for uid in [NOBODY, OTHER] {
        let id = agent.spiffe_id_of_uid(uid);
        assert_eq!(id, format!("spiffe://example.org/uid/{uid}"));
        assert!(clients.contains(&id), "{id} not in {clients}");
    }
}

fn nix_is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}
