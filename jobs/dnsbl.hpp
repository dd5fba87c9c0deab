// SPDX-License-Identifier: Apache-2.0
// dnsbl: are our sending IPs or domains listed on DNS blocklists?
//
// What it checks
//   dnsbl       every sending IP against every IP zone (IPv4 as reversed
//               octets, IPv6 as 32 reversed nibbles, only on zones that
//               answer IPv6), and every sending domain against every
//               domain zone (DBL/RHSBL style, `<domain>.<zone>`; never an
//               IP against a domain zone). Targets come from inventories
//               (ips: ip; domains: domain and ips; delivery_servers: ip)
//               and from literal lists. target = "<ip-or-domain> <zone>".
//               A listing fetches the TXT reason.
//   dnsbl_zone  every zone, every run, by its test points (RFC 5782 §5):
//               2.0.0.127.<zone> must be listed and 1.0.0.127.<zone> must
//               not; `test.<zone>` / `invalid.<zone>` for domain zones.
// Standard: RFC 5782 (DNS blacklists and whitelists); Spamhaus return
//   codes and DQS; SURBL/URIBL bitmasks (see jobs/dnsbl_zones.hpp).
//
// Severity
//   listed        the zone's severity (critical unless configured), or the
//                 severity set for the code's category or code (e.g. PBL
//                 as warning); several codes: the worst
//   clean         ok (NXDOMAIN or NODATA; a good-reputation code)
//   unknown       timeout, SERVFAIL, REFUSED, malformed answers, any
//                 127.255.255.x, an answer outside 127.0.0.0/8, DBL
//                 127.0.1.255, URIBL/SURBL 127.0.0.1, and every target of a
//                 zone that failed its test points this run
//   dnsbl_zone    ok when healthy; warning when the test points show a dead
//                 list, wildcard answers or a refused/public resolver;
//                 unknown when the test queries themselves failed
//
// Facts (a contract with the warmup job, see CONTRIBUTING.md)
//   dnsbl: listed (true/false, null when unknown), zone (public name), ip or
//   domain, code, codes, meaning, category, reason (TXT), error
//
// Spamhaus DQS: with `dqs_key`/`dqs_key_file`, Spamhaus zones are queried as
//   KEY.<dataset>.dq.spamhaus.net; the key never appears in results,
//   summaries or labels (they use the public zone name).
//
// Metrics (gauges; `job` label added by the framework)
//   mxpulse_dnsbl_listed{target,zone}          1 listed / 0 clean (known outcomes only)
//   mxpulse_dnsbl_unknown{target,zone}         1 for every outcome that could not be told
//   mxpulse_dnsbl_return_code_info{target,zone,code,category}  1 per listing code
//   mxpulse_dnsbl_zone_healthy{zone}           1 healthy / 0 unhealthy (when known)
//   mxpulse_dnsbl_zone_unknown{zone}           1 when the test queries failed
//   mxpulse_dnsbl_zone_listed_targets{zone}    targets listed on the zone (healthy zones)
//
// History: sql/0003_dnsbl.sql keeps listing episodes (listed_since,
//   delisted_at) from the results the store writes (view v_dnsbl_listings).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/adhoc.hpp"
#include "agent/job.hpp"
#include "jobs/dnsbl_zones.hpp"
#include "probes/dns.hpp"

