//! kill -9 at an arbitrary point of a burst of key creations: after a
//! restart every listed key is usable, every usable key is listed, and no
//! backend key is left without its mapping.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

mod common;

use common::{ECDSA, Psecd, p256_signing};
use psec_client::{Authentication, BasicClient, Endpoint, ProviderId};
use psec_provider::KeyStore;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

fn client(socket: &std::path::Path) -> BasicClient {
    BasicClient::new_naked(Endpoint::unix_socket(socket))
        .with_provider(ProviderId::MbedCrypto)
        .with_auth(Authentication::direct("burst").unwrap())
        .with_timeout(Some(Duration::from_secs(10)))
}

/// Creates keys from 4 threads until `kill_after` have succeeded, kills
/// psecd with SIGKILL while the threads are still creating, and returns
/// every name that was attempted.
fn burst_then_kill(psecd: &mut Psecd, round: usize, kill_after: usize) -> Vec<String> {
    let created = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let socket = psecd.socket.clone();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..4)
            .map(|thread| {
                let (created, stop, socket) = (&created, &stop, &socket);
                scope.spawn(move || {
                    let c = client(socket);
                    let mut names = Vec::new();
                    for n in 0.. {
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                        let name = format!("r{round}-t{thread}-k{n}");
                        names.push(name.clone());
                        match c.psa_generate_key(&name, p256_signing()) {
                            Ok(()) => {
                                let _ = created.fetch_add(1, Ordering::SeqCst);
                            }
                            // The service is gone: the kill came.
                            Err(_) => break,
                        }
                    }
                    names
                })
            })
            .collect();
        let deadline = Instant::now() + Duration::from_secs(60);
        while created.load(Ordering::SeqCst) < kill_after {
            assert!(Instant::now() < deadline, "the burst made no progress");
            std::thread::sleep(Duration::from_millis(1));
        }
        psecd.kill9();
        stop.store(true, Ordering::SeqCst);
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect::<Vec<_>>()
    })
}

/// The key files Mbed TLS keeps in psecd's working directory: 16 hex
/// digits (owner and key id) and `.psa_its`. Its write-in-progress file,
/// `tempfile.psa_its`, which a kill can leave behind, holds no key.
fn backend_key_files(psecd: &Psecd) -> BTreeSet<String> {
    std::fs::read_dir(psecd.dir.path().join("mbed"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| {
            name.strip_suffix(".psa_its")
                .is_some_and(|stem| stem.len() == 16 && stem.chars().all(|c| c.is_ascii_hexdigit()))
        })
        .collect()
}

#[test]
fn kill_9_during_key_creation_loses_and_orphans_nothing() {
    let mut psecd = Psecd::start();
    let mut attempted = Vec::new();
    for (round, kill_after) in [(0, 10), (1, 25), (2, 40)] {
        attempted.extend(burst_then_kill(&mut psecd, round, kill_after));
        psecd.spawn();
    }
    let c = client(&psecd.socket);
    let listed: BTreeSet<String> = c.list_keys().unwrap().into_iter().map(|k| k.name).collect();
    assert!(
        listed.len() >= 10 + 25 + 40,
        "fewer keys than were acknowledged: {}",
        listed.len()
    );
    for name in &attempted {
        let usable = c.psa_sign_hash(name, &[9; 32], ECDSA).is_ok();
        assert_eq!(
            usable,
            listed.contains(name),
            "key {name}: usable {usable}, listed {}",
            listed.contains(name)
        );
    }
    // The backend keys on disk are exactly the keys the store maps.
    assert!(psecd.stop(), "psecd stops cleanly");
    let store =
        psec_key_store::SqliteKeyStore::open(&psecd.dir.path().join("store/keys.sqlite3")).unwrap();
    let mapped: BTreeSet<String> = store
        .keys_in("mbed-crypto-provider")
        .unwrap()
        .into_iter()
        .map(|(_, info)| {
            format!(
                "00000000{:08x}.psa_its",
                u32::from_le_bytes(info.backend_id.try_into().unwrap())
            )
        })
        .collect();
    assert!(store.unfinished("mbed-crypto-provider").unwrap().is_empty());
    assert_eq!(
        backend_key_files(&psecd),
        mapped,
        "backend key files and mapped keys differ; psecd log:\n{}",
        psecd.log()
    );
    assert_eq!(mapped.len(), listed.len());
}
