//! psec-bench: how long a round trip through psecd takes, beside the same
//! work done in-process.
//!
//! Usage: `psec-bench <socket> [iterations] [mbed-crypto|pkcs11|tpm]`,
//! against a running psecd with that provider and the Direct authenticator
//! (`ci/bench.sh` starts one); or `psec-bench in-process-tpm <tcti>
//! [iterations]`, the TPM provider called in-process on the same TPM; or
//! `psec-bench in-process-pkcs11 <library> <user PIN> [iterations]`, the
//! same signatures made straight through cryptoki on the same token; or
//! `psec-bench floor <socket>`, the floor server (see `floor.rs`), until
//! killed; or `psec-bench floor-pkcs11 <socket> <library> <user PIN>
//! [threads]`, the signing floor on a PKCS#11 token (see `pkcs11.rs`),
//! until killed; or `psec-bench sign <socket> [iterations]`, ECDSA P-256
//! sign-hash alone through the client, at 1 and 8 clients, on the PKCS#11
//! key `bench-p256` of the Direct application `psec-bench` (the signing
//! floor answers any request; psecd needs that key); or `psec-bench ping <socket> [iterations] [clients,...]`, the
//! bare-socket Ping alone, against any server (the floor, Parsec), at the
//! given client counts (1, 8 and 64 by default); or `psec-bench
//! write-jwt-bundle <file>` and `psec-bench auth <socket> [iterations]`, the
//! cost of authenticating a request, JwtSvid beside UnixPeerCredentials
//! (see `auth.rs`); or `psec-bench startup <socket> <runs> <server
//! command...>`, the time from exec to the first Ping answer (see
//! `startup.rs`); or `psec-bench rss <pid>`, a server's resident set; or
//! `psec-bench fill <socket> <count> [provider]`, that many keys imported
//! through a running server. Ping runs at 1, 8 and 64
//! client threads, the other cases at 1 and 8, each thread doing
//! `iterations` operations; each case prints the latency percentiles and
//! the total throughput. A case in which any operation fails makes it exit
//! non-zero.

mod auth;
mod floor;
mod pkcs11;
mod startup;

use psa_crypto::operations::{asym_signature, key_management};
use psa_crypto::types::algorithm::{AsymmetricSignature, Hash};
use psa_crypto::types::key::{Attributes, EccFamily, Lifetime, Policy, Type, UsageFlags};
use psec_client::{Authentication, BasicClient, Endpoint};
use psec_interface::ProviderId;
use std::time::{Duration, Instant};

const ALG: AsymmetricSignature = AsymmetricSignature::Ecdsa {
    hash_alg: psa_crypto::types::algorithm::SignHash::Specific(Hash::Sha256),
};

/// The client counts Ping runs at: one, a few per core, and many more
/// than the server has threads.
const PING_CLIENTS: [usize; 3] = [1, 8, 64];

fn p256_attributes(lifetime: Lifetime) -> Attributes {
    let mut usage = UsageFlags::default();
    let _ = usage.set_sign_hash().set_verify_hash();
    Attributes {
        lifetime,
        key_type: Type::EccKeyPair {
            curve_family: EccFamily::SecpR1,
        },
        bits: 256,
        policy: Policy {
            usage_flags: usage,
            permitted_algorithms: ALG.into(),
        },
    }
}

/// What one case gave: every latency, the wall time, and how many of the
/// operations failed.
struct Measured {
    latencies: Vec<Duration>,
    wall: Duration,
    failures: usize,
}

/// Runs `op` `iterations` times on each of `threads` threads.
fn measure<F, E>(threads: usize, iterations: usize, op: F) -> Measured
where
    F: Fn() -> Result<(), E> + Sync,
{
    let started = Instant::now();
    let per_thread = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut failures = 0;
                    let latencies = (0..iterations)
                        .map(|_| {
                            let t = Instant::now();
                            failures += usize::from(op().is_err());
                            t.elapsed()
                        })
                        .collect::<Vec<_>>();
                    (latencies, failures)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| (Vec::new(), iterations)))
            .collect::<Vec<_>>()
    });
    let wall = started.elapsed();
    let failures = per_thread.iter().map(|(_, failed)| failed).sum();
    let latencies = per_thread.into_iter().flat_map(|(l, _)| l).collect();
    Measured {
        latencies,
        wall,
        failures,
    }
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    let index = (sorted.len().saturating_sub(1) * p) / 100;
    sorted.get(index).copied().unwrap_or_default()
}

