#!/usr/bin/env bash
# Benchmark: a DNSBL sweep (issue 4). bench/dnsbl_bench.cpp starts a local
# NSD on loopback (response-rate limiting off) serving ZONES DNSBL zones in
# which about 3% of IPS IPs are listed, then:
#   1. sweeps every IP on every zone with the real dnsbl job (rate limit
#      off, fresh resolver per sweep), RUNS times: queries/s, wall time,
#      listings found / false / missed (must be all / 0 / 0);
#   2. `mxpulse once` on the same sweep (SQLite store included): wall time
#      and the agent's peak RSS;
#   3. dnsperf on the same queries against the same NSD: our rate as a
#      fraction of dnsperf's (goal >= 50%; peak RSS goal <= 30 MiB).
# Loopback only; everything it starts it stops on exit.
#
# Usage: scripts/bench-dnsbl.sh [IPS] [ZONES] [RUNS] [extra bench_dnsbl args...]
#   BUILD=dir (default build): the CMake build directory to use.
set -euo pipefail
cd "$(dirname "$0")/.."
IPS=${1:-1024}
ZONES=${2:-10}
RUNS=${3:-5}
shift $(($# < 3 ? $# : 3))
BUILD=${BUILD:-build}

for tool in nsd dnsperf; do
  command -v "$tool" >/dev/null || [[ -x /usr/sbin/$tool ]] ||
    { echo "bench-dnsbl: $tool is missing (scripts/deps.sh --test)" >&2; exit 77; }
done
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" --target bench_dnsbl -j"$(nproc)" >/dev/null
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs (NSD, dnsperf and mxpulse share them)"
exec "$BUILD/bench/bench_dnsbl" --ips "$IPS" --zones "$ZONES" --runs "$RUNS" "$@"
