#!/usr/bin/env bash
# Makes a SoftHSM2 token of its own in DIR (its own SOFTHSM2_CONF, so no
# token of the machine is touched) and writes DIR/config.toml, a psecd
# configuration serving it through the PKCS#11 provider on DIR/parsec.sock.
# Prints the SOFTHSM2_CONF line to export before starting psecd. The library
# is $PSEC_SOFTHSM2_LIB, else the first known distribution path that exists.
# Usage: ci/softhsm2-token.sh DIR
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
dir="${1:?usage: ci/softhsm2-token.sh DIR}"
library="$(softhsm2_library)"
mkdir -p "$dir/tokens"
dir="$(cd "$dir" && pwd)"
cat >"$dir/softhsm2.conf" <<CONF
directories.tokendir = $dir/tokens
objectstore.backend = file
log.level = ERROR
CONF
SOFTHSM2_CONF="$dir/softhsm2.conf" softhsm2-util --init-token --free --label psec \
    --so-pin 12345678 --pin 123456 >&2
cat >"$dir/config.toml" <<CONFIG
[core_settings]
allow_root = true
log_level = "error"
working_directory = "$dir/state"
[listener]
listener_type = "DomainSocket"
timeout = 2000
socket_path = "$dir/parsec.sock"
[authenticator]
auth_type = "Direct"
[[key_manager]]
name = "sqlite-manager"
manager_type = "SQLite"
sqlite_db_path = "$dir/store/keys.sqlite3"
[[provider]]
provider_type = "Pkcs11"
key_info_manager = "sqlite-manager"
library_path = "$library"
user_pin = "str:123456"
CONFIG
echo "SOFTHSM2_CONF=$dir/softhsm2.conf"