/// Runs one case, unless `PSEC_BENCH_ONLY` is set and not part of its
/// name (to profile one case, say).
fn run_case<F, E>(name: &str, threads: usize, iterations: usize, op: F) -> Result<(), String>
where
    F: Fn() -> Result<(), E> + Sync,
{
    match std::env::var("PSEC_BENCH_ONLY") {
        Ok(only) if !name.contains(&only) => Ok(()),
        _ => report(name, threads, measure(threads, iterations, op)),
    }
}

/// Prints a line of figures; a case where any operation failed is an
/// error, so that no figure stands for failures.
fn report(name: &str, threads: usize, measured: Measured) -> Result<(), String> {
    let Measured {
        mut latencies,
        wall,
        failures,
    } = measured;
    latencies.sort();
    let ops = latencies.len() as f64 / wall.as_secs_f64();
    println!(
        "{name:<38} {threads:>2} client(s): p50 {:>8.1} µs  p99 {:>8.1} µs  {:>9.0} ops/s",
        percentile(&latencies, 50).as_secs_f64() * 1e6,
        percentile(&latencies, 99).as_secs_f64() * 1e6,
        ops
    );
    if failures == 0 {
        Ok(())
    } else {
        Err(format!(
            "{name}, {threads} client(s): {failures} operations failed"
        ))
    }
}

fn ping_request_bytes() -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    use psec_interface::operations::{NativeOperation, ping};
    use psec_interface::{AuthBuffer, AuthType, Request, RequestHeader};
    let op = NativeOperation::Ping(ping::Operation {});
    let request = Request {
        header: RequestHeader::new(ProviderId::Core, AuthType::NoAuth, op.opcode()),
        body: op.into_body()?,
        auth: AuthBuffer::default(),
    };
    Ok(request.encode()?.to_vec())
}

/// Connects, writes the request, and reads the answer (one read: it is 40
/// bytes).
fn bare_round_trip(socket: &str, request: &[u8]) -> std::io::Result<usize> {
    use std::io::{Read, Write};
    let mut stream = std::os::unix::net::UnixStream::connect(socket)?;
    stream.write_all(request)?;
    let mut answer = [0u8; 64];
    stream.read(&mut answer)
}

/// The TPM provider called in-process (the load-sign-flush sequence through
/// tss-esapi that psecd runs), on the TPM at `tcti`, with its key info in a
/// SQLite file under a temporary directory.
fn in_process_tpm(tcti: &str, iterations: usize) -> Result<(), Box<dyn std::error::Error>> {
    use psec_interface::operations::{psa_generate_key, psa_sign_hash};
    use psec_provider::Application;
    let dir = std::env::temp_dir().join(format!("psec-bench-tpm-{}", std::process::id()));
    let store = std::sync::Arc::new(psec_key_store::SqliteKeyStore::open(
        &dir.join("keys.sqlite3"),
    )?);
    let provider = psec_provider_tpm::build(
        "tpm-provider".into(),
        store,
        psec_provider_tpm::TpmSettings::new(tcti),
    )?;
    let app = Application::new(psec_interface::AuthType::Direct, "psec-bench");
    let keys = provider.key_management().ok_or("no key management")?;
    let _ = keys.generate_key(
        &app,
        psa_generate_key::Operation {
            key_name: "bench-p256".into(),
            attributes: p256_attributes(Lifetime::Persistent),
        },
    )?;
    let signer = provider.asymmetric_signing().ok_or("no signing")?;
    let sign = || {
        signer
            .sign_hash(
                &app,
                psa_sign_hash::Operation {
                    key_name: "bench-p256".into(),
                    alg: ALG,
                    hash: vec![0x5a; 32],
                },
            )
            .map(drop)
    };
    println!("{iterations} operations per thread");
    let mut outcome = Ok(());
    for threads in [1, 8] {
        outcome = outcome.and(run_case(
            "ECDSA P-256 sign-hash, TPM in-process",
            threads,
            iterations,
            sign,
        ));
    }
    let _ = std::fs::remove_dir_all(dir);
    Ok(outcome?)
}

