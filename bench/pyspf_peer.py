#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""pyspf (Debian python3-spf) on the dns_auth benchmark's SPF checks.

usage: pyspf_peer.py PORT PAIRS.tsv OUT.tsv [plain|cached] [PROCESSES]

Checks every (domain, ip, helo) of PAIRS with spf.check2(i=ip,
s=postmaster@domain, h=helo) against the NSD on 127.0.0.1:PORT, writes
"domain<TAB>ip<TAB>result" lines to OUT and prints one summary line.
"cached" memoises pyspf's DNS lookups for the whole run (the same advantage
mxpulse's per-run resolver cache has, so the comparison is engine against
engine); "plain" is pyspf as installed. Timing excludes interpreter start.
"""
import multiprocessing
import sys
import time

import DNS  # pydns: what Debian's pyspf uses
import spf

PORT = int(sys.argv[1])
PAIRS = sys.argv[2]
OUT = sys.argv[3]
MODE = sys.argv[4] if len(sys.argv) > 4 else "cached"
PROCS = int(sys.argv[5]) if len(sys.argv) > 5 else 1

DNS.defaults["server"] = ["127.0.0.1"]
DNS.defaults["port"] = PORT

if MODE == "cached":
    _lookup = spf.DNSLookup
    _cache = {}

    def cached_lookup(name, qtype, *args, **kwargs):
        key = (name.lower(), qtype)
        if key not in _cache:
            _cache[key] = _lookup(name, qtype, *args, **kwargs)  # errors are not cached
        return _cache[key]

    spf.DNSLookup = cached_lookup


def check(pair):
    domain, ip, helo = pair
    result, _ = spf.check2(i=ip, s="postmaster@" + domain, h=helo)
    return domain, ip, result


def main():
    with open(PAIRS) as f:
        pairs = [tuple(line.rstrip("\n").split("\t")) for line in f if line.strip()]
    start = time.monotonic()
    if PROCS > 1:
        with multiprocessing.Pool(PROCS) as pool:
            results = pool.map(check, pairs, chunksize=max(1, len(pairs) // (PROCS * 8)))
    else:
        results = [check(p) for p in pairs]
    seconds = time.monotonic() - start
    with open(OUT, "w") as f:
        for domain, ip, result in results:
            f.write("%s\t%s\t%s\n" % (domain, ip, result))
    print("pyspf %s x%d: %d checks in %.2f s = %.0f checks/s" %
          (MODE, PROCS, len(results), seconds, len(results) / seconds))


if __name__ == "__main__":
    main()
