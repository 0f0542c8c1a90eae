//! Just enough DER and PEM for keys, signatures and CSRs: a TLV writer, a
//! TLV reader, and the conversions between the PSA key formats and the
//! standard containers (SubjectPublicKeyInfo, PKCS#8, PKCS#1, SEC1).

use anyhow::{Result, anyhow, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// DER tags used here.
pub(crate) mod tag {
    pub(crate) const INTEGER: u8 = 0x02;
    pub(crate) const BIT_STRING: u8 = 0x03;
    pub(crate) const OCTET_STRING: u8 = 0x04;
    pub(crate) const NULL: u8 = 0x05;
    pub(crate) const OID: u8 = 0x06;
    pub(crate) const UTF8_STRING: u8 = 0x0C;
    pub(crate) const PRINTABLE_STRING: u8 = 0x13;
    pub(crate) const SEQUENCE: u8 = 0x30;
    pub(crate) const SET: u8 = 0x31;
}

/// Object identifiers, as dotted arcs.
pub(crate) mod oid {
    pub(crate) const RSA_ENCRYPTION: &[u64] = &[1, 2, 840, 113_549, 1, 1, 1];
    pub(crate) const SHA256_WITH_RSA: &[u64] = &[1, 2, 840, 113_549, 1, 1, 11];
    pub(crate) const SHA384_WITH_RSA: &[u64] = &[1, 2, 840, 113_549, 1, 1, 12];
    pub(crate) const SHA512_WITH_RSA: &[u64] = &[1, 2, 840, 113_549, 1, 1, 13];
    pub(crate) const EC_PUBLIC_KEY: &[u64] = &[1, 2, 840, 10_045, 2, 1];
    pub(crate) const ECDSA_WITH_SHA256: &[u64] = &[1, 2, 840, 10_045, 4, 3, 2];
    pub(crate) const ECDSA_WITH_SHA384: &[u64] = &[1, 2, 840, 10_045, 4, 3, 3];
    pub(crate) const ECDSA_WITH_SHA512: &[u64] = &[1, 2, 840, 10_045, 4, 3, 4];
    pub(crate) const P256: &[u64] = &[1, 2, 840, 10_045, 3, 1, 7];
    pub(crate) const P384: &[u64] = &[1, 3, 132, 0, 34];
    pub(crate) const P521: &[u64] = &[1, 3, 132, 0, 35];
    pub(crate) const EXTENSION_REQUEST: &[u64] = &[1, 2, 840, 113_549, 1, 9, 14];
    pub(crate) const SUBJECT_ALT_NAME: &[u64] = &[2, 5, 29, 17];
}

/// One TLV with a one-byte tag.
pub(crate) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if let Some(short) = u8::try_from(len).ok().filter(|&l| l < 0x80) {
        out.push(short);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        let significant = bytes.get(skip..).unwrap_or_default();
        out.push(0x80 | u8::try_from(significant.len()).unwrap_or(0x7f));
        out.extend_from_slice(significant);
    }
    out.extend_from_slice(content);
    out
}

/// A SEQUENCE of already encoded parts.
pub(crate) fn sequence(parts: &[&[u8]]) -> Vec<u8> {
    tlv(tag::SEQUENCE, &parts.concat())
}

/// A SET of already encoded parts (callers give them in DER order).
pub(crate) fn set(parts: &[&[u8]]) -> Vec<u8> {
    tlv(tag::SET, &parts.concat())
}