/// RSA PKCS#1 v1.5 with SHA-256, as sign-hash.
const RSA_ALG: AsymmetricSignature = AsymmetricSignature::RsaPkcs1v15Sign {
    hash_alg: psa_crypto::types::algorithm::SignHash::Specific(Hash::Sha256),
};

fn rsa2048_attributes() -> Attributes {
    let mut usage = UsageFlags::default();
    let _ = usage.set_sign_hash().set_verify_hash();
    Attributes {
        lifetime: Lifetime::Persistent,
        key_type: Type::RsaKeyPair,
        bits: 2048,
        policy: Policy {
            usage_flags: usage,
            permitted_algorithms: RSA_ALG.into(),
        },
    }
}

/// A client as every case makes one, once per operation as a Parsec
/// application would: no provider discovery, `provider` named, Direct
/// authentication as `psec-bench`.
fn bench_client(socket: &str, provider: ProviderId) -> BasicClient {
    BasicClient::new_naked(Endpoint::unix_socket(socket))
        .with_provider(provider)
        .with_auth(Authentication::direct("psec-bench").unwrap_or_else(|_| Authentication::none()))
}

/// The provider a command-line name stands for (Mbed Crypto by default).
fn provider_id(name: Option<&str>) -> Result<ProviderId, String> {
    match name {
        None | Some("mbed-crypto") => Ok(ProviderId::MbedCrypto),
        Some("pkcs11") => Ok(ProviderId::Pkcs11),
        Some("tpm") => Ok(ProviderId::Tpm),
        Some(other) => Err(format!(
            "unknown provider {other}: mbed-crypto, pkcs11 or tpm"
        )),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let socket = args.next().ok_or(
        "usage: psec-bench <socket> [iterations] [provider] | \
         psec-bench floor <socket> | psec-bench ping <socket> [iterations] [clients,...] | \
         psec-bench floor-pkcs11 <socket> <library> <user PIN> [threads] | \
         psec-bench sign <socket> [iterations] | \
         psec-bench write-jwt-bundle <file> | psec-bench auth <socket> [iterations] | \
         psec-bench startup <socket> <runs> <server command...> | psec-bench rss <pid> | \
         psec-bench fill <socket> <count> [provider] | \
         psec-bench in-process-tpm <tcti> [iterations] | \
         psec-bench in-process-pkcs11 <library> <user PIN> [iterations]",
    )?;
    if socket == "floor" {
        let path = args.next().ok_or("floor needs a socket path")?;
        return Ok(floor::serve(&path)?);
    }
    if socket == "floor-pkcs11" {
        let path = args.next().ok_or("floor-pkcs11 needs a socket path")?;
        let library = args.next().ok_or("floor-pkcs11 needs a library path")?;
        let pin = args.next().ok_or("floor-pkcs11 needs the user PIN")?;
        let threads = match args.next() {
            Some(threads) => threads.parse()?,
            None => std::thread::available_parallelism().map_or(1, usize::from),
        };
        return pkcs11::signing_floor(&path, &library, &pin, threads);
    }
    if socket == "sign" {
        let path = args.next().ok_or("sign needs a socket path")?;
        let iterations: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(2000);
        let hash = vec![0x5a; 32];
        let mut outcome = Ok(());
        for threads in [1, 8] {
            outcome = outcome.and(run_case(
                "ECDSA P-256 sign-hash",
                threads,
                iterations,
                || {
                    bench_client(&path, ProviderId::Pkcs11)
                        .psa_sign_hash("bench-p256", &hash, ALG)
                        .map(drop)
                },
            ));
        }
        return Ok(outcome?);
    }
    if socket == "ping" {
        let path = args.next().ok_or("ping needs a socket path")?;
        let iterations: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(2000);
        // The client counts, comma-separated (default: PING_CLIENTS).
        let clients: Vec<usize> = match args.next() {
            Some(list) => list.split(',').map(str::parse).collect::<Result<_, _>>()?,
            None => PING_CLIENTS.to_vec(),
        };
        let ping = ping_request_bytes()?;
        let mut outcome = Ok(());
        for threads in clients {
            outcome = outcome.and(run_case("Ping, bare socket", threads, iterations, || {
                bare_round_trip(&path, &ping).map(drop)
            }));
        }
        return Ok(outcome?);
    }
    if socket == "write-jwt-bundle" {
        let path = args.next().ok_or("write-jwt-bundle needs a file")?;
        return Ok(auth::write_bundle(&path)?);
    }
    if socket == "auth" {
        let path = args.next().ok_or("auth needs a socket path")?;
        let iterations: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(2000);
        return auth::run(&path, iterations);
    }
    if socket == "startup" {
        let path = args.next().ok_or("startup needs a socket path")?;
        let runs: usize = args.next().ok_or("startup needs a run count")?.parse()?;
        let command: Vec<String> = args.collect();
        return startup::startup(std::path::Path::new(&path), runs, &command);
    }
    if socket == "rss" {
        let pid: u32 = args.next().ok_or("rss needs a PID")?.parse()?;
        return startup::print_rss(pid);
    }
    if socket == "fill" {
        let path = args.next().ok_or("fill needs a socket path")?;
        let count: usize = args.next().ok_or("fill needs a key count")?.parse()?;
        let provider = provider_id(args.next().as_deref())?;
        return startup::fill(&path, count, provider);
    }
    if socket == "in-process-tpm" {
        let tcti = args.next().ok_or("in-process-tpm needs a TCTI")?;
        let iterations: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(200);
        return in_process_tpm(&tcti, iterations);
    }
    if socket == "in-process-pkcs11" {
        let library = args
            .next()
            .ok_or("in-process-pkcs11 needs a library path")?;
        let pin = args.next().ok_or("in-process-pkcs11 needs the user PIN")?;
        let iterations: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(2000);
        return pkcs11::in_process(&library, &pin, iterations);
    }
    let iterations: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(2000);
    let provider = provider_id(args.next().as_deref())?;
    let client = || bench_client(&socket, provider);
    let setup = client();
    let _ = setup.psa_destroy_key("bench-p256");
    setup.psa_generate_key("bench-p256", p256_attributes(Lifetime::Persistent))?;
    // RSA-2048 through the PKCS#11 provider, beside the in-process
    // cryptoki figures of `in-process-pkcs11`.
    let rsa = provider == ProviderId::Pkcs11;
    if rsa {
        let _ = setup.psa_destroy_key("bench-rsa2048");
        setup.psa_generate_key("bench-rsa2048", rsa2048_attributes())?;
    }
    let hash = vec![0x5a; 32];

    psa_crypto::init()?;
    let local_key = key_management::generate(p256_attributes(Lifetime::Volatile), None)?;
    let mut local_signature = vec![0; 64];
    let _ = asym_signature::sign_hash(local_key, ALG, &hash, &mut local_signature)?;

    let mbed_lock = std::sync::Mutex::new(());
    println!("{iterations} operations per client thread");
    // The same Ping as bytes prepared once, sent on a bare socket: psecd and
    // the kernel alone, without the client library's work.
    let ping = ping_request_bytes()?;
    let mut outcome = Ok(());
    for threads in PING_CLIENTS {
        outcome = outcome.and(run_case("Ping, bare socket", threads, iterations, || {
            bare_round_trip(&socket, &ping).map(drop)
        }));
    }
    for threads in [1, 8] {
        outcome = outcome.and(run_case("Ping through psecd", threads, iterations, || {
            client().ping().map(drop)
        }));
        outcome = outcome.and(run_case(
            "ECDSA P-256 sign-hash, psecd",
            threads,
            iterations,
            || client().psa_sign_hash("bench-p256", &hash, ALG).map(drop),
        ));
        if rsa {
            outcome = outcome.and(run_case(
                "RSA-2048 PKCS#1 v1.5 sign-hash, psecd",
                threads,
                iterations,
                || {
                    client()
                        .psa_sign_hash("bench-rsa2048", &hash, RSA_ALG)
                        .map(drop)
                },
            ));
        }
        outcome = outcome.and(run_case(
            "ECDSA P-256 sign-hash, psa-crypto",
            threads,
            iterations,
            || {
                let mut signature = [0u8; 64];
                // Mbed TLS is built without thread support: one call at a
                // time, as psecd's Mbed Crypto provider does it.
                let _held = mbed_lock.lock();
                asym_signature::sign_hash(local_key, ALG, &hash, &mut signature).map(drop)
            },
        ));
    }
    setup.psa_destroy_key("bench-p256")?;
    if rsa {
        setup.psa_destroy_key("bench-rsa2048")?;
    }
    // The in-process key is volatile: it goes with the process.
    Ok(outcome?)
}
