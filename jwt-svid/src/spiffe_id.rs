//! SPIFFE IDs: `spiffe://trust-domain/path`, as the SPIFFE ID standard
//! defines them.

use crate::Error;
use std::fmt;

/// The longest SPIFFE ID accepted, in bytes (the standard's limit).
pub const MAX_LEN: usize = 2048;

/// A workload's SPIFFE ID: a trust domain and a non-empty path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SpiffeId {
    id: String,
    /// Where the path starts in `id` (its first `/`).
    path_at: usize,
}

const SCHEME: &str = "spiffe://";

impl SpiffeId {
    /// Parses a workload's SPIFFE ID. The trust domain is lower-case
    /// letters, digits, `.`, `-` and `_`; the path is `/`-separated
    /// segments of letters, digits, `.`, `-` and `_`, none empty, `.` or
    /// `..`. No port, user, query or fragment; a trust domain alone (no
    /// path) is not a workload.
    pub fn parse(text: &str) -> Result<SpiffeId, Error> {
        if text.len() > MAX_LEN {
            return Err(Error::BadSpiffeId("longer than 2048 bytes"));
        }
        let rest = text
            .strip_prefix(SCHEME)
            .ok_or(Error::BadSpiffeId("not a spiffe:// URI"))?;
        let (domain, path) = match rest.find('/') {
            Some(at) => rest.split_at(at),
            None => {
                return Err(Error::BadSpiffeId(
                    "no path: a trust domain is not a workload",
                ));
            }
        };
        check_trust_domain(domain)?;
        // `path` starts with '/': the first segment is empty by construction.
        for segment in path.split('/').skip(1) {
            if segment.is_empty() {
                return Err(Error::BadSpiffeId("an empty path segment"));
            }
            if segment == "." || segment == ".." {
                return Err(Error::BadSpiffeId("a . or .. path segment"));
            }
            if !segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
            {
                return Err(Error::BadSpiffeId("a character not allowed in a path"));
            }
        }
        Ok(SpiffeId {
            id: text.to_string(),
            path_at: SCHEME.len() + domain.len(),
        })
    }

    /// The trust domain name (`example.org`).
    pub fn trust_domain(&self) -> &str {
        self.id.get(SCHEME.len()..self.path_at).unwrap_or_default()
    }

    /// The path (`/ns/prod/sa/web`).
    pub fn path(&self) -> &str {
        self.id.get(self.path_at..).unwrap_or_default()
    }

    /// The whole ID.
    pub fn as_str(&self) -> &str {
        &self.id
    }
}

impl fmt::Display for SpiffeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id)
    }
}

/// Checks a trust domain name: non-empty, lower-case letters, digits, `.`,
/// `-` and `_` only.
pub(crate) fn check_trust_domain(name: &str) -> Result<(), Error> {
    if name.is_empty() {
        return Err(Error::BadSpiffeId("an empty trust domain"));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_'))
    {
        return Err(Error::BadSpiffeId(
            "a trust domain character other than a-z, 0-9, ., - and _",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test fails by panicking")]

    use super::*;

    #[test]
    fn a_workload_id_splits_into_trust_domain_and_path() {
        let id = SpiffeId::parse("spiffe://example.org/ns/prod/sa/web").unwrap();
        assert_eq!(id.trust_domain(), "example.org");
        assert_eq!(id.path(), "/ns/prod/sa/web");
        assert_eq!(id.to_string(), "spiffe://example.org/ns/prod/sa/web");
    }

    #[test]
    fn malformed_ids_are_refused() {
        for bad in [
            "",
            "spiffe://",
            "spiffe://example.org",
            "spiffe://example.org/",
            "spiffe://example.org/a//b",
            "spiffe://example.org/a/",
            "spiffe://example.org/a/../b",
            "spiffe://example.org/./b",
            "spiffe://Example.org/a",
            "spiffe://example.org:8443/a",
            "spiffe://user@example.org/a",
            "spiffe:///a",
            "spiffe://example.org/a?q=1",
            "spiffe://example.org/a#f",
            "spiffe://example.org/a%20b",
            "SPIFFE://example.org/a",
            "https://example.org/a",
            "spiffe://exa mple.org/a",
        ] {
            assert!(SpiffeId::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn the_length_limit_is_2048_bytes() {
        let head = "spiffe://example.org/";
        let ok = format!("{head}{}", "a".repeat(MAX_LEN - head.len()));
        assert!(SpiffeId::parse(&ok).is_ok());
        let long = format!("{ok}a");
        assert!(SpiffeId::parse(&long).is_err());
    }

    #[test]
    fn path_characters_may_be_upper_case() {
        assert!(SpiffeId::parse("spiffe://td_1.example-2/Web/A.b-c_d").is_ok());
    }
}
