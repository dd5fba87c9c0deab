// SPDX-License-Identifier: Apache-2.0
// dns_auth: MX and PTR/FCrDNS verdicts (pure).
#include <arpa/inet.h>

#include <cstring>

#include "jobs/dns_auth.hpp"
#include "jobs/dns_auth_internal.hpp"

namespace mxpulse::jobs {

using namespace dnsauth;

namespace {

bool isIpText(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

bool sameIp(const std::string& a, const std::string& b) {
  unsigned char x[16] = {}, y[16] = {};
  int fa = inet_pton(AF_INET, a.c_str(), x) == 1    ? 4
           : inet_pton(AF_INET6, a.c_str(), x) == 1 ? 6
                                                    : 0;
  int fb = inet_pton(AF_INET, b.c_str(), y) == 1    ? 4
           : inet_pton(AF_INET6, b.c_str(), y) == 1 ? 6
                                                    : 0;
  return fa && fa == fb && std::memcmp(x, y, fa == 4 ? 4 : 16) == 0;
}

std::string lower(std::string s) {
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

}  // namespace

void evaluateMx(const MxObservation& obs, JobOutput& out) {
  const std::string& d = obs.domain;
  CheckResult r("mx", d, Status::Ok, "");
  r.facts.set("domain", d);
  const probes::DnsAnswer& mx = obs.mx;
  if (probes::isTemporaryFailure(mx.status)) {
    r.status = Status::Unknown;
    r.summary = "cannot tell whether " + d + " has MX records: " + dnsFailure(mx);
    out.results.push_back(std::move(r));
    return;
  }
  if (mx.status == probes::DnsStatus::NxDomain) {
    r.status = Status::Critical;
    r.summary = d + " does not exist (NXDOMAIN)";
    out.results.push_back(std::move(r));
    return;
  }
  if (mx.status == probes::DnsStatus::NoData || mx.mx.empty()) {
    r.status = Status::Critical;
    r.summary = d + " has no MX record";
    out.samples.emplace_back(kMxHosts, Labels{{"domain", d}}, 0);
    out.results.push_back(std::move(r));
    return;
  }
  bool nullMx = false;
  for (const auto& m : mx.mx) nullMx = nullMx || m.exchange.empty();
  if (nullMx && mx.mx.size() == 1) {
    r.summary = d + " publishes a null MX (RFC 7505): it accepts no mail";
    r.facts.set("null_mx", true);
    out.samples.emplace_back(kMxHosts, Labels{{"domain", d}}, 0);
    out.results.push_back(std::move(r));
    return;
  }
  Findings f;
  if (nullMx) f.add(Status::Warning, "a null MX mixed with other MX records (RFC 7505 3.3)");
  Json hosts = Json::array();
  int usable = 0;
  for (const auto& h : obs.hosts) {
    Json hj = Json::object();
    hj.set("name", h.name);
    hj.set("preference", h.preference);
    std::vector<std::string> addrs = h.a.addresses;
    addrs.insert(addrs.end(), h.aaaa.addresses.begin(), h.aaaa.addresses.end());
    hj.set("addresses", jsonStrings(addrs));
    bool cname = !h.a.cnameChain.empty() || !h.aaaa.cnameChain.empty();
    if (cname) hj.set("cname", true);
    hosts.push(hj);
    if (isIpText(h.name)) {
      f.add(Status::Critical, "MX " + h.name + " is an IP address, not a host name");
      continue;
    }
    if (cname) f.add(Status::Warning, "MX " + h.name + " is a CNAME (RFC 2181 10.3 forbids it)");
    if (!addrs.empty()) {
      ++usable;
      continue;
    }
    bool temp = probes::isTemporaryFailure(h.a.status) || probes::isTemporaryFailure(h.aaaa.status);
    if (temp)
      f.add(Status::Unknown, "cannot resolve MX " + h.name + ": " +
                                 dnsFailure(probes::isTemporaryFailure(h.a.status) ? h.a : h.aaaa));
    else
      f.add(Status::Critical, "MX " + h.name + " has no A or AAAA record");
  }
  r.facts.set("hosts", hosts);
  r.status = f.status;
  std::string lead = d + " has " + std::to_string(obs.hosts.size()) + " MX host" +
                     (obs.hosts.size() == 1 ? "" : "s");
  r.summary = f.notes.empty() ? lead + ", all resolvable" : f.summary(lead);
  out.samples.emplace_back(kMxHosts, Labels{{"domain", d}}, static_cast<double>(obs.hosts.size()));
  (void)usable;
  out.results.push_back(std::move(r));
}

void evaluatePtr(const PtrObservation& obs, JobOutput& out) {
  CheckResult r("ptr", obs.ip, Status::Ok, "");
  r.facts.set("ip", obs.ip);
  if (!obs.helo.empty()) r.facts.set("helo", obs.helo);
  const probes::DnsAnswer& p = obs.ptr;
  if (probes::isTemporaryFailure(p.status)) {
    r.status = Status::Unknown;
    r.summary = "cannot tell whether " + obs.ip + " has a PTR record: " + dnsFailure(p);
    out.results.push_back(std::move(r));
    return;
  }
  if (isAbsent(p) || p.names.empty()) {
    r.status = Status::Critical;
    r.summary = obs.ip + " has no PTR record";
    r.facts.set("ptr", Json());
    r.facts.set("fcrdns", false);
    out.samples.emplace_back(kPtrFcrdns, Labels{{"ip", obs.ip}}, 0);
    out.results.push_back(std::move(r));
    return;
  }
  std::vector<std::string> confirmed, failedLookups;
  for (const auto& [name, fwd] : obs.forward) {
    bool match = false;
    for (const auto& addr : fwd.addresses) match = match || sameIp(addr, obs.ip);
    if (match)
      confirmed.push_back(name);
    else if (probes::isTemporaryFailure(fwd.status))
      failedLookups.push_back(name + ": " + dnsFailure(fwd));
  }
  r.facts.set("ptr", p.names.front());
  r.facts.set("names", jsonStrings(p.names));
  Findings f;
  bool fcrdns = !confirmed.empty();
  if (p.names.size() > 1)
    f.add(Status::Ok, std::to_string(p.names.size()) + " PTR records (one is usual)");
  if (!fcrdns && !failedLookups.empty()) {
    f.add(Status::Unknown, "cannot confirm " + joinList(failedLookups));
  } else if (!fcrdns) {
    f.add(Status::Critical,
          p.names.front() + " does not resolve back to " + obs.ip + " (no FCrDNS)");
  } else if (!obs.helo.empty()) {
    bool heloMatch = false;
    for (const auto& n : confirmed) heloMatch = heloMatch || lower(n) == lower(obs.helo);
    if (!heloMatch)
      f.add(Status::Warning,
            "PTR " + confirmed.front() + " differs from the HELO name " + obs.helo);
  }
  r.facts.set("fcrdns", fcrdns);
  r.status = f.status;
  std::string lead = obs.ip + " has PTR " + (fcrdns ? confirmed.front() : p.names.front());
  if (fcrdns) lead += ", forward-confirmed";
  r.summary = f.notes.empty() ? lead + (obs.helo.empty() ? "" : ", matches HELO") : f.summary(lead);
  if (f.status != Status::Unknown)
    out.samples.emplace_back(kPtrFcrdns, Labels{{"ip", obs.ip}}, fcrdns ? 1 : 0);
  out.results.push_back(std::move(r));
}

}  // namespace mxpulse::jobs
