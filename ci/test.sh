#!/usr/bin/env bash
# The test suites of every crate, with the locked dependency versions. The
# output is kept in target/ci-test.log for the summary ci/all.sh prints.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# psec-tool's tests check that keys made by psec are parsec-tool's too, with
# Parsec's own parsec-tool when it is installed: install it first.
install_tool parsec-tool 0.7.0 parsec-tool
step "tests"
mkdir -p target
# Warnings are already errors in ci/clippy.sh (all targets); the same flags
# here reuse its build instead of compiling everything again.
run cargo test --workspace --locked 2>&1 | tee target/ci-test.log
# The same JWT-SVID scenario against a real SPIRE server and agent, where
# they are installed; it says SKIPPED (and costs nothing) elsewhere.
run bash ci/spire-e2e.sh
# The Mbed Crypto provider once more, on Mbed TLS 3.6 with thread support,
# where it calls Mbed TLS in parallel (appends to target/ci-test.log).
run bash ci/mbedtls-threaded.sh
