#!/usr/bin/env bash
# Clippy on every crate and target, warnings as errors.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
step "clippy, warnings as errors"
run cargo clippy --workspace --all-targets --locked -- -D warnings
