// SPDX-License-Identifier: Apache-2.0
#include "agent/schedule.hpp"

#include <algorithm>
#include <cstdint>

namespace mxpulse {

std::string Schedule::describe() const {
  if (every) return "every " + formatDuration(*every);
  if (cron) return "cron '" + cron->text() + "' UTC";
  return "never";
}

Millis splayFor(const std::string& seed, const std::string& jobName, const Schedule& schedule,
                Millis maxSplay) {
  std::uint64_t hash = 1469598103934665603ULL;
  auto mix = [&hash](const std::string& s) {
    for (unsigned char c : s) {
      hash ^= c;
      hash *= 1099511628211ULL;
    }
  };
  mix(seed);
  mix("/");
  mix(jobName);
  Millis bound = maxSplay;
  if (schedule.every) bound = std::min(bound, *schedule.every / 2);
  if (bound.count() <= 0) return Millis(0);
  return Millis(static_cast<std::int64_t>(hash % static_cast<std::uint64_t>(bound.count())));
}

namespace {
WallTime cronAfter(const CronExpr& cron, WallTime t, Millis splay) {
  auto n = cron.next(t - splay);
  return n ? *n + splay : WallTime::max();
}
}  // namespace

WallTime firstDue(const Schedule& schedule, WallTime now, Millis splay) {
  if (schedule.every) return now + splay;
  if (schedule.cron) return cronAfter(*schedule.cron, now, splay);
  return WallTime::max();
}

WallTime nextDue(const Schedule& schedule, WallTime previousDue, WallTime now, Millis splay) {
  if (schedule.every) {
    WallTime next = previousDue + *schedule.every;
    if (next > now) return next;
    // We are late (downtime, suspend, an overrun): skip every missed slot and
    // keep the phase, so one run happens at the next slot, not a burst.
    auto missed = (now - previousDue) / *schedule.every;
    next = previousDue + (missed + 1) * *schedule.every;
    return next;
  }
  if (schedule.cron) return cronAfter(*schedule.cron, std::max(previousDue, now), splay);
  return WallTime::max();
}

}  // namespace mxpulse
