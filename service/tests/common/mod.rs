//! A real psecd for the tests, from psec-test-support, started from this
//! package's own binary; a harness failure fails the test.
#![allow(
    dead_code,
    unreachable_pub,
    unused_imports,
    reason = "a harness module shared by several test binaries, each using part of it"
)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

use psec_client::{Authentication, BasicClient, Endpoint, Error, ResponseStatus};
pub use psec_test_support::attributes::{ECDSA_SHA256 as ECDSA, p256_signing};
pub use psec_test_support::{Backend, Config as TestConfig};
use std::ops::{Deref, DerefMut};

/// A running psecd, stopped (with its token or swtpm) when dropped.
pub struct Psecd(psec_test_support::Psecd);

impl Psecd {
    /// Starts psecd with the default test configuration.
    pub fn start() -> Psecd {
        Psecd::start_with(&TestConfig::default())
    }

    /// Starts psecd with `config`, in a new temporary directory.
    pub fn start_with(config: &TestConfig) -> Psecd {
        let psecd = psec_test_support::Psecd::start(env!("CARGO_BIN_EXE_psecd"), config);
        Psecd(psecd.unwrap_or_else(|e| panic!("{e}")))
    }

    /// Starts the process again on the same directory, and waits for it
    /// to serve.
    pub fn spawn(&mut self) {
        self.0.spawn().unwrap_or_else(|e| panic!("{e}"));
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.0.pid().expect("psecd runs")
    }

    /// Sends a signal by name (TERM, HUP, KILL...).
    pub fn signal(&self, name: &str) {
        self.0.signal(name).unwrap_or_else(|e| panic!("{e}"));
    }

    /// A client of this psecd for the Direct application `app`, on its
    /// crypto provider.
    pub fn client(&self, app: &str) -> BasicClient {
        BasicClient::new_naked(Endpoint::unix_socket(&self.socket))
            .with_provider(self.backend.provider_id())
            .with_auth(Authentication::direct(app).unwrap())
    }
}

impl Deref for Psecd {
    type Target = psec_test_support::Psecd;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for Psecd {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

/// The wire status of a failed request.
pub fn status(error: Error) -> ResponseStatus {
    error
        .service_status()
        .unwrap_or_else(|| panic!("expected a service status, got {error}"))
}
