// SPDX-License-Identifier: Apache-2.0
// The four outcomes of every check, and how they combine.
#pragma once

#include <optional>
#include <string_view>

namespace mxpulse {

/// Numeric values are the monitoring-plugin exit codes and the value of the
/// `mxpulse_check_status` metric, so they must never be renumbered.
enum class Status : int { Ok = 0, Warning = 1, Critical = 2, Unknown = 3 };

const char* statusName(Status status);
std::optional<Status> parseStatus(std::string_view name);

/// Seriousness for comparisons: ok 0 < unknown 1 < warning 2 < critical 3.
int severityRank(Status s);

/// The more serious of two statuses: critical > warning > unknown > ok.
/// Unknown ranks below warning because "could not tell" must not mask a
/// known problem, yet above ok because it is not good news.
Status worse(Status a, Status b);

}  // namespace mxpulse
