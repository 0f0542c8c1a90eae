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

use der::asn1::UintRef;
use der::{Decode, Encode};
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

fn not_rsa_public_key(error: der::Error) -> ProviderError {
    ProviderError::InvalidArgument(format!("the data is not a DER RSAPublicKey: {error}"))
}

/// The DER RSAPublicKey (PKCS#1) of `modulus` and `exponent`.
pub(crate) fn rsa_public_key_der(modulus: &[u8], exponent: u32) -> Result<Vec<u8>> {
    let exponent = exponent.to_be_bytes();
    pkcs1::RsaPublicKey {
        modulus: UintRef::new(modulus).map_err(not_rsa_public_key)?,
        public_exponent: UintRef::new(&exponent).map_err(not_rsa_public_key)?,
    }
    .to_der()
    .map_err(not_rsa_public_key)
}

/// The modulus (without leading zeros) and exponent of a DER
/// RSAPublicKey; neither may be zero, and the exponent fits 32 bits.
pub(crate) fn parse_rsa_public_key_der(der: &[u8]) -> Result<(Vec<u8>, u32)> {
    let key = pkcs1::RsaPublicKey::from_der(der).map_err(not_rsa_public_key)?;
    let invalid = |what: &str| {
        ProviderError::InvalidArgument(format!("the data is not a DER RSAPublicKey: {what}"))
    };
    let (modulus, exponent) = (key.modulus.as_bytes(), key.public_exponent.as_bytes());
    if modulus == [0] || exponent == [0] {
        return Err(invalid("a zero modulus or exponent"));
    }
    let exponent = <[u8; 4]>::try_from(left_pad(exponent, 4).as_slice())
        .map_err(|_| invalid("the exponent is longer than 32 bits"))?;
    Ok((modulus.to_vec(), u32::from_be_bytes(exponent)))
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
        let der = rsa_public_key_der(&modulus, 65537).unwrap();
        assert_eq!(der.get(..4), Some(&[0x30, 0x82, 0x01, 0x0a][..]));
        assert_eq!(
            parse_rsa_public_key_der(&der).unwrap(),
            (modulus.to_vec(), 65537)
        );
        let small = rsa_public_key_der(&[0x00, 0x01, 0x02], 3).unwrap();
        assert_eq!(
            small,
            [0x30, 0x07, 0x02, 0x02, 0x01, 0x02, 0x02, 0x01, 0x03]
        );
    }

    #[test]
    fn malformed_der_is_an_invalid_argument() {
        let der = rsa_public_key_der(&[0xc5; 256], 65537).unwrap();
        let mut trailing = der.clone();
        trailing.push(0);
        for bad in [
            &der[..der.len() - 1],
            &trailing,
            &[0x31, 0x00][..],
            &[][..],
            // A negative modulus.
            &[0x30, 0x03, 0x02, 0x01, 0x80][..],
            &[0x30, 0x06, 0x02, 0x01, 0x80, 0x02, 0x01, 0x03][..],
            // A zero modulus, a zero exponent.
            &[0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x03][..],
            &[0x30, 0x06, 0x02, 0x01, 0x05, 0x02, 0x01, 0x00][..],
            // An exponent of 33 bits.
            &[0x30, 0x0a, 0x02, 0x01, 0x05, 0x02, 0x05, 0x01, 0, 0, 0, 1][..],
            // A needless leading zero, a long-form short length, an
            // indefinite length: BER, not DER.
            &[0x30, 0x07, 0x02, 0x02, 0x00, 0x05, 0x02, 0x01, 0x03][..],
            &[0x30, 0x81, 0x06, 0x02, 0x01, 0x05, 0x02, 0x01, 0x03][..],
            &[0x30, 0x80, 0x02, 0x01, 0x05, 0x02, 0x01, 0x03, 0x00, 0x00][..],
        ] {
            let error = parse_rsa_public_key_der(bad).unwrap_err();
            assert!(
                matches!(error, ProviderError::InvalidArgument(_)),
                "{bad:02x?}: {error}"
            );
        }
    }

    #[test]
    fn a_32_bit_exponent_with_its_sign_byte_is_read() {
        let der = [
            0x30, 0x0a, 0x02, 0x01, 0x05, 0x02, 0x05, 0x00, 0xff, 0, 0, 1,
        ];
        assert_eq!(
            parse_rsa_public_key_der(&der).unwrap(),
            (vec![5], 0xff00_0001)
        );
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
