// SPDX-License-Identifier: Apache-2.0
// pmta: PowerMTA queues, backoff and traffic, read from its HTTP management
// interface (or, when that cannot be read, from `pmta --dom show ...`).
//
// What it checks
//   pmta_queue           target "total": recipients (and messages, when
//                        reported) queued over all queue kinds, connections
//                        in/out, traffic totals, last hour and last minute.
//   pmta_domain_queue    per destination domain over a threshold (queue
//                        depth or oldest-message age) and per domain listed
//                        in `domains` (always reported, even when fine).
//   pmta_vmta            per VMTA with a queue in backoff, and per VMTA
//                        listed in `vmtas`: queues in backoff, the backoff
//                        reason (pattern/SMTP reply) and the last errors.
//   pmta_disabled_source per queue (domain/vmta) with disabled source IPs.
//   pmta_queues          target "queues": only when the queue list could not
//                        be read while the status could (backoff unknown).
// Standard: PowerMTA's HTTP management interface (`http-mgmt-port`,
//   GET /status, /queues, /domains, /vmtas with ?format=xml, root <rsp><data>)
//   and the `--dom` CLI output, per reference/formats.md §2. No public XML
//   sample exists: the parser reads elements by name and treats missing
//   numbers as 0. `oldest` (time of the oldest message), `backoffReason` and
//   `disabledSource` are read where PowerMTA serves them (unverified names).
//
// Severity
//   total recipients >= queue_crit / queue_warn            -> critical / warning
//   a domain's recipients >= domain_queue_crit / _warn     -> critical / warning
//   a domain's oldest message older than oldest_crit/_warn -> critical / warning
//   a VMTA with a queue in backoff                         -> `backoff` (warning)
//   a queue with disabled source IPs                       -> `disabled_source` (warning)
//   HTTP and CLI both unreadable                           -> unknown, with both reasons
//   queue list unreadable                                  -> unknown (pmta_queues,
//                                                             watched domains/VMTAs)
//   A threshold of 0 is off.
//
// Metrics (gauges unless noted; `job` label added by the framework; domain
//   and vmta labels are the top N by queue depth plus "other")
//   mxpulse_pmta_up{source}                      1 read, 0 not (source http|cli|none)
//   mxpulse_pmta_queued_recipients               all queue kinds
//   mxpulse_pmta_queued_messages                 when PowerMTA reports it
//   mxpulse_pmta_queued_bytes
//   mxpulse_pmta_connections{direction}          in | out
//   mxpulse_pmta_traffic_recipients_total{direction}  counter since PowerMTA start
//   mxpulse_pmta_traffic_messages_total{direction}    counter
//   mxpulse_pmta_traffic_bytes_total{direction}       counter
//   mxpulse_pmta_last_hour_recipients{direction}
//   mxpulse_pmta_domain_queued_recipients{domain}
//   mxpulse_pmta_domain_oldest_message_timestamp_seconds{domain}  where known
//   mxpulse_pmta_vmta_queued_recipients{vmta}
//   mxpulse_pmta_vmta_backoff_queues{vmta}       queues of the VMTA in backoff
//   mxpulse_pmta_backoff_queues, mxpulse_pmta_paused_queues,
//   mxpulse_pmta_disabled_sources                (only when the queue list was read)
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "agent/job.hpp"
#include "probes/pmta_client.hpp"

namespace mxpulse::jobs {

struct PmtaParams {
  probes::PmtaHttpSettings http;  ///< url, basic auth, size cap, maxItems
  bool cliFallback = true;
  probes::PmtaCliSettings cli;
  std::int64_t queueWarn = 50000, queueCrit = 200000;  ///< total recipients; 0 = off
  std::int64_t domainQueueWarn = 10000, domainQueueCrit = 50000;
  std::int64_t oldestWarnSeconds = 6 * 3600, oldestCritSeconds = 24 * 3600;
  Status backoffStatus = Status::Warning;         ///< Ok turns the check off
  Status disabledSourceStatus = Status::Warning;  ///< Ok turns the check off
  size_t topDomains = 10, topVmtas = 20;
  std::vector<std::string> domains;  ///< always reported
  std::vector<std::string> vmtas;    ///< always reported
};

/// What the I/O shell read; the evaluator sees nothing else.
struct PmtaObservations {
  probes::PmtaSnapshot snapshot;
  std::string httpError;  ///< set when HTTP failed (and the CLI was tried)
};

std::optional<PmtaParams> parsePmtaParams(MapReader& params, const JobBuildEnv& env);
/// Pure: observations and `now` (for message ages) -> results and samples.
JobOutput evaluatePmta(const PmtaParams& params, const PmtaObservations& obs, std::int64_t now);
/// HTTP first; the CLI when HTTP fails and the fallback is on.
PmtaObservations observePmta(const PmtaParams& params, Deadline deadline);

JobKind pmtaKind();

}  // namespace mxpulse::jobs
