#!/usr/bin/env bash
# Benchmark: the dns_auth job on N generated sending domains (default 1000,
# 2 sending IPs each) served by a local NSD, then the same SPF checks with
# pyspf (the peer), with the results compared and the throughput ratio.
#
#   1. `mxpulse once auth`: every check (SPF record + per IP, DKIM, DMARC,
#      MX, PTR, MTA-STS, TLS-RPT) -> checks/s, wall time, DNS queries NSD
#      received (nsd-control stats over a unix socket);
#   2. `mxpulse once spf`: SPF only (record audit + check_host per IP);
#   3. pyspf on the same (domain, ip) pairs: as installed (no cache,
#      sequential), with a memoised lookup (a shared cache, like mxpulse's
#      per-run resolver cache), and that on `nproc` processes;
#   4. every per-IP SPF result of mxpulse must equal pyspf's;
#   5. ratios of SPF checks/s (goal >= 10x pyspf): against pyspf as
#      installed and against its best variant, by job time and by wall time.
# Timings are best of RUNS. "job" is the run's duration as the framework
# records it (runs.duration_ms: the DNS work and the evaluation); "wall" is
# the whole `mxpulse once` process (start, config with the 1000-domain
# inventory, SQLite persistence). pyspf's time excludes interpreter start.
# Both talk to the same NSD, with response-rate limiting off (a recursive
# resolver does not rate-limit its own clients; NSD's default RRL of 200
# answers/s per bucket throttles NXDOMAIN/NODATA and would measure NSD).
#
# Usage: scripts/bench-dns-auth.sh [N] [RUNS] [CONCURRENCY]
#   MXPULSE=path/to/mxpulse (default build/mxpulse)
# Loopback only; everything it starts it stops on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-1000}
RUNS=${2:-3}
CONC=${3:-64}
MXPULSE=${MXPULSE:-build/mxpulse}
PY=/usr/bin/python3  # Debian's python3-spf lives in the system interpreter

[[ -x $MXPULSE ]] || { echo "no mxpulse binary at $MXPULSE (scripts/build.sh, or set MXPULSE=)" >&2; exit 1; }
command -v nsd >/dev/null || [[ -x /usr/sbin/nsd ]] || { echo "nsd not installed (scripts/deps.sh --test)" >&2; exit 1; }
$PY -c 'import spf' 2>/dev/null || { echo "python3-spf not installed (scripts/deps.sh --test)" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "sqlite3 not installed (scripts/deps.sh --test)" >&2; exit 1; }
command -v bc >/dev/null || { echo "bc not installed (scripts/deps.sh --test)" >&2; exit 1; }
MXPULSE=$(realpath "$MXPULSE")
SRC=$(pwd)

