#!/usr/bin/env bash
# Benchmarks (not part of ci/all.sh: figures, not pass/fail): builds psecd
# and psec-bench in release mode, starts psecd on a temporary socket, and
# measures Ping (at 1, 8 and 64 clients) and ECDSA P-256 sign-hash (at 1
# and 8) round trips beside the same signature done in-process with
# psa-crypto. With the default provider it then measures the same Ping on
# the floor server (psec-bench floor: accept, read, canned reply, close)
# and everything again on Parsec 1.5 from the same configuration (the copy
# ci/compat.sh installs, installed here the same way if absent), and
# prints psecd's figures beside both, with the ratios, followed by memory
# and start-up beside Parsec's: each server's resident set (VmRSS) after
# the run; the time from exec to the first Ping answer (psec-bench startup,
# median of 10 starts) with an empty store and with 10,000 keys (P-256
# public keys, imported through the server itself by psec-bench fill;
# Parsec opens every key at start-up); and the resident
# set of each with all three providers configured (Mbed Crypto, PKCS#11 on
# a SoftHSM2 token, TPM on a swtpm) after the same load.
# Ping at one client is measured again with the servers and the client
# pinned (taskset), on one CPU and on two, for psecd and the floor.
# PSEC_BENCH_PROVIDER=pkcs11 runs psecd on a SoftHSM2 token instead
# (ci/softhsm2-token.sh), signs through the PKCS#11 provider (ECDSA P-256
# and RSA-2048), then, psecd stopped, makes the same signatures in-process
# through cryptoki on the same token (on the keys' token objects, and on
# session copies, as psecd signs on SoftHSM2), and ECDSA P-256 through the
# signing floor (psec-bench floor-pkcs11, 8 threads, one per client), and
# prints them side by side;
# PSEC_BENCH_PROVIDER=tpm on a swtpm of its own, and then measures the same
# signature with the TPM provider called in-process on that swtpm.
# PSEC_BENCH_MBEDTLS=3.6 builds psecd (in target/mbedtls-3.6) against Mbed
# TLS 3.6.5 with thread support (threaded_mbedtls in common.sh), where its
# Mbed Crypto provider signs in parallel; the closing lines then give
# sign-hash at 8 clients over 1 client, for psecd and for Parsec.
# PSEC_BENCH_KEYS sets the number of keys of the start-up case (10000).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
iterations="${1:-2000}"
case "${PSEC_BENCH_MBEDTLS:-3.5}" in
3.5) ;;
3.6)
    threaded_mbedtls
    export CARGO_TARGET_DIR="$PSEC_ROOT/target/mbedtls-3.6"
    ;;
*)
    echo "PSEC_BENCH_MBEDTLS is 3.5 (psa-crypto's own Mbed TLS) or 3.6, not $PSEC_BENCH_MBEDTLS" >&2
    exit 1
    ;;
esac
release="${CARGO_TARGET_DIR:-$PSEC_ROOT/target}/release"
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
floor_pid=""
trap 'kill $pid $swtpm_pid $floor_pid 2>/dev/null || true; wait 2>/dev/null; rm -rf "$work"' EXIT
if [ "${PSEC_BENCH_PROVIDER:-mbed-crypto}" = pkcs11 ]; then
    export "$(bash ci/softhsm2-token.sh "$work")"
elif [ "${PSEC_BENCH_PROVIDER:-}" = tpm ]; then
    start_swtpm "$work/tpm"
    sed -i "s|provider_type = \"MbedCrypto\"|provider_type = \"Tpm\"\ntcti = \"$tcti\"|" "$work/config.toml"
fi
bench="$release/psec-bench"
"$release/psecd" --config "$work/config.toml" &
pid=$!
wait_for_socket "$work/parsec.sock" "$pid" psecd
step "benchmark, $iterations operations per client"
(cd "$work" && "$bench" "$work/parsec.sock" "$iterations" "${PSEC_BENCH_PROVIDER:-mbed-crypto}") |
    tee "$work/psecd.txt"
