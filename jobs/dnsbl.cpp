// SPDX-License-Identifier: Apache-2.0
#include "jobs/dnsbl.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>

#include "agent/yaml_reader.hpp"
#include "probes/ldns_resolver.hpp"

namespace mxpulse::jobs {

namespace {

using dnsbl::CodeKind;
using dnsbl::ZoneType;
using probes::DnsAnswer;
using probes::DnsStatus;

const MetricDesc kListed{"mxpulse_dnsbl_listed",
                         "Whether the target is listed on the DNSBL zone (1 = listed, 0 = clean).",
                         MetricType::Gauge};
const MetricDesc kUnknown{"mxpulse_dnsbl_unknown",
                          "1 when the DNSBL lookup could not tell listed from clean.",
                          MetricType::Gauge};
const MetricDesc kCodeInfo{"mxpulse_dnsbl_return_code_info",
                           "A return code of a DNSBL listing, with its category.",
                           MetricType::Gauge};
const MetricDesc kZoneHealthy{"mxpulse_dnsbl_zone_healthy",
                              "Whether the DNSBL zone answered its RFC 5782 test points (1 = yes).",
                              MetricType::Gauge};
const MetricDesc kZoneUnknown{"mxpulse_dnsbl_zone_unknown",
                              "1 when the DNSBL zone's test queries failed (resolver error).",
                              MetricType::Gauge};
const MetricDesc kZoneListed{"mxpulse_dnsbl_zone_listed_targets",
                             "Number of our targets listed on the DNSBL zone.", MetricType::Gauge};

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

/// Canonical text of an IP ("" if not one); IPv4-mapped IPv6 becomes IPv4.
std::string canonicalIp(const std::string& text, bool& v6) {
  unsigned char buf[16];
  char out[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, text.c_str(), buf) == 1) {
    v6 = false;
    return inet_ntop(AF_INET, buf, out, sizeof out);
  }
  if (inet_pton(AF_INET6, text.c_str(), buf) != 1) return "";
  static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::equal(mapped, mapped + 12, buf)) {
    v6 = false;
    return inet_ntop(AF_INET, buf + 12, out, sizeof out);
  }
  v6 = true;
  return inet_ntop(AF_INET6, buf, out, sizeof out);
}

bool validDomain(const std::string& d) {
  if (d.empty() || d.size() > 253 || d.find('.') == std::string::npos) return false;
  size_t label = 0;
  for (char c : d) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
    if (++label > 63) return false;
  }
  return label > 0;
}

std::uint32_t ipValue(const std::string& a) {
  in_addr v{};
  return inet_pton(AF_INET, a.c_str(), &v) == 1 ? ntohl(v.s_addr) : 0xffffffffu;
}

