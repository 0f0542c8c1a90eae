//! The JwtSvid authenticator in a running psecd: tokens minted with real
//! ES256 and RS256 keys, a bundle file in the SPIFFE JWKS format, tenants
//! apart by SPIFFE ID, every kind of bad token refused with
//! AuthenticationError, tokens kept out of the log, bundles rotated without
//! a restart; the same through the SPIFFE Workload API, served by
//! `StandInWorkloadApi` (SPIRE can not run here; ci/spire-e2e.sh runs the
//! scenario against a real agent where one is installed), including
//! reloads during an agent outage and onto another endpoint.
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
use psec_jwt_svid::testing::{Signer, StandInWorkloadApi, bundle_set, unix_now, unsigned};
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

/// JwtSvid on the Workload API at `endpoint`, Direct second.
fn agent_config(endpoint: &str) -> TestConfig {
    TestConfig {
        authenticators: format!(
            "[[authenticator]]\nauth_type = \"JwtSvid\"\nworkload_endpoint = \"{endpoint}\"\n\n\
             [[authenticator]]\nauth_type = \"Direct\"\n\n"
        ),
        ..TestConfig::default()
    }
}

/// A stand-in Workload API agent for example.org on `dir/name`, serving
/// the keys of `signers`.
fn stand_in_agent(dir: &tempfile::TempDir, name: &str, signers: Vec<Signer>) -> StandInWorkloadApi {
    StandInWorkloadApi::start(&dir.path().join(name), "example.org", signers).unwrap()
}

