// SPDX-License-Identifier: Apache-2.0
#include "jobs/warmup_sync.hpp"

namespace mxpulse::jobs {

namespace {

/// Status compared by what it means for sending ("in-use" == "active").
std::string statusClass(const std::string& s) {
  if (probes::mailwizzStatusEnabled(s)) return "active";
  return s;
}

std::string fieldValue(const probes::MailwizzServer& s, const std::string& field) {
  if (field == "status") return s.status;
  if (field == "hourly_quota") return std::to_string(s.hourlyQuota);
  if (field == "daily_quota") return std::to_string(s.dailyQuota);
  return std::to_string(s.monthlyQuota);
}

std::string shown(const std::string& field, const std::string& v) {
  if (field == "status") return "'" + v + "'";
  try {
    return groupDigits(std::stoll(v));
  } catch (...) {
    return v;
  }
}

}  // namespace

const char* syncActionName(SyncAction a) {
  switch (a) {
    case SyncAction::InSync:
      return "in_sync";
    case SyncAction::Update:
      return "update";
    case SyncAction::PlanConflict:
      return "mailwizz_warmup_plan";
    case SyncAction::Missing:
      return "missing";
    case SyncAction::ForeignStatus:
      return "foreign_status";
    case SyncAction::DriftHeld:
      return "drift";
  }
  return "missing";
}

ServerSyncPlan planServerSync(const SyncTarget& target,
                              const std::optional<probes::MailwizzServer>& row,
                              const std::map<std::string, std::string>& lastWritten,
                              DriftPolicy policy, bool monthlySupported) {
  ServerSyncPlan plan;
  plan.target = target;
  plan.current = row;
  if (!row) {
    plan.action = SyncAction::Missing;
    return plan;
  }
  if (row->warmupPlanId) {
    plan.action = SyncAction::PlanConflict;
    return plan;
  }
  // What we want, field by field ("" = leave alone).
  std::map<std::string, std::string> want;
  bool enabled = probes::mailwizzStatusEnabled(row->status);
  if (target.sends) {
    if (!enabled && row->status != "inactive") {
      plan.action = SyncAction::ForeignStatus;
      return plan;
    }
    want["status"] = enabled ? row->status : "active";
    if (target.quota) {
      want["hourly_quota"] = std::to_string(target.quota->hourly);
      want["daily_quota"] = std::to_string(target.quota->daily);
      if (target.writeMonthly && monthlySupported)
        want["monthly_quota"] = std::to_string(target.quota->daily * 30);
    }
  } else {
    want["status"] = enabled ? "inactive" : row->status;  // disabled/hidden already stop sending
  }
  for (const auto& [field, value] : want) {
    std::string now = fieldValue(*row, field);
    auto last = lastWritten.find(field);
    bool changedByHand =
        last != lastWritten.end() &&
        (field == "status" ? statusClass(now) != statusClass(last->second) : now != last->second);
    bool wanted = field == "status" ? statusClass(now) == statusClass(value) : now == value;
    if (changedByHand && !wanted)
      plan.drift.push_back(field + " is " + shown(field, now) + " but we last wrote " +
                           shown(field, last->second));
    if (!wanted) plan.changes.push_back(FieldChange{field, now, value});
  }
  if (!plan.drift.empty() && policy == DriftPolicy::Report) {
    plan.action = SyncAction::DriftHeld;
    plan.changes.clear();
    return plan;
  }
  plan.action = plan.changes.empty() ? SyncAction::InSync : SyncAction::Update;
  return plan;
}

probes::MailwizzChange toMailwizzChange(const ServerSyncPlan& plan) {
  probes::MailwizzChange c;
  if (plan.current) c.expect = *plan.current;
  for (const auto& ch : plan.changes) {
    if (ch.field == "status")
      c.status = ch.to;
    else if (ch.field == "hourly_quota")
      c.hourlyQuota = std::stoll(ch.to);
    else if (ch.field == "daily_quota")
      c.dailyQuota = std::stoll(ch.to);
    else if (ch.field == "monthly_quota")
      c.monthlyQuota = std::stoll(ch.to);
  }
  return c;
}

}  // namespace mxpulse::jobs
