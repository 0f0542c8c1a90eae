#!/usr/bin/env bash
# Every publishable crate packages, and each package builds from its .crate
# alone, as it will from crates.io.
#
# `cargo package` verifies by building every package, in a target directory
# of its own started afresh (its temporary registry caches a name and
# version once, so an old build would pass for a new one): the whole
# dependency tree once more. Here it only packages (--no-verify); the
# packages are then unpacked into a workspace of their own in
# target/package-verify/, where each depends on the others as on crates.io
# (through [patch.crates-io]), and each is checked alone, with its default
# features as cargo's verification builds it, with our profiles and the
# versions of our Cargo.lock, against the shared target directory, so
# dependencies already built by earlier steps are not built again. The
# packages are unpacked afresh, then copied over the last run's: a file
# whose bytes changed (or that is new) gets the time of copying, one that
# went is removed, the others keep theirs. So cargo checks again exactly
# the packages that changed, as it would in the workspace, and never takes
# an old check for a new package.
#
# What packaging can break, this finds: a file the package leaves out (a
# module, an include_str!, a build script), a dependency it strips (the
# path dev-dependencies on psec-test-support) that the crate's own build
# needs, a manifest cargo rewrites badly. `cargo check` runs every build
# script and expands every macro as a build does; what it skips, code
# generation and linking, packaging does not change (the packages hold no
# native code; what they link, ci/test.sh links).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
step "cargo package, every publishable crate"
# Unpublished members (publish = false: psec-bench, psec-test-support) are
# not packaged; the path dev-dependencies on psec-test-support are stripped
# from the packages that have them.
exclude=()
for name in $(python3 ci/workspace_policy.py unpublished); do
    exclude+=(--exclude "$name")
done
# The shared target directory (or the caller's CARGO_TARGET_DIR): cargo
# writes the .crate files under its package/.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PSEC_ROOT/target}"
rm -rf "$CARGO_TARGET_DIR/package"
run cargo package --workspace --locked --no-verify "${exclude[@]}"

verify="$PSEC_ROOT/target/package-verify"
step "each package checked from its .crate alone, in $verify"
fresh="$verify.new"
rm -rf "$fresh"
mkdir -p "$fresh" "$verify"
packages=()
while read -r name version; do
    run tar -xzf "$CARGO_TARGET_DIR/package/$name-$version.crate" -C "$fresh"
    packages+=("$name")
done < <(python3 ci/workspace_policy.py published)
run python3 ci/workspace_policy.py package-workspace "$fresh"
cp Cargo.lock "$fresh/"
printf '+ copy what changed from %s to %s\n' "$fresh" "$verify"
python3 - "$fresh" "$verify" <<'SYNC'
import filecmp, os, shutil, sys
fresh, verify = sys.argv[1:]
for root, dirs, files in os.walk(verify, topdown=False):
    for name in files + dirs:
        old = os.path.join(root, name)
        new = os.path.join(fresh, os.path.relpath(old, verify))
        if not os.path.lexists(new) or os.path.isdir(new) != os.path.isdir(old):
            shutil.rmtree(old) if os.path.isdir(old) else os.remove(old)
for root, dirs, files in os.walk(fresh):
    os.makedirs(os.path.join(verify, os.path.relpath(root, fresh)), exist_ok=True)
    for name in files:
        new = os.path.join(root, name)
        old = os.path.join(verify, os.path.relpath(new, fresh))
        if not os.path.exists(old) or not filecmp.cmp(new, old, shallow=False):
            shutil.copyfile(new, old)  # the time of copying, not the package's
SYNC
rm -rf "$fresh"
# With our Cargo.lock (copied above), the packages meet the versions the
# workspace is tested with; cargo drops from it what the packages no longer
# use (the unpublished members), hence no --locked here, and --offline keeps
# it from picking any version it does not already have.
for name in "${packages[@]}"; do
    run cargo check --offline --manifest-path "$verify/Cargo.toml" -p "$name" || {
        echo "failed to verify $name: its package does not build from its .crate alone" >&2
        exit 1
    }
done
