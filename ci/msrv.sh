#!/usr/bin/env bash
# The MSRV (workspace rust-version) checked for real: no dependency in
# Cargo.lock asks for a newer Rust, and every crate builds and passes its
# tests with exactly that toolchain.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
msrv="$(python3 -c 'import tomllib; print(tomllib.load(open("Cargo.toml","rb"))["workspace"]["package"]["rust-version"])')"
step "MSRV $msrv: dependencies in Cargo.lock"
run python3 ci/workspace_policy.py msrv-lock
step "MSRV $msrv: build and test every crate with Rust $msrv"
# rustup names toolchains by full version: 1.85 is 1.85.0.
toolchain="$msrv"
[[ "$toolchain" =~ ^[0-9]+\.[0-9]+$ ]] && toolchain="$toolchain.0"
if ! rustup toolchain list | grep -q "^$toolchain-"; then
    run rustup toolchain install "$toolchain" --profile minimal
fi
# A separate target directory: artefacts of two compilers do not mix.
CARGO_TARGET_DIR="$PSEC_ROOT/target/msrv" run cargo "+$toolchain" test --workspace --locked
