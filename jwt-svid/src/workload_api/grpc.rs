//! The little of gRPC the Workload API needs, on h2: messages framed with a
//! 5-byte prefix (a compression flag, always 0 here, and a big-endian
//! length), `grpc-status` and `grpc-message` in the trailers (or in the
//! headers of a response that has no body). Shared by the client and the
//! test stand-in.

use super::WorkloadApiError;
use bytes::{Buf, BufMut, Bytes, BytesMut};
use h2::RecvStream;
use http::HeaderMap;

/// The largest message read (the agent's bundles are a few KiB).
pub(crate) const MAX_MESSAGE: usize = 4 * 1024 * 1024;

/// The gRPC status codes used here.
#[cfg_attr(
    not(feature = "testing"),
    allow(dead_code, reason = "the stand-in answers these")
)]
pub(crate) mod code {
    pub(crate) const OK: u32 = 0;
    pub(crate) const INVALID_ARGUMENT: u32 = 3;
    pub(crate) const PERMISSION_DENIED: u32 = 7;
    pub(crate) const UNIMPLEMENTED: u32 = 12;
}

/// The path of a method of the `SpiffeWorkloadAPI` service (workload.proto
/// declares no package).
pub(crate) fn path(method: &str) -> String {
    format!("/SpiffeWorkloadAPI/{method}")
}

/// `message` with its 5-byte prefix.
pub(crate) fn frame(message: &impl prost::Message) -> Bytes {
    let len = message.encoded_len();
    let mut buf = BytesMut::with_capacity(5 + len);
    buf.put_u8(0);
    buf.put_u32(u32::try_from(len).unwrap_or(u32::MAX));
    // Encoding into a buffer with enough room can not fail.
    let _ = message.encode(&mut buf);
    buf.freeze()
}

/// The gRPC status of a header or trailer map: `None` when it has none,
/// `Ok` for status 0, the error otherwise.
pub(crate) fn status(headers: &HeaderMap) -> Option<Result<(), WorkloadApiError>> {
    let code = headers.get("grpc-status")?;
    let code = code
        .to_str()
        .ok()
        .and_then(|c| c.parse::<u32>().ok())
        .unwrap_or(u32::MAX);
    if code == code::OK {
        return Some(Ok(()));
    }
    let message = headers
        .get("grpc-message")
        .map(|m| String::from_utf8_lossy(m.as_bytes()).into_owned())
        .unwrap_or_default();
    Some(Err(WorkloadApiError::Status { code, message }))
}

/// Reads the messages of a response or request body one by one.
#[derive(Debug)]
pub(crate) struct Messages {
    body: RecvStream,
    buf: BytesMut,
}

impl Messages {
    pub(crate) fn new(body: RecvStream) -> Self {
        Messages {
            body,
            buf: BytesMut::new(),
        }
    }

    /// The next message, or `None` at the end of the body.
    pub(crate) async fn next<M: prost::Message + Default>(
        &mut self,
    ) -> Result<Option<M>, WorkloadApiError> {
        loop {
            if let Some(message) = self.take()? {
                return Ok(Some(message));
            }
            match self.body.data().await {
                Some(Ok(chunk)) => {
                    let _ = self.body.flow_control().release_capacity(chunk.len());
                    self.buf.extend_from_slice(&chunk);
                }
                Some(Err(error)) => return Err(WorkloadApiError::Http2(error)),
                None if self.buf.is_empty() => return Ok(None),
                None => return Err(WorkloadApiError::Protocol("a gRPC message cut short")),
            }
        }
    }

    /// The trailers, read after the last message.
    pub(crate) async fn trailers(&mut self) -> Result<Option<HeaderMap>, WorkloadApiError> {
        self.body.trailers().await.map_err(WorkloadApiError::Http2)
    }

    fn take<M: prost::Message + Default>(&mut self) -> Result<Option<M>, WorkloadApiError> {
        let Some(prefix) = self.buf.get(..5) else {
            return Ok(None);
        };
        if prefix.first() != Some(&0) {
            return Err(WorkloadApiError::Protocol(
                "a compressed gRPC message (none was asked for)",
            ));
        }
        let len = prefix
            .get(1..5)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_be_bytes)
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(usize::MAX);
        if len > MAX_MESSAGE {
            return Err(WorkloadApiError::Protocol(
                "a gRPC message over 4 MiB (the limit read)",
            ));
        }
        if self.buf.len() < 5 + len {
            return Ok(None);
        }
        self.buf.advance(5);
        let message = self.buf.split_to(len);
        M::decode(message.freeze())
            .map(Some)
            .map_err(WorkloadApiError::Decode)
    }
}
