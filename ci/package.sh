#!/usr/bin/env bash
# Every publishable crate packages, and the package builds on its own
# (cargo package verifies by compiling the extracted tarball).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
step "cargo package, every publishable crate"
run cargo package --workspace --locked
