//! psec-test-support: what the tests of psec's crates share, so each
//! fixture is written once.
//!
//! - [`softhsm2`]: where SoftHSM2's PKCS#11 library is (`PSEC_SOFTHSM2_LIB`,
//!   then the paths distributions use), and a [`SoftHsm2`] configuration
//!   with tokens in a temporary directory of its own.
//! - [`swtpm`]: a [`Swtpm`] on a free loopback port with temporary state,
//!   one per test (swtpm has no resource manager).
//! - [`psecd`]: a real [`Psecd`] process on a temporary socket with a
//!   [`Config`], on the [`Backend`] a test asks for, stopped by its PID.
//! - [`attributes`]: key attribute builders.
//!
//! It is a dev-dependency only (`publish = false`) and depends on
//! psec-interface and tempfile alone: never on psec-provider or a backend,
//! so that a provider's own tests can use it without a second copy of
//! their crate's types. Every fixture is cleaned up when dropped; what
//! fails to start is an [`Error`] that says what was tried.
//!
//! ```no_run
//! use psec_test_support::{Backend, Config, Psecd, softhsm2};
//!
//! # fn main() -> Result<(), psec_test_support::Error> {
//! let library = softhsm2::library()?;
//! let psecd = Psecd::start(
//!     "target/debug/psecd",
//!     &Config { backend: Backend::Pkcs11, ..Config::default() },
//! )?;
//! println!("psecd on {} uses {}", psecd.socket.display(), library.display());
//! # Ok(())
//! # }
//! ```
//!
//! ```
//! use psec_test_support::attributes::{ECDSA_ANY, SECP_R1, sign_and_verify, volatile};
//!
//! let attributes = volatile(SECP_R1, 256, ECDSA_ANY.into(), sign_and_verify);
//! assert!(attributes.policy.usage_flags.sign_message());
//! ```

pub mod attributes;
mod error;
pub mod psecd;
pub mod softhsm2;
pub mod swtpm;

pub use error::Error;
pub use psecd::{Backend, Config, Psecd};
pub use softhsm2::SoftHsm2;
pub use swtpm::Swtpm;
