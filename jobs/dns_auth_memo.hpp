// SPDX-License-Identifier: Apache-2.0
// dns_auth's view of DNS for one run (internal to jobs/dns_auth_*.cpp).
//
// LookupMemo: every (name, type) is asked of the resolver once per run and
// the answer, failures included, reused by every check, so all checks of a
// run see the same DNS. The resolver caches too, but each of its answers
// costs two thread hand-offs, and SPF evaluations repeat the same lookups
// thousands of times (shared includes; the audit walk and each IP's walk).
//
// prefetchRun(): before the checks run, walks the names they will ask in
// waves of asynchronous queries (hundreds in flight, no thread blocked per
// query): each domain's TXT, MX, _dmarc, DKIM and TLS names and each IP's
// PTR, then what those answers point at (include/redirect/a/mx/exists
// targets without macros, MX hosts, PTR names), until nothing new appears.
// It only warms the memo: a name it did not foresee (a macro target) is
// looked up when a check asks for it.
#pragma once

#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "jobs/dns_auth.hpp"
#include "probes/dns.hpp"

namespace mxpulse::jobs::dnsauth {

using Question = std::pair<std::string, probes::RrType>;

class LookupMemo {
 public:
  LookupMemo(probes::DnsResolver& resolver, Deadline deadline)
      : resolver_(resolver), deadline_(deadline) {}

  /// The answer, asking the resolver (blocking) the first time. Names are
  /// compared case-insensitively, a trailing dot ignored.
  probes::DnsAnswer get(const std::string& name, probes::RrType type);
  /// The answer if it is already complete; nullopt otherwise.
  std::optional<probes::DnsAnswer> peek(const std::string& name, probes::RrType type);
  /// Asks every question not yet known asynchronously and waits for all.
  void prefetch(const std::vector<Question>& questions);
  /// Questions sent to the resolver so far.
  size_t asked() const;

 private:
  static constexpr size_t kShards = 64;
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, std::shared_future<probes::DnsAnswer>> answers;
  };
  Shard& shard(const std::string& key) { return shards_[std::hash<std::string>()(key) % kShards]; }

  probes::DnsResolver& resolver_;
  Deadline deadline_;
  Shard shards_[kShards];
  mutable std::mutex askedMutex_;
  size_t asked_ = 0;
};

/// Normalised memo key part: lower case, no trailing dot.
std::string normalName(const std::string& name);

void prefetchRun(LookupMemo& memo, const DnsAuthParams& params, const DnsAuthTargets& targets);

}  // namespace mxpulse::jobs::dnsauth
