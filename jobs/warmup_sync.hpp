// SPDX-License-Identifier: Apache-2.0
// What the warmup job would change in MailWizz, as a pure function of the
// lifecycle decision, the delivery server row as read and what the agent
// last wrote (from its audit table).
//
// - status: a sending state (ACTIVE, WARMING, RETIRING) needs the server
//   enabled (active, or in-use which MailWizz sets itself while sending);
//   QUARANTINE, RESTING and STANDBY need it inactive. Quotas of a disabled
//   server are left alone (writing 0 would mean "unlimited").
// - quotas: hourly_quota and daily_quota (and monthly_quota = 30 x daily
//   when configured) while the state sends.
// - a server with MailWizz's own warmup plan (warmup_plan_id set) is never
//   touched: MailWizz's hourly cron would overwrite our quotas.
// - drift: a managed field whose value differs from what we last wrote and
//   from what we want now was edited by hand; on_drift decides whether we
//   overwrite it or leave the server alone and report.
// - a status MailWizz or an operator set that is not ours (disabled,
//   hidden, pending-delete) is reported and left alone.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "jobs/warmup_lifecycle.hpp"
#include "probes/mailwizz.hpp"

namespace mxpulse::jobs {

enum class DriftPolicy { Report, Overwrite };

struct SyncTarget {
  std::string ip;
  long long serverId = 0;
  IpState state = IpState::Warming;
  bool sends = false;
  std::optional<PlanDay> quota;
  bool writeMonthly = false;
};

struct FieldChange {
  std::string field, from, to;
};

enum class SyncAction { InSync, Update, PlanConflict, Missing, ForeignStatus, DriftHeld };
const char* syncActionName(SyncAction a);

struct ServerSyncPlan {
  SyncTarget target;
  SyncAction action = SyncAction::InSync;
  std::optional<probes::MailwizzServer> current;
  std::vector<FieldChange> changes;
  std::vector<std::string> drift;  ///< "daily_quota is 9,000 but we last wrote 5,000"
};

/// `lastWritten`: field -> value from the newest applied audit row.
ServerSyncPlan planServerSync(const SyncTarget& target,
                              const std::optional<probes::MailwizzServer>& row,
                              const std::map<std::string, std::string>& lastWritten,
                              DriftPolicy policy, bool monthlySupported);

/// The UPDATE a plan needs (only for SyncAction::Update).
probes::MailwizzChange toMailwizzChange(const ServerSyncPlan& plan);

}  // namespace mxpulse::jobs
