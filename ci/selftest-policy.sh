#!/usr/bin/env bash
# Proves that the policy checks can fail: each case breaks one thing in a
# scratch copy of the workspace (or of the advisory database) and expects
# the check that guards it to fail, for the right reason. A check that
# passes on broken input is a check that proves nothing.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
failures=0
cases=0

# A copy of the workspace without build output, sharing one target directory
# across cases so each builds only what it changed.
copy_workspace() {
    local dest="$scratch/$1"
    mkdir -p "$dest"
    tar -C "$PSEC_ROOT" --exclude=./target --exclude=./fuzz/target --exclude=./compat/target --exclude=./.git -cf - . | tar -C "$dest" -xf -
    echo "$dest"
}
export CARGO_TARGET_DIR="$PSEC_ROOT/target/selftest"

# Brings a scratch copy's Cargo.lock in line with its edited manifests, so
# that the checks (which use --locked) fail for the planted reason only.
relock() {
    (cd "$1" && cargo metadata --offline --format-version 1 >/dev/null)
}

# expect_failure NAME PATTERN COMMAND...: COMMAND must fail and its output
# must contain PATTERN.
expect_failure() {
    local name="$1" pattern="$2"
    shift 2
    step "self-test: $name"
    cases=$((cases + 1))
    local log="$scratch/$name.log"
    if "$@" >"$log" 2>&1; then
        echo "FAILED: the check passed on broken input"
        tail -n 20 "$log"
        failures=$((failures + 1))
    elif ! grep -qE "$pattern" "$log"; then
        echo "FAILED: the check failed, but not with /$pattern/"
        tail -n 20 "$log"
        failures=$((failures + 1))
    else
        echo "ok: failed as it should ($(grep -m1 -E "$pattern" "$log" | cut -c1-160))"
    fi
}

snapshot="${PSEC_ADVISORY_DB:-$PSEC_ROOT/../shared/advisory-db}"

# 1. A new advisory for a crate we use, not on the ignore list.
mkdir -p "$scratch/advisory-db"
cp -R "$snapshot/." "$scratch/advisory-db/"
mkdir -p "$scratch/advisory-db/crates/prost"
cat >"$scratch/advisory-db/crates/prost/RUSTSEC-2099-0001.md" <<'ADVISORY'
```toml
[advisory]
id = "RUSTSEC-2099-0001"
package = "prost"
date = "2099-01-01"
title = "Self-test advisory: psec CI must fail on it"

[versions]
patched = [">= 99.0.0"]
```

# Self-test advisory

Made by ci/selftest-policy.sh to prove that an advisory that is not on the
ignore list fails the build.
ADVISORY
expect_failure new-advisory "RUSTSEC-2099-0001" \
    env PSEC_ADVISORY_DB="$scratch/advisory-db" bash ci/supply-chain.sh

# 2. An ignored advisory whose review date has passed.
expect_failure expired-review "review date .* has passed" \
    env PSEC_TODAY=2099-12-31 bash ci/supply-chain.sh

# 3. A crate whose version is out of step with the workspace.
ws="$(copy_workspace version-out-of-step)"
sed -i 's/^version.workspace = true$/version = "0.1.1"/' "$ws/interface/Cargo.toml"
sed -i 's/^psec-interface = { path = "interface", version = "0.1.0" }$/psec-interface = { path = "interface", version = "0.1.1" }/' "$ws/Cargo.toml"
relock "$ws"
expect_failure version-out-of-step "workspace is 0.1.0" bash "$ws/ci/versions.sh"

# 4. A dependency that needs a newer Rust than our MSRV.
ws="$(copy_workspace newer-rust)"
mkdir -p "$ws/needs-newer-rust/src"
cat >"$ws/needs-newer-rust/Cargo.toml" <<'MANIFEST'
[package]
name = "needs-newer-rust"
version = "1.0.0"
edition = "2021"
rust-version = "1.99"
MANIFEST
echo "" >"$ws/needs-newer-rust/src/lib.rs"
sed -i 's/^\[dependencies\]$/[dependencies]\nneeds-newer-rust = { path = "..\/needs-newer-rust", version = "1.0.0" }/' "$ws/interface/Cargo.toml"
relock "$ws"
expect_failure dependency-needs-newer-rust "needs-newer-rust 1.0.0 needs Rust 1.99" bash "$ws/ci/msrv.sh"

# 5. A crate that raises its own MSRV above the workspace's.
ws="$(copy_workspace crate-raises-msrv)"
sed -i 's/^rust-version.workspace = true$/rust-version = "1.90"/' "$ws/interface/Cargo.toml"
expect_failure crate-raises-msrv "workspace MSRV is 1.85" bash "$ws/ci/versions.sh"

# 6. A crate that cannot be packaged: its package leaves out a source file.
ws="$(copy_workspace unpackageable)"
sed -i 's|^include = \["src/\*\*/\*.rs",|include = ["src/lib.rs",|' "$ws/interface/Cargo.toml"
expect_failure unpackageable-crate "failed to verify" bash "$ws/ci/package.sh"

# 7. A published crate that needs the unpublished psec-test-support to build.
ws="$(copy_workspace needs-unpublished)"
sed -i 's/^\[dependencies\]$/[dependencies]\npsec-test-support = { path = "..\/tools\/test-support" }/' "$ws/client/Cargo.toml"
relock "$ws"
expect_failure needs-unpublished "only as a path dev-dependency" bash "$ws/ci/versions.sh"

# 8 and 9. The Kubernetes manifests (ci/deploy-manifests.sh, with the
# psecd and psec the tests built): a DaemonSet that mounts the socket
# directory where psecd does not listen, and one with a misspelt field.
k8s="$scratch/k8s-wrong-mount"
cp -R deploy/kubernetes "$k8s"
sed -i 's|mountPath: /run/parsec$|mountPath: /run/psec|' "$k8s/psecd-daemonset.yaml"
expect_failure k8s-wrong-mount-path "socket_path /run/parsec/parsec.sock is on no volume" \
    env PSEC_BIN_DIR="$PSEC_ROOT/target/debug" bash ci/deploy-manifests.sh "$k8s"
k8s="$scratch/k8s-unknown-field"
cp -R deploy/kubernetes "$k8s"
sed -i 's|^          args: \[|          arguments: [|' "$k8s/psecd-daemonset.yaml"
expect_failure k8s-unknown-field "'arguments' was unexpected" \
    env PSEC_BIN_DIR="$PSEC_ROOT/target/debug" bash ci/deploy-manifests.sh "$k8s"

step "self-tests of the policy checks"
if [ "$failures" -ne 0 ]; then
    echo "$failures self-test(s) failed"
    exit 1
fi
echo "all $cases self-tests failed their checks as they should"
