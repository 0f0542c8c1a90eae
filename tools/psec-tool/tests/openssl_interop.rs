//! Third-party checks: what `psec` makes, the openssl command line accepts,
//! and what openssl makes, `psec` uses. Each test runs `psec` as a process
//! against a real psecd on a temporary socket.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

mod common;

use common::{Psecd, openssl, s};

/// `psec sign` over a file, raw output, checked with `openssl dgst -sha256
/// -verify` on the exported SubjectPublicKeyInfo.
fn sign_and_check_with_openssl(psecd: &Psecd, key: &str) {
    sign_and_check_with_openssl_digest(psecd, key, "-sha256");
}

/// As [`sign_and_check_with_openssl`], with another openssl digest option.
fn sign_and_check_with_openssl_digest(psecd: &Psecd, key: &str, digest: &str) {
    let message = psecd.path("message.txt");
    std::fs::write(&message, b"signed by psecd, checked by openssl\n").unwrap();
    let public = psecd.path(&format!("{key}.pub.pem"));
    let signature = psecd.path(&format!("{key}.sig"));
    psecd.ok(&["export-public-key", "-k", key, "--out", s(&public)]);
    psecd.ok(&[
        "sign",
        "-k",
        key,
        "--in",
        s(&message),
        "--format",
        "raw",
        "--out",
        s(&signature),
    ]);
    let (stdout, _) = openssl(&[
        "dgst",
        digest,
        "-verify",
        s(&public),
        "-signature",
        s(&signature),
        s(&message),
    ]);
    assert!(stdout.contains("Verified OK"), "{stdout}");
}

#[test]
fn ecdsa_p256_signature_from_psec_verifies_with_openssl_dgst() {
    let psecd = Psecd::start();
    psecd.ok(&["create-ecc-key", "-k", "ec", "--curve", "p256"]);
    sign_and_check_with_openssl(&psecd, "ec");
}

#[test]
fn ecdsa_p384_and_p521_signatures_verify_with_openssl_using_the_matching_hash() {
    let psecd = Psecd::start();
    psecd.ok(&["create-ecc-key", "-k", "ec384", "--curve", "p384"]);
    psecd.ok(&["create-ecc-key", "-k", "ec521", "--curve", "p521"]);
    sign_and_check_with_openssl_digest(&psecd, "ec384", "-sha384");
    sign_and_check_with_openssl_digest(&psecd, "ec521", "-sha512");
}

#[test]
fn rsa_pkcs1v15_signature_from_psec_verifies_with_openssl_dgst() {
    let psecd = Psecd::start();
    psecd.ok(&[
        "create-rsa-key",
        "-k",
        "rsa",
        "--for",
        "signing",
        "--scheme",
        "pkcs1",
    ]);
    sign_and_check_with_openssl(&psecd, "rsa");
}

/// openssl encrypts with the exported public key, `psec decrypt` recovers
/// the plaintext.
fn openssl_encrypts_psec_decrypts(scheme: &str, openssl_options: &[&str]) {
    let psecd = Psecd::start();
    psecd.ok(&[
        "create-rsa-key",
        "-k",
        "enc",
        "--for",
        "encryption",
        "--scheme",
        scheme,
    ]);
    let public = psecd.path("enc.pub.pem");
    psecd.ok(&["export-public-key", "-k", "enc", "--out", s(&public)]);
    let plaintext = psecd.path("plain.txt");
    let ciphertext = psecd.path("cipher.bin");
    std::fs::write(&plaintext, b"a secret for psecd").unwrap();
    let mut args = vec!["pkeyutl", "-encrypt", "-pubin", "-inkey", s(&public)];
    args.extend_from_slice(openssl_options);
    args.extend_from_slice(&["-in", s(&plaintext), "-out", s(&ciphertext)]);
    openssl(&args);
    let recovered = psecd.ok(&["decrypt", "-k", "enc", "--in", s(&ciphertext)]);
    assert_eq!(recovered, b"a secret for psecd");
}