"$bench" rss "$pid" | tee "$work/psecd-rss.txt"
# "<case> <n> client(s): ... <ops> ops/s" becomes "<case>|<n>|<ops>".
figures() { sed -n 's/^\(.*[^ ]\) \+\([0-9]\+\) client(s):.* \([0-9]\+\) ops\/s$/\1|\2|\3/p' "$1"; }
if [ "${PSEC_BENCH_PROVIDER:-}" = pkcs11 ]; then
    kill "$pid" && wait "$pid" 2>/dev/null || true
    step "cryptoki in-process, on the same SoftHSM2 token"
    "$bench" in-process-pkcs11 \
        "$(softhsm2_library)" 123456 "$iterations" | tee "$work/cryptoki.txt"
    # The signing floor: what any server that answers each request on its
    # own connection with a signature from this token pays (see
    # tools/bench/src/pkcs11.rs), with a thread per client.
    step "the signing floor on the same SoftHSM2 token (ECDSA P-256, 8 threads)"
    "$bench" floor-pkcs11 "$work/floor-pkcs11.sock" "$(softhsm2_library)" 123456 8 &
    floor_pid=$!
    wait_for_socket "$work/floor-pkcs11.sock" "$floor_pid" "signing floor"
    "$bench" sign "$work/floor-pkcs11.sock" "$iterations" | tee "$work/signing-floor.txt"
    kill "$floor_pid" && wait "$floor_pid" 2>/dev/null || true
    floor_pid=""
    step "psecd through the PKCS#11 provider beside the signing floor and cryptoki in-process (ops/s)"
    figures "$work/cryptoki.txt" | sed -n 's/, cryptoki|/|/p' >"$work/cryptoki.fig"
    figures "$work/cryptoki.txt" | sed -n 's/, cryptoki on a session copy|/|/p' >"$work/copy.fig"
    figures "$work/signing-floor.txt" >"$work/signing-floor.fig"
    figures "$work/psecd.txt" | sed -n 's/, psecd|/|/p' >"$work/psecd.fig"
    # The files in this order: cryptoki's, cryptoki's on session copies,
    # the floor's, psecd's (told apart by name, as any may be empty). The
    # issue 14 aim is psecd/cryptoki; psecd/copy compares with an
    # application that signs on session copies as psecd does.
    awk -F'|' '
        function ratio(a, b) { return (a != "" && b > 0) ? sprintf("%.2f", a / b) : "-" }
        function shown(a) { return a != "" ? a : "-" }
        FILENAME == ARGV[1] { base[$1 "|" $2] = $3; next }
        FILENAME == ARGV[2] { copy[$1 "|" $2] = $3; next }
        FILENAME == ARGV[3] { floor[$1 "|" $2] = $3; next }
        ($1 "|" $2) in base {
            key = $1 "|" $2; f = (key in floor) ? floor[key] : ""; c = (key in copy) ? copy[key] : ""
            printf "%-32s %7s %9s %9s %9s %9s %11s %14s %10s\n", $1, $2, $3, shown(f), base[key], shown(c),
                ratio($3, f), ratio($3, base[key]), ratio($3, c)
        }
        BEGIN { printf "%-32s %7s %9s %9s %9s %9s %11s %14s %10s\n", "case", "clients", "psecd", "floor", "cryptoki", "copy", "psecd/floor", "psecd/cryptoki", "psecd/copy" }
    ' "$work/cryptoki.fig" "$work/copy.fig" "$work/signing-floor.fig" "$work/psecd.fig"
fi
if [ -n "$swtpm_pid" ]; then
    # swtpm serves one connection at a time: psecd lets go of it first.
    kill "$pid" && wait "$pid" 2>/dev/null || true
    step "the TPM provider in-process, on the same swtpm"
    "$bench" in-process-tpm "$tcti" "$iterations"
