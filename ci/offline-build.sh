#!/usr/bin/env bash
# What distro packagers do: fetch once, then build with no network. Run in a
# network namespace with no interfaces, so a build script that reaches for
# the network fails here rather than on a packager's builder.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
step "cargo fetch, then an offline build with no network"
run cargo fetch --locked
if unshare --net true 2>/dev/null; then
    CARGO_TARGET_DIR="$PSEC_ROOT/target/offline" run unshare --net cargo build --workspace --locked --offline
else
    echo "(cannot unshare the network here; building with --offline only)"
    CARGO_TARGET_DIR="$PSEC_ROOT/target/offline" run cargo build --workspace --locked --offline
fi
