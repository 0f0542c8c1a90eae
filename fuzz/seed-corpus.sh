#!/usr/bin/env bash
# Copies the committed seeds (fuzz/seeds/<target>/) into the git-ignored
# corpus directories cargo-fuzz runs from (fuzz/corpus/<target>/), keeping
# what earlier runs added. Usage: fuzz/seed-corpus.sh
set -euo pipefail
fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
for seeds in "$fuzz_dir"/seeds/*/; do
    target="$(basename "$seeds")"
    mkdir -p "$fuzz_dir/corpus/$target"
    cp -- "$seeds"* "$fuzz_dir/corpus/$target/"
done
