//! How the client proves which application it is.

use crate::{ClientErrorKind, Error};
use psec_interface::{AuthBuffer, AuthType, SecretBytes};
use std::fmt;
use std::io;
use std::os::unix::fs::MetadataExt;

/// The most authentication bytes a request can carry (the auth length field
/// is 16 bits).
pub const MAX_AUTH_LEN: usize = u16::MAX as usize;

/// The credentials sent with requests that need an authenticated
/// application.
///
/// `Debug` shows the kind of authentication and never the application name
/// or token: with direct authentication, the name is what gives access to
/// the application's keys.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Authentication(Kind);

/// No authentication, for what borrows one.
pub(crate) static NO_AUTHENTICATION: Authentication = Authentication(Kind::None);

#[derive(Clone, Default, PartialEq, Eq)]
enum Kind {
    #[default]
    None,
    Direct(SecretBytes),
    UnixPeerCredentials(u32),
    JwtSvid(SecretBytes),
    /// JWT-SVIDs fetched from the Workload API as needed.
    #[cfg(feature = "spiffe-auth")]
    Spiffe(Spiffe),
}

/// A shared SVID source; two are equal when they are the same source.
#[cfg(feature = "spiffe-auth")]
#[derive(Clone, Debug)]
struct Spiffe(std::sync::Arc<crate::spiffe::SvidSource>);

#[cfg(feature = "spiffe-auth")]
impl PartialEq for Spiffe {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

#[cfg(feature = "spiffe-auth")]
impl Eq for Spiffe {}

impl Authentication {
    /// No authentication: only the operations open to anyone (Ping, the
    /// List* of providers, opcodes and authenticators, random bytes and
    /// hashes) succeed.
    pub fn none() -> Self {
        Authentication(Kind::None)
    }

    /// Direct authentication: the service takes the application name on
    /// trust. Errors: an empty name
    /// ([`ClientErrorKind::MissingApplicationName`]) or one over 65,535
    /// bytes ([`ClientErrorKind::AuthDataTooLong`]).
    pub fn direct(app_name: &str) -> Result<Self, Error> {
        if app_name.is_empty() {
            return Err(ClientErrorKind::MissingApplicationName.into());
        }
        check_len(app_name.len())?;
        Ok(Authentication(Kind::Direct(SecretBytes::from(
            app_name.as_bytes(),
        ))))
    }

    /// Unix peer credentials for `uid`: the service checks it against the
    /// user id the kernel reports for the socket's peer, so only a process
    /// running as `uid` succeeds.
    pub fn unix_peer_credentials(uid: u32) -> Self {
        Authentication(Kind::UnixPeerCredentials(uid))
    }

    /// Unix peer credentials for the user this process runs as.
    ///
    /// The user id is the owner of `/proc/self`, the process's effective
    /// user id, which is what the service's kernel reports for the socket
    /// peer. (A process made non-dumpable, for example a set-uid program,
    /// sees `/proc/self` owned by root; such a program should pass its user
    /// id to [`Authentication::unix_peer_credentials`].)
    /// Error: [`ClientErrorKind::UnknownUid`] if `/proc/self` can not be read.
    pub fn current_unix_user() -> Result<Self, Error> {
        let uid = current_uid().map_err(|source| ClientErrorKind::UnknownUid { source })?;
        Ok(Authentication::unix_peer_credentials(uid))
    }

    /// A JWT-SVID obtained from a SPIFFE workload API by the caller. Error:
    /// a token over 65,535 bytes ([`ClientErrorKind::AuthDataTooLong`]).
    pub fn jwt_svid(token: SecretBytes) -> Result<Self, Error> {
        check_len(token.len())?;
        Ok(Authentication(Kind::JwtSvid(token)))
    }

    /// JWT-SVIDs from the SPIFFE Workload API at `endpoint` (a `unix:`
    /// URI), or at the one `SPIFFE_ENDPOINT_SOCKET` names when `None`.
    /// Each request carries an SVID of audience `parsec`, fetched with
    /// FetchJWTSVID when first needed and again shortly before it expires
    /// (feature `spiffe-auth`). Clones share the SVID. Error: no endpoint,
    /// or one that is not a `unix:` URI ([`ClientErrorKind::WorkloadApi`]);
    /// the agent is first asked at the first request.
    #[cfg(feature = "spiffe-auth")]
    #[cfg_attr(docsrs, doc(cfg(feature = "spiffe-auth")))]
    pub fn spiffe(endpoint: Option<&str>) -> Result<Self, Error> {
        Ok(Authentication(Kind::Spiffe(Spiffe(std::sync::Arc::new(
            crate::spiffe::SvidSource::new(endpoint)?,
        )))))
    }

    /// The auth type put in request headers.
    pub fn auth_type(&self) -> AuthType {
        match self.0 {
            Kind::None => AuthType::NoAuth,
            Kind::Direct(_) => AuthType::Direct,
            Kind::UnixPeerCredentials(_) => AuthType::UnixPeerCredentials,
            Kind::JwtSvid(_) => AuthType::JwtSvid,
            #[cfg(feature = "spiffe-auth")]
            Kind::Spiffe(_) => AuthType::JwtSvid,
        }
    }