/// Never let the DQS key out: not in summaries, facts or logs.
std::string scrub(std::string s, const std::string& key) {
  if (key.empty()) return s;
  std::string l = s;
  for (auto& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (size_t at = l.find(key); at != std::string::npos; at = l.find(key, at + 1)) {
    s.replace(at, key.size(), std::string(key.size(), '*'));
    l.replace(at, key.size(), std::string(key.size(), '*'));
  }
  return s;
}

std::string joinUnique(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  std::set<std::string> seen;
  for (const auto& p : parts) {
    if (p.empty() || !seen.insert(p).second) continue;
    out += (out.empty() ? "" : sep) + p;
  }
  return out;
}

std::string cut(const std::string& s, size_t n) {
  return s.size() <= n ? s : s.substr(0, n) + "...";
}

/// "127.0.0.2" for the default IP test points, else the name under the zone.
std::string testPointLabel(const DnsblZone& z, const std::string& name) {
  if (z.profile.type == ZoneType::Ip && name.size() &&
      std::isdigit(static_cast<unsigned char>(name[0]))) {
    // Reversed octets back to an address for people.
    std::vector<std::string> parts;
    size_t start = 0;
    while (start <= name.size()) {
      size_t dot = name.find('.', start);
      if (dot == std::string::npos) dot = name.size();
      parts.push_back(name.substr(start, dot - start));
      start = dot + 1;
    }
    if (parts.size() == 4) return parts[3] + "." + parts[2] + "." + parts[1] + "." + parts[0];
  }
  return name + "." + z.profile.zone;
}

std::string statusText(const DnsAnswer& a) {
  std::string s = probes::dnsStatusName(a.status);
  if (!a.error.empty()) s += " (" + a.error + ")";
  return s;
}

Status severityFor(const DnsblZone& z, const std::string& code, const std::string& category) {
  auto it = z.codeSeverity.find(code);
  if (it != z.codeSeverity.end()) return it->second;
  // A bitmask answer may carry several categories ("surbl_ph+surbl_mw").
  std::optional<Status> found;
  size_t start = 0;
  while (start <= category.size()) {
    size_t plus = category.find('+', start);
    if (plus == std::string::npos) plus = category.size();
    auto c = z.codeSeverity.find(category.substr(start, plus - start));
    if (c != z.codeSeverity.end()) found = found ? worse(*found, c->second) : c->second;
    start = plus + 1;
  }
  return found ? *found : z.severity;
}

std::optional<Status> parseSeverity(MapReader& r, const YAML::Node& n, const std::string& path) {
  std::string v = n.IsScalar() ? n.Scalar() : "";
  if (v == "critical") return Status::Critical;
  if (v == "warning") return Status::Warning;
  r.errors().add(n, path, "must be 'critical' or 'warning'");
  return std::nullopt;
}

/// Categories and codes a zone's `code_severity` may name.
bool knownCodeKey(const dnsbl::ZoneProfile& p, const std::string& key) {
  in_addr a{};
  if (inet_pton(AF_INET, key.c_str(), &a) == 1) return (ntohl(a.s_addr) >> 24) == 127;
  if (key == "other") return true;
  for (const auto& c : p.codes)
    if (c.category == key) return true;
  for (const auto& b : p.bits)
    if (b.category == key) return true;
  return false;
}

std::string categoryList(const dnsbl::ZoneProfile& p) {
  std::vector<std::string> names;
  for (const auto& c : p.codes)
    if (c.kind == CodeKind::Listed) names.push_back(c.category);
  for (const auto& b : p.bits) names.push_back(b.category);
  names.push_back("other");
  return joinUnique(names, ", ");
}

std::optional<DnsblZone> parseZone(MapReader& parent, const YAML::Node& n,
                                   const std::string& path) {
  ConfigErrors& errors = parent.errors();
  DnsblZone z;
  if (n.IsScalar()) {
    const dnsbl::ZoneProfile* known = dnsbl::findKnownZone(n.Scalar());
    z.profile = known ? *known : dnsbl::genericZone(n.Scalar(), ZoneType::Ip);
  } else {
    MapReader r(n, path, errors);
    if (!r.ok()) return std::nullopt;
    std::string name = lower(r.optString("zone", true).value_or(""));
    const dnsbl::ZoneProfile* known = dnsbl::findKnownZone(name);
    auto type = r.optString("type");
    ZoneType t = known ? known->type : ZoneType::Ip;
    if (type) {
      if (*type == "ip")
        t = ZoneType::Ip;
      else if (*type == "domain")
        t = ZoneType::Domain;
      else
        errors.add(r.node("type"), r.childPath("type"), "must be 'ip' or 'domain'");
    }
    z.profile = known && known->type == t ? *known : dnsbl::genericZone(name, t);
    z.profile.ipv6 = r.boolean("ipv6", z.profile.ipv6);
    if (r.has("severity"))
      z.severity =
          parseSeverity(r, r.node("severity"), r.childPath("severity")).value_or(z.severity);
    YAML::Node codes = r.node("code_severity");
    if (codes.IsDefined() && !codes.IsNull()) {
      if (!codes.IsMap()) {
        errors.add(codes, r.childPath("code_severity"),
                   "must map a code or category to a severity");
      } else {
        for (const auto& kv : codes) {
          std::string key = kv.first.Scalar();
          std::string p = r.childPath("code_severity") + "." + key;
          if (!knownCodeKey(z.profile, key)) {
            errors.add(kv.first, p,
                       "is neither a 127.x.x.x code nor a category of " + z.profile.zone + " (" +
                           categoryList(z.profile) + ")");
            continue;
          }
          if (auto s = parseSeverity(r, kv.second, p)) z.codeSeverity[key] = *s;
        }
      }
    }
    if (auto rate = r.optNumber("rate_limit", 0, 100000)) z.rateLimit = *rate;
    z.canary = r.boolean("canary", true);
    z.profile.canaryListed = lower(r.str("canary_listed", z.profile.canaryListed));
    z.profile.canaryClean = lower(r.str("canary_clean", z.profile.canaryClean));
    if (!r.boolean("dqs", true)) z.profile.dqsName.clear();
    r.finish();
  }
  if (!validDomain(z.profile.zone)) {
    errors.add(n, path, "'" + z.profile.zone + "' is not a DNS zone name");
    return std::nullopt;
  }
  return z;
}

}  // namespace

