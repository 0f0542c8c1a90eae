//! Two Unix users, authenticated by the kernel's peer credentials, each see
//! only their own keys. The test runs as root and re-runs itself as each
//! user (a process per UID, since credentials are per process).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

mod common;

use common::{ECDSA, Psecd, p256_signing};
use psec_client::{AuthType, Authentication, BasicClient, Endpoint, ProviderId, ResponseStatus};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::process::Command;

const TEST_NAME: &str = "two_unix_users_see_only_their_own_keys";
const ROLE: &str = "PSEC_TEST_UID_ROLE";
const SOCKET: &str = "PSEC_TEST_UID_SOCKET";

/// Runs this test's child role as `uid`, and fails if the child fails.
fn as_user(uid: u32, role: &str, socket: &std::path::Path) {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
        .env(ROLE, role)
        .env(SOCKET, socket)
        .uid(uid)
        .gid(uid)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "child {role} as uid {uid} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// What the child does, as the user it runs as.
fn child(role: &str, socket: &str) {
    let me = std::fs::metadata("/proc/self").unwrap().uid();
    let c = BasicClient::new_naked(Endpoint::unix_socket(socket))
        .with_provider(ProviderId::MbedCrypto)
        .with_auth(Authentication::current_unix_user().unwrap());
    assert_eq!(c.auth().auth_type(), AuthType::UnixPeerCredentials);
    let mine = format!("key-of-{me}");
    match role {
        "create" => c.psa_generate_key(&mine, p256_signing()).unwrap(),
        "check" => {
            let names: Vec<String> = c.list_keys().unwrap().into_iter().map(|k| k.name).collect();
            assert_eq!(
                names,
                std::slice::from_ref(&mine),
                "uid {me} sees exactly its own key"
            );
            let _ = c.psa_sign_hash(&mine, &[1; 32], ECDSA).unwrap();
            let other = if me == 1501 {
                "key-of-1502"
            } else {
                "key-of-1501"
            };
            let error = c.psa_sign_hash(other, &[1; 32], ECDSA).unwrap_err();
            assert_eq!(
                error.service_status(),
                Some(ResponseStatus::PsaErrorDoesNotExist)
            );
            // Claiming another UID is refused by the kernel check.
            let liar = c
                .clone()
                .with_auth(Authentication::unix_peer_credentials(if me == 1501 {
                    1502
                } else {
                    1501
                }));
            let error = liar.list_keys().unwrap_err();
            assert_eq!(
                error.service_status(),
                Some(ResponseStatus::AuthenticationError)
            );
            // Not an admin (only UID 0 is).
            assert_eq!(
                c.list_clients().unwrap_err().service_status(),
                Some(ResponseStatus::AdminOperation)
            );
        }
        other => panic!("unknown role {other}"),
    }
}

#[test]
fn two_unix_users_see_only_their_own_keys() {
    if let (Ok(role), Ok(socket)) = (std::env::var(ROLE), std::env::var(SOCKET)) {
        child(&role, &socket);
        return;
    }
    if std::fs::metadata("/proc/self").unwrap().uid() != 0 {
        eprintln!("SKIPPED {TEST_NAME}: switching users needs root (CI runs as root)");
        return;
    }
    let psecd = Psecd::start();
    for uid in [1501, 1502] {
        as_user(uid, "create", &psecd.socket);
    }
    for uid in [1501, 1502] {
        as_user(uid, "check", &psecd.socket);
    }
    // Root (UID 0) is the admin of the Unix peer credentials authenticator.
    let admin = BasicClient::new_naked(Endpoint::unix_socket(&psecd.socket))
        .with_provider(ProviderId::MbedCrypto)
        .with_auth(Authentication::unix_peer_credentials(0));
    assert_eq!(admin.list_clients().unwrap(), ["1501", "1502"]);
}
