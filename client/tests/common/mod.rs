//! `FakeServiceForTests`: a stand-in for the service, for testing the client
//! without one. It listens on a real Unix socket in a fresh temporary
//! directory, and on a thread of its own answers one connection per
//! scripted [`Answer`], in order: it reads the request with psec-interface,
//! keeps the raw bytes and the decoded request for the test to check, and
//! writes the hand-built answer. It is not a service: it checks nothing
//! and knows no keys.

#![allow(
    dead_code,
    unreachable_pub,
    reason = "each test file uses a different part of the fake"
)]

use psec_client::Endpoint;
use psec_client::psec_interface::header::RawHeader;
use psec_client::psec_interface::{NativeResult, Request, Response, ResponseStatus};
use std::io::{Read, Write};
use std::net::Shutdown;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long the fake waits for the client at any step before it gives up
/// and fails the test (so a broken client fails rather than hangs).
const PATIENCE: Duration = Duration::from_secs(10);

/// What the fake does with one connection.
pub enum Answer {
    /// Read the request; answer success with this result.
    Result(NativeResult),
    /// Read the request; answer this status with no body.
    Status(ResponseStatus),
    /// Read the request; answer exactly these bytes.
    Raw(Vec<u8>),
    /// Read the request; answer nothing, and wait for the client to hang up.
    Silence,
    /// Read the request; close without answering.
    Close,
    /// Read only the request's header; answer this status and close
    /// without reading the body, as a service does for too large a body.
    RefuseAfterHeader(ResponseStatus),
}

/// What the fake received on one connection.
pub struct Received {
    /// Every byte the client sent before the fake answered.
    pub raw: Vec<u8>,
    /// The request, decoded (`None` for `RefuseAfterHeader`).
    pub request: Option<Request>,
    /// Bytes the client sent after the answer, before hanging up.
    pub trailing: Vec<u8>,
}

impl Received {
    /// The decoded request; panics if there is none.
    pub fn request(&self) -> &Request {
        self.request.as_ref().expect("the fake decoded no request")
    }
}

pub struct FakeServiceForTests {
    dir: PathBuf,
    socket: PathBuf,
    thread: Option<JoinHandle<Vec<Received>>>,
}

/// Makes temporary directory names unique within the test process.
static NEXT_DIR: AtomicUsize = AtomicUsize::new(0);

/// A fresh, empty temporary directory.
pub fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "psec-client-test-{}-{}",
        std::process::id(),
        NEXT_DIR.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the temporary directory");
    dir
}

impl FakeServiceForTests {
    /// Listens on a new socket and answers one connection per answer.
    pub fn start(answers: Vec<Answer>) -> Self {
        let dir = temp_dir();
        let socket = dir.join("psec.sock");
        let listener = UnixListener::bind(&socket).expect("bind the fake service's socket");
        let thread = std::thread::spawn(move || {
            answers
                .into_iter()
                .map(|answer| serve_one(&accept(&listener), answer))
                .collect()
        });
        FakeServiceForTests {
            dir,
            socket,
            thread: Some(thread),
        }
    }

    /// The endpoint to give the client.
    pub fn endpoint(&self) -> Endpoint {
        Endpoint::unix_socket(&self.socket)
    }

    /// Waits until every answer was given, and returns what was received.
    pub fn finish(mut self) -> Vec<Received> {
        let thread = self.thread.take().expect("finish is called once");
        match thread.join() {
            Ok(received) => received,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

impl Drop for FakeServiceForTests {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The next connection, waiting at most `PATIENCE` for it.
fn accept(listener: &UnixListener) -> UnixStream {
    listener.set_nonblocking(true).expect("non-blocking accept");
    let deadline = Instant::now() + PATIENCE;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).expect("blocking stream");
                stream
                    .set_read_timeout(Some(PATIENCE))
                    .expect("read timeout");
                stream
                    .set_write_timeout(Some(PATIENCE))
                    .expect("write timeout");
                return stream;
            }
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {
                assert!(
                    Instant::now() < deadline,
                    "the client did not connect to the fake service"
                );
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(error) => panic!("accept failed: {error}"),
        }
    }
}

/// A reader that keeps a copy of every byte it reads.
struct Tee<'a> {
    stream: &'a UnixStream,
    copy: Vec<u8>,
}

impl Read for Tee<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = (&mut &*self.stream).read(buf)?;
        self.copy.extend_from_slice(&buf[..read]);
        Ok(read)
    }
}

fn serve_one(stream: &UnixStream, answer: Answer) -> Received {
    let mut tee = Tee {
        stream,
        copy: Vec::new(),
    };
    if let Answer::RefuseAfterHeader(status) = answer {
        RawHeader::read_from(&mut tee).expect("a request header");
        RawHeader::unreadable_request_reply(status)
            .write_to(&mut &*stream)
            .expect("write the refusal");
        return Received {
            raw: tee.copy,
            request: None,
            trailing: Vec::new(),
        };
    }
    let request = Request::read_from(&mut tee, 1 << 26).expect("a request the fake can read");
    let reply = match answer {
        Answer::Result(result) => Some(
            Response {
                header: request.header.reply(ResponseStatus::Success),
                body: result.into_body().expect("encode the answer"),
            }
            .encode()
            .expect("encode the response")
            .to_vec(),
        ),
        Answer::Status(status) => Some(
            Response::status_only(&request.header, status)
                .encode()
                .expect("encode the response")
                .to_vec(),
        ),
        Answer::Raw(bytes) => Some(bytes),
        Answer::Silence => None,
        Answer::Close => {
            return Received {
                raw: tee.copy,
                request: Some(request),
                trailing: Vec::new(),
            };
        }
        Answer::RefuseAfterHeader(_) => unreachable!("handled above"),
    };
    if let Some(reply) = reply {
        (&mut &*stream).write_all(&reply).expect("write the answer");
        stream.shutdown(Shutdown::Write).expect("end the answer");
    }
    // The client sends one request per connection, then hangs up. (If it
    // hangs up without reading the whole answer, the kernel reports a reset.)
    let mut trailing = Vec::new();
    match (&mut &*stream).read_to_end(&mut trailing) {
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(error) => panic!("the client did not hang up: {error}"),
    }
    Received {
        raw: tee.copy,
        request: Some(request),
        trailing,
    }
}

/// The raw bytes of a response header from `provider` for `opcode`, with
/// `status` and a body length of `body_len`.
pub fn raw_response_header(provider: u8, opcode: u32, status: u16, body_len: u32) -> Vec<u8> {
    RawHeader {
        provider,
        opcode,
        status,
        body_len,
        ..RawHeader::default()
    }
    .encode()
    .to_vec()
}
