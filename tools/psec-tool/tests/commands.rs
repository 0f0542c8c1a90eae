//! Each command of `psec`, run as a process against a real psecd on a
//! temporary socket.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

mod common;

use common::{Psecd, psec_command};
use serde_json::{Value, json};

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

/// The usage flags of a key in `key-info --output json`.
fn usage(key: &Value) -> Vec<String> {
    key["policy"]["usage"]
        .as_array()
        .unwrap_or_else(|| panic!("no policy.usage array in {key}"))
        .iter()
        .map(|flag| flag.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn ping_reports_wire_protocol_1_0_as_text_and_json() {
    let psecd = Psecd::start();
    assert!(psecd.ok_text(&["ping"]).contains("1.0"));
    let pong = json(&psecd.ok_text(&["ping", "--output", "json"]));
    assert_eq!(pong["wire_protocol_version"], "1.0");
}

#[test]
fn timeout_option_is_accepted_and_zero_means_no_timeout() {
    let psecd = Psecd::start();
    psecd.ok(&["-t", "0", "ping"]);
    psecd.ok(&["--timeout", "10", "list-keys"]);
}

#[test]
fn under_unix_peer_credentials_keys_belong_to_the_unix_user_whatever_the_app_name() {
    let psecd = Psecd::start_with_authenticators(common::UNIX_ONLY);
    psecd.ok_without_app_name(&["create-ecc-key", "-k", "user-key"]);
    let listed = psecd.ok_without_app_name(&["list-keys", "--output", "json"]);
    assert_eq!(common::key_names(&listed), ["user-key"]);
    // The application name is for Direct authentication; this service does
    // not read it, so any name is the same Unix user.
    assert_eq!(psecd.key_names(), ["user-key"]);
}

#[test]
fn list_providers_json_lists_mbed_crypto_then_core() {
    let psecd = Psecd::start();
    let providers = json(&psecd.ok_text(&["list-providers", "--output", "json"]));
    let names: Vec<&str> = providers
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["mbed-crypto", "core"]);
    assert!(psecd.ok_text(&["list-providers"]).contains("mbed-crypto"));
}

#[test]
fn list_authenticators_json_lists_direct_then_unix_peer_credentials() {
    let psecd = Psecd::start();
    let authenticators = json(&psecd.ok_text(&["list-authenticators", "--output", "json"]));
    let ids: Vec<u64> = authenticators
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [1, 3]);
}

