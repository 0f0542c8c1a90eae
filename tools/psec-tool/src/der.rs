//! The key and signature formats psec reads and writes, in DER through
//! RustCrypto's `der`, `spki`, `pkcs1`, `pkcs8` and `sec1`: the
//! conversions between the PSA key formats and the standard containers
//! (SubjectPublicKeyInfo, PKCS#8, PKCS#1, SEC1), ECDSA signatures between
//! PSA's r || s and DER, and the PEM armour around them. Reading is strict
//! DER: no trailing bytes, no negative or non-minimal INTEGERs, no
//! indefinite lengths.

use anyhow::{Result, anyhow, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use der::asn1::{AnyRef, BitStringRef, ObjectIdentifier, UintRef};
use der::{Decode, Encode};
use spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};

/// Object identifiers.
pub(crate) mod oid {
    use der::asn1::ObjectIdentifier as Oid;

    pub(crate) const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
    pub(crate) const SHA256_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
    pub(crate) const SHA384_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
    pub(crate) const SHA512_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
    pub(crate) const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
    pub(crate) const ECDSA_WITH_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
    pub(crate) const ECDSA_WITH_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
    pub(crate) const ECDSA_WITH_SHA512: Oid = Oid::new_unwrap("1.2.840.10045.4.3.4");
    pub(crate) const P256: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
    pub(crate) const P384: Oid = Oid::new_unwrap("1.3.132.0.34");
    pub(crate) const P521: Oid = Oid::new_unwrap("1.3.132.0.35");
}

/// A DER error from reading input.
fn malformed(error: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("malformed DER: {error}")
}

/// Named curves the tool knows: OID and size in bits.
const CURVES: [(ObjectIdentifier, usize); 3] =
    [(oid::P256, 256), (oid::P384, 384), (oid::P521, 521)];

/// The curve OID for a SECP R1 curve size.
pub(crate) fn curve_oid(bits: usize) -> Result<ObjectIdentifier> {
    CURVES
        .iter()
        .find(|(_, b)| *b == bits)
        .map(|(o, _)| *o)
        .ok_or_else(|| anyhow!("no named curve of {bits} bits is supported (P-256, P-384, P-521)"))
}

/// The size in bits of the curve `curve`.
fn curve_bits(curve: ObjectIdentifier) -> Result<usize> {
    CURVES
        .iter()
        .find(|(o, _)| *o == curve)
        .map(|(_, b)| *b)
        .ok_or_else(|| anyhow!("the key is on a curve psec does not support (P-256, P-384, P-521)"))
}

/// The number of significant bits of an unsigned big-endian number.
fn bit_length(number: &[u8]) -> usize {
    let skip = number.iter().take_while(|&&b| b == 0).count();
    match number.get(skip..) {
        Some([top, rest @ ..]) => rest.len() * 8 + 8 - top.leading_zeros() as usize,
        _ => 0,
    }
}

/// A SubjectPublicKeyInfo in DER.
fn spki(
    algorithm: ObjectIdentifier,
    parameters: AnyRef<'_>,
    subject_public_key: &[u8],
) -> Result<Vec<u8>> {
    let spki = SubjectPublicKeyInfoRef {
        algorithm: AlgorithmIdentifierRef {
            oid: algorithm,
            parameters: Some(parameters),
        },
        subject_public_key: BitStringRef::from_bytes(subject_public_key)?,
    };
    Ok(spki.to_der()?)
}

/// SubjectPublicKeyInfo of an RSA public key given as DER RSAPublicKey.
pub(crate) fn rsa_spki(rsa_public_key: &[u8]) -> Result<Vec<u8>> {
    spki(oid::RSA_ENCRYPTION, AnyRef::NULL, rsa_public_key)
}

/// SubjectPublicKeyInfo of an EC public key (uncompressed point).
pub(crate) fn ec_spki(bits: usize, point: &[u8]) -> Result<Vec<u8>> {
    let curve = curve_oid(bits)?;
    spki(oid::EC_PUBLIC_KEY, AnyRef::from(&curve), point)
}

/// PKCS#8 PrivateKeyInfo of an RSA private key (DER RSAPrivateKey).
pub(crate) fn rsa_pkcs8(rsa_private_key: &[u8]) -> Result<Vec<u8>> {
    let algorithm = AlgorithmIdentifierRef {
        oid: oid::RSA_ENCRYPTION,
        parameters: Some(AnyRef::NULL),
    };
    Ok(pkcs8::PrivateKeyInfo::new(algorithm, rsa_private_key).to_der()?)
}

