//! `psec`: the command line of psec, a Rust implementation of the Parsec
//! security service.
//!
//! It talks to psecd (or a Parsec service) over its Unix socket with
//! [`psec_client::BasicClient`], and covers what parsec-tool users do:
//! service information (`ping`, `list-providers`, `list-authenticators`,
//! `list-opcodes`, `list-keys`, `list-clients`, `delete-client`), keys
//! (`create-rsa-key`, `create-ecc-key`, `create-aes-key`, `import-key`,
//! `export-public-key`, `export-key`, `delete-key`, `key-info`), crypto
//! (`sign`, `verify`, `encrypt`, `decrypt`, `hash`, `generate-random`),
//! certificate requests signed inside the service (`create-csr`), and its own
//! shell completions and man page (`completions`, `man`).
//!
//! Keys, signatures and requests are converted to and from the standard
//! formats (PEM, DER, SubjectPublicKeyInfo, PKCS#8, PKCS#1, SEC1, PKCS#10)
//! here, in pure Rust; every private-key operation happens in the service.
//!
//! Exit codes: 0 success, 1 a check failed (signature, AEAD tag), 2 usage error (bad
//! arguments or unreadable input; nothing sent), 3 the service refused the
//! request, 4 the service could not be reached.

mod cli;
mod commands;
mod csr;
mod der;
mod describe;
mod errors;
mod io;

use clap::Parser as _;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let code = if error.use_stderr() { 2 } else { 0 };
            let _ = error.print();
            return ExitCode::from(code);
        }
    };
    match commands::run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("psec: error: {error}");
            for cause in error.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(errors::exit_code(&error))
        }
    }
}
