#!/usr/bin/env bash
# Installs dependencies, builds, starts the shared test servers and runs
# every test. Idempotent; used by CI (.ci/run). Extra arguments go to ctest
# (e.g. scripts/test.sh -L unit, or -R integration.cli).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh --test
scripts/build.sh

# Servers shared by several suites start here (on high loopback ports,
# throwaway data directories) and stop when this script exits. Servers a
# single suite needs are started by that suite's fixture.
# shellcheck source=scripts/lib/test-servers.sh
source scripts/lib/test-servers.sh
trap stop_test_servers EXIT
start_mariadb

export MXPULSE_SUITES_DIR="${MXPULSE_SUITES_DIR:-$(cd .. && pwd)/shared/suites}"
ctest --test-dir build --output-on-failure --timeout 900 -j2 "$@"
