//! The cost of authenticating one request (issue 13): the same
//! authenticated operation through one psecd that runs the Unix peer
//! credentials, JwtSvid and Direct authenticators, once with each.
//!
//! The operation is ListKeys: it needs an authenticated application (Ping
//! does not, and clients send it unauthenticated), and its own work (one
//! look-up of the caller's keys, of which there are none) is the same for
//! every authenticator, so the difference between two rows is the
//! difference in authentication. JwtSvid runs warm (one token for every
//! request, as a workload reuses its JWT-SVID until it nears expiry, so
//! psecd finds it in its cache of validated tokens) and cold (a new token
//! for every request: a full ES256 verification each time). Tokens are
//! real ES256 JWT-SVIDs from `psec_jwt_svid::testing`, trusted through
//! the bundle file `write-jwt-bundle` writes. The cases take turns in
//! rounds, each doing a tenth of its requests per round.

use psec_client::{Authentication, BasicClient, Endpoint};
use psec_jwt_svid::testing::{Signer, bundle_set, unix_now};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The trust domain of the benchmark's tokens.
const TRUST_DOMAIN: &str = "bench.example";

/// The JWT authority: a fixed P-256 key, so that the bundle written by one
/// process trusts the tokens another mints.
fn authority() -> Signer {
    Signer::es256("psec-bench", "psec-bench JWT authority")
}

/// Writes the JWT bundle file (trust domain to JWKS) psecd's
/// `jwt_bundle_path` reads.
pub(crate) fn write_bundle(path: &str) -> std::io::Result<()> {
    let authority = authority();
    std::fs::write(path, bundle_set(&[(TRUST_DOMAIN, &[&authority])]))
}

/// A JWT-SVID for audience `parsec`, valid for an hour; `serial` goes in
/// its `jti`, so that tokens with another serial differ.
fn token(authority: &Signer, serial: usize) -> String {
    let now = unix_now();
    authority.sign(
        &authority.header(),
        &serde_json::json!({
            "sub": format!("spiffe://{TRUST_DOMAIN}/psec-bench"),
            "aud": ["parsec"],
            "iat": now,
            "exp": now + 3600,
            "jti": serial.to_string(),
        }),
    )
}

/// The cases take turns, in this many rounds, so that a change in the
/// machine's load (other builds, say) falls on every case alike.
const ROUNDS: usize = 10;

/// One request of a case.
type Op<'a> = &'a (dyn Fn() -> Result<(), psec_client::Error> + Sync);

/// The median and mean latency of a case at one client, in µs. The
/// median is the figure to compare on a busy machine: a request that
/// waited for the CPU moves the mean, not the median.
fn micros(measured: &super::Measured) -> (f64, f64) {
    let mut sorted = measured.latencies.clone();
    sorted.sort();
    let median = super::percentile(&sorted, 50).as_secs_f64() * 1e6;
    let mean = measured.wall.as_secs_f64() * 1e6 / measured.latencies.len().max(1) as f64;
    (median, mean)
}

/// Runs the cases against the psecd at `socket`, then prints each one's
/// cost per request beside UnixPeerCredentials'.
pub(crate) fn run(socket: &str, iterations: usize) -> Result<(), Box<dyn std::error::Error>> {
    let endpoint = Endpoint::unix_socket(socket);
    let client = |auth: Authentication| BasicClient::new_naked(endpoint.clone()).with_auth(auth);
    let authority = authority();
    let warm = token(&authority, 0);
    // Enough fresh tokens for the largest case (8 clients).
    let fresh: Vec<String> = (1..=8 * iterations)
        .map(|serial| token(&authority, serial))
        .collect();
    let next = AtomicUsize::new(0);
    println!(
        "ListKeys, {iterations} operations per client thread; JwtSvid tokens are ES256, \
         trust domain {TRUST_DOMAIN}"
    );
    let mut outcome = Ok(());
    let mut at_one: Vec<(&str, (f64, f64))> = Vec::new();
    for threads in [1, 8] {
        let cases: [(&str, Op<'_>); 4] = [
            ("ListKeys, UnixPeerCredentials", &|| {
                client(Authentication::current_unix_user()?)
                    .list_keys()
                    .map(drop)
            }),
            ("ListKeys, JwtSvid warm (one token)", &|| {
                client(Authentication::jwt_svid(warm.as_bytes().into())?)
                    .list_keys()
                    .map(drop)
            }),
            ("ListKeys, JwtSvid cold (new token)", &|| {
                let serial = next.fetch_add(1, Ordering::Relaxed);
                let token = fresh.get(serial).map_or(warm.as_bytes(), |t| t.as_bytes());
                client(Authentication::jwt_svid(token.into())?)
                    .list_keys()
                    .map(drop)
            }),
            ("ListKeys, Direct", &|| {
                client(Authentication::direct("psec-bench")?)
                    .list_keys()
                    .map(drop)
            }),
        ];
        let cases: Vec<_> = cases
            .into_iter()
            .filter(|(name, _)| match std::env::var("PSEC_BENCH_ONLY") {
                Ok(only) => name.contains(&only),
                Err(_) => true,
            })
            .collect();
        let mut totals: Vec<super::Measured> = cases
            .iter()
            .map(|_| super::Measured {
                latencies: Vec::with_capacity(threads * iterations),
                wall: Duration::ZERO,
                failures: 0,
            })
            .collect();
        for round in 0..ROUNDS {
            let share = iterations / ROUNDS + usize::from(round < iterations % ROUNDS);
            for ((_, op), total) in cases.iter().zip(&mut totals) {
                let measured = super::measure(threads, share, op);
                total.latencies.extend(measured.latencies);
                total.wall += measured.wall;
                total.failures += measured.failures;
            }
        }
        for ((name, _), measured) in cases.into_iter().zip(totals) {
            if threads == 1 {
                at_one.push((name, micros(&measured)));
            }
            outcome = outcome.and(super::report(name, threads, measured));
        }
    }
    if let Some(&(_, (base_median, base_mean))) =
        at_one.first().filter(|(name, _)| name.contains("UnixPeer"))
    {
        println!(
            "cost per request at 1 client, beside UnixPeerCredentials: median (difference), \
             mean (difference)"
        );
        for (name, (median, mean)) in &at_one {
            println!(
                "  {name:<36} {median:>8.1} µs ({:>+7.1} µs)  {mean:>8.1} µs ({:>+7.1} µs)",
                median - base_median,
                mean - base_mean
            );
        }
    }
    Ok(outcome?)
}