fi
if [ "${PSEC_BENCH_PROVIDER:-mbed-crypto}" = mbed-crypto ]; then
    kill "$pid" && wait "$pid" 2>/dev/null || true
    step "the floor server, same Ping"
    "$bench" floor "$work/floor.sock" &
    pid=$!
    wait_for_socket "$work/floor.sock" "$pid" "the floor server"
    "$bench" ping "$work/floor.sock" "$iterations" | tee "$work/floor.txt"
    kill "$pid" && wait "$pid" 2>/dev/null || true
    # At one client the scheduler decides most: on a 2-core VM a wake-up on
    # the other CPU costs some 40 µs, more than a whole Ping, and an
    # unpinned run lands on one CPU or on two by chance (either server can
    # come out several times faster than the other). So one client is also
    # measured pinned: server and client on CPU 0, then the client on CPU 1.
    if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
        step "Ping at one client, pinned: server and client on one CPU, then on two"
        # pinned NAME SOCKET COMMAND...: the server on CPU 0, one client on
        # CPU 0 then on CPU 1; prints "NAME CPU OPS" lines. Ten times the
        # iterations of the other cases: on one CPU 2000 Pings take 20 ms,
        # five scheduler ticks, too short a window for a steady figure.
        pinned() {
            local name="$1" socket="$2" cpu
            shift 2
            rm -f "$socket"
            taskset -c 0 "$@" &
            pid=$!
            wait_for_socket "$socket" "$pid" "$name"
            for cpu in 0 1; do
                printf '%s %s %s\n' "$name" "$cpu" "$(taskset -c "$cpu" "$bench" ping "$socket" "$((iterations * 10))" 1 |
                    sed -n 's/.* \([0-9]\+\) ops\/s$/\1/p')"
            done
            kill "$pid" && wait "$pid" 2>/dev/null || true
        }
        {
            pinned floor "$work/floor.sock" "$bench" floor "$work/floor.sock"
            pinned psecd "$work/parsec.sock" "$release/psecd" --config "$work/config.toml"
        } | tee "$work/pinned.txt"
    fi
    # Parsec from the same configuration, with its fastest idle poll (1 ms).
    install_parsec_reference
    mkdir -p "$work/parsec/mbed"
    sed -e "s|$work/parsec.sock|$work/parsec/parsec.sock|" \
        -e "s|$work/keys.sqlite3|$work/parsec/keys.sqlite3|" \
        -e "s|^log_level = .*|log_level = \"error\"\nidle_listener_sleep_duration = 1|" \
        "$work/config.toml" >"$work/parsec/config.toml"
    # Parsec's Mbed Crypto provider keeps its key files in its current directory.
    (cd "$work/parsec/mbed" && exec "$PARSEC_REFERENCE" --config "$work/parsec/config.toml") &
    pid=$!
    wait_for_socket "$work/parsec/parsec.sock" "$pid" Parsec
    (cd "$work" && "$bench" "$work/parsec/parsec.sock" "$iterations" mbed-crypto) |
        tee "$work/parsec.txt"
    "$bench" rss "$pid" | tee "$work/parsec-rss.txt"
    kill "$pid" && wait "$pid" 2>/dev/null || true

    # start_up NAME DIR CONFIG COMMAND...: the median time from exec to the
    # first Ping answer of a server run from DIR (Parsec's Mbed Crypto
    # keeps its key files in its current directory) with an empty store,
    # then with $keys keys imported through it; the socket is DIR/parsec.sock.
    keys="${PSEC_BENCH_KEYS:-10000}"
    start_up() {
        local name="$1" dir="$2"
        shift 2
        step "$name: start-up, empty store, then $keys keys"
        (cd "$dir" && "$bench" startup "$dir/parsec.sock" 10 "$@") | tee "$work/$name-startup-empty.txt"
        rm -f "$dir/parsec.sock"
        (cd "$dir" && exec "$@") &
        pid=$!
        wait_for_socket "$dir/parsec.sock" "$pid" "$name"
        "$bench" fill "$dir/parsec.sock" "$keys"
        kill "$pid" && wait "$pid" 2>/dev/null || true
        (cd "$dir" && "$bench" startup "$dir/parsec.sock" 10 "$@") | tee "$work/$name-startup-full.txt"
    }
    # A configuration like $work/config.toml in DIR, with its own store and
    # socket, for the providers that follow (a [[provider]] body each), and
    # Parsec's fastest idle poll (1 ms; psecd ignores the setting).
    config_in() {
        local dir="$1"
        shift
        mkdir -p "$dir"
        sed -n '/^\[\[provider\]\]/q;p' "$work/config.toml" |
            sed -e "s|$work/parsec.sock|$dir/parsec.sock|" -e "s|$work/keys.sqlite3|$dir/keys.sqlite3|" \
                -e "s|$work/mbed|$dir/mbed|" \
                -e "s|^log_level = .*|&\nidle_listener_sleep_duration = 1|" >"$dir/config.toml"
        for provider in "$@"; do
            printf '[[provider]]\nkey_info_manager = "sqlite-manager"\n%b\n' "$provider" >>"$dir/config.toml"
        done
    }
    config_in "$work/start-psecd" 'provider_type = "MbedCrypto"'
    start_up psecd "$work/start-psecd" "$release/psecd" --config "$work/start-psecd/config.toml"
    config_in "$work/start-parsec" 'provider_type = "MbedCrypto"'
    start_up Parsec "$work/start-parsec" "$PARSEC_REFERENCE" --config "$work/start-parsec/config.toml"

    # Memory with the three providers, after the same load (the Mbed
    # Crypto cases of the run above): psecd, then Parsec, each on a fresh
    # SoftHSM2 token and sharing one swtpm, one after the other.
    step "memory with Mbed Crypto, PKCS#11 (SoftHSM2) and TPM (swtpm) configured"
    start_swtpm "$work/tpm"
    library="$(softhsm2_library)"
    for name in psecd Parsec; do
        dir="$work/three-$name"
        mkdir -p "$dir"
        export "$(bash ci/softhsm2-token.sh "$dir/hsm" | tail -1)"
        config_in "$dir" 'provider_type = "MbedCrypto"' \
            "provider_type = \"Pkcs11\"\nlibrary_path = \"$library\"\nuser_pin = \"str:123456\"" \
            "provider_type = \"Tpm\"\ntcti = \"$tcti\"\nowner_hierarchy_auth = \"\""
        server="$release/psecd"
        [ "$name" = Parsec ] && server="$PARSEC_REFERENCE"
        (cd "$dir" && exec "$server" --config "$dir/config.toml") &
        pid=$!
        wait_for_socket "$dir/parsec.sock" "$pid" "$name"
        (cd "$dir" && "$bench" "$dir/parsec.sock" "$iterations" mbed-crypto) >/dev/null
        "$bench" rss "$pid" | tee "$work/$name-three-rss.txt"
        kill "$pid" && wait "$pid" 2>/dev/null || true
    done

    step "psecd beside the floor and Parsec (ops/s)"
    figures "$work/floor.txt" >"$work/floor.fig"
    figures "$work/parsec.txt" >"$work/parsec.fig"
    figures "$work/psecd.txt" >"$work/psecd.fig"
    # The files in this order: the floor's, Parsec's, psecd's.
    awk -F'|' '
        FNR == 1 { file++ }
        file == 1 { floor[$1 "|" $2] = $3; next }
        file == 2 { parsec[$1 "|" $2] = $3; next }
        { key = $1 "|" $2; order[++n] = key; psecd[key] = $3 }
        END {
            printf "%-38s %7s %9s %9s %9s %11s %12s\n", "case", "clients", "psecd", "floor", "Parsec", "psecd/floor", "psecd/Parsec"
            for (i = 1; i <= n; i++) {
                key = order[i]; split(key, part, "|")
                if (part[1] ~ /psa-crypto/) continue
                f = (key in floor) ? floor[key] : ""; p = (key in parsec) ? parsec[key] : ""
                printf "%-38s %7s %9s %9s %9s %11s %12s\n", part[1], part[2], psecd[key], f, p,
                    (f != "" ? sprintf("%.2f", psecd[key] / f) : "-"), (p != "" ? sprintf("%.2f", psecd[key] / p) : "-")
            }
        }' "$work/floor.fig" "$work/parsec.fig" "$work/psecd.fig"
    if [ -s "$work/pinned.txt" ]; then
        awk '
            { ops[$1 "|" $2] = $3 }
            function ratio(a, b) { return b > 0 ? sprintf("%.2f", a / b) : "-" }
            END {
                printf "%-38s %7s %9s %9s %9s %11s\n", "Ping, bare socket, 1 client, pinned", "", "psecd", "floor", "", "psecd/floor"
                printf "%-38s %7s %9s %9s %9s %11s\n", "  server and client on one CPU", "", ops["psecd|0"], ops["floor|0"], "", ratio(ops["psecd|0"], ops["floor|0"])
                printf "%-38s %7s %9s %9s %9s %11s\n", "  server and client on two CPUs", "", ops["psecd|1"], ops["floor|1"], "", ratio(ops["psecd|1"], ops["floor|1"])
            }' "$work/pinned.txt"
    fi
    step "ECDSA P-256 sign-hash, 8 clients over 1 client (Mbed TLS ${PSEC_BENCH_MBEDTLS:-3.5})"
    awk -F'|' '
        FNR == 1 { file++ }
        $1 == "ECDSA P-256 sign-hash, psecd" { ops[file "|" $2] = $3 }
        function ratio(a, b) { return b > 0 ? sprintf("%.2f", a / b) : "-" }
        END {
            printf "psecd  %s (%s / %s ops/s)\n", ratio(ops["2|8"], ops["2|1"]), ops["2|8"], ops["2|1"]
            printf "Parsec %s (%s / %s ops/s)\n", ratio(ops["1|8"], ops["1|1"]), ops["1|8"], ops["1|1"]
            printf "psecd / Parsec at 8 clients: %s\n", ratio(ops["2|8"], ops["1|8"])
        }' "$work/parsec.fig" "$work/psecd.fig"
    # "RSS 9.8 MB (10052 kB)", "... ms  median 5.21 ms  max ..." and
    # "(on a CPU: median 3.40 ms)" as numbers.
    rss() { sed -n 's/^RSS \([0-9.]*\) MB.*/\1/p' "$1"; }
    median() { sed -n 's/.* ms  median \([0-9.]*\) ms  max.*/\1/p' "$1"; }
    on_cpu() { sed -n 's/.*on a CPU: median \([0-9.]*\) ms.*/\1/p' "$1"; }
    row() { printf "%-46s %9s %9s %12s\n" "$1" "$2" "$3" "$(awk -v a="$2" -v b="$3" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')"; }
    printf "\n%-46s %9s %9s %12s\n" "memory and start-up" "psecd" "Parsec" "psecd/Parsec"
    row "RSS after the run, Mbed Crypto (MB)" "$(rss "$work/psecd-rss.txt")" "$(rss "$work/parsec-rss.txt")"
    row "RSS after the run, all three providers (MB)" "$(rss "$work/psecd-three-rss.txt")" "$(rss "$work/Parsec-three-rss.txt")"
    row "start-up to first Ping, empty store (ms)" "$(median "$work/psecd-startup-empty.txt")" "$(median "$work/Parsec-startup-empty.txt")"
    row "  of which on a CPU (ms)" "$(on_cpu "$work/psecd-startup-empty.txt")" "$(on_cpu "$work/Parsec-startup-empty.txt")"
    row "start-up to first Ping, $keys keys (ms)" "$(median "$work/psecd-startup-full.txt")" "$(median "$work/Parsec-startup-full.txt")"
    row "  of which on a CPU (ms)" "$(on_cpu "$work/psecd-startup-full.txt")" "$(on_cpu "$work/Parsec-startup-full.txt")"
