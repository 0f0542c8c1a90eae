#!/usr/bin/env bash
# Fails if `cargo fmt` would change any file (workspace, fuzz targets and
# the differential harness).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
step "format check"
run cargo fmt --all -- --check
run cargo fmt --manifest-path fuzz/Cargo.toml --all -- --check
run cargo fmt --manifest-path compat/Cargo.toml --all -- --check
