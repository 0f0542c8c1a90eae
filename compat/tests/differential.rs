//! psecd against Parsec 1.5, one test per backend, plus the switch from
//! Parsec's legacy on-disk store. Run through `ci/compat.sh`, which installs
//! Parsec and builds psecd first.

use psec_compat::pair::Pair;
use psec_compat::service::Backend;
use psec_compat::{cases, headers, legacy, random};

/// Every fixed case, every raw header case, then `random_cases` generated
/// ones; fails on any difference not in differences.toml.
fn answers_as_parsec_does(backend: Backend, random_cases: u32) {
    let mut pair = Pair::start(backend);
    cases::run_all(&mut pair);
    headers::run_all(&mut pair);
    let generated = random::run(&mut pair, random_cases);
    println!("compat {}: {generated} generated cases", backend.name());
    pair.finish();
}

#[test]
fn mbed_crypto_answers_as_parsec_does() {
    answers_as_parsec_does(Backend::MbedCrypto, 600);
}

#[test]
fn pkcs11_answers_as_parsec_does() {
    answers_as_parsec_does(Backend::Pkcs11, 400);
}

#[test]
fn tpm_answers_as_parsec_does() {
    answers_as_parsec_does(Backend::Tpm, 300);
}

#[test]
fn keys_parsec_made_on_its_on_disk_store_work_in_psecd() {
    legacy::run();
}
