#!/usr/bin/env bash
# Fails if `cargo fmt` would change any file (workspace and fuzz targets).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
step "format check"
run cargo fmt --all -- --check
run cargo fmt --manifest-path fuzz/Cargo.toml --all -- --check