std::optional<DnsblParams> parseDnsblParams(MapReader& r, const JobBuildEnv& env) {
  DnsblParams p;
  size_t before = r.errors().size();
  p.inventories = r.strings("inventories");
  for (const auto& name : p.inventories) {
    auto it = env.inventories.find(name);
    if (it == env.inventories.end()) {
      r.errors().add(r.node("inventories"), r.childPath("inventories"),
                     "inventory '" + name + "' is not declared");
    } else if (it->second == InventoryKind::Endpoints) {
      r.errors().add(r.node("inventories"), r.childPath("inventories"),
                     "inventory '" + name + "' holds endpoints, not IPs or domains");
    }
  }
  for (const auto& ip : r.strings("ips")) {
    bool v6;
    std::string c = canonicalIp(ip, v6);
    if (c.empty())
      r.errors().add(r.node("ips"), r.childPath("ips"), "'" + ip + "' is not an IP address");
    else
      p.ips.push_back(c);
  }
  for (const auto& d : r.strings("domains")) {
    std::string c = lower(d);
    if (!validDomain(c))
      r.errors().add(r.node("domains"), r.childPath("domains"), "'" + d + "' is not a domain name");
    else
      p.domains.push_back(c);
  }
  p.checkIps = r.boolean("check_ips", true);
  p.checkDomains = r.boolean("check_domains", true);

  YAML::Node zones = r.node("zones");
  if (!zones.IsDefined() || zones.IsNull()) {
    for (const auto& known : dnsbl::knownZones())
      if (known.shippedDefault)
        p.zones.push_back(DnsblZone{known, known.zone, Status::Critical, {}, {}, true});
  } else if (!zones.IsSequence()) {
    r.errors().add(zones, r.childPath("zones"), "must be a list of zones");
  } else {
    std::set<std::string> seen;
    for (size_t i = 0; i < zones.size(); ++i) {
      std::string path = indexPath(r.childPath("zones"), i);
      auto z = parseZone(r, zones[i], path);
      if (!z) continue;
      if (!seen.insert(z->profile.zone).second) {
        r.errors().add(zones[i], path, "zone '" + z->profile.zone + "' is listed twice");
        continue;
      }
      p.zones.push_back(std::move(*z));
    }
    if (zones.size() == 0) r.errors().add(zones, r.childPath("zones"), "no zones to check");
  }

  p.resolvers = r.strings("resolvers");
  bool own = !p.resolvers.empty();
  if (!own) p.resolvers = env.resolvers;
  for (const auto& s : p.resolvers) {
    std::string why = probes::checkResolverAddress(s);
    if (!why.empty())
      r.errors().add(own ? r.node("resolvers") : r.self(),
                     own ? r.childPath("resolvers") : r.path(),
                     (own ? "" : "dns.resolvers: ") + why + " (DNS jobs need IP addresses)");
  }
  p.attemptTimeout = r.duration("attempt_timeout", p.attemptTimeout);
  p.attempts = static_cast<int>(r.integer("attempts", p.attempts, 1, 10));
  p.rateLimit = r.number("rate_limit", p.rateLimit, 0, 100000);
  p.maxInFlight = static_cast<size_t>(r.integer("max_in_flight", 256, 1, 4096));
  p.fetchReason = r.boolean("fetch_reason", p.fetchReason);

  auto key = r.secret("dqs_key", false, env.resolveSecrets);
  if (key) {
    p.dqsKey = lower(*key);
    // Shape-only validation has no key: a placeholder keeps the zones right.
    if (p.dqsKey.empty()) p.dqsKey = "placeholderdqskeyxxxxxxxxx";
    if (!dnsbl::validDqsKey(p.dqsKey))
      r.errors().add(r.has("dqs_key") ? r.node("dqs_key") : r.node("dqs_key_file"),
                     r.childPath("dqs_key"), "a Spamhaus DQS key is 8-64 letters and digits");
  }
  for (auto& z : p.zones) {
    std::string dqs = dnsbl::dqsQueryZone(z.profile, p.dqsKey);
    z.queryZone = dqs.empty() ? z.profile.zone : dqs;
  }
  if (p.ips.empty() && p.domains.empty() && p.inventories.empty())
    r.errors().add(r.self(), r.path(), "nothing to check: give ips, domains or inventories");
  if (r.errors().size() != before) return std::nullopt;
  return p;
}

std::vector<DnsblTarget> collectDnsblTargets(
    const DnsblParams& params, const std::vector<const InventorySnapshot*>& inventories) {
  std::vector<DnsblTarget> out;
  std::set<std::string> seen;
  auto addIp = [&](const std::string& text) {
    if (!params.checkIps) return;
    bool v6 = false;
    std::string c = canonicalIp(text, v6);
    if (!c.empty() && seen.insert(c).second) out.push_back(DnsblTarget{c, true, v6});
  };
  auto addDomain = [&](const std::string& text) {
    if (!params.checkDomains) return;
    std::string d = lower(text);
    if (validDomain(d) && seen.insert(d).second) out.push_back(DnsblTarget{d, false, false});
  };
  for (const auto& ip : params.ips) addIp(ip);
  for (const auto& d : params.domains) addDomain(d);
  for (const auto* inv : inventories) {
    if (!inv) continue;
    for (const auto& item : inv->items) {
      switch (inv->kind) {
        case InventoryKind::Ips:
        case InventoryKind::DeliveryServers:
          for (const auto& ip : item.all("ip")) addIp(ip);
          break;
        case InventoryKind::Domains:
          addDomain(item.first("domain"));
          for (const auto& ip : item.all("ips")) addIp(ip);
          break;
        case InventoryKind::Endpoints:
          break;
      }
    }
  }
  return out;
}

