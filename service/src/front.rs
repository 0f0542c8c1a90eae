//! The front end: the Unix socket, one request per connection.
//!
//! Reading and writing are asynchronous, each under the configured timeout,
//! so a slow or silent client holds only its own connection. The work
//! itself (crypto, key store) runs on the `thread_pool_size` worker
//! threads, with as many requests again queued for them; the thread that
//! runs a request also writes its answer and closes the connection (see
//! [`hand_to_worker`]), then takes the next connection from the socket
//! itself, so that under load one thread reads, runs and answers a request
//! (see [`next_job`]). The body length is checked against the limit as
//! soon as the header is in, before any of the body is read.
//!
//! A connection starts unregistered with the runtime (see [`Connection`]):
//! a Parsec client connects, writes its whole request and waits, so the
//! request is usually in the socket when it is accepted, and the answer
//! fits in the socket's buffer. Reading and writing then never wait, and
//! the connection costs no registration with epoll and no wake-up for
//! readiness. Only when a read or write would block is the socket
//! registered and awaited, under the same timeout.
//!
//! A request that is not there yet when its connection is accepted is
//! usually a client that was preempted between `connect` and `write`, on
//! the CPU the serving loop now holds. Before registering, the serving
//! loop may give up its CPU once (`sched_yield`) and read again: the
//! client writes in that gap, and the wait costs two system calls instead
//! of a registration, a timer, a wake-up and a deregistration (see
//! [`Connection::read`], and `run::accept_batch` for when it may).
//!
//! The serving loop takes the queued connections in batches and runs each
//! one's [`serve_connection`] once, in place (`run::start_connection`): a
//! request answered from memory, such as Ping, is then served whole with no
//! task spawned; a connection that has to wait becomes a task of its own.

use crate::authenticators::PeerCredentials;
use crate::core_provider::answers_from_memory;
use crate::dispatcher::Dispatcher;
use psec_interface::header::WIRE_HEADER_LEN;
use psec_interface::{AuthType, RawHeader, Request, Response, ResponseStatus};
use rustix::io::Errno;
use rustix::net::{RecvFlags, SendFlags};
use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::error::Elapsed;
use zeroize::{Zeroize, Zeroizing};

/// What every connection shares.
pub(crate) struct Shared {
    /// The dispatcher; requests hold a read guard while they run, so a
    /// reload (which takes the write guard and replaces it) waits for them
    /// to finish.
    pub(crate) dispatcher: RwLock<Dispatcher>,
    /// Bounds the requests handed to the workers and not yet answered:
    /// each holds one permit from the hand-over until its connection is
    /// answered. There are twice as many permits as workers, so a worker
    /// that finishes a request finds the next one queued, with no wait for
    /// the serving loop to wake and hand it over (see
    /// [`worker_queue_len`]).
    pub(crate) worker_queue: Arc<Semaphore>,
    /// How many permits `worker_queue` has.
    pub(crate) worker_queue_len: u32,
    /// Read and write timeout of a connection.
    pub(crate) timeout: Duration,
    /// Largest request body accepted.
    pub(crate) body_len_limit: usize,
    /// What the worker threads share with the serving loop to take
    /// connections themselves.
    pub(crate) workers: Workers,
}

/// The worker threads' side of taking connections: a worker that has
/// answered a request takes the next connection from the socket itself
/// (see [`next_job`]), and while the workers take them (one waits on the
/// socket, or every worker is busy and will take its next), the serving
/// loop leaves the socket to them (`run::serve`).
pub(crate) struct Workers {
    /// The listening socket; `None` before the serving loop starts and
    /// once it stops.
    pub(crate) listener: RwLock<Option<std::os::unix::net::UnixListener>>,
    /// How many worker threads there are (`thread_pool_size`).
    count: usize,
    /// Workers running a request or taking their next.
    working: AtomicUsize,
    /// Workers waiting on the socket for a connection (see [`next_job`]).
    polling: AtomicUsize,
    /// Requests handed to the worker pool that no worker has started: a
    /// worker takes these before any new connection.
    unstarted: AtomicUsize,
    /// Requests the workers have answered, for the serving loop to see
    /// whether they are getting on.
    answered: AtomicUsize,
    /// Set while the serving loop leaves the socket to the workers: the
    /// worker that stops taking connections then tells it (`freed`).
    left_to_workers: AtomicBool,
    freed: Notify,
    /// Connections a worker took that have to wait, sent to the serving
    /// loop to go on as its tasks.
    waiting: UnboundedSender<Waiting>,
}

