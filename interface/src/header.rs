//! The fixed 36-byte header that starts every request and every response.
//!
//! Layout (all integers little-endian):
//!
//! | offset | size | field          |
//! |-------:|-----:|----------------|
//! | 0      | 4    | magic number   |
//! | 4      | 2    | header size    |
//! | 6      | 1    | version major  |
//! | 7      | 1    | version minor  |
//! | 8      | 2    | flags          |
//! | 10     | 1    | provider id    |
//! | 11     | 8    | session handle |
//! | 19     | 1    | content type   |
//! | 20     | 1    | accept type    |
//! | 21     | 1    | auth type      |
//! | 22     | 4    | body length    |
//! | 26     | 2    | auth length    |
//! | 28     | 4    | opcode         |
//! | 32     | 2    | status         |
//! | 34     | 2    | reserved       |
//!
//! [`RawHeader`] is that layout with every field a plain integer: reading it
//! checks only what makes the bytes a header at all (magic, size, version,
//! reserved). [`RequestHeader`] and [`ResponseHeader`] are the typed views,
//! and converting to them checks each field against the protocol.

use crate::{AuthType, Opcode, ProviderId, ResponseStatus};
use std::io::{Read, Write};

/// The magic number that opens every header.
pub const MAGIC_NUMBER: u32 = 0x5EC0_A710;
/// The size of the fixed header on the wire, in bytes.
pub const WIRE_HEADER_LEN: usize = 36;
/// The value of the header size field: the bytes that follow it.
pub const HEADER_SIZE_FIELD: u16 = 30;
/// The wire protocol version this crate speaks: major.
pub const VERSION_MAJOR: u8 = 1;
/// The wire protocol version this crate speaks: minor.
pub const VERSION_MINOR: u8 = 0;

/// How a body is encoded. Protobuf is the only encoding the protocol defines.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
#[repr(u8)]
pub enum BodyType {
    /// Protocol Buffers (proto3).
    #[default]
    Protobuf = 0,
}

impl BodyType {
    /// The body type for an id byte, or `None` if none has that id.
    pub fn from_id(id: u8) -> Option<Self> {
        match id {
            0 => Some(BodyType::Protobuf),
            _ => None,
        }
    }

    /// The id byte.
    pub fn id(self) -> u8 {
        self as u8
    }
}

/// The fixed header with every field as the integer on the wire.
///
/// The magic number, header size, version and reserved bytes are not stored:
/// they are checked when reading and written as the protocol fixes them.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub struct RawHeader {
    /// Flags; none are defined, and they are ignored on receipt.
    pub flags: u16,
    /// Provider id.
    pub provider: u8,
    /// Session handle, echoed back in the response.
    pub session: u64,
    /// Encoding of this message's body.
    pub content_type: u8,
    /// Encoding the client wants for the response body (requests only).
    pub accept_type: u8,
    /// Authenticator that reads the auth bytes (requests only).
    pub auth_type: u8,
    /// Length of the body that follows the header.
    pub body_len: u32,
    /// Length of the auth bytes that follow the body (requests only).
    pub auth_len: u16,
    /// Operation code.
    pub opcode: u32,
    /// Response status (responses only).
    pub status: u16,
}

/// The `N` bytes at `offset`. Every caller passes a constant offset that
/// with `N` stays inside the 36-byte array.
#[allow(
    clippy::indexing_slicing,
    reason = "constant offsets within a fixed-size array"
)]
fn field<const N: usize>(bytes: &[u8; WIRE_HEADER_LEN], offset: usize) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&bytes[offset..offset + N]);
    out
}

impl RawHeader {
    /// Decodes a header from its 36 bytes.
    ///
    /// Errors: a wrong magic number, header size or non-zero reserved bytes
    /// give [`ResponseStatus::InvalidHeader`]; a version other than 1.0 gives
    /// [`ResponseStatus::WireProtocolVersionNotSupported`].
    pub fn decode(bytes: &[u8; WIRE_HEADER_LEN]) -> Result<RawHeader, ResponseStatus> {
        Self::check_prefix(&field::<6>(bytes, 0))?;
        let header = RawHeader {
            flags: u16::from_le_bytes(field(bytes, 8)),
            provider: bytes[10],
            session: u64::from_le_bytes(field(bytes, 11)),
            content_type: bytes[19],
            accept_type: bytes[20],
            auth_type: bytes[21],
            body_len: u32::from_le_bytes(field(bytes, 22)),
            auth_len: u16::from_le_bytes(field(bytes, 26)),
            opcode: u32::from_le_bytes(field(bytes, 28)),
            status: u16::from_le_bytes(field(bytes, 32)),
        };
        if bytes[6] != VERSION_MAJOR || bytes[7] != VERSION_MINOR {
            return Err(ResponseStatus::WireProtocolVersionNotSupported);
        }
        if u16::from_le_bytes(field(bytes, 34)) != 0 {
            return Err(ResponseStatus::InvalidHeader);
        }
        Ok(header)
    }

