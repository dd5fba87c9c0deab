// SPDX-License-Identifier: Apache-2.0
// dns_auth: SPF verdicts from check_host() evaluations (pure).
#include <algorithm>

#include "jobs/dns_auth.hpp"
#include "jobs/dns_auth_internal.hpp"

namespace mxpulse::jobs {

using namespace dnsauth;
namespace spf = probes::spf;

namespace {

Json traceJson(const spf::Evaluation& ev) {
  Json a = Json::array();
  size_t n = 0;
  for (const auto& t : ev.trace) {
    if (++n > 100) break;  // facts stay small; the costly terms come first anyway
    Json e = Json::object();
    e.set("depth", t.depth);
    e.set("in", t.domain);
    e.set("term", t.term);
    if (!t.target.empty() && t.target != t.domain) e.set("target", t.target);
    e.set("lookups", t.lookups);
    if (t.voidLookups) e.set("void_lookups", t.voidLookups);
    if (!t.note.empty()) e.set("note", t.note);
    a.push(e);
  }
  return a;
}

/// "include:_spf.vendor.net costs 6, include:b.example costs 3": the
/// top-level terms that cost the most.
std::string costliest(const spf::Evaluation& ev) {
  std::vector<const spf::TraceEntry*> top;
  for (const auto& t : ev.trace)
    if (t.depth == 0 && t.lookups > 1) top.push_back(&t);
  std::stable_sort(top.begin(), top.end(), [](const spf::TraceEntry* a, const spf::TraceEntry* b) {
    return a->lookups > b->lookups;
  });
  std::string out;
  for (size_t i = 0; i < top.size() && i < 3; ++i)
    out += (i ? ", " : "") + top[i]->term + " costs " + std::to_string(top[i]->lookups);
  return out;
}

std::vector<std::string> voidTerms(const spf::Evaluation& ev) {
  std::vector<std::string> out;
  for (const auto& t : ev.trace)
    if (t.note.rfind("void: ", 0) == 0) out.push_back(t.term + " (" + t.domain + ")");
  return out;
}

/// The `all` that decides for IPs nothing else matches: the first one met
/// outside includes (redirect targets count, as their record decides).
const spf::Evaluation::AllTerm* effectiveAll(const spf::Evaluation& ev) {
  for (const auto& a : ev.allTerms)
    if (!a.viaInclude) return &a;
  return nullptr;
}

std::string qualifierName(char q) {
  switch (q) {
    case '-':
      return "-all";
    case '~':
      return "~all";
    case '?':
      return "?all";
    default:
      return "+all";
  }
}

void evaluateRecord(const DnsAuthParams& params, const SpfObservation& obs, JobOutput& out) {
  const spf::Evaluation& a = obs.audit;
  const std::string& d = obs.domain;
  CheckResult r("spf", d, Status::Ok, "");
  r.facts.set("domain", d);
  if (a.result == spf::Result::TempError && a.records.empty()) {
    r.status = Status::Unknown;
    r.summary = "cannot tell whether " + d + " has an SPF record: " + a.reason;
    r.facts.set("error", a.reason);
    out.results.push_back(std::move(r));
    return;
  }
  if (a.result == spf::Result::None) {
    r.status = Status::Critical;
    r.summary = d + " has no SPF record";
    r.facts.set("result", "none");
    out.results.push_back(std::move(r));
    return;
  }
  Findings f;
  bool incomplete = false;
  bool limits = a.termLimitExceeded || a.voidLimitExceeded;
  if (a.result == spf::Result::PermError && !limits) f.add(Status::Critical, a.reason);
  for (const auto& [result, why] : a.auditErrors) {
    if (result == spf::Result::TempError) {
      incomplete = true;
      f.add(Status::Unknown, "could not finish: " + why);
    } else if (why.find("more than") == std::string::npos) {
      f.add(Status::Critical, why);
    }
  }
  std::string lookups = (incomplete ? "at least " : "") + std::to_string(a.dnsTerms);
  std::string costs = costliest(a);
  if (a.termLimitExceeded) {
    f.add(Status::Critical, "uses " + lookups + " DNS lookups (limit 10)" +
                                (costs.empty() ? "" : ": " + costs) +
                                "; receivers return permerror for IPs not matched earlier");
  } else if (a.dnsTerms >= params.spfLookupWarn) {
    f.add(Status::Warning, "uses " + lookups +
                               " of 10 DNS lookups, one vendor change from breaking" +
                               (costs.empty() ? "" : " (" + costs + ")"));
  }
  if (a.voidLimitExceeded)
    f.add(Status::Critical, std::to_string(a.voidLookups) + " void lookups (limit " +
                                std::to_string(params.spfVoidLimit) +
                                "): " + joinList(voidTerms(a)));
  for (const auto& all : a.allTerms)
    if (all.viaInclude && all.qualifier == '+')
      f.add(Status::Critical,
            "the included record of " + all.domain + " ends in +all: every IP passes");
  std::string defaultResult, allText = "no all";
  if (const auto* all = effectiveAll(a)) {
    allText = "ends in " + qualifierName(all->qualifier);
    defaultResult = spf::resultName(all->qualifier == '-'   ? spf::Result::Fail
                                    : all->qualifier == '~' ? spf::Result::SoftFail
                                    : all->qualifier == '?' ? spf::Result::Neutral
                                                            : spf::Result::Pass);
    if (all->qualifier == '+')
      f.add(Status::Critical, "ends in +all: every IP in the world passes");
    if (all->qualifier == '?')
      f.add(Status::Critical, "ends in ?all: other IPs get neutral, which protects nothing");
  } else if (f.status == Status::Ok || f.status == Status::Warning) {
    defaultResult = "neutral";
    f.add(Status::Critical, "has no all mechanism: other IPs get neutral, which protects nothing");
  }
  if (limits) defaultResult = "permerror";
  r.status = f.status;
  std::string lead = "SPF for " + d;
  if (f.notes.empty()) {
    r.summary = lead + " is valid: " + lookups + " of 10 DNS lookups, " +
                std::to_string(a.voidLookups) + " void, " + allText;
  } else {
    r.summary = f.summary(lead);
  }
  r.facts.set("result", defaultResult.empty() ? spf::resultName(a.result) : defaultResult);
  r.facts.set("lookups", a.dnsTerms);
  r.facts.set("void_lookups", a.voidLookups);
  r.facts.set("record", a.record);
  r.facts.set("trace", traceJson(a));
  if (!f.notes.empty()) r.facts.set("findings", jsonStrings(f.notes));
  out.results.push_back(std::move(r));
  if (!incomplete) {
    out.samples.emplace_back(kSpfLookups, Labels{{"domain", d}}, a.dnsTerms);
    out.samples.emplace_back(kSpfVoidLookups, Labels{{"domain", d}}, a.voidLookups);
  }
}

void evaluateIp(const std::string& domain, const std::string& ip, const spf::Evaluation& ev,
                JobOutput& out) {
  CheckResult r("spf", domain + " " + ip, Status::Ok, "");
  r.facts.set("domain", domain);
  r.facts.set("ip", ip);
  r.facts.set("result", spf::resultName(ev.result));
  r.facts.set("lookups", ev.dnsTerms);
  r.facts.set("void_lookups", ev.voidLookups);
  r.facts.set("reason", ev.reason);
  if (!ev.explanation.empty()) r.facts.set("explanation", ev.explanation);
  r.facts.set("trace", traceJson(ev));
  switch (ev.result) {
    case spf::Result::Pass:
      r.summary = ip + " passes SPF for " + domain + " (" + ev.reason + ")";
      break;
    case spf::Result::TempError:
      r.status = Status::Unknown;
      r.summary = "cannot tell whether " + ip + " passes SPF for " + domain + ": " + ev.reason;
      break;
    default:
      r.status = Status::Critical;
      r.summary = ip + " does not pass SPF for " + domain + ": " + spf::resultName(ev.result) +
                  " (" + ev.reason + ")";
      break;
  }
  if (ev.result != spf::Result::TempError)
    out.samples.emplace_back(kSpfPass, Labels{{"domain", domain}, {"ip", ip}},
                             ev.result == spf::Result::Pass ? 1 : 0);
  out.results.push_back(std::move(r));
}

}  // namespace

void evaluateSpf(const DnsAuthParams& params, const SpfObservation& obs, JobOutput& out) {
  evaluateRecord(params, obs, out);
  for (const auto& [ip, ev] : obs.perIp) evaluateIp(obs.domain, ip, ev, out);
}

}  // namespace mxpulse::jobs
