#!/usr/bin/env bash
# The Mbed Crypto provider's tests against Mbed TLS 3.6.5 built with thread
# support (threaded_mbedtls in common.sh), where the provider makes its PSA
# calls in parallel: the whole crate suite, and the test that signs,
# creates and destroys keys from many threads and checks that the build
# did find the library thread-safe. Only this crate is built, in a target
# directory of its own (psa-crypto-sys does not rebuild when its Mbed TLS
# environment variables change, so the vendored build and this one must
# not share one). The output is appended to target/ci-test.log, whose
# counts ci/all.sh prints.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
threaded_mbedtls
step "psec-provider-mbed-crypto on the thread-safe Mbed TLS 3.6.5"
mkdir -p target
CARGO_TARGET_DIR="$PSEC_ROOT/target/mbedtls-3.6" PSEC_EXPECT_MBEDTLS_THREAD_SAFE=1 \
    run cargo test --locked -p psec-provider-mbed-crypto 2>&1 | tee -a target/ci-test.log
