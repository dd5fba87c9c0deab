// SPDX-License-Identifier: Apache-2.0
// The real DNS client: asynchronous, on ldns. See probes/dns.hpp for the
// interface and ldns_resolver.cpp for how it works.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "probes/dns.hpp"

namespace mxpulse::probes {

struct DnsResolverOptions {
  std::vector<std::string> servers;  ///< host:port or [v6]:port; tried in turn ("" = 127.0.0.1:53)
  std::chrono::milliseconds attemptTimeout{2000};  ///< first attempt; doubles per retry
  int attempts = 3;                                ///< tries per query across the servers
  bool cache = true;  ///< cache answers by TTL for this resolver's life
  /// Queries per second per zone (0 = unlimited); the zone is the given
  /// suffix that the query name ends with (DNSBL politeness).
  double ratePerZone = 0;
  std::vector<std::string> rateLimitedZones;
  /// Per-zone rates that win over ratePerZone (0 = unlimited for that zone).
  std::map<std::string, double> zoneRates;
  size_t maxInFlight = 512;         ///< queries on the wire at once
  size_t cacheMaxEntries = 100000;  ///< beyond this, answers are not cached
};

/// One resolver per job run: its cache lives as long as it does. Servers
/// that do not parse make every query fail with NetworkError (and say why).
std::unique_ptr<DnsResolver> makeDnsResolver(const DnsResolverOptions& options);

/// Checks a resolver address the way makeDnsResolver() reads it; "" = fine.
std::string checkResolverAddress(const std::string& hostPort);

}  // namespace mxpulse::probes
