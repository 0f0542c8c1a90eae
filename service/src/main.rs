//! psecd: the psec service daemon.

use clap::Parser;
use psec_service::config::Config;
use std::path::PathBuf;
use std::process::ExitCode;

/// psecd: the PSA Crypto API over a Unix socket, Parsec-compatible.
#[derive(Parser)]
#[command(name = "psecd", version, about)]
struct Args {
    /// Configuration file (Parsec's config.toml format). Without it psecd
    /// runs a built-in default: the Mbed Crypto provider, a SQLite key store
    /// under $XDG_STATE_HOME/psec, and a socket at
    /// $XDG_RUNTIME_DIR/psec/parsec.sock.
    #[arg(short, long)]
    config: Option<PathBuf>,

    /// Instead of serving: copy the keys of Parsec's legacy on-disk key store
    /// in this directory (e.g. /var/lib/parsec/mappings) into the
    /// configuration's SQLite key manager, then exit. Needs --config. The
    /// legacy files are left in place; running it twice is harmless.
    #[arg(long, value_name = "DIR", requires = "config")]
    migrate_on_disk_store: Option<PathBuf>,

    /// With --migrate-on-disk-store: the name of the SQLite key manager to
    /// fill (default: the first SQLite one).
    #[arg(long, value_name = "KEY_MANAGER", requires = "migrate_on_disk_store")]
    into: Option<String>,
}

fn migrate(
    config: Option<PathBuf>,
    from: PathBuf,
    into: Option<String>,
) -> Result<(), psec_service::StartError> {
    let config = Config::from_file(&config.unwrap_or_default())?;
    let report = psec_service::migrate_on_disk(&config, &from, into.as_deref())?;
    println!(
        "migrated {} key(s) from {}; {} already present; {} unfinished skipped",
        report.migrated,
        from.display(),
        report.already_present,
        report.unfinished_skipped
    );
    Ok(())
}

/// Caps glibc's malloc at two arenas. glibc gives threads that allocate at
/// the same time arenas of their own, up to eight per core, and keeps what
/// is freed in each: after ci/bench.sh's load on the blocking pool's
/// threads, psecd's anonymous memory was 2.4 MB with glibc's default and
/// 1.9 to 2.2 MB with two arenas, for the same signatures a second.
/// An administrator's `MALLOC_ARENA_MAX` in the environment is left to
/// glibc, which reads it.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn limit_malloc_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return;
    }
    #[allow(unsafe_code, reason = "mallopt, a libc call with no safe wrapper")]
    // SAFETY: mallopt takes two integers and only sets a parameter of
    // glibc's allocator; it is called before any other thread exists.
    let _ = unsafe { libc::mallopt(libc::M_ARENA_MAX, 2) };
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_malloc_arenas() {}

fn main() -> ExitCode {
    limit_malloc_arenas();
    let args = Args::parse();
    let config = args.config.clone();
    let outcome = match args.migrate_on_disk_store {
        Some(from) => migrate(args.config, from, args.into),
        None => psec_service::run(psec_service::Options {
            config_path: args.config,
        }),
    };
    match (outcome, config) {
        (Ok(()), _) => ExitCode::SUCCESS,
        // Configuration errors name their file themselves.
        (Err(error @ psec_service::StartError::Config(_)), _) | (Err(error), None) => {
            eprintln!("psecd: {error}");
            ExitCode::FAILURE
        }
        (Err(error), Some(path)) => {
            eprintln!("psecd: with configuration {}: {error}", path.display());
            ExitCode::FAILURE
        }
    }
}
