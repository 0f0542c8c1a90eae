//! The service itself, whatever the provider: discovery, authentication,
//! administration, deprecated primitives, configuration reload, through a
//! real psecd (Mbed Crypto, SQLite) and psec-client. The crypto operations
//! are in `conformance.rs`, run for every provider.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

mod common;

use common::{Backend, ECDSA, Psecd, TestConfig, p256_signing, status};
use psec_client::psa_crypto::types::algorithm::{AsymmetricSignature, Hash};
use psec_client::psa_crypto::types::key::Type;
use psec_client::{Authentication, BasicClient, Endpoint, Opcode, ProviderId, ResponseStatus};
use psec_test_support::attributes::persistent as attributes;

#[test]
fn ping_list_providers_and_authenticators_describe_the_service() {
    let psecd = Psecd::start();
    let c = psecd.client("app");
    assert_eq!(c.ping().unwrap(), (1, 0));
    let providers = c.list_providers().unwrap();
    let ids: Vec<ProviderId> = providers.iter().map(|p| p.id).collect();
    assert_eq!(
        ids,
        [ProviderId::MbedCrypto, ProviderId::Core],
        "configuration order, Core last"
    );
    assert_eq!(providers[0].uuid, ProviderId::MbedCrypto.uuid());
    assert_eq!(providers[1].uuid, ProviderId::Core.uuid());
    let auth: Vec<_> = c
        .list_authenticators()
        .unwrap()
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(
        auth,
        [
            psec_client::AuthType::Direct,
            psec_client::AuthType::UnixPeerCredentials
        ]
    );
}

#[test]
fn list_opcodes_tells_what_each_provider_does() {
    let psecd = Psecd::start();
    let c = psecd.client("app");
    let core = c.list_opcodes(ProviderId::Core).unwrap();
    assert!(core.contains(&Opcode::ListKeys) && core.contains(&Opcode::Ping));
    assert!(!core.contains(&Opcode::PsaSignHash));
    let mbed = c.list_opcodes(ProviderId::MbedCrypto).unwrap();
    for opcode in [
        Opcode::PsaGenerateKey,
        Opcode::PsaSignHash,
        Opcode::PsaAeadEncrypt,
        Opcode::PsaGenerateRandom,
    ] {
        assert!(mbed.contains(&opcode), "{opcode:?} missing from {mbed:?}");
    }
    assert!(!mbed.contains(&Opcode::ListKeys));
    assert_eq!(
        status(c.list_opcodes(ProviderId::Tpm).unwrap_err()),
        ResponseStatus::ProviderNotRegistered
    );
}

#[test]
fn mac_is_served_and_found_by_can_do_crypto_but_never_listed_to_parsec_1_clients() {
    use psec_client::CheckType;
    use psec_client::psa_crypto::types::algorithm::{FullLengthMac, Mac};
    let psecd = Psecd::start();
    let c = psecd.client("app");
    for provider in [ProviderId::Core, ProviderId::MbedCrypto] {
        let listed = c.list_opcodes(provider).unwrap();
        assert!(
            listed.iter().all(|o| o.in_parsec_1()),
            "{provider:?} lists an opcode Parsec 1.x clients cannot decode: {listed:?}"
        );
    }
    let hmac: Mac = Mac::FullLength(FullLengthMac::Hmac {
        hash_alg: Hash::Sha256,
    });
    let hmac_key = attributes(Type::Hmac, 256, hmac.into(), |u| {
        u.set_sign_hash();
        u.set_verify_hash();
    });
    assert!(c.can_do_crypto(CheckType::Use, hmac_key).unwrap());
    c.psa_generate_key("mac-key", hmac_key).unwrap();
    let tag = c.psa_mac_compute("mac-key", hmac, b"served").unwrap();
    c.psa_mac_verify("mac-key", hmac, b"served", &tag).unwrap();
}

#[test]
fn default_client_discovers_provider_and_authenticator() {
    let psecd = Psecd::start();
    let c = BasicClient::new_naked(Endpoint::unix_socket(&psecd.socket))
        .select_defaults(Some("discovering-app".into()))
        .unwrap();
    assert_eq!(c.provider(), Some(ProviderId::MbedCrypto));
    assert_eq!(c.auth().auth_type(), psec_client::AuthType::Direct);
}

#[test]
fn admin_operations_are_for_admins_only() {
    let psecd = Psecd::start();
    let admin = psecd.client("admin");
    let tenant = psecd.client("tenant");
    tenant.psa_generate_key("k1", p256_signing()).unwrap();
    tenant.psa_generate_key("k2", p256_signing()).unwrap();
    assert_eq!(
        status(tenant.list_clients().unwrap_err()),
        ResponseStatus::AdminOperation
    );
    assert_eq!(
        status(tenant.delete_client("tenant").unwrap_err()),
        ResponseStatus::AdminOperation
    );
    assert_eq!(admin.list_clients().unwrap(), ["tenant"]);
    admin.delete_client("tenant").unwrap();
    assert!(tenant.list_keys().unwrap().is_empty());
    assert!(admin.list_clients().unwrap().is_empty());
    assert_eq!(
        status(tenant.psa_sign_hash("k1", &[1; 32], ECDSA).unwrap_err()),
        ResponseStatus::PsaErrorDoesNotExist
    );
}