fi

# --- The cost of authenticating one request (issue 13) -----------------------
# One psecd with the UnixPeerCredentials, JwtSvid (a real ES256 JWT bundle
# in a file) and Direct authenticators; ListKeys, which needs an
# authenticated application, with each; JwtSvid with one token reused
# (warm: psecd's cache of validated tokens) and with a new token per
# request (cold: a full ES256 verification), the cases taking turns.
# psec-bench prints each case's median and mean cost at one client beside
# UnixPeerCredentials'.
if [ "${PSEC_BENCH_PROVIDER:-mbed-crypto}" = mbed-crypto ]; then
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    step "the cost of authenticating one request: JwtSvid beside UnixPeerCredentials"
    mkdir -p "$work/auth/mbed"
    "$bench" write-jwt-bundle "$work/auth/jwt-bundles.json"
    cat >"$work/auth/config.toml" <<CONFIG
[core_settings]
allow_root = true
log_level = "error"
working_directory = "$work/auth/mbed"
[listener]
listener_type = "DomainSocket"
timeout = 2000
socket_path = "$work/auth/parsec.sock"
[[authenticator]]
auth_type = "UnixPeerCredentials"
[[authenticator]]
auth_type = "JwtSvid"
jwt_bundle_path = "$work/auth/jwt-bundles.json"
[[authenticator]]
auth_type = "Direct"
[[key_manager]]
name = "sqlite-manager"
manager_type = "SQLite"
sqlite_db_path = "$work/auth/keys.sqlite3"
[[provider]]
provider_type = "MbedCrypto"
key_info_manager = "sqlite-manager"
CONFIG
    "$release/psecd" --config "$work/auth/config.toml" &
    pid=$!
    wait_for_socket "$work/auth/parsec.sock" "$pid" psecd
    "$bench" auth "$work/auth/parsec.sock" "$iterations"
    kill "$pid" && wait "$pid" 2>/dev/null || true
fi
# --- end of the authentication cost -----------------------------------------
