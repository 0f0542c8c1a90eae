# Sourced by the ci/ scripts: strict mode, the repository root as working
# directory, and a helper that says what runs before running it.
set -euo pipefail
PSEC_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$PSEC_ROOT"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() {
    printf '\n==> %s\n' "$*"
}

run() {
    printf '+ %s\n' "$*"
    "$@"
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
