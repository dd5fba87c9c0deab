// SPDX-License-Identifier: Apache-2.0
// The real DNS client: asynchronous, on ldns. See probes/dns.hpp for the
// interface and ldns_resolver.cpp for how it works.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "probes/dns.hpp"

namespace mxpulse::probes {

struct DnsResolverOptions {
  std::vector<std::string> servers;   ///< host:port or [v6]:port; tried in turn
  std::chrono::milliseconds attemptTimeout{2000};
  int attempts = 3;                   ///< tries per query across the servers
  bool cache = true;                  ///< cache answers by TTL for this resolver's life
  /// Queries per second per zone (0 = unlimited); the zone is the given
  /// suffix that the query name ends with (DNSBL politeness).
  double ratePerZone = 0;
  std::vector<std::string> rateLimitedZones;
  size_t maxInFlight = 512;           ///< queries on the wire at once
};

/// One resolver per job run: its cache lives as long as it does.
std::unique_ptr<DnsResolver> makeDnsResolver(const DnsResolverOptions& options);

}  // namespace mxpulse::probes