/// An INTEGER holding the unsigned big-endian `magnitude`.
pub(crate) fn unsigned_integer(magnitude: &[u8]) -> Vec<u8> {
    let skip = magnitude.iter().take_while(|&&b| b == 0).count();
    let trimmed = magnitude.get(skip..).unwrap_or_default();
    let mut content = Vec::with_capacity(trimmed.len() + 1);
    if trimmed.first().is_none_or(|&b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(trimmed);
    tlv(tag::INTEGER, &content)
}

/// A BIT STRING with no unused bits.
pub(crate) fn bit_string(bytes: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(bytes.len() + 1);
    content.push(0);
    content.extend_from_slice(bytes);
    tlv(tag::BIT_STRING, &content)
}

/// The content octets of an OBJECT IDENTIFIER.
pub(crate) fn oid_content(arcs: &[u64]) -> Vec<u8> {
    let mut out = Vec::new();
    let (first, second) = (
        arcs.first().copied().unwrap_or(0),
        arcs.get(1).copied().unwrap_or(0),
    );
    let mut push_arc = |mut arc: u64| {
        let mut groups = vec![(arc & 0x7f) as u8];
        arc >>= 7;
        while arc > 0 {
            groups.push((arc & 0x7f) as u8 | 0x80);
            arc >>= 7;
        }
        out.extend(groups.iter().rev());
    };
    push_arc(first * 40 + second);
    for &arc in arcs.iter().skip(2) {
        push_arc(arc);
    }
    out
}

/// An OBJECT IDENTIFIER TLV.
pub(crate) fn oid(arcs: &[u64]) -> Vec<u8> {
    tlv(tag::OID, &oid_content(arcs))
}

/// An AlgorithmIdentifier: the OID and its parameters, if any.
pub(crate) fn algorithm(arcs: &[u64], params: Option<&[u8]>) -> Vec<u8> {
    match params {
        Some(p) => sequence(&[&oid(arcs), p]),
        None => sequence(&[&oid(arcs)]),
    }
}

/// A DER NULL.
pub(crate) fn null() -> Vec<u8> {
    tlv(tag::NULL, &[])
}

/// Reads TLVs one after the other from a buffer.
pub(crate) struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Reader { data }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The next TLV: its tag and content.
    pub(crate) fn any(&mut self) -> Result<(u8, &'a [u8])> {
        let truncated = || anyhow!("malformed DER: truncated");
        let (&tag, rest) = self.data.split_first().ok_or_else(truncated)?;
        let (&first, mut rest) = rest.split_first().ok_or_else(truncated)?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 4 {
                bail!("malformed DER: unsupported length encoding");
            }
            let (bytes, after) = rest.split_at_checked(count).ok_or_else(truncated)?;
            rest = after;
            bytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
        };
        let (content, after) = rest.split_at_checked(len).ok_or_else(truncated)?;
        self.data = after;
        Ok((tag, content))
    }

    /// The next TLV, which must have tag `expected`.
    pub(crate) fn expect(&mut self, expected: u8) -> Result<&'a [u8]> {
        let (tag, content) = self.any()?;
        if tag != expected {
            bail!("malformed DER: expected tag {expected:#04x}, found {tag:#04x}");
        }
        Ok(content)
    }

    /// The next TLV if it has tag `wanted`, else nothing consumed.
    pub(crate) fn optional(&mut self, wanted: u8) -> Result<Option<&'a [u8]>> {
        if self.data.first() == Some(&wanted) {
            self.expect(wanted).map(Some)
        } else {
            Ok(None)
        }
    }

    /// The contents of a BIT STRING with no unused bits.
    pub(crate) fn bit_string(&mut self) -> Result<&'a [u8]> {
        let content = self.expect(tag::BIT_STRING)?;
        match content.split_first() {
            Some((0, bits)) => Ok(bits),
            _ => bail!("malformed DER: a BIT STRING with unused bits"),
        }
    }
}

/// The only TLV of `der`, which must have tag `expected` and fill it.
pub(crate) fn whole(der: &[u8], expected: u8) -> Result<&[u8]> {
    let mut reader = Reader::new(der);
    let content = reader.expect(expected)?;
    if !reader.is_empty() {
        bail!("malformed DER: trailing data");
    }
    Ok(content)
}

/// An INTEGER's magnitude without leading zero bytes.
pub(crate) fn integer_magnitude(content: &[u8]) -> &[u8] {
    let skip = content.iter().take_while(|&&b| b == 0).count();
    content.get(skip..).unwrap_or_default()
}

/// Named curves the tool knows: OID and size in bits.
pub(crate) const CURVES: &[(&[u64], usize)] =
    &[(oid::P256, 256), (oid::P384, 384), (oid::P521, 521)];

/// The curve OID for a SECP R1 curve size.
pub(crate) fn curve_oid(bits: usize) -> Result<&'static [u64]> {
    CURVES
        .iter()
        .find(|(_, b)| *b == bits)
        .map(|(o, _)| *o)
        .ok_or_else(|| anyhow!("no named curve of {bits} bits is supported (P-256, P-384, P-521)"))
}

/// The size in bits of the curve with OID content `content`.
fn curve_bits(content: &[u8]) -> Result<usize> {
    CURVES
        .iter()
        .find(|(o, _)| oid_content(o) == content)
        .map(|(_, b)| *b)
        .ok_or_else(|| anyhow!("the key is on a curve psec does not support (P-256, P-384, P-521)"))
}

