// SPDX-License-Identifier: Apache-2.0
#include "jobs/dnsbl_zones.hpp"

#include <arpa/inet.h>

#include <cctype>

namespace mxpulse::jobs::dnsbl {

namespace {

constexpr std::uint32_t ip4(unsigned a, unsigned b, unsigned c, unsigned d) {
  return a << 24 | b << 16 | c << 8 | d;
}

CodeRule code(std::uint32_t from, std::uint32_t to, CodeKind kind, const char* category,
              const char* meaning) {
  return CodeRule{from, to, kind, category, meaning};
}

CodeRule listed(std::uint32_t c, const char* category, const char* meaning) {
  return code(c, c, CodeKind::Listed, category, meaning);
}

std::vector<CodeRule> spamhausIpCodes() {
  return {
      listed(ip4(127, 0, 0, 2), "sbl", "SBL: Spamhaus Block List, a known spam source"),
      listed(ip4(127, 0, 0, 3), "css", "SBL CSS: snowshoe or low-reputation sending"),
      code(ip4(127, 0, 0, 4), ip4(127, 0, 0, 7), CodeKind::Listed, "xbl",
           "XBL: exploited or infected host (CBL)"),
      listed(ip4(127, 0, 0, 9), "drop", "DROP: hijacked or spammer-controlled netblock"),
      listed(ip4(127, 0, 0, 10), "pbl_isp",
             "PBL: the ISP says this range should not send mail directly"),
      listed(ip4(127, 0, 0, 11), "pbl_spamhaus",
             "PBL: Spamhaus lists this range as end-user space"),
      listed(ip4(127, 0, 0, 20), "authbl", "AuthBL: SMTP-auth abuse from this IP"),
      listed(ip4(127, 0, 0, 30), "bcl", "BCL: botnet controller"),
  };
}

std::vector<ZoneProfile> buildTable() {
  std::vector<ZoneProfile> t;
  auto add = [&](ZoneProfile p) { t.push_back(std::move(p)); };

  ZoneProfile zen;
  zen.zone = "zen.spamhaus.org";
  zen.ipv6 = true;
  zen.codes = spamhausIpCodes();
  zen.dqsName = "zen";
  zen.shippedDefault = true;
  zen.note = "SBL+CSS+XBL+PBL; needs a non-forwarding resolver or a DQS key";
  add(zen);
  for (const char* name : {"sbl", "xbl", "pbl", "authbl"}) {
    ZoneProfile p = zen;
    p.zone = std::string(name) + ".spamhaus.org";
    p.dqsName = name;
    p.shippedDefault = false;
    p.note = "a part of ZEN; query ZEN instead of several parts";
    add(p);
  }

  ZoneProfile spamcop;
  spamcop.zone = "bl.spamcop.net";
  spamcop.codes = {listed(ip4(127, 0, 0, 2), "spamcop", "SpamCop: reported as a spam source")};
  spamcop.shippedDefault = true;
  add(spamcop);

  ZoneProfile psbl;
  psbl.zone = "psbl.surriel.com";
  psbl.codes = {listed(ip4(127, 0, 0, 2), "psbl", "PSBL: hit spam traps, no legitimate mail seen")};
  psbl.shippedDefault = true;
  add(psbl);

  ZoneProfile mailspike;
  mailspike.zone = "bl.mailspike.net";
  mailspike.codes = {
      listed(ip4(127, 0, 0, 2), "mailspike", "Mailspike: listed as a spam source"),
      code(ip4(127, 0, 0, 10), ip4(127, 0, 0, 14), CodeKind::Listed, "mailspike_poor",
           "Mailspike: poor reputation"),
  };
  add(mailspike);

  ZoneProfile rep;
  rep.zone = "rep.mailspike.net";
  rep.codes = {
      code(ip4(127, 0, 0, 10), ip4(127, 0, 0, 14), CodeKind::Listed, "mailspike_poor",
           "Mailspike: poor reputation"),
      code(ip4(127, 0, 0, 15), ip4(127, 0, 0, 20), CodeKind::NotListed, "mailspike_good",
           "Mailspike: neutral to excellent reputation (not a listing)"),
  };
  rep.note = "a reputation list: 127.0.0.15-20 are good answers, not listings";
  add(rep);

  ZoneProfile barracuda;
  barracuda.zone = "b.barracudacentral.org";
  barracuda.codes = {listed(ip4(127, 0, 0, 2), "barracuda", "Barracuda BRBL: poor reputation")};
  barracuda.note = "answers only resolvers registered with Barracuda";
  add(barracuda);

  ZoneProfile drone;
  drone.zone = "dnsbl.dronebl.org";
  drone.ipv6 = true;
  struct {
    unsigned c;
    const char* meaning;
  } droneCodes[] = {{3, "IRC drone"},
                    {5, "bottler"},
                    {6, "unknown spambot or drone"},
                    {7, "DDoS drone"},
                    {8, "open SOCKS proxy"},
                    {9, "open HTTP proxy"},
                    {10, "proxy chain"},
                    {11, "web page proxy"},
                    {12, "open DNS resolver"},
                    {13, "brute-force attacker"},
                    {14, "open Wingate proxy"},
                    {15, "compromised router or gateway"},
                    {16, "autorooting worm"},
                    {17, "botnet (automatically determined)"},
                    {18, "DNS/MX type hostname seen on IRC"},
                    {19, "abused VPN service"},
                    {255, "uncategorised"}};
  for (const auto& d : droneCodes)
    drone.codes.push_back(code(ip4(127, 0, 0, d.c), ip4(127, 0, 0, d.c), CodeKind::Listed,
                               "dronebl", (std::string("DroneBL: ") + d.meaning).c_str()));
  add(drone);

  ZoneProfile backscatter;
  backscatter.zone = "ips.backscatterer.org";
  backscatter.codes = {listed(ip4(127, 0, 0, 2), "backscatter",
                              "Backscatterer: sends bounces or auto-replies to forged senders")};
  add(backscatter);

  ZoneProfile dbl;
  dbl.zone = "dbl.spamhaus.org";
  dbl.type = ZoneType::Domain;
  dbl.codes = {
      listed(ip4(127, 0, 1, 2), "dbl_spam", "DBL: low-reputation (spam) domain"),
      listed(ip4(127, 0, 1, 4), "dbl_phish", "DBL: phishing domain"),
      listed(ip4(127, 0, 1, 5), "dbl_malware", "DBL: malware domain"),
      listed(ip4(127, 0, 1, 6), "dbl_botnet", "DBL: botnet C&C domain"),
      listed(ip4(127, 0, 1, 102), "dbl_abused_spam", "DBL: abused legitimate domain (spam)"),
      listed(ip4(127, 0, 1, 103), "dbl_abused_redirector",
             "DBL: abused legitimate domain (redirector or URL shortener)"),
      listed(ip4(127, 0, 1, 104), "dbl_abused_phish", "DBL: abused legitimate domain (phishing)"),
      listed(ip4(127, 0, 1, 105), "dbl_abused_malware", "DBL: abused legitimate domain (malware)"),
      listed(ip4(127, 0, 1, 106), "dbl_abused_botnet",
             "DBL: abused legitimate domain (botnet C&C)"),
      code(ip4(127, 0, 1, 255), ip4(127, 0, 1, 255), CodeKind::Error, "dbl_ip_query",
           "DBL refuses IP queries (127.0.1.255): an IP was queried against a domain list"),
  };
  dbl.dqsName = "dbl";
  dbl.shippedDefault = true;
  add(dbl);

  ZoneProfile zrd;
  zrd.zone = "zrd.spamhaus.org";
  zrd.type = ZoneType::Domain;
  zrd.codes = {code(ip4(127, 0, 2, 2), ip4(127, 0, 2, 24), CodeKind::Listed, "zrd",
                    "ZRD: newly observed domain (first seen within 24 hours)")};
  zrd.dqsName = "zrd";
  zrd.note = "young domains; a fresh sending domain is expected to be here for a day";
  add(zrd);

  ZoneProfile surbl;
  surbl.zone = "multi.surbl.org";
  surbl.type = ZoneType::Domain;
  surbl.codes = {code(ip4(127, 0, 0, 1), ip4(127, 0, 0, 1), CodeKind::Error, "surbl_blocked",
                      "SURBL blocks this resolver (127.0.0.1: access denied)")};
  surbl.bits = {{8, "surbl_ph", "SURBL PH: phishing"},
                {16, "surbl_mw", "SURBL MW: malware"},
                {64, "surbl_abuse", "SURBL ABUSE: spam"},
                {128, "surbl_cr", "SURBL CR: cracked site"}};
  surbl.canaryListed = "test.surbl.org";
  surbl.shippedDefault = true;
  add(surbl);

  ZoneProfile uribl;
  uribl.zone = "multi.uribl.com";
  uribl.type = ZoneType::Domain;
  uribl.codes = {code(ip4(127, 0, 0, 1), ip4(127, 0, 0, 1), CodeKind::Error, "uribl_refused",
                      "URIBL refused the query (127.0.0.1): public or high-volume resolver")};
  uribl.bits = {{2, "uribl_black", "URIBL black: spam domain"},
                {4, "uribl_grey", "URIBL grey: bulk-mail domain"},
                {8, "uribl_red", "URIBL red: young or hidden-owner domain in mail flow"}};
  uribl.canaryListed = "test.uribl.com";
  uribl.shippedDefault = true;
  add(uribl);
  return t;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

}  // namespace

const std::vector<ZoneProfile>& knownZones() {
  static const std::vector<ZoneProfile> table = buildTable();
  return table;
}

const ZoneProfile* findKnownZone(const std::string& zone) {
  std::string z = lower(zone);
  for (const auto& p : knownZones())
    if (p.zone == z) return &p;
  return nullptr;
}

ZoneProfile genericZone(const std::string& zone, ZoneType type) {
  ZoneProfile p;
  p.zone = lower(zone);
  p.type = type;
  p.ipv6 = type == ZoneType::Ip;
  return p;
}

CodeVerdict classifyCode(const ZoneProfile& zone, const std::string& address) {
  in_addr a{};
  if (inet_pton(AF_INET, address.c_str(), &a) != 1)
    return {CodeKind::Error, "not_ipv4", "the answer " + address + " is not an IPv4 address"};
  std::uint32_t v = ntohl(a.s_addr);
  if (v >> 24 != 127)
    return {CodeKind::Error, "outside_127",
            "the answer " + address +
                " is outside 127.0.0.0/8: a resolver that rewrites answers, not the list"};
  if ((v & 0xffffff00u) == ip4(127, 255, 255, 0)) {
    switch (v & 0xff) {
      case 252:
        return {CodeKind::Error, "zone_typo", "127.255.255.252: typo in the DNSBL zone name"};
      case 254:
        return {CodeKind::Error, "public_resolver",
                "127.255.255.254: query came through a public or open resolver"};
      case 255:
        return {CodeKind::Error, "excess_queries",
                "127.255.255.255: excessive number of queries (free-use limit)"};
      default:
        return {CodeKind::Error, "list_error", address + ": error code of the list operator"};
    }
  }
  for (const auto& c : zone.codes)
    if (v >= c.from && v <= c.to) return {c.kind, c.category, c.meaning};
  if (!zone.bits.empty() && (v & 0xffffff00u) == ip4(127, 0, 0, 0)) {
    CodeVerdict out{CodeKind::Listed, "", ""};
    for (const auto& b : zone.bits) {
      if (!(v & b.bit)) continue;
      out.category += (out.category.empty() ? "" : "+") + b.category;
      out.meaning += (out.meaning.empty() ? "" : "; ") + b.meaning;
    }
    if (!out.category.empty()) return out;
  }
  if (v == ip4(127, 0, 0, 1))
    return {CodeKind::Error, "refused",
            "127.0.0.1 is not a listing (RFC 5782 test point for 'not listed'; lists answer it to "
            "refuse a query)"};
  return {CodeKind::Listed, "other", "listed (unrecognised code " + address + ")"};
}

std::string canaryListedName(const ZoneProfile& zone) {
  if (!zone.canaryListed.empty()) return zone.canaryListed;
  return zone.type == ZoneType::Ip ? "2.0.0.127" : "test";
}

std::string canaryCleanName(const ZoneProfile& zone) {
  if (!zone.canaryClean.empty()) return zone.canaryClean;
  return zone.type == ZoneType::Ip ? "1.0.0.127" : "invalid";
}

std::string dqsQueryZone(const ZoneProfile& zone, const std::string& key) {
  if (zone.dqsName.empty() || key.empty()) return "";
  return key + "." + zone.dqsName + ".dq.spamhaus.net";
}

bool validDqsKey(const std::string& key) {
  if (key.size() < 8 || key.size() > 64) return false;
  for (char c : key)
    if (!std::isalnum(static_cast<unsigned char>(c))) return false;
  return true;
}

}  // namespace mxpulse::jobs::dnsbl