/// Waits until `check` holds, polling with a deadline.
fn eventually(psecd: &Psecd, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check() {
        assert!(Instant::now() < deadline, "{what}\n{}", psecd.log());
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn accepted(psecd: &Psecd, token: &str) -> bool {
    match client(psecd, token).list_keys() {
        Ok(_) => true,
        Err(e) => {
            assert_eq!(status(e), ResponseStatus::AuthenticationError);
            false
        }
    }
}

#[test]
fn workload_api_bundles_validate_rotate_and_outlive_an_agent_outage() {
    let a = Signer::es256("a", "agent authority a");
    let b = Signer::rs256("b", 0);
    let c = Signer::es384("c", "agent authority c");
    let dir = tempfile::tempdir().unwrap();
    let mut agent = stand_in_agent(&dir, "agent.sock", vec![a.clone()]);
    let psecd = Psecd::start_with(&agent_config(&agent.endpoint()));
    let pid = psecd.pid();
    let direct = psecd.client("direct-app");
    let token_a = a.mint(WEB, &["parsec"]);
    let token_b = b.mint(WEB, &["parsec"]);
    let token_c = c.mint(WEB, &["parsec"]);

    // The start waited for the first bundles: a valid token works at once.
    client(&psecd, &token_a)
        .psa_generate_key("kept", p256_signing())
        .unwrap();
    assert!(!accepted(&psecd, &token_b));

    // A rotation: b joins, then a leaves; no restart.
    agent.rotate(vec![b.clone(), a.clone()]);
    eventually(&psecd, "b's tokens accepted after b joined", || {
        accepted(&psecd, &token_b)
    });
    assert!(accepted(&psecd, &token_a), "a is still in the set");
    agent.rotate(vec![b.clone()]);
    eventually(&psecd, "a's tokens refused once a left", || {
        !accepted(&psecd, &token_a)
    });
    let keys = client(&psecd, &token_b).list_keys().unwrap();
    assert_eq!(
        keys.len(),
        1,
        "the SPIFFE ID keeps its keys across rotations"
    );

    // The agent stops: the last bundles stay in force, other
    // authenticators are served, the outage is logged once.
    agent.stop();
    eventually(&psecd, "the outage logged", || {
        psecd.log().contains("is unreachable")
    });
    for _ in 0..5 {
        assert!(
            accepted(&psecd, &token_b),
            "validated with the last bundles"
        );
        assert!(!accepted(&psecd, &token_c));
        direct.ping().unwrap();
        direct.list_keys().unwrap();
        std::thread::sleep(Duration::from_millis(300));
    }
    assert_eq!(
        psecd.log().matches("is unreachable").count(),
        1,
        "one warning per outage\n{}",
        psecd.log()
    );

    // Rotated while it was down; picked up once it is back.
    agent.rotate(vec![c.clone()]);
    agent.resume().unwrap();
    eventually(
        &psecd,
        "the rotation made during the outage picked up",
        || accepted(&psecd, &token_c),
    );
    assert!(!accepted(&psecd, &token_b));
    assert!(psecd.log().contains("is back"), "{}", psecd.log());
    assert_eq!(psecd.pid(), pid, "no restart");
    let log = psecd.log();
    for token in [&token_a, &token_b, &token_c] {
        for part in token.split('.').filter(|p| p.len() > 8) {
            assert!(!log.contains(part), "a token is in the log:\n{log}");
        }
    }
}

/// Sends SIGHUP and waits until psecd says it reloaded, for the `n`th
/// time.
fn reload(psecd: &Psecd, n: usize) {
    psecd.signal("HUP");
    eventually(psecd, "the reload done", || {
        psecd.log().matches("configuration reloaded").count() >= n
    });
    assert!(!psecd.log().contains("reload failed"), "{}", psecd.log());
}

#[test]
fn a_reload_keeps_the_workload_api_client_and_its_bundles_through_an_agent_outage() {
    let a = Signer::es256("a", "agent authority a");
    let c = Signer::es384("c", "agent authority c");
    let dir = tempfile::tempdir().unwrap();
    let mut agent = stand_in_agent(&dir, "agent.sock", vec![a.clone()]);
    let psecd = Psecd::start_with(&agent_config(&agent.endpoint()));
    let pid = psecd.pid();
    let token_a = a.mint(WEB, &["parsec"]);
    let token_c = c.mint(WEB, &["parsec"]);
    client(&psecd, &token_a)
        .psa_generate_key("kept", p256_signing())
        .unwrap();
    assert_eq!(agent.bundle_streams(), 1);

    // A reload while the agent is up: the running client carries on, and
    // the agent is not asked again.
    reload(&psecd, 1);
    assert!(accepted(&psecd, &token_a));
    assert_eq!(
        agent.bundle_streams(),
        1,
        "the agent was not contacted again"
    );
    assert!(
        psecd
            .log()
            .contains("the running Workload API client carries on"),
        "{}",
        psecd.log()
    );

    // The agent goes down, then a reload: the last bundles stay in force
    // from the first request after it.
    agent.stop();
    eventually(&psecd, "the outage logged", || {
        psecd.log().contains("is unreachable")
    });
    reload(&psecd, 2);
    let keys = client(&psecd, &token_a).list_keys().unwrap();
    assert_eq!(keys.len(), 1);
    assert!(!accepted(&psecd, &token_c));
    psecd.client("direct-app").ping().unwrap();
    assert_eq!(
        psecd.log().matches("is unreachable").count(),
        1,
        "one client, one warning for the one outage\n{}",
        psecd.log()
    );

    // The agent returns, rotated meanwhile: the same client reconnects.
    agent.rotate(vec![c.clone()]);
    agent.resume().unwrap();
    eventually(&psecd, "the rotation picked up after the outage", || {
        accepted(&psecd, &token_c)
    });
    assert!(!accepted(&psecd, &token_a));
    assert_eq!(agent.bundle_streams(), 2, "one client, reconnected once");
    assert_eq!(psecd.pid(), pid, "no restart");
}

#[test]
fn a_reload_onto_another_workload_endpoint_follows_the_new_agent() {
    let a = Signer::es256("a", "first agent's authority");
    let b = Signer::rs256("b", 0);
    let dir = tempfile::tempdir().unwrap();
    let first = stand_in_agent(&dir, "first.sock", vec![a.clone()]);
    let second = stand_in_agent(&dir, "second.sock", vec![b.clone()]);
    let psecd = Psecd::start_with(&agent_config(&first.endpoint()));
    let token_a = a.mint(WEB, &["parsec"]);
    let token_b = b.mint(WEB, &["parsec"]);
    assert!(accepted(&psecd, &token_a));
    assert!(!accepted(&psecd, &token_b));

    std::fs::write(
        &psecd.config,
        agent_config(&second.endpoint()).render(psecd.dir.path()),
    )
    .unwrap();
    reload(&psecd, 1);
    eventually(&psecd, "the new agent's bundles in force", || {
        accepted(&psecd, &token_b)
    });
    assert!(
        !accepted(&psecd, &token_a),
        "the first agent's bundles gone"
    );
    assert_eq!(second.bundle_streams(), 1, "a client of the new endpoint");
    assert_eq!(first.bundle_streams(), 1);

    // JwtSvid removed: its tokens are no longer for a registered
    // authenticator.
    std::fs::write(
        &psecd.config,
        TestConfig::default().render(psecd.dir.path()),
    )
    .unwrap();
    reload(&psecd, 2);
    assert_eq!(
        status(client(&psecd, &token_b).list_keys().unwrap_err()),
        ResponseStatus::AuthenticatorNotRegistered
    );
}

#[test]
fn without_bundles_jwt_svids_are_refused_and_other_authenticators_served() {
    let a = Signer::es256("a", "agent authority a");
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("agent.sock");
    let psecd = Psecd::start_with(&agent_config(&format!("unix://{}", socket.display())));
    let token = a.mint(WEB, &["parsec"]);
    let direct = psecd.client("direct-app");
    for _ in 0..10 {
        assert_eq!(
            status(client(&psecd, &token).list_keys().unwrap_err()),
            ResponseStatus::AuthenticationError
        );
        direct.list_keys().unwrap();
    }
    let log = psecd.log();
    assert_eq!(
        log.matches("no JWT bundles received yet").count(),
        1,
        "rate-limited, not one warning per request:\n{log}"
    );

    // The agent comes up later: its bundles are fetched without a restart.
    let _agent = StandInWorkloadApi::start(&socket, "example.org", vec![a]).unwrap();
    eventually(
        &psecd,
        "bundles fetched from an agent that came up late",
        || accepted(&psecd, &token),
    );
}

#[test]
fn bad_tokens_are_refused_through_the_workload_api_source() {
    let es = Signer::es256("es-1", "agent es256");
    let rs = Signer::rs256("rs-1", 1);
    let dir = tempfile::tempdir().unwrap();
    let agent = stand_in_agent(&dir, "agent.sock", vec![es.clone(), rs.clone()]);
    let psecd = Psecd::start_with(&agent_config(&agent.endpoint()));
    assert!(accepted(&psecd, &es.mint(WEB, &["parsec"])));
    assert!(accepted(&psecd, &rs.mint(DB, &["parsec"])));
    let now = unix_now();
    let expired = json!({ "sub": WEB, "aud": ["parsec"], "iat": now - 7200, "exp": now - 3600 });
    for (what, token) in [
        ("expired", es.sign(&es.header(), &expired)),
        ("wrong audience", es.mint(WEB, &["vault"])),
        (
            "unknown trust domain",
            es.mint("spiffe://evil.example/web", &["parsec"]),
        ),
        (
            "key outside the bundle",
            Signer::es256("es-1", "not the agent's key").mint(WEB, &["parsec"]),
        ),
    ] {
        assert_eq!(
            status(client(&psecd, &token).list_keys().unwrap_err()),
            ResponseStatus::AuthenticationError,
            "{what}"
        );
    }
}

#[test]
fn psec_client_spiffe_auth_fetches_an_svid_and_keeps_it_until_near_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let agent = stand_in_agent(
        &dir,
        "agent.sock",
        vec![Signer::es256("a", "client authority")],
    );
    let psecd = Psecd::start_with(&agent_config(&agent.endpoint()));
    let spiffe = BasicClient::new_naked(Endpoint::unix_socket(&psecd.socket))
        .with_provider(psecd.backend.provider_id())
        .with_auth(Authentication::spiffe(Some(&agent.endpoint())).unwrap());
    spiffe.psa_generate_key("mine", p256_signing()).unwrap();
    spiffe.list_keys().unwrap();
    spiffe.psa_sign_hash("mine", &[3; 32], ECDSA).unwrap();
    assert_eq!(agent.svids_issued(), 1, "one SVID for three requests");

    // An SVID that lives 2 s is renewed before it expires.
    agent.set_svid_ttl(Duration::from_secs(2));
    let short = BasicClient::new_naked(Endpoint::unix_socket(&psecd.socket))
        .with_provider(psecd.backend.provider_id())
        .with_auth(Authentication::spiffe(Some(&agent.endpoint())).unwrap());
    short.list_keys().unwrap();
    assert_eq!(agent.svids_issued(), 2);
    std::thread::sleep(Duration::from_millis(2100));
    let keys = short.list_keys().unwrap();
    assert_eq!(agent.svids_issued(), 3, "renewed near its expiry");
    // Both clients run as this uid: one SPIFFE ID, one set of keys.
    assert_eq!(keys.len(), 1);

    // An agent that is gone: the client says so, naming the endpoint.
    let gone = dir.path().join("gone.sock");
    let error = BasicClient::new_naked(Endpoint::unix_socket(&psecd.socket))
        .with_provider(psecd.backend.provider_id())
        .with_auth(Authentication::spiffe(Some(&format!("unix://{}", gone.display()))).unwrap())
        .list_keys()
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("Workload API") && error.contains("gone.sock"),
        "{error}"
    );
}
