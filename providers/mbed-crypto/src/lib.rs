//! The Mbed Crypto provider of psec: the PSA Crypto API done in software,
//! in the service's process, by Mbed TLS through the `psa-crypto` crate.
//!
//! It sits behind the [`psec_provider::Provider`] contract: the service
//! builds it with [`build`], hands it the shared [`KeyStore`], and routes
//! operations to it with [`psec_provider::execute`]. It offers every
//! capability but attestation:
//!
//! | capability | what Mbed TLS does here |
//! |---|---|
//! | key management, export | generate, import, export (public) keys, destroy |
//! | asymmetric signing | RSA PKCS#1 v1.5 (also raw) and PSS; ECDSA (also on any hash) and deterministic ECDSA, on P-256, P-384, P-521, secp256k1 and Brainpool P-256/384/512 |
//! | asymmetric encryption | RSA PKCS#1 v1.5 and OAEP |
//! | AEAD | AES-GCM, AES-CCM (also with shortened tags), ChaCha20-Poly1305 |
//! | cipher | AES CTR, CFB, OFB, CBC with and without PKCS#7 padding; ChaCha20 |
//! | MAC | HMAC, AES-CMAC, full length or truncated |
//! | hashing | MD5, RIPEMD-160, SHA-1, SHA-224/256/384/512, SHA3-224/256/384/512 |
//! | key agreement | raw ECDH on the curves above and X25519/X448 |
//! | random | Mbed TLS's CTR-DRBG, up to 1 MiB a request |
//! | CanDoCrypto | answered from the table of what is supported, inside the checks every provider shares |
//!
//! Other providers may verify signatures and encrypt with public keys they
//! hold as data through [`public_key`], as the PKCS#11 provider does with
//! `software_public_operations`.
//!
//! RSA keys are 1024 to 4096 bits. Whether deprecated primitives (MD5,
//! SHA-1, ...) may be used is the service's policy, not the provider's.
//!
//! # Keys
//!
//! Every key is a persistent PSA key with a random id in the PSA user range.
//! The key store holds, for each application's key name, that id (4 bytes
//! little-endian) and the attributes the key was created with. Keys are
//! created and destroyed in the steps [`KeyStore`] describes, and [`build`]
//! finishes the steps a crash interrupted, so no backend key outlives its
//! row and every listed key is usable.
//!
//! Mbed TLS writes its keys as files (`<id>.psa_its`) in the **current
//! working directory** of the process; the service must move into a
//! directory of its own (and keep it) before building this provider, and
//! only one service may use that directory.
//!
//! # Threads
//!
//! Mbed TLS 3.5.1 as psa-crypto builds it by default is not thread-safe, so
//! every call into it takes one process-wide lock: operations of all Mbed
//! Crypto providers of a process run one at a time. Linked to an Mbed TLS
//! 3.6 or later built with `MBEDTLS_THREADING_C` and
//! `MBEDTLS_THREADING_PTHREAD` (psa-crypto-sys takes one from
//! `MBEDTLS_INCLUDE_DIR` and `MBEDTLS_LIB_DIR`, or from pkg-config), the
//! provider makes its calls in parallel instead: the build script reads
//! the library's configuration, the provider checks the library's own
//! answer when it starts (and keeps the lock on any doubt), and logs which
//! way it runs. A key is then only kept from being destroyed while a call
//! uses it, and two creations never pick the same key id.
//!
//! # Example
//!
//! ```
//! use psec_provider::{KeyStore, Provider, ProviderError, supported_opcodes};
//! use psec_provider_mbed_crypto::{MbedCryptoSettings, build};
//! use std::sync::Arc;
//!
//! /// Builds the provider over the service's key store, from the
//! /// directory that holds its key files.
//! fn start(key_store: Arc<dyn KeyStore>) -> Result<Arc<dyn Provider>, ProviderError> {
//!     let provider = build(
//!         "mbed-crypto-provider".to_string(),
//!         key_store,
//!         MbedCryptoSettings::default(),
//!     )?;
//!     assert!(!supported_opcodes(provider.as_ref()).is_empty());
//!     Ok(provider)
//! }
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

mod aead;
mod asym_encryption;
mod backend;
mod cipher;
mod hashing;
mod key_agreement;
mod keys;
mod mac;
mod provider;
pub mod public_key;
mod random;
mod signing;
mod support;
#[cfg(test)]
mod test_support;

pub use provider::{MbedCryptoProvider, MbedCryptoSettings, build};

#[cfg(doc)]
use psec_provider::KeyStore;