WORK=$(mktemp -d /tmp/mxpulse-bench-dns-auth-XXXXXX)
NSD_PID=""
cleanup() {
  [[ -n $NSD_PID ]] && kill "$NSD_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
$PY "$SRC/bench/dns_auth_gen.py" "$N" "$WORK"
sed -i "s|@PORT@|$PORT|; s|@WORK@|$WORK|; s|@CONC@|$CONC|g" "$WORK/mxpulse.yaml"

cat > "$WORK/nsd.conf" <<EOF
server:
  ip-address: 127.0.0.1
  port: $PORT
  username: ""
  chroot: ""
  zonesdir: "$WORK"
  pidfile: "$WORK/nsd.pid"
  database: ""
  zonelistfile: "$WORK/zone.list"
  xfrdfile: "$WORK/xfrd.state"
  xfrdir: "$WORK"
  logfile: "$WORK/nsd.log"
  server-count: 1
  do-ip6: no
  hide-version: yes
  rrl-ratelimit: 0
remote-control:
  control-enable: yes
  control-interface: $WORK/nsd.ctl
EOF
cat "$WORK/nsd-zones.conf" >> "$WORK/nsd.conf"
/usr/sbin/nsd -d -c "$WORK/nsd.conf" >"$WORK/nsd.out" 2>&1 &
NSD_PID=$!
for _ in $(seq 1 100); do
  nsd-control -c "$WORK/nsd.conf" status >/dev/null 2>&1 && break
  sleep 0.1
done
nsd-control -c "$WORK/nsd.conf" status >/dev/null || { cat "$WORK/nsd.log" "$WORK/nsd.out" >&2; exit 1; }

queries() { nsd-control -c "$WORK/nsd.conf" stats_noreset | sed -n 's/^num.queries=//p'; }
now() { date +%s.%N; }

# run_mxpulse JOB OUTFILE -> BEST (wall s), JOBTIME (job s), QUERIES (NSD
# received), QUESTIONS (the job's mxpulse_dns_auth_dns_questions), best run
run_mxpulse() {
  local job=$1 out=$2 best="" bestjob=""
  for _ in $(seq 1 "$RUNS"); do
    rm -f "$WORK"/state.db*
    local q0 t0 t1 q1 t j
    q0=$(queries); t0=$(now)
    "$MXPULSE" --config "$WORK/mxpulse.yaml" once "$job" --json >"$out" || true  # exit = worst status
    t1=$(now); q1=$(queries)
    t=$(echo "$t1 - $t0" | bc -l)
    j=$(sqlite3 "$WORK/state.db" "SELECT duration_ms / 1000.0 FROM runs WHERE job = '$job'")
    if [[ -z $best ]] || (( $(echo "$t < $best" | bc -l) )); then best=$t; QUERIES=$((q1 - q0)); fi
    if [[ -z $bestjob ]] || (( $(echo "$j < $bestjob" | bc -l) )); then bestjob=$j; fi
  done
  BEST=$best
  JOBTIME=$bestjob
  QUESTIONS=$(sqlite3 "$WORK/state.db" "SELECT value FROM job_samples WHERE name = 'mxpulse_dns_auth_dns_questions'" 2>/dev/null | head -1)
}

echo "== mxpulse dns_auth, every check, $N domains x 2 IPs, concurrency $CONC (best of $RUNS)"
run_mxpulse auth "$WORK/auth.jsonl"
CHECKS=$(grep -c '"check"' "$WORK/auth.jsonl")
printf "checks: %d   job: %.2f s = %.0f checks/s   wall: %.2f s = %.0f checks/s\n" \
  "$CHECKS" "$JOBTIME" "$(echo "$CHECKS / $JOBTIME" | bc -l)" "$BEST" "$(echo "$CHECKS / $BEST" | bc -l)"
printf "DNS queries sent: %d (%.1f per domain; NSD's count), distinct questions: %s (the job's count)\n" \
  "$QUERIES" "$(echo "$QUERIES / $N" | bc -l)" "$QUESTIONS"
$PY - "$WORK/auth.jsonl" <<'EOF'
import json, sys, collections
c = collections.Counter()
for line in open(sys.argv[1]):
    r = json.loads(line)
    c[(r["check"], r["status"])] += 1
print("   " + ", ".join("%s %s: %d" % (k[0], k[1], v) for k, v in sorted(c.items())))
EOF

echo "== mxpulse dns_auth, SPF only (record audit + check_host per IP)"
run_mxpulse spf "$WORK/spf.jsonl"
SPF_CHECKS=$(wc -l <"$WORK/pairs.tsv")
MX_RATE=$(echo "$SPF_CHECKS / $JOBTIME" | bc -l)
MX_WALL_RATE=$(echo "$SPF_CHECKS / $BEST" | bc -l)
printf "SPF checks (per IP, plus %d record audits): %d   job: %.2f s = %.0f checks/s   wall: %.2f s = %.0f checks/s\n" \
  "$N" "$SPF_CHECKS" "$JOBTIME" "$MX_RATE" "$BEST" "$MX_WALL_RATE"
printf "DNS queries sent: %d\n" "$QUERIES"

echo "== pyspf on the same $SPF_CHECKS checks"
BEST_PY=0
PLAIN_PY=0
for variant in "plain 1" "cached 1" "cached $(nproc)"; do
  set -- $variant
  best=""
  for _ in $(seq 1 "$RUNS"); do
    line=$($PY "$SRC/bench/pyspf_peer.py" "$PORT" "$WORK/pairs.tsv" "$WORK/pyspf-$1-$2.tsv" "$1" "$2")
    rate=$(echo "$line" | sed -n 's/.*= \([0-9.]*\) checks\/s/\1/p')
    if [[ -z $best ]] || (( $(echo "$rate > $best" | bc -l) )); then best=$rate; bestline=$line; fi
  done
  echo "$bestline"
  if (( $(echo "$best > $BEST_PY" | bc -l) )); then BEST_PY=$best; fi
  [[ $1 == plain ]] && PLAIN_PY=$best
done

echo "== results compared (mxpulse per-IP SPF result vs pyspf)"
SAME=0
$PY - "$WORK/spf.jsonl" "$WORK/pyspf-cached-1.tsv" "$WORK/pyspf-plain-1.tsv" <<'EOF' || SAME=1
import json, sys, collections
ours = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["check"] == "spf" and " " in r["target"]:
        ours[r["target"]] = r["facts"]["result"]
bad = 0
for path in sys.argv[2:]:
    theirs = {}
    for line in open(path):
        d, ip, res = line.rstrip("\n").split("\t")
        theirs[d + " " + ip] = res
    diff = [(k, ours.get(k), v) for k, v in theirs.items() if ours.get(k) != v]
    missing = len(set(theirs) ^ set(ours))
    print("%s: %d checks, %d differ, %d missing on one side" % (path.split("/")[-1], len(theirs), len(diff), missing))
    for k, a, b in diff[:5]:
        print("   %s: mxpulse %s, pyspf %s" % (k, a, b))
    bad += len(diff) + missing
print("   results by class:", dict(collections.Counter(ours.values())))
sys.exit(1 if bad else 0)
EOF

echo "== throughput ratio, SPF checks/s (goal >= 10x)"
printf "   job time vs pyspf as installed (%.0f/s):   %.1fx\n" "$PLAIN_PY" "$(echo "$MX_RATE / $PLAIN_PY" | bc -l)"
printf "   job time vs pyspf best variant (%.0f/s):  %.1fx\n" "$BEST_PY" "$(echo "$MX_RATE / $BEST_PY" | bc -l)"
printf "   wall time vs pyspf as installed:          %.1fx\n" "$(echo "$MX_WALL_RATE / $PLAIN_PY" | bc -l)"
printf "   wall time vs pyspf best variant:          %.1fx\n" "$(echo "$MX_WALL_RATE / $BEST_PY" | bc -l)"
[[ $SAME -eq 0 ]] || { echo "RESULTS DIFFER" >&2; exit 1; }
