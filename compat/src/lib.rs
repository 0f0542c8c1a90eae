//! The differential conformance harness: psecd against Parsec 1.5.
//!
//! Each run starts Parsec (the reference, `parsec-service` 1.5.0 installed
//! from crates.io by `ci/compat.sh`) and psecd side by side from the **same
//! configuration file**, written in Parsec's format, once per provider:
//! Mbed Crypto; PKCS#11 on SoftHSM2, each service on its own token; TPM on
//! swtpm, each service on its own TPM. Both are then sent the same requests
//! through Parsec's own client library (parsec-client 0.16 on
//! parsec-interface 0.29), and their answers are compared: the status of
//! every request, and the body wherever the answer is deterministic.
//!
//! - [`service`] writes the configuration and starts the two services.
//! - [`outcome`] sends requests and reduces answers to comparable text.
//! - [`differences`] is the list of differences psec makes on purpose
//!   (`differences.toml`); any other difference fails the run.
//! - [`pair`] runs one request against both and keeps the figures.
//! - [`cases`] is the table of fixed cases, [`headers`] the malformed
//!   headers sent as raw bytes, [`random`] the seeded generated requests,
//!   [`legacy`] the switch from Parsec's on-disk key store to psecd.
//!
//! This crate is a workspace of its own (like `fuzz/`), never published:
//! the product crates must not depend on Parsec's client.

// The cases send deprecated primitives (SHA-1, MD5) on purpose: how each
// service refuses them is compared too.
#![allow(deprecated)]

pub mod cases;
pub mod differences;
pub mod headers;
pub mod legacy;
pub mod outcome;
pub mod pair;
pub mod random;
pub mod service;

pub use parsec_client;
pub use parsec_client::core::interface;