/// PKCS#8 PrivateKeyInfo of an EC private key (the PSA raw scalar), with
/// the public point when known.
pub(crate) fn ec_pkcs8(bits: usize, scalar: &[u8], point: Option<&[u8]>) -> Result<Vec<u8>> {
    let curve = curve_oid(bits)?;
    let ec_private_key = sec1::EcPrivateKey {
        private_key: scalar,
        parameters: None,
        public_key: point,
    }
    .to_der()?;
    let algorithm = AlgorithmIdentifierRef {
        oid: oid::EC_PUBLIC_KEY,
        parameters: Some(AnyRef::from(&curve)),
    };
    Ok(pkcs8::PrivateKeyInfo::new(algorithm, &ec_private_key).to_der()?)
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

/// Parses an RSAPrivateKey (two-prime).
fn parse_rsa_private(der: &[u8]) -> Result<ParsedKey> {
    let key = pkcs1::RsaPrivateKey::from_der(der).map_err(malformed)?;
    if key.version() != pkcs1::Version::TwoPrime {
        bail!("unsupported RSAPrivateKey version (multi-prime keys are not supported)");
    }
    Ok(ParsedKey::RsaPrivate {
        der: der.to_vec(),
        bits: bit_length(key.modulus.as_bytes()),
    })
}

/// Parses an RSAPublicKey.
fn parse_rsa_public(der: &[u8]) -> Result<ParsedKey> {
    let key = pkcs1::RsaPublicKey::from_der(der).map_err(malformed)?;
    Ok(ParsedKey::RsaPublic {
        der: der.to_vec(),
        bits: bit_length(key.modulus.as_bytes()),
    })
}

/// Parses a SEC1 ECPrivateKey; `outer` is the curve size PKCS#8 gave, if
/// any. A curve named inside must agree with it.
fn parse_sec1(der: &[u8], outer: Option<usize>) -> Result<ParsedKey> {
    let key = sec1::EcPrivateKey::from_der(der).map_err(malformed)?;
    let inner = match key.parameters.and_then(|p| p.named_curve()) {
        Some(curve) => Some(curve_bits(curve)?),
        None => None,
    };
    let bits = match (outer, inner) {
        (Some(outer), Some(inner)) if outer != inner => {
            bail!("the EC private key names another curve than its PKCS#8 algorithm")
        }
        (Some(bits), _) | (None, Some(bits)) => bits,
        (None, None) => bail!("the EC private key does not name its curve"),
    };
    let len = bits.div_ceil(8);
    let skip = key.private_key.iter().take_while(|&&b| b == 0).count();
    let magnitude = key.private_key.get(skip..).unwrap_or_default();
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

/// The curve size named by an AlgorithmIdentifier's parameters.
fn parameters_curve(algorithm: &AlgorithmIdentifierRef<'_>) -> Result<usize> {
    curve_bits(algorithm.parameters_oid().map_err(malformed)?)
}

/// Parses a PKCS#8 PrivateKeyInfo (version 1 or 2).
fn parse_pkcs8(der: &[u8]) -> Result<ParsedKey> {
    let info = pkcs8::PrivateKeyInfo::from_der(der).map_err(malformed)?;
    match info.algorithm.oid {
        oid::RSA_ENCRYPTION => parse_rsa_private(info.private_key),
        oid::EC_PUBLIC_KEY => {
            let curve = parameters_curve(&info.algorithm)?;
            parse_sec1(info.private_key, Some(curve))
        }
        _ => bail!("the private key is neither RSA nor EC (only those can be imported)"),
    }
}

/// Parses a SubjectPublicKeyInfo.
fn parse_spki(der: &[u8]) -> Result<ParsedKey> {
    let spki = SubjectPublicKeyInfoRef::from_der(der).map_err(malformed)?;
    let key = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| malformed("a BIT STRING with unused bits"))?;
    match spki.algorithm.oid {
        oid::RSA_ENCRYPTION => parse_rsa_public(key),
        oid::EC_PUBLIC_KEY => {
            let bits = parameters_curve(&spki.algorithm)?;
            if key.first() != Some(&0x04) || key.len() != 1 + 2 * bits.div_ceil(8) {
                bail!("the EC public key is not an uncompressed point of its curve");
            }
            Ok(ParsedKey::EcPublic {
                point: key.to_vec(),
                bits,
            })
        }
        _ => bail!("the public key is neither RSA nor EC (only those can be imported)"),
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
    // Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }
    Ok([UintRef::new(r)?, UintRef::new(s)?].to_der()?)
}

/// PSA's r || s, each `half` bytes, from a DER `Ecdsa-Sig-Value`.
pub(crate) fn ecdsa_der_to_raw(der: &[u8], half: usize) -> Result<Vec<u8>> {
    let integers = <[UintRef<'_>; 2]>::from_der(der).map_err(malformed)?;
    let mut out = Vec::with_capacity(2 * half);
    for integer in integers {
        let magnitude = match integer.as_bytes() {
            [0] => &[][..],
            bytes => bytes,
        };
        if magnitude.len() > half {
            bail!("an ECDSA signature integer is longer than the curve");
        }
        out.extend(std::iter::repeat_n(0, half - magnitude.len()));
        out.extend_from_slice(magnitude);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test fails by panicking")]
    use super::*;

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    fn rsa_public_key(modulus: &[u8]) -> Vec<u8> {
        pkcs1::RsaPublicKey {
            modulus: UintRef::new(modulus).unwrap(),
            public_exponent: UintRef::new(&[1, 0, 1]).unwrap(),
        }
        .to_der()
        .unwrap()
    }

    #[test]
    fn spki_writers_give_the_standard_prefixes() {
        let point = [4u8; 65];
        let der = ec_spki(256, &point).unwrap();
        assert_eq!(
            der[..26],
            hex("3059301306072a8648ce3d020106082a8648ce3d030107034200")
        );
        assert_eq!(der[26..], point);
        let der = rsa_spki(&rsa_public_key(&[0xc5; 256])).unwrap();
        assert_eq!(
            der[..24],
            hex("30820122300d06092a864886f70d01010105000382010f00")
        );
    }

    #[test]
    fn written_keys_read_back() {
        let rsa = rsa_public_key(&[0xc5; 256]);
        match parse_key(&rsa_spki(&rsa).unwrap()).unwrap() {
            ParsedKey::RsaPublic { der, bits } => assert_eq!((der, bits), (rsa.clone(), 2048)),
            other => panic!("{other:?}"),
        }
        let scalar = [[0u8; 2].as_slice(), &[7; 30]].concat();
        let point = [4u8; 65];
        let pkcs8 = ec_pkcs8(256, &scalar, Some(&point)).unwrap();
        match parse_key(&pkcs8).unwrap() {
            ParsedKey::EcPrivate { scalar: read, bits } => assert_eq!((read, bits), (scalar, 256)),
            other => panic!("{other:?}"),
        }
        match parse_key(&ec_spki(384, &[4; 97]).unwrap()).unwrap() {
            ParsedKey::EcPublic { point, bits } => assert_eq!((point.len(), bits), (97, 384)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn trailing_bytes_and_ber_are_refused() {
        let rsa = rsa_public_key(&[0xc5; 256]);
        let spki = rsa_spki(&rsa).unwrap();
        let mut trailing = spki.clone();
        trailing.push(0);
        assert!(parse_key(&trailing).is_err());
        let mut truncated = rsa.clone();
        truncated.pop();
        assert!(parse_key(&truncated).is_err());
        for bad in [
            // A negative modulus.
            "3006020180020103",
            // A needless leading zero in the modulus.
            "300702020005020103",
            // A length in long form where the short form fits.
            "308106020105020103",
            // An indefinite length.
            "30800201050201030000",
        ] {
            assert!(parse_key(&hex(bad)).is_err(), "{bad}");
            assert!(parse_rsa_public(&hex(bad)).is_err(), "{bad}");
        }
        assert!(parse_rsa_public(&hex("3006020105020103")).is_ok());
    }

    #[test]
    fn an_ec_key_naming_two_curves_is_refused() {
        let sec1 = sec1::EcPrivateKey {
            private_key: &[7; 48],
            parameters: Some(sec1::EcParameters::NamedCurve(oid::P384)),
            public_key: None,
        }
        .to_der()
        .unwrap();
        match parse_sec1(&sec1, None).unwrap() {
            ParsedKey::EcPrivate { bits, .. } => assert_eq!(bits, 384),
            other => panic!("{other:?}"),
        }
        assert!(parse_sec1(&sec1, Some(256)).is_err());
        assert!(parse_sec1(&sec1, Some(384)).is_ok());
        // A scalar longer than the curve.
        assert!(
            ec_pkcs8(256, &[7; 33], None)
                .and_then(|d| parse_key(&d))
                .is_err()
        );
    }

    #[test]
    fn unsupported_curves_and_algorithms_are_named() {
        // P-256K (secp256k1) in a SubjectPublicKeyInfo.
        let der = spki(
            oid::EC_PUBLIC_KEY,
            AnyRef::from(&ObjectIdentifier::new_unwrap("1.3.132.0.10")),
            &[4; 65],
        )
        .unwrap();
        let error = parse_spki(&der).unwrap_err().to_string();
        assert!(error.contains("curve psec does not support"), "{error}");
        let der = spki(
            ObjectIdentifier::new_unwrap("1.3.101.112"),
            AnyRef::NULL,
            &[1; 32],
        )
        .unwrap();
        let error = parse_spki(&der).unwrap_err().to_string();
        assert!(error.contains("neither RSA nor EC"), "{error}");
    }

    #[test]
    fn ecdsa_signatures_convert_both_ways() {
        let mut raw = vec![0u8; 64];
        raw[0] = 0x80;
        raw[63] = 1;
        let der = ecdsa_raw_to_der(&raw).unwrap();
        // r gets a sign byte, s is one byte.
        assert_eq!(der[..5], [0x30, 0x26, 0x02, 0x21, 0x00]);
        assert_eq!(der[der.len() - 3..], [0x02, 0x01, 0x01]);
        assert_eq!(ecdsa_der_to_raw(&der, 32).unwrap(), raw);
        assert!(ecdsa_der_to_raw(&der, 31).is_err());
        let mut trailing = der.clone();
        trailing.push(0);
        assert!(ecdsa_der_to_raw(&trailing, 32).is_err());
        // Zero encodes as one zero byte and reads back as zeros.
        let zero = ecdsa_raw_to_der(&[0; 64]).unwrap();
        assert_eq!(zero, [0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00]);
        assert_eq!(ecdsa_der_to_raw(&zero, 32).unwrap(), [0; 64]);
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
