#!/usr/bin/env bash
# A fuzzing campaign (ci/fuzz-smoke.sh runs it short in CI): runs every cargo-fuzz
# target for SECONDS each (default 600), two at a time, from the committed
# seeds plus whatever corpus earlier runs kept, and prints per target the
# inputs executed, the coverage reached and any crash artifact. Exits
# non-zero if a target crashed.
# Usage: ci/fuzz-campaign.sh [SECONDS [TARGET...]] (no target: every one)
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
seconds="${1:-600}"
jobs=2
step "fuzz campaign, ${seconds}s per target, ${jobs} at a time"
install_tool cargo-fuzz 0.13.2 cargo +nightly fuzz
run fuzz/seed-corpus.sh
# Build every target first, so the runs do not wait on each other's builds.
run cargo +nightly fuzz build --fuzz-dir "$PSEC_ROOT/fuzz"
if [ "$#" -gt 1 ]; then
    targets=("${@:2}")
else
    mapfile -t targets < <(cargo +nightly fuzz list --fuzz-dir "$PSEC_ROOT/fuzz")
fi
logs="$(mktemp -d)"
# import_tpm's swtpm outlives the target's process (libFuzzer ends it with
# exit, which drops nothing), so it is stopped here, by the PID of each
# swtpm whose state directory lies under this campaign's TMPDIR.
stop_swtpms() {
    local pid
    for pid in $(pgrep -f -- "--tpmstate dir=$logs/tmp/" || true); do
        kill "$pid" 2>/dev/null || true
    done
}
trap 'stop_swtpms; rm -rf "$logs"' EXIT
# The targets keep their scratch files (a key store, a SoftHSM2 token) under
# TMPDIR; this one goes when the campaign ends.
mkdir "$logs/tmp"
export TMPDIR="$logs/tmp"

fuzz_one() {
    local target="$1" status=0
    cargo +nightly fuzz run --fuzz-dir "$PSEC_ROOT/fuzz" "$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 \
        >"$logs/$target.log" 2>&1 || status=$?
    echo "$status" >"$logs/$target.status"
}

running=0
for target in "${targets[@]}"; do
    if [ "$running" -ge "$jobs" ]; then
        wait -n || true
        running=$((running - 1))
    fi
    echo "started $target"
    fuzz_one "$target" &
    running=$((running + 1))
done
wait || true

step "results"
crashed=0
printf '%-24s %14s %8s  %s\n' target execs cov result
for target in "${targets[@]}"; do
    log="$logs/$target.log"
    status="$(cat "$logs/$target.status" 2>/dev/null || echo missing)"
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
    cov="$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)"
    artifact="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)"
    if [ "$status" = 0 ]; then
        result=ok
    else
        result="FAILED (exit $status)${artifact:+: $artifact}"
        crashed=1
    fi
    printf '%-24s %14s %8s  %s\n' "$target" "${execs:-?}" "${cov:-?}" "$result"
    if [ "$status" != 0 ]; then
        echo "--- last lines of the $target log:"
        tail -n 40 "$log"
    fi
done
exit "$crashed"
