// SPDX-License-Identifier: Apache-2.0
#include <algorithm>

#include "jobs/dns_auth_internal.hpp"

namespace mxpulse::jobs::dnsauth {

const MetricDesc kSpfLookups{"mxpulse_spf_lookups",
                             "DNS-querying SPF terms for an IP that matches nothing (limit 10).",
                             MetricType::Gauge};
const MetricDesc kSpfVoidLookups{"mxpulse_spf_void_lookups",
                                 "SPF terms whose lookup found nothing (NXDOMAIN or NODATA).",
                                 MetricType::Gauge};
const MetricDesc kSpfPass{"mxpulse_spf_pass",
                          "Whether the sending IP passes the domain's SPF (1 pass, 0 other).",
                          MetricType::Gauge};
const MetricDesc kDkimKeyBits{"mxpulse_dkim_key_bits",
                              "Size of the DKIM public key (RSA modulus bits; 256 for ed25519).",
                              MetricType::Gauge};
const MetricDesc kDmarcPolicy{"mxpulse_dmarc_policy",
                              "DMARC policy receivers apply (0 none, 1 quarantine, 2 reject).",
                              MetricType::Gauge};
const MetricDesc kDmarcPct{"mxpulse_dmarc_pct", "DMARC pct= (share of mail the policy covers).",
                           MetricType::Gauge};
const MetricDesc kMxHosts{"mxpulse_mx_hosts", "MX hosts of the domain (0 for a null MX).",
                          MetricType::Gauge};
const MetricDesc kPtrFcrdns{"mxpulse_ptr_fcrdns",
                            "Whether the IP's PTR name resolves back to it (1 yes, 0 no).",
                            MetricType::Gauge};
const MetricDesc kMtaStsEnforce{"mxpulse_mta_sts_enforce",
                                "Whether the MTA-STS policy mode is enforce (1) or not (0).",
                                MetricType::Gauge};
const MetricDesc kDnsQuestions{"mxpulse_dns_auth_dns_questions",
                               "Distinct DNS questions (name, type) the last run sent.",
                               MetricType::Gauge};
const MetricDesc kMtaStsMaxAge{"mxpulse_mta_sts_max_age_seconds", "MTA-STS policy max_age.",
                               MetricType::Gauge};

std::string dnsFailure(const probes::DnsAnswer& a) {
  std::string s = probes::dnsStatusName(a.status);
  if (!a.error.empty()) s += " (" + a.error + ")";
  if (!a.server.empty()) s += " from " + a.server;
  return s;
}

bool isAbsent(const probes::DnsAnswer& a) {
  return a.status == probes::DnsStatus::NxDomain || a.status == probes::DnsStatus::NoData;
}

std::string joinList(const std::vector<std::string>& items, size_t max) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < max; ++i) out += (i ? "; " : "") + items[i];
  if (items.size() > max) out += "; and " + std::to_string(items.size() - max) + " more";
  return out;
}

Json jsonStrings(const std::vector<std::string>& items) {
  Json a = Json::array();
  for (const auto& s : items) a.push(s);
  return a;
}

namespace {
int rank(Status s) {
  switch (s) {
    case Status::Critical:
      return 3;
    case Status::Warning:
      return 2;
    case Status::Unknown:
      return 1;
    case Status::Ok:
      return 0;
  }
  return 0;
}
}  // namespace

void Findings::add(Status s, std::string note) {
  status = worse(status, s);
  notes.push_back(std::move(note));
  levels.push_back(s);
}

std::string Findings::summary(const std::string& lead) const {
  std::vector<size_t> idx(notes.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::stable_sort(idx.begin(), idx.end(),
                   [&](size_t a, size_t b) { return rank(levels[a]) > rank(levels[b]); });
  std::vector<std::string> ordered;
  for (size_t i : idx) ordered.push_back(notes[i]);
  if (ordered.empty()) return lead;
  return lead + ": " + joinList(ordered, 5);
}

}  // namespace mxpulse::jobs::dnsauth