    /// Checks the magic number and header size, the first six bytes, so
    /// that a reader can refuse a peer that sends garbage without waiting
    /// for the whole header: [`ResponseStatus::InvalidHeader`] if either is
    /// wrong.
    pub fn check_prefix(prefix: &[u8; 6]) -> Result<(), ResponseStatus> {
        let [m0, m1, m2, m3, s0, s1] = *prefix;
        if u32::from_le_bytes([m0, m1, m2, m3]) != MAGIC_NUMBER {
            return Err(ResponseStatus::InvalidHeader);
        }
        if u16::from_le_bytes([s0, s1]) != HEADER_SIZE_FIELD {
            return Err(ResponseStatus::InvalidHeader);
        }
        Ok(())
    }

    /// Reads and decodes a header from a stream.
    ///
    /// The magic number and header size are read and checked first, so a
    /// peer that sends garbage is answered without waiting for 36 bytes.
    /// A stream that ends early gives [`ResponseStatus::ConnectionError`].
    pub fn read_from<R: Read + ?Sized>(reader: &mut R) -> Result<RawHeader, ResponseStatus> {
        let mut bytes = [0u8; WIRE_HEADER_LEN];
        let (prefix, rest) = bytes.split_at_mut(6);
        reader.read_exact(prefix)?;
        let mut checked = [0u8; 6];
        checked.copy_from_slice(prefix);
        Self::check_prefix(&checked)?;
        reader.read_exact(rest)?;
        Self::decode(&bytes)
    }

    /// Encodes the header into its 36 bytes.
    #[allow(
        clippy::indexing_slicing,
        reason = "constant offsets within a fixed-size array"
    )]
    pub fn encode(&self) -> [u8; WIRE_HEADER_LEN] {
        let mut out = [0u8; WIRE_HEADER_LEN];
        let mut put = |offset: usize, value: &[u8]| {
            out[offset..offset + value.len()].copy_from_slice(value);
        };
        put(0, &MAGIC_NUMBER.to_le_bytes());
        put(4, &HEADER_SIZE_FIELD.to_le_bytes());
        put(6, &[VERSION_MAJOR, VERSION_MINOR]);
        put(8, &self.flags.to_le_bytes());
        put(10, &[self.provider]);
        put(11, &self.session.to_le_bytes());
        put(19, &[self.content_type, self.accept_type, self.auth_type]);
        put(22, &self.body_len.to_le_bytes());
        put(26, &self.auth_len.to_le_bytes());
        put(28, &self.opcode.to_le_bytes());
        put(32, &self.status.to_le_bytes());
        // Bytes 34..36 are reserved and stay zero.
        out
    }

    /// Writes the encoded header to a stream.
    pub fn write_to<W: Write + ?Sized>(&self, writer: &mut W) -> Result<(), ResponseStatus> {
        writer.write_all(&self.encode())?;
        Ok(())
    }

    /// The header that answers a request which could not be read (bad
    /// header, unknown field value, body over the limit, bytes that never
    /// came): provider Core, opcode Ping, session 0, protobuf, no body, and
    /// `status`. Like Parsec, nothing of the request is echoed: a Parsec
    /// client refuses a reply whose provider id or opcode it does not know,
    /// so these two fields always carry values every client decodes.
    pub fn unreadable_request_reply(status: ResponseStatus) -> RawHeader {
        RawHeader {
            provider: ProviderId::Core.id(),
            opcode: Opcode::Ping.code(),
            status: status.code(),
            ..RawHeader::default()
        }
    }
}

