//! One request, one response, one connection: the low level of the client.
//!
//! [`IpcClient`] connects to the service's Unix socket, writes
//! `header | body | auth`, reads `header | body` with a limit on the body
//! size, and closes. Every read and write shares one deadline, so a service
//! that trickles bytes can not hold the caller longer than the timeout.
//!
//! Writing to a socket the service has closed raises `SIGPIPE`; Rust
//! programs ignore it by default, but a program that restores its default
//! action would be killed rather than get an error.

use crate::error::ResponseProblem;
use crate::{Authentication, ClientErrorKind, Endpoint, Error};
use psec_interface::header::{MAGIC_NUMBER, WIRE_HEADER_LEN};
use psec_interface::{
    NativeOperation, NativeResult, ProviderId, Request, RequestHeader, Response, ResponseStatus,
};
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

/// How long a request may take, from just before connecting to the last
/// byte of the response, unless set otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The largest response body accepted unless set otherwise: 1 MiB, the
/// default `body_len_limit` of the service, which caps its responses too.
pub const DEFAULT_MAX_RESPONSE_BODY_LEN: usize = 1 << 20;

/// Sends requests to the service, one connection each.
///
/// Cheap to clone; holds no connection between requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpcClient {
    endpoint: Endpoint,
    timeout: Option<Duration>,
    max_response_body_len: usize,
}

impl IpcClient {
    /// A client for `endpoint` with [`DEFAULT_TIMEOUT`] and
    /// [`DEFAULT_MAX_RESPONSE_BODY_LEN`].
    pub fn new(endpoint: Endpoint) -> Self {
        IpcClient {
            endpoint,
            timeout: Some(DEFAULT_TIMEOUT),
            max_response_body_len: DEFAULT_MAX_RESPONSE_BODY_LEN,
        }
    }

    /// Sets the endpoint.
    pub fn with_endpoint(mut self, endpoint: Endpoint) -> Self {
        self.endpoint = endpoint;
        self
    }

    /// Sets how long a whole request may take, counted from just before
    /// connecting to the last byte of the response; `None` waits forever.
    /// A zero duration makes every request fail with
    /// [`ClientErrorKind::ZeroTimeout`].
    ///
    /// Connecting itself is not interrupted (the standard library has no
    /// timeout for connecting a Unix socket); it only blocks when the
    /// service's listen queue is full.
    pub fn with_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the largest response body accepted, in bytes.
    pub fn with_max_response_body_len(mut self, limit: usize) -> Self {
        self.max_response_body_len = limit;
        self
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The timeout of a whole request, if any.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// The largest response body accepted, in bytes.
    pub fn max_response_body_len(&self) -> usize {
        self.max_response_body_len
    }

    /// Sends `request` and returns the response, whatever its status.
    ///
    /// Errors are all [`Error::Client`] except one: a response whose header
    /// carries an error status but can not be decoded otherwise (the service
    /// could not read the request's header, so it echoed nothing) gives
    /// [`Error::Service`] with that status.
    pub fn send(&self, request: &Request) -> Result<Response, Error> {
        if self.timeout == Some(Duration::ZERO) {
            return Err(ClientErrorKind::ZeroTimeout.into());
        }
        let wire = request.encode().map_err(ClientErrorKind::InvalidRequest)?;
        // A deadline too far to represent is no deadline.
        let deadline = self.timeout.and_then(|t| Instant::now().checked_add(t));
        let stream = UnixStream::connect(self.endpoint.path()).map_err(|source| {
            ClientErrorKind::Connect {
                endpoint: self.endpoint.clone(),
                source,
            }
        })?;
        let mut connection = Connection::new(&stream, deadline);
        if let Err(error) = connection.write_all(&wire) {
            let error = connection.last_error.take().unwrap_or(error);
            // A service that refuses a request from its header alone (too
            // large a body, say) answers and closes without reading the
            // rest; its answer is then waiting to be read.
            if matches!(
                error.kind(),
                io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
            ) {
                if let Ok(response) = self.read_response(&mut Connection::new(&stream, deadline)) {
                    return Ok(response);
                }
            }
            return Err(self.io_error(error));
        }
        self.read_response(&mut connection)
    }

    /// Sends `operation` to `provider` with `auth`, and returns its result.
    ///
    /// A status other than success gives [`Error::Service`]; a response for
    /// another opcode, provider or session, or a body that does not decode,
    /// gives [`ClientErrorKind::MalformedResponse`].
    pub fn process(
        &self,
        provider: ProviderId,
        auth: &Authentication,
        operation: NativeOperation,
    ) -> Result<NativeResult, Error> {
        let request = request_for(provider, auth, operation)?;
        let response = self.send(&request)?;
        result_of(&request, &response)
    }

    fn read_response(&self, connection: &mut Connection<'_>) -> Result<Response, Error> {
        let status = match Response::read_from(connection, self.max_response_body_len) {
            Ok(response) => return Ok(response),
            Err(status) => status,
        };
        Err(match status {
            ResponseStatus::ResponseTooLarge => ClientErrorKind::ResponseTooLarge {
                limit: self.max_response_body_len,
            }
            .into(),
            ResponseStatus::ConnectionError => match connection.last_error.take() {
                Some(error) => self.io_error(error),
                None => ClientErrorKind::ConnectionClosed {
                    endpoint: self.endpoint.clone(),
                }
                .into(),
            },
            status => match connection.header_error_status() {
                Some(service_status) => Error::Service(service_status),
                None => ClientErrorKind::MalformedResponse(ResponseProblem::Header(status)).into(),
            },
        })
    }

    pub(crate) fn io_error(&self, error: io::Error) -> Error {
        match (error.kind(), self.timeout) {
            (io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut, Some(timeout)) => {
                ClientErrorKind::Timeout {
                    endpoint: self.endpoint.clone(),
                    timeout,
                }
            }
            _ => ClientErrorKind::Io {
                endpoint: self.endpoint.clone(),
                source: error,
            },
        }
        .into()
    }
}

/// The request that sends `operation` to `provider` with `auth`.
pub(crate) fn request_for(
    provider: ProviderId,
    auth: &Authentication,
    operation: NativeOperation,
) -> Result<Request, Error> {
    let opcode = operation.opcode();
    Ok(Request {
        header: RequestHeader::new(provider, auth.auth_type(), opcode),
        body: operation
            .into_body()
            .map_err(ClientErrorKind::InvalidRequest)?,
        auth: auth.credentials()?,
    })
}

/// The result `response` carries for `request`: see [`IpcClient::process`].
pub(crate) fn result_of(request: &Request, response: &Response) -> Result<NativeResult, Error> {
    let (sent, received) = (&request.header, &response.header);
    if received.status != ResponseStatus::Success {
        return Err(Error::Service(received.status));
    }
    let problem = if received.opcode != sent.opcode {
        Some(ResponseProblem::OpcodeMismatch {
            sent: sent.opcode,
            received: received.opcode,
        })
    } else if received.provider != sent.provider {
        Some(ResponseProblem::ProviderMismatch {
            sent: sent.provider,
            received: received.provider,
        })
    } else if received.session != sent.session {
        Some(ResponseProblem::SessionMismatch {
            sent: sent.session,
            received: received.session,
        })
    } else {
        None
    };
    if let Some(problem) = problem {
        return Err(ClientErrorKind::MalformedResponse(problem).into());
    }
    let opcode = sent.opcode;
    NativeResult::from_body(opcode, &response.body).map_err(|status| {
        ClientErrorKind::MalformedResponse(ResponseProblem::Body { opcode, status }).into()
    })
}

/// The status of a response header the decoder refused, if it is a header
/// after all (right magic number) with a known error status: what a
/// service answers to a request it could not read.
pub(crate) fn header_error_status(header: &[u8; WIRE_HEADER_LEN]) -> Option<ResponseStatus> {
    let magic = header.first_chunk::<4>().copied().map(u32::from_le_bytes)?;
    let status = header
        .get(32..34)
        .and_then(|bytes| <[u8; 2]>::try_from(bytes).ok())
        .map(u16::from_le_bytes)?;
    let status = ResponseStatus::from_code(status)?;
    (magic == MAGIC_NUMBER && status != ResponseStatus::Success).then_some(status)
}

/// The client's side of one connection: reads and writes against a
/// deadline, remembering the last I/O error (which `Response::read_from`
/// turns into a bare status) and the header bytes read.
struct Connection<'a> {
    stream: &'a UnixStream,
    deadline: Option<Instant>,
    last_error: Option<io::Error>,
    header: [u8; WIRE_HEADER_LEN],
    header_len: usize,
}

