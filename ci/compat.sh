#!/usr/bin/env bash
# The differential harness (compat/): Parsec 1.5 and psecd started side by
# side from the same Parsec configuration file, on Mbed Crypto, on PKCS#11
# (SoftHSM2) and on a TPM (swtpm), sent the same requests through Parsec's
# own client library; any difference not listed in compat/differences.toml
# fails. Installs the pinned reference once, with `cargo install --locked`,
# into a cache that later runs reuse (PSEC_COMPAT_CACHE, by default
# ~/.cache/psec-compat). PSEC_COMPAT_SEED and PSEC_COMPAT_CASES steer the
# generated part.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
install_parsec_reference
step "psecd for the harness"
build_test_binaries
step "the differential harness"
export PSEC_COMPAT_PARSEC="$PARSEC_REFERENCE"
export PSEC_COMPAT_PSECD="$PSEC_ROOT/target/debug/psecd"
mkdir -p target
# Its own lock file and workspace, built under the one target/ of the repo.
export CARGO_TARGET_DIR="$PSEC_ROOT/target/compat"
run cargo clippy --locked --manifest-path compat/Cargo.toml --all-targets -- -D warnings
# The figures of each backend are printed by the tests themselves.
run cargo test --locked --manifest-path compat/Cargo.toml -- --nocapture 2>&1 | tee target/ci-compat.log
