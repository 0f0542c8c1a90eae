#!/usr/bin/env bash
# Clippy on every crate and target, warnings as errors; and, in the same
# build, what distribution packagers do: fetch once, then build with no
# network. After `cargo fetch`, clippy runs with --offline inside a network
# namespace with no interface, so a build script or a procedural macro that
# reaches for the network fails here rather than on a packager's builder.
#
# Why this proves as much as a build of its own in a target directory of
# its own (which ci/offline-build.sh made before): clippy is the first step
# of ci/all.sh that builds anything into target/, so on a clean clone every
# build script and every procedural macro of the workspace (dev-dependencies
# and all targets included, more than `cargo build --workspace` covers)
# first runs here, without network. On a rerun cargo runs again exactly the
# build scripts whose inputs changed (the package, rerun-if-changed,
# rerun-if-env-changed) and expands again the macros of every crate it
# recompiles: those run here too, still without network; what it reuses ran
# without network in an earlier run. The steps after this one that build
# into target/ (ci/test.sh and build_test_binaries) resolve the same
# features, and build scripts are compiled and run alike for a check and a
# build (see [profile.dev.build-override] in Cargo.toml), so they run no
# build script that has not run here. The release build of ci/deb.sh, the
# one packagers make, runs in the namespace too. The proof holds for a
# target/ that only ci/ scripts write, as in CI: a build script that a
# developer's own cargo run ran since, with the network, is reused here.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
step "dependencies: fetched once, with the network"
run cargo fetch --locked
step "clippy, warnings as errors, with no network"
offline cargo clippy --workspace --all-targets --locked --offline -- -D warnings
