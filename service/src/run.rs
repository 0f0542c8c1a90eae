//! The daemon's life: start-up, serving, reload and stop.

use crate::assemble::{self, StartError};
use crate::config::Config;
use crate::front::{self, Connection, Shared, Waiting, Workers, serve_connection};
use std::future::Future;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, RwLockWriteGuard};
use std::task::{Context, Waker};
use std::time::Duration;
use tokio::io::unix::AsyncFd;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::Semaphore;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::task::JoinSet;

/// How psecd was started.
#[derive(Debug, Clone)]
pub struct Options {
    /// The configuration file; `None` runs the built-in default.
    pub config_path: Option<PathBuf>,
}

/// Where the built-in default keeps its state and socket, for a user who
/// runs psecd by hand: `$XDG_STATE_HOME/psec` (or `~/.local/state/psec`) and
/// `$XDG_RUNTIME_DIR/psec/parsec.sock` (or the state directory).
pub(crate) fn default_locations() -> (PathBuf, PathBuf) {
    // An empty variable counts as unset, as the XDG specification says.
    let var = |name| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let home = var("HOME").unwrap_or_else(|| PathBuf::from("."));
    let state = var("XDG_STATE_HOME")
        .unwrap_or_else(|| home.join(".local/state"))
        .join("psec");
    let socket = var("XDG_RUNTIME_DIR")
        .map(|dir| dir.join("psec"))
        .unwrap_or_else(|| state.clone())
        .join("parsec.sock");
    (state, socket)
}

fn load_config(options: &Options) -> Result<Config, StartError> {
    Ok(match &options.config_path {
        Some(path) => Config::from_file(path)?,
        None => {
            let (state, socket) = default_locations();
            Config::built_in_default(&state, &socket)
        }
    })
}

fn io_error(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> StartError {
    let what = what.into();
    move |source| StartError::Io { what, source }
}

/// Creates a directory (and parents) that only its owner may enter.
fn private_dir(path: &Path) -> Result<(), StartError> {
    std::fs::create_dir_all(path).map_err(io_error(format!("create {}", path.display())))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
        .map_err(io_error(format!("restrict {}", path.display())))
}

/// Runs psecd until SIGTERM or SIGINT.
pub fn run(options: Options) -> Result<(), StartError> {
    let config = load_config(&options)?;
    init_logging(&config);
    refuse_root(&config)?;
    if let Some(dir) = &config.core_settings.working_directory {
        private_dir(dir)?;
        std::env::set_current_dir(dir).map_err(io_error(format!("enter {}", dir.display())))?;
    }
    let dispatcher = assemble::dispatcher(&config, assemble::authenticators(&config, None)?)?;
    // One thread runs the sockets: reading, parsing and writing are cheap,
    // and keeping each connection on the thread that accepted it spares a
    // hand-over between threads per request (measured: Ping p50 from 71 to
    // 57 µs). The work that is not cheap goes to the blocking pool, which
    // is the worker pool: `thread_pool_size` threads, started as needed,
    // and nothing else runs on it (a reload has a thread of its own).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(config.core_settings.thread_pool_size)
        .build()
        .map_err(io_error("start the runtime"))?;
    let worker_queue_len = front::worker_queue_len(config.core_settings.thread_pool_size);
    let (waiting, waiting_connections) = tokio::sync::mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        dispatcher: RwLock::new(dispatcher),
        worker_queue: Arc::new(Semaphore::new(worker_queue_len as usize)),
        worker_queue_len,
        timeout: Duration::from_millis(config.listener.timeout),
        body_len_limit: config.core_settings.body_len_limit,
        workers: Workers::new(config.core_settings.thread_pool_size, waiting),
    });
    runtime.block_on(serve(config, options, shared, waiting_connections))
}

/// Logging to stderr (the journal under systemd), at the configured level,
/// or at `RUST_LOG` when set.
fn init_logging(config: &Config) {
    let mut builder = env_logger::Builder::new();
    builder.filter_level(config.core_settings.log_level.filter());
    if !config.core_settings.log_timestamp {
        builder.format_timestamp(None);
    }
    if let Ok(filters) = std::env::var("RUST_LOG") {
        builder.parse_filters(&filters);
    }
    let _ = builder.try_init();
}

