//! The few DER structures PSA key formats and PKCS#11 attributes need:
//! PKCS#1 `RSAPublicKey` and `RSAPrivateKey`, OCTET STRING (PKCS#11 wraps
//! an EC point in one), and the named-curve OIDs of `CKA_EC_PARAMS`.

use psec_provider::ProviderError;

const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;
const SEQUENCE: u8 = 0x30;

/// `CKA_EC_PARAMS` of P-256 (OID 1.2.840.10045.3.1.7).
pub(crate) const P256_PARAMS: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// `CKA_EC_PARAMS` of P-384 (OID 1.3.132.0.34).
pub(crate) const P384_PARAMS: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
/// `CKA_EC_PARAMS` of P-521 (OID 1.3.132.0.35).
pub(crate) const P521_PARAMS: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23];

fn invalid(what: &str) -> ProviderError {
    ProviderError::InvalidArgument(format!("malformed key data: {what}"))
}

/// Appends a tag, a DER length and the content.
fn push_tlv(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(u8::try_from(len).unwrap_or(0x7f));
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        let significant = bytes.get(skip..).unwrap_or_default();
        out.push(0x80 | u8::try_from(significant.len()).unwrap_or(0));
        out.extend_from_slice(significant);
    }
    out.extend_from_slice(content);
}

/// An unsigned big-endian number as a DER INTEGER.
fn push_unsigned(out: &mut Vec<u8>, number: &[u8]) {
    let skip = number.iter().take_while(|b| **b == 0).count();
    let digits = number.get(skip..).unwrap_or_default();
    let mut content = Vec::with_capacity(digits.len() + 1);
    if digits.first().is_none_or(|first| first & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(digits);
    push_tlv(out, INTEGER, &content);
}

/// A SEQUENCE of unsigned INTEGERs.
fn integer_sequence(numbers: &[&[u8]]) -> Vec<u8> {
    let mut content = Vec::new();
    for number in numbers {
        push_unsigned(&mut content, number);
    }
    let mut out = Vec::with_capacity(content.len() + 4);
    push_tlv(&mut out, SEQUENCE, &content);
    out
}

/// Reads one TLV of tag `tag` from the front of `data`; returns the
/// content and the rest.
fn read_tlv(data: &[u8], tag: u8) -> Result<(&[u8], &[u8]), ProviderError> {
    let (&found, rest) = data.split_first().ok_or_else(|| invalid("truncated"))?;
    if found != tag {
        return Err(invalid("unexpected tag"));
    }
    let (&first, rest) = rest.split_first().ok_or_else(|| invalid("truncated"))?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > size_of::<usize>() {
            return Err(invalid("bad length"));
        }
        let (len_bytes, rest) = rest
            .split_at_checked(count)
            .ok_or_else(|| invalid("truncated"))?;
        let len = len_bytes
            .iter()
            .fold(0usize, |len, byte| (len << 8) | usize::from(*byte));
        (len, rest)
    };
    rest.split_at_checked(len)
        .ok_or_else(|| invalid("truncated"))
}

/// The unsigned INTEGERs of a SEQUENCE, without leading zero bytes.
fn read_integer_sequence(data: &[u8]) -> Result<Vec<Vec<u8>>, ProviderError> {
    let (mut content, rest) = read_tlv(data, SEQUENCE)?;
    if !rest.is_empty() {
        return Err(invalid("trailing bytes"));
    }
    let mut numbers = Vec::new();
    while !content.is_empty() {
        let (number, rest) = read_tlv(content, INTEGER)?;
        if number.first().is_some_and(|first| first & 0x80 != 0) {
            return Err(invalid("negative integer"));
        }
        let skip = number.iter().take_while(|b| **b == 0).count();
        numbers.push(number.get(skip..).unwrap_or_default().to_vec());
        content = rest;
    }
    Ok(numbers)
}

/// PKCS#1 `RSAPublicKey`: the format PSA exports RSA public keys in.
pub(crate) fn rsa_public_key(modulus: &[u8], exponent: &[u8]) -> Vec<u8> {
    integer_sequence(&[modulus, exponent])
}

