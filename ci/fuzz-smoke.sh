#!/usr/bin/env bash
# Runs each cargo-fuzz target for a short time (FUZZ_SECONDS, default 20).
# Needs a nightly toolchain; installs cargo-fuzz if it is missing. Skips,
# saying so, where no nightly toolchain can be had.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
seconds="${FUZZ_SECONDS:-20}"
step "fuzz smoke test, ${seconds}s per target"
if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal || {
        echo "SKIPPED: no nightly toolchain on this machine, so no fuzzing"
        exit 0
    }
fi
install_tool cargo-fuzz 0.13.2 cargo +nightly fuzz
# The fuzz directory is given absolute: some targets move into a directory
# of their own (Mbed TLS keeps key files in the current one), and libFuzzer
# must still find the corpus it writes to.
# Start from the committed seeds (real inputs) plus any kept corpus.
run fuzz/seed-corpus.sh
for target in $(cargo +nightly fuzz list --fuzz-dir "$PSEC_ROOT/fuzz"); do
    run cargo +nightly fuzz run --fuzz-dir "$PSEC_ROOT/fuzz" "$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1
done
