//! SoftHSM2: where its PKCS#11 library is, and tokens of a test's own.

use crate::Error;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use tempfile::TempDir;

/// The variable that names the SoftHSM2 library, before the known paths.
pub const LIBRARY_ENV: &str = "PSEC_SOFTHSM2_LIB";

/// Where distributions install SoftHSM2's PKCS#11 library, in the order
/// [`library`] tries them.
pub const KNOWN_LIBRARY_PATHS: &[&str] = &[
    // Debian, Ubuntu, Alpine, Arch.
    "/usr/lib/softhsm/libsofthsm2.so",
    // Debian's multiarch directories.
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    // Fedora, RHEL, openSUSE.
    "/usr/lib64/pkcs11/libsofthsm2.so",
    "/usr/lib/pkcs11/libsofthsm2.so",
    // A build from source, FreeBSD, Homebrew.
    "/usr/local/lib/softhsm/libsofthsm2.so",
    "/opt/homebrew/lib/softhsm/libsofthsm2.so",
];

/// The variable SoftHSM2 reads its configuration file from.
pub const CONF_ENV: &str = "SOFTHSM2_CONF";

/// The security officer PIN of every token made here.
pub const SO_PIN: &str = "12345678";

/// The user PIN of every token made here.
pub const USER_PIN: &str = "123456";

/// SoftHSM2's PKCS#11 library: the file `PSEC_SOFTHSM2_LIB` names if it is
/// set (and then no other), else the first of [`KNOWN_LIBRARY_PATHS`] that
/// exists. The error names every path tried.
pub fn library() -> Result<PathBuf, Error> {
    find_library(std::env::var_os(LIBRARY_ENV), KNOWN_LIBRARY_PATHS)
}

/// [`library`] with the variable's value and the known paths given.
fn find_library(from_env: Option<OsString>, known: &[&str]) -> Result<PathBuf, Error> {
    if let Some(path) = from_env.filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(Error::SoftHsm2LibraryNotFound {
                from_env: true,
                tried: vec![path],
            })
        };
    }
    known
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .ok_or_else(|| Error::SoftHsm2LibraryNotFound {
            from_env: false,
            tried: known.iter().map(PathBuf::from).collect(),
        })
}

/// A SoftHSM2 configuration of its own in a temporary directory, with its
/// tokens there too; removed when dropped. No token of the machine is
/// touched: whoever loads the library must have [`CONF_ENV`] set to
/// [`SoftHsm2::conf`].
#[derive(Debug)]
pub struct SoftHsm2 {
    dir: TempDir,
    conf: PathBuf,
}

impl SoftHsm2 {
    /// A configuration with no token yet.
    pub fn new() -> Result<SoftHsm2, Error> {
        let dir = tempfile::Builder::new()
            .prefix("psec-softhsm2-")
            .tempdir()
            .map_err(Error::io("making a temporary directory for SoftHSM2"))?;
        let tokens = dir.path().join("tokens");
        std::fs::create_dir(&tokens).map_err(Error::io("making the token directory"))?;
        let conf = dir.path().join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .map_err(Error::io("writing softhsm2.conf"))?;
        Ok(SoftHsm2 { dir, conf })
    }

    /// A configuration with one token, labelled `label`.
    pub fn with_token(label: &str) -> Result<SoftHsm2, Error> {
        let softhsm2 = SoftHsm2::new()?;
        softhsm2.init_token(label)?;
        Ok(softhsm2)
    }

    /// Initialises a token labelled `label` in a free slot, with [`SO_PIN`]
    /// and [`USER_PIN`].
    pub fn init_token(&self, label: &str) -> Result<(), Error> {
        let mut command = Command::new("softhsm2-util");
        command
            .args(["--init-token", "--free", "--label", label])
            .args(["--so-pin", SO_PIN, "--pin", USER_PIN])
            .env(CONF_ENV, &self.conf);
        let what = format!("softhsm2-util --init-token --label {label} (install softhsm2)");
        crate::error::run(&mut command, what)
    }

    /// The configuration file, for [`CONF_ENV`].
    pub fn conf(&self) -> &Path {
        &self.conf
    }

    /// The directory the tokens are kept in.
    pub fn token_dir(&self) -> PathBuf {
        self.dir.path().join("tokens")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test fails by panicking")]

    use super::*;

    #[test]
    fn the_override_wins_over_the_known_paths() {
        let dir = tempfile::tempdir().unwrap();
        let lib = dir.path().join("libsofthsm2.so");
        std::fs::write(&lib, b"").unwrap();
        let known = ["/bin/sh"];
        assert_eq!(find_library(Some(lib.clone().into()), &known).unwrap(), lib);
    }

    #[test]
    fn a_missing_override_is_an_error_naming_it_not_a_fallback() {
        let error = find_library(Some("/nowhere/lib.so".into()), &["/bin/sh"]).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("PSEC_SOFTHSM2_LIB"), "{message}");
        assert!(message.contains("/nowhere/lib.so"), "{message}");
        assert!(!message.contains("/bin/sh"), "{message}");
    }

    #[test]
    fn the_first_known_path_that_exists_is_taken() {
        let dir = tempfile::tempdir().unwrap();
        let lib = dir.path().join("libsofthsm2.so");
        std::fs::write(&lib, b"").unwrap();
        let known = ["/nowhere/a.so", lib.to_str().unwrap(), "/bin/sh"];
        assert_eq!(find_library(None, &known).unwrap(), lib);
        assert_eq!(find_library(Some("".into()), &known).unwrap(), lib);
    }

    #[test]
    fn no_library_is_an_error_naming_every_path_tried() {
        let message = find_library(None, &["/nowhere/a.so", "/nowhere/b.so"])
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("/nowhere/a.so, /nowhere/b.so"),
            "{message}"
        );
        assert!(message.contains("PSEC_SOFTHSM2_LIB"), "{message}");
    }

    #[test]
    fn a_token_is_made_in_its_own_directory_and_removed_on_drop() {
        let softhsm2 = SoftHsm2::with_token("psec-test").unwrap();
        let tokens = softhsm2.token_dir();
        assert_eq!(std::fs::read_dir(&tokens).unwrap().count(), 1);
        let conf = std::fs::read_to_string(softhsm2.conf()).unwrap();
        assert!(conf.contains(&tokens.display().to_string()), "{conf}");
        drop(softhsm2);
        assert!(!tokens.exists());
    }
}
