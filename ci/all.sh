#!/usr/bin/env bash
# Everything CI checks, in order, cheapest first. This is the README's test
# command and what .ci/run calls.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
start=$(date +%s)
times=()
for check in install-deps check-format versions supply-chain clippy test systemd-units deploy-manifests parsec-interop compat package deb msrv features docs selftest-policy fuzz-smoke; do
    check_start=$(date +%s)
    bash "ci/$check.sh"
    times+=("$(printf '%5ds  %s' $(( $(date +%s) - check_start )) "$check")")
done
step "time per step"
printf '%s\n' "${times[@]}"
step "all checks passed in $(( $(date +%s) - start ))s"
# One closing line for the whole test run, summed over every test binary.
awk '/^test result:/ { passed += $4; failed += $6 } END { printf "tests: %d passed, %d failed\n", passed, failed }' target/ci-test.log target/ci-compat.log
