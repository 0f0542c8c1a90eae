//! The DER of PSA key formats and PKCS#11 attributes, read and written by
//! RustCrypto's `pkcs1` and `der`: PKCS#1 `RSAPublicKey` and
//! `RSAPrivateKey`, OCTET STRING (PKCS#11 wraps an EC point in one), and
//! the named-curve OIDs of `CKA_EC_PARAMS`. Reading is strict DER: no
//! trailing bytes, no negative or non-minimal INTEGERs, definite lengths.

use der::asn1::{ObjectIdentifier, OctetStringRef, UintRef};
use der::{Decode, Encode};
use psec_provider::ProviderError;
use zeroize::Zeroizing;

/// NIST P-256 (secp256r1).
pub(crate) const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
/// NIST P-384 (secp384r1).
pub(crate) const P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
/// NIST P-521 (secp521r1).
pub(crate) const P521: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");

fn invalid(error: der::Error) -> ProviderError {
    ProviderError::InvalidArgument(format!("malformed key data: {error}"))
}

/// An unsigned big-endian number (leading zeros allowed, empty is zero).
fn uint(number: &[u8]) -> Result<UintRef<'_>, ProviderError> {
    UintRef::new(if number.is_empty() { &[0] } else { number }).map_err(invalid)
}

/// A number as the token takes it: no leading zeros, zero as empty.
fn magnitude(number: UintRef<'_>) -> Vec<u8> {
    match number.as_bytes() {
        [0] => Vec::new(),
        bytes => bytes.to_vec(),
    }
}

/// `CKA_EC_PARAMS` of a named curve: its OID in DER.
pub(crate) fn ec_params(curve: &ObjectIdentifier) -> Result<Vec<u8>, ProviderError> {
    curve.to_der().map_err(invalid)
}

/// PKCS#1 `RSAPublicKey`: the format PSA exports RSA public keys in.
pub(crate) fn rsa_public_key(modulus: &[u8], exponent: &[u8]) -> Result<Vec<u8>, ProviderError> {
    pkcs1::RsaPublicKey {
        modulus: uint(modulus)?,
        public_exponent: uint(exponent)?,
    }
    .to_der()
    .map_err(invalid)
}

/// Modulus and public exponent of a PKCS#1 `RSAPublicKey`, without
/// leading zeros; the modulus is not zero.
pub(crate) fn parse_rsa_public_key(data: &[u8]) -> Result<(Vec<u8>, Vec<u8>), ProviderError> {
    let key = pkcs1::RsaPublicKey::from_der(data).map_err(invalid)?;
    let modulus = magnitude(key.modulus);
    if modulus.is_empty() {
        return Err(ProviderError::InvalidArgument(
            "malformed key data: the RSA modulus is zero".to_owned(),
        ));
    }
    Ok((modulus, magnitude(key.public_exponent)))
}

/// The numbers of a PKCS#1 `RSAPrivateKey` (two-prime), in order, without
/// leading zeros.
pub(crate) struct RsaPrivateKey {
    pub(crate) modulus: Vec<u8>,
    pub(crate) public_exponent: Vec<u8>,
    pub(crate) private_exponent: Vec<u8>,
    pub(crate) prime1: Vec<u8>,
    pub(crate) prime2: Vec<u8>,
    pub(crate) exponent1: Vec<u8>,
    pub(crate) exponent2: Vec<u8>,
    pub(crate) coefficient: Vec<u8>,
}

impl Drop for RsaPrivateKey {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.private_exponent.zeroize();
        self.prime1.zeroize();
        self.prime2.zeroize();
        self.exponent1.zeroize();
        self.exponent2.zeroize();
        self.coefficient.zeroize();
    }
}

