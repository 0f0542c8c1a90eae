#!/usr/bin/env bash
# The API documentation as docs.rs builds it ([package.metadata.docs.rs] of
# each published crate: every feature, `--cfg docsrs`, with nightly, which
# docs.rs uses and which `#![feature(doc_cfg)]` needs), warnings as errors:
# a broken intra-doc link, a bad code block or a feature-gated item without
# its badge fails here rather than on docs.rs. The doctests themselves run
# in ci/test.sh. The result is in target/doc/. Where no nightly toolchain
# can be had, builds them with the default toolchain, without `docsrs`,
# saying so.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
if rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal; then
    step "API docs as docs.rs builds them: nightly, every feature, --cfg docsrs, warnings as errors"
    RUSTDOCFLAGS="-D warnings --cfg docsrs" run cargo +nightly doc --workspace --no-deps --all-features --locked
else
    step "API docs, every feature, warnings as errors (no nightly here: without --cfg docsrs)"
    RUSTDOCFLAGS="-D warnings" run cargo doc --workspace --no-deps --all-features --locked
fi
