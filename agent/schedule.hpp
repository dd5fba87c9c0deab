// SPDX-License-Identifier: Apache-2.0
// When a job runs: `every: 5m` or `cron: "0 6 * * *"` (UTC), shifted by a
// deterministic splay so a fleet of hosts does not fire at the same second.
// Pure functions of their inputs: the scheduler thread supplies `now`.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "agent/cron.hpp"
#include "agent/duration.hpp"

namespace mxpulse {

using WallTime = std::chrono::system_clock::time_point;

struct Schedule {
  std::optional<Millis> every;  ///< set for interval schedules
  std::optional<CronExpr> cron;  ///< set for cron schedules
  std::string describe() const;
};

/// A stable offset in [0, min(maxSplay, every/2)) derived from the host
/// name and job name (FNV-1a), so restarts keep the same phase.
Millis splayFor(const std::string& seed, const std::string& jobName, const Schedule& schedule,
                Millis maxSplay);

/// The first due time after the agent starts at `now`.
WallTime firstDue(const Schedule& schedule, WallTime now, Millis splay);

/// The due time after a run that was due at `previousDue`, when the
/// scheduler looks at `now`. Missed runs are not caught up: at most one run
/// happens late, then the schedule continues from the present.
WallTime nextDue(const Schedule& schedule, WallTime previousDue, WallTime now, Millis splay);

}  // namespace mxpulse