impl Workers {
    /// `count` workers, sending connections that wait on `waiting`.
    pub(crate) fn new(count: usize, waiting: UnboundedSender<Waiting>) -> Self {
        Workers {
            listener: RwLock::new(None),
            count,
            working: AtomicUsize::new(0),
            polling: AtomicUsize::new(0),
            unstarted: AtomicUsize::new(0),
            answered: AtomicUsize::new(0),
            left_to_workers: AtomicBool::new(false),
            freed: Notify::new(),
            waiting,
        }
    }

    /// Whether the workers take the new connections themselves: one waits
    /// on the socket, or every worker is running a request and will look
    /// for its next there when done.
    pub(crate) fn take_connections(&self) -> bool {
        self.polling.load(Ordering::SeqCst) > 0 || self.working.load(Ordering::SeqCst) >= self.count
    }

    /// Whether a worker waits on the socket now.
    pub(crate) fn waiting_on_socket(&self) -> bool {
        self.polling.load(Ordering::SeqCst) > 0
    }

    /// Counts one more worker, unless all are working already.
    fn add_helper(&self) -> bool {
        self.working
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |working| {
                (working < self.count).then_some(working + 1)
            })
            .is_ok()
    }

    /// How many requests the workers have answered so far.
    pub(crate) fn answered(&self) -> usize {
        self.answered.load(Ordering::SeqCst)
    }

    /// The serving loop has stopped watching the socket, leaving it to the
    /// workers. Returns false if they no longer take connections (the last
    /// may have stopped just before): the loop must watch again.
    pub(crate) fn leave_socket(&self) -> bool {
        self.left_to_workers.store(true, Ordering::SeqCst);
        if self.take_connections() {
            return true;
        }
        self.left_to_workers.store(false, Ordering::SeqCst);
        false
    }

    /// The serving loop watches the socket again.
    pub(crate) fn take_socket_back(&self) {
        self.left_to_workers.store(false, Ordering::SeqCst);
    }

    /// Ends once the workers have stopped taking connections after
    /// [`Workers::leave_socket`] (or at once, if they did before the last
    /// call).
    pub(crate) async fn freed(&self) {
        self.freed.notified().await;
    }

    fn starts(&self) {
        self.unstarted.fetch_sub(1, Ordering::SeqCst);
        self.working.fetch_add(1, Ordering::SeqCst);
    }

    fn stops(&self) {
        self.working.fetch_sub(1, Ordering::SeqCst);
        // Checked after the count went down, as `leave_socket` checks the
        // count after setting the flag: one of the two sees the other. A
        // worker still waiting on the socket tells the loop when it stops.
        if self.left_to_workers.load(Ordering::SeqCst) && !self.take_connections() {
            self.freed.notify_one();
        }
    }
}

/// A connection, as far as it was served, that has to wait (for bytes, a
/// worker, room in the socket) and goes on as a task of the serving loop.
pub(crate) type Waiting = std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;

/// How many requests may be handed to `thread_pool_size` workers at once:
/// one running on each, and one queued behind each. Without the queue, a
/// worker that finished waited for the serving loop to be woken (by the
/// released permit) and to hand it the next request, two wake-ups that
/// cost some 40 µs each when they cross CPUs on this 2-core VM. With Mbed
/// TLS 3.6 signing in parallel, 2 workers signed 3,841-3,976 times a second
/// for 8 clients without the queue (8 workers: 4,945-5,324), and 6,090
/// with it (ci/bench.sh). Queued requests are read whole already: a slow
/// client holds no place in the queue.
pub(crate) fn worker_queue_len(thread_pool_size: usize) -> u32 {
    u32::try_from(thread_pool_size.saturating_mul(2)).unwrap_or(u32::MAX)
}

/// One accepted connection: first as accepted, read and written without
/// waiting (`MSG_DONTWAIT`); registered with the runtime the first time
/// something would block, and awaited from then on.
pub(crate) enum Connection {
    /// As accepted (a blocking socket, never blocked on).
    Unregistered {
        socket: std::os::unix::net::UnixStream,
        /// Whether the first read, if it finds nothing, may yield the CPU
        /// once before the socket is registered (see [`Connection::read`]).
        may_yield: bool,
    },
    /// Registered with the runtime's reactor.
    Registered(tokio::net::UnixStream),
    /// Registration failed; the socket is gone.
    Broken,
}