#[test]
fn key_operations_without_authentication_are_refused() {
    let psecd = Psecd::start();
    let anonymous = psecd.client("x").with_auth(Authentication::none());
    assert_eq!(
        status(anonymous.psa_generate_key("k", p256_signing()).unwrap_err()),
        ResponseStatus::NotAuthenticated
    );
    assert_eq!(
        status(anonymous.list_keys().unwrap_err()),
        ResponseStatus::NotAuthenticated
    );
    // What needs no application still works.
    assert_eq!(anonymous.psa_generate_random(8).unwrap().len(), 8);
}

#[test]
#[allow(deprecated, reason = "SHA-1 is used on purpose")]
fn generating_a_deprecated_key_is_refused_unless_allowed_and_using_sha1_is_not() {
    let psecd = Psecd::start();
    let c = psecd.client("old-app");
    // As in Parsec 1.5: operations are not refused for what they use.
    assert_eq!(
        c.psa_hash_compute(Hash::Sha1, b"abc").unwrap()[..2],
        [0xa9, 0x99]
    );
    let sha1_policy = attributes(
        Type::RsaKeyPair,
        2048,
        AsymmetricSignature::RsaPkcs1v15Sign {
            hash_alg: Hash::Sha1.into(),
        }
        .into(),
        |u| {
            let _ = u.set_sign_hash();
        },
    );
    assert_eq!(
        status(c.psa_generate_key("old", sha1_policy).unwrap_err()),
        ResponseStatus::DeprecatedPrimitive
    );
    assert!(c.list_keys().unwrap().is_empty(), "nothing was created");

    let lenient = Psecd::start_with(&TestConfig {
        core_extra: "allow_deprecated = true".into(),
        ..TestConfig::default()
    });
    let c = lenient.client("old-app");
    let mut ecdsa_sha1 = p256_signing();
    ecdsa_sha1.policy.permitted_algorithms = AsymmetricSignature::Ecdsa {
        hash_alg: Hash::Sha1.into(),
    }
    .into();
    c.psa_generate_key("old", ecdsa_sha1).unwrap();
}

#[test]
fn a_request_to_a_provider_that_is_not_configured_is_refused() {
    let psecd = Psecd::start();
    let c = psecd.client("app").with_provider(ProviderId::Pkcs11);
    assert_eq!(
        status(c.psa_generate_key("k", p256_signing()).unwrap_err()),
        ResponseStatus::ProviderNotRegistered
    );
}

#[test]
fn sighup_reloads_the_configuration_on_the_same_socket() {
    let psecd = Psecd::start();
    let c = psecd.client("app");
    assert_eq!(c.list_authenticators().unwrap().len(), 2);
    let config = std::fs::read_to_string(&psecd.config).unwrap();
    let direct_only = config.replace(
        "[[authenticator]]\nauth_type = \"UnixPeerCredentials\"\nadmins = [ { name = \"0\" } ]\n",
        "",
    );
    assert_ne!(config, direct_only);
    std::fs::write(&psecd.config, direct_only).unwrap();
    psecd.signal("HUP");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while c.list_authenticators().unwrap().len() != 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "no reload:\n{}",
            psecd.log()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Same process, same socket, still serving keys.
    c.psa_generate_key("after-reload", p256_signing()).unwrap();
}

