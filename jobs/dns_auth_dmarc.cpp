// SPDX-License-Identifier: Apache-2.0
// dns_auth: DMARC verdicts and report-destination authorisation (pure).
#include "jobs/dns_auth.hpp"
#include "jobs/dns_auth_internal.hpp"
#include "probes/dmarc_record.hpp"

namespace mxpulse::jobs {

using namespace dnsauth;

namespace {

int policyValue(const std::string& p) {
  return p == "reject" ? 2 : p == "quarantine" ? 1 : 0;
}

Json uriList(const std::vector<probes::DmarcUri>& uris) {
  Json a = Json::array();
  for (const auto& u : uris) a.push(u.text);
  return a;
}

void evaluateReportAuth(const DmarcObservation& obs, JobOutput& out) {
  for (const auto& [dest, a] : obs.reportAuth) {
    std::string qname = obs.recordDomain + "._report._dmarc." + dest;
    CheckResult r("dmarc_report_auth", obs.domain + " " + dest, Status::Ok, "");
    r.facts.set("domain", obs.domain);
    r.facts.set("destination", dest);
    r.facts.set("name", qname);
    bool authorised = false;
    for (const auto& t : a.txt) authorised = authorised || probes::isDmarcRecord(t);
    if (probes::isTemporaryFailure(a.status)) {
      r.status = Status::Unknown;
      r.summary = "cannot tell whether " + dest + " accepts DMARC reports for " + obs.recordDomain +
                  ": " + dnsFailure(a);
    } else if (authorised) {
      r.summary = dest + " accepts DMARC reports for " + obs.recordDomain;
    } else {
      r.status = Status::Warning;
      r.summary = dest + " has not authorised DMARC reports for " + obs.recordDomain +
                  ": no v=DMARC1 at " + qname + ", so receivers will not send them";
    }
    r.facts.set("authorised", authorised);
    out.results.push_back(std::move(r));
  }
}

}  // namespace

void evaluateDmarc(const DnsAuthParams&, const DmarcObservation& obs, JobOutput& out) {
  const std::string& d = obs.domain;
  CheckResult r("dmarc", d, Status::Ok, "");
  r.facts.set("domain", d);
  r.facts.set("queried", jsonStrings(obs.queried));
  if (obs.dnsError) {
    r.status = Status::Unknown;
    r.summary = "cannot tell whether " + d + " has a DMARC record: " + obs.dnsErrorText;
    r.facts.set("error", obs.dnsErrorText);
    out.results.push_back(std::move(r));
    return;
  }
  if (obs.recordDomain.empty()) {
    r.status = Status::Critical;
    r.summary = "no DMARC record at _dmarc." + d +
                (obs.queried.size() > 1 ? " nor at any parent domain" : "");
    out.results.push_back(std::move(r));
    return;
  }
  std::vector<std::string> records;
  for (const auto& t : obs.answer.txt)
    if (probes::isDmarcRecord(t)) records.push_back(t);
  bool inherited = obs.recordDomain != d;
  r.facts.set("found_at", "_dmarc." + obs.recordDomain);
  if (records.size() > 1) {
    r.status = Status::Critical;
    r.summary = std::to_string(records.size()) + " DMARC records at _dmarc." + obs.recordDomain +
                ": receivers apply no policy";
    r.facts.set("records", jsonStrings(records));
    out.results.push_back(std::move(r));
    return;
  }
  probes::DmarcRecord rec = probes::parseDmarcRecord(records.front());
  r.facts.set("record", records.front());
  std::string policy = rec.effectivePolicy();
  if (inherited && rec.valid) policy = rec.sp;  // sp governs subdomains (RFC 7489 6.3)
  Findings f;
  if (!rec.valid) {
    f.add(Status::Critical, "invalid (" + joinList(rec.errors) + "); receivers apply " +
                                (rec.downgraded ? "p=none" : "no policy"));
  }
  if (inherited)
    f.add(Status::Ok, "no record at _dmarc." + d + "; the record of " + obs.recordDomain +
                          " applies (sp=" + (rec.sp.empty() ? "?" : rec.sp) + ")");
  if (policy == "none")
    f.add(Status::Warning, std::string(inherited ? "sp=none" : "p=none") +
                               ": monitoring only, receivers deliver mail that fails DMARC");
  if (rec.pctGiven && rec.pct < 100)
    f.add(Status::Warning, "pct=" + std::to_string(rec.pct) + ": the policy covers only " +
                               std::to_string(rec.pct) + "% of failing mail");
  if (rec.rua.empty()) f.add(Status::Warning, "no rua=: no aggregate reports are sent to you");
  if (rec.t == "y") f.add(Status::Warning, "t=y: testing mode (RFC 9989)");
  for (const auto& w : rec.warnings) f.add(Status::Warning, w);
  r.status = f.status;
  std::string lead = "DMARC for " + d;
  if (!policy.empty()) lead += ": " + std::string(inherited ? "sp=" : "p=") + policy;
  r.summary = f.notes.empty() ? lead + ", rua set" : f.summary(lead);
  r.facts.set("policy", policy.empty() ? Json() : Json(policy));
  r.facts.set("p", rec.p);
  r.facts.set("sp", rec.sp);
  r.facts.set("pct", rec.pct);
  r.facts.set("adkim", rec.adkim);
  r.facts.set("aspf", rec.aspf);
  r.facts.set("rua", uriList(rec.rua));
  r.facts.set("ruf", uriList(rec.ruf));
  if (!rec.errors.empty()) r.facts.set("errors", jsonStrings(rec.errors));
  if (!policy.empty()) {
    out.samples.emplace_back(kDmarcPolicy, Labels{{"domain", d}}, policyValue(policy));
    out.samples.emplace_back(kDmarcPct, Labels{{"domain", d}}, rec.pct);
  }
  out.results.push_back(std::move(r));
  evaluateReportAuth(obs, out);
}

}  // namespace mxpulse::jobs
