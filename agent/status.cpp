// SPDX-License-Identifier: Apache-2.0
#include "agent/status.hpp"

namespace mxpulse {

const char* statusName(Status status) {
  switch (status) {
    case Status::Ok:
      return "ok";
    case Status::Warning:
      return "warning";
    case Status::Critical:
      return "critical";
    case Status::Unknown:
      return "unknown";
  }
  return "unknown";
}

std::optional<Status> parseStatus(std::string_view name) {
  if (name == "ok") return Status::Ok;
  if (name == "warning") return Status::Warning;
  if (name == "critical") return Status::Critical;
  if (name == "unknown") return Status::Unknown;
  return std::nullopt;
}

int severityRank(Status s) {
  switch (s) {
    case Status::Ok:
      return 0;
    case Status::Unknown:
      return 1;
    case Status::Warning:
      return 2;
    case Status::Critical:
      return 3;
  }
  return 1;
}

Status worse(Status a, Status b) { return severityRank(a) >= severityRank(b) ? a : b; }

}  // namespace mxpulse
