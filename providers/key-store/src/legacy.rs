//! Parsec's on-disk encodings: the names of mapping files and directories,
//! and the content of a mapping file.
//!
//! From Parsec's `src/key_info_managers/on_disk_manager/mod.rs` and
//! `src/key_info_managers/mod.rs`:
//! - application and key names are URL-safe base64 *with* padding
//!   (`base64::engine::general_purpose::URL_SAFE`) of their UTF-8 bytes;
//! - the provider directory is the provider id byte in decimal (`1` for Mbed
//!   Crypto, `2` for PKCS #11, `3` for the TPM...);
//! - a file holds `bincode::serialize(&KeyInfo { id, attributes })` with
//!   bincode 1.x defaults (little endian, fixed-width integers, `u64`
//!   lengths, `u32` enum tags), `attributes` being psa-crypto's `Attributes`
//!   through its serde derive. bincode 2's `config::legacy()` is that format.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE;
use psec_interface::psa_crypto::types::key::Attributes;
use psec_provider::{KeyInfo, KeyStoreError};
use serde::{Deserialize, Serialize};

use super::fs_util::storage;

/// Mapping files are a few hundred bytes; anything this big is not one.
pub(super) const MAX_FILE_LEN: usize = 64 * 1024;

/// Parsec's `KeyInfo`, field for field (the order is the format).
#[derive(Serialize, Deserialize)]
struct ParsecKeyInfo {
    id: Vec<u8>,
    attributes: Attributes,
}

/// The same, borrowed, for writing.
#[derive(Serialize)]
struct ParsecKeyInfoRef<'a> {
    id: &'a [u8],
    attributes: &'a Attributes,
}

fn config() -> impl bincode::config::Config {
    bincode::config::legacy().with_limit::<MAX_FILE_LEN>()
}

/// Encodes a key info as Parsec writes it.
pub(super) fn encode_key_info(info: &KeyInfo) -> Result<Vec<u8>, KeyStoreError> {
    let parsec = ParsecKeyInfoRef {
        id: &info.backend_id,
        attributes: &info.attributes,
    };
    bincode::serde::encode_to_vec(parsec, config()).map_err(storage)
}

/// Decodes a key info written by Parsec (or [`encode_key_info`]); `what`
/// names the file in the error.
pub(super) fn decode_key_info(bytes: &[u8], what: &str) -> Result<KeyInfo, KeyStoreError> {
    let (parsec, read): (ParsecKeyInfo, usize) = bincode::serde::decode_from_slice(bytes, config())
        .map_err(|error| KeyStoreError::Corrupt(format!("{what}: {error}")))?;
    if read != bytes.len() {
        return Err(KeyStoreError::Corrupt(format!(
            "{what}: {} bytes after the key info",
            bytes.len() - read
        )));
    }
    Ok(KeyInfo {
        backend_id: parsec.id,
        attributes: parsec.attributes,
    })
}

/// The file or directory name Parsec gives an application or key name.
pub(super) fn encode_name(name: &str) -> String {
    URL_SAFE.encode(name.as_bytes())
}

/// The application or key name behind a file or directory name; `what`
/// names the entry in the error.
pub(super) fn decode_name(encoded: &str, what: &str) -> Result<String, KeyStoreError> {
    let bytes = URL_SAFE
        .decode(encoded)
        .map_err(|error| KeyStoreError::Corrupt(format!("{what}: name {encoded:?}: {error}")))?;
    String::from_utf8(bytes)
        .map_err(|error| KeyStoreError::Corrupt(format!("{what}: name {encoded:?}: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{attributes, parsec_fixture_bytes};

    #[test]
    fn key_info_encoding_is_bincode_1_byte_for_byte() {
        let info = KeyInfo {
            backend_id: vec![0x11, 0x22, 0x33, 0x44],
            attributes: attributes(),
        };
        assert_eq!(encode_key_info(&info).unwrap(), parsec_fixture_bytes());
        assert_eq!(
            decode_key_info(&parsec_fixture_bytes(), "fixture").unwrap(),
            info
        );
    }

    #[test]
    fn truncated_or_padded_key_info_is_corrupt() {
        let bytes = parsec_fixture_bytes();
        let short = &bytes[..bytes.len() - 1];
        assert!(matches!(
            decode_key_info(short, "short"),
            Err(KeyStoreError::Corrupt(_))
        ));
        let mut long = bytes.clone();
        long.push(0);
        assert!(matches!(
            decode_key_info(&long, "long"),
            Err(KeyStoreError::Corrupt(_))
        ));
        // A huge length prefix is refused, not allocated.
        let mut huge = bytes;
        huge[..8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(
            decode_key_info(&huge, "huge"),
            Err(KeyStoreError::Corrupt(_))
        ));
    }

    #[test]
    fn names_are_padded_url_safe_base64() {
        assert_eq!(encode_name("ab?"), "YWI_");
        assert_eq!(encode_name("a"), "YQ==");
        assert_eq!(decode_name("YWI_", "t").unwrap(), "ab?");
        assert!(matches!(
            decode_name("YQ", "t"),
            Err(KeyStoreError::Corrupt(_))
        ));
        assert!(matches!(
            decode_name("_w==", "t"),
            Err(KeyStoreError::Corrupt(_))
        ));
    }
}