impl Connection {
    /// A connection just accepted, whose first read may yield the CPU to
    /// its client if `may_yield` (see [`Connection::read`]).
    pub(crate) fn accepted(socket: std::os::unix::net::UnixStream, may_yield: bool) -> Self {
        Connection::Unregistered { socket, may_yield }
    }

    /// The registered socket, registering it first if it is not yet.
    fn registered(&mut self) -> io::Result<&mut tokio::net::UnixStream> {
        if let Connection::Unregistered { .. } = self {
            if let Connection::Unregistered { socket: plain, .. } =
                std::mem::replace(self, Connection::Broken)
            {
                plain.set_nonblocking(true)?;
                *self = Connection::Registered(tokio::net::UnixStream::from_std(plain)?);
            }
        }
        match self {
            Connection::Registered(stream) => Ok(stream),
            _ => Err(io::ErrorKind::NotConnected.into()),
        }
    }

    fn fd(&self) -> io::Result<BorrowedFd<'_>> {
        match self {
            Connection::Unregistered { socket, .. } => Ok(socket.as_fd()),
            Connection::Registered(stream) => Ok(stream.as_fd()),
            Connection::Broken => Err(io::ErrorKind::NotConnected.into()),
        }
    }

    /// Reads what has come, waiting (registered) only if nothing has.
    ///
    /// If the connection's first read finds nothing and the connection may
    /// yield, the serving loop gives the CPU up once and reads again. On
    /// one CPU shared with its client (the client connected, was preempted
    /// by the serving loop's wake-up, and has not written yet) the client
    /// runs and writes in that gap. Ping at one client, both pinned to one
    /// CPU, went from 0.70-0.75 of the floor server to 0.84-0.92
    /// (`ci/bench.sh`, and loops of 200,000 Pings), and from 5.9 system
    /// calls per Ping to 4.4 (the floor makes 4): the one Ping in six that
    /// was not there cost 2 calls (the yield and the read again) instead
    /// of about 6 (registration, timer wake-up, `epoll_wait`,
    /// deregistration). Where nothing else is ready to run on the CPU the
    /// yield returns at once; if the request is still not there, the
    /// socket is registered and awaited as before.
    async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Connection::Unregistered { socket, may_yield } = self {
            // Only the first read may yield.
            let mut may_yield = std::mem::take(may_yield);
            loop {
                match rustix::net::recv(&*socket, &mut *buf, RecvFlags::DONTWAIT) {
                    Ok((read, _)) => return Ok(read),
                    Err(Errno::INTR) => {}
                    Err(Errno::AGAIN) if may_yield => {
                        may_yield = false;
                        std::thread::yield_now();
                    }
                    Err(Errno::AGAIN) => break,
                    Err(error) => return Err(error.into()),
                }
            }
        }
        self.registered()?.read(buf).await
    }

    /// Fills `buf`, waiting as needed.
    async fn read_exact(&mut self, mut buf: &mut [u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.read(buf).await? {
                0 => return Err(io::ErrorKind::UnexpectedEof.into()),
                read => buf = buf.get_mut(read..).unwrap_or_default(),
            }
        }
        Ok(())
    }

    /// Writes all of `bytes`, waiting (registered) only if the socket's
    /// buffer is full.
    async fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        let written = self.write_now(bytes)?;
        match bytes.get(written..) {
            Some(rest) if !rest.is_empty() => self.registered()?.write_all(rest).await,
            _ => Ok(()),
        }
    }

    /// Writes what the socket takes of `bytes` now, without waiting: all of
    /// them, unless its buffer fills (or the connection is registered, when
    /// nothing is written here). Returns how many were written.
    fn write_now(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let mut written = 0;
        if let Connection::Unregistered { socket, .. } = self {
            while let Some(rest) = bytes.get(written..).filter(|rest| !rest.is_empty()) {
                match rustix::net::send(&*socket, rest, SendFlags::DONTWAIT | SendFlags::NOSIGNAL) {
                    Ok(sent) => written += sent,
                    Err(Errno::INTR) => {}
                    Err(Errno::AGAIN) => break,
                    Err(error) => return Err(error.into()),
                }
            }
        }
        Ok(written)
    }

    /// Closes the writing half (the answer is all sent).
    fn shutdown_write(&self) -> io::Result<()> {
        rustix::net::shutdown(self.fd()?, rustix::net::Shutdown::Write).map_err(Into::into)
    }

    /// The connecting process's uid and gid.
    fn peer_credentials(&self) -> Option<PeerCredentials> {
        let cred = rustix::net::sockopt::socket_peercred(self.fd().ok()?).ok()?;
        Some(PeerCredentials {
            uid: cred.uid.as_raw(),
            gid: cred.gid.as_raw(),
        })
    }
}

