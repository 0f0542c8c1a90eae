//! Finds out whether the Mbed TLS that psa-crypto-sys links is thread-safe,
//! and if so sets the cfg `psec_mbedtls_thread_safe`.
//!
//! psa-crypto-sys takes its Mbed TLS from, in this order: the environment
//! (`MBEDTLS_INCLUDE_DIR` and `MBEDTLS_LIB_DIR`, both), pkg-config's
//! `mbedtls` of version 3.5 to 4.0, else the Mbed TLS 3.5.1 it vendors and
//! builds without thread support. The same order is followed here. For an
//! external Mbed TLS, a few lines that include its `mbedtls/build_info.h`
//! (which pulls in its configuration) are run through the C preprocessor,
//! with the include directory psa-crypto-sys uses: the library counts as
//! thread-safe when it is 3.6 or later (whose PSA core locks its key store
//! and random generator) with `MBEDTLS_THREADING_C` and
//! `MBEDTLS_THREADING_PTHREAD`, and `MBEDTLS_VERSION_C`, through which the
//! provider confirms the same at start-up in the library it really links.

#![allow(clippy::expect_used, reason = "a build script fails by panicking")]

use std::env;
use std::fs;
use std::path::PathBuf;

/// The cfg set when the linked Mbed TLS is thread-safe.
const CFG: &str = "psec_mbedtls_thread_safe";

/// Asks the preprocessor about Mbed TLS' version and configuration.
const PROBE: &str = r#"#include <mbedtls/build_info.h>
psec_mbedtls_version MBEDTLS_VERSION_STRING
#if MBEDTLS_VERSION_NUMBER >= 0x03060000 && defined(MBEDTLS_PSA_CRYPTO_C) \
    && defined(MBEDTLS_THREADING_C) && defined(MBEDTLS_THREADING_PTHREAD) \
    && defined(MBEDTLS_VERSION_C)
psec_mbedtls_thread_safe yes
#else
psec_mbedtls_thread_safe no
#endif
"#;

fn main() {
    println!("cargo::rustc-check-cfg=cfg({CFG})");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=MBEDTLS_INCLUDE_DIR");
    println!("cargo::rerun-if-env-changed=MBEDTLS_LIB_DIR");
    let (source, include_dirs) = match external_include_dirs() {
        Some(found) => found,
        None => {
            println!(
                "cargo::rustc-env=PSEC_MBEDTLS_BUILT_WITH=the Mbed TLS 3.5.1 psa-crypto-sys vendors"
            );
            return;
        }
    };
    for dir in &include_dirs {
        for header in ["mbedtls/build_info.h", "mbedtls/mbedtls_config.h"] {
            println!("cargo::rerun-if-changed={}", dir.join(header).display());
        }
    }
    let (version, thread_safe) = probe(&include_dirs);
    println!("cargo::rustc-env=PSEC_MBEDTLS_BUILT_WITH=Mbed TLS {version} from {source}");
    if thread_safe {
        println!("cargo::rustc-cfg={CFG}");
    } else {
        println!(
            "cargo::warning=Mbed TLS {version} from {source} is not 3.6 or later with \
             MBEDTLS_THREADING_C, MBEDTLS_THREADING_PTHREAD and MBEDTLS_VERSION_C: \
             the Mbed Crypto provider makes one PSA call at a time"
        );
    }
}

/// Where psa-crypto-sys finds an external Mbed TLS, and its include
/// directories; `None` when it builds its own.
fn external_include_dirs() -> Option<(String, Vec<PathBuf>)> {
    match (
        env::var_os("MBEDTLS_INCLUDE_DIR"),
        env::var_os("MBEDTLS_LIB_DIR"),
    ) {
        (Some(include), Some(_)) => {
            return Some(("MBEDTLS_INCLUDE_DIR".into(), vec![PathBuf::from(include)]));
        }
        // psa-crypto-sys refuses to build with only one of the two.
        (Some(_), None) | (None, Some(_)) => return None,
        (None, None) => {}
    }
    let library = pkg_config::Config::new()
        .range_version("3.5".."4.0")
        .cargo_metadata(false)
        .env_metadata(true)
        .probe("mbedtls")
        .ok()?;
    Some(("pkg-config".into(), library.include_paths))
}

/// Mbed TLS' version string and whether it is thread-safe, as its headers
/// in `include_dirs` say.
fn probe(include_dirs: &[PathBuf]) -> (String, bool) {
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let file = out_dir.join("mbedtls_probe.c");
    fs::write(&file, PROBE).expect("writing the probe to OUT_DIR");
    let mut build = cc::Build::new();
    let _ = build.file(&file).cargo_metadata(false).warnings(false);
    for dir in include_dirs {
        let _ = build.include(dir);
    }
    let expanded = match build.try_expand() {
        Ok(expanded) => String::from_utf8_lossy(&expanded).into_owned(),
        Err(error) => {
            println!("cargo::warning=cannot preprocess Mbed TLS' headers: {error}");
            return ("(unknown version)".into(), false);
        }
    };
    let value = |name: &str| {
        expanded
            .lines()
            .find_map(|line| line.trim().strip_prefix(name))
            .map(|rest| rest.trim().trim_matches('"').to_owned())
    };
    let version = value("psec_mbedtls_version").unwrap_or_else(|| "(unknown version)".into());
    let thread_safe = value("psec_mbedtls_thread_safe").as_deref() == Some("yes");
    (version, thread_safe)
}
