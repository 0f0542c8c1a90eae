//! psecd: the psec service daemon.

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

/// psecd: the PSA Crypto API over a Unix socket, Parsec-compatible.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Configuration file (Parsec's config.toml format). Without it psecd
    /// runs a built-in default: the Mbed Crypto provider, a SQLite key store
    /// under $XDG_STATE_HOME/psec, and a socket at
    /// $XDG_RUNTIME_DIR/psec/parsec.sock.
    #[arg(short, long)]
    config: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match psec_service::run(psec_service::Options {
        config_path: args.config,
    }) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("psecd: {error}");
            ExitCode::FAILURE
        }
    }
}