/// Serves one connection: read one request, answer it, close.
pub(crate) async fn serve_connection(stream: Connection, shared: Arc<Shared>) {
    if let Some(job) = read_and_answer(stream, &shared).await {
        queue_for_worker(job, shared).await;
    }
}

/// Waits for a place in the worker queue, then hands `job` to a worker.
async fn queue_for_worker(job: Job, shared: Arc<Shared>) {
    if let Ok(permit) = Arc::clone(&shared.worker_queue).acquire_owned().await {
        hand_to_worker(job, permit, shared);
    }
}

/// A request, read whole, that needs a worker thread, with its connection.
struct Job {
    stream: Connection,
    request: Request,
    peer: Option<PeerCredentials>,
}

/// Reads the request and answers it, unless it needs a worker thread: then
/// it is given back, to run on one.
async fn read_and_answer(mut stream: Connection, shared: &Shared) -> Option<Job> {
    // A client that is too slow, or stops half-way, is told so
    // (ConnectionError) if it still listens; then the connection closes.
    let broken = || {
        Zeroizing::new(
            RawHeader::unreadable_request_reply(ResponseStatus::ConnectionError)
                .encode()
                .to_vec(),
        )
    };
    let read = within(
        shared.timeout,
        read_request(&mut stream, shared.body_len_limit),
    )
    .await;
    let (reply, whole_request_read) = match read {
        Err(_) => {
            log::debug!("no complete request within {:?}", shared.timeout);
            (broken(), false)
        }
        Ok(Err(ReadFailure::Reply(header))) => (Zeroizing::new(header.encode().to_vec()), false),
        Ok(Err(ReadFailure::Gone)) => (broken(), false),
        Ok(Ok(request)) => {
            // Only the Unix peer credentials authenticator needs them.
            let peer = (request.header.auth_type == AuthType::UnixPeerCredentials)
                .then(|| stream.peer_credentials())
                .flatten();
            match answer_inline(request, peer, shared) {
                Ok(response) => (encode(response), true),
                Err(request) => {
                    return Some(Job {
                        stream,
                        request,
                        peer,
                    });
                }
            }
        }
    };
    send_reply(stream, reply, whole_request_read, shared).await;
    None
}

/// Runs `work` under `timeout`, with the clock started when `work` first
/// has to wait: a request read, or an answer written, without waiting
/// costs no clock reading (`tokio::time::timeout` reads the clock when it
/// is made; its timer is set only on a wait). The time spent before that
/// wait (a few microseconds, the yield of [`Connection::read`] included)
/// is not counted against the timeout.
async fn within<F: Future>(timeout: Duration, work: F) -> Result<F::Output, Elapsed> {
    let mut work = std::pin::pin!(work);
    let first = std::future::poll_fn(|cx| Poll::Ready(work.as_mut().poll(cx))).await;
    match first {
        Poll::Ready(output) => Ok(output),
        Poll::Pending => tokio::time::timeout(timeout, work).await,
    }
}

/// Writes `reply` (under the timeout) and closes. After a request that was
/// not read whole, the writing half is shut and what the client still
/// sends is drained first (see [`drain`]).
async fn send_reply(
    mut stream: Connection,
    reply: Zeroizing<Vec<u8>>,
    whole_request_read: bool,
    shared: &Shared,
) {
    match within(shared.timeout, stream.write_all(&reply)).await {
        // The client sent all it announced and waits only for the answer,
        // which is in its socket now: closing loses nothing.
        Ok(Ok(())) if whole_request_read => {}
        // The client may still be writing the rest of a refused request;
        // closing now would break its write before it reads the answer.
        Ok(Ok(())) => {
            let _ = stream.shutdown_write();
            drain(&mut stream, shared.timeout).await;
        }
        Ok(Err(error)) => log::debug!("could not write the response: {error}"),
        Err(_) => log::debug!(
            "client did not take the response within {:?}",
            shared.timeout
        ),
    }
}

