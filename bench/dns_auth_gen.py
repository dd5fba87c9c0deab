#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Generates the dns_auth benchmark world (scripts/bench-dns-auth.sh).

N sending domains dNNNN.bench.test, each with 2 sending IPs (IPv4, plus
IPv4 or IPv6), SPF records in the shapes seen in the wild (shared ESP
includes nested two deep, a/mx terms, an exists: macro, redirect=, long
records split into several TXT strings), a 2048- or 1024-bit DKIM key split
into 255-byte strings, DMARC (some with an external rua and its
authorisation record), MX, TLS-RPT, and forward-confirmed PTRs in
in-addr.arpa and ip6.arpa. About 2% of domains are over the 10-lookup limit
and a few do not list their second IP, so every SPF result class appears.

Writes into OUT: zones/*.zone, nsd-zones.conf (zone: stanzas), mxpulse.yaml
(with @PORT@ for the resolver port), pairs.tsv (domain, ip, helo).
"""
import os
import sys

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
OUT = sys.argv[2] if len(sys.argv) > 2 else "bench-out"
os.makedirs(os.path.join(OUT, "zones"), exist_ok=True)

RSA2048 = ("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAy3Z9ffZe8gUTJrdGuKj6IwEembmKYpp0jMa8uhudErcI4gFVUaFi"
           "iRWxc4jP/XR9NAEv3XwHm+CVcHu+L/n6VWt6g59U7vHXQicMfKGmEp2VplsgojNy/Y5X9HdVYM0azsI47NcJCDW9UVfeOHdO"
           "SgFME4F8dNtUKC4KTB2d1pqj/yixz+V8Sv8xkEyPfSRHcNXIw0LvelqJ1MRfN3hO/3uQSVrPYYk4SyV0b6wfnkQs28fpiIpG"
           "QvzlGI5WkrdOQT5k4YHaEvZDLNdwiMeVZOEL7dDoFs2mQsovm+tH0StUAZTnr61NLVFfD5V6Ip1V9zVtspPHvYSuOWwyArFZ9QIDAQAB")
RSA1024 = ("MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Q"
           "vx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kr"
           "yOTIKT+l/K4w3QIDAQAB")


def txt(value, chunk=180):
    """A TXT rdata, split into several character-strings like real long records."""
    parts = [value[i:i + chunk] for i in range(0, len(value), chunk)] or [""]
    return "TXT " + " ".join('"%s"' % p for p in parts)


def soa(origin):
    return ("$ORIGIN %s.\n$TTL 3600\n@ SOA ns1.bench.test. hostmaster.bench.test. 1 3600 600 86400 300\n"
            "@ NS ns1.bench.test.\n" % origin)


def v4(i, which):
    # 198.18.0.0/15 (RFC 2544 benchmarking): IP1 in 198.18/16, IP2 in 198.19/16
    n = i * 2 + which
    return "198.%d.%d.%d" % (18 + which, (n >> 8) & 255, n & 255)


def v6(i):
    return "2001:db8:%x::%x" % (i // 4096, i % 4096 + 1)


zones = {}

# --- shared providers: an ESP with nested netblock includes, a mailer with
# a/mx terms, a CRM using an exists: macro (a void lookup for most IPs)
esp = soa("bench-esp.net")
esp += "_spf.esp1 " + txt("v=spf1 include:_nb1.esp1.bench-esp.net include:_nb2.esp1.bench-esp.net "
                          "include:_nb3.esp1.bench-esp.net ~all") + "\n"
for nb in range(1, 4):
    nets = " ".join("ip4:203.%d.%d.0/24" % (nb, k) for k in range(12))
    nets += " ip6:2001:db8:ff%02x::/48" % nb
    if nb == 1:
        nets += " ip4:198.19.0.0/17"  # half of the IP2 space is sent through the ESP
    esp += "_nb%d.esp1 %s\n" % (nb, txt("v=spf1 " + nets + " ~all"))
esp += "_spf.mailer " + txt("v=spf1 a:relay.mailer.bench-esp.net mx:mailer.bench-esp.net ip4:192.0.2.0/24 ~all") + "\n"
esp += "relay.mailer A 192.0.2.200\nmailer MX 10 mx1.mailer\nmailer MX 20 mx2.mailer\n"
esp += "mx1.mailer A 192.0.2.201\nmx2.mailer A 192.0.2.202\n"
esp += "_spf.crm " + txt("v=spf1 exists:%{i}._ip.crm.bench-esp.net -all") + "\n"
esp += "_spf.big " + txt("v=spf1 " + " ".join("include:_b%d.bench-esp.net" % k for k in range(1, 10)) + " -all") + "\n"
for k in range(1, 10):
    esp += "_b%d %s\n" % (k, txt("v=spf1 ip4:100.%d.0.0/16 -all" % (64 + k)))
esp += "ns1 A 127.0.0.1\n"
zones["bench-esp.net"] = esp

reports = soa("reports.bench")
main = soa("bench.test") + "ns1 A 127.0.0.1\n"
rev4 = {18: soa("18.198.in-addr.arpa"), 19: soa("19.198.in-addr.arpa")}
rev6 = soa("8.b.d.0.1.0.0.2.ip6.arpa")


def nibbles6(addr):
    import ipaddress
    full = ipaddress.ip_address(addr).exploded.replace(":", "")
    return ".".join(reversed(full[8:]))  # relative to 8.b.d.0.1.0.0.2.ip6.arpa


pairs = []
items = []
for i in range(N):
    d = "d%04d.bench.test" % i
    rel = "d%04d" % i
    ip1 = v4(i, 0)
    ip2 = v6(i) if i % 2 else v4(i, 1)
    helo = "mta.%s" % d
    shape = i % 10
    own1 = "ip4:%s" % ip1
    own2 = ("ip6:%s" % ip2) if ":" in ip2 else ("ip4:%s" % ip2)
    if i % 50 == 49:
        spf = "v=spf1 %s include:_spf.big.bench-esp.net include:_spf.esp1.bench-esp.net -all" % own1  # 14 lookups
    elif shape in (0, 1, 2):
        spf = "v=spf1 %s %s include:_spf.esp1.bench-esp.net -all" % (own1, own2)
    elif shape in (3, 4):
        # every 40th does not list its second IP: that IP gets softfail
        listed2 = "" if i % 40 == 3 else own2 + " "
        spf = "v=spf1 a mx %s %sinclude:_spf.mailer.bench-esp.net ~all" % (own1, listed2)
    elif shape == 5:
        spf = "v=spf1 %s %s include:_spf.esp1.bench-esp.net include:_spf.mailer.bench-esp.net include:_spf.crm.bench-esp.net -all" % (own1, own2)
    elif shape == 6:
        spf = "v=spf1 %s redirect=_spf.%s" % (own1, d)
        main += "_spf.%s %s\n" % (rel, txt("v=spf1 %s include:_spf.esp1.bench-esp.net -all" % own2))
    elif shape == 7:
        # every 3rd of these forgot its second IP: neutral through ?all
        listed2 = "" if i % 30 == 7 else " " + own2
        spf = "v=spf1 include:_spf.esp1.bench-esp.net %s%s ?all" % (own1, listed2)
    else:
        # every 3rd of these forgot its second IP: fail through -all
        listed2 = "" if i % 30 == 8 else own2 + " "
        spf = "v=spf1 %s %sip4:198.51.100.0/24 ip4:203.0.113.0/24 mx -all" % (own1, listed2)
    main += "%s %s\n" % (rel, txt(spf, 120))
    main += "%s TXT \"google-site-verification=%08x\"\n" % (rel, i * 2654435761 & 0xFFFFFFFF)
    key = RSA2048 if i % 4 else RSA1024
    main += "s1._domainkey.%s %s\n" % (rel, txt("v=DKIM1; k=rsa; p=" + key, 250))
    if i % 5 == 0:
        main += "_dmarc.%s %s\n" % (rel, txt("v=DMARC1; p=reject; rua=mailto:agg@reports.bench; pct=100"))
        reports += "%s._report._dmarc %s\n" % (d, txt("v=DMARC1"))
    else:
        main += "_dmarc.%s %s\n" % (rel, txt("v=DMARC1; p=%s; rua=mailto:dmarc@%s" % (
            ["none", "quarantine", "reject"][i % 3], d)))
    main += "%s MX 10 mx1.%s\n%s MX 20 mx2.%s\n" % (rel, rel, rel, rel)
    main += "mx1.%s A 198.51.100.%d\nmx2.%s A 198.51.100.%d\n" % (rel, i % 250 + 1, rel, (i + 7) % 250 + 1)
    main += "%s A 198.51.100.%d\n" % (rel, i % 250 + 1)
    main += "mta.%s A %s\n" % (rel, ip1)
    if ":" in ip2:
        main += "mta.%s AAAA %s\n" % (rel, ip2)
        rev6 += "%s PTR mta.%s.\n" % (nibbles6(ip2), d)
    else:
        main += "mta.%s A %s\n" % (rel, ip2)
        o = ip2.split(".")
        rev4[19] += "%s.%s PTR mta.%s.\n" % (o[3], o[2], d)
    o = ip1.split(".")
    rev4[18] += "%s.%s PTR mta.%s.\n" % (o[3], o[2], d)
    if i % 3 == 0:
        main += "_smtp._tls.%s %s\n" % (rel, txt("v=TLSRPTv1; rua=mailto:tls@%s" % d))
    pairs.append((d, ip1, helo))
    pairs.append((d, ip2, helo))
    items.append((d, ip1, ip2, helo))

zones["bench.test"] = main
zones["reports.bench"] = reports
zones["18.198.in-addr.arpa"] = rev4[18]
zones["19.198.in-addr.arpa"] = rev4[19]
zones["8.b.d.0.1.0.0.2.ip6.arpa"] = rev6

with open(os.path.join(OUT, "nsd-zones.conf"), "w") as f:
    for name, text in zones.items():
        path = os.path.join(OUT, "zones", name + ".zone")
        with open(path, "w") as z:
            z.write(text)
        f.write('zone:\n  name: "%s"\n  zonefile: "%s"\n' % (name, path))

with open(os.path.join(OUT, "pairs.tsv"), "w") as f:
    for d, ip, helo in pairs:
        f.write("%s\t%s\t%s\n" % (d, ip, helo))

inv = "".join("      - {domain: %s, dkim_selectors: [s1], ips: [%s, \"%s\"], helo: %s}\n" % it for it in items)
job = """  - name: %s
    kind: dns_auth
    every: 1h
    timeout: 10m
    params:
      inventory: bench
      checks: [%s]
      concurrency: @CONC@
      dns_timeout: 2s
"""
with open(os.path.join(OUT, "mxpulse.yaml"), "w") as f:
    f.write("""agent:
  state_db: @WORK@/state.db
  textfile: ""
  workers: 2
  default_timeout: 10m
  max_splay: 0s
dns:
  resolvers: ["127.0.0.1:@PORT@"]
inventories:
  bench:
    kind: domains
    items:
""" + inv + "jobs:\n" + job % ("auth", "spf, dkim, dmarc, mx, ptr, mta_sts, tls_rpt") + job % ("spf", "spf"))
print("generated %d domains, %d SPF checks, %d zones" % (N, len(pairs), len(zones)))