#[test]
fn openssl_oaep_sha256_ciphertext_decrypts_with_psec() {
    openssl_encrypts_psec_decrypts(
        "oaep",
        &[
            "-pkeyopt",
            "rsa_padding_mode:oaep",
            "-pkeyopt",
            "rsa_oaep_md:sha256",
            "-pkeyopt",
            "rsa_mgf1_md:sha256",
        ],
    );
}

#[test]
fn openssl_pkcs1v15_ciphertext_decrypts_with_psec() {
    openssl_encrypts_psec_decrypts("pkcs1", &["-pkeyopt", "rsa_padding_mode:pkcs1"]);
}

#[test]
fn ecdsa_csr_with_every_subject_field_and_sans_passes_openssl_req_verify() {
    let psecd = Psecd::start();
    psecd.ok(&["create-ecc-key", "-k", "device"]);
    let csr = psecd.path("device.csr");
    psecd.ok(&[
        "create-csr",
        "-k",
        "device",
        "--cn",
        "device.example.com",
        "--org",
        "Example Ltd",
        "--ou",
        "Devices",
        "--locality",
        "Cambridge",
        "--state",
        "Cambridgeshire",
        "--country",
        "GB",
        "--serial-number",
        "SN-0042",
        "--san",
        "DNS:device.example.com",
        "--san",
        "IP:192.0.2.7",
        "--san",
        "IP:2001:db8::1",
        "--out",
        s(&csr),
    ]);
    let (text, verify) = openssl(&["req", "-in", s(&csr), "-verify", "-noout", "-text"]);
    assert!(
        verify.contains("verify OK") || text.contains("verify OK"),
        "{verify}"
    );
    for expected in [
        "C = GB",
        "ST = Cambridgeshire",
        "L = Cambridge",
        "O = Example Ltd",
        "OU = Devices",
        "CN = device.example.com",
        "serialNumber = SN-0042",
        "DNS:device.example.com",
        "IP Address:192.0.2.7",
        "IP Address:2001:DB8:0:0:0:0:0:1",
        "ecdsa-with-SHA256",
    ] {
        assert!(text.contains(expected), "no `{expected}` in:\n{text}");
    }
    // The CSR's public key is the service's key.
    let public = psecd.ok_text(&["export-public-key", "-k", "device"]);
    let (csr_key, _) = openssl(&["req", "-in", s(&csr), "-noout", "-pubkey"]);
    assert_eq!(csr_key, public);
}

#[test]
fn rsa_csr_with_parsec_tool_option_spellings_passes_openssl_req_verify() {
    let psecd = Psecd::start();
    psecd.ok(&["create-rsa-key", "-k", "server", "--for-signing"]);
    let csr = psecd.path("server.csr");
    psecd.ok(&[
        "create-csr",
        "-k",
        "server",
        "--cn",
        "server.example",
        // parsec-tool's spellings of the subject options.
        "--o",
        "Org",
        "--c",
        "FR",
        "--serialNumber",
        "7",
        "--out",
        s(&csr),
    ]);
    let (subject, verify) = openssl(&["req", "-in", s(&csr), "-verify", "-noout", "-subject"]);
    assert!(verify.contains("verify OK") || subject.contains("verify OK"));
    assert!(
        subject.contains("C = FR, O = Org, CN = server.example, serialNumber = 7"),
        "{subject}"
    );
}

#[test]
fn openssl_generated_ec_key_imported_signs_and_openssl_verifies() {
    let psecd = Psecd::start();
    let private = psecd.path("ossl-ec.pem");
    openssl(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        s(&private),
    ]);
    psecd.ok(&["import-key", "-k", "imported", "--in", s(&private)]);
    // The public key psecd exports is openssl's.
    let (openssl_public, _) = openssl(&["pkey", "-in", s(&private), "-pubout"]);
    let exported = psecd.ok_text(&["export-public-key", "-k", "imported"]);
    assert_eq!(exported, openssl_public);
    sign_and_check_with_openssl(&psecd, "imported");
    let signature = psecd.ok_text(&["sign", "-k", "imported", "hello"]);
    psecd.ok(&["verify", "-k", "imported", "hello", "-s", signature.trim()]);
}

