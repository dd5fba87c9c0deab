// SPDX-License-Identifier: Apache-2.0
// Read-only queries against a SQLite file (the state DB or another), bounded
// by a deadline through SQLite's progress handler. The connection is opened
// read-only and with query_only set, so a statement that writes fails.
#pragma once

#include <string>

#include "probes/deadline.hpp"
#include "probes/sql_rows.hpp"

namespace mxpulse::probes {

SqlRows sqliteQueryReadOnly(const std::string& path, const std::string& query, Deadline deadline);

/// Prepares `query` without running it: syntax, tables and read-only-ness
/// (for check-config). Returns "" when fine, else the reason.
std::string sqliteCheckQuery(const std::string& path, const std::string& query);

}  // namespace mxpulse::probes
