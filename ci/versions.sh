#!/usr/bin/env bash
# One version for every crate, internal requirements in step, crates.io
# metadata present.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
step "versions in step, metadata complete"
run python3 ci/workspace_policy.py versions