namespace mxpulse::jobs {

/// One configured zone.
struct DnsblZone {
  dnsbl::ZoneProfile profile;  ///< public name, type, codes, test points
  std::string queryZone;       ///< the name queried (DQS form holds the key!)
  Status severity = Status::Critical;
  /// Severity by code ("127.0.0.10") or category ("pbl_isp"); wins over `severity`.
  std::map<std::string, Status> codeSeverity;
  std::optional<double> rateLimit;  ///< queries/second; unset = the job's
  bool canary = true;
};

struct DnsblParams {
  std::vector<std::string> inventories;
  std::vector<std::string> ips;      ///< literal targets (canonical text)
  std::vector<std::string> domains;  ///< literal targets (lower case, no dot)
  bool checkIps = true, checkDomains = true;
  std::vector<DnsblZone> zones;
  std::vector<std::string> resolvers;
  std::chrono::milliseconds attemptTimeout{2000};
  int attempts = 3;
  double rateLimit = 50;  ///< queries/second per zone; 0 = off
  size_t maxInFlight = 256;
  bool fetchReason = true;
  std::string dqsKey;  ///< secret; only ever inside queryZone
};

struct DnsblTarget {
  std::string value;  ///< canonical IP text or domain
  bool isIp = false;
  bool v6 = false;
};

/// The test-point answers of one zone.
struct DnsblZoneObservation {
  bool queried = false;
  probes::DnsAnswer listedProbe, cleanProbe;
};

/// One (target, zone) lookup. A sweep holds one per pair, so the rare TXT
/// answer (listings only) lives out of line.
struct DnsblLookup {
  size_t target = 0, zone = 0;
  probes::DnsAnswer a;
  bool txtQueried = false;
  std::shared_ptr<const probes::DnsAnswer> txt;  ///< set when the TXT answer came
};

/// What the I/O shell saw; the evaluator sees nothing else.
struct DnsblObservations {
  std::vector<DnsblTarget> targets;
  std::vector<DnsblZoneObservation> zones;  ///< index-aligned with params.zones
  std::vector<DnsblLookup> lookups;
  std::string stopped;  ///< why the sweep ended early ("" = it did not)
};

enum class ZoneHealthState { Healthy, Unhealthy, Unknown };

struct ZoneHealth {
  ZoneHealthState state = ZoneHealthState::Unknown;
  std::string
      cause;  ///< "", "public_resolver", "dead_list", "wildcard", "rewriting", "resolver_error"
  std::string reason;  ///< one line for people
};

/// Three outcomes of one (target, zone) lookup.
struct DnsblOutcome {
  enum Kind { Listed, Clean, Unknown } kind = Unknown;
  Status status = Status::Unknown;
  std::vector<std::string> codes;  ///< A answers, sorted
  std::string code;                ///< the code that set the status
  std::string category, meaning;   ///< of all listing codes, joined
  std::string error;               ///< why unknown
};

/// Parses `params`; errors go to the reader. nullopt when invalid.
std::optional<DnsblParams> parseDnsblParams(MapReader& params, const JobBuildEnv& env);

/// Targets from the literal lists and the inventories, de-duplicated, in order.
std::vector<DnsblTarget> collectDnsblTargets(
    const DnsblParams& params, const std::vector<const InventorySnapshot*>& inventories);
/// Whether `target` is queried on `zone` (IPs on IP zones, IPv6 only where
/// the zone answers it, domains on domain zones).
bool dnsblApplies(const DnsblTarget& target, const DnsblZone& zone);
/// The query name of a target on a zone (`queryZone`).
std::string dnsblQueryName(const DnsblTarget& target, const DnsblZone& zone);

/// Pure: a zone's health from its test-point answers.
ZoneHealth assessDnsblZone(const DnsblZone& zone, const DnsblZoneObservation& obs);
/// Pure: the outcome of one A lookup.
DnsblOutcome classifyDnsblAnswer(const DnsblZone& zone, const probes::DnsAnswer& answer);
/// Pure: observations -> results and samples. `now` is the run's time.
JobOutput evaluateDnsbl(const DnsblParams& params, const DnsblObservations& obs,
                        std::chrono::system_clock::time_point now);
/// The thin I/O shell: every query through one asynchronous resolver.
DnsblObservations observeDnsbl(const DnsblParams& params, std::vector<DnsblTarget> targets,
                               probes::DnsResolver& resolver, Deadline deadline,
                               const std::function<bool()>& stopRequested);

JobKind dnsblKind();
/// `mxpulse check dnsbl TARGET... [--zone Z]... [--resolver HOST:PORT]...`
AdHocCheck dnsblAdHocCheck();

}  // namespace mxpulse::jobs