/// Modulus and public exponent of a PKCS#1 `RSAPublicKey`.
pub(crate) fn parse_rsa_public_key(data: &[u8]) -> Result<(Vec<u8>, Vec<u8>), ProviderError> {
    let mut numbers = read_integer_sequence(data)?.into_iter();
    match (numbers.next(), numbers.next(), numbers.next()) {
        (Some(modulus), Some(exponent), None) if !modulus.is_empty() => Ok((modulus, exponent)),
        _ => Err(invalid("an RSAPublicKey has two integers")),
    }
}

/// The numbers of a PKCS#1 `RSAPrivateKey` (two-prime), in order.
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
    let numbers = zeroize::Zeroizing::new(read_integer_sequence(data)?);
    let [version, n, e, d, p, q, dp, dq, qinv] = numbers.as_slice() else {
        return Err(invalid("an RSAPrivateKey has nine integers"));
    };
    if !version.is_empty() {
        return Err(invalid("only two-prime RSA keys (version 0) are supported"));
    }
    Ok(RsaPrivateKey {
        modulus: n.clone(),
        public_exponent: e.clone(),
        private_exponent: d.clone(),
        prime1: p.clone(),
        prime2: q.clone(),
        exponent1: dp.clone(),
        exponent2: dq.clone(),
        coefficient: qinv.clone(),
    })
}

/// Writes a PKCS#1 `RSAPrivateKey`.
pub(crate) fn rsa_private_key(key: &RsaPrivateKey) -> zeroize::Zeroizing<Vec<u8>> {
    zeroize::Zeroizing::new(integer_sequence(&[
        &[],
        &key.modulus,
        &key.public_exponent,
        &key.private_exponent,
        &key.prime1,
        &key.prime2,
        &key.exponent1,
        &key.exponent2,
        &key.coefficient,
    ]))
}

/// `data` as a DER OCTET STRING (how `CKA_EC_POINT` holds a point).
pub(crate) fn octet_string(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 4);
    push_tlv(&mut out, OCTET_STRING, data);
    out
}

/// The content of a DER OCTET STRING; the data itself if it is not one
/// (some tokens give `CKA_EC_POINT` raw).
pub(crate) fn unwrap_octet_string(data: &[u8]) -> &[u8] {
    match read_tlv(data, OCTET_STRING) {
        Ok((content, [])) => content,
        _ => data,
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

    #[test]
    fn rsa_public_keys_round_trip_with_sign_bytes_added_and_removed() {
        let modulus = [0xc0u8; 256];
        let der = rsa_public_key(&modulus, &[1, 0, 1]);
        assert_eq!(&der[..4], &[0x30, 0x82, 0x01, 0x0a]);
        assert_eq!(&der[4..8], &[0x02, 0x82, 0x01, 0x01]);
        let (n, e) = parse_rsa_public_key(&der).unwrap();
        assert_eq!(n, modulus);
        assert_eq!(e, [1, 0, 1]);
    }

    #[test]
    fn malformed_der_is_an_invalid_argument() {
        for data in [
            &[][..],
            &[0x30, 0x05, 0x02],
            &[0x31, 0x00],
            &[0x30, 0x03, 0x02, 0x01, 0x80],
        ] {
            let error = parse_rsa_public_key(data).unwrap_err();
            assert!(
                matches!(error, ProviderError::InvalidArgument(_)),
                "{error}"
            );
        }
    }

    #[test]
    fn octet_strings_wrap_and_unwrap() {
        let point = [4u8; 133];
        let wrapped = octet_string(&point);
        assert_eq!(&wrapped[..3], &[0x04, 0x81, 133]);
        assert_eq!(unwrap_octet_string(&wrapped), point);
        assert_eq!(unwrap_octet_string(&point[..65]), &point[..65]);
    }

    #[test]
    fn bit_lengths_ignore_leading_zeros() {
        assert_eq!(bit_length(&[0, 0x80, 0]), 16);
        assert_eq!(bit_length(&[0x01, 0xff]), 9);
        assert_eq!(bit_length(&[0]), 0);
    }
}