#[test]
fn openssl_generated_rsa_der_key_imported_signs_and_openssl_verifies() {
    let psecd = Psecd::start();
    let private = psecd.path("ossl-rsa.der");
    openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-outform",
        "DER",
        "-out",
        s(&private),
    ]);
    psecd.ok(&["import-key", "-k", "rsa-imported", "--in", s(&private)]);
    sign_and_check_with_openssl(&psecd, "rsa-imported");
}

#[test]
fn imported_openssl_public_key_verifies_an_openssl_signature() {
    let psecd = Psecd::start();
    let private = psecd.path("signer.pem");
    let public = psecd.path("signer.pub.pem");
    let message = psecd.path("message.txt");
    let signature = psecd.path("message.sig");
    std::fs::write(&message, b"signed by openssl").unwrap();
    openssl(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-384",
        "-out",
        s(&private),
    ]);
    openssl(&["pkey", "-in", s(&private), "-pubout", "-out", s(&public)]);
    openssl(&[
        "dgst",
        "-sha384",
        "-sign",
        s(&private),
        "-out",
        s(&signature),
        s(&message),
    ]);
    psecd.ok(&["import-key", "-k", "peer", "--in", s(&public)]);
    let info = psecd.ok_text(&["key-info", "-k", "peer", "--output", "json"]);
    let info: serde_json::Value = serde_json::from_str(&info).unwrap();
    assert_eq!(info["type"]["kind"], "ecc-public-key");
    assert_eq!(info["bits"], 384);
    psecd.ok(&[
        "verify",
        "-k",
        "peer",
        "--in",
        s(&message),
        "--signature-file",
        s(&signature),
    ]);
}

#[test]
fn exported_private_key_is_read_by_openssl_as_the_same_key() {
    let psecd = Psecd::start();
    psecd.ok(&[
        "create-ecc-key",
        "-k",
        "portable",
        "--curve",
        "p384",
        "--exportable",
    ]);
    let private = psecd.path("portable.pem");
    psecd.ok(&["export-key", "-k", "portable", "--out", s(&private)]);
    let (public_from_private, _) = openssl(&["pkey", "-in", s(&private), "-pubout"]);
    let exported = psecd.ok_text(&["export-public-key", "-k", "portable"]);
    assert_eq!(public_from_private, exported);

    psecd.ok(&["create-rsa-key", "-k", "portable-rsa", "--exportable"]);
    let rsa = psecd.path("portable-rsa.der");
    psecd.ok(&[
        "export-key",
        "-k",
        "portable-rsa",
        "--der",
        "--out",
        s(&rsa),
    ]);
    let (rsa_public, _) = openssl(&["pkey", "-inform", "DER", "-in", s(&rsa), "-pubout"]);
    assert_eq!(
        rsa_public,
        psecd.ok_text(&["export-public-key", "-k", "portable-rsa"])
    );
}

#[test]
fn public_key_pkcs1_and_der_forms_are_read_by_openssl() {
    let psecd = Psecd::start();
    psecd.ok(&["create-rsa-key", "-k", "r"]);
    let pkcs1 = psecd.path("r.pkcs1.pem");
    let der = psecd.path("r.der");
    psecd.ok(&[
        "export-public-key",
        "-k",
        "r",
        "--pkcs1",
        "--out",
        s(&pkcs1),
    ]);
    psecd.ok(&["export-public-key", "-k", "r", "--der", "--out", s(&der)]);
    assert!(
        std::fs::read_to_string(&pkcs1)
            .unwrap()
            .starts_with("-----BEGIN RSA PUBLIC KEY-----")
    );
    let (from_pkcs1, _) = openssl(&["rsa", "-RSAPublicKey_in", "-in", s(&pkcs1), "-pubout"]);
    let (from_der, _) = openssl(&["pkey", "-pubin", "-inform", "DER", "-in", s(&der)]);
    let pem = psecd.ok_text(&["export-public-key", "-k", "r"]);
    assert_eq!(from_pkcs1, pem);
    assert_eq!(from_der, pem);
}

