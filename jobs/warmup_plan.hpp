// SPDX-License-Identifier: Apache-2.0
// Warmup plans: a named ramp of daily and hourly quotas per plan day,
// counted in sending days (a day counts only if the IP really sent at
// least `sending_day_min` of that day's quota, so idle days do not advance
// the ramp) or in calendar days. The built-in plan "default" is a 6-week
// (42-day) geometric ramp from 50 to 100,000 messages a day.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mxpulse {
class MapReader;
}

namespace mxpulse::jobs {

enum class DayCounting { SendingDays, CalendarDays };

struct PlanDay {
  long long daily = 0;
  long long hourly = 0;
};

struct WarmupPlan {
  std::string name;
  DayCounting counting = DayCounting::SendingDays;
  std::vector<PlanDay> days;        ///< days[0] is plan day 1
  double sendingDayMinShare = 0.5;  ///< of the day's daily quota (0..1)

  int length() const { return static_cast<int>(days.size()); }
  /// Quota of plan day `day` (1-based), clamped to the plan's range.
  PlanDay quota(int day) const;
};

/// The built-in 6-week plan.
WarmupPlan defaultWarmupPlan();

/// Geometric ramp from `first` to `last` messages a day over `days` days,
/// rounded to two significant digits; hourly = ceil(daily * hourlyShare).
std::vector<PlanDay> geometricRamp(long long first, long long last, int days, double hourlyShare);

/// Parses `plans:` (a mapping name -> plan); errors go to the reader.
/// The built-in "default" is added unless the config defines its own.
std::map<std::string, WarmupPlan> parseWarmupPlans(MapReader& params, const std::string& key);

const char* dayCountingName(DayCounting c);

}  // namespace mxpulse::jobs
