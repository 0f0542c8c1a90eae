//! psec-client's `AsyncBasicClient` (feature `tokio`) against a real psecd
//! (Mbed Crypto, SQLite): it finds the defaults, its keys and signatures
//! are the blocking client's, tenants stay apart, and many requests from
//! one thread run at once.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

mod common;

use common::{ECDSA, Psecd, p256_signing};
use psec_client::psa_crypto::types::algorithm::Hash;
use psec_client::{AsyncBasicClient, AuthType, ProviderId, ResponseStatus};
use tokio::task::JoinSet;

fn async_client(psecd: &Psecd, app: &str) -> AsyncBasicClient {
    psecd.client(app).into()
}

#[tokio::test(flavor = "current_thread")]
async fn the_async_client_selects_the_services_defaults() {
    let psecd = Psecd::start();
    let endpoint = psecd.client("unused").endpoint().clone();
    let client = AsyncBasicClient::new_naked(endpoint)
        .select_defaults(Some("defaults-app".to_string()))
        .await
        .unwrap();
    assert_eq!(client.settings().provider(), Some(ProviderId::MbedCrypto));
    assert_eq!(client.settings().auth().auth_type(), AuthType::Direct);
    assert_eq!(client.ping().await.unwrap(), (1, 0));
}

#[tokio::test(flavor = "current_thread")]
async fn a_key_made_and_used_async_is_the_blocking_clients_key() {
    let psecd = Psecd::start();
    let client = async_client(&psecd, "alice");
    client
        .psa_generate_key("async-key", p256_signing())
        .await
        .unwrap();
    let hash = client
        .psa_hash_compute(Hash::Sha256, b"signed without blocking")
        .await
        .unwrap();
    let signature = client
        .psa_sign_hash("async-key", &hash, ECDSA)
        .await
        .unwrap();
    // The blocking client of the same application sees the same key.
    let blocking = psecd.client("alice");
    blocking
        .psa_verify_hash("async-key", &hash, ECDSA, &signature)
        .unwrap();
    let names: Vec<String> = client
        .list_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|key| key.name)
        .collect();
    assert_eq!(names, ["async-key"]);
    client.psa_destroy_key("async-key").await.unwrap();
    let error = blocking.psa_export_public_key("async-key").unwrap_err();
    assert_eq!(
        error.service_status(),
        Some(ResponseStatus::PsaErrorDoesNotExist)
    );
}

#[tokio::test(flavor = "current_thread")]
async fn another_application_can_not_see_or_use_the_key() {
    let psecd = Psecd::start();
    let alice = async_client(&psecd, "alice");
    let bob = async_client(&psecd, "bob");
    alice
        .psa_generate_key("alices-key", p256_signing())
        .await
        .unwrap();
    let error = bob
        .psa_sign_hash("alices-key", &[0x11; 32], ECDSA)
        .await
        .unwrap_err();
    assert_eq!(
        error.service_status(),
        Some(ResponseStatus::PsaErrorDoesNotExist)
    );
    assert!(bob.list_keys().await.unwrap().is_empty());
}

#[tokio::test(flavor = "current_thread")]
async fn many_requests_from_one_thread_are_all_answered() {
    const REQUESTS: usize = 32;
    let psecd = Psecd::start();
    let client = async_client(&psecd, "busy");
    client
        .psa_generate_key("shared", p256_signing())
        .await
        .unwrap();
    // One thread, every request in flight at once: none waits for another
    // to finish before it is sent.
    let mut requests = JoinSet::new();
    for round in 0..REQUESTS {
        let client = client.clone();
        requests.spawn(async move {
            let hash = [u8::try_from(round).unwrap(); 32];
            let signature = client.psa_sign_hash("shared", &hash, ECDSA).await?;
            client
                .psa_verify_hash("shared", &hash, ECDSA, &signature)
                .await
        });
    }
    let mut answered = 0;
    while let Some(result) = requests.join_next().await {
        result.unwrap().unwrap();
        answered += 1;
    }
    assert_eq!(answered, REQUESTS);
}
