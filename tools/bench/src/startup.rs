//! Start-up and memory: how long psecd (or Parsec) takes from exec to its
//! first answer, and how much memory a server holds (its resident set, read
//! from `/proc`); and a way to fill a store with many keys through the
//! server itself, so that the store on disk is exactly what a server that
//! made those keys leaves behind.

use psa_crypto::types::key::{Attributes, EccFamily, Lifetime, Policy, Type, UsageFlags};
use psec_client::{Authentication, BasicClient, Endpoint};
use psec_interface::ProviderId;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to answer its first Ping.
const DEADLINE: Duration = Duration::from_secs(30);

/// The time process `pid` has spent on a CPU so far (the first field of
/// `/proc/<pid>/schedstat`, in nanoseconds): on a busy machine, the part
/// of a start-up that is the server's own work rather than waiting for a
/// CPU.
fn on_cpu(pid: u32) -> Option<Duration> {
    let schedstat = std::fs::read_to_string(format!("/proc/{pid}/schedstat")).ok()?;
    let ns = schedstat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// One start: the time from just before the exec to the first answer, and
/// how much of it the server spent on a CPU (its main thread and any
/// other, as `/proc` counts them for the whole process).
struct Start {
    wall: Duration,
    cpu: Duration,
}

/// Starts `command` (a server serving on `socket`), then connects and
/// sends a Ping until one is answered; returns the start's figures and the
/// running server. A stale socket file is removed first, so that only the
/// new server can answer.
fn start_and_ping(
    command: &[String],
    socket: &Path,
    ping: &[u8],
) -> Result<(Start, Child), Box<dyn std::error::Error>> {
    let (program, args) = command.split_first().ok_or("no server command")?;
    let _ = std::fs::remove_file(socket);
    let started = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .spawn()?;
    loop {
        if let Ok(answer) = crate::bare_round_trip(&socket.to_string_lossy(), ping) {
            if answer > 0 {
                let wall = started.elapsed();
                let cpu = on_cpu(child.id()).unwrap_or_default();
                return Ok((Start { wall, cpu }, child));
            }
        }
        if let Some(status) = child.try_wait()? {
            return Err(format!("{program} exited ({status}) before answering").into());
        }
        if started.elapsed() > DEADLINE {
            stop(child);
            return Err(format!("{program} did not answer within {DEADLINE:?}").into());
        }
        std::thread::sleep(Duration::from_micros(20));
    }
}

/// Stops a server started here, by its PID, and reaps it.
fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

/// `psec-bench startup <socket> <runs> <server command...>`: starts the
/// server `runs` times and prints the time to its first Ping answer (min,
/// median, max) and the median of its time on a CPU until then. The server
/// is stopped with SIGTERM after each run.
pub(crate) fn startup(
    socket: &Path,
    runs: usize,
    command: &[String],
) -> Result<(), Box<dyn std::error::Error>> {
    let ping = crate::ping_request_bytes()?;
    let mut walls = Vec::with_capacity(runs);
    let mut cpus = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let (start, child) = start_and_ping(command, socket, &ping)?;
        stop(child);
        walls.push(start.wall);
        cpus.push(start.cpu);
    }
    walls.sort();
    cpus.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "start-up to first Ping answer, {} runs: min {:.2} ms  median {:.2} ms  max {:.2} ms  \
         (on a CPU: median {:.2} ms)",
        walls.len(),
        ms(walls.first().copied().unwrap_or_default()),
        ms(crate::percentile(&walls, 50)),
        ms(walls.last().copied().unwrap_or_default()),
        ms(crate::percentile(&cpus, 50)),
    );
    Ok(())
}

/// The resident set of process `pid`, in kB (`VmRSS` of its status).
pub(crate) fn rss_kb(pid: u32) -> Result<u64, Box<dyn std::error::Error>> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .ok_or("no VmRSS line")?;
    Ok(line
        .split_whitespace()
        .nth(1)
        .ok_or("an empty VmRSS line")?
        .parse()?)
}

/// `psec-bench rss <pid>`: prints the resident set of a running server.
pub(crate) fn print_rss(pid: u32) -> Result<(), Box<dyn std::error::Error>> {
    let kb = rss_kb(pid)?;
    println!("RSS {:.1} MB ({kb} kB)", kb as f64 / 1024.0);
    Ok(())
}

/// `psec-bench fill <socket> <count> [provider]`: imports `count` copies of
/// one ECDSA P-256 public key (the cheapest key to make, and one every
/// Parsec provider takes back at start-up) named `fill-<n>` through the
/// server on `socket`, from 8 clients at once; names already taken are
/// skipped.
pub(crate) fn fill(
    socket: &str,
    count: usize,
    provider: ProviderId,
) -> Result<(), Box<dyn std::error::Error>> {
    use psa_crypto::operations::key_management;
    let mut usage = UsageFlags::default();
    let _ = usage.set_verify_hash();
    let attributes = Attributes {
        lifetime: Lifetime::Persistent,
        key_type: Type::EccPublicKey {
            curve_family: EccFamily::SecpR1,
        },
        bits: 256,
        policy: Policy {
            usage_flags: usage,
            permitted_algorithms: crate::ALG.into(),
        },
    };
    psa_crypto::init()?;
    let pair = key_management::generate(crate::p256_attributes(Lifetime::Volatile), None)?;
    let mut public = vec![0; 65];
    let len = key_management::export_public(pair, &mut public)?;
    public.truncate(len);
    let public = &public;
    let started = Instant::now();
    let threads = 8;
    let failures = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|thread| {
                scope.spawn(move || {
                    let client = BasicClient::new_naked(Endpoint::unix_socket(socket))
                        .with_provider(provider)
                        .with_auth(
                            Authentication::direct("psec-bench")
                                .unwrap_or_else(|_| Authentication::none()),
                        );
                    let mut failures = Vec::new();
                    for n in (thread..count).step_by(threads) {
                        let name = format!("fill-{n}");
                        match client.psa_import_key(&name, public, attributes) {
                            Ok(()) => {}
                            Err(psec_client::Error::Service(
                                psec_interface::ResponseStatus::PsaErrorAlreadyExists,
                            )) => {}
                            Err(error) => failures.push(format!("{name}: {error}")),
                        }
                    }
                    failures
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().unwrap_or_else(|_| vec!["a panic".into()]))
            .collect::<Vec<_>>()
    });
    if let Some(first) = failures.first() {
        return Err(format!("{} imports failed, the first: {first}", failures.len()).into());
    }
    println!(
        "{count} P-256 public keys in the store ({:.1} s to import)",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