impl<'a> Connection<'a> {
    fn new(stream: &'a UnixStream, deadline: Option<Instant>) -> Self {
        Connection {
            stream,
            deadline,
            last_error: None,
            header: [0; WIRE_HEADER_LEN],
            header_len: 0,
        }
    }

    /// Sets the socket's timeout to what is left before the deadline.
    fn arm(&mut self, set: fn(&UnixStream, Option<Duration>) -> io::Result<()>) -> io::Result<()> {
        let Some(deadline) = self.deadline else {
            return Ok(());
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::from(io::ErrorKind::TimedOut));
        }
        set(self.stream, Some(left))
    }

    /// Keeps the error of a failed call for the caller (`read_from` turns
    /// what it gets into a bare status) and passes on one of the same kind;
    /// forgets it when a later call succeeds (a retried `Interrupted`).
    fn record<T>(&mut self, result: io::Result<T>) -> io::Result<T> {
        match result {
            Ok(value) => {
                self.last_error = None;
                Ok(value)
            }
            Err(error) => {
                let kind = error.kind();
                self.last_error = Some(error);
                Err(io::Error::from(kind))
            }
        }
    }

    /// See [`header_error_status`]; `None` before the whole header came.
    fn header_error_status(&self) -> Option<ResponseStatus> {
        if self.header_len < WIRE_HEADER_LEN {
            return None;
        }
        header_error_status(&self.header)
    }
}

impl Read for Connection<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let armed = self.arm(UnixStream::set_read_timeout);
        self.record(armed)?;
        let result = (&mut &*self.stream).read(buf);
        let read = self.record(result)?;
        if let (Some(unfilled), Some(bytes)) =
            (self.header.get_mut(self.header_len..), buf.get(..read))
        {
            let take = unfilled.len().min(bytes.len());
            if let (Some(to), Some(from)) = (unfilled.get_mut(..take), bytes.get(..take)) {
                to.copy_from_slice(from);
                self.header_len += take;
            }
        }
        Ok(read)
    }
}

impl Write for Connection<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let armed = self.arm(UnixStream::set_write_timeout);
        self.record(armed)?;
        let result = (&mut &*self.stream).write(buf);
        self.record(result)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
