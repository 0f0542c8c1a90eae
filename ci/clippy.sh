#!/usr/bin/env bash
# Clippy on every crate and target, warnings as errors; and, in the same
# build, what distribution packagers do: fetch once, then build with no
# network. After `cargo fetch`, clippy runs with --offline inside a network
# namespace with no interface, so a build script or a procedural macro that
# reaches for the network fails here rather than on a packager's builder.
#
# Why this proves as much as a build of its own in a target directory of its
# own (as a separate ci/offline-build.sh did before): clippy is the first step of
# ci/all.sh that builds anything into target/, so on a clean clone every
# build script and every procedural macro of the workspace (dev-dependencies
# and all targets included, which is more than `cargo build --workspace`
# covers) first runs here, without network. On a rerun cargo runs again
# exactly the build scripts whose inputs changed (rerun-if-changed and
# rerun-if-env-changed, or the package itself) and expands again the macros
# of every crate it recompiles: those run here too, still without network;
# what it reuses ran without network in an earlier run. The steps after this
# one build with the same features (ci/test.sh and build_test_binaries), so
# they run no build script that has not run here. The release build of
# ci/deb.sh, which packagers make, runs in the namespace too. The proof holds
# for a target/ written only by ci/ scripts (as in CI); a build script run
# by hand with network since is reused here without running again.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
step "dependencies: fetched once, with the network"
run cargo fetch --locked
step "clippy, warnings as errors, with no network"
offline cargo clippy --workspace --all-targets --locked --offline -- -D warnings
