// SPDX-License-Identifier: Apache-2.0
// reportWarmup: the results, metric samples and state writes of one run,
// as a pure function of what was observed, planned and written.
#include "jobs/warmup.hpp"

namespace mxpulse::jobs {

namespace {

const MetricDesc kIpState{"mxpulse_warmup_ip_state",
                          "Lifecycle state of the sending IP (1 for the current state).",
                          MetricType::Gauge};
const MetricDesc kPlanDay{"mxpulse_warmup_plan_day", "Warmup plan day in force for the IP.",
                          MetricType::Gauge};
const MetricDesc kPlanLength{"mxpulse_warmup_plan_length",
                             "Number of days in the IP's warmup plan.", MetricType::Gauge};
const MetricDesc kTarget{"mxpulse_warmup_target_quota_messages",
                         "Quota the lifecycle wants for the IP's delivery server (0 = unlimited).",
                         MetricType::Gauge};
const MetricDesc kApplied{"mxpulse_warmup_applied_quota_messages",
                          "Quota set on the IP's MailWizz delivery server after this run.",
                          MetricType::Gauge};
const MetricDesc kSent{"mxpulse_warmup_window_sent_messages",
                       "Messages sent from the IP over the health window.", MetricType::Gauge};
const MetricDesc kBounce{"mxpulse_warmup_bounce_ratio",
                         "Bounced share of the messages sent from the IP over the window.",
                         MetricType::Gauge};
const MetricDesc kComplaint{"mxpulse_warmup_complaint_ratio",
                            "Complaints per message sent from the IP over the window.",
                            MetricType::Gauge};
const MetricDesc kMailwizzUp{"mxpulse_warmup_mailwizz_up",
                             "Whether MailWizz's database could be read this run (1/0).",
                             MetricType::Gauge};

std::string quotaWord(long long v) {
  return v == 0 ? "unlimited" : groupDigits(v);
}

std::string changeText(const FieldChange& c) {
  auto shown = [&](const std::string& v) {
    if (c.field == "status") return "'" + v + "'";
    try {
      return quotaWord(std::stoll(v));
    } catch (...) {
      return v;
    }
  };
  return c.field + " " + shown(c.from) + " -> " + shown(c.to);
}

std::string joinChanges(const std::vector<FieldChange>& cs) {
  std::string out;
  for (const auto& c : cs) out += (out.empty() ? "" : ", ") + changeText(c);
  return out;
}

std::string joinText(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : "; ") + s;
  return out;
}

std::string serverText(const ServerSyncPlan& p) {
  std::string s = "server " + std::to_string(p.target.serverId);
  if (p.current && !p.current->hostname.empty()) s += " (" + p.current->hostname + ")";
  return s;
}

std::string stateBrief(const IpDecision& d) {
  std::string s = ipStateName(d.record.state);
  if (d.progress && d.record.state == IpState::Warming)
    s += " day " + std::to_string(d.progress->day) + "/" + std::to_string(d.planLength) +
         " of plan " + d.progress->plan;
  return s;
}

Json transitionFacts(const std::string& from, const std::string& to, std::int64_t at,
                     const std::string& cause, const std::string& reason, const std::string& actor,
                     const std::string& actorName) {
  Json t = Json::object();
  t.set("from", from.empty() ? Json() : Json(from));
  t.set("to", to);
  t.set("at", static_cast<long long>(at));
  t.set("cause", cause);
  t.set("reason", reason);
  t.set("actor", actor);
  t.set("actor_name", actorName);
  return t;
}

void ipResults(const WarmupParams& params, const std::string& jobName,
               const WarmupObservations& obs, const IpDecision& d, const WarmupServer& srv,
               std::int64_t now, JobOutput& out, WarmupWrites* writes) {
  const std::string prefix = params.dryRun ? "dry run: " : "";
  CheckResult r("warmup", d.ip, d.status, prefix + d.summary);
  r.facts.set("state", ipStateName(d.record.state));
  r.facts.set("since", static_cast<long long>(d.record.since));
  r.facts.set("cause", d.record.cause);
  r.facts.set("reason", d.record.reason);
  r.facts.set("server_id", srv.serverId);
  if (d.progress) {
    r.facts.set("plan", d.progress->plan);
    r.facts.set("plan_day", d.progress->day);
    r.facts.set("plan_days", d.planLength);
    r.facts.set("held_days", d.progress->heldDays);
    r.facts.set("rollbacks", d.progress->rollbacks);
  }
  if (d.quota) {
    r.facts.set("target_daily_quota", d.quota->daily);
    r.facts.set("target_hourly_quota", d.quota->hourly);
  }
  r.facts.set("health", healthVerdictName(d.health));
  r.facts.set("bounce_rate", d.bounceRate);
  r.facts.set("complaint_rate", d.complaintRate);
  Json notes = Json::array();
  for (const auto& n : d.notes) notes.push(n);
  r.facts.set("notes", notes);
  out.results.push_back(std::move(r));

  for (IpState s : allIpStates())
    out.samples.emplace_back(kIpState, Labels{{"ip", d.ip}, {"state", ipStateName(s)}},
                             s == d.record.state ? 1.0 : 0.0);
  if (d.progress && d.record.state == IpState::Warming) {
    out.samples.emplace_back(kPlanDay, Labels{{"ip", d.ip}}, d.progress->day);
    out.samples.emplace_back(kPlanLength, Labels{{"ip", d.ip}}, d.planLength);
  }
  if (d.quota) {
    out.samples.emplace_back(kTarget, Labels{{"ip", d.ip}, {"period", "daily"}},
                             static_cast<double>(d.quota->daily));
    out.samples.emplace_back(kTarget, Labels{{"ip", d.ip}, {"period", "hourly"}},
                             static_cast<double>(d.quota->hourly));
  }
  // Transitions since the last run: operators' (from the DB) and ours (now).
  Json list = Json::array();
  std::vector<std::string> lines;
  for (const auto& t : obs.state.newTransitions) {
    if (t.ip != d.ip) continue;
    list.push(transitionFacts(t.from, t.to, t.at, t.cause, t.reason, t.actor, t.actorName));
    lines.push_back((t.from.empty() ? std::string("new") : t.from) + " -> " + t.to + " (" +
                    t.actor + (t.actorName.empty() ? "" : " " + t.actorName) + "): " + t.reason);
  }
  for (const auto& t : d.transitions) {
    std::string from = t.from ? ipStateName(*t.from) : "";
    list.push(transitionFacts(from, ipStateName(t.to), now, t.cause, t.reason, "agent", jobName));
    lines.push_back((from.empty() ? std::string("new") : from) + " -> " + ipStateName(t.to) + ": " +
                    t.reason);
    if (writes) writes->addTransition(d.ip, t, now, "agent", jobName);
  }
  CheckResult tr("ip_transition", d.ip, lines.empty() ? Status::Ok : Status::Warning,
                 lines.empty() ? d.ip + " stays " + ipStateName(d.record.state)
                               : prefix + d.ip + " " + joinText(lines));
  tr.facts.set("transitions", list);
  out.results.push_back(std::move(tr));

  if (writes) {
    if (d.recordChanged) writes->saveIpState(d.ip, d.record, now);
    if (d.progress && d.progressChanged) writes->saveProgress(d.ip, *d.progress, now);
    if (d.progressDropped) writes->dropProgress(d.ip);
  }
}

void healthSamples(const IpDecision& d, JobOutput& out) {
  if (d.health == HealthVerdict::Unknown) return;
  out.samples.emplace_back(kSent, Labels{{"ip", d.ip}}, static_cast<double>(d.window.sent));
  if (d.window.sent > 0) {
    out.samples.emplace_back(kBounce, Labels{{"ip", d.ip}}, d.bounceRate);
    out.samples.emplace_back(kComplaint, Labels{{"ip", d.ip}}, d.complaintRate);
  }
}

void syncResults(const WarmupParams& params, const std::string& jobName,
                 const WarmupObservations& obs, const WarmupPlanned& planned,
                 const SyncOutcome& outcome, std::int64_t now, JobOutput& out,
                 WarmupWrites* writes) {
  out.samples.emplace_back(kMailwizzUp, Labels{}, obs.mailwizzOk ? 1.0 : 0.0);
  if (!obs.mailwizzOk) {
    for (const auto& srv : obs.servers) {
      CheckResult r("mailwizz_sync", srv.ip, Status::Unknown,
                    "server " + std::to_string(srv.serverId) + " not synced: " + obs.mailwizzError +
                        "; next run retries");
      r.facts.set("server_id", srv.serverId);
      r.facts.set("error", obs.mailwizzError);
      out.results.push_back(std::move(r));
      // Cannot tell, rather than silently dropping (and "resolving") it.
      CheckResult c("mailwizz_warmup_conflict", srv.ip, Status::Unknown,
                    "cannot tell whether server " + std::to_string(srv.serverId) +
                        " has a MailWizz warmup plan: " + obs.mailwizzError);
      c.facts.set("server_id", srv.serverId);
      out.results.push_back(std::move(c));
    }
    return;
  }
  const std::string table = params.tablePrefix + "delivery_server";
  for (size_t i = 0; i < planned.sync.size(); ++i) {
    const ServerSyncPlan& p = planned.sync[i];
    const IpDecision& d = planned.decisions[i];
    const std::string ip = p.target.ip;
    const std::string srv = serverText(p);
    if (p.current) {
      bool conflict = p.action == SyncAction::PlanConflict;
      CheckResult c("mailwizz_warmup_conflict", ip, conflict ? Status::Warning : Status::Ok,
                    conflict ? srv + " has MailWizz's own warmup plan #" +
                                   std::to_string(*p.current->warmupPlanId) +
                                   " attached; the agent does not touch it (MailWizz's hourly "
                                   "cron rewrites its quotas). Detach the plan to let mxpulse "
                                   "manage " +
                                   ip + ", or remove the IP from this job"
                    : obs.schema.warmupPlanId
                        ? srv + " has no MailWizz warmup plan attached"
                        : "this MailWizz has no warmup plans (before 2.1.10)");
      c.facts.set("server_id", p.target.serverId);
      if (conflict) c.facts.set("warmup_plan_id", *p.current->warmupPlanId);
      out.results.push_back(std::move(c));
    }
    if (p.action == SyncAction::PlanConflict) continue;

    Status status = Status::Ok;
    std::string summary;
    bool applied = false;
    switch (p.action) {
      case SyncAction::Missing:
        status = Status::Warning;
        summary = srv + " not found in " + table + "; " + ip + " is not synced";
        break;
      case SyncAction::ForeignStatus:
        status = Status::Warning;
        summary = srv + " has status '" + p.current->status +
                  "' (not set by mxpulse, which only switches active/inactive); left alone";
        break;
      case SyncAction::DriftHeld:
        status = Status::Warning;
        summary = "drift on " + srv + ": " + joinText(p.drift) +
                  " (edited by hand?); on_drift is report, so nothing was written";
        break;
      case SyncAction::InSync:
        summary = srv + " in sync: '" + p.current->status + "', " +
                  quotaWord(p.current->dailyQuota) + "/day, " + quotaWord(p.current->hourlyQuota) +
                  "/h";
        break;
      case SyncAction::Update:
        if (params.dryRun) {
          summary = "dry run: would set " + joinChanges(p.changes) + " on " + srv;
        } else if (!outcome.attempted) {
          status = Status::Unknown;
          summary = srv + " not synced";
        } else if (outcome.ok) {
          applied = true;
          summary = srv + ": " + joinChanges(p.changes);
          bool quota = false;
          for (const auto& c : p.changes) quota = quota || c.field != "status";
          if (quota) summary += " (MailWizz caches quotas: in effect within about 5 minutes)";
          if (!p.drift.empty()) {
            status = Status::Warning;
            summary += "; overwrote a hand edit: " + joinText(p.drift);
          }
        } else {
          status = Status::Unknown;
          summary = srv + " not synced: " + outcome.error +
                    "; the transaction was rolled back, nothing was written; next run retries";
        }
        break;
      case SyncAction::PlanConflict:
        break;
    }
    CheckResult r("mailwizz_sync", ip, status, summary);
    r.facts.set("server_id", p.target.serverId);
    r.facts.set("action", syncActionName(p.action));
    r.facts.set("ip_state", ipStateName(p.target.state));
    Json changes = Json::array();
    for (const auto& c : p.changes) {
      Json ch = Json::object();
      ch.set("field", c.field);
      ch.set("from", c.from);
      ch.set("to", c.to);
      changes.push(ch);
    }
    r.facts.set("changes", changes);
    if (!p.drift.empty()) {
      Json drift = Json::array();
      for (const auto& s : p.drift) drift.push(s);
      r.facts.set("drift", drift);
    }
    if (p.action == SyncAction::Update && outcome.attempted && !outcome.ok)
      r.facts.set("error", outcome.error);
    out.results.push_back(std::move(r));

    if (p.current) {
      long long daily = p.current->dailyQuota, hourly = p.current->hourlyQuota;
      if (applied)
        for (const auto& c : p.changes) {
          if (c.field == "daily_quota") daily = std::stoll(c.to);
          if (c.field == "hourly_quota") hourly = std::stoll(c.to);
        }
      out.samples.emplace_back(kApplied, Labels{{"ip", ip}, {"period", "daily"}},
                               static_cast<double>(daily));
      out.samples.emplace_back(kApplied, Labels{{"ip", ip}, {"period", "hourly"}},
                               static_cast<double>(hourly));
    }
    if (writes && p.action == SyncAction::Update && outcome.attempted) {
      std::string reason = stateBrief(d) + (p.drift.empty() ? "" : "; overwrote a hand edit");
      for (const auto& c : p.changes)
        writes->audit(now, jobName, p.target.serverId, ip, c.field, c.from, c.to,
                      ipStateName(d.record.state), reason, outcome.ok);
    }
  }
}

void accountingResult(const WarmupParams& params, const WarmupObservations& obs, std::int64_t now,
                      JobOutput& out, WarmupWrites* writes) {
  long long records = 0, malformed = 0;
  std::vector<std::string> errors, restarts, missing;
  bool more = false;
  Json files = Json::array();
  for (const auto& f : obs.files) {
    const auto& r = f.result;
    Json j = Json::object();
    j.set("path", f.path);
    j.set("records", static_cast<long long>(r.records));
    j.set("offset", static_cast<long long>(r.cursor.offset));
    if (!r.ok) {
      errors.push_back(r.error);
      j.set("error", r.error);
    } else {
      if (!r.restarted.empty()) restarts.push_back(f.path + " " + r.restarted);
      for (const auto& m : r.missingFields) missing.push_back(f.path + " lacks " + m);
      if (writes) writes->saveCursor(f.path, r.cursor, now);
    }
    records += static_cast<long long>(r.records);
    malformed += static_cast<long long>(r.malformed);
    more = more || r.more;
    files.push(j);
  }
  Status status = Status::Ok;
  std::string summary;
  if (obs.files.empty()) {
    status = Status::Unknown;
    std::string pats;
    for (const auto& p : params.accountingFiles) pats += (pats.empty() ? "" : ", ") + p;
    summary = "no PowerMTA accounting file matches " + pats + "; bounce rates unknown";
  } else if (!errors.empty()) {
    status = Status::Unknown;
    summary = "cannot read accounting: " + joinText(errors);
  } else if (!missing.empty()) {
    status = Status::Unknown;
    summary = "accounting header " + joinText(missing) + " (set ip_field/time_field)";
  } else {
    summary = "read " + groupDigits(records) + " new records from " +
              std::to_string(obs.files.size()) + (obs.files.size() == 1 ? " file" : " files");
    if (obs.acctOtherIps) summary += " (" + groupDigits(obs.acctOtherIps) + " of other IPs)";
    if (malformed) summary += ", skipped " + groupDigits(malformed) + " malformed";
    if (!restarts.empty()) summary += "; read again from the start: " + joinText(restarts);
    if (more) summary += "; more left for the next run";
  }
  CheckResult r("accounting", "pmta", status, summary);
  r.facts.set("records", records);
  r.facts.set("malformed", malformed);
  r.facts.set("files", files);
  out.results.push_back(std::move(r));
  if (writes) {
    for (const auto& [ip, hours] : obs.acctDeltas)
      for (const auto& [hour, c] : hours) writes->addHourly("accounting", ip, hour, c);
  }
}

}  // namespace

