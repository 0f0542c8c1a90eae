//! Links psecd with packed relative relocations (`-z pack-relative-relocs`,
//! DT_RELR) on Linux with glibc. psecd is a position-independent
//! executable with some 18,500 relative relocations: as classic RELA
//! entries they fill 447 kB of the file, which the dynamic loader reads, and
//! so keeps resident, at every start; packed, they take 6 kB. Measured
//! after psec-bench's load: a resident set 0.6-0.8 MB smaller, the same
//! start-up time. GNU ld 2.38 or later (or lld) packs them and adds a
//! dependency on glibc's `GLIBC_ABI_DT_RELR` (2.36 or later), so the binary
//! refuses to start on an older glibc rather than misbehave; an older ld
//! ignores the option with a warning and links as before.

fn main() {
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let target_env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if target_os == "linux" && target_env == "gnu" {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
