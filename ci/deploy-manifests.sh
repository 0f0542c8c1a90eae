#!/usr/bin/env bash
# The Kubernetes deployment (deploy/kubernetes/), checked offline: every
# manifest against the Kubernetes schemas that kubernetes-validate ships
# (strict: unknown fields are errors), then against psecd: paths, sockets,
# mounts, probes and uid agree, and psecd starts on the ConfigMap's
# config.toml (ci/deploy_manifests.py says what exactly).
# Usage: ci/deploy-manifests.sh [MANIFEST_DIR]   (default deploy/kubernetes;
# the self-tests pass broken copies). PSEC_BIN_DIR names a directory with
# psecd and psec to use; by default they are the tests' build.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
manifests="$(cd "${1:-deploy/kubernetes}" && pwd)"

# kubernetes-validate and its dependencies, pinned, in a venv of their own
# (PyPI is the only network this needs; reused while the pins are the same).
pins=(kubernetes-validate==1.37.0 jsonschema==4.26.0 jsonschema-specifications==2025.9.1
    referencing==0.37.0 rpds-py==2026.9.1 attrs==26.1.0 PyYAML==6.0.4 packaging==26.4
    importlib_resources==7.1.0 typing_extensions==4.16.0)
venv="$PSEC_ROOT/target/deploy-venv"
# The schemas kept: those of the Kubernetes versions the check uses.
stamp="${pins[*]} $(grep '^KUBERNETES_VERSIONS' ci/deploy_manifests.py)"
step "kubernetes-validate in $venv"
if [ "$(cat "$venv/pins" 2>/dev/null)" = "$stamp" ]; then
    echo "installed: ${pins[0]}"
else
    if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
        [ "$(id -u)" = 0 ] || { echo "python3-venv is missing; install it (apt-get install python3-venv)" >&2; exit 1; }
        run apt-get update
        run apt-get install -y --no-install-recommends python3-venv
    fi
    rm -rf "$venv"
    run python3 -m venv "$venv"
    run "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps "${pins[@]}"
    # kubernetes-validate ships the schemas of every version (108 MB).
    run "$venv/bin/python" ci/deploy_manifests.py --prune-schemas
    echo "$stamp" >"$venv/pins"
fi

if [ -z "${PSEC_BIN_DIR:-}" ]; then
    build_test_binaries
    PSEC_BIN_DIR="$PSEC_ROOT/target/debug"
fi
step "the manifests in $manifests: schemas, agreement with psecd, psecd on their config.toml"
run "$venv/bin/python" ci/deploy_manifests.py \
    --psecd "$PSEC_BIN_DIR/psecd" --psec "$PSEC_BIN_DIR/psec" "$manifests"
