#!/usr/bin/env bash
# A short fuzzing campaign: every cargo-fuzz target for FUZZ_SECONDS
# (default 10), from the committed seeds, through ci/fuzz-campaign.sh (all
# targets built in one cargo build, then run two at a time: libFuzzer runs
# on one core, and this machine has two). Needs a nightly toolchain;
# installs cargo-fuzz if it is missing. Skips, saying so, where no nightly
# toolchain can be had.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal || {
        echo "SKIPPED: no nightly toolchain on this machine, so no fuzzing"
        exit 0
    }
fi
bash ci/fuzz-campaign.sh "${FUZZ_SECONDS:-10}"
