// SPDX-License-Identifier: Apache-2.0
// How results are printed by `once`, `check` and `status`: aligned text
// for people, or JSON Lines (one object per result) for scripts.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "agent/store/state_store.hpp"

namespace mxpulse {

/// One printed result: what `--json` emits for each (check, target).
struct ReportLine {
  std::string job, kind, check, target;
  Status status = Status::Unknown;
  std::string summary;
  std::string factsJson = "{}";
  std::int64_t observedAt = 0;
  std::int64_t since = 0;  ///< 0 = not known (ad hoc)
};

std::vector<ReportLine> reportLines(const RunRecord& run);
std::string formatJsonLine(const ReportLine& line);
std::string formatTextLine(const ReportLine& line);
/// "2026-11-21T06:00:00Z"
std::string isoTime(std::int64_t unixSeconds);

/// Exit code of the monitoring-plugin convention for a set of results:
/// 2 if any critical, else 1 if any warning, else 3 if any unknown, else 0.
int exitCodeFor(const std::vector<ReportLine>& lines);

}  // namespace mxpulse