/// Reads a PKCS#1 `RSAPrivateKey`: the format PSA imports RSA key pairs in.
pub(crate) fn parse_rsa_private_key(data: &[u8]) -> Result<RsaPrivateKey, ProviderError> {
    let key = pkcs1::RsaPrivateKey::from_der(data).map_err(invalid)?;
    if key.version() != pkcs1::Version::TwoPrime {
        return Err(ProviderError::InvalidArgument(
            "malformed key data: only two-prime RSA keys (version 0) are supported".to_owned(),
        ));
    }
    Ok(RsaPrivateKey {
        modulus: magnitude(key.modulus),
        public_exponent: magnitude(key.public_exponent),
        private_exponent: magnitude(key.private_exponent),
        prime1: magnitude(key.prime1),
        prime2: magnitude(key.prime2),
        exponent1: magnitude(key.exponent1),
        exponent2: magnitude(key.exponent2),
        coefficient: magnitude(key.coefficient),
    })
}

/// Writes a PKCS#1 `RSAPrivateKey` (two-prime).
pub(crate) fn rsa_private_key(key: &RsaPrivateKey) -> Result<Zeroizing<Vec<u8>>, ProviderError> {
    pkcs1::RsaPrivateKey {
        modulus: uint(&key.modulus)?,
        public_exponent: uint(&key.public_exponent)?,
        private_exponent: uint(&key.private_exponent)?,
        prime1: uint(&key.prime1)?,
        prime2: uint(&key.prime2)?,
        exponent1: uint(&key.exponent1)?,
        exponent2: uint(&key.exponent2)?,
        coefficient: uint(&key.coefficient)?,
        other_prime_infos: None,
    }
    .to_der()
    .map(Zeroizing::new)
    .map_err(invalid)
}

/// `data` as a DER OCTET STRING (how `CKA_EC_POINT` holds a point).
pub(crate) fn octet_string(data: &[u8]) -> Result<Vec<u8>, ProviderError> {
    OctetStringRef::new(data)
        .and_then(|octets| octets.to_der())
        .map_err(invalid)
}

/// The content of a DER OCTET STRING; the data itself if it is not one
/// (some tokens give `CKA_EC_POINT` raw).
pub(crate) fn unwrap_octet_string(data: &[u8]) -> &[u8] {
    match OctetStringRef::from_der(data) {
        Ok(octets) => octets.as_bytes(),
        Err(_) => data,
    }
}

