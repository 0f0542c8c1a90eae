#!/usr/bin/env bash
# Wire compatibility with the Parsec ecosystem, proved with Parsec's own
# command-line tool (parsec-tool, on Parsec's Rust client), unchanged, against
# psecd: discovery, key creation, signing (checked with openssl), encryption,
# a CSR (checked with openssl), deletion. Twice: on the Mbed Crypto provider
# with Unix peer credentials, then on the PKCS#11 provider with a SoftHSM2
# token made by ci/softhsm2-token.sh, with Direct authentication. Installs
# the pinned parsec-tool when it is missing.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
install_tool parsec-tool 0.7.0 parsec-tool
step "parsec-tool against psecd"
run cargo build --locked -p psec-service --bin psecd
work="$(mktemp -d)"
cat >"$work/config.toml" <<CONFIG
[core_settings]
allow_root = true
working_directory = "$work/mbed"
[listener]
listener_type = "DomainSocket"
timeout = 2000
socket_path = "$work/parsec.sock"
[authenticator]
auth_type = "UnixPeerCredentials"
[[key_manager]]
name = "sqlite-manager"
manager_type = "SQLite"
sqlite_db_path = "$work/store/keys.sqlite3"
[[provider]]
provider_type = "MbedCrypto"
key_info_manager = "sqlite-manager"
CONFIG
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
start_psecd() { # start_psecd CONFIG SOCKET: psecd on CONFIG, once SOCKET is up
    local log="$work/psecd-${#pids[@]}.log"
    target/debug/psecd --config "$1" 2>"$log" &
    pids+=($!)
    local deadline=$((SECONDS + 30))
    until [ -S "$2" ]; do
        kill -0 "${pids[-1]}" 2>/dev/null || { cat "$log"; exit 1; }
        [ "$SECONDS" -lt "$deadline" ] || { echo "psecd did not start" >&2; exit 1; }
        sleep 0.05
    done
    export PARSEC_SERVICE_ENDPOINT="unix:$2" RUST_LOG=error
}
expect() { # expect WHAT OUTPUT PATTERN
    grep -q -- "$3" <<<"$2" || { echo "FAILED: $1: no '$3' in:"; echo "$2"; exit 1; }
    echo "ok: $1"
}
checks() { # checks PROVIDER_ID AUTHENTICATOR: parsec-tool's round against the running psecd
    expect "ping" "$(parsec-tool ping 2>&1)" "1.0"
    expect "list-providers: the configured provider first" \
        "$(parsec-tool list-providers 2>&1 | head -1)" "ID: $1"
    expect "list-authenticators" "$(parsec-tool list-authenticators 2>&1)" "$2"
    parsec-tool create-ecc-key -k interop-ecc
    parsec-tool create-rsa-key -k interop-rsa
    expect "list-keys" "$(parsec-tool list-keys 2>&1)" "interop-ecc"
    parsec-tool export-public-key -k interop-ecc >"$work/ecc.pem"
    parsec-tool sign -k interop-ecc "signed by psecd" | base64 -d >"$work/sig.der"
    printf '%s' "signed by psecd" >"$work/message"
    expect "openssl verifies the signature" \
        "$(openssl dgst -sha256 -verify "$work/ecc.pem" -signature "$work/sig.der" "$work/message" 2>&1)" "Verified OK"
    local ciphertext
    ciphertext="$(parsec-tool encrypt -k interop-rsa "a secret")"
    expect "encrypt then decrypt" "$(parsec-tool decrypt -k interop-rsa "$ciphertext" 2>&1)" "a secret"
    parsec-tool create-csr -k interop-ecc --cn interop.example >"$work/csr.pem"
    expect "openssl accepts the CSR" "$(openssl req -in "$work/csr.pem" -verify -noout -subject 2>&1)" "interop.example"
    expect "generate-random" "$(parsec-tool generate-random --nbytes 16 2>&1)" "."
    parsec-tool delete-key -k interop-ecc
    parsec-tool delete-key -k interop-rsa
    local remaining
    remaining="$(parsec-tool list-keys 2>&1)"
    if grep -q interop <<<"$remaining"; then
        echo "FAILED: keys remain after delete-key: $remaining"
        exit 1
    fi
    echo "ok: delete-key"
}

echo "-- Mbed Crypto, Unix peer credentials"
start_psecd "$work/config.toml" "$work/parsec.sock"
checks 0x01 Unix
# A SoftHSM2 token of its own and the psecd configuration for it, as
# ci/softhsm2-token.sh makes them (the Direct authenticator).
echo "-- PKCS#11 on a SoftHSM2 token, Direct"
export "$(bash ci/softhsm2-token.sh "$work/pkcs11")"
start_psecd "$work/pkcs11/config.toml" "$work/pkcs11/parsec.sock"
checks 0x02 Direct
echo "parsec-tool $(parsec-tool --version | awk '{print $2}') works against psecd unchanged"
