# Sourced by the ci/ scripts: strict mode, the repository root as working
# directory, and a helper that says what runs before running it.
set -euo pipefail
PSEC_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$PSEC_ROOT"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Incremental compilation pays off when a developer edits and rebuilds one
# crate; CI builds each crate once per change and only loses time and disk
# to it. A developer who wants it sets CARGO_INCREMENTAL=1.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

step() {
    printf '\n==> %s\n' "$*"
}

run() {
    printf '+ %s\n' "$*"
    "$@"
}

# Runs a command with no network, where this machine allows it (root can
# unshare a network namespace, which has no interface up, not even the
# loopback); elsewhere runs it as it is, saying so.
offline() {
    if unshare --net true 2>/dev/null; then
        run unshare --net "$@"
    else
        echo "(cannot unshare the network here; running with it)"
        run "$@"
    fi
}

# Builds psecd, psec and every test binary as `cargo test --workspace`
# builds them (dev-dependencies' features included), so that the psecd of
# the tests, of the systemd unit check, of parsec-tool's round and of the
# differential harness is one binary, built once: after ci/test.sh this
# builds nothing. (`cargo build -p psec-service` would resolve features
# without the dev-dependencies and build psecd and part of its dependency
# tree a second time, then the tests' build a third.)
build_test_binaries() {
    run cargo test --workspace --locked --no-run
}

# Sets $msrv to the workspace's rust-version (the MSRV) and $msrv_toolchain
# to rustup's name for it (1.85 is 1.85.0), and installs that toolchain with
# clippy if it is missing. Sets $msrv_clippy_allow: the lints that clippy
# 1.85 runs by default and later clippy moved to its pedantic group
# (`format_collect`, the named lifetimes part of `needless_lifetimes`, now
# `elidable_lifetime_names`): the lint policy is stable clippy's
# (ci/clippy.sh); with the MSRV, clippy must pass on what both agree on.
use_msrv_toolchain() {
    msrv_clippy_allow=(-A clippy::format_collect -A clippy::needless_lifetimes)
    msrv="$(python3 -c 'import tomllib; print(tomllib.load(open("Cargo.toml","rb"))["workspace"]["package"]["rust-version"])')"
    msrv_toolchain="$msrv"
    [[ "$msrv_toolchain" =~ ^[0-9]+\.[0-9]+$ ]] && msrv_toolchain="$msrv_toolchain.0"
    if ! rustup component list --toolchain "$msrv_toolchain" --installed 2>/dev/null | grep -q '^clippy'; then
        run rustup toolchain install "$msrv_toolchain" --profile minimal --component clippy
    fi
}

# `cargo install --locked` a pinned version of a tool unless that version is
# already installed. Usage: install_tool CRATE VERSION COMMAND...
# where COMMAND --version prints the installed version.
install_tool() {
    local crate="$1" version="$2"
    shift 2
    if "$@" --version 2>/dev/null | grep -qF "$version"; then
        echo "$crate $version is installed"
    else
        run cargo install --locked "$crate@$version"
    fi
}

# Prints the path of SoftHSM2's PKCS#11 library: $PSEC_SOFTHSM2_LIB if set
# (and then no other), else the first known distribution path that exists;
# the same order as psec-test-support's softhsm2::library(). Fails naming
# every path tried.
softhsm2_library() {
    if [ -n "${PSEC_SOFTHSM2_LIB:-}" ]; then
        [ -f "$PSEC_SOFTHSM2_LIB" ] || {
            echo "no SoftHSM2 PKCS#11 library: PSEC_SOFTHSM2_LIB names $PSEC_SOFTHSM2_LIB, which is not a file" >&2
            return 1
        }
        echo "$PSEC_SOFTHSM2_LIB"
        return
    fi
    local known=(
        /usr/lib/softhsm/libsofthsm2.so
        /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so
        /usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so
        /usr/lib64/pkcs11/libsofthsm2.so
        /usr/lib/pkcs11/libsofthsm2.so
        /usr/local/lib/softhsm/libsofthsm2.so
        /opt/homebrew/lib/softhsm/libsofthsm2.so
    )
    local path
    for path in "${known[@]}"; do
        [ -f "$path" ] && { echo "$path"; return; }
    done
    echo "no SoftHSM2 PKCS#11 library; tried ${known[*]}; install softhsm2 or set PSEC_SOFTHSM2_LIB to its path" >&2
    return 1
}

