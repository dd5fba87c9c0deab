// SPDX-License-Identifier: Apache-2.0
// dns_auth: MTA-STS and TLS-RPT verdicts (pure).
#include "jobs/dns_auth.hpp"
#include "jobs/dns_auth_internal.hpp"
#include "probes/mta_sts.hpp"

namespace mxpulse::jobs {

using namespace dnsauth;

namespace {

std::vector<std::string> stsRecords(const probes::DnsAnswer& a) {
  std::vector<std::string> out;
  for (const auto& t : a.txt)
    if (probes::isStsRecord(t)) out.push_back(t);
  return out;
}

/// Why the policy could not be fetched, as a finding.
void fetchFindings(const StsObservation& obs, const std::string& host, Findings& f) {
  const probes::HttpsResponse& resp = obs.response;
  switch (resp.error) {
    case probes::HttpsError::None:
      break;
    case probes::HttpsError::Timeout:
      f.add(Status::Unknown, "fetching https://" + host + " timed out: " + resp.errorText);
      return;
    default:
      f.add(Status::Critical,
            "cannot fetch the policy from https://" + host + ": " + resp.errorText);
      return;
  }
  if (resp.status >= 300 && resp.status < 400) {
    f.add(Status::Critical, "the policy URL answers HTTP " + std::to_string(resp.status) +
                                (resp.location.empty() ? "" : " to " + resp.location) +
                                "; redirects are not allowed (RFC 8461 3.3)");
  } else if (resp.status != 200) {
    f.add(Status::Critical, "the policy URL answers HTTP " + std::to_string(resp.status));
  }
}

}  // namespace

void evaluateMtaSts(const DnsAuthParams& params, const StsObservation& obs, JobOutput& out) {
  const std::string& d = obs.domain;
  const std::string host = "mta-sts." + d;
  CheckResult r("mta_sts", d, Status::Ok, "");
  r.facts.set("domain", d);
  if (probes::isTemporaryFailure(obs.txt.status)) {
    r.status = Status::Unknown;
    r.summary = "cannot tell whether " + d + " publishes MTA-STS: " + dnsFailure(obs.txt);
    out.results.push_back(std::move(r));
    return;
  }
  std::vector<std::string> records = stsRecords(obs.txt);
  if (records.empty()) {
    r.summary = d + " publishes no MTA-STS policy";
    r.facts.set("published", false);
    out.results.push_back(std::move(r));
    return;
  }
  r.facts.set("published", true);
  Findings f;
  if (records.size() > 1) {
    r.status = Status::Critical;
    r.summary = std::to_string(records.size()) + " MTA-STS records at _mta-sts." + d +
                ": senders treat that as no policy (RFC 8461 3.1)";
    out.results.push_back(std::move(r));
    return;
  }
  probes::StsRecord rec = probes::parseStsRecord(records.front());
  r.facts.set("record", records.front());
  if (!rec.valid)
    f.add(Status::Critical, "invalid _mta-sts record: " + rec.error);
  else
    r.facts.set("id", rec.id);
  probes::StsPolicy policy;
  bool havePolicy = false;
  if (!obs.setupError.empty()) {
    f.add(Status::Unknown, obs.setupError);
  } else if (probes::isTemporaryFailure(obs.hostA.status) &&
             probes::isTemporaryFailure(obs.hostAaaa.status)) {
    f.add(Status::Unknown, "cannot resolve " + host + ": " + dnsFailure(obs.hostA));
  } else if (obs.hostA.addresses.empty() && obs.hostAaaa.addresses.empty()) {
    f.add(Status::Critical, host + " has no A or AAAA record, so no policy can be fetched");
  } else if (obs.attempted) {
    fetchFindings(obs, host, f);
    if (obs.response.error == probes::HttpsError::None && obs.response.status == 200) {
      std::string ct = obs.response.contentType;
      if (ct.rfind("text/plain", 0) != 0)
        f.add(Status::Warning, "policy served as '" + ct + "', not text/plain");
      policy = probes::parseStsPolicy(obs.response.body);
      havePolicy = true;
      if (!policy.valid) f.add(Status::Critical, "invalid policy: " + joinList(policy.errors));
    }
  }
  std::vector<std::string> uncovered;
  if (havePolicy && policy.valid) {
    r.facts.set("mode", policy.mode);
    r.facts.set("max_age", policy.maxAge);
    r.facts.set("mx", jsonStrings(policy.mx));
    out.samples.emplace_back(kMtaStsEnforce, Labels{{"domain", d}},
                             policy.mode == "enforce" ? 1 : 0);
    out.samples.emplace_back(kMtaStsMaxAge, Labels{{"domain", d}},
                             static_cast<double>(policy.maxAge));
    if (policy.mode == "testing")
      f.add(Status::Warning, "mode: testing, senders do not enforce TLS");
    if (policy.mode == "none") f.add(Status::Warning, "mode: none, the policy is withdrawn");
    if (policy.maxAge < params.mtaStsMinMaxAge)
      f.add(Status::Warning, "max_age " + std::to_string(policy.maxAge) + " s is under " +
                                 std::to_string(params.mtaStsMinMaxAge) + " s");
    if (probes::isTemporaryFailure(obs.mx.mx.status)) {
      f.add(Status::Unknown, "cannot check MX coverage: " + dnsFailure(obs.mx.mx));
    } else if (policy.mode != "none") {
      for (const auto& h : obs.mx.hosts) {
        bool covered = false;
        for (const auto& p : policy.mx) covered = covered || probes::stsMxMatches(p, h.name);
        if (!covered) uncovered.push_back(h.name);
      }
      if (!uncovered.empty()) {
        bool enforce = policy.mode == "enforce";
        f.add(enforce ? Status::Critical : Status::Warning,
              "MX " + joinList(uncovered) + " not covered by the policy's mx: patterns" +
                  (enforce ? "; enforcing senders will not deliver to it" : ""));
      }
    }
    r.facts.set("uncovered", jsonStrings(uncovered));
  }
  r.status = f.status;
  std::string lead = "MTA-STS for " + d;
  if (havePolicy && policy.valid) lead += ": mode " + policy.mode;
  r.summary = f.notes.empty() ? lead + ", covers every MX" : f.summary(lead);
  out.results.push_back(std::move(r));
}

void evaluateTlsRpt(const TlsRptObservation& obs, JobOutput& out) {
  const std::string& d = obs.domain;
  CheckResult r("tls_rpt", d, Status::Ok, "");
  r.facts.set("domain", d);
  if (probes::isTemporaryFailure(obs.txt.status)) {
    r.status = Status::Unknown;
    r.summary = "cannot tell whether " + d + " publishes TLS-RPT: " + dnsFailure(obs.txt);
    out.results.push_back(std::move(r));
    return;
  }
  std::vector<std::string> records;
  for (const auto& t : obs.txt.txt)
    if (probes::isTlsRptRecord(t)) records.push_back(t);
  if (records.empty()) {
    r.facts.set("published", false);
    if (obs.stsPublished) {
      r.status = Status::Warning;
      r.summary = d + " publishes MTA-STS but no TLS-RPT record at _smtp._tls." + d +
                  ": TLS failures go unreported";
    } else {
      r.summary = d + " publishes no TLS-RPT record";
    }
    out.results.push_back(std::move(r));
    return;
  }
  r.facts.set("published", true);
  if (records.size() > 1) {
    r.status = Status::Critical;
    r.summary = std::to_string(records.size()) + " TLS-RPT records at _smtp._tls." + d +
                ": reporters ignore them all";
    out.results.push_back(std::move(r));
    return;
  }
  probes::TlsRptRecord rec = probes::parseTlsRptRecord(records.front());
  r.facts.set("record", records.front());
  Json rua = Json::array();
  for (const auto& u : rec.rua) rua.push(u.text);
  r.facts.set("rua", rua);
  if (!rec.valid) {
    r.status = Status::Critical;
    r.summary = "TLS-RPT record of " + d + " is invalid: " + joinList(rec.errors);
  } else {
    r.summary = "TLS-RPT for " + d + ": reports to " + rec.rua.front().text +
                (rec.rua.size() > 1 ? " and " + std::to_string(rec.rua.size() - 1) + " more" : "");
  }
  out.results.push_back(std::move(r));
}

}  // namespace mxpulse::jobs
