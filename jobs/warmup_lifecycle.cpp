// SPDX-License-Identifier: Apache-2.0
#include "jobs/warmup_lifecycle.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace mxpulse::jobs {

namespace {

constexpr std::int64_t kDay = 86400;

std::string daysText(std::int64_t seconds) {
  std::int64_t d = seconds / kDay;
  if (d * kDay == seconds) return std::to_string(d) + (d == 1 ? " day" : " days");
  std::int64_t h = seconds / 3600;
  return std::to_string(h) + "h";
}

std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

const WarmupPlan& planFor(const std::map<std::string, WarmupPlan>& plans, const std::string& name) {
  auto it = plans.find(name);
  if (it != plans.end()) return it->second;
  static const WarmupPlan fallback = defaultWarmupPlan();
  auto d = plans.find("default");
  return d != plans.end() ? d->second : fallback;
}

std::string quotaText(const PlanDay& q) {
  auto one = [](long long v, const char* unit) {
    return v == 0 ? std::string("unlimited") + unit : groupDigits(v) + unit;
  };
  return one(q.daily, "/day") + " " + one(q.hourly, "/h");
}

/// One IP's evaluation; standby activation is done afterwards across IPs.
class IpEvaluator {
 public:
  IpEvaluator(const LifecyclePolicy& policy, const std::map<std::string, WarmupPlan>& plans,
              const IpInput& in, std::int64_t now)
      : policy_(policy), plans_(plans), in_(in), now_(now) {}

  IpDecision run() {
    d_.ip = in_.ip;
    if (in_.record) {
      d_.record = *in_.record;
    } else {
      d_.record = IpRecord{
          in_.initialState, now_, "initial",
          std::string("first seen; initial state ") + ipStateName(in_.initialState), "agent"};
      d_.recordChanged = true;
      d_.transitions.push_back(
          Transition{std::nullopt, in_.initialState, "initial", d_.record.reason});
    }
    d_.progress = in_.progress;
    if (d_.record.state == IpState::Warming && !d_.progress) {
      d_.progress = freshProgress(in_.plan, now_);
      d_.progressChanged = true;
    }
    d_.health = judgeHealth(policy_, in_.health, d_.bounceRate, d_.complaintRate);
    d_.window = in_.health.window;
    if (!in_.health.known) d_.notes.push_back("health unknown: " + in_.health.error);

    const DnsblView& bl = in_.dnsbl;
    IpState s = d_.record.state;
    bool sending = s == IpState::Active || s == IpState::Retiring;
    if (!bl.listedZones.empty() && s != IpState::Quarantine) {
      move(IpState::Quarantine, "dnsbl", "listed on " + join(bl.listedZones));
    } else if (sending && d_.health == HealthVerdict::Severe) {
      move(IpState::Quarantine, "health",
           healthText() + " at or over " + formatFactor() + " the limits");
    } else if (s == IpState::Warming) {
      warming();
    } else if (s == IpState::Active) {
      if (policy_.activeFor > 0 && now_ - d_.record.since >= policy_.activeFor)
        move(IpState::Retiring, "schedule", "active for " + daysText(policy_.activeFor));
    } else if (s == IpState::Retiring) {
      if (now_ - d_.record.since >= policy_.retireFor)
        move(IpState::Resting, "schedule", "retired over " + daysText(policy_.retireFor));
    } else if (s == IpState::Resting) {
      if (now_ - d_.record.since >= policy_.restFor)
        startWarming("schedule", "rested " + daysText(policy_.restFor) + "; warming up again");
    } else if (s == IpState::Quarantine) {
      considerRelease();
    }
    finish();
    return d_;
  }

 private:
  std::string formatFactor() const {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%gx", policy_.severeFactor);
    return buf;
  }

  std::string healthText() const {
    return "bounce " + formatRate(d_.bounceRate) + ", complaints " + formatRate(d_.complaintRate) +
           " of " + groupDigits(in_.health.window.sent) + " sent";
  }

  void move(IpState to, const std::string& cause, const std::string& reason) {
    d_.transitions.push_back(Transition{d_.record.state, to, cause, reason});
    d_.record = IpRecord{to, now_, cause, reason, "agent"};
    d_.recordChanged = true;
    if (to != IpState::Warming && d_.progress) {
      d_.progress.reset();
      d_.progressDropped = true;
      d_.progressChanged = false;
    }
  }

  void startWarming(const std::string& cause, const std::string& reason) {
    move(IpState::Warming, cause, reason);
    d_.progress = freshProgress(in_.plan, now_);
    d_.progressChanged = true;
    d_.progressDropped = false;
  }

