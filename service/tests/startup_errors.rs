//! psecd refuses to start on a configuration it can not honour, and says
//! why: the file, the field, what would be valid.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

mod common;

use common::TestConfig;
use std::os::unix::fs::MetadataExt;
use std::process::Command;

/// Runs psecd on `config_text` and returns its error output; it must fail.
fn refused(config_text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, config_text).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_psecd"))
        .arg("--config")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        !output.status.success(),
        "psecd started on a configuration it should refuse"
    );
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        stderr.contains(&path.display().to_string()),
        "the file is named: {stderr}"
    );
    stderr
}

fn default_text() -> String {
    let dir = tempfile::tempdir().unwrap();
    TestConfig::default().render(dir.path())
}

#[test]
fn a_misspelt_field_is_named_with_the_valid_ones() {
    let stderr = refused(&default_text().replace("thread_pool_size", "thread_pool_sise"));
    assert!(stderr.contains("thread_pool_sise"), "{stderr}");
    assert!(stderr.contains("thread_pool_size"), "{stderr}");
}

#[test]
fn a_provider_type_that_is_not_built_is_named_with_what_is() {
    let text = default_text().replace(
        "provider_type = \"MbedCrypto\"",
        "provider_type = \"TrustedService\"",
    );
    let stderr = refused(&text);
    assert!(stderr.contains("TrustedService"), "{stderr}");
    assert!(
        stderr.contains("MbedCrypto"),
        "the kinds this build has: {stderr}"
    );
}

#[test]
fn root_is_refused_unless_allowed() {
    if std::fs::metadata("/proc/self").unwrap().uid() != 0 {
        eprintln!("SKIPPED: this test checks what happens when psecd runs as root");
        return;
    }
    let stderr = refused(&default_text().replace("allow_root = true", "allow_root = false"));
    assert!(stderr.contains("root"), "{stderr}");
    assert!(stderr.contains("allow_root"), "{stderr}");
}

/// A TPM provider whose TPM does not answer: nothing listens on this port.
fn tpm_table(skip: bool) -> String {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!(
        "[[provider]]\nprovider_type = \"Tpm\"\nkey_info_manager = \"sqlite-manager\"\n\
         tcti = \"mssim:host=127.0.0.1,port={closed}\"\nskip_if_no_tpm = {skip}\n"
    )
}

#[test]
fn a_missing_tpm_stops_psecd_and_names_the_tcti() {
    let stderr = refused(&format!("{}\n{}", default_text(), tpm_table(false)));
    assert!(stderr.contains("TPM"), "{stderr}");
    assert!(
        stderr.contains("mssim:host=127.0.0.1"),
        "the TCTI is named: {stderr}"
    );
}

#[test]
fn skip_if_no_tpm_starts_psecd_without_the_tpm_provider() {
    let psecd = common::Psecd::start_with(&TestConfig {
        extra_providers: tpm_table(true),
        ..TestConfig::default()
    });
    let providers: Vec<_> = psecd
        .client("app")
        .list_providers()
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(
        providers,
        [
            psec_client::ProviderId::MbedCrypto,
            psec_client::ProviderId::Core
        ]
    );
    assert!(psecd.log().contains("skip_if_no_tpm"), "{}", psecd.log());
}