/// Reads and drops what the client may still be sending (the rest of a
/// refused request), for at most `timeout` and 1 MiB, so that closing does
/// not reset the connection before the client has read the answer.
async fn drain(stream: &mut Connection, timeout: Duration) {
    const MAX_DRAIN: usize = 1 << 20;
    let mut sink = [0u8; 4096];
    let mut drained = 0;
    let _ = tokio::time::timeout(timeout, async {
        while drained < MAX_DRAIN {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => drained += n,
            }
        }
    })
    .await;
}

/// Hands a request that needs a worker thread to one, with its
/// connection: the worker runs it, writes the answer (without waiting, as
/// the serving loop does) and closes the connection, so the serving loop is
/// not woken for it again. Only if the socket will not take the whole
/// answer at once does the rest go back to the runtime, to be written
/// under the timeout. `permit` is the request's place in the worker
/// queue, held until the answer is written or handed back.
///
/// A worker that has answered then takes the next connection itself,
/// unless a handed request waits for a worker (see [`work`] and
/// [`next_job`]), and goes on with it under the same permit: under load a
/// request is then read, run and answered by one thread, with no hand-over
/// from the serving loop. Measured with ECDSA P-256 on SoftHSM2 at 8
/// clients (2 workers): 15,200-16,300 signatures a second when the loop
/// handed every request over, 20,700-20,800 this way.
fn hand_to_worker(job: Job, permit: OwnedSemaphorePermit, shared: Arc<Shared>) {
    let runtime = tokio::runtime::Handle::current();
    shared.workers.unstarted.fetch_add(1, Ordering::SeqCst);
    drop(tokio::task::spawn_blocking(move || {
        shared.workers.starts();
        work(Some(job), permit, &shared, &runtime);
    }));
}

/// A worker's turn: runs `job`, then takes connections from the socket
/// itself (see [`next_job`]) for as long as there are, each under
/// `permit`.
fn work(
    mut job: Option<Job>,
    mut permit: OwnedSemaphorePermit,
    shared: &Arc<Shared>,
    runtime: &tokio::runtime::Handle,
) {
    // Counted out however the turn ends, a panic included.
    let _counted = Working(&shared.workers);
    loop {
        if let Some(running) = job.take() {
            let kept = run_job(running, permit, shared, runtime);
            shared.workers.answered.fetch_add(1, Ordering::SeqCst);
            match kept {
                Some(kept) => permit = kept,
                None => break,
            }
        }
        match next_job(shared, runtime) {
            Some(next) => job = Some(next),
            None => {
                drop(permit);
                break;
            }
        }
    }
}

/// A worker counted as working (by [`Workers::starts`] or
/// [`Workers::add_helper`]) until this is dropped.
struct Working<'a>(&'a Workers);

impl Drop for Working<'_> {
    fn drop(&mut self) {
        self.0.stops();
    }
}

/// Starts one more worker to take connections from the socket, if a
/// worker thread and a place in the worker queue are free and no handed
/// request waits: called by a worker that has just taken a connection and
/// sees more queued behind it.
fn start_helper(shared: &Arc<Shared>, runtime: &tokio::runtime::Handle) {
    if shared.workers.unstarted.load(Ordering::SeqCst) > 0 {
        return;
    }
    let Ok(permit) = Arc::clone(&shared.worker_queue).try_acquire_owned() else {
        return;
    };
    if !shared.workers.add_helper() {
        return;
    }
    let shared = Arc::clone(shared);
    let on = runtime.clone();
    drop(runtime.spawn_blocking(move || work(None, permit, &shared, &on)));
}

