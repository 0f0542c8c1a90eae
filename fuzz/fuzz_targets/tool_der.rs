//! What psec-tool does with a key file a user gives it (`import`): read PEM
//! or DER (PKCS#8, PKCS#1, SEC1, SubjectPublicKeyInfo) by hand into the PSA
//! import format. Any bytes must give a key or an error, never a panic.
//!
//! psec-tool is a binary crate, so its reader is compiled in here from its
//! source file rather than linked.
#![no_main]
#![allow(
    dead_code,
    reason = "only the reader of psec-tool's DER module is fuzzed"
)]

#[path = "../../tools/psec-tool/src/der.rs"]
mod der;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(key) = der::parse_key(data) {
        // What the tool then sends: the key in the PSA format, of a size.
        let _ = format!("{key:?}");
    }
});
