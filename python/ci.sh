#!/usr/bin/env bash
# CI of the Python package: a fresh virtual environment, the wheel built by maturin (release),
# installed, and the pytest suite run against it (and against the root crate's release binary,
# which the CLI-parity tests call). Called by .ci/run after the Rust tests.
#
# Environment: PYTHON (default python3), PY_CI_DIR (scratch directory; default a new temporary
# one), CARGO_TARGET_DIR (default the root's target/, so the dependencies the Rust tests built
# are reused; the extension's release profile is the root's).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
work="${PY_CI_DIR:-$(mktemp -d)}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
t0=$(date +%s)

echo "== python: fresh venv in $work/venv"
rm -rf "$work/venv" "$work/wheels"
"${PYTHON:-python3}" -m venv "$work/venv"
py="$work/venv/bin/python"
"$py" -m pip install --quiet --disable-pip-version-check maturin numpy pytest
# scikit-learn is an optional test dependency: with it, tests/test_sklearn.py runs
# check_estimator and scikit-learn's pipelines on our estimators instead of skipping. It never
# becomes a dependency of the package. META_ROUTER_CI_NO_SKLEARN=1 skips the install (offline).
if [ "${META_ROUTER_CI_NO_SKLEARN:-0}" != 1 ]; then
    "$py" -m pip install --quiet --disable-pip-version-check scikit-learn \
        || echo "python/ci.sh: scikit-learn could not be installed; tests/test_sklearn.py will skip" >&2
fi

echo "== python: the CLI binary (cargo build --release)"
(cd "$root" && cargo build --release --quiet)

echo "== python: maturin build --release"
"$work/venv/bin/maturin" build --release --quiet -m "$here/Cargo.toml" -i "$py" -o "$work/wheels"
"$py" -m pip install --quiet --disable-pip-version-check "$work"/wheels/*.whl

echo "== python: pytest"
# run from the scratch directory so that `import meta_router` is the installed wheel
cd "$work"
rc=0
META_ROUTER_BIN="$CARGO_TARGET_DIR/release/meta-router" "$py" -m pytest -q -p no:cacheprovider "$here/tests" || rc=$?
if [ "$rc" -eq 5 ]; then
    echo "python/ci.sh: pytest collected no tests" >&2
    exit 1
fi
echo "== python: done in $(( $(date +%s) - t0 )) s"
exit "$rc"
