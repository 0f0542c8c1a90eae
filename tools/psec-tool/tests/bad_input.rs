//! Bad input gives a clear message and the documented exit code, and
//! changes nothing in the service.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

mod common;

use common::{Psecd, expect_failure, psec_command, s};

/// A service with two keys, and the list of their names.
fn service_with_keys() -> (Psecd, Vec<String>) {
    let psecd = Psecd::start();
    psecd.ok(&["create-ecc-key", "-k", "k1"]);
    psecd.ok(&["create-aes-key", "-k", "k2"]);
    let names = psecd.key_names();
    assert_eq!(names, ["k1", "k2"]);
    (psecd, names)
}

#[test]
fn unknown_key_is_exit_3_with_a_pointer_to_list_keys_and_changes_nothing() {
    let (psecd, before) = service_with_keys();
    for args in [
        &["sign", "-k", "nope", "data"][..],
        &["key-info", "-k", "nope"],
        &["export-public-key", "-k", "nope"],
        &["delete-key", "-k", "nope"],
    ] {
        let stderr = psecd.fails(args, 3);
        assert!(
            stderr.contains("no key named nope") && stderr.contains("psec list-keys"),
            "{args:?}: {stderr}"
        );
    }
    assert_eq!(psecd.key_names(), before);
}

#[test]
fn provider_not_running_is_exit_3_naming_the_running_ones_and_changes_nothing() {
    let (psecd, before) = service_with_keys();
    let stderr = psecd.fails(&["-p", "tpm", "create-ecc-key", "-k", "k3"], 3);
    assert!(
        stderr.contains("does not run provider tpm") && stderr.contains("mbed-crypto"),
        "{stderr}"
    );
    psecd.fails(&["-p", "pkcs11", "delete-key", "-k", "k1"], 3);
    assert_eq!(psecd.key_names(), before);
}

#[test]
fn unknown_provider_name_is_a_usage_error_exit_2() {
    let (psecd, before) = service_with_keys();
    let stderr = psecd.fails(&["-p", "hsm9000", "list-keys"], 2);
    assert!(stderr.contains("not a provider"), "{stderr}");
    assert_eq!(psecd.key_names(), before);
}

#[test]
fn malformed_pem_is_exit_2_and_imports_nothing() {
    let (psecd, before) = service_with_keys();
    let bad_base64 = psecd.path("bad.pem");
    std::fs::write(
        &bad_base64,
        "-----BEGIN PRIVATE KEY-----\nnot*base64*at*all\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let stderr = psecd.fails(&["import-key", "-k", "k3", "--in", s(&bad_base64)], 2);
    assert!(stderr.contains("malformed PEM"), "{stderr}");

    let unterminated = psecd.path("cut.pem");
    std::fs::write(&unterminated, "-----BEGIN PUBLIC KEY-----\nMFkw\n").unwrap();
    let stderr = psecd.fails(&["import-key", "-k", "k3", "--in", s(&unterminated)], 2);
    assert!(stderr.contains("END PUBLIC KEY"), "{stderr}");

    let garbage = psecd.path("garbage.der");
    std::fs::write(&garbage, [0x30, 0x03, 0x02, 0x01]).unwrap();
    psecd.fails(&["import-key", "-k", "k3", "--in", s(&garbage)], 2);
    assert_eq!(psecd.key_names(), before);
}

#[test]
fn missing_input_file_is_exit_2() {
    let (psecd, before) = service_with_keys();
    let stderr = psecd.fails(&["sign", "-k", "k1", "--in", "/nonexistent/file"], 2);
    assert!(stderr.contains("/nonexistent/file"), "{stderr}");
    assert_eq!(psecd.key_names(), before);
}

#[test]
fn missing_service_is_exit_4_saying_where_it_looked() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("nobody-here.sock");
    for args in [
        &["ping"][..],
        &["list-keys"],
        &["create-ecc-key", "-k", "k"],
    ] {
        let output = psec_command()
            .arg("--endpoint")
            .arg(&socket)
            .args(["--app-name", "x"])
            .args(args)
            .output()
            .unwrap();
        let stderr = expect_failure(&output, 4, args);
        assert!(
            stderr.contains("nobody-here.sock") && stderr.contains("is psecd running"),
            "{stderr}"
        );
    }
}

#[test]
fn endpoint_from_the_environment_is_used() {
    let psecd = Psecd::start();
    let output = psec_command()
        .env(
            "PARSEC_SERVICE_ENDPOINT",
            format!("unix:{}", psecd.socket.display()),
        )
        .arg("ping")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn creating_a_key_under_a_taken_name_is_exit_3_and_keeps_the_old_key() {
    let (psecd, before) = service_with_keys();
    let public = psecd.ok_text(&["export-public-key", "-k", "k1"]);
    let stderr = psecd.fails(&["create-ecc-key", "-k", "k1"], 3);
    assert!(stderr.contains("already exists"), "{stderr}");
    assert_eq!(psecd.ok_text(&["export-public-key", "-k", "k1"]), public);
    assert_eq!(psecd.key_names(), before);
}

#[test]
fn invalid_csr_fields_are_usage_errors_exit_2() {
    let (psecd, before) = service_with_keys();
    psecd.fails(&["create-csr", "-k", "k1", "--country", "GBR"], 2);
    psecd.fails(&["create-csr", "-k", "k1", "--san", "IP:not-an-ip"], 2);
    psecd.fails(
        &["create-csr", "-k", "k2", "--cn", "aes keys can not sign"],
        2,
    );
    assert_eq!(psecd.key_names(), before);
}

#[test]
fn wrong_key_kind_for_the_command_is_exit_2_with_a_pointer_to_key_info() {
    let (psecd, _) = service_with_keys();
    let stderr = psecd.fails(&["sign", "-k", "k2", "data"], 2);
    assert!(
        stderr.contains("not a signing key") && stderr.contains("key-info"),
        "{stderr}"
    );
    psecd.fails(&["encrypt", "-k", "k1", "data"], 2);
}

#[test]
fn bad_arguments_are_exit_2() {
    let output = psec_command().args(["create-rsa-key"]).output().unwrap();
    expect_failure(&output, 2, &["create-rsa-key"]);
    let output = psec_command().args(["frobnicate"]).output().unwrap();
    expect_failure(&output, 2, &["frobnicate"]);
}
