#!/usr/bin/env bash
# Benchmark: time to check N local TLS endpoints (default 200) with
# mxpulse's tls_expiry job, next to the same work done by
# prometheus-blackbox-exporter (tcp prober, tls: true) driven through its
# /probe endpoint at the same concurrency, and the ratio.
#
# Servers: S `openssl s_server` processes on 127.0.0.1 (default 8), one
# certificate with a wildcard SAN; the N endpoints are distinct SNI names
# spread over the S ports, so every check is a full TCP connect + TLS
# handshake + chain verification + name check. blackbox cannot vary SNI per
# target, so it probes the same ports the same number of times with one
# name: the same number of connections and handshakes against the same
# servers.
#
# Usage: scripts/bench-tls.sh [N] [CONCURRENCY] [RUNS]
#   MXPULSE=path/to/mxpulse (default build/mxpulse), SERVERS=8
# Loopback only; everything it starts it stops on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-200}
CONC=${2:-16}
RUNS=${3:-3}
SERVERS=${SERVERS:-8}
MXPULSE=${MXPULSE:-build/mxpulse}
BLACKBOX=${BLACKBOX:-prometheus-blackbox-exporter}

[[ -x $MXPULSE ]] || { echo "no mxpulse binary at $MXPULSE (scripts/build.sh, or set MXPULSE=)" >&2; exit 1; }
command -v "$BLACKBOX" >/dev/null || { echo "$BLACKBOX not installed (scripts/deps.sh --test)" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl not installed" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "sqlite3 not installed" >&2; exit 1; }
MXPULSE=$(realpath "$MXPULSE")

WORK=$(mktemp -d /tmp/mxpulse-bench-tls-XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_port() {
  for _ in $(seq 1 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "port $1 did not open" >&2
  return 1
}

# --- certificates: a root, an intermediate, a wildcard leaf (EC P-256)
cd "$WORK"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
  -subj "/CN=bench root" -keyout root.key -out root.pem 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=bench intermediate" \
  -keyout int.key -out int.csr 2>/dev/null
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' >int.ext
openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -CAcreateserial -days 1825 \
  -extfile int.ext -out int.pem 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=bench.test" \
  -keyout leaf.key -out leaf.csr 2>/dev/null
printf 'subjectAltName=DNS:*.bench.test,DNS:bench.test\nextendedKeyUsage=serverAuth\n' >leaf.ext
openssl x509 -req -in leaf.csr -CA int.pem -CAkey int.key -CAcreateserial -days 90 \
  -extfile leaf.ext -out leaf.pem 2>/dev/null

# --- servers
PORTS=()
for _ in $(seq 1 "$SERVERS"); do
  p=$(free_port)
  openssl s_server -quiet -accept "127.0.0.1:$p" -cert leaf.pem -key leaf.key \
    -cert_chain int.pem </dev/null >/dev/null 2>&1 &
  PIDS+=($!)
  PORTS+=("$p")
done
for p in "${PORTS[@]}"; do wait_port "$p"; done

# --- mxpulse config: N endpoints, distinct SNI names over the ports
{
  echo "agent:"
  echo "  state_db: $WORK/state.db"
  echo "  textfile: \"\""
  echo "jobs:"
  echo "  - name: tls"
  echo "    kind: tls_expiry"
  echo "    every: 1h"
  echo "    timeout: 60s"
  echo "    params:"
  echo "      ca_file: $WORK/root.pem"
  echo "      concurrency: $CONC"
  echo "      endpoint_timeout: 10s"
  echo "      endpoints:"
  for i in $(seq 0 $((N - 1))); do
    p=${PORTS[$((i % SERVERS))]}
    echo "        - {endpoint: \"127.0.0.1:$p\", sni: host$i.bench.test}"
  done
} >mxpulse.yaml

# --- blackbox config and the probe URLs (same ports, same count)
cat >blackbox.yml <<EOF
modules:
  tls_bench:
    prober: tcp
    timeout: 10s
    tcp:
      tls: true
      tls_config:
        ca_file: $WORK/root.pem
        server_name: host0.bench.test
EOF
BB_PORT=$(free_port)
"$BLACKBOX" --config.file="$WORK/blackbox.yml" --web.listen-address="127.0.0.1:$BB_PORT" \
  >blackbox.log 2>&1 &
BB_PID=$!
PIDS+=("$BB_PID")
wait_port "$BB_PORT"
: >urls.cfg
for i in $(seq 0 $((N - 1))); do
  p=${PORTS[$((i % SERVERS))]}
  echo "url = \"http://127.0.0.1:$BB_PORT/probe?module=tls_bench&target=127.0.0.1:$p\"" >>urls.cfg
  echo "output = \"$WORK/bb/$i.txt\"" >>urls.cfg
done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TICK=$(getconf CLK_TCK)
now() { date +%s.%N; }

run_mxpulse() {
  rm -f "$WORK"/state.db*
  local t0 t1
  t0=$(now)
  /usr/bin/time -f "%U %S" -o mx.cpu "$MXPULSE" --config "$WORK/mxpulse.yaml" once tls >mx.out 2>mx.err || true
  t1=$(now)
  local ok
  ok=$(grep -c '^OK ' mx.out || true)
  [[ $ok == "$N" ]] || { echo "mxpulse: only $ok of $N endpoints ok" >&2; head -5 mx.out >&2; }
  MX_WALL=$(echo "$t1 - $t0" | bc -l)
  MX_CPU=$(awk '{print $1 + $2}' mx.cpu)
  # The job's own run time (the runner's figure), without process start-up,
  # config load and the SQLite transaction: what compares with an exporter
  # that is already running.
  MX_JOB=$(sqlite3 "$WORK/state.db" "SELECT duration_ms / 1000.0 FROM runs ORDER BY id DESC LIMIT 1")
}

run_blackbox() {
  rm -rf bb && mkdir bb
  local c0 t0 t1 c1
  c0=$(cpu_ticks "$BB_PID")
  t0=$(now)
  /usr/bin/time -f "%U %S" -o curl.cpu curl -s -S --no-progress-meter --parallel --parallel-max "$CONC" -K urls.cfg || true
  t1=$(now)
  c1=$(cpu_ticks "$BB_PID")
  local ok
  ok=$(grep -l '^probe_success 1' bb/*.txt | wc -l)
  [[ $ok == "$N" ]] || echo "blackbox: only $ok of $N probes succeeded" >&2
  BB_WALL=$(echo "$t1 - $t0" | bc -l)
  BB_CPU=$(echo "($c1 - $c0) / $TICK + $(awk '{print $1 + $2}' curl.cpu)" | bc -l)
}

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }

echo "tls bench: $N endpoints, concurrency $CONC, $SERVERS openssl s_server processes, $RUNS runs each"
echo "host: $(nproc) CPUs, $(openssl version)"
MXW=() MXJ=() MXC=() BBW=() BBC=()
run_blackbox >/dev/null 2>&1 || true   # warm-up (page cache, blackbox start-up)
for r in $(seq 1 "$RUNS"); do
  run_mxpulse
  run_blackbox
  printf 'run %d: mxpulse %.3f s wall (job %.3f s, %.2f s CPU)   blackbox %.3f s wall (%.2f s CPU, incl. curl)\n' \
    "$r" "$MX_WALL" "$MX_JOB" "$MX_CPU" "$BB_WALL" "$BB_CPU"
  MXW+=("$MX_WALL") MXJ+=("$MX_JOB") MXC+=("$MX_CPU") BBW+=("$BB_WALL") BBC+=("$BB_CPU")
done
mw=$(median "${MXW[@]}") mj=$(median "${MXJ[@]}") mc=$(median "${MXC[@]}")
bw=$(median "${BBW[@]}") bc_=$(median "${BBC[@]}")
printf 'median: mxpulse %.3f s wall (job %.3f s), %.2f s CPU | blackbox_exporter %.3f s wall, %.2f s CPU\n' \
  "$mw" "$mj" "$mc" "$bw" "$bc_"
printf 'ratio (blackbox / mxpulse): wall %.2fx, job-only %.2fx, CPU %.2fx\n' \
  "$(echo "$bw / $mw" | bc -l)" "$(echo "$bw / $mj" | bc -l)" "$(echo "$bc_ / $mc" | bc -l)"
echo "load average during the run: $(cut -d' ' -f1-3 /proc/loadavg) (numbers are noisy on a shared box)"
echo "mxpulse wall time includes process start, config load, SQLite writes of $N results."
