//! The Rust code for the protobuf schema is generated once and checked in
//! under `src/generated/`, so that building psec-interface needs neither
//! `protoc` nor a build script. This test regenerates it from
//! `protobuf/*.proto` with protox and prost-build (both pure Rust) and fails
//! if the checked-in code differs.
//!
//! After changing a `.proto` file, regenerate with:
//! `PSEC_REGENERATE_PROTOBUF=1 cargo test -p psec-interface --test protobuf_codegen`

#![allow(clippy::expect_used, reason = "a test fails by panicking")]

use std::fs;
use std::path::{Path, PathBuf};

/// Messages whose fields carry secrets (key material, plaintexts, shared
/// secrets, random bytes, credentials): they are wiped when dropped.
const SECRET_MESSAGES: &[&str] = &[
    ".psa_import_key.Operation",
    ".psa_export_key.Result",
    ".psa_asymmetric_encrypt.Operation",
    ".psa_asymmetric_decrypt.Operation",
    ".psa_asymmetric_decrypt.Result",
    ".psa_aead_encrypt.Operation",
    ".psa_aead_decrypt.Result",
    ".psa_cipher_encrypt.Operation",
    ".psa_cipher_decrypt.Result",
    ".psa_mac_compute.Operation",
    ".psa_mac_verify.Operation",
    ".psa_sign_message.Operation",
    ".psa_verify_message.Operation",
    ".psa_hash_compute.Operation",
    ".psa_hash_compare.Operation",
    ".psa_raw_key_agreement.Result",
    ".psa_generate_random.Result",
    ".attest_key.AttestationOutput.ActivateCredential",
];

/// Fields of those messages that are themselves messages (algorithms, key
/// attributes): they hold no secret and are not wiped.
const NOT_SECRET_FIELDS: &[&str] = &[
    ".psa_import_key.Operation.attributes",
    ".psa_asymmetric_encrypt.Operation.alg",
    ".psa_asymmetric_decrypt.Operation.alg",
    ".psa_aead_encrypt.Operation.alg",
    ".psa_mac_compute.Operation.alg",
    ".psa_mac_verify.Operation.alg",
    ".psa_sign_message.Operation.alg",
    ".psa_verify_message.Operation.alg",
];

fn generate(out_dir: &Path) {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let proto_dir = manifest.join("protobuf");
    let mut protos: Vec<PathBuf> = fs::read_dir(&proto_dir)
        .expect("read protobuf/")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "proto"))
        .collect();
    protos.sort();
    let descriptors = protox::compile(&protos, [&proto_dir]).expect("compile the .proto files");

    let mut config = prost_build::Config::new();
    config.out_dir(out_dir).include_file("mod.rs");
    for message in SECRET_MESSAGES {
        config.message_attribute(
            message,
            "#[derive(::zeroize::Zeroize, ::zeroize::ZeroizeOnDrop)]",
        );
    }
    for field in NOT_SECRET_FIELDS {
        config.field_attribute(field, "#[zeroize(skip)]");
    }
    config.compile_fds(descriptors).expect("generate Rust code");
}

fn rust_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("read generated directory")
        .map(|entry| {
            entry
                .expect("directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".rs"))
        .collect();
    names.sort();
    names
}

#[test]
fn checked_in_protobuf_code_matches_the_proto_files() {
    let fresh = std::env::temp_dir().join(format!("psec-protobuf-codegen-{}", std::process::id()));
    let _ = fs::remove_dir_all(&fresh);
    fs::create_dir_all(&fresh).expect("create temporary directory");
    generate(&fresh);

    let checked_in = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/generated");
    if std::env::var_os("PSEC_REGENERATE_PROTOBUF").is_some() {
        fs::create_dir_all(&checked_in).expect("create src/generated");
        for name in rust_files(&checked_in) {
            fs::remove_file(checked_in.join(name)).expect("remove old generated file");
        }
        for name in rust_files(&fresh) {
            fs::copy(fresh.join(&name), checked_in.join(&name)).expect("copy generated file");
        }
    }

    assert_eq!(
        rust_files(&fresh),
        rust_files(&checked_in),
        "the set of generated files differs; regenerate (see the top of this file)"
    );
    for name in rust_files(&fresh) {
        let want = fs::read_to_string(fresh.join(&name)).expect("read fresh file");
        let have = fs::read_to_string(checked_in.join(&name)).expect("read checked-in file");
        assert!(
            want == have,
            "src/generated/{name} is out of date with protobuf/; regenerate (see the top of this file)"
        );
    }
    let _ = fs::remove_dir_all(&fresh);
}
