// SPDX-License-Identifier: Apache-2.0
// Resolves named inventories for job runs: static YAML items, or rows of a
// read-only SQL query over a named connection (the SQLite state DB, another
// SQLite file, or MySQL/MariaDB such as MailWizz's). When a query fails the
// last good items are used (kept in memory and in the state DB), and the
// snapshot carries the error so the runner reports it as its own result.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "agent/config.hpp"
#include "agent/store/sqlite_db.hpp"
#include "probes/sql_rows.hpp"

namespace mxpulse {

class InventoryService {
 public:
  explicit InventoryService(const AgentConfig& config);

  /// Loads last-good items from the state DB cache (if present).
  void attachCache(const std::string& stateDbPath);

  InventorySnapshot snapshot(const std::string& name, Deadline deadline, std::int64_t now);

  /// Checks every SQL inventory's query without running it: SQLite queries
  /// are prepared; MySQL ones only when `online` (connects). "" = fine.
  std::vector<std::string> checkQueries(bool online);

 private:
  probes::SqlRows query(const InventoryConfig& inv, Deadline deadline);
  std::string stateDbPath_;
  std::map<std::string, InventoryConfig> inventories_;
  std::map<std::string, ConnectionConfig> connections_;
  std::mutex mutex_;
  std::map<std::string, InventorySnapshot> lastGood_;
  SqliteDb cache_;
};

/// Maps SQL rows to items: columns name the fields of the inventory kind;
/// multi-valued fields may hold several values separated by commas or
/// spaces. Returns false with `error` on an unknown column or missing key.
bool rowsToItems(const probes::SqlRows& rows, InventoryKind kind,
                 std::vector<InventoryItem>& items, std::string& error);

}  // namespace mxpulse