/// Runs `job` here and writes its answer; gives the permit back, unless
/// the rest of the answer had to go to the runtime with it.
fn run_job(
    job: Job,
    permit: OwnedSemaphorePermit,
    shared: &Arc<Shared>,
    runtime: &tokio::runtime::Handle,
) -> Option<OwnedSemaphorePermit> {
    let Job {
        mut stream,
        request,
        peer,
    } = job;
    let handled = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let dispatcher = match shared.dispatcher.read() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        dispatcher.handle(request, peer)
    }));
    let reply = match handled {
        Ok(response) => encode(response),
        Err(_) => {
            // The connection closes unanswered, as Parsec's does.
            log::error!("a request handler panicked");
            return Some(permit);
        }
    };
    match stream.write_now(&reply) {
        Ok(written) if written == reply.len() => {}
        Ok(written) => {
            let mut rest = reply;
            rest.drain(..written);
            let shared = Arc::clone(shared);
            drop(runtime.spawn(async move {
                send_reply(stream, rest, true, &shared).await;
                drop(permit);
            }));
            return None;
        }
        Err(error) => log::debug!("could not write the response: {error}"),
    }
    Some(permit)
}

/// How long a worker with nothing to run waits for a connection on the
/// socket before it stops: long enough for a client's next request after
/// its answer, so that a steady client is served by a worker alone, and
/// short enough that the serving loop soon watches the socket again when
/// clients go quiet.
const WORKER_WAIT: Duration = Duration::from_millis(1);

/// The next request for a worker that has just answered one (or started
/// to help): taken from the socket by the worker itself, waiting up to
/// [`WORKER_WAIT`] for a connection, and read without waiting. None if a
/// request handed over by the serving loop waits for a worker (this one
/// goes to it), or no connection comes, or psecd is stopping.
///
/// A connection whose request is answered without a worker (Ping, a
/// malformed request) is answered here, and the next one taken. One that
/// has to wait (its request not all there yet, say) goes to the serving
/// loop as it stands, to go on as a task of its own, under the timeout.
fn next_job(shared: &Arc<Shared>, runtime: &tokio::runtime::Handle) -> Option<Job> {
    let mut waited_since: Option<std::time::Instant> = None;
    loop {
        if shared.workers.unstarted.load(Ordering::SeqCst) > 0 {
            return None;
        }
        let accepted = {
            let listener = match shared.workers.listener.read() {
                Ok(guard) => guard,
                Err(poisoned) => poisoned.into_inner(),
            };
            let listener = listener.as_ref()?;
            match listener.accept() {
                Ok((socket, _)) => {
                    if readable_within(listener, Duration::ZERO) {
                        start_helper(shared, runtime);
                    }
                    Some(socket)
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    let since = *waited_since.get_or_insert_with(std::time::Instant::now);
                    let left = WORKER_WAIT.checked_sub(since.elapsed())?;
                    shared.workers.polling.fetch_add(1, Ordering::SeqCst);
                    let came = readable_within(listener, left);
                    shared.workers.polling.fetch_sub(1, Ordering::SeqCst);
                    if !came {
                        return None;
                    }
                    None
                }
                // A failure the serving loop also meets and answers (a
                // pause when out of descriptors, say).
                Err(_) => return None,
            }
        };
        let Some(socket) = accepted else {
            continue;
        };
        waited_since = None;
        let _runtime = runtime.enter();
        let mut serving: std::pin::Pin<Box<dyn Future<Output = Option<Job>> + Send>> = {
            let shared = Arc::clone(shared);
            Box::pin(
                async move { read_and_answer(Connection::accepted(socket, false), &shared).await },
            )
        };
        match serving
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            Poll::Ready(Some(job)) => return Some(job),
            Poll::Ready(None) => {}
            Poll::Pending => {
                let shared_again = Arc::clone(shared);
                let waiting: Waiting = Box::pin(async move {
                    if let Some(job) = serving.await {
                        queue_for_worker(job, shared_again).await;
                    }
                });
                // The serving loop has stopped: the connection closes.
                let _ = shared.workers.waiting.send(waiting);
            }
        }
    }
}

/// Whether `listener` has a connection queued, or gets one within
/// `timeout`.
fn readable_within(listener: &std::os::unix::net::UnixListener, timeout: Duration) -> bool {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    let timeout = Timespec {
        tv_sec: 0,
        tv_nsec: i64::from(timeout.subsec_nanos()),
    };
    let mut fds = [PollFd::new(listener, PollFlags::IN)];
    poll(&mut fds, Some(&timeout)).is_ok_and(|ready| ready > 0)
}

/// The bytes of `response`; one that can not be encoded is answered with
/// its header alone, carrying the encoding's failure status.
fn encode(response: Response) -> Zeroizing<Vec<u8>> {
    match response.encode() {
        Ok(bytes) => bytes,
        Err(status) => {
            let header = psec_interface::ResponseHeader {
                status,
                ..response.header
            };
            Zeroizing::new(header.to_raw(0).encode().to_vec())
        }
    }
}

