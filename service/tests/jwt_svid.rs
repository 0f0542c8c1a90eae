//! The JwtSvid authenticator in a running psecd: tokens minted with real
//! ES256 and RS256 keys, a bundle file in the SPIFFE JWKS format, tenants
//! apart by SPIFFE ID, every kind of bad token refused with
//! AuthenticationError, tokens kept out of the log, bundles rotated without
//! a restart.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

mod common;

use common::{ECDSA, Psecd, TestConfig, p256_signing, status};
use psec_client::psec_interface::SecretBytes;
use psec_client::{AuthType, Authentication, BasicClient, Endpoint, ResponseStatus};
use psec_jwt_svid::testing::{Signer, bundle_set, unix_now, unsigned};
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};

const WEB: &str = "spiffe://example.org/ns/prod/sa/web";
const DB: &str = "spiffe://example.org/ns/prod/sa/db";
const ADMIN: &str = "spiffe://example.org/ns/ops/sa/admin";

/// JwtSvid first (with Parsec's workload_endpoint, psec's bundle file and
/// a SPIFFE ID as admin), Direct second.
fn config(bundle: &Path) -> TestConfig {
    TestConfig {
        authenticators: format!(
            "[[authenticator]]\nauth_type = \"JwtSvid\"\n\
             workload_endpoint = \"unix:///run/spire/sockets/agent.sock\"\n\
             jwt_bundle_path = \"{}\"\nadmins = [ {{ name = \"{ADMIN}\" }} ]\n\n\
             [[authenticator]]\nauth_type = \"Direct\"\nadmins = [ {{ name = \"admin\" }} ]\n\n",
            bundle.display()
        ),
        ..TestConfig::default()
    }
}

fn client(psecd: &Psecd, token: &str) -> BasicClient {
    BasicClient::new_naked(Endpoint::unix_socket(&psecd.socket))
        .with_provider(psecd.backend.provider_id())
        .with_auth(Authentication::jwt_svid(SecretBytes::from(token.as_bytes())).unwrap())
}

/// Writes `text` to `path` as rotation tools do: a new file renamed over.
fn replace(path: &Path, text: &str) {
    let next = path.with_extension("next");
    std::fs::write(&next, text).unwrap();
    std::fs::rename(&next, path).unwrap();
}

#[test]
fn spiffe_ids_are_tenants_and_bad_tokens_are_refused() {
    let es = Signer::es256("es-1", "example.org ES256 authority");
    let rs = Signer::rs256("rs-1", 0);
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("jwt-bundles.json");
    std::fs::write(&bundle, bundle_set(&[("example.org", &[&es, &rs])])).unwrap();
    let psecd = Psecd::start_with(&config(&bundle));

    let authenticators = client(&psecd, "x").list_authenticators().unwrap();
    assert_eq!(authenticators[0].id, AuthType::JwtSvid);

    // Two workloads, each signed by another authority of the trust domain.
    let web_token = es.mint(WEB, &["parsec"]);
    let db_token = rs.mint(DB, &["parsec", "vault"]);
    let web = client(&psecd, &web_token);
    let db = client(&psecd, &db_token);
    web.psa_generate_key("web-key", p256_signing()).unwrap();
    web.psa_generate_key("same-name", p256_signing()).unwrap();
    db.psa_generate_key("same-name", p256_signing()).unwrap();
    let names = |c: &BasicClient| -> Vec<String> {
        let mut n: Vec<String> = c.list_keys().unwrap().into_iter().map(|k| k.name).collect();
        n.sort();
        n
    };
    assert_eq!(names(&web), ["same-name", "web-key"]);
    assert_eq!(names(&db), ["same-name"]);
    assert_eq!(
        status(db.psa_sign_hash("web-key", &[1; 32], ECDSA).unwrap_err()),
        ResponseStatus::PsaErrorDoesNotExist
    );
    assert_eq!(
        status(db.psa_destroy_key("web-key").unwrap_err()),
        ResponseStatus::PsaErrorDoesNotExist
    );
    // Same name, different keys: db's signature does not verify with web's.
    let signature = db.psa_sign_hash("same-name", &[2; 32], ECDSA).unwrap();
    assert!(
        web.psa_verify_hash("same-name", &[2; 32], ECDSA, &signature)
            .is_err()
    );
    web.psa_sign_hash("web-key", &[1; 32], ECDSA).unwrap();
    // A JWT-SVID admin sees both SPIFFE IDs as clients; they are not admins.
    assert_eq!(
        status(web.list_clients().unwrap_err()),
        ResponseStatus::AdminOperation
    );
    let admin = client(&psecd, &es.mint(ADMIN, &["parsec"]));
    let clients = admin.list_clients().unwrap();
    assert!(
        clients.iter().any(|c| c == WEB) && clients.iter().any(|c| c == DB),
        "{clients:?}"
    );

    // Every kind of bad token: AuthenticationError, and the service stays up.
    let now = unix_now();
    let claims = |sub: &str, aud: &str, exp: u64| json!({ "sub": sub, "aud": [aud], "iat": now - 7200, "exp": exp });
    let outsider = Signer::es256("es-1", "a key outside the bundle");
    let bad = [
        (
            "expired",
            es.sign(&es.header(), &claims(WEB, "parsec", now - 3600)),
        ),
        ("wrong audience", es.mint(WEB, &["vault"])),
        (
            "unknown trust domain",
            es.mint("spiffe://evil.example/web", &["parsec"]),
        ),
        ("key outside the bundle", outsider.mint(WEB, &["parsec"])),
        ("unknown kid", es.with_kid("es-2").mint(WEB, &["parsec"])),
        (
            "alg none",
            unsigned(
                &json!({ "alg": "none", "kid": "es-1" }),
                &claims(WEB, "parsec", now + 600),
                b"",
            ),
        ),
        ("not a JWT", "secret-looking-garbage".to_string()),
    ];
    for (what, token) in &bad {
        let error = client(&psecd, token).list_keys().unwrap_err();
        assert_eq!(status(error), ResponseStatus::AuthenticationError, "{what}");
        assert_eq!(
            client(&psecd, token).ping().unwrap(),
            (1, 0),
            "{what}: still serving"
        );
    }
    assert_eq!(names(&web), ["same-name", "web-key"]);

    let log = psecd.log();
    assert!(
        log.contains("JWT-SVID refused"),
        "refusals are logged:\n{log}"
    );
    for token in bad
        .iter()
        .map(|(_, t)| t.as_str())
        .chain([web_token.as_str(), db_token.as_str()])
    {
        for part in token.split('.').filter(|p| p.len() > 8) {
            assert!(!log.contains(part), "a token is in the log:\n{log}");
        }
    }
}

