// SPDX-License-Identifier: Apache-2.0
// dnsbl: params (zones, targets, resolvers, DQS key), the targets of a run
// and the ad hoc `mxpulse check dnsbl`.
#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "agent/yaml_reader.hpp"
#include "jobs/dnsbl.hpp"
#include "probes/ldns_resolver.hpp"

namespace mxpulse::jobs {

namespace {

using dnsbl::CodeKind;
using dnsbl::ZoneType;
using probes::DnsAnswer;
using probes::DnsStatus;

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
  std::set<std::string> seen;
  std::string out;
  auto add = [&](const std::string& c) {
    if (seen.insert(c).second) out += (out.empty() ? "" : ", ") + c;
  };
  for (const auto& c : p.codes)
    if (c.kind == CodeKind::Listed) add(c.category);
  for (const auto& b : p.bits) add(b.category);
  add("other");
  return out;
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
