//! Where the service listens: a Unix socket, named by a path or a `unix:`
//! URI, from the environment or the default.

use crate::{ClientErrorKind, Error};
use std::ffi::OsStr;
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The environment variable Parsec clients read the service endpoint from.
pub const ENDPOINT_ENV_VAR: &str = "PARSEC_SERVICE_ENDPOINT";

/// The socket path of a Parsec service installed by its packages.
pub const DEFAULT_SOCKET_PATH: &str = "/run/parsec/parsec.sock";

/// The service's endpoint: the path of its Unix stream socket.
///
/// Written as a URI (`unix:/run/parsec/parsec.sock`, or `unix:///run/...`
/// with an empty authority) or as a plain path (`/run/parsec/parsec.sock`,
/// `./parsec.sock`). A relative path is relative to the working directory
/// when the client connects; write a relative path with a `:` in its first
/// component as `./name:with:colons`, or it reads as a URI scheme.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Endpoint {
    path: PathBuf,
}

impl Endpoint {
    /// The endpoint at a socket path, taken as it is.
    pub fn unix_socket(path: impl Into<PathBuf>) -> Self {
        Endpoint { path: path.into() }
    }

    /// Parses a `unix:` URI or a plain socket path.
    ///
    /// Errors ([`ClientErrorKind::InvalidEndpoint`]): an empty text, a scheme
    /// other than `unix`, a URI naming a host, or a URI whose path is not
    /// absolute.
    pub fn parse(text: impl AsRef<OsStr>) -> Result<Self, Error> {
        Self::parse_from(text.as_ref(), false)
    }

    /// The endpoint named by `PARSEC_SERVICE_ENDPOINT`, or
    /// [`DEFAULT_SOCKET_PATH`] when the variable is unset or empty.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_env_value(std::env::var_os(ENDPOINT_ENV_VAR).as_deref())
    }

    /// What [`Endpoint::from_env`] gives for this value of the variable
    /// (`None` when unset): tests and callers with their own environment
    /// use it instead of changing the process's.
    pub fn from_env_value(value: Option<&OsStr>) -> Result<Self, Error> {
        match value {
            None => Ok(Endpoint::default()),
            Some(text) if text.is_empty() => Ok(Endpoint::default()),
            Some(text) => Self::parse_from(text, true),
        }
    }

    /// The socket path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn parse_from(text: &OsStr, from_env: bool) -> Result<Self, Error> {
        let invalid = |reason| {
            Error::Client(ClientErrorKind::InvalidEndpoint {
                endpoint: text.to_string_lossy().into_owned(),
                reason,
                from_env,
            })
        };
        let bytes = text.as_bytes();
        if bytes.is_empty() {
            return Err(invalid("it is empty"));
        }
        let Some((scheme, rest)) = split_scheme(bytes) else {
            return Ok(Endpoint::unix_socket(text));
        };
        if !scheme.eq_ignore_ascii_case(b"unix") {
            return Err(invalid("only `unix:` endpoints are supported"));
        }
        let path = match rest.strip_prefix(b"//") {
            Some(authority_and_path) => {
                let (authority, path) = match authority_and_path.iter().position(|&b| b == b'/') {
                    Some(slash) => authority_and_path.split_at(slash),
                    None => (authority_and_path, &[][..]),
                };
                if !authority.is_empty() && authority != b"localhost" {
                    return Err(invalid("a `unix:` URI can not name a host"));
                }
                path
            }
            None => rest,
        };
        if !path.starts_with(b"/") {
            return Err(invalid("the socket path in a `unix:` URI must be absolute"));
        }
        Ok(Endpoint::unix_socket(OsStr::from_bytes(path)))
    }
}

/// Splits `scheme:rest` when the text starts with a URI scheme (a letter,
/// then letters, digits, `+`, `-` or `.`, then `:`); `None` for a path.
fn split_scheme(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let colon = bytes.iter().position(|&b| b == b':')?;
    let (scheme, rest) = bytes.split_at(colon);
    let (first, others) = scheme.split_first()?;
    let is_scheme = first.is_ascii_alphabetic()
        && others
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    let rest = rest.strip_prefix(b":")?;
    is_scheme.then_some((scheme, rest))
}

impl Default for Endpoint {
    /// [`DEFAULT_SOCKET_PATH`].
    fn default() -> Self {
        Endpoint::unix_socket(DEFAULT_SOCKET_PATH)
    }
}

impl FromStr for Endpoint {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        Endpoint::parse(text)
    }
}

