//! Without `--app-name`, psec sends the application name parsec-tool sends
//! (`parsec-tool`) under Direct authentication, so keys made with one tool
//! are the other's. Checked against a real psecd with Direct authentication
//! alone, as a Parsec 1.5 configuration has it, and against Parsec's own
//! `parsec-tool` when it is installed (CI installs it; see
//! ci/parsec-interop.sh).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

mod common;

use common::{DIRECT_ONLY, Psecd, key_names, psec_command};
use std::process::{Command, Output, Stdio};

/// The name parsec-tool 0.7.0 sends: its crate name, fixed.
const PARSEC_TOOL_APP: &str = "parsec-tool";

/// The applications that own keys, as the administrator sees them.
fn clients(psecd: &Psecd) -> Vec<String> {
    let output = psec_command()
        .arg("--endpoint")
        .arg(&psecd.socket)
        .args(["--app-name", "admin", "list-clients", "--output", "json"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn without_app_name_psec_keys_belong_to_the_application_parsec_tool() {
    let psecd = Psecd::start_with_authenticators(DIRECT_ONLY);
    psecd.ok_without_app_name(&["create-ecc-key", "-k", "made-by-psec"]);

    let listed = psecd.ok_without_app_name(&["list-keys", "--output", "json"]);
    assert_eq!(key_names(&listed), ["made-by-psec"]);
    assert_eq!(clients(&psecd), [PARSEC_TOOL_APP]);
    // Named explicitly, the same application; another name does not see it.
    let explicit = psecd.ok_without_app_name(&[
        "--app-name",
        PARSEC_TOOL_APP,
        "list-keys",
        "--output",
        "json",
    ]);
    assert_eq!(key_names(&explicit), ["made-by-psec"]);
    assert!(
        psecd.key_names().is_empty(),
        "another application sees the key"
    );
}

#[test]
fn psec_app_name_from_the_environment_replaces_the_default() {
    let psecd = Psecd::start_with_authenticators(DIRECT_ONLY);
    let output = psecd
        .psec_without_app_name()
        .env("PSEC_APP_NAME", "from-env")
        .args(["create-ecc-key", "-k", "k"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(clients(&psecd), ["from-env"]);
}

/// `parsec-tool ARGS` against `psecd`, or `None` (with the reason printed)
/// when parsec-tool is not installed.
fn parsec_tool(psecd: &Psecd, args: &[&str]) -> Option<Output> {
    let output = Command::new("parsec-tool")
        .args(args)
        .env(
            "PARSEC_SERVICE_ENDPOINT",
            format!("unix:{}", psecd.socket.display()),
        )
        .env("RUST_LOG", "error")
        .stdin(Stdio::null())
        .output();
    match output {
        Ok(output) => {
            assert!(
                output.status.success(),
                "parsec-tool {args:?} failed with {}:\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
            Some(output)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            println!(
                "SKIPPED the parsec-tool half: parsec-tool is not on PATH \
                 (`cargo install --locked parsec-tool@0.7.0`; CI installs it)"
            );
            None
        }
        Err(e) => panic!("can not run parsec-tool: {e}"),
    }
}

#[test]
fn keys_made_without_app_name_are_shared_with_parsec_tool_under_direct_auth() {
    let psecd = Psecd::start_with_authenticators(DIRECT_ONLY);
    psecd.ok_without_app_name(&["create-ecc-key", "-k", "made-by-psec"]);
    let Some(listed) = parsec_tool(&psecd, &["list-keys"]) else {
        return;
    };
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.contains("* made-by-psec "),
        "parsec-tool list-keys does not list psec's key:\n{listed}"
    );

    // And the other way round: parsec-tool's key is psec's.
    parsec_tool(&psecd, &["create-rsa-key", "-k", "made-by-parsec-tool"]);
    let listed = psecd.ok_without_app_name(&["list-keys", "--output", "json"]);
    assert_eq!(key_names(&listed), ["made-by-parsec-tool", "made-by-psec"]);
    assert_eq!(clients(&psecd), [PARSEC_TOOL_APP]);
}
