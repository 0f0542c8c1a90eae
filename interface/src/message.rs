//! Whole messages: a request (header, body, auth bytes) and a response
//! (header, body), read from and written to a stream.

use crate::header::{RawHeader, RequestHeader, ResponseHeader};
use crate::{AuthBuffer, ResponseStatus};
use std::fmt;
use std::io::{Read, Write};
use zeroize::Zeroizing;

/// An encoded body. Bodies may carry key material and plaintexts, so the
/// bytes are wiped when dropped and never shown by `Debug`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Body(Zeroizing<Vec<u8>>);

impl Body {
    /// Wraps encoded bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        Body(Zeroizing::new(bytes))
    }

    /// The encoded bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// The length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the body is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Body({} bytes)", self.0.len())
    }
}

/// Reads exactly `len` bytes, after the caller has checked `len` against its
/// limit. The buffer is allocated once at its final size, so no partial copy
/// of a secret is left behind in a freed smaller buffer.
fn read_exact_vec<R: Read + ?Sized>(reader: &mut R, len: usize) -> Result<Vec<u8>, ResponseStatus> {
    let mut bytes = Zeroizing::new(Vec::with_capacity(len));
    let read = reader.take(len as u64).read_to_end(&mut bytes)?;
    if read != len {
        return Err(ResponseStatus::ConnectionError);
    }
    Ok(std::mem::take(&mut *bytes))
}

/// The length as the header's field, or `limit_status` if it does not fit.
fn wire_len<T: TryFrom<usize>>(
    len: usize,
    limit_status: ResponseStatus,
) -> Result<T, ResponseStatus> {
    T::try_from(len).map_err(|_| limit_status)
}

/// A request: what the client sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The checked header.
    pub header: RequestHeader,
    /// The encoded operation.
    pub body: Body,
    /// The authentication bytes.
    pub auth: AuthBuffer,
}

impl Request {
    /// Reads a whole request from a stream.
    ///
    /// The steps and their order are Parsec's, so that both answer a
    /// malformed request with the same status: the fixed part of the header
    /// ([`RawHeader::read_from`]); the body length against `body_len_limit`,
    /// before any of the body is read
    /// ([`ResponseStatus::BodySizeExceedsLimit`]); the body and auth bytes
    /// (a stream that ends early: [`ResponseStatus::ConnectionError`]); then
    /// the header's fields ([`RequestHeader::from_raw`]). Whatever fails,
    /// the answer is [`RawHeader::unreadable_request_reply`].
    pub fn read_from<R: Read + ?Sized>(
        reader: &mut R,
        body_len_limit: usize,
    ) -> Result<Request, ResponseStatus> {
        let raw = RawHeader::read_from(reader)?;
        let body_len = usize::try_from(raw.body_len).unwrap_or(usize::MAX);
        if body_len > body_len_limit {
            return Err(ResponseStatus::BodySizeExceedsLimit);
        }
        let body = Body::new(read_exact_vec(reader, body_len)?);
        let auth = AuthBuffer::new(read_exact_vec(reader, usize::from(raw.auth_len))?);
        let header = RequestHeader::from_raw(&raw)?;
        Ok(Request { header, body, auth })
    }

    /// Encodes the whole request: header, body, auth bytes.
    ///
    /// A body over 4 GiB gives [`ResponseStatus::BodySizeExceedsLimit`];
    /// auth bytes over 64 KiB give [`ResponseStatus::InvalidEncoding`].
    pub fn encode(&self) -> Result<Zeroizing<Vec<u8>>, ResponseStatus> {
        let body_len = wire_len(self.body.len(), ResponseStatus::BodySizeExceedsLimit)?;
        let auth_len = wire_len(self.auth.len(), ResponseStatus::InvalidEncoding)?;
        let raw = self.header.to_raw(body_len, auth_len);
        let mut out = Zeroizing::new(Vec::with_capacity(
            crate::header::WIRE_HEADER_LEN + self.body.len() + self.auth.len(),
        ));
        out.extend_from_slice(&raw.encode());
        out.extend_from_slice(self.body.bytes());
        out.extend_from_slice(self.auth.bytes());
        Ok(out)
    }

    /// Writes the whole request to a stream in one piece.
    pub fn write_to<W: Write + ?Sized>(&self, writer: &mut W) -> Result<(), ResponseStatus> {
        writer.write_all(&self.encode()?)?;
        Ok(())
    }
}

/// A response: what the service answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The checked header.
    pub header: ResponseHeader,
    /// The encoded result (empty when the status is not success).
    pub body: Body,
}

impl Response {
    /// A response to `request` with `status` and no body.
    pub fn status_only(request: &RequestHeader, status: ResponseStatus) -> Response {
        Response {
            header: request.reply(status),
            body: Body::default(),
        }
    }

    /// Reads a whole response from a stream. A body longer than
    /// `body_len_limit` gives [`ResponseStatus::ResponseTooLarge`] before any
    /// of it is read.
    pub fn read_from<R: Read + ?Sized>(
        reader: &mut R,
        body_len_limit: usize,
    ) -> Result<Response, ResponseStatus> {
        let raw = RawHeader::read_from(reader)?;
        let header = ResponseHeader::from_raw(&raw)?;
        let body_len = usize::try_from(raw.body_len).unwrap_or(usize::MAX);
        if body_len > body_len_limit {
            return Err(ResponseStatus::ResponseTooLarge);
        }
        let body = Body::new(read_exact_vec(reader, body_len)?);
        Ok(Response { header, body })
    }

    /// Encodes the whole response: header then body. A body over 4 GiB
    /// gives [`ResponseStatus::ResponseTooLarge`].
    pub fn encode(&self) -> Result<Zeroizing<Vec<u8>>, ResponseStatus> {
        let body_len = wire_len(self.body.len(), ResponseStatus::ResponseTooLarge)?;
        let mut out = Zeroizing::new(Vec::with_capacity(
            crate::header::WIRE_HEADER_LEN + self.body.len(),
        ));
        out.extend_from_slice(&self.header.to_raw(body_len).encode());
        out.extend_from_slice(self.body.bytes());
        Ok(out)
    }

    /// Writes the whole response to a stream in one piece.
    pub fn write_to<W: Write + ?Sized>(&self, writer: &mut W) -> Result<(), ResponseStatus> {
        writer.write_all(&self.encode()?)?;
        Ok(())
    }
}
