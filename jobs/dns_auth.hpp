// SPDX-License-Identifier: Apache-2.0
// dns_auth: the DNS side of sending mail, for each sending domain and IP.
//
// What it checks (check name, target)
//   spf               domain       the SPF record: syntax, DNS-lookup cost of
//                                  the worst case (an IP matching nothing),
//                                  void lookups, the default for other IPs
//   spf               "domain ip"  check_host() for each of our sending IPs
//   dkim              "selector._domainkey.domain"  key present (CNAMEs
//                                  followed), tags valid, key parsed and strong
//   dmarc             domain       exactly one valid record (else the
//                                  organisational domain's), policy, pct, rua
//   dmarc_report_auth "domain dest"  an external rua/ruf destination is
//                                  authorised by <domain>._report._dmarc.<dest>
//   mx                domain       MX present (or a null MX), every host has an
//                                  address and is not a CNAME
//   ptr               ip           PTR exists, forward-confirms (FCrDNS), and
//                                  names the configured HELO
//   mta_sts           domain       _mta-sts id, HTTPS policy (verified, no
//                                  redirects, 64 KB cap), MX coverage
//   tls_rpt           domain       _smtp._tls record (v=TLSRPTv1, rua)
// Standards: RFC 7208 (SPF), RFC 6376 and 8463 (DKIM), RFC 7489 plus the np,
// psd and t tags of RFC 9989 (DMARC), RFC 8461 (MTA-STS), RFC 8460
// (TLS-RPT), RFC 7505 (null MX), RFC 1912 / FCrDNS practice for PTR.
//
// Severity
//   unknown   any DNS failure (SERVFAIL, timeout, refused) on a lookup the
//             verdict depends on, with the reason: never "missing" or "fail"
//   critical  SPF: no record, permerror, more than 10 lookups or too many
//             void lookups, +all or ?all (or no all), +all in an include, one
//             of our IPs not passing. DKIM: no key, invalid record, revoked
//             key, RSA under dkim_crit_bits. DMARC: no record, several,
//             invalid. MX: none, a host without address. PTR: none, not
//             forward-confirmed. MTA-STS: invalid record or policy, policy
//             not fetchable (certificate, status, size, redirect), enforce
//             mode not covering an MX host. TLS-RPT: invalid or several.
//   warning   SPF: 9-10 lookups (spf_lookup_warn). DKIM: RSA under
//             dkim_warn_bits, t=y, sha1-only. DMARC: p=none, pct<100, no
//             rua, an unauthorised external rua. MX: CNAME host. PTR: name
//             differs from HELO. MTA-STS: testing/none mode, max_age < 1 day,
//             uncovered MX in testing mode. TLS-RPT: missing while MTA-STS
//             is published.
//
// Metrics (gauges; `job` label added by the framework; a value is only
// written when it is known, never as 0 for "could not tell")
//   mxpulse_spf_lookups{domain}            DNS terms of the worst case
//   mxpulse_spf_void_lookups{domain}
//   mxpulse_spf_pass{domain,ip}            1 pass, 0 any definite other result
//   mxpulse_dkim_key_bits{domain,selector} RSA modulus bits, 256 for ed25519
//   mxpulse_dmarc_policy{domain}           applied policy: 0 none, 1 quarantine, 2 reject
//   mxpulse_dmarc_pct{domain}
//   mxpulse_mx_hosts{domain}               MX hosts (0 for a null MX)
//   mxpulse_ptr_fcrdns{ip}                 1 forward-confirmed, 0 not
//   mxpulse_mta_sts_enforce{domain}        1 mode enforce, 0 otherwise
//   mxpulse_mta_sts_max_age_seconds{domain}
//   mxpulse_dns_auth_dns_questions         distinct DNS questions the run sent
// Statuses go out through the framework's mxpulse_check_status.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/adhoc.hpp"
#include "agent/job.hpp"
#include "probes/dns.hpp"
#include "probes/https_fetch.hpp"
#include "probes/spf.hpp"

namespace mxpulse::jobs {

/// One sending domain (from params or a `domains` inventory).
struct DnsAuthDomain {
  std::string domain;
  std::vector<std::string> selectors;  ///< DKIM selectors
  std::vector<std::string> ips;        ///< sending IPs (SPF per IP, PTR)
  std::string helo;                    ///< HELO of those IPs
};

/// A sending IP checked for PTR only (params `ips` or an `ips` inventory).
struct DnsAuthIp {
  std::string ip;
  std::string helo;
};

struct DnsAuthParams {
  std::vector<std::string> inventories;  ///< `domains` or `ips` inventories
  std::vector<DnsAuthDomain> domains;
  std::vector<DnsAuthIp> ips;
  std::set<std::string> checks;        ///< spf dkim dmarc mx ptr mta_sts tls_rpt
  std::vector<std::string> resolvers;  ///< "" = JobBuildEnv, then /etc/resolv.conf
  std::chrono::milliseconds dnsTimeout{2000};
  int dnsAttempts = 3;
  int concurrency = 32;  ///< checks in flight at once
  int spfLookupWarn = 9;
  int spfVoidLimit = 2;
  int dkimWarnBits = 2048;
  int dkimCritBits = 1024;
  int mtaStsPort = 443;
  std::string mtaStsCaFile;  ///< "" = system trust store
  std::chrono::milliseconds mtaStsTimeout{10000};
  long long mtaStsMinMaxAge = 86400;

