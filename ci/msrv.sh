#!/usr/bin/env bash
# The MSRV (workspace rust-version) checked for real: no dependency in
# Cargo.lock asks for a newer Rust; every crate and every target (tests,
# examples, benchmarks) compiles with exactly that toolchain and passes its
# clippy, warnings as errors; and the tests of the crates that need no
# backend pass with it. ci/features.sh adds each crate's feature
# combinations with it.
#
# Why not every test suite again (as `cargo +1.85.0 test --workspace` did):
# what the MSRV can break is compilation (a newer std API or language
# feature, a dependency that needs a newer Rust), and every target compiles
# here. What could run differently with the older compiler is the standard
# library's behaviour and code a dependency's build script picks by the
# rustc version (in our Cargo.lock: num-traits through autocfg, under
# tss-esapi; generic-array through version_check, under the RustCrypto
# crates). The tests of the crates that need no backend run here: the
# encoders and parsers of every byte on the wire, the client, the provider
# contract and its key lifecycle, the key stores. The provider and service
# suites, which exercise Mbed
# TLS, SoftHSM2, swtpm and psecd processes, run with stable only
# (ci/test.sh): building them again with 1.85 (Mbed TLS included) and
# running them twice made this step as long as ci/test.sh. The trade: a
# difference of behaviour between 1.85 and stable that only those suites
# would show goes unseen here.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
use_msrv_toolchain
step "MSRV $msrv: dependencies in Cargo.lock"
run python3 ci/workspace_policy.py msrv-lock
# A target directory of its own: every artefact would be built apart from
# stable's anyway (cargo keys them by compiler), and the MSRV step of
# ci/features.sh shares this one.
export CARGO_TARGET_DIR="$PSEC_ROOT/target/msrv"
step "MSRV $msrv: every crate and target compiles, clippy clean, with Rust $msrv"
run cargo "+$msrv_toolchain" clippy --workspace --all-targets --locked -- -D warnings "${msrv_clippy_allow[@]}"
step "MSRV $msrv: the tests of the crates that need no backend, with Rust $msrv"
run cargo "+$msrv_toolchain" test --locked -p psec-interface -p psec-client -p psec-provider -p psec-key-store --all-features
