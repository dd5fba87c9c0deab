#!/usr/bin/env bash
# Installs what mxpulse needs from Debian's packages; idempotent (installs
# only what is missing). Usage: scripts/deps.sh [--test]
#   (no flag)  build dependencies
#   --test     also the real servers and peer tools the tests and benchmarks use
set -euo pipefail

BUILD_PACKAGES=(
  build-essential cmake pkg-config
  libyaml-cpp-dev libsqlite3-dev libmariadb-dev libldns-dev libssl-dev libpoco-dev
  libboost-test-dev
)
TEST_PACKAGES=(
  sqlite3 openssl procps python3 python3-yaml
  mariadb-server                          # MySQL inventories, MailWizz sync
  prometheus-node-exporter prometheus     # textfile collector, promtool
  nsd ldnsutils dnsperf python3-spf       # DNS tests and benchmarks
  python3-aiosmtpd prometheus-blackbox-exporter   # STARTTLS server, TLS peer
  curl bc time                            # scripts/bench-tls.sh (drives blackbox, timing)
  systemd                                 # systemd-analyze verify
  nodejs                                  # SQS emulators (sqslite, fauxqs) for dlq_depth; Node >= 20
)

packages=("${BUILD_PACKAGES[@]}")
if [[ "${1:-}" == "--test" ]]; then packages+=("${TEST_PACKAGES[@]}"); fi

# SQS emulators from the npm registry, pinned in tests/node/package-lock.json
# (node_modules is not committed). The dlq_depth tests skip without them.
install_node_modules() {
  local dir
  dir="$(cd "$(dirname "$0")/.." && pwd)/tests/node"
  [[ -d "$dir/node_modules/sqslite" && -d "$dir/node_modules/fauxqs" ]] && return 0
  if ! command -v npm >/dev/null; then
    echo "deps: npm not found; the SQS emulator tests will be skipped" >&2
    return 0
  fi
  echo "deps: npm ci in tests/node (sqslite, fauxqs)"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
}
if [[ "${1:-}" == "--test" ]]; then trap install_node_modules EXIT; fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "deps: all ${#packages[@]} packages present"
  exit 0
fi
echo "deps: installing ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Services installed here must not start on their own: tests start their
# own instances on loopback ports with throwaway data directories.
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  remove_policy=1
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
if [[ "${remove_policy:-0}" == 1 ]]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi
