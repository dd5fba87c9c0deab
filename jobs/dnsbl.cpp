// SPDX-License-Identifier: Apache-2.0
// dnsbl: zone health, the three outcomes, results and metrics (pure), and
// the job kind. Params are in dnsbl_params.cpp, the sweep in dnsbl_sweep.cpp.
#include "jobs/dnsbl.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <set>

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

}  // namespace

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

}  // namespace mxpulse::jobs
