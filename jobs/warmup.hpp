// SPDX-License-Identifier: Apache-2.0
// warmup: the lifecycle of each sending IP, its warmup plan, and the
// MailWizz delivery server quotas and status that follow from them.
//
// What it checks
//   warmup                    per IP: lifecycle state (ACTIVE, RETIRING, RESTING,
//                             WARMING, QUARANTINE, STANDBY; see
//                             jobs/warmup_lifecycle.hpp), plan day, target
//                             quota, bounce and complaint rates over the window
//   ip_transition             per IP: the transitions since the last run, by the
//                             agent or an operator (`mxpulse ip set`)
//   mailwizz_sync             per IP: is its delivery server's status and
//                             hourly/daily(/monthly) quota what the state
//                             implies; writes it (one MySQL transaction for
//                             all servers) unless dry_run
//   mailwizz_warmup_conflict  per IP: MailWizz's own warmup plan is attached
//                             (warmup_plan_id set): the server is never touched
//   accounting                PowerMTA accounting files read this run (when
//                             health.source is accounting)
// Signals: bounces/deliveries/complaints per source IP from PowerMTA
// accounting CSV (by header name, new bytes only, rotation-safe) or from
// MailWizz's usage/bounce/complaint logs; DNSBL listings from any job's
// `dnsbl` results in the state DB (v_latest, target "<ip> <zone>",
// critical = listed on a critical zone). Standards: none; MailWizz facts
// from ../shared/reference/formats.md section 1 (quota 0 = unlimited,
// status active/in-use = sending, UTC session, 5-minute quota cache:
// MailWizz applies a direct UPDATE within about 5 minutes).
//
// State: the job never writes SQLite during run(). It reads its tables
// (sql/0004_warmup.sql) read-only and returns its changes as
// JobOutput::stateWrites, which the store applies in the transaction that
// records the run, guarded by an optimistic revision (jobs/warmup_store.hpp).
// MySQL failure (down, timeout, killed): the transaction rolls back,
// mailwizz_sync is unknown, audit rows say rolled_back, and the next run
// retries; the IP state in SQLite is still committed consistently.
//
// Severity
//   warmup: QUARANTINE -> critical; a sending IP with rates over the limits
//     (held, rolled back) -> warning; otherwise ok
//   ip_transition: a transition since the last run -> warning, else ok
//   mailwizz_sync: MySQL unreachable or the write rolled back -> unknown;
//     drift, a missing server or a status not ours -> warning; else ok
//   mailwizz_warmup_conflict: plan attached -> warning, else ok
//   accounting: a file unreadable or no file matching -> unknown, else ok
//
// Metrics (gauges; `job` label added by the framework)
//   mxpulse_warmup_ip_state{ip,state} (1 for the current state, 0 for others),
//   mxpulse_warmup_plan_day{ip}, mxpulse_warmup_plan_length{ip} (days),
//   mxpulse_warmup_target_quota_messages{ip,period="hourly|daily"},
//   mxpulse_warmup_applied_quota_messages{ip,period} (as in MailWizz after the run),
//   mxpulse_warmup_window_sent_messages{ip}, mxpulse_warmup_bounce_ratio{ip},
//   mxpulse_warmup_complaint_ratio{ip}, mxpulse_warmup_mailwizz_up (1/0)
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/duration.hpp"
#include "agent/job.hpp"
#include "jobs/warmup_lifecycle.hpp"
#include "jobs/warmup_plan.hpp"
#include "jobs/warmup_store.hpp"
#include "jobs/warmup_sync.hpp"
#include "probes/mailwizz.hpp"
#include "probes/pmta_accounting.hpp"

namespace mxpulse::jobs {

struct WarmupServer {
  std::string ip;  ///< canonical
  long long serverId = 0;
  std::string plan;
  IpState initialState = IpState::Warming;
};

struct WarmupParams {
  bool dryRun = false;
  std::vector<WarmupServer> servers;
  std::string serversInventory;  ///< a delivery_servers inventory (server_id, ip)
  std::string defaultPlan = "default";
  IpState initialState = IpState::Warming;
  std::map<std::string, WarmupPlan> plans;
  LifecyclePolicy policy;
  bool monthlyQuota = false;
  std::string healthSource = "accounting";  ///< accounting | mailwizz
  std::vector<std::string> accountingFiles;
  std::string ipField = "dlvSourceIp";
  std::string timeField = "timeLogged";
  std::uint64_t maxReadBytes = 64ull << 20;
  bool sync = true;
  probes::MysqlParams mysql;
  std::string tablePrefix = "mw_";
  DriftPolicy onDrift = DriftPolicy::Report;
  std::string stateDb;
};

/// What the I/O shell read; the evaluators see nothing else.
struct WarmupObservations {
  bool stateOk = false;
  std::string stateError;
  WarmupState state;
  std::vector<WarmupServer> servers;  ///< from params or the inventory
  // PowerMTA accounting (health.source: accounting)
  struct FileRead {
    std::string path;
    probes::AcctReadResult result;
  };
  std::vector<FileRead> files;
  std::map<std::string, std::map<std::int64_t, HealthCounts>> acctDeltas;  ///< ip -> hour
  long long acctOtherIps = 0;  ///< records of IPs this job does not manage
  // MailWizz
  bool mailwizzOk = false;
  std::string mailwizzError;
  probes::MailwizzSchema schema;
  std::map<long long, probes::MailwizzServer> rows;
  bool usageOk = false;
  std::vector<probes::MailwizzUsage> usage;
};

/// The pure part before any write: lifecycle decisions and sync plans.
struct WarmupPlanned {
  std::vector<IpDecision> decisions;  ///< in server order
  std::vector<ServerSyncPlan> sync;   ///< in server order (empty when sync is off)
};

/// What happened to the MailWizz write (the shell fills it in).
struct SyncOutcome {
  bool attempted = false;  ///< there were changes and not dry_run
  bool ok = false;
  std::string error;
};

std::optional<WarmupParams> parseWarmupParams(MapReader& params, const JobBuildEnv& env);

/// Hours of counters a run needs: max(window, 8 days) before `now`.
std::int64_t warmupLookbackStart(const WarmupParams& params, std::int64_t now);
/// Pure: observations + now -> decisions and sync plans.
WarmupPlanned planWarmup(const WarmupParams& params, const WarmupObservations& obs,
                         std::int64_t now);
/// Pure: results, samples and the state writes of the run (none on dry_run).
JobOutput reportWarmup(const WarmupParams& params, const std::string& jobName,
                       const WarmupObservations& obs, const WarmupPlanned& planned,
                       const SyncOutcome& outcome, std::int64_t now, const std::string& token);

/// Test seams for the I/O shell: a hook run after each MySQL UPDATE.
void setWarmupSyncHook(Job& job, std::function<void(size_t)> hook);
/// A copy of a warmup job that writes nothing (for `mxpulse ip plan`), or
/// nullptr if `job` is not a warmup job.
std::shared_ptr<Job> warmupDryRunCopy(const Job& job);
/// The params of a warmup job (nullptr for other kinds).
const WarmupParams* warmupParamsOf(const Job& job);

JobKind warmupKind();

}  // namespace mxpulse::jobs