  void warming() {
    WarmupProgress& p = *d_.progress;
    const WarmupPlan& plan = planFor(plans_, p.plan);
    if (d_.health == HealthVerdict::Severe) {
      if (policy_.severeQuarantines) {
        move(IpState::Quarantine, "health",
             healthText() + " at or over " + formatFactor() + " the limits while warming");
        return;
      }
      if (p.lastRollbackAt == 0 || now_ - p.lastRollbackAt >= policy_.window) {
        int from = p.day;
        p.day = std::max(1, p.day - policy_.rollbackDays);
        p.rollbacks += 1;
        p.lastRollbackAt = now_;
        p.lastAction =
            "rolled back from day " + std::to_string(from) + " to " + std::to_string(p.day);
        d_.progressChanged = true;
        d_.notes.push_back(p.lastAction + ": " + healthText());
      } else {
        d_.notes.push_back("rolled back recently; waiting for the window to pass");
      }
    }
    std::string today = utcDate(now_);
    if (p.dayDate < today && in_.health.known) {
      std::int64_t first = daysFromDate(p.dayDate);
      std::int64_t last = daysFromDate(today) - 1;  // the complete days since
      int elapsed = static_cast<int>(std::max<std::int64_t>(0, last - first + 1));
      if (d_.health == HealthVerdict::OverLimit || d_.health == HealthVerdict::Severe) {
        p.heldDays += elapsed;
        p.lastAction = "held at day " + std::to_string(p.day);
        d_.notes.push_back("held at day " + std::to_string(p.day) + ": " + healthText() +
                           " over the limits");
      } else {
        int advanced = 0;
        for (std::int64_t day = first; day <= last; ++day) {
          bool counts = plan.counting == DayCounting::CalendarDays;
          if (!counts) {
            auto it = in_.health.sentByDate.find(utcDate(day * kDay));
            long long sent = it == in_.health.sentByDate.end() ? 0 : it->second;
            double need =
                std::ceil(plan.sendingDayMinShare * static_cast<double>(plan.quota(p.day).daily));
            counts = sent > 0 && static_cast<double>(sent) >= need;
          }
          if (counts) {
            ++p.day;
            ++advanced;
          }
        }
        p.lastAction = advanced > 0 ? "advanced to day " + std::to_string(p.day)
                                    : "not a sending day; stays at day " + std::to_string(p.day);
      }
      p.dayDate = today;
      d_.progressChanged = true;
    }
    if (p.day > plan.length()) {
      move(IpState::Active, "plan",
           "warmup plan " + plan.name + " complete after " + std::to_string(plan.length()) + " " +
               (plan.counting == DayCounting::SendingDays ? "sending days" : "days"));
    }
  }

  void considerRelease() {
    const DnsblView& bl = in_.dnsbl;
    const IpRecord& r = d_.record;
    if (r.cause == "operator") {
      d_.notes.push_back("quarantined by an operator; release with `mxpulse ip set`");
      return;
    }
    if (!bl.listedZones.empty()) {
      d_.notes.push_back("still listed on " + join(bl.listedZones));
      return;
    }
    if (!bl.unknownZones.empty()) {
      d_.notes.push_back("release waits: DNSBL state unknown on " + join(bl.unknownZones));
      return;
    }
    std::int64_t clearFrom = r.since;
    if (r.cause == "dnsbl") {
      if (bl.rows == 0) {
        d_.notes.push_back("release waits: no DNSBL results for this IP in the state DB");
        return;
      }
      clearFrom = std::max(r.since, bl.clearSince);
    }
    std::int64_t left = clearFrom + policy_.releaseAfter - now_;
    if (left > 0) {
      d_.notes.push_back(
          "release after " + utcDate(clearFrom + policy_.releaseAfter) +
          (r.cause == "dnsbl" ? " (listing gone since " + utcDate(clearFrom) + ")" : ""));
      return;
    }
    startWarming("release",
                 r.cause == "dnsbl"
                     ? "listing gone for " + daysText(now_ - clearFrom) + "; warming up again"
                     : "quarantined for " + daysText(now_ - r.since) + "; warming up again");
  }