bool dnsblApplies(const DnsblTarget& target, const DnsblZone& zone) {
  if (!target.isIp) return zone.profile.type == ZoneType::Domain;
  return zone.profile.type == ZoneType::Ip && (!target.v6 || zone.profile.ipv6);
}

std::string dnsblQueryName(const DnsblTarget& target, const DnsblZone& zone) {
  return target.isIp ? probes::reverseName(target.value, zone.queryZone)
                     : target.value + "." + zone.queryZone;
}

ZoneHealth assessDnsblZone(const DnsblZone& zone, const DnsblZoneObservation& obs) {
  const std::string listedLabel = testPointLabel(zone, dnsbl::canaryListedName(zone.profile));
  const std::string cleanLabel = testPointLabel(zone, dnsbl::canaryCleanName(zone.profile));
  ZoneHealth h;
  if (!obs.queried) {
    h.cause = "resolver_error";
    h.reason = "test points not queried";
    return h;
  }
  // 1. Error codes on either test point say who refuses us.
  for (const auto* probe : {&obs.listedProbe, &obs.cleanProbe}) {
    if (probe->status != DnsStatus::Ok) continue;
    const std::string& label = probe == &obs.listedProbe ? listedLabel : cleanLabel;
    for (const auto& addr : probe->addresses) {
      auto v = dnsbl::classifyCode(zone.profile, addr);
      if (v.kind != CodeKind::Error) continue;
      h.state = ZoneHealthState::Unhealthy;
      if (v.category == "outside_127" || v.category == "not_ipv4")
        h.cause = "rewriting";
      else if (v.category == "public_resolver" || v.category == "refused" ||
               v.category == "uribl_refused" || v.category == "surbl_blocked" ||
               v.category == "excess_queries")
        h.cause = "public_resolver";
      else
        h.cause = "list_error";
      h.reason = "test point " + label + " answered " + v.meaning;
      return h;
    }
  }
  // 2. The "not listed" test point is listed: the zone answers everything.
  if (obs.cleanProbe.status == DnsStatus::Ok) {
    h.state = ZoneHealthState::Unhealthy;
    h.cause = "wildcard";
    h.reason = cleanLabel + " is listed (" + joinUnique(obs.cleanProbe.addresses, ", ") +
               "): wildcard answers, a dead list or a resolver that invents answers";
    return h;
  }
  // 3. The "listed" test point is not listed: silent NXDOMAIN.
  if (obs.listedProbe.status == DnsStatus::NxDomain ||
      obs.listedProbe.status == DnsStatus::NoData) {
    h.state = ZoneHealthState::Unhealthy;
    h.cause = "dead_list";
    h.reason = "test point " + listedLabel +
               " is not listed: a dead list, or a public resolver that hides listings";
    return h;
  }
  if (obs.listedProbe.status == DnsStatus::Ok) {
    bool anyListed = false;
    for (const auto& addr : obs.listedProbe.addresses)
      anyListed = anyListed || dnsbl::classifyCode(zone.profile, addr).kind == CodeKind::Listed;
    if (!anyListed) {
      h.state = ZoneHealthState::Unhealthy;
      h.cause = "dead_list";
      h.reason = "test point " + listedLabel + " answered " +
                 joinUnique(obs.listedProbe.addresses, ", ") + ", which is not a listing";
      return h;
    }
  }
  // 4. The test queries themselves failed: could not tell.
  for (const auto* probe : {&obs.listedProbe, &obs.cleanProbe}) {
    if (!probes::isTemporaryFailure(probe->status)) continue;
    h.state = ZoneHealthState::Unknown;
    h.cause = "resolver_error";
    h.reason = "test query for " + (probe == &obs.listedProbe ? listedLabel : cleanLabel) +
               " failed: " + statusText(*probe);
    return h;
  }
  h.state = ZoneHealthState::Healthy;
  h.reason = listedLabel + " listed (" + joinUnique(obs.listedProbe.addresses, ", ") + "), " +
             cleanLabel + " not listed";
  return h;
}

