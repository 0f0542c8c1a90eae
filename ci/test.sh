#!/usr/bin/env bash
# The test suites of every crate, with the locked dependency versions.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
step "tests"
RUSTFLAGS="${RUSTFLAGS:--Dwarnings}" run cargo test --workspace --locked