/// The header of a request, every field checked.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct RequestHeader {
    /// Which provider should do the operation.
    pub provider: ProviderId,
    /// Session handle, echoed back.
    pub session: u64,
    /// Encoding of the request body.
    pub content_type: BodyType,
    /// Encoding wanted for the response body.
    pub accept_type: BodyType,
    /// Which authenticator reads the auth bytes.
    pub auth_type: AuthType,
    /// The operation.
    pub opcode: Opcode,
}

impl RequestHeader {
    /// A header for `opcode` sent to `provider` with protobuf bodies.
    pub fn new(provider: ProviderId, auth_type: AuthType, opcode: Opcode) -> Self {
        RequestHeader {
            provider,
            session: 0,
            content_type: BodyType::Protobuf,
            accept_type: BodyType::Protobuf,
            auth_type,
            opcode,
        }
    }

    /// Checks each field of a raw request header and returns the status for
    /// the first that is wrong, in the order Parsec checks them (so both
    /// answer a header with several wrong fields alike): content type
    /// ([`ResponseStatus::ContentTypeNotSupported`]), accept type
    /// ([`ResponseStatus::AcceptTypeNotSupported`]), auth type
    /// ([`ResponseStatus::AuthenticatorDoesNotExist`]), opcode
    /// ([`ResponseStatus::OpcodeDoesNotExist`]), provider
    /// ([`ResponseStatus::ProviderDoesNotExist`]).
    pub fn from_raw(raw: &RawHeader) -> Result<Self, ResponseStatus> {
        let content_type =
            BodyType::from_id(raw.content_type).ok_or(ResponseStatus::ContentTypeNotSupported)?;
        let accept_type =
            BodyType::from_id(raw.accept_type).ok_or(ResponseStatus::AcceptTypeNotSupported)?;
        let auth_type = AuthType::try_from(raw.auth_type)?;
        let opcode = Opcode::try_from(raw.opcode)?;
        Ok(RequestHeader {
            provider: ProviderId::try_from(raw.provider)?,
            session: raw.session,
            content_type,
            accept_type,
            auth_type,
            opcode,
        })
    }

    /// The raw header for this request with the given body and auth lengths.
    pub fn to_raw(&self, body_len: u32, auth_len: u16) -> RawHeader {
        RawHeader {
            flags: 0,
            provider: self.provider.id(),
            session: self.session,
            content_type: self.content_type.id(),
            accept_type: self.accept_type.id(),
            auth_type: self.auth_type.id(),
            body_len,
            auth_len,
            opcode: self.opcode.code(),
            status: 0,
        }
    }

    /// The header of the response to this request, with `status`.
    pub fn reply(&self, status: ResponseStatus) -> ResponseHeader {
        ResponseHeader {
            provider: self.provider,
            session: self.session,
            content_type: self.accept_type,
            opcode: self.opcode,
            status,
        }
    }
}

/// The header of a response, every field checked.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ResponseHeader {
    /// The provider that answered.
    pub provider: ProviderId,
    /// Session handle from the request.
    pub session: u64,
    /// Encoding of the response body.
    pub content_type: BodyType,
    /// The operation answered.
    pub opcode: Opcode,
    /// How it went.
    pub status: ResponseStatus,
}

impl ResponseHeader {
    /// Checks each field of a raw response header. An unknown provider,
    /// opcode or status means the response is not one this crate can read:
    /// [`ResponseStatus::InvalidEncoding`]. An unknown content type gives
    /// [`ResponseStatus::ContentTypeNotSupported`].
    pub fn from_raw(raw: &RawHeader) -> Result<Self, ResponseStatus> {
        Ok(ResponseHeader {
            provider: ProviderId::from_id(raw.provider).ok_or(ResponseStatus::InvalidEncoding)?,
            session: raw.session,
            content_type: BodyType::from_id(raw.content_type)
                .ok_or(ResponseStatus::ContentTypeNotSupported)?,
            opcode: Opcode::from_code(raw.opcode).ok_or(ResponseStatus::InvalidEncoding)?,
            status: ResponseStatus::from_code(raw.status).ok_or(ResponseStatus::InvalidEncoding)?,
        })
    }

    /// The raw header for this response with the given body length.
    pub fn to_raw(&self, body_len: u32) -> RawHeader {
        RawHeader {
            provider: self.provider.id(),
            session: self.session,
            content_type: self.content_type.id(),
            body_len,
            opcode: self.opcode.code(),
            status: self.status.code(),
            ..RawHeader::default()
        }
    }
}