/// psecd holds every application's keys: running it as root is refused
/// unless the configuration says otherwise.
fn refuse_root(config: &Config) -> Result<(), StartError> {
    let uid = std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(u32::MAX);
    if uid == 0 && config.core_settings.allow_root {
        log::warn!(
            "running as root (allow_root = true); in production, run psecd as a dedicated user"
        );
    }
    if uid == 0 && !config.core_settings.allow_root {
        return Err(StartError::Setting(
            "psecd is running as root; run it as a dedicated user (see the systemd unit), \
             or set allow_root = true in [core_settings]"
                .into(),
        ));
    }
    Ok(())
}

/// The listening socket: the one systemd passes (socket activation), else a
/// new one at `socket_path`. Returns whether we created the socket file.
/// [`serve`] makes it non-blocking and registers it with the runtime.
fn listener(config: &Config) -> Result<(UnixListener, bool), StartError> {
    let mut fds = listenfd::ListenFd::from_env();
    if let Ok(Some(listener)) = fds.take_unix_listener(0) {
        log::info!("listening on the socket passed by systemd");
        return Ok((listener, false));
    }
    let path = &config.listener.socket_path;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io_error(format!("create {}", dir.display())))?;
    }
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(StartError::Setting(format!(
                "{}: another service is already listening on this socket",
                path.display()
            )));
        }
        std::fs::remove_file(path).map_err(io_error(format!(
            "remove the stale socket {}",
            path.display()
        )))?;
    }
    let listener =
        UnixListener::bind(path).map_err(io_error(format!("listen on {}", path.display())))?;
    // Any local application may connect: authentication is per request.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666))
        .map_err(io_error(format!("open {} to clients", path.display())))?;
    log::info!("listening on {}", path.display());
    Ok((listener, true))
}

/// How many connections one turn of the serving loop takes from the
/// listening socket's queue before it looks at signals and finished
/// connections again.
const ACCEPT_BATCH: usize = 64;

/// How long the serving loop pauses after an accept fails for want of a
/// resource (no descriptor left, say), so that a lasting failure does not
/// spin.
const ACCEPT_FAILURE_PAUSE: Duration = Duration::from_millis(50);

/// Once the listening socket is readable: accepts the queued connections,
/// up to `ACCEPT_BATCH`, each served as far as it goes before the next is
/// taken (see [`start_connection`]), so that a lone client's answer is not
/// kept waiting by a look for more. Returns whether an accept failed for
/// want of a resource; a connection its client aborted is just skipped.
///
/// A new connection may yield the CPU to its client once if its request
/// is not there yet (see `Connection::read`), but only while no request
/// holds a place in the worker queue (a busy worker could keep the CPU
/// given up for the rest of its time slice, where the serving loop, woken
/// by readiness instead, would preempt it), and only until a connection
/// of the batch has had to wait: a yield that did not bring the request,
/// from a silent client say, ends the yields of its batch, so silent
/// connections cost the serving loop at most one yield per batch.
fn accept_batch(
    ready: &mut tokio::io::unix::AsyncFdReadyGuard<'_, UnixListener>,
    shared: &Arc<Shared>,
    connections: &mut JoinSet<()>,
) -> bool {
    let mut may_yield = true;
    for _ in 0..ACCEPT_BATCH {
        // On WouldBlock `try_io` forgets the readiness: the queue is
        // empty, and the loop waits again.
        match ready.try_io(|listener| listener.get_ref().accept()) {
            Ok(Ok((stream, _))) => {
                let workers_idle = shared.worker_queue.available_permits()
                    == usize::try_from(shared.worker_queue_len).unwrap_or(usize::MAX);
                let connection = Connection::accepted(stream, may_yield && workers_idle);
                if start_connection(connection, shared, connections) {
                    may_yield = false;
                }
            }
            Ok(Err(error)) if error.kind() == std::io::ErrorKind::ConnectionAborted => {}
            Ok(Err(error)) => {
                log::warn!("accept failed: {error}");
                return true;
            }
            Err(_would_block) => break,
        }
    }
    false
}

