#!/usr/bin/env bash
# Idle footprint of the daemon next to prometheus-node-exporter.
# Starts `mxpulse run` with 50 jobs (each runs once at start, then waits an
# hour), lets the first runs finish, then measures RSS, private memory
# (RssAnon) and CPU seconds over an idle window. Usage:
#   scripts/bench-idle.sh [SECONDS]   (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
window="${1:-60}"
bin=build/mxpulse
[[ -x "$bin" ]] || scripts/build.sh >/dev/null
work=$(mktemp -d /tmp/mxpulse-bench-idle-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

mkdir -p "$work/tf"
{
  echo "agent: {state_db: state.db, textfile: tf/mxpulse.prom, max_splay: 0s, workers: 4}"
  echo "jobs:"
  for i in $(seq 1 50); do
    echo "  - {name: host$i, kind: host, every: 1h, params: {disks: [/], processes: [pmtad]}}"
  done
} >"$work/agent.yaml"

ticks=$(getconf CLK_TCK)
field() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }        # kB
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }                  # utime + stime

measure() {  # name pid
  local name=$1 pid=$2 t0 t1 rss anon
  t0=$(cpu_ticks "$pid")
  sleep "$window"
  t1=$(cpu_ticks "$pid")
  rss=$(field "$pid" VmRSS)
  anon=$(field "$pid" RssAnon)
  awk -v n="$name" -v r="$rss" -v a="$anon" -v c="$((t1 - t0))" -v hz="$ticks" -v w="$window" \
    'BEGIN { printf "%-26s RSS %6.1f MiB   private (RssAnon) %5.1f MiB   CPU %.3f s per %d s idle (%.3f s/min)\n",
             n, r/1024, a/1024, c/hz, w, (c/hz)*60/w }'
}

"$bin" --config "$work/agent.yaml" run 2>"$work/agent.log" &
pids+=($!)
agent=$!
# Wait for all 50 first runs to be recorded.
for _ in $(seq 1 100); do
  grep -q 'mxpulse_job_runs_total{job="host50",kind="host"} 1' "$work/tf/mxpulse.prom" 2>/dev/null && break
  sleep 0.2
done
echo "mxpulse: 50 jobs started and ran once; measuring ${window}s of idle"

ne=$(command -v prometheus-node-exporter || true)
if [[ -n "$ne" ]]; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$ne" --web.listen-address="127.0.0.1:$port" >"$work/ne.log" 2>&1 &
  pids+=($!)
  nepid=$!
  sleep 2
  measure "mxpulse (50 jobs)" "$agent" &
  m1=$!
  measure "prometheus-node-exporter" "$nepid" &
  m2=$!
  wait "$m1" "$m2"
else
  measure "mxpulse (50 jobs)" "$agent"
  echo "prometheus-node-exporter not installed: no comparison (scripts/deps.sh --test)"
fi
echo "goals: RSS < 14 MiB, private < 2 MiB, CPU < 0.1 s per idle minute"