JobOutput reportWarmup(const WarmupParams& params, const std::string& jobName,
                       const WarmupObservations& obs, const WarmupPlanned& planned,
                       const SyncOutcome& outcome, std::int64_t now, const std::string& token) {
  JobOutput out;
  if (!obs.stateOk) {
    out.results.emplace_back("warmup_state", "state", Status::Unknown,
                             "cannot read the warmup state: " + obs.stateError +
                                 "; nothing evaluated and nothing written to MailWizz");
    return out;
  }
  std::optional<WarmupWrites> w;
  if (!params.dryRun) w = WarmupWrites::guarded(obs.state.rev, token);
  WarmupWrites* writes = w ? &*w : nullptr;

  for (size_t i = 0; i < planned.decisions.size() && i < obs.servers.size(); ++i) {
    ipResults(params, jobName, obs, planned.decisions[i], obs.servers[i], now, out, writes);
    healthSamples(planned.decisions[i], out);
  }
  if (params.sync) syncResults(params, jobName, obs, planned, outcome, now, out, writes);
  if (params.healthSource == "accounting") accountingResult(params, obs, now, out, writes);
  if (writes && params.healthSource == "mailwizz" && obs.usageOk) {
    for (const auto& u : obs.usage)
      for (const auto& s : obs.servers)
        if (s.serverId == u.serverId)
          writes->setHourly("mailwizz", s.ip, u.hour,
                            HealthCounts{u.sent, u.bounced, u.complaints});
  }
  if (writes) {
    writes->pruneHourly(now - 35 * 86400);
    writes->pruneCursors(now - 30 * 86400);
    writes->advanceTransitionCursor(jobName);
    out.stateWrites = std::move(writes->statements());
  }
  return out;
}

}  // namespace mxpulse::jobs