/// Serves a new connection here, on the serving loop, as far as it goes
/// without waiting: a Parsec client has usually written its whole request
/// by the time it is accepted, and a request answered from memory (Ping,
/// the lists) is then read, answered and closed in this one call, with no
/// task spawned for it. A connection that has to wait (for more bytes, a
/// worker thread, room in the socket) becomes a task of its own, carrying
/// on from where it stopped.
///
/// The first poll has no task to wake: it is given a waker that does
/// nothing. That loses no wake-up, because the task is polled at once after
/// the spawn, and everything the connection may wait on (the socket's
/// readiness, the timeout's timer, a worker permit, the worker's result)
/// checks its state again when polled and keeps the waker of the latest
/// poll. Returns whether the connection had to wait (and became a task).
fn start_connection(
    connection: Connection,
    shared: &Arc<Shared>,
    connections: &mut JoinSet<()>,
) -> bool {
    let mut serving = Box::pin(serve_connection(connection, Arc::clone(shared)));
    let mut first_poll = Context::from_waker(Waker::noop());
    let waits = serving.as_mut().poll(&mut first_poll).is_pending();
    if waits {
        let _ = connections.spawn(serving);
    }
    waits
}

/// How the serving loop holds the listening socket.
enum Watch {
    /// Registered with the runtime: the loop accepts connections.
    Accepting(AsyncFd<UnixListener>),
    /// Not registered, so that no new connection wakes the loop: the
    /// workers take the connections themselves (one waits on the socket,
    /// or all are busy and each takes its next when done). `answered` is
    /// the workers' count of answered requests when the loop last looked.
    LeftToWorkers {
        socket: UnixListener,
        answered: usize,
    },
}

/// How often the serving loop looks whether the workers it left the socket
/// to are getting on. If none has answered a request since the last look
/// and none waits on the socket (all are on long operations: key
/// generations, say), the loop takes the socket back and accepts, as it
/// does when no worker takes connections, so that no connection waits in
/// the socket's queue behind them for longer.
const WORKERS_LOOK: Duration = Duration::from_millis(1);

/// What a turn of the serving loop leads to.
enum Turn {
    Serve,
    /// An accept failed for want of a resource: pause.
    Pause,
    /// Leave the socket to the workers.
    LeaveToWorkers,
    /// Watch the socket again.
    TakeBack,
    /// The workers are getting on: look again later.
    LookAgain(usize),
    Reload,
    Stop,
}

/// Registers `socket` with the runtime, or gives it back with the error.
fn watched(socket: UnixListener) -> Result<AsyncFd<UnixListener>, (UnixListener, std::io::Error)> {
    // tokio deprecates `AsyncFd::try_new` (for `unsafe fn register`)
    // because a type that only borrows its descriptor could close it while
    // it is registered. A `UnixListener` owns its descriptor, and the
    // `AsyncFd` owns the listener, so the descriptor lives exactly as long
    // as the registration: the call is sound here, and needs no unsafe
    // code.
    #[allow(deprecated)]
    AsyncFd::try_new(socket).map_err(|error| error.into_parts())
}

/// Waits until the socket is readable, if the loop watches it.
async fn readable(
    watch: &Watch,
) -> std::io::Result<tokio::io::unix::AsyncFdReadyGuard<'_, UnixListener>> {
    match watch {
        Watch::Accepting(listener) => listener.readable().await,
        Watch::LeftToWorkers { .. } => std::future::pending().await,
    }
}

