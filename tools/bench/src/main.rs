//! psec-bench: how long a round trip through psecd takes, beside the same
//! work done in-process.
//!
//! Usage: `psec-bench <socket> [iterations] [mbed-crypto|pkcs11|tpm]`,
//! against a running psecd with that provider and the Direct authenticator
//! (`ci/bench.sh` starts one); or `psec-bench in-process-tpm <tcti>
//! [iterations]`, the TPM provider called in-process on the same TPM. For each case it runs 1 and 8 client threads, each doing
//! `iterations` operations, and prints the latency percentiles and the
//! total throughput.

use psa_crypto::operations::{asym_signature, key_management};
use psa_crypto::types::algorithm::{AsymmetricSignature, Hash};
use psa_crypto::types::key::{Attributes, EccFamily, Lifetime, Policy, Type, UsageFlags};
use psec_client::{Authentication, BasicClient, Endpoint};
use psec_interface::ProviderId;
use std::time::{Duration, Instant};

const ALG: AsymmetricSignature = AsymmetricSignature::Ecdsa {
    hash_alg: psa_crypto::types::algorithm::SignHash::Specific(Hash::Sha256),
};

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

/// Runs `op` `iterations` times on each of `threads` threads; returns every
/// latency and the wall time.
fn measure<F>(threads: usize, iterations: usize, op: F) -> (Vec<Duration>, Duration)
where
    F: Fn() + Sync,
{
    let started = Instant::now();
    let latencies = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    (0..iterations)
                        .map(|_| {
                            let t = Instant::now();
                            op();
                            t.elapsed()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect::<Vec<_>>()
    });
    (latencies, started.elapsed())
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    let index = (sorted.len().saturating_sub(1) * p) / 100;
    sorted.get(index).copied().unwrap_or_default()
}

fn report(name: &str, threads: usize, (mut latencies, wall): (Vec<Duration>, Duration)) {
    latencies.sort();
    let ops = latencies.len() as f64 / wall.as_secs_f64();
    println!(
        "{name:<34} {threads:>2} client(s): p50 {:>8.1} µs  p99 {:>8.1} µs  {:>9.0} ops/s",
        percentile(&latencies, 50).as_secs_f64() * 1e6,
        percentile(&latencies, 99).as_secs_f64() * 1e6,
        ops
    );
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
    let store = std::sync::Arc::new(psec_service::key_store::SqliteKeyStore::open(
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
        let _ = signer.sign_hash(
            &app,
            psa_sign_hash::Operation {
                key_name: "bench-p256".into(),
                alg: ALG,
                hash: vec![0x5a; 32],
            },
        );
    };
    println!("{iterations} operations per thread");
    for threads in [1, 8] {
        report(
            "ECDSA P-256 sign-hash, TPM in-process",
            threads,
            measure(threads, iterations, sign),
        );
    }
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let socket = args
        .next()
        .ok_or("usage: psec-bench <socket> [iterations] [provider] | psec-bench in-process-tpm <tcti> [iterations]")?;
    if socket == "in-process-tpm" {
        let tcti = args.next().ok_or("in-process-tpm needs a TCTI")?;
        let iterations: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(200);
        return in_process_tpm(&tcti, iterations);
    }
    let iterations: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(2000);
    let provider = match args.next().as_deref() {
        None | Some("mbed-crypto") => ProviderId::MbedCrypto,
        Some("pkcs11") => ProviderId::Pkcs11,
        Some("tpm") => ProviderId::Tpm,
        Some(other) => {
            return Err(format!("unknown provider {other}: mbed-crypto, pkcs11 or tpm").into());
        }
    };
    let client = || {
        BasicClient::new_naked(Endpoint::unix_socket(&socket))
            .with_provider(provider)
            .with_auth(
                Authentication::direct("psec-bench").unwrap_or_else(|_| Authentication::none()),
            )
    };
    let setup = client();
    let _ = setup.psa_destroy_key("bench-p256");
    setup.psa_generate_key("bench-p256", p256_attributes(Lifetime::Persistent))?;
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
    for threads in [1, 8] {
        report(
            "Ping through psecd",
            threads,
            measure(threads, iterations, || {
                let _ = client().ping();
            }),
        );
        report(
            "Ping, bare socket",
            threads,
            measure(threads, iterations, || {
                let _ = bare_round_trip(&socket, &ping);
            }),
        );
        report(
            "ECDSA P-256 sign-hash, psecd",
            threads,
            measure(threads, iterations, || {
                let _ = client().psa_sign_hash("bench-p256", &hash, ALG);
            }),
        );
        report(
            "ECDSA P-256 sign-hash, psa-crypto",
            threads,
            measure(threads, iterations, || {
                let mut signature = [0u8; 64];
                // Mbed TLS is built without thread support: one call at a
                // time, as psecd's Mbed Crypto provider does it.
                let _held = mbed_lock.lock();
                let _ = asym_signature::sign_hash(local_key, ALG, &hash, &mut signature);
            }),
        );
    }
    setup.psa_destroy_key("bench-p256")?;
    // The in-process key is volatile: it goes with the process.
    Ok(())
}
