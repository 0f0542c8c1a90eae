//! Why a test fixture could not be made.

use std::fmt;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

/// Why a fixture (a SoftHSM2 token, a swtpm, a psecd) could not be made.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// No SoftHSM2 PKCS#11 library at any of the paths tried.
    SoftHsm2LibraryNotFound {
        /// Whether the paths came from the `PSEC_SOFTHSM2_LIB` override.
        from_env: bool,
        /// The paths tried, in order.
        tried: Vec<PathBuf>,
    },
    /// A file or process operation failed.
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// A helper program (softhsm2-util, swtpm_ioctl, kill) failed.
    Command {
        /// The command.
        what: String,
        /// How it exited.
        status: ExitStatus,
        /// What it wrote to standard error.
        stderr: String,
    },
    /// A process exited before it was ready.
    Exited {
        /// The process.
        what: String,
        /// How it exited.
        status: ExitStatus,
        /// What it logged, if it logs to a file.
        log: String,
    },
    /// A process was not ready by its deadline.
    Timeout {
        /// What was awaited.
        what: String,
        /// The deadline.
        after: Duration,
        /// What the process logged, if it logs to a file.
        log: String,
    },
}

impl Error {
    /// An [`Error::Io`] for `what`.
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let what = what.into();
        move |source| Error::Io { what, source }
    }
}

/// Runs `command`, described as `what`, to a successful exit.
pub(crate) fn run(command: &mut std::process::Command, what: String) -> Result<(), Error> {
    let output = command
        .output()
        .map_err(Error::io(format!("running {what}")))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(Error::Command {
            what,
            status: output.status,
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::SoftHsm2LibraryNotFound { from_env, tried } => {
                let tried: Vec<String> = tried.iter().map(|p| p.display().to_string()).collect();
                if *from_env {
                    write!(
                        f,
                        "no SoftHSM2 PKCS#11 library: {} names {}, which is not a file",
                        crate::softhsm2::LIBRARY_ENV,
                        tried.join(", ")
                    )
                } else {
                    write!(
                        f,
                        "no SoftHSM2 PKCS#11 library; tried {}; install softhsm2 or set {} to its path",
                        tried.join(", "),
                        crate::softhsm2::LIBRARY_ENV
                    )
                }
            }
            Error::Io { what, .. } => write!(f, "{what}"),
            Error::Command {
                what,
                status,
                stderr,
            } => write!(f, "{what} failed ({status}): {stderr}"),
            Error::Exited { what, status, log } => {
                write!(f, "{what} exited ({status}) before it was ready")?;
                log_tail(f, log)
            }
            Error::Timeout { what, after, log } => {
                write!(f, "{what} was not ready within {after:?}")?;
                log_tail(f, log)
            }
        }
    }
}

fn log_tail(f: &mut fmt::Formatter<'_>, log: &str) -> fmt::Result {
    if log.is_empty() {
        Ok(())
    } else {
        write!(f, "; its log:\n{log}")
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
