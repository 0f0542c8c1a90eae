#!/usr/bin/env bash
# Benchmarks (not part of ci/all.sh: figures, not pass/fail): builds psecd
# and psec-bench in release mode, starts psecd on a temporary socket, and
# measures Ping and ECDSA P-256 sign-hash round trips at 1 and 8 clients
# beside the same signature done in-process with psa-crypto.
# PSEC_BENCH_PROVIDER=pkcs11 runs psecd on a SoftHSM2 token instead
# (ci/softhsm2-token.sh), signs through the PKCS#11 provider (ECDSA P-256
# and RSA-2048), then, psecd stopped, makes the same signatures in-process
# through cryptoki on the same token;
# PSEC_BENCH_PROVIDER=tpm on a swtpm of its own, and then measures the same
# signature with the TPM provider called in-process on that swtpm.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
iterations="${1:-2000}"
step "release build"
run cargo build --release --locked -p psec-service -p psec-bench
work="$(mktemp -d)"
cat >"$work/config.toml" <<CONFIG
[core_settings]
allow_root = true
log_level = "error"
working_directory = "$work/mbed"
[listener]
listener_type = "DomainSocket"
timeout = 2000
socket_path = "$work/parsec.sock"
[authenticator]
auth_type = "Direct"
[[key_manager]]
name = "sqlite-manager"
manager_type = "SQLite"
sqlite_db_path = "$work/keys.sqlite3"
[[provider]]
provider_type = "MbedCrypto"
key_info_manager = "sqlite-manager"
CONFIG
swtpm_pid=""
pid=""
trap 'kill $pid $swtpm_pid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
if [ "${PSEC_BENCH_PROVIDER:-mbed-crypto}" = pkcs11 ]; then
    export "$(bash ci/softhsm2-token.sh "$work")"
elif [ "${PSEC_BENCH_PROVIDER:-}" = tpm ]; then
    start_swtpm "$work/tpm"
    sed -i "s|provider_type = \"MbedCrypto\"|provider_type = \"Tpm\"\ntcti = \"$tcti\"|" "$work/config.toml"
fi
target/release/psecd --config "$work/config.toml" &
pid=$!
deadline=$((SECONDS + 30))
until [ -S "$work/parsec.sock" ]; do
    kill -0 "$pid" 2>/dev/null || { echo "psecd exited" >&2; exit 1; }
    [ "$SECONDS" -lt "$deadline" ] || { echo "psecd did not start" >&2; exit 1; }
    sleep 0.05
done
step "benchmark, $iterations operations per client"
(cd "$work" && "$PSEC_ROOT/target/release/psec-bench" "$work/parsec.sock" "$iterations" "${PSEC_BENCH_PROVIDER:-mbed-crypto}")
if [ "${PSEC_BENCH_PROVIDER:-}" = pkcs11 ]; then
    kill "$pid" && wait "$pid" 2>/dev/null || true
    step "cryptoki in-process, on the same SoftHSM2 token"
    "$PSEC_ROOT/target/release/psec-bench" in-process-pkcs11 \
        "$(softhsm2_library)" 123456 "$iterations"
fi
if [ -n "$swtpm_pid" ]; then
    # swtpm serves one connection at a time: psecd lets go of it first.
    kill "$pid" && wait "$pid" 2>/dev/null || true
    step "the TPM provider in-process, on the same swtpm"
    "$PSEC_ROOT/target/release/psec-bench" in-process-tpm "$tcti" "$iterations"
fi