  void finish() {
    IpState s = d_.record.state;
    d_.sends = ipStateSends(s);
    const WarmupPlan& plan = planFor(plans_, d_.progress ? d_.progress->plan : in_.plan);
    d_.planLength = plan.length();
    PlanDay active = policy_.activeQuota ? *policy_.activeQuota : plan.quota(plan.length());
    if (s == IpState::Warming && d_.progress) {
      d_.quota = plan.quota(d_.progress->day);
    } else if (s == IpState::Active) {
      d_.quota = active;
    } else if (s == IpState::Retiring) {
      // Shrinks linearly from the active quota to plan day 1 over retire_for.
      PlanDay base = active.daily > 0 ? active : plan.quota(plan.length());
      PlanDay floor = plan.quota(1);
      double left = policy_.retireFor > 0 ? 1.0 - static_cast<double>(now_ - d_.record.since) /
                                                      static_cast<double>(policy_.retireFor)
                                          : 0.0;
      left = std::clamp(left, 0.0, 1.0);
      auto scale = [&](long long b, long long f) {
        return std::max(f, static_cast<long long>(std::llround(static_cast<double>(b) * left)));
      };
      d_.quota = PlanDay{scale(base.daily, floor.daily), scale(base.hourly, floor.hourly)};
    }
    summarize(plan);
  }

  void summarize(const WarmupPlan& plan) {
    IpState s = d_.record.state;
    std::string text = d_.ip + " " + ipStateName(s);
    if (s == IpState::Warming && d_.progress) {
      text += " day " + std::to_string(d_.progress->day) + "/" + std::to_string(plan.length()) +
              " (plan " + plan.name + ", " +
              (plan.counting == DayCounting::SendingDays ? "sending days" : "calendar days") + ")";
    } else {
      text += " since " + utcDate(d_.record.since);
    }
    if (d_.quota) text += ": " + quotaText(*d_.quota);
    if (s == IpState::Quarantine || s == IpState::Resting || s == IpState::Standby)
      text += " (disabled in MailWizz)";
    if (s == IpState::Quarantine) text += "; " + d_.record.reason;
    if (s == IpState::Resting)
      text += "; rests until " + utcDate(d_.record.since + policy_.restFor);
    if (d_.health == HealthVerdict::Ok || d_.health == HealthVerdict::OverLimit ||
        d_.health == HealthVerdict::Severe)
      text += "; " + healthText();
    if (!d_.notes.empty()) text += "; " + join(d_.notes, "; ");
    d_.summary = text;
    d_.status = Status::Ok;
    if (s == IpState::Quarantine) {
      d_.status = Status::Critical;
    } else if (d_.health == HealthVerdict::OverLimit || d_.health == HealthVerdict::Severe) {
      d_.status = ipStateSends(s) ? Status::Warning : Status::Ok;
    }
  }

  const LifecyclePolicy& policy_;
  const std::map<std::string, WarmupPlan>& plans_;
  const IpInput& in_;
  std::int64_t now_;
  IpDecision d_;
};

}  // namespace

WarmupProgress freshProgress(const std::string& plan, std::int64_t now) {
  WarmupProgress p;
  p.plan = plan;
  p.day = 1;
  p.dayDate = utcDate(now);
  p.startedAt = now;
  p.lastAction = "started";
  return p;
}

const char* ipStateName(IpState s) {
  switch (s) {
    case IpState::Active:
      return "ACTIVE";
    case IpState::Retiring:
      return "RETIRING";
    case IpState::Resting:
      return "RESTING";
    case IpState::Warming:
      return "WARMING";
    case IpState::Quarantine:
      return "QUARANTINE";
    case IpState::Standby:
      return "STANDBY";
  }
  return "QUARANTINE";
}

