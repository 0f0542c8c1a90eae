#!/usr/bin/env bash
# The feature matrix: every publishable crate alone, with no default
# features, with each of its features on its own, with its default features
# and with all of them, compiles and passes clippy (warnings as errors),
# with stable and with the MSRV; then the service's providers are shown to
# be independent: a PKCS#11-only or TPM-only psecd builds no Mbed TLS, and
# the feature `pkcs11-software-public-operations` is what brings it in.
#
# cargo-hack (pinned) runs one `cargo clippy -p CRATE --features ...` per
# combination. --each-feature rather than --feature-powerset: every crate
# but the service has at most one feature, where the two are the same, and
# the service's four are backends that only add (which each alone, none and
# all show); its powerset would be a dozen runs more of its whole check.
# Only the libraries and binaries: the test targets need dev-dependencies,
# whose features would hide a missing one (ci/clippy.sh and ci/msrv.sh
# check every target with the workspace's features).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
install_tool cargo-hack 0.6.46 cargo hack
use_msrv_toolchain

matrix=(hack clippy --workspace --ignore-private --each-feature --locked -- -D warnings)
step "feature matrix, stable: each publishable crate alone, feature by feature"
run cargo "${matrix[@]}"
step "feature matrix, MSRV $msrv: each publishable crate alone, feature by feature"
# In ci/msrv.sh's target directory, which holds the MSRV's dependencies.
CARGO_TARGET_DIR="$PSEC_ROOT/target/msrv" run cargo "+$msrv_toolchain" "${matrix[@]}" "${msrv_clippy_allow[@]}"

step "the service's providers are independent: Mbed TLS only where asked for"
# psa-crypto-sys builds Mbed TLS (C, with cmake) with its feature
# `operations`; without it, it is PSA's types and constants only.
mbedtls='psa-crypto-sys feature "operations"'
builds_mbedtls() { # builds_mbedtls FEATURES: whether psecd with only FEATURES builds Mbed TLS
    printf '+ cargo tree -p psec-service --no-default-features --features %s -e normal,build,features --locked\n' "$1"
    cargo tree -p psec-service --no-default-features --features "$1" -e normal,build,features --locked |
        grep -qF "$mbedtls"
}
for features in pkcs11 tpm pkcs11,tpm; do
    if builds_mbedtls "$features"; then
        echo "a psecd with only --features $features builds Mbed TLS ($mbedtls); it must not" >&2
        exit 1
    fi
    echo "ok: --features $features builds no Mbed TLS"
done
for features in pkcs11-software-public-operations mbed-crypto; do
    if ! builds_mbedtls "$features"; then
        echo "a psecd with --features $features builds no Mbed TLS: is the check above still looking for the right thing?" >&2
        exit 1
    fi
    echo "ok: --features $features builds Mbed TLS, as it must"
done
