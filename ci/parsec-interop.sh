#!/usr/bin/env bash
# Wire compatibility with the Parsec ecosystem, proved with Parsec's own
# command-line tool (parsec-tool 0.7.0, on Parsec's Rust client), unchanged,
# against psecd: every parsec-tool command (ping, list-providers,
# list-authenticators, list-opcodes, list-keys, list-clients, delete-client,
# create-ecc-key, create-rsa-key with each of its options, export-public-key
# with and without --pkcs1, sign, encrypt, decrypt, create-csr with every
# subject option, generate-random, delete-key), with signatures, public keys,
# ciphertexts and CSRs checked by openssl. Three times, each on a psecd of its
# own:
#   - Mbed Crypto, with Unix peer credentials;
#   - PKCS#11 on a SoftHSM2 token made by ci/softhsm2-token.sh, with Direct
#     authentication (parsec-tool's application name is `parsec-tool`);
#   - TPM on a swtpm started here on a free loopback port, with Direct
#     authentication.
# The administrator is parsec-tool's own identity, so list-clients and
# delete-client run too; under Direct authentication `psec --app-name`
# makes a second client for delete-client to delete, and `psec` without
# --app-name must see parsec-tool's keys. A command that can not work on a
# provider is reported as SKIPPED with the reason. Installs the pinned
# parsec-tool when it is missing.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
install_tool parsec-tool 0.7.0 parsec-tool
step "parsec-tool against psecd: every command, on Mbed Crypto, PKCS#11 and TPM"
build_test_binaries
psec="$PSEC_ROOT/target/debug/psec"
work="$(mktemp -d)"
psecd_pid=""
swtpm_pid=""
cleanup() {
    # Each by the PID this script started it with.
    for pid in $psecd_pid $swtpm_pid; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

write_config() { # write_config DIR AUTH_TYPE ADMIN PROVIDER_SECTION: DIR/psecd.toml, serving DIR/parsec.sock
    mkdir -p "$1"
    cat >"$1/psecd.toml" <<CONFIG
[core_settings]
allow_root = true
log_level = "error"
working_directory = "$1/state"

[listener]
listener_type = "DomainSocket"
timeout = 2000
socket_path = "$1/parsec.sock"

[authenticator]
auth_type = "$2"
admins = [ { name = "$3" } ]

[[key_manager]]
name = "sqlite-manager"
manager_type = "SQLite"
sqlite_db_path = "$1/store/keys.sqlite3"

$4
CONFIG
}

start_psecd() { # start_psecd DIR: psecd on DIR/psecd.toml, once DIR/parsec.sock is up
    target/debug/psecd --config "$1/psecd.toml" 2>"$1/psecd.log" &
    psecd_pid=$!
    wait_for_socket "$1/parsec.sock" "$psecd_pid" psecd "$1/psecd.log"
    export PARSEC_SERVICE_ENDPOINT="unix:$1/parsec.sock" RUST_LOG=error
}

stop_psecd() {
    kill "$psecd_pid"
    wait "$psecd_pid" 2>/dev/null || true
    psecd_pid=""
}

# What each round counts, and the lines of the summary.
passed=0
skipped=()
summary=()

fail() { # fail WHAT: says what failed, with the last command's output
    echo "FAILED: $1" >&2
    for file in "$work/out" "$work/err"; do
        [ -s "$file" ] && sed 's/^/  | /' "$file" >&2
    done
    exit 1
}
pass() {
    passed=$((passed + 1))
    echo "ok: $1"
}
skip() { # skip WHAT REASON
    skipped+=("$1 ($2)")
    echo "SKIPPED: $1: $2"
}
pt() { # pt ARGS...: parsec-tool ARGS, which must exit 0; its output in $work/out
    parsec-tool "$@" >"$work/out" 2>"$work/err" || fail "parsec-tool $* exited with $?"
}
check() { # check WHAT PATTERN ARGS...: parsec-tool ARGS exits 0 and prints a line matching PATTERN
    local what="$1" pattern="$2"
    shift 2
    pt "$@"
    grep -qE -- "$pattern" "$work/out" || fail "$what: parsec-tool $* printed no line matching '$pattern'"
    pass "$what"
}
holds() { # holds WHAT COMMAND...: COMMAND (openssl, psec) succeeds
    local what="$1"
    shift
    "$@" >"$work/out" 2>"$work/err" || fail "$what: $* exited with $?"
    pass "$what"
}
prints() { # prints WHAT PATTERN COMMAND...: COMMAND succeeds and prints a line matching PATTERN
    local what="$1" pattern="$2"
    shift 2
    "$@" >"$work/out" 2>"$work/err" || fail "$what: $* exited with $?"
    grep -qE -- "$pattern" "$work/out" "$work/err" || fail "$what: $* printed no line matching '$pattern'"
    pass "$what"
}

round() { # round LABEL PROVIDER_ID AUTHENTICATOR SELF [OAEP_LIMIT]: every parsec-tool command against the running psecd
    # OAEP_LIMIT, if given, is why the provider may refuse RSA OAEP with
    # SHA-256 (parsec-tool's --oaep): the OAEP checks are then skipped if,
    # and only if, it answers PsaErrorNotSupported.
    local label="$1" id="$2" auth="$3" self="$4" oaep_limit="${5:-}"
    local hex
    hex="$(printf '0x%02x' "$id")"
    passed=0
    skipped=()
    echo "-- $label"

    # The service: no authentication needed.
    check "ping: wire protocol 1.0" '^1\.0$' ping
    pt list-providers
    head -1 "$work/out" | grep -q "^ID: $hex " || fail "list-providers: provider $hex is not first"
    grep -q '^ID: 0x00 ' "$work/out" || fail "list-providers: no core provider"
    pass "list-providers: provider $hex first, core listed"
    check "list-authenticators: $auth" "$auth" list-authenticators
    check "global --timeout: ping -t 5" '^1\.0$' --timeout 5 ping
    # Without a provider, parsec-tool's list-opcodes asks the core provider.
    check "list-opcodes: the core provider" '^0x1a \(ListKeys\)$' list-opcodes
    check "list-opcodes --provider 0" '^0x1b \(ListClients\)$' list-opcodes --provider 0
    check "list-opcodes --provider $id" '^0x04 \(PsaSignHash\)$' list-opcodes --provider "$id"
    check "global --provider: parsec-tool -p $id list-opcodes" '^0x02 \(PsaGenerateKey\)$' -p "$id" list-opcodes

    # Keys: ECDSA P-256, and RSA with each create-rsa-key option.
    holds "create-ecc-key" parsec-tool create-ecc-key -k interop-ecc
    holds "create-rsa-key (encryption, PKCS#1 v1.5)" parsec-tool create-rsa-key -k interop-rsa-pkcs1
    local oaep=yes keys="interop-ecc interop-rsa-pkcs1 interop-rsa-sign interop-rsa-1024"
    local encryption_keys="interop-rsa-pkcs1"
    if parsec-tool create-rsa-key -k interop-rsa-oaep --oaep >"$work/out" 2>"$work/err"; then
        pass "create-rsa-key --oaep"
        keys+=" interop-rsa-oaep"
        encryption_keys+=" interop-rsa-oaep"
    elif [ -n "$oaep_limit" ] && grep -q PsaErrorNotSupported "$work/err"; then
        oaep=no
        skip "create-rsa-key --oaep, and encrypt, decrypt and openssl's ciphertext with that key" "$oaep_limit"
    else
        fail "create-rsa-key --oaep"
    fi
    holds "create-rsa-key --for-signing --bits 3072" \
        parsec-tool create-rsa-key -k interop-rsa-sign --for-signing --bits 3072
    holds "create-rsa-key -s -b 1024" parsec-tool create-rsa-key -k interop-rsa-1024 -s -b 1024
    check "list-keys: the ECC key" '^\* interop-ecc \(.*EccKeyPair.*, 256 bits, .*Ecdsa \{ hash_alg: Specific\(Sha256\)' list-keys
    check "list-keys: the PKCS#1 v1.5 key" '^\* interop-rsa-pkcs1 \(.*RsaKeyPair, 2048 bits, .*RsaPkcs1v15Crypt' list-keys
    if [ "$oaep" = yes ]; then
        check "list-keys: the OAEP key" '^\* interop-rsa-oaep \(.*RsaKeyPair, 2048 bits, .*RsaOaep \{ hash_alg: Sha256' list-keys
    fi
    check "list-keys: the 3072-bit signing key" '^\* interop-rsa-sign \(.*RsaKeyPair, 3072 bits, .*RsaPkcs1v15Sign' list-keys
    check "list-keys: the 1024-bit signing key" '^\* interop-rsa-1024 \(.*RsaKeyPair, 1024 bits, .*RsaPkcs1v15Sign' list-keys

    # Public keys, read by openssl.
    for key in $keys; do
        pt export-public-key -k "$key"
        cp "$work/out" "$work/$key.pem"
    done
    prints "export-public-key: openssl reads a P-256 SubjectPublicKeyInfo" 'prime256v1|P-256' \
        openssl pkey -pubin -in "$work/interop-ecc.pem" -noout -text
    prints "export-public-key: openssl reads a 3072-bit RSA SubjectPublicKeyInfo" '3072 bit' \
        openssl pkey -pubin -in "$work/interop-rsa-sign.pem" -noout -text
    pt export-public-key -k interop-rsa-pkcs1 --pkcs1
    cp "$work/out" "$work/interop-rsa-pkcs1.pkcs1.pem"
    grep -q 'BEGIN RSA PUBLIC KEY' "$work/interop-rsa-pkcs1.pkcs1.pem" || fail "export-public-key --pkcs1: no RSA PUBLIC KEY PEM"
    openssl rsa -RSAPublicKey_in -in "$work/interop-rsa-pkcs1.pkcs1.pem" -pubout -out "$work/from-pkcs1.pem" 2>"$work/err" \
        || fail "export-public-key --pkcs1: openssl can not read the RSAPublicKey"
    cmp -s "$work/from-pkcs1.pem" "$work/interop-rsa-pkcs1.pem" || fail "export-public-key --pkcs1: not the key of the SubjectPublicKeyInfo"
    pass "export-public-key --pkcs1: openssl reads the same key as a PKCS#1 RSAPublicKey"

    # Signatures, verified by openssl.
    printf '%s' "signed by psecd" >"$work/message"
    for key in interop-ecc interop-rsa-sign interop-rsa-1024; do
        pt sign -k "$key" "signed by psecd"
        base64 -d "$work/out" >"$work/$key.sig" || fail "sign -k $key: the signature is not base64"
        prints "sign -k $key: openssl verifies the signature" 'Verified OK' \
            openssl dgst -sha256 -verify "$work/$key.pem" -signature "$work/$key.sig" "$work/message"
    done

    # Encryption: round trips through psecd, and openssl's ciphertexts.
    local ciphertext
    for key in $encryption_keys; do
        pt encrypt -k "$key" "a secret for $key"
        ciphertext="$(cat "$work/out")"
        check "encrypt then decrypt -k $key" "^a secret for $key\$" decrypt -k "$key" "$ciphertext"
    done
    printf '%s' "from openssl" >"$work/plain"
    openssl pkeyutl -encrypt -pubin -inkey "$work/interop-rsa-pkcs1.pem" -in "$work/plain" -out "$work/pkcs1.bin" \
        2>"$work/err" || fail "openssl could not encrypt to the PKCS#1 v1.5 key"
    check "decrypt of openssl's PKCS#1 v1.5 ciphertext" '^from openssl$' \
        decrypt -k interop-rsa-pkcs1 "$(base64 -w0 "$work/pkcs1.bin")"
    if [ "$oaep" = yes ]; then
        openssl pkeyutl -encrypt -pubin -inkey "$work/interop-rsa-oaep.pem" -in "$work/plain" -out "$work/oaep.bin" \
            -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256 \
            2>"$work/err" || fail "openssl could not encrypt to the OAEP key"
        check "decrypt of openssl's OAEP (SHA-256) ciphertext" '^from openssl$' \
            decrypt -k interop-rsa-oaep "$(base64 -w0 "$work/oaep.bin")"
    fi

    # Certificate requests, verified by openssl.
    pt create-csr -k interop-ecc --cn interop.example --l Cambridge --o "Interop Org" --ou Testing \
        --st Cambridgeshire --c GB --serialNumber 1234 --san interop.example www.interop.example
    cp "$work/out" "$work/ecc.csr"
    prints "create-csr (ECDSA): openssl verifies it" 'verify OK|Certificate request self-signature verify OK' \
        openssl req -in "$work/ecc.csr" -verify -noout
    openssl req -in "$work/ecc.csr" -noout -text >"$work/csr.txt" 2>&1 || fail "openssl can not read the CSR"
    local field
    for field in 'CN ?= ?interop.example' 'L ?= ?Cambridge' 'O ?= ?Interop Org' 'OU ?= ?Testing' \
        'ST ?= ?Cambridgeshire' 'C ?= ?GB' 'serialNumber ?= ?1234' 'DNS:interop.example' 'DNS:www.interop.example'; do
        grep -qE -- "$field" "$work/csr.txt" || { cp "$work/csr.txt" "$work/out"; fail "create-csr: no '$field' in the CSR"; }
    done
    pass "create-csr: subject (cn, l, o, ou, st, c, serialNumber) and SANs as given"
    pt create-csr -k interop-rsa-sign --cn rsa.interop.example
    cp "$work/out" "$work/rsa.csr"
    prints "create-csr (RSA PKCS#1 v1.5, 3072 bits): openssl verifies it" 'verify OK' \
        openssl req -in "$work/rsa.csr" -verify -noout

    # Random bytes: parsec-tool prints them as hex.
    pt generate-random --nbytes 16
    [ "$(grep -oE '[0-9A-F]{2}' "$work/out" | wc -l)" -eq 16 ] || fail "generate-random --nbytes 16: not 16 bytes"
    pass "generate-random --nbytes 16"

    # Administration: parsec-tool's identity is the administrator.
    check "list-clients (admin): $self" "^$self\$" list-clients
    if [ "$auth" = Direct ]; then
        prints "psec without --app-name sees parsec-tool's keys" '"name": "interop-ecc"' \
            "$psec" list-keys --output json
        holds "a second client (psec --app-name interop-other) makes a key" \
            "$psec" --app-name interop-other create-ecc-key -k other-key
        check "list-clients: the second client" '^interop-other$' list-clients
        holds "delete-client -c interop-other" parsec-tool delete-client -c interop-other
        prints "delete-client: the second client has no keys left" '^\[\]$' \
            "$psec" --app-name interop-other list-keys --output json
        pt list-clients
        if grep -q '^interop-other$' "$work/out"; then fail "list-clients still lists interop-other"; fi
        check "delete-client left parsec-tool's keys" '^\* interop-ecc ' list-keys
    fi

    # Deletion.
    # All but interop-rsa-1024, which delete-client deletes below.
    for key in $keys; do
        if [ "$key" != interop-rsa-1024 ]; then
            holds "delete-key -k $key" parsec-tool delete-key -k "$key"
        fi
    done
    pt list-keys
    if grep -qE '^\* interop-(ecc|rsa-pkcs1|rsa-oaep|rsa-sign) ' "$work/out"; then fail "keys remain after delete-key"; fi
    check "list-keys: only the undeleted key remains" '^\* interop-rsa-1024 ' list-keys
    holds "delete-client -c $self (its own keys)" parsec-tool delete-client -c "$self"
    pt list-keys
    if grep -q '^\* ' "$work/out"; then fail "keys remain after delete-client -c $self"; fi
    pass "list-keys: none after delete-client"

    local line="$label: $passed checks passed" reason
    if [ "${#skipped[@]}" -eq 0 ]; then
        line+=", none skipped"
    fi
    for reason in "${skipped[@]}"; do
        line+="; SKIPPED: $reason"
    done
    summary+=("$line")
}

# Mbed Crypto, Unix peer credentials: the administrator is this user's id.
write_config "$work/mbed" UnixPeerCredentials "$(id -u)" '[[provider]]
provider_type = "MbedCrypto"
key_info_manager = "sqlite-manager"'
start_psecd "$work/mbed"
round "Mbed Crypto (Unix peer credentials)" 1 Unix "$(id -u)"
stop_psecd

# PKCS#11 on a SoftHSM2 token of its own, made by ci/softhsm2-token.sh, whose
# [[provider]] section is taken as it wrote it.
export "$(bash ci/softhsm2-token.sh "$work/pkcs11")"
write_config "$work/pkcs11" Direct parsec-tool "$(sed -n '/^\[\[provider\]\]/,$p' "$work/pkcs11/config.toml")"
start_psecd "$work/pkcs11"
round "PKCS#11 on SoftHSM2 (Direct)" 2 Direct parsec-tool \
    "SoftHSM2 2.6 does RSA OAEP with SHA-1 only, and parsec-tool's --oaep is SHA-256"
stop_psecd

# TPM on a swtpm of its own.
start_swtpm "$work/tpm-state"
write_config "$work/tpm" Direct parsec-tool "[[provider]]
provider_type = \"Tpm\"
key_info_manager = \"sqlite-manager\"
tcti = \"$tcti\""
start_psecd "$work/tpm"
round "TPM on swtpm (Direct)" 3 Direct parsec-tool
stop_psecd

step "summary"
printf '%s\n' "${summary[@]}"
echo "parsec-tool $(parsec-tool --version | awk '{print $2}') works against psecd unchanged"