DnsblOutcome classifyDnsblAnswer(const DnsblZone& zone, const DnsAnswer& answer) {
  DnsblOutcome o;
  if (answer.status == DnsStatus::NxDomain || answer.status == DnsStatus::NoData) {
    o.kind = DnsblOutcome::Clean;
    o.status = Status::Ok;
    return o;
  }
  if (answer.status != DnsStatus::Ok) {
    o.error = "resolver error: " + statusText(answer);
    return o;
  }
  o.codes = answer.addresses;
  std::sort(o.codes.begin(), o.codes.end(),
            [](const std::string& a, const std::string& b) { return ipValue(a) < ipValue(b); });
  std::vector<std::string> categories, meanings, notListed;
  bool worstSet = false;
  for (const auto& c : o.codes) {
    auto v = dnsbl::classifyCode(zone.profile, c);
    if (v.kind == CodeKind::Error) {
      // Spamhaus: error codes must never count as listings, even next to one.
      DnsblOutcome unknown;
      unknown.codes = o.codes;
      unknown.code = c;
      unknown.category = v.category;
      unknown.error = v.meaning;
      return unknown;
    }
    if (v.kind == CodeKind::NotListed) {
      notListed.push_back(v.meaning);
      continue;
    }
    categories.push_back(v.category);
    meanings.push_back(v.meaning + " (" + c + ")");
    Status s = severityFor(zone, c, v.category);
    if (!worstSet || worse(s, o.status) != o.status) {
      o.status = s;
      o.code = c;
      worstSet = true;
    }
  }
  if (worstSet) {
    o.kind = DnsblOutcome::Listed;
    o.category = joinUnique(categories, "+");
    o.meaning = joinUnique(meanings, "; ");
    return o;
  }
  o.kind = DnsblOutcome::Clean;
  o.status = Status::Ok;
  o.meaning = joinUnique(notListed, "; ");
  return o;
}

JobOutput evaluateDnsbl(const DnsblParams& params, const DnsblObservations& obs,
                        std::chrono::system_clock::time_point now) {
  (void)now;  // listings carry no clock logic; the store keeps the times
  JobOutput out;
  const std::string& key = params.dqsKey;
  // (target, zone) -> lookup, as a flat table: a map would cost a node per pair.
  const size_t nz = params.zones.size();
  std::vector<const DnsblLookup*> byPair(obs.targets.size() * nz, nullptr);
  for (const auto& l : obs.lookups)
    if (l.target < obs.targets.size() && l.zone < nz) byPair[l.target * nz + l.zone] = &l;

  for (size_t zi = 0; zi < params.zones.size(); ++zi) {
    const DnsblZone& zone = params.zones[zi];
    const std::string& zname = zone.profile.zone;
    ZoneHealth health;
    if (!zone.canary) {
      health.state = ZoneHealthState::Healthy;
      health.reason = "test points not checked (canary: false)";
    } else {
      DnsblZoneObservation none;
      health = assessDnsblZone(zone, zi < obs.zones.size() ? obs.zones[zi] : none);
      if (!obs.stopped.empty() && (zi >= obs.zones.size() || !obs.zones[zi].queried))
        health.reason = "test points not queried: " + obs.stopped;
    }
    health.reason = scrub(health.reason, key);
    {
      Status s = health.state == ZoneHealthState::Healthy     ? Status::Ok
                 : health.state == ZoneHealthState::Unhealthy ? Status::Warning
                                                              : Status::Unknown;
      std::string summary =
          health.state == ZoneHealthState::Healthy
              ? zname + " is healthy: " + health.reason
              : zname +
                    (health.state == ZoneHealthState::Unhealthy ? " is unhealthy: "
                                                                : " could not be checked: ") +
                    health.reason + "; its results this run are unknown";
      CheckResult r("dnsbl_zone", zname, s, summary);
      r.facts.set("zone", zname);
      r.facts.set("healthy", health.state == ZoneHealthState::Unknown
                                 ? Json()
                                 : Json(health.state == ZoneHealthState::Healthy));
      r.facts.set("type", zone.profile.type == ZoneType::Ip ? "ip" : "domain");
      if (!health.cause.empty()) r.facts.set("cause", health.cause);
      r.facts.set("reason", health.reason);
      r.facts.set("dqs", zone.queryZone != zname);
      out.results.push_back(std::move(r));
      if (health.state == ZoneHealthState::Unknown)
        out.samples.emplace_back(kZoneUnknown, Labels{{"zone", zname}}, 1);
      else
        out.samples.emplace_back(kZoneHealthy, Labels{{"zone", zname}},
                                 health.state == ZoneHealthState::Healthy ? 1 : 0);
    }

    long long listedCount = 0;
    for (size_t ti = 0; ti < obs.targets.size(); ++ti) {
      const DnsblTarget& t = obs.targets[ti];
      if (!dnsblApplies(t, zone)) continue;
      CheckResult r("dnsbl", t.value + " " + zname, Status::Unknown, "");
      Labels labels{{"target", t.value}, {"zone", zname}};
      DnsblOutcome o;
      const DnsblLookup* found = byPair[ti * nz + zi];
      if (health.state != ZoneHealthState::Healthy) {
        o.error = "zone " + zname + " failed its test points: " + health.reason;
      } else if (!found) {
        o.error = "not queried: " + (obs.stopped.empty() ? std::string("no lookup") : obs.stopped);
      } else {
        o = classifyDnsblAnswer(zone, found->a);
      }
      o.error = scrub(o.error, key);
      r.status = o.status;
      std::string reason;
      if (o.kind == DnsblOutcome::Listed && found && found->txt &&
          found->txt->status == DnsStatus::Ok)
        reason = scrub(cut(joinUnique(found->txt->txt, " | "), 1000), key);
      // Facts built at their exact size: a sweep holds thousands of them.
      // listed, zone, ip/domain and code are always there (null when not
      // known); the rest only when they say something.
      Json::Object facts;
      facts.reserve(4 + !o.codes.empty() + !o.meaning.empty() + !o.category.empty() +
                    !reason.empty() + !o.error.empty());
      facts.emplace_back("listed", o.kind == DnsblOutcome::Unknown
                                       ? Json()
                                       : Json(o.kind == DnsblOutcome::Listed));
      facts.emplace_back("zone", zname);
      facts.emplace_back(t.isIp ? "ip" : "domain", t.value);
      facts.emplace_back("code", o.code.empty() ? Json() : Json(o.code));
      if (!o.codes.empty()) {
        Json::Array codes(o.codes.begin(), o.codes.end());
        facts.emplace_back("codes", Json(std::move(codes)));
      }
      if (!o.meaning.empty()) facts.emplace_back("meaning", o.meaning);
      if (!o.category.empty()) facts.emplace_back("category", o.category);
      if (!reason.empty()) facts.emplace_back("reason", reason);
      if (!o.error.empty()) facts.emplace_back("error", o.error);
      r.facts = Json(std::move(facts));
      switch (o.kind) {
        case DnsblOutcome::Listed:
          ++listedCount;
          r.summary = t.value + " is listed on " + zname + ": " + o.meaning +
                      (reason.empty() ? "" : "; reason: " + cut(reason, 200));
          out.samples.emplace_back(kListed, labels, 1);
          for (const auto& c : o.codes) {
            auto v = dnsbl::classifyCode(zone.profile, c);
            if (v.kind != CodeKind::Listed) continue;
            out.samples.emplace_back(
                kCodeInfo,
                Labels{{"target", t.value}, {"zone", zname}, {"code", c}, {"category", v.category}},
                1);
          }
          break;
        case DnsblOutcome::Clean:
          r.summary = t.value + " is not listed on " + zname +
                      (o.meaning.empty() ? "" : " (" + o.meaning + ")");
          out.samples.emplace_back(kListed, labels, 0);
          break;
        case DnsblOutcome::Unknown:
          r.summary = t.value + " on " + zname + ": could not tell: " + o.error;
          out.samples.emplace_back(kUnknown, labels, 1);
          break;
      }
      out.results.push_back(std::move(r));
    }
    if (health.state == ZoneHealthState::Healthy)
      out.samples.emplace_back(kZoneListed, Labels{{"zone", zname}},
                               static_cast<double>(listedCount));
  }
  return out;
}