std::optional<IpState> parseIpState(std::string_view name) {
  std::string up(name);
  for (char& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (IpState s : allIpStates())
    if (up == ipStateName(s)) return s;
  return std::nullopt;
}

const std::vector<IpState>& allIpStates() {
  static const std::vector<IpState> all = {IpState::Active,  IpState::Retiring,   IpState::Resting,
                                           IpState::Warming, IpState::Quarantine, IpState::Standby};
  return all;
}

bool ipStateSends(IpState s) {
  return s == IpState::Active || s == IpState::Warming || s == IpState::Retiring;
}

const char* healthVerdictName(HealthVerdict v) {
  switch (v) {
    case HealthVerdict::Unknown:
      return "unknown";
    case HealthVerdict::Insufficient:
      return "insufficient_volume";
    case HealthVerdict::Ok:
      return "ok";
    case HealthVerdict::OverLimit:
      return "over_limit";
    case HealthVerdict::Severe:
      return "severe";
  }
  return "unknown";
}

HealthVerdict judgeHealth(const LifecyclePolicy& policy, const HealthView& h, double& bounceRate,
                          double& complaintRate) {
  const HealthCounts& w = h.window;
  bounceRate = w.sent > 0 ? static_cast<double>(w.bounced) / static_cast<double>(w.sent) : 0.0;
  complaintRate =
      w.sent > 0 ? static_cast<double>(w.complaints) / static_cast<double>(w.sent) : 0.0;
  if (!h.known) return HealthVerdict::Unknown;
  if (w.sent < policy.minVolume || w.sent == 0) return HealthVerdict::Insufficient;
  if (bounceRate >= policy.bounceLimit * policy.severeFactor ||
      complaintRate >= policy.complaintLimit * policy.severeFactor)
    return HealthVerdict::Severe;
  if (bounceRate > policy.bounceLimit || complaintRate > policy.complaintLimit)
    return HealthVerdict::OverLimit;
  return HealthVerdict::Ok;
}

std::vector<IpDecision> evaluateLifecycle(const LifecyclePolicy& policy,
                                          const std::map<std::string, WarmupPlan>& plans,
                                          const std::vector<IpInput>& inputs, std::int64_t now) {
  std::vector<IpDecision> out;
  for (const auto& in : inputs) out.push_back(IpEvaluator(policy, plans, in, now).run());

  // An ACTIVE IP quarantined since the last run is replaced by a STANDBY
  // one: a warm one first (idle less than standby_cold_after), and among
  // those the one waiting longest.
  std::vector<size_t> standby;
  for (size_t i = 0; i < out.size(); ++i)
    if (out[i].record.state == IpState::Standby && inputs[i].dnsbl.listedZones.empty())
      standby.push_back(i);
  auto cold = [&](size_t i) { return now - out[i].record.since >= policy.standbyColdAfter; };
  std::sort(standby.begin(), standby.end(), [&](size_t a, size_t b) {
    if (cold(a) != cold(b)) return !cold(a);
    if (out[a].record.since != out[b].record.since)
      return out[a].record.since < out[b].record.since;
    return out[a].ip < out[b].ip;
  });
  size_t next = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    IpDecision& q = out[i];
    bool replaced =
        inputs[i].quarantinedFromActiveByOperator && q.record.state == IpState::Quarantine;
    for (const auto& t : q.transitions)
      replaced = replaced || (t.from == IpState::Active && t.to == IpState::Quarantine);
    if (!replaced) continue;
    if (next >= standby.size()) {
      q.notes.push_back("no STANDBY IP to take over");
      q.summary += "; no STANDBY IP to take over";
      continue;
    }
    size_t si = standby[next++];
    IpDecision& sb = out[si];
    bool isCold = cold(si);
    IpState to = isCold ? IpState::Warming : IpState::Active;
    std::string reason =
        "takes over from " + q.ip + " (quarantined)" +
        (isCold ? "; idle over " + std::to_string(policy.standbyColdAfter / 86400) +
                      " days, so it warms up first"
                : "");
    IpInput again = inputs[si];
    again.record = IpRecord{to, now, "standby", reason, "agent"};
    again.progress.reset();
    IpDecision fresh = IpEvaluator(policy, plans, again, now).run();
    std::vector<Transition> all = sb.transitions;
    all.push_back(Transition{IpState::Standby, to, "standby", reason});
    all.insert(all.end(), fresh.transitions.begin(), fresh.transitions.end());
    fresh.transitions = std::move(all);
    fresh.recordChanged = true;
    fresh.progressDropped = inputs[si].progress.has_value() && to != IpState::Warming;
    out[si] = std::move(fresh);
    q.summary += "; " + out[si].ip + " takes over";
  }
  return out;
}

std::string utcDate(std::int64_t unixSeconds) {
  time_t t = static_cast<time_t>(unixSeconds);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

std::int64_t daysFromDate(const std::string& date) {
  struct tm tm {};
  if (date.size() != 10 ||
      std::sscanf(date.c_str(), "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3)
    return 0;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<std::int64_t>(timegm(&tm)) / kDay;
}

std::string groupDigits(long long v) {
  std::string digits = std::to_string(v < 0 ? -v : v);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return v < 0 ? "-" + out : out;
}

std::string formatRate(double rate) {
  char buf[32];
  double pct = rate * 100;
  std::snprintf(buf, sizeof buf, pct < 1 && pct > 0 ? "%.2f%%" : "%.1f%%", pct);
  return buf;
}

}  // namespace mxpulse::jobs
