//! The Parsec wire protocol, version 1.0, as psec speaks it.
//!
//! This crate is the contract between Parsec clients and the psec service:
//! the fixed 36-byte header, whole requests and responses read from and
//! written to any stream, every operation of the protocol as native Rust
//! types, and their protobuf bodies, byte-compatible with the Parsec service
//! and its clients in other languages.
//!
//! It is pure Rust: no C compiler, no system library and no `protoc` are
//! needed to build it. PSA types (key attributes, algorithms) are those of
//! [`psa_crypto`], used without its Mbed TLS backend.
//!
//! Every decoding path returns an error on bad input and never panics; key
//! material, plaintexts and authentication bytes are wiped from memory when
//! dropped and never printed.
//!
//! # What a service may send: the Parsec 1.x rule
//!
//! Every byte psecd sends must decode in the clients of Parsec 1.x, whose
//! Rust interface (parsec-interface 0.29 and 0.30, under parsec-client 0.16
//! and parsec-tool) is older than the protocol this crate speaks. That
//! interface refuses a whole reply in which it meets an opcode it does not
//! know. So:
//!
//! - a reply header carries only a provider id and an opcode the client
//!   sent, or, for a request that could not be read, Core and Ping
//!   ([`RawHeader::unreadable_request_reply`]);
//! - a list of opcodes sent to a client (ListOpcodes) holds only those for
//!   which [`Opcode::in_parsec_1`] is true. Operations added since, the
//!   MAC operations first, are still served to the clients that ask for
//!   them; a client discovers them with CanDoCrypto (which Parsec 1.x also
//!   reads) or by trying them.
//!
//! # Example
//!
//! Build a request to sign a digest, send it through any `Write`, and read
//! it back as the service would:
//!
//! ```
//! use psec_interface::operations::{psa_sign_hash, NativeOperation};
//! use psec_interface::psa_crypto::types::algorithm::{AsymmetricSignature, Hash};
//! use psec_interface::{AuthBuffer, AuthType, Opcode, ProviderId, Request, RequestHeader};
//!
//! let operation = NativeOperation::PsaSignHash(psa_sign_hash::Operation {
//!     key_name: "device-identity".to_string(),
//!     alg: AsymmetricSignature::Ecdsa { hash_alg: Hash::Sha256.into() },
//!     hash: vec![0xab; 32],
//! });
//! let request = Request {
//!     header: RequestHeader::new(ProviderId::MbedCrypto, AuthType::Direct, operation.opcode()),
//!     body: operation.clone().into_body()?,
//!     auth: AuthBuffer::from("my-application"),
//! };
//!
//! let mut wire = Vec::new();
//! request.write_to(&mut wire)?;
//!
//! let received = Request::read_from(&mut wire.as_slice(), 1 << 20)?;
//! assert_eq!(received.header.opcode, Opcode::PsaSignHash);
//! assert_eq!(received.auth.bytes(), b"my-application");
//! assert_eq!(NativeOperation::from_body(Opcode::PsaSignHash, &received.body)?, operation);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

mod auth;
pub mod header;
mod message;
mod opcode;
pub mod operations;
mod provider;
mod secret;
mod status;

/// Rust code generated from `protobuf/*.proto` by prost-build, checked in
/// (see `tests/protobuf_codegen.rs`). Private: the native types in
/// [`operations`] are the API.
#[allow(
    missing_docs,
    unreachable_pub,
    dead_code,
    unused_qualifications,
    clippy::all,
    clippy::pedantic
)]
mod generated;

pub use auth::{AuthBuffer, AuthType};
pub use header::{BodyType, RawHeader, RequestHeader, ResponseHeader};
pub use message::{Body, Request, Response};
pub use opcode::{Access, Opcode, OpcodeClass};
pub use operations::{NativeOperation, NativeResult};
pub use provider::ProviderId;
pub use psa_crypto;
pub use secret::SecretBytes;
pub use status::ResponseStatus;