/// The number of significant bits of an unsigned big-endian number.
pub(crate) fn bit_length(number: &[u8]) -> usize {
    let skip = number.iter().take_while(|b| **b == 0).count();
    match number.get(skip..) {
        Some([first, rest @ ..]) => rest.len() * 8 + (8 - first.leading_zeros() as usize),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test fails by panicking")]
    use super::*;

    fn is_invalid_argument(result: Result<impl Sized, ProviderError>) -> bool {
        matches!(result, Err(ProviderError::InvalidArgument(_)))
    }

    #[test]
    fn rsa_public_keys_round_trip_with_sign_bytes_added_and_removed() {
        let modulus = [0xc0u8; 256];
        let der = rsa_public_key(&modulus, &[1, 0, 1]).unwrap();
        assert_eq!(&der[..4], &[0x30, 0x82, 0x01, 0x0a]);
        assert_eq!(&der[4..8], &[0x02, 0x82, 0x01, 0x01]);
        let (n, e) = parse_rsa_public_key(&der).unwrap();
        assert_eq!(n, modulus);
        assert_eq!(e, [1, 0, 1]);
    }

    #[test]
    fn numbers_from_the_token_are_written_minimal_and_zero_as_one_byte() {
        let der = rsa_public_key(&[0, 0, 0x01, 0x02], &[]).unwrap();
        assert_eq!(der, [0x30, 0x07, 0x02, 0x02, 0x01, 0x02, 0x02, 0x01, 0x00]);
        let (n, e) = parse_rsa_public_key(&der).unwrap();
        assert_eq!((n.as_slice(), e.as_slice()), (&[1u8, 2][..], &[][..]));
    }

    #[test]
    fn malformed_der_is_an_invalid_argument() {
        let good = rsa_public_key(&[0xc5; 128], &[1, 0, 1]).unwrap();
        let mut trailing = good.clone();
        trailing.push(0);
        for data in [
            &[][..],
            &[0x30, 0x05, 0x02],
            &[0x31, 0x00],
            // A negative modulus.
            &[0x30, 0x03, 0x02, 0x01, 0x80],
            &[0x30, 0x06, 0x02, 0x01, 0x80, 0x02, 0x01, 0x03],
            // A zero modulus.
            &[0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x03],
            // A non-minimal INTEGER (a needless leading zero): BER, not DER.
            &[0x30, 0x07, 0x02, 0x02, 0x00, 0x05, 0x02, 0x01, 0x03],
            // A non-minimal length: BER, not DER.
            &[0x30, 0x81, 0x06, 0x02, 0x01, 0x05, 0x02, 0x01, 0x03],
            // An indefinite length: BER, not DER.
            &[0x30, 0x80, 0x02, 0x01, 0x05, 0x02, 0x01, 0x03, 0x00, 0x00],
            // A third INTEGER.
            &[
                0x30, 0x09, 0x02, 0x01, 0x05, 0x02, 0x01, 0x03, 0x02, 0x01, 0x01,
            ],
            &good[..good.len() - 1],
            &trailing,
        ] {
            assert!(
                is_invalid_argument(parse_rsa_public_key(data)),
                "{data:02x?}"
            );
        }
    }

    fn small_private_key() -> RsaPrivateKey {
        RsaPrivateKey {
            modulus: vec![0xc5; 64],
            public_exponent: vec![1, 0, 1],
            private_exponent: vec![0x11; 64],
            prime1: vec![0xe1; 32],
            prime2: vec![0xd3; 32],
            exponent1: vec![0x21; 32],
            exponent2: vec![0x31; 32],
            coefficient: vec![0x41; 32],
        }
    }

    #[test]
    fn rsa_private_keys_round_trip() {
        let der = rsa_private_key(&small_private_key()).unwrap();
        // SEQUENCE, then version 0.
        assert_eq!(&der[..2], &[0x30, 0x82]);
        assert_eq!(&der[4..7], &[0x02, 0x01, 0x00]);
        let key = parse_rsa_private_key(&der).unwrap();
        let expected = small_private_key();
        assert_eq!(key.modulus, expected.modulus);
        assert_eq!(key.private_exponent, expected.private_exponent);
        assert_eq!(key.coefficient, expected.coefficient);
        assert!(is_invalid_argument(parse_rsa_private_key(
            &der[..der.len() - 1]
        )));
    }

    #[test]
    fn multi_prime_and_trailing_rsa_private_keys_are_invalid_arguments() {
        let der = rsa_private_key(&small_private_key()).unwrap();
        // Version 1 (multi-prime) with no otherPrimeInfos.
        let mut multi = der.to_vec();
        multi[6] = 1;
        assert!(is_invalid_argument(parse_rsa_private_key(&multi)));
        let mut trailing = der.to_vec();
        trailing.push(0);
        assert!(is_invalid_argument(parse_rsa_private_key(&trailing)));
    }

    #[test]
    fn curve_params_are_the_der_oids() {
        assert_eq!(
            ec_params(&P256).unwrap(),
            [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]
        );
        assert_eq!(
            ec_params(&P384).unwrap(),
            [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22]
        );
        assert_eq!(
            ec_params(&P521).unwrap(),
            [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23]
        );
    }

    #[test]
    fn octet_strings_wrap_and_unwrap() {
        let point = [4u8; 133];
        let wrapped = octet_string(&point).unwrap();
        assert_eq!(&wrapped[..3], &[0x04, 0x81, 133]);
        assert_eq!(unwrap_octet_string(&wrapped), point);
        assert_eq!(unwrap_octet_string(&point[..65]), &point[..65]);
        let mut trailing = wrapped.clone();
        trailing.push(0);
        assert_eq!(unwrap_octet_string(&trailing), trailing);
    }

    #[test]
    fn bit_lengths_ignore_leading_zeros() {
        assert_eq!(bit_length(&[0, 0x80, 0]), 16);
        assert_eq!(bit_length(&[0x01, 0xff]), 9);
        assert_eq!(bit_length(&[0]), 0);
    }
}
