#!/usr/bin/env bash
# Installs dependencies, builds, writes a demo config under var/demo (state
# DB and textfile there too; no outside network), runs every job once and
# prints `mxpulse status`. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
scripts/build.sh

demo=var/demo
mkdir -p "$demo/textfile"
cat >"$demo/agent.yaml" <<'YAML'
# Demo config written by scripts/demo.sh: paths are relative to this file.
agent:
  state_db: state.db
  textfile: textfile/mxpulse.prom
  workers: 2
jobs:
  - name: host
    kind: host
    every: 1m
    params:
      disks: [/]
      processes: [mxpulse-demo-not-running]
YAML

echo "== mxpulse check-config"
build/mxpulse --config "$demo/agent.yaml" check-config
echo "== mxpulse once (exit status follows the worst result: 0 ok, 1 warning, 2 critical, 3 unknown)"
build/mxpulse --config "$demo/agent.yaml" once || echo "(once exited $?)"
echo "== mxpulse status"
build/mxpulse --config "$demo/agent.yaml" status
echo "== textfile $demo/textfile/mxpulse.prom (first lines)"
head -n 12 "$demo/textfile/mxpulse.prom"
