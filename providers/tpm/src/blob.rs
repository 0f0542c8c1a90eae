//! What the key store keeps of a key (its backend id): the key pair
//! wrapped by the TPM, or a lone public key, in a small versioned encoding.
//! And the conversions between TPM public areas and the PSA public key
//! formats (DER RSAPublicKey; uncompressed EC point).
//!
//! Backend id layout, every length a big-endian `u16`:
//!
//! | kind | bytes that follow |
//! |---|---|
//! | 1, key pair | parent name, TPM2B public area, TPM2B private (wrapped) area |
//! | 2, public key | TPM2B public area |

use psec_provider::{ProviderError, Result};
use tss_esapi::structures::{Private, Public};
use tss_esapi::traits::{Marshall, UnMarshall};

const PAIR: u8 = 1;
const PUBLIC: u8 = 2;

/// A key as the key store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyBlob {
    /// A key pair made by the TPM, wrapped under the storage primary key.
    Pair {
        /// The TPM name of the primary key it was made under.
        parent_name: Vec<u8>,
        public: Public,
        private: Private,
    },
    /// A public key imported by an application.
    Public { public: Public },
}

fn corrupt(what: &str) -> ProviderError {
    ProviderError::KeyStore(psec_provider::KeyStoreError::Corrupt(format!(
        "TPM key blob: {what}"
    )))
}

fn put(out: &mut Vec<u8>, field: &[u8]) -> Result<()> {
    let len = u16::try_from(field.len()).map_err(|_| corrupt("field longer than 64 KiB"))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(field);
    Ok(())
}

fn take<'a>(input: &mut &'a [u8]) -> Result<&'a [u8]> {
    let (len, rest) = input
        .split_first_chunk::<2>()
        .ok_or_else(|| corrupt("truncated length"))?;
    let len = usize::from(u16::from_be_bytes(*len));
    if rest.len() < len {
        return Err(corrupt("truncated field"));
    }
    let (field, rest) = rest.split_at(len);
    *input = rest;
    Ok(field)
}

fn marshalled(public: &Public) -> Result<Vec<u8>> {
    public
        .marshall()
        .map_err(|error| corrupt(&format!("public area: {error}")))
}

impl KeyBlob {
    /// The public area.
    pub(crate) fn public(&self) -> &Public {
        match self {
            KeyBlob::Pair { public, .. } | KeyBlob::Public { public } => public,
        }
    }

    /// The backend id the key store keeps.
    pub(crate) fn to_backend_id(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        match self {
            KeyBlob::Pair {
                parent_name,
                public,
                private,
            } => {
                out.push(PAIR);
                put(&mut out, parent_name)?;
                put(&mut out, &marshalled(public)?)?;
                put(&mut out, private.value())?;
            }
            KeyBlob::Public { public } => {
                out.push(PUBLIC);
                put(&mut out, &marshalled(public)?)?;
            }
        }
        Ok(out)
    }

    /// Reads a backend id back.
    pub(crate) fn from_backend_id(backend_id: &[u8]) -> Result<Self> {
        let (&kind, mut rest) = backend_id
            .split_first()
            .ok_or_else(|| corrupt("empty backend id"))?;
        let public = |field: &[u8]| {
            Public::unmarshall(field).map_err(|error| corrupt(&format!("public area: {error}")))
        };
        let blob = match kind {
            PAIR => {
                let parent_name = take(&mut rest)?.to_vec();
                let public = public(take(&mut rest)?)?;
                let private = Private::try_from(take(&mut rest)?.to_vec())
                    .map_err(|error| corrupt(&format!("private area: {error}")))?;
                KeyBlob::Pair {
                    parent_name,
                    public,
                    private,
                }
            }
            PUBLIC => KeyBlob::Public {
                public: public(take(&mut rest)?)?,
            },
            other => return Err(corrupt(&format!("unknown kind {other}"))),
        };
        if rest.is_empty() {
            Ok(blob)
        } else {
            Err(corrupt("trailing bytes"))
        }
    }
}

/// DER: a length.
pub(crate) fn der_length(out: &mut Vec<u8>, len: usize) {
    match u8::try_from(len) {
        Ok(short) if short < 0x80 => out.push(short),
        _ => {
            let bytes = len.to_be_bytes();
            let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
            let significant = bytes.get(first..).unwrap_or_default();
            // At most size_of::<usize>() bytes.
            let count = u8::try_from(significant.len()).unwrap_or(u8::MAX);
            out.push(0x80 | count);
            out.extend_from_slice(significant);
        }
    }
}

