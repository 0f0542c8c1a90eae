#!/usr/bin/env bash
# The systemd units packagers install (service/systemd/) must load: checked
# with systemd-analyze verify, on copies whose ExecStart names the psecd
# this checkout built. Skipped, saying so, where systemd-analyze is missing.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
step "systemd units"
if ! command -v systemd-analyze >/dev/null; then
    echo "SKIPPED: systemd-analyze is not installed"
    exit 0
fi
build_test_binaries
units="$(mktemp -d)"
trap 'rm -rf "$units"' EXIT
sed "s|/usr/bin/psecd|$PSEC_ROOT/target/debug/psecd|" service/systemd/psec.service >"$units/psec.service"
cp service/systemd/psec.socket "$units/"
# verify prints problems and exits non-zero on errors; warnings fail too.
output="$(systemd-analyze verify "$units/psec.socket" "$units/psec.service" 2>&1)" || {
    echo "$output"
    exit 1
}
if [ -n "$output" ]; then
    echo "$output"
    echo "systemd-analyze reported problems" >&2
    exit 1
fi
echo "psec.socket and psec.service verify cleanly"