/// Answers here, on the connection's own task and without blocking, a
/// request the core provider answers from memory (see
/// [`answers_from_memory`]), sparing the hand-over to a worker thread. Any
/// other request, or one that finds a reload holding the dispatcher, is
/// given back for a worker.
fn answer_inline(
    request: Request,
    peer: Option<PeerCredentials>,
    shared: &Shared,
) -> Result<Response, Request> {
    if !answers_from_memory(request.header.opcode) {
        return Err(request);
    }
    match shared.dispatcher.try_read() {
        Ok(dispatcher) => Ok(dispatcher.handle(request, peer)),
        Err(_) => Err(request),
    }
}

/// Why no request came out of a connection.
enum ReadFailure {
    /// The bytes were wrong: answer with this header.
    Reply(RawHeader),
    /// The stream ended or broke before a whole request came.
    Gone,
}

/// How much the first reads of a connection take at once: the header and,
/// for most requests, the body and auth bytes too, in one system call.
const FIRST_READ_LEN: usize = 512;

/// The bytes of the first reads, which may hold auth bytes or key
/// material: wiped on drop, as far as they were filled (the rest was never
/// written). Wiping all 512 bytes, one volatile write each, cost more than
/// the rest of reading a Ping.
struct FirstRead {
    bytes: [u8; FIRST_READ_LEN],
    filled: usize,
}

impl Drop for FirstRead {
    fn drop(&mut self) {
        // Never more than the buffer; should `filled` ever be wrong, the
        // whole buffer is wiped rather than none of it.
        let filled = self.filled.min(FIRST_READ_LEN);
        if let Some(bytes) = self.bytes.get_mut(..filled) {
            bytes.zeroize();
        }
    }
}

/// Reads one request: the header, with whatever else has already come (the
/// magic number and header size are checked as soon as they are in, so
/// that garbage is answered at once); then, only if the body length is
/// within the limit, the rest of the body and auth bytes.
async fn read_request(
    stream: &mut Connection,
    body_len_limit: usize,
) -> Result<Request, ReadFailure> {
    let mut first = FirstRead {
        bytes: [0; FIRST_READ_LEN],
        filled: 0,
    };
    let mut prefix_checked = false;
    while first.filled < WIRE_HEADER_LEN {
        let unfilled = first
            .bytes
            .get_mut(first.filled..)
            .ok_or(ReadFailure::Gone)?;
        match stream.read(unfilled).await {
            Ok(0) | Err(_) => return Err(ReadFailure::Gone),
            Ok(read) => first.filled += read,
        }
        if !prefix_checked && first.filled >= 6 {
            if let Some(prefix) = first.bytes.first_chunk::<6>() {
                RawHeader::check_prefix(prefix).map_err(|status| {
                    ReadFailure::Reply(RawHeader::unreadable_request_reply(status))
                })?;
                prefix_checked = true;
            }
        }
    }
    let header = first
        .bytes
        .first_chunk::<WIRE_HEADER_LEN>()
        .ok_or(ReadFailure::Gone)?;
    let raw = RawHeader::decode(header)
        .map_err(|status| ReadFailure::Reply(RawHeader::unreadable_request_reply(status)))?;
    let body_len = usize::try_from(raw.body_len).unwrap_or(usize::MAX);
    if body_len > body_len_limit {
        return Err(ReadFailure::Reply(RawHeader::unreadable_request_reply(
            ResponseStatus::BodySizeExceedsLimit,
        )));
    }
    let total = WIRE_HEADER_LEN + body_len + usize::from(raw.auth_len);
    // Bytes past this request's end, if a client sent any, are dropped.
    let have = first.filled.min(total);
    let mut message = Zeroizing::new(Vec::with_capacity(total));
    message.extend_from_slice(first.bytes.get(..have).ok_or(ReadFailure::Gone)?);
    message.resize(total, 0);
    if let Some(rest) = message.get_mut(have..) {
        stream
            .read_exact(rest)
            .await
            .map_err(|_| ReadFailure::Gone)?;
    }
    Request::read_from(&mut message.as_slice(), body_len_limit)
        .map_err(|status| ReadFailure::Reply(RawHeader::unreadable_request_reply(status)))
}
