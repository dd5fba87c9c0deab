// SPDX-License-Identifier: Apache-2.0
#include "jobs/warmup_plan.hpp"

#include <algorithm>
#include <cmath>

#include "agent/yaml_reader.hpp"

namespace mxpulse::jobs {

namespace {

constexpr long long kMaxQuota = 99999999999LL;  // MailWizz validates at most 11 digits

long long twoSignificant(double v) {
  if (v < 100) return static_cast<long long>(std::llround(v));
  double scale = std::pow(10.0, std::floor(std::log10(v)) - 1);
  return static_cast<long long>(std::llround(v / scale) * scale);
}

long long hourlyFor(long long daily, double share) {
  if (daily <= 0) return 0;
  return std::max(1LL, static_cast<long long>(std::ceil(static_cast<double>(daily) * share)));
}

std::optional<long long> quotaValue(const YAML::Node& n, const std::string& path,
                                    ConfigErrors& errors) {
  try {
    long long v = n.as<long long>();
    if (v >= 0 && v <= kMaxQuota) return v;
  } catch (const YAML::Exception&) {
  }
  errors.add(n, path,
             "must be a whole number of messages between 0 and " + std::to_string(kMaxQuota));
  return std::nullopt;
}

std::optional<WarmupPlan> parsePlan(MapReader& r, const std::string& name) {
  size_t before = r.errors().size();
  WarmupPlan plan;
  plan.name = name;
  std::string count = r.str("count", "sending_days");
  if (count == "sending_days")
    plan.counting = DayCounting::SendingDays;
  else if (count == "calendar_days")
    plan.counting = DayCounting::CalendarDays;
  else
    r.errors().add(r.node("count"), r.childPath("count"), "must be sending_days or calendar_days");
  plan.sendingDayMinShare = r.percent("sending_day_min", 50) / 100.0;
  double hourlyShare = r.percent("hourly_share", 12.5) / 100.0;
  YAML::Node days = r.node("days");
  YAML::Node ramp = r.node("ramp");
  bool hasDays = days.IsDefined() && !days.IsNull();
  bool hasRamp = ramp.IsDefined() && !ramp.IsNull();
  if (hasDays == hasRamp) {
    r.errors().add(r.self(), r.path(), "give either days (a list) or ramp (first, last, days)");
  } else if (hasDays) {
    if (!days.IsSequence() || days.size() == 0) {
      r.errors().add(days, r.childPath("days"), "must be a non-empty list of daily quotas");
    } else {
      for (size_t i = 0; i < days.size(); ++i) {
        std::string p = indexPath(r.childPath("days"), i);
        PlanDay d;
        if (days[i].IsScalar()) {
          if (auto v = quotaValue(days[i], p, r.errors())) {
            d.daily = *v;
            d.hourly = hourlyFor(*v, hourlyShare);
          }
        } else {
          MapReader dr(days[i], p, r.errors());
          d.daily = dr.integer("daily", 0, 0, kMaxQuota);
          d.hourly = dr.integer("hourly", hourlyFor(d.daily, hourlyShare), 0, kMaxQuota);
          if (!dr.has("daily")) r.errors().add(days[i], p + ".daily", "is required");
          dr.finish();
        }
        plan.days.push_back(d);
      }
    }
  } else {
    MapReader rr(ramp, r.childPath("ramp"), r.errors());
    long long first = rr.integer("first", 50, 1, kMaxQuota);
    long long last = rr.integer("last", 100000, 1, kMaxQuota);
    long long n = rr.integer("days", 42, 2, 3650);
    rr.finish();
    if (last < first)
      r.errors().add(ramp, r.childPath("ramp.last"), "must not be below first");
    else
      plan.days = geometricRamp(first, last, static_cast<int>(n), hourlyShare);
  }
  r.finish();
  if (r.errors().size() != before) return std::nullopt;
  return plan;
}

}  // namespace

const char* dayCountingName(DayCounting c) {
  return c == DayCounting::SendingDays ? "sending_days" : "calendar_days";
}

PlanDay WarmupPlan::quota(int day) const {
  if (days.empty()) return {};
  int i = std::clamp(day, 1, length()) - 1;
  return days[static_cast<size_t>(i)];
}

std::vector<PlanDay> geometricRamp(long long first, long long last, int days, double hourlyShare) {
  std::vector<PlanDay> out;
  for (int d = 0; d < days; ++d) {
    double t = days > 1 ? static_cast<double>(d) / (days - 1) : 1.0;
    double v = static_cast<double>(first) * std::pow(static_cast<double>(last) / first, t);
    long long daily = d == days - 1 ? last : std::min(last, twoSignificant(v));
    if (!out.empty()) daily = std::max(daily, out.back().daily);  // never ramps down
    out.push_back(PlanDay{daily, hourlyFor(daily, hourlyShare)});
  }
  return out;
}

WarmupPlan defaultWarmupPlan() {
  WarmupPlan p;
  p.name = "default";
  p.counting = DayCounting::SendingDays;
  p.days = geometricRamp(50, 100000, 42, 0.125);
  return p;
}

std::map<std::string, WarmupPlan> parseWarmupPlans(MapReader& params, const std::string& key) {
  std::map<std::string, WarmupPlan> plans;
  YAML::Node n = params.node(key);
  if (n.IsDefined() && !n.IsNull()) {
    if (!n.IsMap()) {
      params.errors().add(n, params.childPath(key), "must map plan names to plans");
    } else {
      for (const auto& kv : n) {
        std::string name = kv.first.Scalar();
        MapReader pr(kv.second, params.childPath(key) + "." + name, params.errors());
        if (!pr.ok()) continue;
        if (auto plan = parsePlan(pr, name)) plans[name] = std::move(*plan);
      }
    }
  }
  if (!plans.count("default")) plans["default"] = defaultWarmupPlan();
  return plans;
}

}  // namespace mxpulse::jobs
