//! The settings of the provider, and the user PIN as the configuration
//! file writes it.

use std::fmt;
use std::path::PathBuf;
use zeroize::Zeroizing;

/// Which token of the library to use.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TokenChoice {
    /// The only initialised token; an error if there are none or several.
    #[default]
    OnlyOne,
    /// The token in this slot.
    Slot(u64),
    /// The token with this serial number.
    Serial(String),
}

/// Settings of the PKCS#11 provider.
///
/// The user PIN is kept in a [`Zeroizing`] buffer, wiped when dropped, and
/// never printed: `Debug` shows only whether there is one.
#[derive(Clone)]
#[non_exhaustive]
pub struct Pkcs11Settings {
    /// Path of the token's PKCS#11 library (the `.so`).
    pub library_path: PathBuf,
    /// Which token to use.
    pub token: TokenChoice,
    /// The user PIN, as bytes; `None` logs in to no token.
    pub user_pin: Option<Zeroizing<Vec<u8>>>,
    /// Whether signatures are verified, and data encrypted to public keys,
    /// in software (Mbed TLS) instead of on the token. Needs the
    /// `software-public-operations` feature; without it, setting this is a
    /// start-up error.
    pub software_public_operations: bool,
    /// Whether PsaExportKey is offered (for keys whose policy allows it).
    pub allow_export: bool,
}

impl Pkcs11Settings {
    /// Settings for the library at `library_path`: the only token, no PIN,
    /// no export.
    pub fn new(library_path: impl Into<PathBuf>) -> Self {
        Pkcs11Settings {
            library_path: library_path.into(),
            token: TokenChoice::OnlyOne,
            user_pin: None,
            software_public_operations: false,
            allow_export: false,
        }
    }

    /// Picks the token: by slot, else by serial number, else the only one.
    pub fn with_token(mut self, slot: Option<u64>, serial: Option<String>) -> Self {
        self.token = match (slot, serial) {
            (Some(slot), _) => TokenChoice::Slot(slot),
            (None, Some(serial)) => TokenChoice::Serial(serial),
            (None, None) => TokenChoice::OnlyOne,
        };
        self
    }

    /// Sets the user PIN (its bytes; the service decodes the configuration's
    /// `str:...` or `hex:...`).
    pub fn with_user_pin(mut self, pin: Zeroizing<Vec<u8>>) -> Self {
        self.user_pin = Some(pin);
        self
    }

    /// Sets whether PsaExportKey is offered.
    pub fn with_allow_export(mut self, allow_export: bool) -> Self {
        self.allow_export = allow_export;
        self
    }

    /// Sets `software_public_operations` (see the field).
    pub fn with_software_public_operations(mut self, software: bool) -> Self {
        self.software_public_operations = software;
        self
    }
}

impl fmt::Debug for Pkcs11Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11Settings")
            .field("library_path", &self.library_path)
            .field("token", &self.token)
            .field(
                "user_pin",
                &self.user_pin.as_ref().map(|_| "<set, not shown>"),
            )
            .field(
                "software_public_operations",
                &self.software_public_operations,
            )
            .field("allow_export", &self.allow_export)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test fails by panicking")]
    use super::*;

    #[test]
    fn debug_never_shows_the_pin() {
        let settings =
            Pkcs11Settings::new("/lib.so").with_user_pin(Zeroizing::new(b"secret-pin".to_vec()));
        let shown = format!("{settings:?}");
        assert!(!shown.contains("secret-pin"), "{shown}");
    }
}