#[test]
fn list_opcodes_of_mbed_crypto_includes_signing_and_key_generation() {
    let psecd = Psecd::start();
    let listed = json(&psecd.ok_text(&["list-opcodes", "-p", "mbed-crypto", "--output", "json"]));
    assert_eq!(listed["provider"], "mbed-crypto");
    let opcodes: Vec<&str> = listed["opcodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o.as_str().unwrap())
        .collect();
    for wanted in ["PsaGenerateKey", "PsaSignHash", "PsaAsymmetricDecrypt"] {
        assert!(opcodes.contains(&wanted), "{wanted} not in {opcodes:?}");
    }
    let core = psecd.ok_text(&["list-opcodes", "-p", "core"]);
    assert!(core.contains("ListKeys"), "{core}");
}

#[test]
fn created_keys_are_listed_with_the_asked_type_size_and_algorithm() {
    let psecd = Psecd::start();
    psecd.ok(&["create-rsa-key", "-k", "rsa-pss", "--scheme", "pss"]);
    psecd.ok(&["create-rsa-key", "-k", "rsa-oaep", "--oaep", "-b", "1024"]);
    psecd.ok(&["create-ecc-key", "-k", "ec-384", "--curve", "p384"]);
    psecd.ok(&["create-ecc-key", "-k", "ecdh", "--for", "key-agreement"]);
    psecd.ok(&[
        "create-aes-key",
        "-k",
        "aes",
        "--bits",
        "128",
        "--mode",
        "ccm",
    ]);
    assert_eq!(
        psecd.key_names(),
        ["aes", "ec-384", "ecdh", "rsa-oaep", "rsa-pss"]
    );
    let info = |name: &str| json(&psecd.ok_text(&["key-info", "-k", name, "--output", "json"]));

    let pss = info("rsa-pss");
    assert_eq!(pss["type"]["kind"], "rsa-key-pair");
    assert_eq!(pss["bits"], 2048);
    assert_eq!(
        pss["policy"]["algorithm"],
        json!({ "category": "signature", "kind": "rsa-pss", "hash": "sha256" })
    );
    assert!(!usage(&pss).contains(&"export".to_string()));

    let oaep = info("rsa-oaep");
    assert_eq!(oaep["bits"], 1024);
    assert_eq!(
        oaep["policy"]["algorithm"],
        json!({ "category": "encryption", "kind": "rsa-oaep", "hash": "sha256" })
    );
    assert_eq!(usage(&oaep), ["encrypt", "decrypt"]);

    let ec = info("ec-384");
    assert_eq!(
        ec["type"],
        json!({ "kind": "ecc-key-pair", "curve_family": "secp-r1", "group_family": null })
    );
    assert_eq!(ec["bits"], 384);
    assert_eq!(
        ec["policy"]["algorithm"],
        json!({ "category": "signature", "kind": "ecdsa", "hash": "sha384" })
    );

    let ecdh = info("ecdh");
    assert_eq!(
        ecdh["policy"]["algorithm"],
        json!({ "category": "key-agreement", "kind": "ecdh", "kdf": null })
    );
    assert_eq!(usage(&ecdh), ["derive"]);

    let aes = info("aes");
    assert_eq!(aes["type"]["kind"], "aes");
    assert_eq!(aes["bits"], 128);
    assert_eq!(
        aes["policy"]["algorithm"],
        json!({ "category": "aead", "kind": "ccm", "tag_length": null })
    );

    let table = psecd.ok_text(&["key-info", "-k", "ec-384"]);
    assert!(
        table.contains("ecc-key-pair") && table.contains("384"),
        "{table}"
    );
}

#[test]
fn list_keys_json_gives_types_algorithms_and_policies_as_objects_not_rust_debug() {
    let psecd = Psecd::start();
    psecd.ok(&["create-ecc-key", "-k", "ec", "--exportable"]);
    psecd.ok(&["create-rsa-key", "-k", "rsa", "--oaep"]);
    psecd.ok(&["create-aes-key", "-k", "aes"]);
    let text = psecd.ok_text(&["list-keys", "--output", "json"]);
    for rust_name in [
        "Specific",
        "Sha256",
        "AsymmetricSignature",
        "EccKeyPair",
        "Persistent",
    ] {
        assert!(!text.contains(rust_name), "{rust_name} in:\n{text}");
    }
    let keys = json(&text);
    let keys = keys.as_array().unwrap();
    assert_eq!(keys.len(), 3);
    for key in keys {
        for field in ["name", "provider"] {
            assert!(key[field].is_string(), "{field} in {key}");
        }
        assert_eq!(key["provider_id"], 1, "{key}");
        assert!(key["bits"].is_u64(), "{key}");
        assert_eq!(key["lifetime"], "persistent", "{key}");
        assert!(key["type"]["kind"].is_string(), "{key}");
        assert!(key["policy"]["usage"].is_array(), "{key}");
        let algorithm = &key["policy"]["algorithm"];
        assert!(
            algorithm["category"].is_string() && algorithm["kind"].is_string(),
            "{key}"
        );
    }
    let ec = keys.iter().find(|k| k["name"] == "ec").unwrap();
    assert_eq!(
        *ec,
        json!({
            "name": "ec",
            "provider": "mbed-crypto",
            "provider_id": 1,
            "type": { "kind": "ecc-key-pair", "curve_family": "secp-r1", "group_family": null },
            "bits": 256,
            "lifetime": "persistent",
            "policy": {
                "usage": ["export", "sign-hash", "sign-message", "verify-hash", "verify-message"],
                "algorithm": { "category": "signature", "kind": "ecdsa", "hash": "sha256" },
            },
        })
    );
    let table = psecd.ok_text(&["list-keys"]);
    assert!(table.contains("ecdsa (sha256)"), "{table}");
    assert!(table.contains("rsa-oaep (sha256)"), "{table}");
}

#[test]
fn create_rsa_key_defaults_like_parsec_tool_pkcs1_encryption_and_s_for_signing() {
    let psecd = Psecd::start();
    psecd.ok(&["create-rsa-key", "-k", "default"]);
    psecd.ok(&["create-rsa-key", "-k", "signing", "-s"]);
    let info = |name: &str| json(&psecd.ok_text(&["key-info", "-k", name, "--output", "json"]));
    assert_eq!(
        info("default")["policy"]["algorithm"],
        json!({ "category": "encryption", "kind": "rsa-pkcs1v15-crypt", "hash": null })
    );
    assert_eq!(
        info("signing")["policy"]["algorithm"],
        json!({ "category": "signature", "kind": "rsa-pkcs1v15-sign", "hash": "sha256" })
    );
}

#[test]
fn delete_client_accepts_parsec_tools_client_flag() {
    let psecd = Psecd::start();
    psecd.ok(&["create-ecc-key", "-k", "k"]);
    let output = psec_command()
        .arg("--endpoint")
        .arg(&psecd.socket)
        .args([
            "--app-name",
            "admin",
            "delete-client",
            "--client",
            common::APP,
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(psecd.key_names().is_empty());
}

#[test]
fn delete_key_removes_only_that_key() {
    let psecd = Psecd::start();
    psecd.ok(&["create-ecc-key", "-k", "keep"]);
    psecd.ok(&["create-ecc-key", "-k", "drop"]);
    psecd.ok(&["delete-key", "-k", "drop"]);
    assert_eq!(psecd.key_names(), ["keep"]);
}

#[test]
fn list_clients_and_delete_client_are_for_the_admin_only() {
    let psecd = Psecd::start();
    psecd.ok(&["create-ecc-key", "-k", "k"]);
    let stderr = psecd.fails(&["list-clients"], 3);
    assert!(stderr.contains("administrators"), "{stderr}");

    let run_admin = |args: &[&str]| {
        let output = psec_command()
            .arg("--endpoint")
            .arg(&psecd.socket)
            .args(["--app-name", "admin"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    let clients = json(&run_admin(&["list-clients", "--output", "json"]));
    assert_eq!(clients, serde_json::json!([common::APP]));
    run_admin(&["delete-client", common::APP]);
    assert!(psecd.key_names().is_empty());
}

#[test]
fn sign_and_verify_round_trip_for_messages_and_precomputed_digests() {
    let psecd = Psecd::start();
    psecd.ok(&["create-ecc-key", "-k", "ec"]);
    psecd.ok(&["create-rsa-key", "-k", "pss", "--scheme", "pss"]);
    for key in ["ec", "pss"] {
        let signature = psecd.ok_text(&["sign", "-k", key, "a message"]);
        psecd.ok(&["verify", "-k", key, "a message", "-s", signature.trim()]);

        let digest = psecd.ok_text(&["hash", "a message", "--format", "hex"]);
        let over_digest = psecd.ok_text(&[
            "sign",
            "-k",
            key,
            "--hash",
            digest.trim(),
            "--format",
            "hex",
        ]);
        psecd.ok(&["verify", "-k", key, "a message", "-s", over_digest.trim()]);
        psecd.ok(&[
            "verify",
            "-k",
            key,
            "--hash",
            digest.trim(),
            "-s",
            signature.trim(),
        ]);
    }
}

#[test]
fn verify_of_other_data_fails_with_exit_code_1() {
    let psecd = Psecd::start();
    psecd.ok(&["create-ecc-key", "-k", "ec"]);
    let signature = psecd.ok_text(&["sign", "-k", "ec", "original"]);
    let stderr = psecd.fails(
        &["verify", "-k", "ec", "tampered", "-s", signature.trim()],
        1,
    );
    assert!(stderr.contains("does not verify"), "{stderr}");
}

#[test]
fn sign_reads_standard_input_when_no_data_is_given() {
    let psecd = Psecd::start();
    psecd.ok(&["create-ecc-key", "-k", "ec"]);
    let mut child = psecd
        .psec()
        .args(["sign", "-k", "ec"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"from stdin")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let signature = String::from_utf8(output.stdout).unwrap();
    psecd.ok(&["verify", "-k", "ec", "from stdin", "-s", signature.trim()]);
}

#[test]
fn aes_gcm_round_trips_and_a_wrong_aad_fails_the_check_with_exit_code_1() {
    let psecd = Psecd::start();
    psecd.ok(&["create-aes-key", "-k", "aes"]);
    let ciphertext = psecd.ok_text(&["encrypt", "-k", "aes", "attack at dawn", "--aad", "hdr"]);
    let plaintext = psecd.ok(&["decrypt", "-k", "aes", ciphertext.trim(), "--aad", "hdr"]);
    assert_eq!(plaintext, b"attack at dawn");
    let stderr = psecd.fails(
        &["decrypt", "-k", "aes", ciphertext.trim(), "--aad", "other"],
        1,
    );
    assert!(stderr.contains("does not authenticate"), "{stderr}");
}

#[test]
fn rsa_oaep_encrypt_then_decrypt_returns_the_plaintext() {
    let psecd = Psecd::start();
    psecd.ok(&[
        "create-rsa-key",
        "-k",
        "enc",
        "--for",
        "encryption",
        "--scheme",
        "oaep",
    ]);
    let ciphertext = psecd.ok_text(&["encrypt", "-k", "enc", "hello", "--format", "hex"]);
    let plaintext = psecd.ok(&["decrypt", "-k", "enc", ciphertext.trim(), "--format", "hex"]);
    assert_eq!(String::from_utf8(plaintext).unwrap().trim(), "68656c6c6f");
}

#[test]
fn generate_random_gives_the_asked_number_of_bytes() {
    let psecd = Psecd::start();
    let hex = psecd.ok_text(&["generate-random", "-n", "24", "--format", "hex"]);
    assert_eq!(hex.trim().len(), 48);
    let raw = psecd.path("random.bin");
    psecd.ok(&[
        "generate-random",
        "-n",
        "7",
        "--format",
        "raw",
        "--out",
        common::s(&raw),
    ]);
    assert_eq!(std::fs::read(&raw).unwrap().len(), 7);
}

#[test]
fn export_key_of_a_key_made_without_exportable_is_refused_with_a_hint() {
    let psecd = Psecd::start();
    psecd.ok(&["create-ecc-key", "-k", "locked"]);
    let stderr = psecd.fails(&["export-key", "-k", "locked"], 3);
    assert!(stderr.contains("--exportable"), "{stderr}");
}

#[test]
fn export_key_of_an_exportable_aes_key_gives_its_256_bits_in_base64() {
    let psecd = Psecd::start();
    psecd.ok(&["create-aes-key", "-k", "aes", "--exportable"]);
    let material = psecd.ok_text(&["export-key", "-k", "aes"]);
    use base64::Engine as _;
    let key = base64::engine::general_purpose::STANDARD
        .decode(material.trim())
        .unwrap();
    assert_eq!(key.len(), 32);
}

#[test]
fn completions_and_man_page_come_from_the_command_definitions() {
    for shell in ["bash", "zsh", "fish"] {
        let output = psec_command()
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(output.status.success());
        let script = String::from_utf8(output.stdout).unwrap();
        assert!(
            script.contains("create-csr"),
            "{shell} completions lack create-csr"
        );
    }
    let output = psec_command().arg("man").output().unwrap();
    assert!(output.status.success());
    let page = String::from_utf8(output.stdout).unwrap();
    assert!(
        page.contains(".TH psec 1") && page.contains("create\\-csr"),
        "{page}"
    );

    let dir = tempfile::tempdir().unwrap();
    let output = psec_command()
        .args(["man", "--out-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(dir.path().join("psec.1").is_file());
    assert!(dir.path().join("psec-sign.1").is_file());
}

#[test]
fn help_documents_the_exit_codes() {
    let output = psec_command().arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for line in [
        "2  usage error",
        "3  the service refused",
        "4  the service could not be reached",
    ] {
        assert!(help.contains(line), "no `{line}` in --help");
    }
}