#[test]
fn a_rotated_bundle_file_is_picked_up_without_a_restart() {
    let old = Signer::es256("old", "old authority");
    let new = Signer::rs256("new", 1);
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("jwt-bundles.json");
    std::fs::write(&bundle, bundle_set(&[("example.org", &[&old])])).unwrap();
    let psecd = Psecd::start_with(&config(&bundle));
    let pid = psecd.pid();
    let old_client = client(&psecd, &old.mint(WEB, &["parsec"]));
    let new_client = client(&psecd, &new.mint(WEB, &["parsec"]));
    old_client.psa_generate_key("kept", p256_signing()).unwrap();
    assert_eq!(
        status(new_client.list_keys().unwrap_err()),
        ResponseStatus::AuthenticationError
    );

    // A new authority, the old one gone: the same SPIFFE ID keeps its keys.
    replace(&bundle, &bundle_set(&[("example.org", &[&new])]));
    let deadline = Instant::now() + Duration::from_secs(20);
    let keys = loop {
        match new_client.list_keys() {
            Ok(keys) => break keys,
            Err(e) if Instant::now() < deadline => {
                assert_eq!(status(e), ResponseStatus::AuthenticationError);
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => panic!("the rotated bundle was not picked up: {e}\n{}", psecd.log()),
        }
    };
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].name, "kept");
    assert_eq!(
        status(old_client.list_keys().unwrap_err()),
        ResponseStatus::AuthenticationError
    );

    // A broken file is not taken: the last good bundles stay in force.
    replace(&bundle, "{ not json");
    std::thread::sleep(Duration::from_millis(1200));
    new_client.list_keys().unwrap();
    let log = psecd.log();
    assert!(log.contains("keeping the JWT bundles read before"), "{log}");

    // SIGHUP reloads the whole configuration, bundles too; a bundle file
    // that does not parse makes the reload fail and keeps the running one.
    replace(&bundle, &bundle_set(&[("example.org", &[&old])]));
    psecd.signal("HUP");
    let deadline = Instant::now() + Duration::from_secs(20);
    while old_client.list_keys().is_err() {
        assert!(
            Instant::now() < deadline,
            "SIGHUP did not load the bundle\n{}",
            psecd.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(psecd.pid(), pid, "no restart");
}

#[test]
fn an_endpoint_alone_starts_and_refuses_tokens_saying_why() {
    let es = Signer::es256("es-1", "k");
    let psecd = Psecd::start_with(&TestConfig {
        authenticators: "[authenticator]\nauth_type = \"JwtSvid\"\n\
                         workload_endpoint = \"unix:///run/spire/sockets/agent.sock\"\n\n"
            .into(),
        ..TestConfig::default()
    });
    let c = client(&psecd, &es.mint(WEB, &["parsec"]));
    assert_eq!(c.list_authenticators().unwrap()[0].id, AuthType::JwtSvid);
    assert_eq!(
        status(c.list_keys().unwrap_err()),
        ResponseStatus::AuthenticationError
    );
    assert_eq!(c.ping().unwrap(), (1, 0));
    let log = psecd.log();
    assert!(log.contains("Workload API"), "{log}");
    assert!(log.contains("jwt_bundle_path"), "{log}");
}

#[test]
fn a_bad_bundle_file_stops_the_start_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("jwt-bundles.json");
    std::fs::write(
        &bundle,
        r#"{"example.org":{"keys":[{"kty":"EC","crv":"P-256"}]}}"#,
    )
    .unwrap();
    let error = psec_test_support::Psecd::start(env!("CARGO_BIN_EXE_psecd"), &config(&bundle))
        .unwrap_err()
        .to_string();
    assert!(error.contains(&bundle.display().to_string()), "{error}");
    assert!(error.contains("without a kid"), "{error}");
}