    /// The auth bytes put after the request body: nothing, the application
    /// name in UTF-8, the user id as 4 bytes little-endian, or the token.
    /// For [`Authentication::spiffe`], the SVID in use, fetched first if
    /// needed; empty if that fails (requests sent by this crate's clients
    /// report the failure instead).
    pub fn auth_buffer(&self) -> AuthBuffer {
        self.credentials().unwrap_or_default()
    }

    /// [`Authentication::auth_buffer`], with the Workload API's failure.
    pub(crate) fn credentials(&self) -> Result<AuthBuffer, Error> {
        Ok(match &self.0 {
            Kind::None => AuthBuffer::default(),
            Kind::Direct(bytes) | Kind::JwtSvid(bytes) => AuthBuffer::new(bytes.to_vec()),
            Kind::UnixPeerCredentials(uid) => AuthBuffer::new(uid.to_le_bytes().to_vec()),
            #[cfg(feature = "spiffe-auth")]
            Kind::Spiffe(source) => AuthBuffer::new(source.0.token()?.to_vec()),
        })
    }
}

fn check_len(len: usize) -> Result<(), Error> {
    if len > MAX_AUTH_LEN {
        return Err(ClientErrorKind::AuthDataTooLong { len }.into());
    }
    Ok(())
}

/// The effective user id of this process: the owner of `/proc/self`.
pub(crate) fn current_uid() -> io::Result<u32> {
    Ok(std::fs::metadata("/proc/self")?.uid())
}

impl fmt::Debug for Authentication {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Kind::None => f.write_str("Authentication::None"),
            Kind::Direct(name) => write!(
                f,
                "Authentication::Direct(application name hidden, {} bytes)",
                name.len()
            ),
            Kind::UnixPeerCredentials(uid) => {
                write!(f, "Authentication::UnixPeerCredentials(uid {uid})")
            }
            Kind::JwtSvid(token) => write!(
                f,
                "Authentication::JwtSvid(token hidden, {} bytes)",
                token.len()
            ),
            #[cfg(feature = "spiffe-auth")]
            Kind::Spiffe(_) => f.write_str("Authentication::Spiffe(token hidden)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_authentication_sends_no_bytes() {
        let auth = Authentication::none();
        assert_eq!(auth.auth_type(), AuthType::NoAuth);
        assert!(auth.auth_buffer().is_empty());
        assert_eq!(Authentication::default(), auth);
    }

    #[test]
    fn direct_sends_the_application_name_in_utf8() {
        let auth = Authentication::direct("caf\u{e9}-app").unwrap();
        assert_eq!(auth.auth_type(), AuthType::Direct);
        assert_eq!(auth.auth_buffer().bytes(), "caf\u{e9}-app".as_bytes());
    }

    #[test]
    fn direct_refuses_an_empty_or_oversized_name() {
        assert!(matches!(
            Authentication::direct(""),
            Err(Error::Client(ClientErrorKind::MissingApplicationName))
        ));
        let long = "a".repeat(MAX_AUTH_LEN + 1);
        assert!(matches!(
            Authentication::direct(&long),
            Err(Error::Client(ClientErrorKind::AuthDataTooLong { len })) if len == MAX_AUTH_LEN + 1
        ));
        assert!(Authentication::direct(&"a".repeat(MAX_AUTH_LEN)).is_ok());
    }

    #[test]
    fn unix_peer_credentials_send_the_uid_as_four_bytes_little_endian() {
        let auth = Authentication::unix_peer_credentials(0x0102_0304);
        assert_eq!(auth.auth_type(), AuthType::UnixPeerCredentials);
        assert_eq!(auth.auth_buffer().bytes(), [0x04, 0x03, 0x02, 0x01]);
    }

    #[test]
    fn current_unix_user_is_the_owner_of_proc_self() {
        let uid = std::fs::metadata("/proc/self").unwrap().uid();
        let auth = Authentication::current_unix_user().unwrap();
        assert_eq!(auth.auth_buffer().bytes(), uid.to_le_bytes());
    }

    #[test]
    fn jwt_svid_sends_the_token() {
        let auth = Authentication::jwt_svid(SecretBytes::from(b"eyJ.token".as_slice())).unwrap();
        assert_eq!(auth.auth_type(), AuthType::JwtSvid);
        assert_eq!(auth.auth_buffer().bytes(), b"eyJ.token");
    }

    #[test]
    fn debug_hides_application_names_and_tokens() {
        let direct = format!("{:?}", Authentication::direct("secret-app").unwrap());
        assert!(!direct.contains("secret"), "{direct}");
        assert!(direct.contains("10 bytes"), "{direct}");
        let jwt = format!(
            "{:?}",
            Authentication::jwt_svid(SecretBytes::from(b"eyJ.secret".as_slice())).unwrap()
        );
        assert!(!jwt.contains("secret"), "{jwt}");
        let unix = format!("{:?}", Authentication::unix_peer_credentials(1000));
        assert!(unix.contains("1000"), "{unix}");
    }
}
