//! The TPM provider of psec: PSA Crypto operations done by a TPM 2.0,
//! through the TSS 2.0 Enhanced System API (`tss-esapi`).
//!
//! It sits behind the [`psec_provider::Provider`] contract: the service
//! builds it with [`build`] from [`TpmSettings`], hands it the shared
//! [`KeyStore`], and routes operations to it with [`psec_provider::execute`].
//!
//! | capability | what the TPM does here |
//! |---|---|
//! | key management | generate RSA (every size the TPM has: 2048, 3072...) and ECC (P-256, P-384, P-521 if the TPM has them) key pairs; import RSA and ECC public keys; export public keys (DER RSAPublicKey, uncompressed point); destroy |
//! | asymmetric signing | RSA PKCS#1 v1.5, RSA PSS, ECDSA (randomized), on hashes and on messages of up to 1024 bytes |
//! | asymmetric encryption | RSA PKCS#1 v1.5 and OAEP (a label must end with a zero byte) |
//! | hashing | the SHA-1, SHA-2 and SHA-3 hashes the TPM has, on inputs of up to 1024 bytes |
//! | random | the TPM's generator, up to 64 KiB a request |
//! | attestation | AttestKey and PrepareKeyAttestation through TPM2_ActivateCredential, attested by the TPM's RSA endorsement key (given as a DER RSAPublicKey) |
//! | CanDoCrypto | Success where Parsec's TPM provider says so and the TPM has the algorithms, curve and RSA size (as it reports them at start-up) |
//!
//! # Keys
//!
//! No key lives in the TPM. At start-up the provider re-creates a storage
//! primary key under the owner hierarchy (ECC P-256, always the same from
//! the same owner seed); a key pair is made by the TPM under it and kept,
//! wrapped by it, in the key store as the key's backend id. Each operation
//! loads the key, uses it and flushes it, so the provider needs two of the
//! TPM's transient object slots (the primary key's and one) and works with
//! no resource manager. Destroying a key drops its row; nothing is left in
//! the TPM.
//!
//! Each wrapped key records the name of the primary key it was made under.
//! If the TPM has been cleared (or is another TPM) since, [`build`] fails
//! with `PsaErrorCorruptionDetected` rather than every later operation.
//!
//! If the TPM is reset under a running provider (TPM2_Init, as a platform
//! reset does), the next command sends TPM2_Startup if needed, re-creates
//! the primary key, checks it is the same one and goes on.
//!
//! Every TPM command goes through one lock: the TPM is used by one
//! operation at a time, and other providers never wait on it.
//!
//! # Example
//!
//! ```no_run
//! use psec_provider::{KeyStore, Provider, ProviderError};
//! use psec_provider_tpm::{TpmSettings, build};
//! use std::sync::Arc;
//! use zeroize::Zeroizing;
//!
//! fn start(key_store: Arc<dyn KeyStore>) -> Result<Arc<dyn Provider>, ProviderError> {
//!     let settings = TpmSettings::new("device:/dev/tpmrm0")
//!         .with_owner_hierarchy_auth(Zeroizing::new(b"owner secret".to_vec()));
//!     build("tpm-provider".to_string(), key_store, settings)
//! }
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

mod asym_encryption;
mod attestation;
mod blob;
mod hashing;
mod keys;
mod provider;
mod random;
mod signing;
mod support;
#[cfg(test)]
mod test_support;
mod tpm;

pub use provider::{TpmProvider, TpmSettings, build};

#[cfg(doc)]
use psec_provider::KeyStore;