/// The serving loop: accepts connections and serves them (see
/// [`accept_batch`]), runs the connections that wait as tasks, and
/// answers signals: SIGHUP reloads, SIGTERM and SIGINT stop.
///
/// A worker that has answered a request takes the next connection from
/// the socket itself (see `front::hand_to_worker`). While the workers take
/// the connections (one waits on the socket, or all are busy), the loop
/// stops watching the socket: a request is then read, run and answered by
/// one worker, with no wake-up of the loop and no hand-over. The loop
/// watches again as soon as the last worker taking connections stops (it
/// tells the loop), or when the workers have answered nothing for
/// [`WORKERS_LOOK`]. A Ping-only load never starts a worker: the loop
/// answers it.
async fn serve(
    config: Config,
    options: Options,
    shared: Arc<Shared>,
    mut waiting: UnboundedReceiver<Waiting>,
) -> Result<(), StartError> {
    let (listener, created) = listener(&config)?;
    listener
        .set_nonblocking(true)
        .map_err(io_error("make the socket non-blocking"))?;
    *write_lock(&shared.workers.listener) = Some(
        listener
            .try_clone()
            .map_err(io_error("share the socket with the workers"))?,
    );
    let mut watch = Watch::Accepting(
        watched(listener).map_err(|(_, error)| io_error("watch the socket")(error))?,
    );
    let look = tokio::time::sleep(WORKERS_LOOK);
    tokio::pin!(look);
    let mut terminate = signal(SignalKind::terminate()).map_err(io_error("watch SIGTERM"))?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(io_error("watch SIGINT"))?;
    let mut hangup = signal(SignalKind::hangup()).map_err(io_error("watch SIGHUP"))?;
    let mut connections = JoinSet::new();
    // The workers' count of answered requests when the loop last found
    // them all stuck (see WORKERS_LOOK): it leaves the socket to them
    // again only once they have answered more.
    let mut stuck_at: Option<usize> = None;
    notify(&[sd_notify::NotifyState::Ready]);
    log::info!("psecd {} ready", env!("CARGO_PKG_VERSION"));
    loop {
        let left = matches!(watch, Watch::LeftToWorkers { .. });
        let turn = tokio::select! {
            ready = readable(&watch), if !left => match ready {
                Ok(mut ready) => {
                    if stuck_at.is_some_and(|at| shared.workers.answered() > at) {
                        stuck_at = None;
                    }
                    if stuck_at.is_none() && shared.workers.take_connections() {
                        Turn::LeaveToWorkers
                    } else if accept_batch(&mut ready, &shared, &mut connections) {
                        Turn::Pause
                    } else {
                        Turn::Serve
                    }
                }
                Err(error) => {
                    log::warn!("waiting for connections failed: {error}");
                    Turn::Serve
                }
            },
            () = shared.workers.freed(), if left => Turn::TakeBack,
            () = &mut look, if left => match watch {
                Watch::LeftToWorkers { answered, .. }
                    if shared.workers.answered() == answered && !shared.workers.waiting_on_socket() =>
                {
                    stuck_at = Some(answered);
                    Turn::TakeBack
                }
                _ => Turn::LookAgain(shared.workers.answered()),
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => Turn::Serve,
            Some(connection) = waiting.recv() => {
                drop(connections.spawn(connection));
                Turn::Serve
            }
            _ = terminate.recv() => Turn::Stop,
            _ = interrupt.recv() => Turn::Stop,
            _ = hangup.recv() => Turn::Reload,
        };
        match turn {
            Turn::Pause => tokio::time::sleep(ACCEPT_FAILURE_PAUSE).await,
            Turn::Serve => {}
            Turn::LeaveToWorkers => watch = leave_to_workers(watch, &shared, look.as_mut()),
            Turn::TakeBack => watch = take_back(watch, &shared),
            Turn::LookAgain(answered) => {
                if let Watch::LeftToWorkers { answered: seen, .. } = &mut watch {
                    *seen = answered;
                }
                look.as_mut()
                    .reset(tokio::time::Instant::now() + WORKERS_LOOK);
            }
            Turn::Reload => reload(&options, &config, &shared).await,
            Turn::Stop => break,
        }
    }
    notify(&[sd_notify::NotifyState::Stopping]);
    log::info!(
        "stopping: finishing {} connection(s) in flight",
        connections.len()
    );
    // The workers take no more connections (one taken meanwhile goes on).
    *write_lock(&shared.workers.listener) = None;
    drop(watch);
    // Requests handed to workers hold a permit each until answered, and a
    // worker may still send a connection that has to wait: the loop takes
    // those until every connection is done and every permit back.
    loop {
        tokio::select! {
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            Some(connection) = waiting.recv() => drop(connections.spawn(connection)),
            all = shared.worker_queue.acquire_many(shared.worker_queue_len), if connections.is_empty() => {
                drop(all);
                match waiting.try_recv() {
                    Ok(connection) => drop(connections.spawn(connection)),
                    Err(_) => break,
                }
            }
        }
    }
    if created {
        let _ = std::fs::remove_file(&config.listener.socket_path);
    }
    log::info!("stopped");
    Ok(())
}

/// Stops watching the socket, leaving it to the workers, unless they have
/// stopped taking connections by now.
fn leave_to_workers(
    watch: Watch,
    shared: &Shared,
    look: std::pin::Pin<&mut tokio::time::Sleep>,
) -> Watch {
    let Watch::Accepting(listener) = watch else {
        return watch;
    };
    let socket = listener.into_inner();
    if shared.workers.leave_socket() {
        look.reset(tokio::time::Instant::now() + WORKERS_LOOK);
        return Watch::LeftToWorkers {
            socket,
            answered: shared.workers.answered(),
        };
    }
    reregistered(socket)
}

/// Watches the socket again.
fn take_back(watch: Watch, shared: &Shared) -> Watch {
    let Watch::LeftToWorkers { socket, .. } = watch else {
        return watch;
    };
    shared.workers.take_socket_back();
    reregistered(socket)
}

/// The socket registered again: connections queued meanwhile make it
/// readable at once. Should registering fail, the loop looks again after
/// [`WORKERS_LOOK`] (the workers still take connections meanwhile).
fn reregistered(socket: UnixListener) -> Watch {
    match watched(socket) {
        Ok(listener) => Watch::Accepting(listener),
        Err((socket, error)) => {
            log::warn!("watching the socket again failed: {error}");
            Watch::LeftToWorkers {
                socket,
                answered: usize::MAX,
            }
        }
    }
}

/// SIGHUP: read the configuration again and swap in a new dispatcher,
/// keeping the socket. Requests in flight finish on the old one first; a
/// configuration that fails leaves the old one serving. A JwtSvid
/// authenticator on the same Workload API endpoint keeps the running
/// client and its bundles (see `authenticators::jwt_svid`).
async fn reload(options: &Options, running: &Config, shared: &Arc<Shared>) {
    // systemd wants RELOADING=1 with the monotonic time of the reload.
    match sd_notify::NotifyState::monotonic_usec_now() {
        Ok(now) => notify(&[sd_notify::NotifyState::Reloading, now]),
        Err(_) => notify(&[sd_notify::NotifyState::Reloading]),
    }
    log::info!("SIGHUP: reloading the configuration");
    let options = options.clone();
    let running_socket = running.listener.socket_path.clone();
    let shared = Arc::clone(shared);
    // Not on the blocking pool: its threads are the request workers, and
    // a reload may wait (for the Workload API agent, for the requests that
    // run) without taking one of their places.
    let (done, outcome) = tokio::sync::oneshot::channel();
    let reloading = move || {
        let config = load_config(&options)?;
        if config.listener.socket_path != running_socket {
            log::warn!("[listener] socket_path changed: it takes effect at the next restart");
        }
        // The authenticators first, from the running ones, while the old
        // dispatcher serves: one that starts following a new Workload API
        // endpoint may wait for the agent, and no request waits with it.
        let running = match shared.dispatcher.read() {
            Ok(guard) => guard.authenticators().clone(),
            Err(poisoned) => poisoned.into_inner().authenticators().clone(),
        };
        let authenticators = assemble::authenticators(&config, Some(&running))?;
        drop(running);
        let mut current = match shared.dispatcher.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        // Build while holding the write guard: no request runs on the old
        // providers while the new ones finish what a crash left.
        let dispatcher = assemble::dispatcher(&config, authenticators)?;
        *current = dispatcher;
        Ok::<_, StartError>(())
    };
    let spawned = std::thread::Builder::new()
        .name("psecd-reload".into())
        .spawn(move || drop(done.send(reloading())));
    match spawned {
        Err(error) => log::error!("reload failed: no thread for it: {error}"),
        Ok(_) => match outcome.await {
            Ok(Ok(())) => log::info!("configuration reloaded"),
            Ok(Err(error)) => {
                log::error!("reload failed, keeping the running configuration: {error}");
            }
            Err(_) => log::error!("reload failed: it panicked"),
        },
    }
    notify(&[sd_notify::NotifyState::Ready]);
}

/// The write guard of `lock`; a panic while it was held leaves an
/// `Option` that is valid as it stands.
fn write_lock<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Tells systemd, when psecd runs under it; does nothing otherwise.
fn notify(states: &[sd_notify::NotifyState<'_>]) {
    let _ = sd_notify::notify(states);
}
