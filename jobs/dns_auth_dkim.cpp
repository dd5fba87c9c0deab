// SPDX-License-Identifier: Apache-2.0
// dns_auth: DKIM key verdicts (pure).
#include "jobs/dns_auth.hpp"
#include "jobs/dns_auth_internal.hpp"
#include "probes/dkim_record.hpp"

namespace mxpulse::jobs {

using namespace dnsauth;

void evaluateDkim(const DnsAuthParams& params, const DkimObservation& obs, JobOutput& out) {
  const std::string name = obs.selector + "._domainkey." + obs.domain;
  CheckResult r("dkim", name, Status::Ok, "");
  r.facts.set("domain", obs.domain);
  r.facts.set("selector", obs.selector);
  const probes::DnsAnswer& a = obs.answer;
  if (probes::isTemporaryFailure(a.status)) {
    r.status = Status::Unknown;
    r.summary = "cannot tell whether DKIM key " + name + " exists: " + dnsFailure(a);
    r.facts.set("error", dnsFailure(a));
    out.results.push_back(std::move(r));
    return;
  }
  if (isAbsent(a) || a.txt.empty()) {
    r.status = Status::Critical;
    r.summary = "no DKIM key at " + name +
                (a.status == probes::DnsStatus::NxDomain ? " (NXDOMAIN)" : " (no TXT record)");
    out.results.push_back(std::move(r));
    return;
  }
  Findings f;
  std::string via;
  if (!a.cnameChain.empty()) {
    Json chain = jsonStrings(a.cnameChain);
    r.facts.set("cname_chain", chain);
    via = " (via CNAME " + a.cnameChain.back() + ")";
  }
  // Several TXT records: verifiers may use any (RFC 6376 3.6.2.2); judge the
  // first that carries a key, and say so.
  size_t pick = 0;
  for (size_t i = 0; i < a.txt.size(); ++i)
    if (a.txt[i].find("p=") != std::string::npos) {
      pick = i;
      break;
    }
  if (a.txt.size() > 1)
    f.add(Status::Warning, std::to_string(a.txt.size()) + " TXT records at " + name +
                               "; verifiers may pick any of them");
  probes::DkimKeyRecord k = probes::parseDkimKeyRecord(a.txt[pick]);
  r.facts.set("record",
              a.txt[pick].size() > 600 ? a.txt[pick].substr(0, 600) + "..." : a.txt[pick]);
  r.facts.set("key_type", k.keyType);
  r.facts.set("testing", k.testing);
  r.facts.set("revoked", k.revoked);
  if (k.keyBits > 0) r.facts.set("key_bits", k.keyBits);
  std::string keyText =
      k.keyType == "ed25519" ? "ed25519" : "RSA " + std::to_string(k.keyBits) + "-bit";
  if (!k.valid) {
    f.add(Status::Critical, "invalid: " + joinList(k.errors));
  } else if (k.revoked) {
    f.add(Status::Critical, "the key is revoked (empty p=)");
  } else {
    if (k.keyType == "rsa" && k.keyBits < params.dkimCritBits)
      f.add(Status::Critical, keyText + " key is below " + std::to_string(params.dkimCritBits) +
                                  " bits; receivers reject it");
    else if (k.keyType == "rsa" && k.keyBits < params.dkimWarnBits)
      f.add(Status::Warning,
            keyText + " key; " + std::to_string(params.dkimWarnBits) + " bits is recommended");
    if (k.testing)
      f.add(Status::Warning, "t=y: testing mode, receivers may treat failures as unsigned");
    for (const auto& w : k.warnings) f.add(Status::Warning, w);
  }
  r.status = f.status;
  std::string lead = "DKIM key " + name + via;
  r.summary = f.notes.empty() ? lead + ": " + keyText : f.summary(lead);
  if (!k.errors.empty()) r.facts.set("errors", jsonStrings(k.errors));
  if (!k.warnings.empty()) r.facts.set("warnings", jsonStrings(k.warnings));
  if (k.valid && !k.revoked && k.keyBits > 0)
    out.samples.emplace_back(kDkimKeyBits,
                             Labels{{"domain", obs.domain}, {"selector", obs.selector}}, k.keyBits);
  out.results.push_back(std::move(r));
}

}  // namespace mxpulse::jobs
