//! What psec-tool does with a key file a user gives it (`import`): read PEM
//! or DER (PKCS#8, PKCS#1, SEC1, SubjectPublicKeyInfo, through RustCrypto's
//! `der`, `pkcs1`, `pkcs8`, `sec1` and `spki`) into the PSA import format;
//! and with a signature file (`verify`): DER ECDSA to PSA's r || s. Any
//! bytes must give a key or an error, never a panic; a key read must read
//! back the same from what the tool writes for it (`export-key`,
//! `export-public-key`).
//!
//! psec-tool is a binary crate, so its reader is compiled in here from its
//! source file rather than linked.
#![no_main]
#![allow(
    dead_code,
    reason = "only the readers and writers of psec-tool's DER module are fuzzed"
)]

#[path = "../../tools/psec-tool/src/der.rs"]
mod der;

use der::ParsedKey;
use libfuzzer_sys::fuzz_target;

/// The key read from what the tool writes for `key`.
fn written_and_read(key: &ParsedKey) -> Option<ParsedKey> {
    let written = match key {
        ParsedKey::RsaPrivate { der, .. } => der::rsa_pkcs8(der),
        ParsedKey::RsaPublic { der, .. } => der::rsa_spki(der),
        ParsedKey::EcPrivate { scalar, bits } => der::ec_pkcs8(*bits, scalar, None),
        ParsedKey::EcPublic { point, bits } => der::ec_spki(*bits, point),
    };
    Some(der::parse_key(&written.ok()?).expect("psec-tool reads what it writes"))
}

fuzz_target!(|data: &[u8]| {
    if let Ok(key) = der::parse_key(data) {
        let again = written_and_read(&key);
        assert_eq!(
            again.map(|again| format!("{again:?}")),
            Some(format!("{key:?}")),
            "a key changed through export and import"
        );
    }
    for half in [32, 48, 66] {
        if let Ok(raw) = der::ecdsa_der_to_raw(data, half) {
            assert_eq!(raw.len(), 2 * half);
            // DER has one encoding of a value: the signature writes back
            // as it was read.
            assert_eq!(der::ecdsa_raw_to_der(&raw).ok().as_deref(), Some(data));
        }
    }
});
