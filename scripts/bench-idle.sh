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

mkdir -p "$work/tf" "$work/tf2"
{
  echo "agent: {state_db: state.db, textfile: tf/mxpulse.prom, max_splay: 0s, workers: 4}"
  echo "jobs:"
  for i in $(seq 1 50); do
    echo "  - {name: host$i, kind: host, every: 1h, params: {disks: [/], processes: [pmtad]}}"
  done
} >"$work/agent.yaml"
# The same agent with DNS jobs among its 50 (they load mxpulse-ext.so and
# with it ldns, OpenSSL, Poco and MariaDB). Their resolver is a closed
# loopback port: the runs end `unknown` at once, which is all an idle
# measurement needs.
{
  echo "agent: {state_db: state2.db, textfile: tf2/mxpulse.prom, max_splay: 0s, workers: 4}"
  echo "dns: {resolvers: [\"127.0.0.1:9\"]}"
  echo "jobs:"
  for i in $(seq 1 40); do
    echo "  - {name: host$i, kind: host, every: 1h, params: {disks: [/], processes: [pmtad]}}"
  done
  for i in $(seq 1 5); do
    echo "  - {name: bl$i, kind: dnsbl, every: 1h, params: {ips: [192.0.2.$i], zones: [{zone: bl$i.test}], attempts: 1}}"
    echo "  - {name: auth$i, kind: dns_auth, every: 1h, params: {domains: [{domain: d$i.test, ips: [192.0.2.$i]}], dns_attempts: 1}}"
  done
} >"$work/agent-dns.yaml"

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

start_agent() {  # config textfile-dir last-job -> $agent
  "$bin" --config "$1" run 2>>"$work/agent.log" &
  pids+=($!)
  agent=$!
  # Wait for every first run to be recorded.
  for _ in $(seq 1 150); do
    grep -q "mxpulse_job_runs_total{job=\"$3\",kind=\"[a-z_]*\"} 1" "$2/mxpulse.prom" 2>/dev/null && break
    sleep 0.2
  done
}

start_agent "$work/agent.yaml" "$work/tf" host50
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
kill "$agent" 2>/dev/null || true
wait "$agent" 2>/dev/null || true

start_agent "$work/agent-dns.yaml" "$work/tf2" auth5
grep -q "mxpulse-ext.so" "/proc/$agent/maps" || { echo "the DNS jobs did not load mxpulse-ext.so" >&2; exit 1; }
measure "mxpulse (40 host + 10 DNS)" "$agent"
echo "goals: RSS < 14 MiB, private < 2 MiB, CPU < 0.1 s per idle minute (the 50-job agent;"
echo "the DNS line shows the cost once the module and its libraries are loaded)"