# Starts a swtpm with its state in DIR on a free loopback port (and the next
# one for its control channel), waits until it listens, and sets $swtpm_pid
# (the caller stops it by that PID) and $tcti (the psecd/Parsec `tcti`).
# Usage: start_swtpm DIR
# install_parsec_reference: Parsec's service 1.5.0, the reference of the
# differential harness and of the benchmark, installed once with `cargo
# install --locked` into a cache later runs reuse (PSEC_COMPAT_CACHE, by
# default ~/.cache/psec-compat); sets PARSEC_REFERENCE to its binary.
install_parsec_reference() {
    local version=1.5.0
    local features=direct-authenticator,mbed-crypto-provider,pkcs11-provider,tpm-provider,unix-peer-credentials-authenticator
    local root="${PSEC_COMPAT_CACHE:-$HOME/.cache/psec-compat}/parsec-service-$version"
    step "the reference: parsec-service $version"
    # cargo records what it installed, features included, in .crates2.json.
    if grep -qF "\"parsec-service $version " "$root/.crates2.json" 2>/dev/null &&
        grep -qF "\"features\":[\"${features//,/\",\"}\"]" "$root/.crates2.json" &&
        [ -x "$root/bin/parsec" ]; then
        echo "installed in $root"
    else
        run cargo install --locked --force --root "$root" "parsec-service@$version" \
            --no-default-features --features "$features"
    fi
    PARSEC_REFERENCE="$root/bin/parsec"
}