impl fmt::Display for Endpoint {
    /// The endpoint as a URI, `unix:/path`, or the path as given if it is
    /// relative (with `./` first if it would read as a URI).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_absolute() {
            write!(f, "unix:{}", self.path.display())
        } else if split_scheme(self.path.as_os_str().as_bytes()).is_some() {
            write!(f, "./{}", self.path.display())
        } else {
            write!(f, "{}", self.path.display())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid_reason(error: Error) -> (&'static str, bool) {
        match error {
            Error::Client(ClientErrorKind::InvalidEndpoint {
                reason, from_env, ..
            }) => (reason, from_env),
            other => panic!("expected InvalidEndpoint, got {other:?}"),
        }
    }

    #[test]
    fn unix_uri_gives_its_absolute_path() {
        let endpoint = Endpoint::parse("unix:/tmp/psec/api.sock").unwrap();
        assert_eq!(endpoint.path(), Path::new("/tmp/psec/api.sock"));
    }

    #[test]
    fn unix_uri_with_empty_or_localhost_authority_gives_its_path() {
        for text in ["unix:///run/x.sock", "unix://localhost/run/x.sock"] {
            assert_eq!(
                Endpoint::parse(text).unwrap().path(),
                Path::new("/run/x.sock"),
                "{text}"
            );
        }
    }

    #[test]
    fn scheme_is_case_insensitive() {
        assert_eq!(
            Endpoint::parse("UNIX:/run/x.sock").unwrap().path(),
            Path::new("/run/x.sock")
        );
    }

    #[test]
    fn plain_paths_are_taken_as_they_are() {
        for text in ["/run/parsec/parsec.sock", "./parsec.sock", "parsec.sock"] {
            assert_eq!(Endpoint::parse(text).unwrap().path(), Path::new(text));
        }
        // A colon after the first slash is part of the path.
        assert_eq!(
            Endpoint::parse("/tmp/a:b").unwrap().path(),
            Path::new("/tmp/a:b")
        );
        assert_eq!(Endpoint::parse("./a:b").unwrap().path(), Path::new("./a:b"));
    }

    #[test]
    fn non_utf8_paths_are_kept_byte_for_byte() {
        let raw = OsStr::from_bytes(b"/tmp/\xff.sock");
        assert_eq!(Endpoint::parse(raw).unwrap().path(), Path::new(raw));
        let uri = OsStr::from_bytes(b"unix:/tmp/\xff.sock");
        assert_eq!(Endpoint::parse(uri).unwrap().path(), Path::new(raw));
    }

    #[test]
    fn other_schemes_hosts_relative_uris_and_empty_text_are_refused() {
        for text in [
            "tcp://127.0.0.1:4000",
            "http:/run/x.sock",
            "unix://example.com/run/x.sock",
            "unix:run/x.sock",
            "unix:",
            "unix://",
            "",
        ] {
            let (reason, from_env) = invalid_reason(Endpoint::parse(text).unwrap_err());
            assert!(!reason.is_empty(), "{text}");
            assert!(!from_env, "{text}");
        }
    }

    #[test]
    fn unset_or_empty_environment_gives_the_default_socket() {
        let default = Endpoint::unix_socket(DEFAULT_SOCKET_PATH);
        assert_eq!(Endpoint::from_env_value(None).unwrap(), default);
        assert_eq!(
            Endpoint::from_env_value(Some(OsStr::new(""))).unwrap(),
            default
        );
        assert_eq!(Endpoint::default(), default);
        assert_eq!(default.path(), Path::new("/run/parsec/parsec.sock"));
    }

    #[test]
    fn environment_value_is_parsed_and_its_errors_name_the_variable() {
        assert_eq!(
            Endpoint::from_env_value(Some(OsStr::new("unix:/srv/psec.sock")))
                .unwrap()
                .path(),
            Path::new("/srv/psec.sock")
        );
        assert_eq!(
            Endpoint::from_env_value(Some(OsStr::new("/srv/psec.sock")))
                .unwrap()
                .path(),
            Path::new("/srv/psec.sock")
        );
        let (_, from_env) =
            invalid_reason(Endpoint::from_env_value(Some(OsStr::new("tcp://x"))).unwrap_err());
        assert!(from_env);
    }

    #[test]
    fn display_is_a_uri_that_parses_back() {
        let endpoint = Endpoint::unix_socket("/run/parsec/parsec.sock");
        assert_eq!(endpoint.to_string(), "unix:/run/parsec/parsec.sock");
        assert_eq!(endpoint.to_string().parse::<Endpoint>().unwrap(), endpoint);
        let relative = Endpoint::unix_socket("here.sock");
        assert_eq!(relative.to_string().parse::<Endpoint>().unwrap(), relative);
        let colon = Endpoint::unix_socket("a:b.sock");
        assert_eq!(colon.to_string(), "./a:b.sock");
        assert_eq!(
            colon.to_string().parse::<Endpoint>().unwrap().path(),
            Path::new("./a:b.sock")
        );
    }
}