#[test]
fn pkcs11_keys_made_before_a_sighup_reload_sign_after_it() {
    // The reload builds a new PKCS#11 provider (new sessions, a new login,
    // no remembered handles) before the old one goes.
    let psecd = Psecd::start_with(&TestConfig {
        backend: Backend::Pkcs11,
        ..TestConfig::default()
    });
    let c = psecd.client("app");
    let hash = [0x11; 32];
    c.psa_generate_key("before", p256_signing()).unwrap();
    c.psa_sign_hash("before", &hash, ECDSA).unwrap();
    psecd.signal("HUP");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !psecd.log().contains("configuration reloaded") {
        assert!(
            std::time::Instant::now() < deadline,
            "no reload:\n{}",
            psecd.log()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let signature = c.psa_sign_hash("before", &hash, ECDSA).unwrap();
    c.psa_verify_hash("before", &hash, ECDSA, &signature)
        .unwrap();
    c.psa_generate_key("after", p256_signing()).unwrap();
    let signature = c.psa_sign_hash("after", &hash, ECDSA).unwrap();
    c.psa_verify_hash("after", &hash, ECDSA, &signature)
        .unwrap();
}

#[test]
fn a_bad_configuration_on_reload_keeps_the_running_one() {
    let psecd = Psecd::start();
    std::fs::write(&psecd.config, "[listener]\ntimeout = \"nope\"\n").unwrap();
    psecd.signal("HUP");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !psecd.log().contains("reload failed") {
        assert!(
            std::time::Instant::now() < deadline,
            "no reload attempt:\n{}",
            psecd.log()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(psecd.client("app").ping().unwrap(), (1, 0));
}

#[test]
fn sighup_reload_changes_the_served_providers() {
    let psecd = Psecd::start();
    let c = psecd.client("app");
    let ids = |c: &BasicClient| {
        c.list_providers()
            .unwrap()
            .into_iter()
            .map(|p| p.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&c), [ProviderId::MbedCrypto, ProviderId::Core]);
    let with_mbed = std::fs::read_to_string(&psecd.config).unwrap();
    let provider_table =
        "[[provider]]\nprovider_type = \"MbedCrypto\"\nkey_info_manager = \"sqlite-manager\"\n";
    assert!(with_mbed.contains(provider_table));
    let reload = |text: &str, want: &[ProviderId]| {
        std::fs::write(&psecd.config, text).unwrap();
        psecd.signal("HUP");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while ids(&c) != want {
            assert!(
                std::time::Instant::now() < deadline,
                "no reload to {want:?}:\n{}",
                psecd.log()
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    };
    reload(&with_mbed.replace(provider_table, ""), &[ProviderId::Core]);
    assert_eq!(
        status(c.psa_generate_key("k", p256_signing()).unwrap_err()),
        ResponseStatus::ProviderNotRegistered
    );
    reload(&with_mbed, &[ProviderId::MbedCrypto, ProviderId::Core]);
    c.psa_generate_key("k", p256_signing()).unwrap();
}

#[test]
fn random_bytes_over_the_buffer_size_limit_are_response_too_large_as_in_parsec() {
    let psecd = Psecd::start_with(&TestConfig {
        core_extra: "buffer_size_limit = 64".into(),
        ..TestConfig::default()
    });
    let c = psecd.client("app");
    assert_eq!(c.psa_generate_random(64).unwrap().len(), 64);
    assert_eq!(
        status(c.psa_generate_random(65).unwrap_err()),
        ResponseStatus::ResponseTooLarge
    );
}

/// Starts `count` generations of RSA signing keys of `bits` bits for
/// `app`, all at once, each from a thread of its own.
fn rsa_generations_at_once(
    psecd: &Psecd,
    app: &str,
    bits: usize,
    count: usize,
) -> Vec<std::thread::JoinHandle<Result<(), psec_client::Error>>> {
    (0..count)
        .map(|index| {
            let client = psecd.client(app);
            let attributes = attributes(
                Type::RsaKeyPair,
                bits,
                AsymmetricSignature::RsaPkcs1v15Sign {
                    hash_alg: Hash::Sha256.into(),
                }
                .into(),
                |u| {
                    let _ = u.set_sign_hash();
                },
            );
            std::thread::spawn(move || client.psa_generate_key(&format!("rsa-{index}"), attributes))
        })
        .collect()
}

#[test]
fn requests_running_at_sigterm_are_answered_before_psecd_exits() {
    // Workers answer and close their connections themselves; psecd stops
    // only once every worker has. Four RSA-4096 generations (Mbed TLS 3.5
    // makes them one after another: seconds) are running when SIGTERM
    // comes; each must still get its key.
    let mut psecd = Psecd::start();
    let generations = rsa_generations_at_once(&psecd, "patient", 4096, 4);
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert!(
        generations.iter().any(|thread| !thread.is_finished()),
        "the generations ended before SIGTERM: this test proves nothing on so fast a machine"
    );
    psecd.signal("TERM");
    for generation in generations {
        generation
            .join()
            .unwrap()
            .expect("a request running at SIGTERM is answered");
    }
    assert!(psecd.stop(), "psecd exits cleanly after answering");
}

#[test]
fn no_more_requests_run_at_once_than_thread_pool_size_and_the_rest_wait_their_turn() {
    // One worker: six RSA-2048 generations sent at once run one after the
    // other on it (two handed over, the others waiting in the serving
    // loop), and every one gets its key. psecd's threads are counted all
    // the while: the serving thread and at most the one worker.
    let psecd = Psecd::start_with(&TestConfig {
        thread_pool_size: 1,
        ..TestConfig::default()
    });
    let generations = rsa_generations_at_once(&psecd, "queued", 2048, 6);
    let tasks = format!("/proc/{}/task", psecd.pid());
    let mut most_threads = 0;
    while generations.iter().any(|thread| !thread.is_finished()) {
        let threads = std::fs::read_dir(&tasks).map_or(0, Iterator::count);
        most_threads = most_threads.max(threads);
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    for generation in generations {
        generation
            .join()
            .unwrap()
            .expect("a request queued behind others is answered");
    }
    assert_eq!(
        most_threads, 2,
        "psecd ran its serving thread and exactly one worker"
    );
}