/// SubjectPublicKeyInfo of an RSA public key given as DER RSAPublicKey.
pub(crate) fn rsa_spki(rsa_public_key: &[u8]) -> Vec<u8> {
    sequence(&[
        &algorithm(oid::RSA_ENCRYPTION, Some(&null())),
        &bit_string(rsa_public_key),
    ])
}

/// SubjectPublicKeyInfo of an EC public key (uncompressed point).
pub(crate) fn ec_spki(bits: usize, point: &[u8]) -> Result<Vec<u8>> {
    let curve = oid(curve_oid(bits)?);
    Ok(sequence(&[
        &algorithm(oid::EC_PUBLIC_KEY, Some(&curve)),
        &bit_string(point),
    ]))
}

/// PKCS#8 PrivateKeyInfo of an RSA private key (DER RSAPrivateKey).
pub(crate) fn rsa_pkcs8(rsa_private_key: &[u8]) -> Vec<u8> {
    sequence(&[
        &unsigned_integer(&[0]),
        &algorithm(oid::RSA_ENCRYPTION, Some(&null())),
        &tlv(tag::OCTET_STRING, rsa_private_key),
    ])
}

/// PKCS#8 PrivateKeyInfo of an EC private key (the PSA raw scalar), with
/// the public point when known.
pub(crate) fn ec_pkcs8(bits: usize, scalar: &[u8], point: Option<&[u8]>) -> Result<Vec<u8>> {
    let curve = oid(curve_oid(bits)?);
    let mut ec_private_key = [unsigned_integer(&[1]), tlv(tag::OCTET_STRING, scalar)].concat();
    if let Some(point) = point {
        ec_private_key.extend(tlv(0xA1, &bit_string(point)));
    }
    Ok(sequence(&[
        &unsigned_integer(&[0]),
        &algorithm(oid::EC_PUBLIC_KEY, Some(&curve)),
        &tlv(tag::OCTET_STRING, &tlv(tag::SEQUENCE, &ec_private_key)),
    ]))
}

/// A key read from a PEM or DER file, in the PSA import format.
#[derive(Debug)]
pub(crate) enum ParsedKey {
    /// DER RSAPrivateKey and the modulus size in bits.
    RsaPrivate { der: Vec<u8>, bits: usize },
    /// DER RSAPublicKey and the modulus size in bits.
    RsaPublic { der: Vec<u8>, bits: usize },
    /// The private scalar, padded to the curve size.
    EcPrivate { scalar: Vec<u8>, bits: usize },
    /// The uncompressed point.
    EcPublic { point: Vec<u8>, bits: usize },
}

/// The modulus size in bits of an RSA key whose first INTEGER (after the
/// version for a private key) is the modulus.
fn rsa_bits(modulus: &[u8]) -> usize {
    let m = integer_magnitude(modulus);
    match m.first() {
        Some(&top) => m.len() * 8 - top.leading_zeros() as usize,
        None => 0,
    }
}

/// Parses an RSAPrivateKey.
fn parse_rsa_private(der: &[u8]) -> Result<ParsedKey> {
    let mut r = Reader::new(whole(der, tag::SEQUENCE)?);
    let version = r.expect(tag::INTEGER)?;
    if !integer_magnitude(version).is_empty() {
        bail!("unsupported RSAPrivateKey version (multi-prime keys are not supported)");
    }
    let modulus = r.expect(tag::INTEGER)?;
    for _ in 0..7 {
        let _ = r.expect(tag::INTEGER)?;
    }
    Ok(ParsedKey::RsaPrivate {
        der: der.to_vec(),
        bits: rsa_bits(modulus),
    })
}

/// Parses an RSAPublicKey.
fn parse_rsa_public(der: &[u8]) -> Result<ParsedKey> {
    let mut r = Reader::new(whole(der, tag::SEQUENCE)?);
    let modulus = r.expect(tag::INTEGER)?;
    let _exponent = r.expect(tag::INTEGER)?;
    if !r.is_empty() {
        bail!("malformed RSAPublicKey: trailing data");
    }
    Ok(ParsedKey::RsaPublic {
        der: der.to_vec(),
        bits: rsa_bits(modulus),
    })
}

