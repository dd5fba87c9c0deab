// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the dns_auth evaluators (jobs/dns_auth_*.cpp).
#pragma once

#include <string>
#include <vector>

#include "agent/job.hpp"
#include "probes/dns.hpp"

namespace mxpulse::jobs::dnsauth {

extern const MetricDesc kSpfLookups, kSpfVoidLookups, kSpfPass, kDkimKeyBits, kDmarcPolicy,
    kDmarcPct, kMxHosts, kPtrFcrdns, kMtaStsEnforce, kMtaStsMaxAge, kDnsQuestions;

/// "servfail (detail)" for a failed lookup.
std::string dnsFailure(const probes::DnsAnswer& a);
/// True when the name has no record of the type (NXDOMAIN or NODATA).
bool isAbsent(const probes::DnsAnswer& a);
/// "a; b; c" (at most `max` items, then "and N more").
std::string joinList(const std::vector<std::string>& items, size_t max = 4);
/// Strings a Json array.
Json jsonStrings(const std::vector<std::string>& items);
/// The worse of a result's current status and `s`, remembering the reason.
struct Findings {
  Status status = Status::Ok;
  std::vector<std::string> notes;  ///< in the order found; worst first in summary()
  std::vector<Status> levels;
  void add(Status s, std::string note);
  /// "<lead>: worst finding; next finding" (lead alone when no notes).
  std::string summary(const std::string& lead) const;
};

}  // namespace mxpulse::jobs::dnsauth