# Mbed TLS 3.6 with thread support, for the Mbed Crypto provider's
# parallel mode (ci/mbedtls-threaded.sh, and ci/bench.sh with
# PSEC_BENCH_MBEDTLS=3.6). crates.io is the one place CI can fetch it from:
# the mbedtls-rs-sys crate carries the whole Mbed TLS 3.6.5 tree
# (CMakeLists.txt, library/, include/, its generated files; Apache-2.0 OR
# GPL-2.0-or-later, as Mbed TLS). The pinned .crate is downloaded, checked
# against its sha256, unpacked, its mbedtls_config.h given
# MBEDTLS_THREADING_C and MBEDTLS_THREADING_PTHREAD (config.py needs Mbed
# TLS' framework submodule, which the crate lacks: the two lines are
# uncommented and the preprocessor checks the result), and libmbedcrypto.a
# built with CMake, all under target/mbedtls-3.6.5, once: a rerun finds it
# there. Exports what psa-crypto-sys reads to link it instead of its own
# Mbed TLS 3.5.1: MBEDTLS_INCLUDE_DIR, MBEDTLS_LIB_DIR, MBEDCRYPTO_STATIC.
threaded_mbedtls() {
    local crate=mbedtls-rs-sys version=0.3.1
    local sha256=ed3d6fe75492994df511a63da8de669a0c59938ada3345e3d4756aec095d2ffb
    local root="$PSEC_ROOT/target/mbedtls-3.6.5"
    local src="$root/$crate-$version/mbedtls"
    # What a build is made from; a cache made otherwise is made again.
    local recipe="$crate $version $sha256 threading-c threading-pthread"
    step "Mbed TLS 3.6.5 with thread support, in $root"
    if [ "$(cat "$root/built" 2>/dev/null)" = "$recipe" ] && [ -f "$root/build/library/libmbedcrypto.a" ]; then
        echo "built before: $root/build/library/libmbedcrypto.a"
    else
        command -v cmake >/dev/null || { export DEBIAN_FRONTEND=noninteractive; run apt-get update -qq; run apt-get install -y -qq cmake; }
        rm -rf "$root"
        mkdir -p "$root"
        run curl -sSfL --retry 3 -o "$root/$crate.crate" "https://static.crates.io/crates/$crate/$crate-$version.crate"
        echo "$sha256  $root/$crate.crate" | sha256sum -c -
        run tar -xzf "$root/$crate.crate" -C "$root" "$crate-$version/mbedtls"
        rm "$root/$crate.crate"
        local config="$src/include/mbedtls/mbedtls_config.h"
        run sed -i -e 's|^//#define MBEDTLS_THREADING_C$|#define MBEDTLS_THREADING_C|' \
            -e 's|^//#define MBEDTLS_THREADING_PTHREAD$|#define MBEDTLS_THREADING_PTHREAD|' "$config"
        local defined
        defined="$(printf '#include <mbedtls/build_info.h>\n' | cc -E -dM -I "$src/include" - |
            grep -cE '^#define (MBEDTLS_THREADING_C|MBEDTLS_THREADING_PTHREAD|MBEDTLS_PSA_CRYPTO_C) ')"
        [ "$defined" = 3 ] || { echo "$config does not define the threading options" >&2; return 1; }
        # Configuring prints a Python traceback: CMake asks config.py (which
        # fails here, as above) whether CTR_DRBG uses 128-bit keys, only to
        # print a warning, and carries on; the check above is what counts.
        run cmake -S "$src" -B "$root/build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
            -DENABLE_PROGRAMS=OFF -DENABLE_TESTING=OFF -DGEN_FILES=OFF -DUSE_SHARED_MBEDTLS_LIBRARY=OFF >/dev/null
        run cmake --build "$root/build" --target mbedcrypto --parallel 2
        echo "$recipe" >"$root/built"
    fi
    export MBEDTLS_INCLUDE_DIR="$src/include" MBEDTLS_LIB_DIR="$root/build/library" MBEDCRYPTO_STATIC=1
}

# wait_for_socket PATH PID NAME [LOG]: until PATH is a socket, while PID
# lives, for at most 30 s; if PID exits first, LOG (its standard error) is
# shown.
wait_for_socket() {
    local deadline=$((SECONDS + 30))
    until [ -S "$1" ]; do
        if ! kill -0 "$2" 2>/dev/null; then
            echo "$3 exited" >&2
            [ -z "${4:-}" ] || cat "$4" >&2
            exit 1
        fi
        [ "$SECONDS" -lt "$deadline" ] || { echo "$3 did not start within 30 s" >&2; exit 1; }
        sleep 0.05
    done
}

start_swtpm() {
    # A free loopback port, and the next one for swtpm's control channel.
    local port
    port="$(python3 - <<'PY'
import socket
while True:
    a = socket.socket(); a.bind(("127.0.0.1", 0)); port = a.getsockname()[1]
    b = socket.socket()
    try:
        b.bind(("127.0.0.1", port + 1))
    except OSError:
        continue
    print(port)
    break
PY
)"
    mkdir -p "$1"
    swtpm socket --tpm2 --flags not-need-init,startup-clear --tpmstate "dir=$1" \
        --server "type=tcp,port=$port,bindaddr=127.0.0.1" \
        --ctrl "type=tcp,port=$((port + 1)),bindaddr=127.0.0.1" &
    swtpm_pid=$!
    local deadline=$((SECONDS + 10))
    until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        kill -0 "$swtpm_pid" 2>/dev/null || { echo "swtpm exited" >&2; exit 1; }
        [ "$SECONDS" -lt "$deadline" ] || { echo "swtpm did not listen within 10 s" >&2; exit 1; }
        sleep 0.05
    done
    tcti="swtpm:host=127.0.0.1,port=$port"
}

