#!/usr/bin/env bash
# Every publishable crate packages, and the package builds on its own
# (cargo package verifies by compiling the extracted tarball).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
step "cargo package, every publishable crate"
# cargo verifies each package against the others through a temporary local
# registry: it unpacks them under $CARGO_HOME/registry/src/-<hash>/ and
# builds them as registry crates. It neither unpacks again a name and
# version it finds there, nor rebuilds a registry crate it has built, so an
# earlier run of the same checkout (same version, older code) would be
# verified in place of this one. Hence: remove our crates from that cache,
# and verify in a target directory of its own, started afresh.
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
rm -rf "$cargo_home"/registry/src/-*/psec-* "$cargo_home"/registry/cache/-*/psec-* \
    target/package target/package-verify
export CARGO_TARGET_DIR="$PSEC_ROOT/target/package-verify"
# Unpublished members (publish = false: psec-bench, psec-test-support) are
# not packaged; the path dev-dependencies on psec-test-support are stripped
# from the packages that have them.
exclude=()
for name in $(python3 ci/workspace_policy.py unpublished); do
    exclude+=(--exclude "$name")
done
run cargo package --workspace --locked "${exclude[@]}"
