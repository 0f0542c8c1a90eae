//! PKCS#10 certificate signing requests, built with `x509-cert`'s types
//! and signed by the service through the `signature` traits: the private
//! key never leaves psecd.
//!
//! x509-cert 0.2's `RequestBuilder` is not used: it always adds an
//! extensionRequest attribute, which with no SANs is an empty Extensions,
//! against its `SIZE (1..MAX)`. A request without SANs has no attributes.

use anyhow::{Result, anyhow, bail};
use der::asn1::{BitString, Ia5String, OctetString, PrintableStringRef, SetOfVec, Utf8StringRef};
use der::{Any, Decode, Encode};
use signature::Signer;
use spki::{
    AlgorithmIdentifierOwned, DynSignatureAlgorithmIdentifier, ObjectIdentifier,
    SignatureBitStringEncoding, SubjectPublicKeyInfoOwned,
};
use std::cell::RefCell;
use std::net::IpAddr;
use x509_cert::attr::{Attribute, AttributeTypeAndValue, Attributes};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::request::{CertReq, CertReqInfo, ExtensionReq, Version};

/// The subject of a request: each field is optional.
#[derive(Debug, Default, Clone)]
pub(crate) struct Subject {
    pub(crate) country: Option<String>,
    pub(crate) state: Option<String>,
    pub(crate) locality: Option<String>,
    pub(crate) organization: Option<String>,
    pub(crate) organizational_unit: Option<String>,
    pub(crate) common_name: Option<String>,
    pub(crate) serial_number: Option<String>,
}

/// A subject alternative name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum San {
    Dns(String),
    Ip(IpAddr),
}

impl San {
    /// `DNS:name`, `IP:address`, or a bare address or name.
    pub(crate) fn parse(text: &str) -> Result<San, String> {
        let (kind, value) = match text.split_once(':') {
            Some((k, v)) if k.eq_ignore_ascii_case("dns") => ("dns", v),
            Some((k, v)) if k.eq_ignore_ascii_case("ip") => ("ip", v),
            _ if text.parse::<IpAddr>().is_ok() => ("ip", text),
            _ => ("dns", text),
        };
        if kind == "ip" {
            value
                .parse()
                .map(San::Ip)
                .map_err(|_| format!("`{value}` is not an IPv4 or IPv6 address"))
        } else if value.is_empty() || !value.is_ascii() || value.contains(char::is_whitespace) {
            Err(format!("`{value}` is not a DNS name"))
        } else {
            Ok(San::Dns(value.to_string()))
        }
    }

    fn general_name(&self) -> Result<GeneralName> {
        Ok(match self {
            San::Dns(name) => GeneralName::DnsName(Ia5String::new(name)?),
            San::Ip(IpAddr::V4(a)) => GeneralName::IpAddress(OctetString::new(a.octets())?),
            San::Ip(IpAddr::V6(a)) => GeneralName::IpAddress(OctetString::new(a.octets())?),
        })
    }
}

/// Whether `text` fits a PrintableString.
fn printable(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_ascii_alphanumeric() || " '()+,-./:=?".contains(c))
}

/// id-at-countryName.
const COUNTRY: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.6");

/// The Name for `subject`, in the usual C, ST, L, O, OU, CN order, one
/// attribute a RelativeDistinguishedName.
fn name(subject: &Subject) -> Result<Name> {
    let oid = ObjectIdentifier::new_unwrap;
    let fields: [(ObjectIdentifier, &Option<String>, bool); 7] = [
        (COUNTRY, &subject.country, true),
        (oid("2.5.4.8"), &subject.state, false),
        (oid("2.5.4.7"), &subject.locality, false),
        (oid("2.5.4.10"), &subject.organization, false),
        (oid("2.5.4.11"), &subject.organizational_unit, false),
        (oid("2.5.4.3"), &subject.common_name, false),
        (oid("2.5.4.5"), &subject.serial_number, true),
    ];
    let mut rdns = Vec::new();
    for (field, value, printable_only) in fields {
        let Some(value) = value else { continue };
        if field == COUNTRY && (value.len() != 2 || !value.is_ascii()) {
            bail!("the country (C) must be a two-letter code such as GB or US, not `{value}`");
        }
        if printable_only && !printable(value) {
            bail!("`{value}` may hold only letters, digits, spaces and '()+,-./:=?");
        }
        let value = if printable_only {
            Any::encode_from(&PrintableStringRef::new(value)?)?
        } else {
            Any::encode_from(&Utf8StringRef::new(value)?)?
        };
        let attribute = AttributeTypeAndValue { oid: field, value };
        rdns.push(RelativeDistinguishedName(SetOfVec::try_from(vec![
            attribute,
        ])?));
    }
    Ok(RdnSequence(rdns))
}