  bool wants(const std::string& check) const { return checks.count(check) > 0; }
};

// --- Observations: what the I/O shell found, per check --------------------

struct SpfObservation {
  std::string domain;
  probes::spf::Evaluation audit;  ///< the walk for an IP matching nothing
  std::vector<std::pair<std::string, probes::spf::Evaluation>> perIp;
};

struct DkimObservation {
  std::string domain, selector;
  probes::DnsAnswer answer;  ///< TXT at selector._domainkey.domain
};

struct DmarcObservation {
  std::string domain;
  std::string recordDomain;          ///< where records were found ("" = nowhere)
  probes::DnsAnswer answer;          ///< TXT at _dmarc.<recordDomain>, or the failing one
  std::vector<std::string> queried;  ///< _dmarc names asked, in order
  bool dnsError = false;
  std::string dnsErrorText;
  /// External destination domain -> TXT at <recordDomain>._report._dmarc.<dest>
  std::map<std::string, probes::DnsAnswer> reportAuth;
};

struct MxHostObservation {
  std::string name;
  int preference = 0;
  probes::DnsAnswer a, aaaa;
};

struct MxObservation {
  std::string domain;
  probes::DnsAnswer mx;
  std::vector<MxHostObservation> hosts;
};

struct PtrObservation {
  std::string ip, helo;
  probes::DnsAnswer ptr;
  std::vector<std::pair<std::string, probes::DnsAnswer>> forward;  ///< name -> A/AAAA
};

struct StsObservation {
  std::string domain;
  probes::DnsAnswer txt;              ///< _mta-sts.<domain>
  bool attempted = false;             ///< a policy fetch was tried
  probes::DnsAnswer hostA, hostAaaa;  ///< mta-sts.<domain>
  probes::HttpsResponse response;
  std::string setupError;  ///< e.g. the CA file could not be loaded
  MxObservation mx;        ///< the domain's MX hosts, for coverage
};

struct TlsRptObservation {
  std::string domain;
  probes::DnsAnswer txt;  ///< _smtp._tls.<domain>
  bool stsPublished = false;
};

struct DnsAuthObservations {
  std::vector<SpfObservation> spf;
  std::vector<DkimObservation> dkim;
  std::vector<DmarcObservation> dmarc;
  std::vector<MxObservation> mx;
  std::vector<PtrObservation> ptr;
  std::vector<StsObservation> mtaSts;
  std::vector<TlsRptObservation> tlsRpt;
  size_t dnsQuestions = 0;  ///< distinct questions the run sent to the resolver
};

/// Parses `params`; errors go to the reader. nullopt when invalid.
std::optional<DnsAuthParams> parseDnsAuthParams(MapReader& params, const JobBuildEnv& env);

/// The domains and IPs of one run: params plus inventory items, deduplicated.
struct DnsAuthTargets {
  std::vector<DnsAuthDomain> domains;
  std::vector<DnsAuthIp> ips;  ///< every IP to PTR-check, with its HELO
};
DnsAuthTargets collectTargets(const DnsAuthParams& params, const JobContext* ctx);

/// Pure: observations -> results and samples.
JobOutput evaluateDnsAuth(const DnsAuthParams& params, const DnsAuthObservations& obs);
void evaluateSpf(const DnsAuthParams& params, const SpfObservation& obs, JobOutput& out);
void evaluateDkim(const DnsAuthParams& params, const DkimObservation& obs, JobOutput& out);
void evaluateDmarc(const DnsAuthParams& params, const DmarcObservation& obs, JobOutput& out);
void evaluateMx(const MxObservation& obs, JobOutput& out);
void evaluatePtr(const PtrObservation& obs, JobOutput& out);
void evaluateMtaSts(const DnsAuthParams& params, const StsObservation& obs, JobOutput& out);
void evaluateTlsRpt(const TlsRptObservation& obs, JobOutput& out);

/// The I/O shell: runs every lookup through `resolver` (blocking resolve()
/// on `params.concurrency` threads; the resolver's cache makes shared
/// includes cost one query), fetches MTA-STS policies, by `deadline`.
DnsAuthObservations observeDnsAuth(const DnsAuthParams& params, const DnsAuthTargets& targets,
                                   probes::DnsResolver& resolver, Deadline deadline,
                                   std::int64_t now);

/// Resolvers for a run: params, else the global ones, else /etc/resolv.conf.
std::vector<std::string> effectiveResolvers(const DnsAuthParams& params,
                                            const std::string& resolvConf = "/etc/resolv.conf");

JobKind dnsAuthKind();
/// `mxpulse check spf|dkim|dmarc|mx|ptr|mta-sts`, defined in dns_auth_adhoc.cpp.
std::vector<AdHocCheck> dnsAuthAdHocChecks();

}  // namespace mxpulse::jobs