namespace {

/// Everything the resolver's callbacks touch, shared so that a callback
/// arriving after observeDnsbl() gave up finds live memory.
struct SweepState {
  std::mutex m;
  std::condition_variable cv;
  size_t pending = 0;
  bool closed = false;
  DnsblObservations obs;
};

/// Waits until nothing is pending, the deadline passes or a stop is asked.
bool waitIdle(SweepState& s, Deadline deadline, const std::function<bool()>& stopRequested,
              std::string& why) {
  std::unique_lock<std::mutex> lock(s.m);
  while (s.pending > 0) {
    if (deadline.expired()) {
      why = "the run's deadline passed";
      return false;
    }
    if (stopRequested && stopRequested()) {
      why = "the agent is stopping";
      return false;
    }
    s.cv.wait_for(lock, std::min<Deadline::Clock::duration>(deadline.remaining(),
                                                            std::chrono::milliseconds(100)));
  }
  return true;
}

}  // namespace

DnsblObservations observeDnsbl(const DnsblParams& params, std::vector<DnsblTarget> targets,
                               probes::DnsResolver& resolver, Deadline deadline,
                               const std::function<bool()>& stopRequested) {
  auto state = std::make_shared<SweepState>();
  state->obs.targets = std::move(targets);
  state->obs.zones.resize(params.zones.size());
  // Leave a little of the run's time for evaluating and storing.
  auto margin =
      std::min<Deadline::Clock::duration>(std::chrono::seconds(1), deadline.remaining() / 10);
  Deadline queryDeadline(deadline.at() - margin);
  // The resolver answers every query by queryDeadline; waiting a little
  // longer collects those answers (with their reasons) instead of racing them.
  Deadline waitDeadline(queryDeadline.at() + margin / 2);
  std::string why;

  // Phase 1: every zone's test points, all at once.
  for (size_t zi = 0; zi < params.zones.size(); ++zi) {
    const DnsblZone& z = params.zones[zi];
    if (!z.canary) continue;
    {
      std::lock_guard<std::mutex> lock(state->m);
      state->obs.zones[zi].queried = true;
      state->pending += 2;
    }
    for (int which = 0; which < 2; ++which) {
      std::string name =
          (which == 0 ? dnsbl::canaryListedName(z.profile) : dnsbl::canaryCleanName(z.profile)) +
          "." + z.queryZone;
      resolver.query(
          name, probes::RrType::A, queryDeadline, [state, zi, which](const DnsAnswer& a) {
            std::lock_guard<std::mutex> lock(state->m);
            if (state->closed) return;
            (which == 0 ? state->obs.zones[zi].listedProbe : state->obs.zones[zi].cleanProbe) = a;
            if (--state->pending == 0) state->cv.notify_all();
          });
    }
  }
  bool complete = waitIdle(*state, waitDeadline, stopRequested, why);

  // Phase 2: every target on every healthy zone; TXT for listings.
  if (complete) {
    std::vector<bool> healthy(params.zones.size(), true);
    for (size_t zi = 0; zi < params.zones.size(); ++zi) {
      if (!params.zones[zi].canary) continue;
      std::lock_guard<std::mutex> lock(state->m);
      // Do not hammer a zone that failed its test points.
      healthy[zi] =
          assessDnsblZone(params.zones[zi], state->obs.zones[zi]).state == ZoneHealthState::Healthy;
    }
    // Target-major order interleaves the zones, so that with per-zone rate
    // limits every zone's queue stays busy.
    std::vector<std::pair<size_t, size_t>> pairs;
    for (size_t ti = 0; ti < state->obs.targets.size(); ++ti)
      for (size_t zi = 0; zi < params.zones.size(); ++zi)
        if (healthy[zi] && dnsblApplies(state->obs.targets[ti], params.zones[zi]))
          pairs.emplace_back(ti, zi);
    {
      std::lock_guard<std::mutex> lock(state->m);
      state->obs.lookups.resize(pairs.size());
      for (size_t i = 0; i < pairs.size(); ++i) {
        state->obs.lookups[i].target = pairs[i].first;
        state->obs.lookups[i].zone = pairs[i].second;
      }
    }
    // At most `window` lookups are handed to the resolver at a time: memory
    // stays bounded by the window, not by targets x zones.
    const size_t window = std::max<size_t>(64, params.maxInFlight * 2);
    const size_t lowWater = window / 2;
    const bool fetchReason = params.fetchReason;
    auto done = [state, lowWater] {
      // Called with the lock held.
      --state->pending;
      if (state->pending == 0 || state->pending == lowWater) state->cv.notify_all();
    };
    size_t next = 0;
    while (next < pairs.size()) {
      size_t take;
      {
        std::unique_lock<std::mutex> lock(state->m);
        while (state->pending > lowWater && !queryDeadline.expired() &&
               !(stopRequested && stopRequested()))
          state->cv.wait_for(lock, std::chrono::milliseconds(100));
        if (queryDeadline.expired() || (stopRequested && stopRequested())) break;
        take = std::min(window - state->pending, pairs.size() - next);
        state->pending += take;
      }
      for (size_t end = next + take; next < end; ++next) {
        size_t i = next;
        const DnsblZone& z = params.zones[pairs[i].second];
        const DnsblTarget& t = state->obs.targets[pairs[i].first];
        resolver.query(
            dnsblQueryName(t, z), probes::RrType::A, queryDeadline,
            [state, i, &z, &t, &resolver, fetchReason, queryDeadline, done](const DnsAnswer& a) {
              std::string txtName;  // set when the listing's reason is wanted
              {
                std::lock_guard<std::mutex> lock(state->m);
                if (state->closed) return;
                DnsblLookup& l = state->obs.lookups[i];
                l.a = a;
                if (fetchReason && classifyDnsblAnswer(z, a).kind == DnsblOutcome::Listed) {
                  l.txtQueried = true;
                  ++state->pending;
                  txtName = dnsblQueryName(t, z);
                }
                done();
              }
              // Outside the lock: a resolver may answer synchronously.
              if (!txtName.empty())
                resolver.query(txtName, probes::RrType::TXT, queryDeadline,
                               [state, i, done](const DnsAnswer& txt) {
                                 std::lock_guard<std::mutex> lock(state->m);
                                 if (state->closed) return;
                                 state->obs.lookups[i].txt = std::make_shared<const DnsAnswer>(txt);
                                 done();
                               });
            });
      }
    }
    if (next < pairs.size()) {
      why = queryDeadline.expired() ? "the run's deadline passed" : "the agent is stopping";
      complete = false;
    } else {
      complete = waitIdle(*state, waitDeadline, stopRequested, why);
    }
  }

  std::lock_guard<std::mutex> lock(state->m);
  state->closed = true;
  DnsblObservations out = std::move(state->obs);
  if (!complete) {
    out.stopped = why;
    // Lookups without an answer yet stay at DnsAnswer's default: Timeout.
    for (auto& l : out.lookups)
      if (l.a.status == DnsStatus::Timeout && l.a.error.empty()) l.a.error = why;
  }
  return out;
}