/// The attributes of the request: an extensionRequest with the subject
/// alternative names, if there are any; none otherwise.
fn attributes(sans: &[San]) -> Result<Attributes> {
    let mut attributes = Attributes::new();
    if sans.is_empty() {
        return Ok(attributes);
    }
    let names = sans.iter().map(San::general_name).collect::<Result<_>>()?;
    let extension = Extension {
        extn_id: SAN_OID,
        critical: false,
        extn_value: OctetString::new(SubjectAltName(names).to_der()?)?,
    };
    attributes.insert(Attribute::try_from(ExtensionReq(vec![extension]))?)?;
    Ok(attributes)
}

/// id-ce-subjectAltName.
const SAN_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");

/// The CertificationRequestInfo, the part that is signed, of a request
/// for the key whose DER SubjectPublicKeyInfo is `spki`.
pub(crate) fn request_info(subject: &Subject, sans: &[San], spki: &[u8]) -> Result<CertReqInfo> {
    Ok(CertReqInfo {
        version: Version::V1,
        subject: name(subject)?,
        public_key: SubjectPublicKeyInfoOwned::from_der(spki)?,
        attributes: attributes(sans)?,
    })
}

/// A signature the service made: DER ECDSA or raw RSA, as a CSR holds it.
#[derive(Debug, Clone)]
pub(crate) struct ServiceSignature(Vec<u8>);

impl SignatureBitStringEncoding for ServiceSignature {
    fn to_bitstring(&self) -> der::Result<BitString> {
        BitString::from_bytes(&self.0)
    }
}

/// Signs through a callback (the service, in the tool), under a fixed
/// signature algorithm. A failure of the callback is kept, so that the
/// caller sees it as it was rather than as an opaque `signature::Error`.
pub(crate) struct ServiceSigner<'a> {
    algorithm: AlgorithmIdentifierOwned,
    sign: &'a dyn Fn(&[u8]) -> Result<Vec<u8>>,
    failure: RefCell<Option<anyhow::Error>>,
}

impl<'a> ServiceSigner<'a> {
    /// A signer that signs with `sign` and says it used `algorithm`.
    pub(crate) fn new(
        algorithm: AlgorithmIdentifierOwned,
        sign: &'a dyn Fn(&[u8]) -> Result<Vec<u8>>,
    ) -> Self {
        ServiceSigner {
            algorithm,
            sign,
            failure: RefCell::new(None),
        }
    }
}

impl Signer<ServiceSignature> for ServiceSigner<'_> {
    fn try_sign(&self, message: &[u8]) -> Result<ServiceSignature, signature::Error> {
        (self.sign)(message).map(ServiceSignature).map_err(|error| {
            self.failure.replace(Some(error));
            signature::Error::new()
        })
    }
}

impl DynSignatureAlgorithmIdentifier for ServiceSigner<'_> {
    fn signature_algorithm_identifier(&self) -> spki::Result<AlgorithmIdentifierOwned> {
        Ok(self.algorithm.clone())
    }
}

/// The DER CertificationRequest of `info`, signed by `signer`.
pub(crate) fn sign(info: CertReqInfo, signer: &ServiceSigner<'_>) -> Result<Vec<u8>> {
    let signature = signer.try_sign(&info.to_der()?).map_err(|error| {
        signer
            .failure
            .take()
            .unwrap_or_else(|| anyhow!("signing the request: {error}"))
    })?;
    let request = CertReq {
        info,
        algorithm: signer.signature_algorithm_identifier()?,
        signature: signature.to_bitstring()?,
    };
    Ok(request.to_der()?)
}

