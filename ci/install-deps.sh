#!/usr/bin/env bash
# The system packages the build and the tests need, from Debian's archive:
# cmake and libclang build Mbed TLS for the Mbed Crypto provider (through
# psa-crypto-sys), libsqlite3-dev is the key info store's database,
# libtss2-dev is the TPM software stack the TPM provider links, openssl
# checks our output in the tests, softhsm2 and swtpm (with swtpm-tools) are
# the PKCS#11 token and the TPM the tests run against, iproute2 brings up
# the loopback of the network namespace in which the differential harness
# runs each service's own swtpm, and dpkg-dev (dpkg-shlibdeps; strip from
# binutils) is what cargo-deb needs to build the Debian package. Installs
# what is missing when run as root; otherwise names what to install.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
step "system packages"
packages=(cmake clang libclang-dev libsqlite3-dev pkg-config openssl softhsm2 libtss2-dev swtpm swtpm-tools iproute2 dpkg-dev)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -eq 0 ]; then
    echo "all present: ${packages[*]}"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "missing: ${missing[*]}; install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
fi
run apt-get update -qq
DEBIAN_FRONTEND=noninteractive run apt-get install -y -qq --no-install-recommends "${missing[@]}"
