//! Authentication: which authenticator a request names, and its secret bytes.

use crate::ResponseStatus;
use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Which authenticator reads the request's auth bytes (`auth type`, one byte).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
#[repr(u8)]
pub enum AuthType {
    /// No authentication: only the opcodes open to anyone.
    NoAuth = 0,
    /// The auth bytes are the application name in UTF-8, taken on trust.
    Direct = 1,
    /// Reserved by the protocol for JSON Web Tokens.
    Jwt = 2,
    /// The auth bytes are the caller's UID (4 bytes little-endian), checked
    /// against the socket peer's credentials.
    UnixPeerCredentials = 3,
    /// The auth bytes are a JWT-SVID; the application is its SPIFFE ID.
    JwtSvid = 4,
}

impl AuthType {
    /// Every auth type, in id order.
    pub const ALL: &'static [AuthType] = &[
        AuthType::NoAuth,
        AuthType::Direct,
        AuthType::Jwt,
        AuthType::UnixPeerCredentials,
        AuthType::JwtSvid,
    ];

    /// The id byte.
    pub fn id(self) -> u8 {
        self as u8
    }

    /// The auth type for an id byte, or `None` if none has that id.
    pub fn from_id(id: u8) -> Option<Self> {
        AuthType::ALL.get(usize::from(id)).copied()
    }
}

impl TryFrom<u8> for AuthType {
    type Error = ResponseStatus;

    fn try_from(id: u8) -> Result<Self, Self::Error> {
        AuthType::from_id(id).ok_or(ResponseStatus::AuthenticatorDoesNotExist)
    }
}

impl fmt::Display for AuthType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            AuthType::NoAuth => "no authentication",
            AuthType::Direct => "direct",
            AuthType::Jwt => "JWT",
            AuthType::UnixPeerCredentials => "Unix peer credentials",
            AuthType::JwtSvid => "JWT-SVID",
        };
        f.write_str(name)
    }
}

/// The auth bytes of a request: wiped from memory when dropped, and never
/// shown by `Debug`.
#[derive(Clone, Default, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct AuthBuffer(Vec<u8>);

impl AuthBuffer {
    /// Wraps auth bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        AuthBuffer(bytes)
    }

    /// The auth bytes, for the authenticator to read.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// How many auth bytes there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Vec<u8>> for AuthBuffer {
    fn from(bytes: Vec<u8>) -> Self {
        AuthBuffer(bytes)
    }
}

impl From<&str> for AuthBuffer {
    fn from(text: &str) -> Self {
        AuthBuffer(text.as_bytes().to_vec())
    }
}

impl fmt::Debug for AuthBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuthBuffer({} bytes, hidden)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_ids_round_trip_and_unknown_ids_are_refused() {
        for &auth in AuthType::ALL {
            assert_eq!(AuthType::try_from(auth.id()), Ok(auth));
        }
        assert_eq!(
            AuthType::try_from(5),
            Err(ResponseStatus::AuthenticatorDoesNotExist)
        );
    }

    #[test]
    fn auth_buffer_debug_hides_the_bytes() {
        let buffer = AuthBuffer::from("secret-application");
        let shown = format!("{buffer:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("18 bytes"), "{shown}");
    }
}
