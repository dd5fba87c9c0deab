// SPDX-License-Identifier: Apache-2.0
// dns_auth params, the run's target list and the resolver choice.
#include <arpa/inet.h>

#include <fstream>
#include <sstream>

#include "agent/yaml_reader.hpp"
#include "jobs/dns_auth.hpp"
#include "probes/ldns_resolver.hpp"

namespace mxpulse::jobs {

namespace {

const std::set<std::string> kChecks = {"spf", "dkim", "dmarc", "mx", "ptr", "mta_sts", "tls_rpt"};

bool isIp(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

std::string normDomain(std::string d) {
  for (auto& c : d)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  if (!d.empty() && d.back() == '.') d.pop_back();
  return d;
}

bool plausibleDomain(const std::string& d) {
  if (d.empty() || d.size() > 253 || d.find('.') == std::string::npos || isIp(d)) return false;
  for (char c : d)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_'))
      return false;
  return d.find("..") == std::string::npos && d.front() != '.';
}

void checkIps(MapReader& r, const std::string& key, const std::vector<std::string>& ips) {
  for (const auto& ip : ips)
    if (!isIp(ip))
      r.errors().add(r.node(key), r.childPath(key), "'" + ip + "' is not an IP address");
}

void parseDomains(MapReader& r, DnsAuthParams& p) {
  YAML::Node list = r.node("domains");
  if (!list.IsDefined() || list.IsNull()) return;
  if (!list.IsSequence()) {
    r.errors().add(list, r.childPath("domains"), "must be a list of domains");
    return;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    std::string path = indexPath(r.childPath("domains"), i);
    DnsAuthDomain d;
    if (list[i].IsScalar()) {
      d.domain = list[i].Scalar();
    } else {
      MapReader m(list[i], path, r.errors());
      if (!m.ok()) continue;
      d.domain = m.optString("domain", true).value_or("");
      d.selectors = m.strings("dkim_selectors");
      d.ips = m.strings("ips");
      d.helo = normDomain(m.str("helo", ""));
      checkIps(m, "ips", d.ips);
      m.finish();
    }
    d.domain = normDomain(d.domain);
    if (!plausibleDomain(d.domain))
      r.errors().add(list[i], path, "'" + d.domain + "' is not a domain name");
    p.domains.push_back(d);
  }
}

void parseIps(MapReader& r, DnsAuthParams& p) {
  YAML::Node list = r.node("ips");
  if (!list.IsDefined() || list.IsNull()) return;
  if (!list.IsSequence()) {
    r.errors().add(list, r.childPath("ips"), "must be a list of IPs");
    return;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    std::string path = indexPath(r.childPath("ips"), i);
    DnsAuthIp ip;
    if (list[i].IsScalar()) {
      ip.ip = list[i].Scalar();
    } else {
      MapReader m(list[i], path, r.errors());
      if (!m.ok()) continue;
      ip.ip = m.optString("ip", true).value_or("");
      ip.helo = normDomain(m.str("helo", ""));
      m.finish();
    }
    if (!isIp(ip.ip)) r.errors().add(list[i], path, "'" + ip.ip + "' is not an IP address");
    p.ips.push_back(ip);
  }
}

}  // namespace

std::optional<DnsAuthParams> parseDnsAuthParams(MapReader& r, const JobBuildEnv& env) {
  DnsAuthParams p;
  size_t before = r.errors().size();
  p.inventories = r.strings("inventory");
  for (const auto& name : p.inventories) {
    auto it = env.inventories.find(name);
    if (it != env.inventories.end() && it->second != InventoryKind::Domains &&
        it->second != InventoryKind::Ips)
      r.errors().add(r.node("inventory"), r.childPath("inventory"),
                     "inventory '" + name + "' must be of kind domains or ips");
  }
  parseDomains(r, p);
  parseIps(r, p);
  if (p.inventories.empty() && p.domains.empty() && p.ips.empty())
    r.errors().add(r.self(), r.path(), "needs domains:, ips: or inventory:");
  std::vector<std::string> checks = r.strings("checks");
  if (checks.empty()) checks.assign(kChecks.begin(), kChecks.end());
  for (const auto& c : checks) {
    if (!kChecks.count(c))
      r.errors().add(r.node("checks"), r.childPath("checks"),
                     "unknown check '" + c + "' (spf, dkim, dmarc, mx, ptr, mta_sts, tls_rpt)");
    p.checks.insert(c);
  }
  p.resolvers = r.strings("resolvers");
  for (const auto& s : p.resolvers) {
    std::string why = probes::checkResolverAddress(s);
    if (!why.empty()) r.errors().add(r.node("resolvers"), r.childPath("resolvers"), why);
  }
  if (p.resolvers.empty()) p.resolvers = env.resolvers;
  p.dnsTimeout = r.duration("dns_timeout", p.dnsTimeout);
  p.dnsAttempts = static_cast<int>(r.integer("dns_attempts", p.dnsAttempts, 1, 10));
  p.concurrency = static_cast<int>(r.integer("concurrency", p.concurrency, 1, 256));
  p.spfLookupWarn = static_cast<int>(r.integer("spf_lookup_warn", p.spfLookupWarn, 1, 10));
  p.spfVoidLimit = static_cast<int>(r.integer("spf_void_lookup_limit", p.spfVoidLimit, 0, 20));
  p.dkimWarnBits = static_cast<int>(r.integer("dkim_warn_bits", p.dkimWarnBits, 0, 16384));
  p.dkimCritBits = static_cast<int>(r.integer("dkim_crit_bits", p.dkimCritBits, 0, 16384));
  if (p.dkimCritBits > p.dkimWarnBits)
    r.errors().add(r.node("dkim_crit_bits"), r.childPath("dkim_crit_bits"),
                   "must not be above dkim_warn_bits");
  p.mtaStsPort = static_cast<int>(r.integer("mta_sts_port", p.mtaStsPort, 1, 65535));
  p.mtaStsCaFile = r.str("mta_sts_ca_file", "");
  p.mtaStsTimeout = r.duration("mta_sts_timeout", p.mtaStsTimeout);
  p.mtaStsMinMaxAge =
      std::chrono::duration_cast<std::chrono::seconds>(
          r.duration("mta_sts_min_max_age", std::chrono::seconds(p.mtaStsMinMaxAge)))
          .count();
  if (r.errors().size() != before) return std::nullopt;
  return p;
}

DnsAuthTargets collectTargets(const DnsAuthParams& params, const JobContext* ctx) {
  DnsAuthTargets t;
  std::map<std::string, size_t> byDomain;
  auto addDomain = [&](DnsAuthDomain d) {
    d.domain = normDomain(d.domain);
    if (d.domain.empty()) return;
    auto it = byDomain.find(d.domain);
    if (it == byDomain.end()) {
      byDomain[d.domain] = t.domains.size();
      t.domains.push_back(std::move(d));
      return;
    }
    DnsAuthDomain& have = t.domains[it->second];  // merge duplicates
    for (const auto& s : d.selectors)
      if (std::find(have.selectors.begin(), have.selectors.end(), s) == have.selectors.end())
        have.selectors.push_back(s);
    for (const auto& ip : d.ips)
      if (std::find(have.ips.begin(), have.ips.end(), ip) == have.ips.end()) have.ips.push_back(ip);
    if (have.helo.empty()) have.helo = d.helo;
  };
  for (const auto& d : params.domains) addDomain(d);
  std::vector<DnsAuthIp> ips = params.ips;
  if (ctx) {
    for (const auto& name : params.inventories) {
      const InventorySnapshot* snap = ctx->inventory(name);
      if (!snap) continue;
      for (const auto& item : snap->items) {
        if (snap->kind == InventoryKind::Ips) {
          ips.push_back(DnsAuthIp{item.first("ip"), normDomain(item.first("helo"))});
          continue;
        }
        DnsAuthDomain d;
        d.domain = item.first("domain");
        d.selectors = item.all("dkim_selectors");
        d.ips = item.all("ips");
        d.helo = normDomain(item.first("helo"));
        addDomain(d);
      }
    }
  }
  for (const auto& d : t.domains)
    for (const auto& ip : d.ips) ips.push_back(DnsAuthIp{ip, d.helo});
  std::map<std::string, size_t> byIp;
  for (const auto& ip : ips) {
    if (ip.ip.empty()) continue;
    auto it = byIp.find(ip.ip);
    if (it == byIp.end()) {
      byIp[ip.ip] = t.ips.size();
      t.ips.push_back(ip);
    } else if (t.ips[it->second].helo.empty()) {
      t.ips[it->second].helo = ip.helo;
    }
  }
  return t;
}

std::vector<std::string> effectiveResolvers(const DnsAuthParams& params,
                                            const std::string& resolvConf) {
  if (!params.resolvers.empty()) return params.resolvers;
  std::vector<std::string> out;
  std::ifstream in(resolvConf);
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string key, addr;
    words >> key >> addr;
    if (key != "nameserver" || !isIp(addr)) continue;
    out.push_back(addr.find(':') != std::string::npos ? "[" + addr + "]:53" : addr + ":53");
  }
  if (out.empty()) out.push_back("127.0.0.1:53");
  return out;
}

}  // namespace mxpulse::jobs
