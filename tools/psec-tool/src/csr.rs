//! PKCS#10 certificate signing requests, built here in DER and signed by
//! the service: the private key never leaves psecd.

use crate::der::{self, oid, tag};
use anyhow::{Result, bail};
use std::net::IpAddr;

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

    fn general_name(&self) -> Vec<u8> {
        match self {
            San::Dns(name) => der::tlv(0x82, name.as_bytes()),
            San::Ip(IpAddr::V4(a)) => der::tlv(0x87, &a.octets()),
            San::Ip(IpAddr::V6(a)) => der::tlv(0x87, &a.octets()),
        }
    }
}

/// Whether `text` fits a PrintableString.
fn printable(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_ascii_alphanumeric() || " '()+,-./:=?".contains(c))
}

/// The DER Name for `subject`, in the usual C, ST, L, O, OU, CN order.
fn name(subject: &Subject) -> Result<Vec<u8>> {
    let fields: [(&[u64], &Option<String>, bool); 7] = [
        (&[2, 5, 4, 6], &subject.country, true),
        (&[2, 5, 4, 8], &subject.state, false),
        (&[2, 5, 4, 7], &subject.locality, false),
        (&[2, 5, 4, 10], &subject.organization, false),
        (&[2, 5, 4, 11], &subject.organizational_unit, false),
        (&[2, 5, 4, 3], &subject.common_name, false),
        (&[2, 5, 4, 5], &subject.serial_number, true),
    ];
    let mut rdns = Vec::new();
    for (arcs, value, printable_only) in fields {
        let Some(value) = value else { continue };
        if arcs == [2, 5, 4, 6] && (value.len() != 2 || !value.is_ascii()) {
            bail!("the country (C) must be a two-letter code such as GB or US, not `{value}`");
        }
        if printable_only && !printable(value) {
            bail!("`{value}` may hold only letters, digits, spaces and '()+,-./:=?");
        }
        let string_tag = if printable_only {
            tag::PRINTABLE_STRING
        } else {
            tag::UTF8_STRING
        };
        let attribute = der::sequence(&[&oid(arcs), &der::tlv(string_tag, value.as_bytes())]);
        rdns.extend(der::set(&[&attribute]));
    }
    Ok(der::tlv(tag::SEQUENCE, &rdns))
}

/// The `[0] attributes` of the request: an extensionRequest with the
/// subject alternative names, if there are any.
fn attributes(sans: &[San]) -> Vec<u8> {
    if sans.is_empty() {
        return der::tlv(0xA0, &[]);
    }
    let names: Vec<u8> = sans.iter().flat_map(San::general_name).collect();
    let general_names = der::tlv(tag::SEQUENCE, &names);
    let extension = der::sequence(&[
        &oid(oid::SUBJECT_ALT_NAME),
        &der::tlv(tag::OCTET_STRING, &general_names),
    ]);
    let extensions = der::sequence(&[&extension]);
    let attribute = der::sequence(&[&oid(oid::EXTENSION_REQUEST), &der::set(&[&extensions])]);
    der::tlv(0xA0, &attribute)
}

/// The DER CertificationRequestInfo, the part that is signed.
pub(crate) fn request_info(subject: &Subject, sans: &[San], spki: &[u8]) -> Result<Vec<u8>> {
    Ok(der::sequence(&[
        &der::unsigned_integer(&[0]),
        &name(subject)?,
        spki,
        &attributes(sans),
    ]))
}

/// The whole CertificationRequest from its signed info, the signature
/// AlgorithmIdentifier and the signature (DER ECDSA or raw RSA).
pub(crate) fn request(info: &[u8], signature_algorithm: &[u8], signature: &[u8]) -> Vec<u8> {
    der::sequence(&[info, signature_algorithm, &der::bit_string(signature)])
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
}