/// An AlgorithmIdentifier with NULL parameters (the RSA ones) or none
/// (the ECDSA ones).
pub(crate) fn signature_algorithm(oid: ObjectIdentifier, null: bool) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid,
        parameters: null.then(Any::null),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test fails by panicking")]
    use super::*;

    #[test]
    fn sans_parse_with_and_without_a_prefix() {
        assert_eq!(
            San::parse("DNS:a.example").unwrap(),
            San::Dns("a.example".into())
        );
        assert_eq!(
            San::parse("b.example").unwrap(),
            San::Dns("b.example".into())
        );
        assert_eq!(
            San::parse("10.0.0.1").unwrap(),
            San::Ip([10, 0, 0, 1].into())
        );
        assert_eq!(
            San::parse("IP:::1").unwrap(),
            San::Ip(IpAddr::V6(std::net::Ipv6Addr::LOCALHOST))
        );
        assert!(San::parse("IP:nonsense").is_err());
    }

    #[test]
    fn a_three_letter_country_is_refused() {
        let subject = Subject {
            country: Some("GBR".into()),
            ..Subject::default()
        };
        assert!(name(&subject).is_err());
    }
    fn request_with(sans: &[San]) -> (CertReq, std::cell::Cell<usize>) {
        let subject = Subject {
            country: Some("GB".into()),
            common_name: Some("d\u{e9}vice".into()),
            serial_number: Some("SN-1".into()),
            ..Subject::default()
        };
        let spki = crate::der::ec_spki(256, &[4; 65]).unwrap();
        let info = request_info(&subject, sans, &spki).unwrap();
        let calls = std::cell::Cell::new(0);
        let to_be_signed = info.to_der().unwrap();
        let service = |message: &[u8]| {
            assert_eq!(message, to_be_signed);
            calls.set(calls.get() + 1);
            Ok(vec![0x30, 0x00])
        };
        let signer = ServiceSigner::new(
            signature_algorithm(crate::der::oid::ECDSA_WITH_SHA256, false),
            &service,
        );
        let der = sign(info, &signer).unwrap();
        (CertReq::from_der(&der).unwrap(), calls)
    }

    #[test]
    fn a_request_without_sans_has_no_attributes() {
        let (request, calls) = request_with(&[]);
        assert_eq!(calls.get(), 1);
        assert!(request.info.attributes.is_empty());
        let info = request.info.to_der().unwrap();
        assert_eq!(info[info.len() - 2..], [0xa0, 0x00]);
        assert_eq!(request.algorithm.oid, crate::der::oid::ECDSA_WITH_SHA256);
        assert!(request.algorithm.parameters.is_none());
        assert_eq!(request.signature.raw_bytes(), [0x30, 0x00]);
    }

    #[test]
    fn subject_fields_keep_their_order_and_string_types() {
        let (request, _) = request_with(&[]);
        use der::{Tag, Tagged as _};
        let fields: Vec<_> = request
            .info
            .subject
            .0
            .iter()
            .map(|rdn| {
                let [field] = rdn.0.as_slice() else {
                    panic!("{rdn:?}")
                };
                (
                    field.oid.to_string(),
                    field.value.tag(),
                    field.value.value().to_vec(),
                )
            })
            .collect();
        assert_eq!(
            fields,
            [
                ("2.5.4.6".into(), Tag::PrintableString, b"GB".to_vec()),
                (
                    "2.5.4.3".into(),
                    Tag::Utf8String,
                    "d\u{e9}vice".as_bytes().to_vec()
                ),
                ("2.5.4.5".into(), Tag::PrintableString, b"SN-1".to_vec()),
            ]
        );
    }

    #[test]
    fn sans_go_in_a_non_critical_extension_request() {
        let sans = [San::Dns("a.example".into()), San::Ip([10, 0, 0, 1].into())];
        let (request, _) = request_with(&sans);
        let attribute = request.info.attributes.get(0).unwrap();
        assert_eq!(attribute.oid.to_string(), "1.2.840.113549.1.9.14");
        let extensions: ExtensionReq = attribute.values.get(0).unwrap().decode_as().unwrap();
        let [extension] = extensions.0.as_slice() else {
            panic!("{extensions:?}")
        };
        assert_eq!(extension.extn_id, SAN_OID);
        assert!(!extension.critical);
        let names = SubjectAltName::from_der(extension.extn_value.as_bytes()).unwrap();
        assert_eq!(
            names.0,
            [
                GeneralName::DnsName(Ia5String::new("a.example").unwrap()),
                GeneralName::IpAddress(OctetString::new([10, 0, 0, 1]).unwrap()),
            ]
        );
    }

    #[test]
    fn a_failed_signature_is_the_callback_error() {
        let spki = crate::der::ec_spki(256, &[4; 65]).unwrap();
        let info = request_info(&Subject::default(), &[], &spki).unwrap();
        let refuse = |_: &[u8]| Err(anyhow!("the service said no"));
        let signer = ServiceSigner::new(
            signature_algorithm(crate::der::oid::SHA256_WITH_RSA, true),
            &refuse,
        );
        let error = sign(info, &signer).unwrap_err();
        assert_eq!(error.to_string(), "the service said no");
    }
}
