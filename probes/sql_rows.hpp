// SPDX-License-Identifier: Apache-2.0
// Rows returned by a read-only SQL query, whatever the database.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace mxpulse::probes {

struct SqlRows {
  bool ok = false;
  std::string error;  ///< why, when !ok (never contains a password)
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;  ///< nullopt = SQL NULL
};

/// More rows than this is treated as a runaway query and refused.
constexpr size_t kMaxSqlRows = 100000;

}  // namespace mxpulse::probes
