// SPDX-License-Identifier: Apache-2.0
// The sending-IP lifecycle as a pure function: current state + health
// observations + DNSBL listings + an injected `now` -> transitions, plan
// progress and the quota each IP should have. No I/O, no clock.
//
//   ACTIVE -> RETIRING -> RESTING -> WARMING -> ACTIVE        (schedule)
//   any -> QUARANTINE   listed on a critical DNSBL zone; or, while sending,
//                       bounce/complaint rate >= severe_factor x limit
//   QUARANTINE -> WARMING   listing gone (no critical and no unknown DNSBL
//                       row) for release_after; health quarantines after
//                       release_after; operator quarantines never by rule
//   STANDBY -> ACTIVE (or WARMING when idle > standby_cold_after, since
//                       reputation fades in ~30 days) when an ACTIVE IP is
//                       quarantined (by the agent, or by an operator since
//                       the last run)
//
// WARMING: at each UTC day boundary the plan day advances by the days that
// count (calendar days, or sending days with >= sending_day_min of the
// quota sent) unless the window's bounce or complaint rate is over its
// limit (hold). At severe_factor x limit the plan rolls back rollback_days
// (at most once per window) or, with on_severe: quarantine, the IP is
// quarantined. Rates need min_volume messages in the window; with fewer
// the plan neither holds nor rolls back.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/status.hpp"
#include "jobs/warmup_plan.hpp"

namespace mxpulse::jobs {

enum class IpState { Active, Retiring, Resting, Warming, Quarantine, Standby };

const char* ipStateName(IpState s);
/// Case-insensitive ("warming", "WARMING").
std::optional<IpState> parseIpState(std::string_view name);
const std::vector<IpState>& allIpStates();
/// States in which MailWizz may send through the IP's server.
bool ipStateSends(IpState s);

struct IpRecord {
  IpState state = IpState::Warming;
  std::int64_t since = 0;
  std::string cause;  ///< initial | plan | schedule | dnsbl | health | standby | release | operator
  std::string reason;
  std::string actor = "agent";  ///< agent | operator
};

struct WarmupProgress {
  std::string plan;
  int day = 1;
  std::string dayDate;  ///< UTC date whose boundary was processed last
  std::int64_t startedAt = 0;
  int heldDays = 0;
  int rollbacks = 0;
  std::int64_t lastRollbackAt = 0;
  std::string lastAction;
};

struct HealthCounts {
  long long sent = 0, bounced = 0, complaints = 0;
};

struct HealthView {
  bool known = true;  ///< false when the signal source failed this run
  std::string error;
  HealthCounts window;                          ///< over LifecyclePolicy::window
  std::map<std::string, long long> sentByDate;  ///< UTC date -> messages sent
};

struct DnsblView {
  std::vector<std::string> listedZones;   ///< critical rows (listed on a critical zone)
  std::vector<std::string> unknownZones;  ///< rows whose lookup could not tell
  int rows = 0;                           ///< dnsbl rows for the IP in the state DB
  std::int64_t clearSince = 0;            ///< latest `since` among the IP's ok rows
};

struct IpInput {
  std::string ip;
  std::string plan = "default";
  IpState initialState = IpState::Warming;
  std::optional<IpRecord> record;  ///< none: seen for the first time
  std::optional<WarmupProgress> progress;
  HealthView health;
  DnsblView dnsbl;
  /// An operator moved this IP from ACTIVE to QUARANTINE since the last
  /// run: a STANDBY IP takes over, as when the agent quarantines it.
  bool quarantinedFromActiveByOperator = false;
};

struct LifecyclePolicy {
  std::int64_t activeFor = 0;  ///< seconds ACTIVE before RETIRING; 0 = never
  std::int64_t retireFor = 7 * 86400;
  std::int64_t restFor = 30 * 86400;
  std::int64_t releaseAfter = 7 * 86400;
  std::int64_t standbyColdAfter = 30 * 86400;
  std::int64_t window = 86400;
  long long minVolume = 100;
  double bounceLimit = 0.05;
  double complaintLimit = 0.001;
  double severeFactor = 2.0;
  bool severeQuarantines = false;  ///< on_severe: quarantine (else rollback)
  int rollbackDays = 3;
  std::optional<PlanDay> activeQuota;  ///< default: the plan's last day
};

struct Transition {
  std::optional<IpState> from;
  IpState to = IpState::Warming;
  std::string cause, reason;
};

enum class HealthVerdict { Unknown, Insufficient, Ok, OverLimit, Severe };
const char* healthVerdictName(HealthVerdict v);

struct IpDecision {
  std::string ip;
  IpRecord record;  ///< after this run
  bool recordChanged = false;
  std::vector<Transition> transitions;     ///< made by this run, in order
  std::optional<WarmupProgress> progress;  ///< after this run (WARMING only)
  bool progressChanged = false;
  bool progressDropped = false;  ///< had progress, no longer WARMING
  HealthVerdict health = HealthVerdict::Unknown;
  HealthCounts window;  ///< the counts the rates come from
  double bounceRate = 0, complaintRate = 0;
  bool sends = false;            ///< MailWizz status should be enabled
  std::optional<PlanDay> quota;  ///< target quota while sending
  int planLength = 0;
  std::vector<std::string> notes;  ///< held, rolled back, release waits...
  Status status = Status::Ok;
  std::string summary;
};

std::vector<IpDecision> evaluateLifecycle(const LifecyclePolicy& policy,
                                          const std::map<std::string, WarmupPlan>& plans,
                                          const std::vector<IpInput>& inputs, std::int64_t now);

/// Plan day 1 of `plan`, starting `now`.
WarmupProgress freshProgress(const std::string& plan, std::int64_t now);

/// Bounce and complaint verdict of a window (pure, shared with summaries).
HealthVerdict judgeHealth(const LifecyclePolicy& policy, const HealthView& h, double& bounceRate,
                          double& complaintRate);

/// "2026-05-03" for a Unix time (UTC); and days since 1970-01-01 of such a date.
std::string utcDate(std::int64_t unixSeconds);
std::int64_t daysFromDate(const std::string& date);
/// 12345 -> "12,345"
std::string groupDigits(long long v);
std::string formatRate(double rate);

}  // namespace mxpulse::jobs
