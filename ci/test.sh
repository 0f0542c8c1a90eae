#!/usr/bin/env bash
# The test suites of every crate, with the locked dependency versions.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
step "tests"
# Warnings are already errors in ci/clippy.sh (all targets); the same flags
# here reuse its build instead of compiling everything again.
run cargo test --workspace --locked