#[test]
fn hash_agrees_with_openssl_dgst() {
    let psecd = Psecd::start();
    let data = psecd.path("data.bin");
    std::fs::write(&data, b"hash me").unwrap();
    let ours = psecd.ok_text(&[
        "hash",
        "--alg",
        "sha384",
        "--in",
        s(&data),
        "--format",
        "hex",
    ]);
    let (theirs, _) = openssl(&["dgst", "-sha384", "-r", s(&data)]);
    assert_eq!(ours.trim(), theirs.split_whitespace().next().unwrap());
}

#[test]
fn traditional_sec1_and_pkcs1_pem_keys_import_as_the_same_keys() {
    let psecd = Psecd::start();
    let ec = psecd.path("ec.pem");
    let ec_traditional = psecd.path("ec-sec1.pem");
    let rsa = psecd.path("rsa.pem");
    let rsa_traditional = psecd.path("rsa-pkcs1.pem");
    let rsa_public_pkcs1 = psecd.path("rsa-pub-pkcs1.pem");
    openssl(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-521",
        "-out",
        s(&ec),
    ]);
    openssl(&[
        "pkey",
        "-in",
        s(&ec),
        "-traditional",
        "-out",
        s(&ec_traditional),
    ]);
    openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        s(&rsa),
    ]);
    openssl(&[
        "pkey",
        "-in",
        s(&rsa),
        "-traditional",
        "-out",
        s(&rsa_traditional),
    ]);
    openssl(&[
        "rsa",
        "-in",
        s(&rsa),
        "-RSAPublicKey_out",
        "-out",
        s(&rsa_public_pkcs1),
    ]);
    assert!(
        std::fs::read_to_string(&ec_traditional)
            .unwrap()
            .starts_with("-----BEGIN EC PRIVATE KEY-----")
    );
    assert!(
        std::fs::read_to_string(&rsa_traditional)
            .unwrap()
            .starts_with("-----BEGIN RSA PRIVATE KEY-----")
    );
    for (name, file, original) in [
        ("ec-sec1", &ec_traditional, &ec),
        ("rsa-pkcs1", &rsa_traditional, &rsa),
    ] {
        psecd.ok(&["import-key", "-k", name, "--in", s(file)]);
        let (expected, _) = openssl(&["pkey", "-in", s(original), "-pubout"]);
        assert_eq!(psecd.ok_text(&["export-public-key", "-k", name]), expected);
    }
    psecd.ok(&["import-key", "-k", "rsa-pub", "--in", s(&rsa_public_pkcs1)]);
    let (expected, _) = openssl(&["pkey", "-in", s(&rsa), "-pubout"]);
    assert_eq!(
        psecd.ok_text(&["export-public-key", "-k", "rsa-pub"]),
        expected
    );
    // The P-521 key signs with SHA-512, as openssl checks.
    sign_and_check_with_openssl_digest(&psecd, "ec-sec1", "-sha512");
}

#[test]
fn rsa_pss_signature_from_psec_verifies_with_openssl() {
    let psecd = Psecd::start();
    psecd.ok(&["create-rsa-key", "-k", "pss", "--scheme", "pss"]);
    let public = psecd.path("pss.pub.pem");
    let message = psecd.path("message.txt");
    let signature = psecd.path("pss.sig");
    std::fs::write(&message, b"probabilistic").unwrap();
    psecd.ok(&["export-public-key", "-k", "pss", "--out", s(&public)]);
    psecd.ok(&[
        "sign",
        "-k",
        "pss",
        "--in",
        s(&message),
        "--format",
        "raw",
        "--out",
        s(&signature),
    ]);
    let (stdout, _) = openssl(&[
        "dgst",
        "-sha256",
        "-sigopt",
        "rsa_padding_mode:pss",
        "-sigopt",
        "rsa_pss_saltlen:auto",
        "-verify",
        s(&public),
        "-signature",
        s(&signature),
        s(&message),
    ]);
    assert!(stdout.contains("Verified OK"), "{stdout}");
}