/// Parses a SEC1 ECPrivateKey; `curve` is the size from outside (PKCS#8),
/// if known.
fn parse_sec1(der: &[u8], curve: Option<usize>) -> Result<ParsedKey> {
    let mut r = Reader::new(whole(der, tag::SEQUENCE)?);
    let version = r.expect(tag::INTEGER)?;
    if version != [1] {
        bail!("malformed ECPrivateKey: version is not 1");
    }
    let scalar = r.expect(tag::OCTET_STRING)?;
    let inner_curve = match r.optional(0xA0)? {
        Some(params) => Some(curve_bits(whole(params, tag::OID)?)?),
        None => None,
    };
    let bits = curve
        .or(inner_curve)
        .ok_or_else(|| anyhow!("the EC private key does not name its curve"))?;
    let len = bits.div_ceil(8);
    let magnitude = integer_magnitude(scalar);
    if magnitude.len() > len {
        bail!("the EC private key is longer than its curve");
    }
    let mut padded = vec![0u8; len - magnitude.len()];
    padded.extend_from_slice(magnitude);
    Ok(ParsedKey::EcPrivate {
        scalar: padded,
        bits,
    })
}

/// Parses a PKCS#8 PrivateKeyInfo.
fn parse_pkcs8(der: &[u8]) -> Result<ParsedKey> {
    let mut r = Reader::new(whole(der, tag::SEQUENCE)?);
    let _version = r.expect(tag::INTEGER)?;
    let mut alg = Reader::new(r.expect(tag::SEQUENCE)?);
    let alg_oid = alg.expect(tag::OID)?;
    let private = r.expect(tag::OCTET_STRING)?;
    if alg_oid == oid_content(oid::RSA_ENCRYPTION) {
        parse_rsa_private(private)
    } else if alg_oid == oid_content(oid::EC_PUBLIC_KEY) {
        let curve = curve_bits(alg.expect(tag::OID)?)?;
        parse_sec1(private, Some(curve))
    } else {
        bail!("the private key is neither RSA nor EC (only those can be imported)")
    }
}

/// Parses a SubjectPublicKeyInfo.
fn parse_spki(der: &[u8]) -> Result<ParsedKey> {
    let mut r = Reader::new(whole(der, tag::SEQUENCE)?);
    let mut alg = Reader::new(r.expect(tag::SEQUENCE)?);
    let alg_oid = alg.expect(tag::OID)?;
    let key = r.bit_string()?;
    if alg_oid == oid_content(oid::RSA_ENCRYPTION) {
        parse_rsa_public(key)
    } else if alg_oid == oid_content(oid::EC_PUBLIC_KEY) {
        let bits = curve_bits(alg.expect(tag::OID)?)?;
        if key.first() != Some(&0x04) || key.len() != 1 + 2 * bits.div_ceil(8) {
            bail!("the EC public key is not an uncompressed point of its curve");
        }
        Ok(ParsedKey::EcPublic {
            point: key.to_vec(),
            bits,
        })
    } else {
        bail!("the public key is neither RSA nor EC (only those can be imported)")
    }
}

/// Parses a key file: PEM (PKCS#8, PKCS#1, SEC1, SubjectPublicKeyInfo) or
/// the same structures in DER.
pub(crate) fn parse_key(input: &[u8]) -> Result<ParsedKey> {
    if let Some((label, der)) = pem_decode(input)? {
        return match label.as_str() {
            "PRIVATE KEY" => parse_pkcs8(&der),
            "RSA PRIVATE KEY" => parse_rsa_private(&der),
            "EC PRIVATE KEY" => parse_sec1(&der, None),
            "PUBLIC KEY" => parse_spki(&der),
            "RSA PUBLIC KEY" => parse_rsa_public(&der),
            "ENCRYPTED PRIVATE KEY" => bail!(
                "the key is encrypted; decrypt it first (openssl pkey -in KEY -out PLAIN.pem)"
            ),
            other => bail!("a PEM block of type `{other}` is not a key psec can import"),
        };
    }
    type Parser = fn(&[u8]) -> Result<ParsedKey>;
    let parsers: [Parser; 5] = [
        parse_pkcs8,
        parse_spki,
        parse_rsa_private,
        parse_rsa_public,
        |d| parse_sec1(d, None),
    ];
    parsers
        .iter()
        .find_map(|parse| parse(input).ok())
        .ok_or_else(|| {
            anyhow!(
                "the input is neither a PEM key nor a DER PKCS#8, SubjectPublicKeyInfo, PKCS#1 or SEC1 key"
            )
        })
}