namespace {

class DnsblJob : public Job {
 public:
  explicit DnsblJob(DnsblParams p) : params_(std::move(p)) {}

  JobOutput run(JobContext& ctx) override {
    std::vector<const InventorySnapshot*> snaps;
    for (const auto& name : params_.inventories) snaps.push_back(ctx.inventory(name));
    auto targets = collectDnsblTargets(params_, snaps);
    auto resolver = probes::makeDnsResolver(resolverOptions());
    DnsblObservations obs = observeDnsbl(params_, std::move(targets), *resolver, ctx.deadline(),
                                         [&ctx] { return ctx.stopRequested(); });
    resolver.reset();  // joins the I/O thread: no callback runs after this
    return evaluateDnsbl(params_, obs, ctx.now());
  }

  std::vector<std::string> inventories() const override { return params_.inventories; }

  std::vector<std::string> plannedTargets(const JobContext& ctx) const override {
    std::vector<const InventorySnapshot*> snaps;
    for (const auto& name : params_.inventories) snaps.push_back(ctx.inventory(name));
    auto targets = collectDnsblTargets(params_, snaps);
    std::vector<std::string> out;
    for (const auto& z : params_.zones) {
      out.push_back("dnsbl_zone " + z.profile.zone);
      for (const auto& t : targets)
        if (dnsblApplies(t, z)) out.push_back("dnsbl " + t.value + " " + z.profile.zone);
    }
    return out;
  }

