//! The PKCS#11 provider of psec: the PSA Crypto API done by a PKCS#11
//! token (an HSM, a smart card, a cloud HSM's PKCS#11 library, SoftHSM2),
//! through the `cryptoki` crate, so that applications never load a vendor
//! library themselves.
//!
//! It sits behind the [`psec_provider::Provider`] contract: the service
//! builds it with [`build`], hands it the shared [`KeyStore`], and routes
//! operations to it with [`psec_provider::execute`].
//!
//! | capability | on the token |
//! |---|---|
//! | key management | generate, import (RSA and EC key pairs, RSA and EC public keys), export public keys, destroy; RSA 1024–4096 bits, EC P-256, P-384, P-521 |
//! | key export | only with `allow_export`, for keys whose policy has `export` (made extractable and not sensitive) |
//! | asymmetric signing | RSA PKCS#1 v1.5 (also raw) and PSS, ECDSA; messages are hashed on the token |
//! | asymmetric encryption | RSA PKCS#1 v1.5 and OAEP (SHA-1, SHA-224/256/384/512) |
//! | cipher | AES ECB, CBC, CBC with PKCS#7 padding, CTR (the IV is drawn here and sent before the ciphertext) |
//! | AEAD | AES-GCM, full or shortened tags |
//! | MAC | HMAC with SHA-1, SHA-224/256/384/512, full length or truncated |
//! | hashing | SHA-1, SHA-224/256/384/512, on the token |
//! | key agreement | raw ECDH |
//! | random | the token's generator |
//! | CanDoCrypto | answered from the token's mechanisms, inside the checks every provider shares |
//!
//! What is offered comes from the token itself: [`Provider`] capabilities
//! and CanDoCrypto answers are derived from what `C_GetMechanismInfo`
//! says of each mechanism this provider uses (and its key size limits), so
//! a token without `CKM_RSA_PKCS_PSS`, say, does not claim PSS. OAEP
//! hashes, which no mechanism flag reveals, are tried at start-up with a
//! throw-away session key (SoftHSM2 2.6 takes only SHA-1).
//!
//! An EC key pair is imported from PSA's format, the private scalar
//! alone: its public point, which the token's public key object needs, is
//! computed in software (the pure-Rust `p256`, `p384` and `p521` crates)
//! before anything is written. A scalar of the wrong length for P-256,
//! P-384 or P-521, zero, or not below the curve's order is an invalid
//! argument.
//!
//! Not offered: attestation, key derivation, OAEP labels on tokens that
//! refuse them, AES CMAC and CCM.
//!
//! With `software_public_operations` (and the `software-public-operations`
//! feature), signatures are verified and data encrypted to public keys in
//! Mbed TLS, with the public key read from the token, as Parsec does.
//!
//! # Keys
//!
//! Every key is a pair of token objects (or one public key object) with a
//! random 16-byte `CKA_ID`; the key store keeps that id as the key's
//! backend id. Keys are created and destroyed in the steps [`KeyStore`]
//! describes, and [`build`] finishes the steps a crash interrupted
//! (destroying the token objects of unfinished rows) and drops, with a
//! warning, the keys whose token objects have vanished. A token object
//! is never deleted because no row names it.
//!
//! # Sessions and the PIN
//!
//! The provider logs in once, on a session it keeps open; operations take
//! a session from a pool (opening another when all are busy), so
//! concurrent requests do not queue behind one session. Object handles are
//! remembered once found, since searching costs a token such as SoftHSM2
//! work on every private object it holds. A remembered handle never names
//! another object, another tenant's key above all: the provider destroys
//! no object while its handle is in use and forgets the handles of what it
//! destroys before any use can start again; and a handle that another
//! process (or a token re-initialisation) may have freed is either read
//! back (class and `CKA_ID`) before each use or, on SoftHSM2, which never
//! issues a handle number twice in a process, left for the token to call
//! invalid. The user PIN is held in zeroizing buffers and never logged.
//!
//! # Example
//!
//! ```no_run
//! use psec_provider::{KeyStore, Provider, ProviderError};
//! use psec_provider_pkcs11::{Pkcs11Settings, build};
//! use std::sync::Arc;
//!
//! fn start(key_store: Arc<dyn KeyStore>) -> Result<Arc<dyn Provider>, ProviderError> {
//!     let settings = Pkcs11Settings::new("/usr/lib/softhsm/libsofthsm2.so")
//!         .with_token(None, Some("0123456789abcdef".to_owned()))
//!         .with_user_pin(zeroize::Zeroizing::new(b"123456".to_vec()));
//!     build("pkcs11-provider".to_string(), key_store, settings)
//! }
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

mod der;
mod encryption;
mod keys;
mod provider;
mod random;
mod settings;
mod signing;
#[cfg(feature = "software-public-operations")]
mod software;
mod support;
mod symmetric;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;
mod token;

pub use provider::{Pkcs11Provider, build};
pub use settings::{Pkcs11Settings, TokenChoice};

#[cfg(doc)]
use psec_provider::{KeyStore, Provider};