/// PEM text of `der` with `label`.
pub(crate) fn pem_encode(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The first PEM block of `input`: its label and decoded contents. `None`
/// if the input has no `-----BEGIN` line (so it may be DER).
pub(crate) fn pem_decode(input: &[u8]) -> Result<Option<(String, Vec<u8>)>> {
    let Ok(text) = std::str::from_utf8(input) else {
        return Ok(None);
    };
    let Some(start) = text.find("-----BEGIN ") else {
        return Ok(None);
    };
    let rest = text.get(start + "-----BEGIN ".len()..).unwrap_or_default();
    let (label, rest) = rest
        .split_once("-----")
        .ok_or_else(|| anyhow!("malformed PEM: the BEGIN line is not closed"))?;
    let end_marker = format!("-----END {label}-----");
    let (body, _) = rest
        .split_once(&end_marker)
        .ok_or_else(|| anyhow!("malformed PEM: no `{end_marker}` line"))?;
    if body.contains(':') {
        bail!("malformed PEM: encrypted (Proc-Type) PEM is not supported; decrypt the key first");
    }
    let joined: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    let der = STANDARD
        .decode(joined)
        .map_err(|e| anyhow!("malformed PEM: the body is not base64 ({e})"))?;
    Ok(Some((label.to_string(), der)))
}

/// An ECDSA signature as the DER `Ecdsa-Sig-Value` from PSA's r || s.
pub(crate) fn ecdsa_raw_to_der(raw: &[u8]) -> Result<Vec<u8>> {
    if raw.len() % 2 != 0 || raw.is_empty() {
        bail!(
            "an ECDSA signature of odd length {} from the service",
            raw.len()
        );
    }
    let (r, s) = raw.split_at(raw.len() / 2);
    Ok(sequence(&[&unsigned_integer(r), &unsigned_integer(s)]))
}

/// PSA's r || s, each `half` bytes, from a DER `Ecdsa-Sig-Value`.
pub(crate) fn ecdsa_der_to_raw(der: &[u8], half: usize) -> Result<Vec<u8>> {
    let mut r = Reader::new(whole(der, tag::SEQUENCE)?);
    let mut out = Vec::with_capacity(2 * half);
    for _ in 0..2 {
        let magnitude = integer_magnitude(r.expect(tag::INTEGER)?);
        if magnitude.len() > half {
            bail!("an ECDSA signature integer is longer than the curve");
        }
        out.extend(std::iter::repeat_n(0, half - magnitude.len()));
        out.extend_from_slice(magnitude);
    }
    if !r.is_empty() {
        bail!("malformed ECDSA signature: trailing data");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test fails by panicking")]
    use super::*;

    #[test]
    fn oid_encoding_matches_the_known_bytes() {
        assert_eq!(
            oid(oid::RSA_ENCRYPTION),
            [
                0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01
            ]
        );
        assert_eq!(oid(oid::P384), [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22]);
    }

    #[test]
    fn long_lengths_round_trip_through_the_reader() {
        let content = vec![7u8; 300];
        let der = tlv(tag::OCTET_STRING, &content);
        assert_eq!(der.get(..4).unwrap(), [0x04, 0x82, 0x01, 0x2c]);
        assert_eq!(whole(&der, tag::OCTET_STRING).unwrap(), content);
    }

    #[test]
    fn integers_get_a_sign_byte_only_when_needed() {
        assert_eq!(unsigned_integer(&[0, 0x7f]), [2, 1, 0x7f]);
        assert_eq!(unsigned_integer(&[0x80]), [2, 2, 0, 0x80]);
        assert_eq!(unsigned_integer(&[0]), [2, 1, 0]);
    }

    #[test]
    fn ecdsa_signatures_convert_both_ways() {
        let mut raw = vec![0u8; 64];
        raw[0] = 0x80;
        raw[63] = 1;
        let der = ecdsa_raw_to_der(&raw).unwrap();
        assert_eq!(ecdsa_der_to_raw(&der, 32).unwrap(), raw);
    }

    #[test]
    fn pem_round_trips_and_rejects_a_broken_body() {
        let pem = pem_encode("PUBLIC KEY", &[1, 2, 3]);
        let (label, der) = pem_decode(pem.as_bytes()).unwrap().unwrap();
        assert_eq!(
            (label.as_str(), der.as_slice()),
            ("PUBLIC KEY", &[1u8, 2, 3][..])
        );
        let broken = "-----BEGIN PUBLIC KEY-----\n!!!\n-----END PUBLIC KEY-----\n";
        assert!(pem_decode(broken.as_bytes()).is_err());
    }
}