 private:
  probes::DnsResolverOptions resolverOptions() const {
    probes::DnsResolverOptions o;
    o.servers = params_.resolvers;
    o.attemptTimeout = params_.attemptTimeout;
    o.attempts = params_.attempts;
    o.maxInFlight = params_.maxInFlight;
    // Every (target, zone) name is asked once per run: a cache would only
    // hold memory. Identical questions in flight are still shared.
    o.cache = false;
    o.ratePerZone = params_.rateLimit;
    for (const auto& z : params_.zones) {
      if (z.rateLimit)
        o.zoneRates[z.queryZone] = *z.rateLimit;
      else
        o.rateLimitedZones.push_back(z.queryZone);
    }
    return o;
  }

  DnsblParams params_;
};

}  // namespace

JobKind dnsblKind() {
  return JobKind{"dnsbl",
                 "sending IPs and domains on DNS blocklists (RFC 5782), with zone canaries",
                 [](MapReader& params, const JobBuildEnv& env) -> std::unique_ptr<Job> {
                   auto p = parseDnsblParams(params, env);
                   if (!p) return nullptr;
                   return std::make_unique<DnsblJob>(std::move(*p));
                 }};
}

AdHocCheck dnsblAdHocCheck() {
  return AdHocCheck{
      "dnsbl",
      "dnsbl",
      "dnsbl TARGET... [--zone ZONE]... [--domain-zone ZONE]... [--resolver HOST:PORT]... "
      "[--rate QPS] [--dqs-key-file PATH] [--timeout 30s]",
      {},
      [](const AdHocArgs& args, YAML::Node& params, std::string& error) {
        static const std::set<std::string> flags = {"zone", "domain-zone",  "resolver",
                                                    "rate", "dqs-key-file", "timeout"};
        for (const auto& [flag, values] : args.options) {
          if (!flags.count(flag)) {
            error = "unknown option --" + flag;
            return false;
          }
        }
        if (args.positional.empty()) {
          error = "give an IP address or a domain to check";
          return false;
        }
        for (const auto& t : args.positional) {
          bool v6;
          params[canonicalIp(t, v6).empty() ? "domains" : "ips"].push_back(t);
        }
        // Known zones carry their type; other zones are IP zones unless
        // given with --domain-zone.
        for (const auto& z : args.all("zone")) params["zones"].push_back(z);
        for (const auto& z : args.all("domain-zone")) {
          YAML::Node zone;
          zone["zone"] = z;
          zone["type"] = "domain";
          params["zones"].push_back(zone);
        }
        for (const auto& r : args.all("resolver")) params["resolvers"].push_back(r);
        if (args.has("rate")) params["rate_limit"] = args.get("rate");
        if (args.has("dqs-key-file")) params["dqs_key_file"] = args.get("dqs-key-file");
        return true;
      }};
}

}  // namespace mxpulse::jobs
