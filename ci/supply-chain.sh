#!/usr/bin/env bash
# The dependency policy (SECURITY.md, "Dependency issues"), fully offline:
#  1. the ignore list is complete and no review date has passed;
#  2. cargo-deny: advisories, licences, bans, sources (deny.toml);
#  3. cargo-audit on Cargo.lock.
# Both tools read the RustSec snapshot in ../shared/advisory-db (or
# $PSEC_ADVISORY_DB) and ignore exactly the advisories of
# ci/advisory-ignores.toml. They run with no network at all.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

snapshot="${PSEC_ADVISORY_DB:-$PSEC_ROOT/../shared/advisory-db}"
[ -d "$snapshot/crates" ] || {
    echo "no advisory database at $snapshot (set PSEC_ADVISORY_DB)" >&2
    exit 1
}

install_tool cargo-deny 0.20.2 cargo deny
install_tool cargo-audit 0.22.2 cargo audit

step "ignored advisories: complete, none past its review date"
run python3 ci/advisory_ignores.py check

step "advisory database: the snapshot as a git repository dated as the snapshot"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# SNAPSHOT holds "<commit> <ISO date>". The copy is committed with that date
# and its HEAD file given that time, so that cargo-deny (which dates a
# database by those) measures the data's real age against
# maximum-db-staleness in deny.toml.
snapshot_date="$(awk '{print $2}' "$snapshot/SNAPSHOT" 2>/dev/null || true)"
snapshot_date="${snapshot_date:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}"
db_url="https://github.com/rustsec/advisory-db"
db="$work/deny-db/$(python3 ci/deny_db_dir.py "$db_url")"
mkdir -p "$db"
cp -R "$snapshot/." "$db/"
(
    cd "$db"
    git init -q -b main
    git add -A
    GIT_AUTHOR_DATE="$snapshot_date" GIT_COMMITTER_DATE="$snapshot_date" \
        git -c user.name=psec-ci -c user.email=ci@psec.invalid commit -q -m "advisory-db snapshot"
    touch -d "$snapshot_date" .git/HEAD
)
echo "snapshot of $snapshot_date, where cargo-deny looks for $db_url"

step "dependencies: fetched once, with the network, for every platform"
# cargo-deny reads the manifests of every package in Cargo.lock, including
# those for other platforms (Windows, WASI) that no build here downloads.
run cargo fetch --locked

step "cargo-deny: advisories, licences, bans, sources"
python3 ci/advisory_ignores.py deny-config deny.toml "$work/deny.toml" "$work/deny-db" "$db_url"
offline cargo deny --offline --locked --config "$work/deny.toml" check

step "cargo-audit on Cargo.lock"
# shellcheck disable=SC2046 # one word per --ignore argument
offline cargo audit --no-fetch --stale --db "$db" \
    $(python3 ci/advisory_ignores.py audit-args) --file Cargo.lock