/// DER: a non-negative INTEGER from big-endian bytes.
pub(crate) fn der_unsigned(out: &mut Vec<u8>, value: &[u8]) {
    let start = value.iter().position(|&b| b != 0).unwrap_or(value.len());
    let value = value.get(start..).unwrap_or_default();
    let pad = value.first().is_none_or(|&b| b & 0x80 != 0);
    out.push(0x02);
    der_length(out, value.len() + usize::from(pad));
    if pad {
        out.push(0);
    }
    out.extend_from_slice(value);
}

/// The DER RSAPublicKey (PKCS#1) of `modulus` and `exponent`.
pub(crate) fn rsa_public_key_der(modulus: &[u8], exponent: u32) -> Vec<u8> {
    let mut body = Vec::new();
    der_unsigned(&mut body, modulus);
    der_unsigned(&mut body, &exponent.to_be_bytes());
    let mut out = vec![0x30];
    der_length(&mut out, body.len());
    out.extend_from_slice(&body);
    out
}

/// DER: reads one element of tag `tag`, returns its contents.
fn der_read<'a>(input: &mut &'a [u8], tag: u8) -> Option<&'a [u8]> {
    let (&found, rest) = input.split_first()?;
    if found != tag {
        return None;
    }
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 {
            return None;
        }
        let (bytes, after) = rest.split_at_checked(count)?;
        rest = after;
        bytes
            .iter()
            .fold(0usize, |len, &b| (len << 8) | usize::from(b))
    };
    let (contents, after) = rest.split_at_checked(len)?;
    *input = after;
    Some(contents)
}

/// The modulus (without leading zeros) and exponent of a DER RSAPublicKey.
pub(crate) fn parse_rsa_public_key_der(der: &[u8]) -> Option<(Vec<u8>, u32)> {
    let mut input = der;
    let mut sequence = der_read(&mut input, 0x30)?;
    if !input.is_empty() {
        return None;
    }
    let modulus = der_read(&mut sequence, 0x02)?;
    let exponent = der_read(&mut sequence, 0x02)?;
    if !sequence.is_empty() || modulus.first().is_none_or(|&b| b & 0x80 != 0) {
        return None;
    }
    let start = modulus.iter().position(|&b| b != 0)?;
    let exponent_start = exponent.iter().position(|&b| b != 0)?;
    let exponent = exponent.get(exponent_start..)?;
    if exponent.len() > 4 {
        return None;
    }
    let exponent = exponent.iter().fold(0u32, |e, &b| (e << 8) | u32::from(b));
    Some((modulus.get(start..)?.to_vec(), exponent))
}

/// `value` left-padded with zeros to `len` bytes (unchanged if longer).
pub(crate) fn left_pad(value: &[u8], len: usize) -> Vec<u8> {
    let mut out = vec![0; len.saturating_sub(value.len())];
    out.extend_from_slice(value);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsa_public_keys_round_trip_through_der() {
        let modulus = [0xc5u8; 256];
        let der = rsa_public_key_der(&modulus, 65537);
        assert_eq!(der.get(..4), Some(&[0x30, 0x82, 0x01, 0x0a][..]));
        assert_eq!(
            parse_rsa_public_key_der(&der),
            Some((modulus.to_vec(), 65537))
        );
        let small = rsa_public_key_der(&[0x01, 0x02], 3);
        assert_eq!(
            small,
            [0x30, 0x07, 0x02, 0x02, 0x01, 0x02, 0x02, 0x01, 0x03]
        );
    }

    #[test]
    fn malformed_der_is_refused() {
        let der = rsa_public_key_der(&[0xc5; 256], 65537);
        for bad in [
            &der[..der.len() - 1],
            &[0x31, 0x00][..],
            &[][..],
            &[0x30, 0x03, 0x02, 0x01, 0x80][..],
        ] {
            assert_eq!(parse_rsa_public_key_der(bad), None, "{bad:02x?}");
        }
        let mut trailing = der.clone();
        trailing.push(0);
        assert_eq!(parse_rsa_public_key_der(&trailing), None);
    }

    #[test]
    fn a_corrupt_backend_id_is_a_key_store_error() {
        for bad in [&[][..], &[9][..], &[2, 0, 5, 1][..]] {
            let error = KeyBlob::from_backend_id(bad).unwrap_err();
            assert!(matches!(error, ProviderError::KeyStore(_)), "{error}");
        }
    }

    #[test]
    fn left_pad_pads_to_the_length() {
        assert_eq!(left_pad(&[1, 2], 4), [0, 0, 1, 2]);
        assert_eq!(left_pad(&[1, 2, 3], 2), [1, 2, 3]);
    }
}
