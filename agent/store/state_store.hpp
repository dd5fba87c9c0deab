// SPDX-License-Identifier: Apache-2.0
// The state DB: run history, latest result per (job, check, target), the
// figures the textfile is rendered from, and the inventory cache. One
// StateStore (one connection) is the only writer; readers such as
// `mxpulse status` open their own read-only connection, which WAL mode lets
// proceed without blocking the writer.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/inventory_types.hpp"
#include "agent/job.hpp"
#include "agent/output/alert_config.hpp"
#include "agent/store/sqlite_db.hpp"

namespace mxpulse {

enum class RunOutcome { Completed, Timeout, Error };
const char* runOutcomeName(RunOutcome o);

/// Everything the runner knows about one run of one job.
struct RunRecord {
  std::string job;
  std::string kind;
  std::int64_t startedAt = 0;  ///< unix seconds
  std::int64_t durationMs = 0;
  RunOutcome outcome = RunOutcome::Completed;
  std::string error;
  JobOutput output;
  Status worstStatus() const;
};

struct LatestRow {
  std::string job, check, target;
  Status status = Status::Unknown;
  std::string summary;
  std::string facts;  ///< JSON text
  std::int64_t observedAt = 0;
  std::int64_t since = 0;
};

struct JobStatusRow {
  std::string job, kind;
  std::int64_t lastRunAt = 0;
  std::int64_t lastDurationMs = 0;
  bool lastSuccess = false;
  Status lastStatus = Status::Unknown;
  std::int64_t runsTotal = 0, failuresTotal = 0, overrunsTotal = 0;
};

struct StoredSample {
  std::string job, name, help, type;
  std::string labels;  ///< rendered exposition labels, without braces
  double value = 0;
};

class StateStore {
 public:
  /// Opens (creating if needed) and migrates. WAL journal, synchronous=FULL:
  /// a committed run survives kill -9 and power loss.
  bool open(const std::string& path, std::string& error);

  /// Writes a run, its results, the latest table, job figures and samples
  /// in one transaction. For a completed run, latest rows of this job that
  /// the run no longer produced (targets removed from inventory) are dropped.
  /// With `alerts`, the alert state and the outbox messages the run leads to
  /// are written in the same transaction (see agent/store/alert_store.hpp).
  bool recordRun(const RunRecord& run, std::string& error, const AlertSettings* alerts = nullptr);
  bool recordOverrun(const std::string& job, const std::string& kind, std::string& error);
  /// Deletes history older than `olderThan` (unix seconds): runs, alert
  /// events, and sent or silenced messages. Failed messages are kept.
  bool prune(std::int64_t olderThan, std::string& error);
  /// Drops latest/figures/alert state of jobs that are no longer configured.
  bool forgetJobsExcept(const std::set<std::string>& jobs, std::string& error);

  bool saveInventory(const std::string& name, const std::vector<InventoryItem>& items,
                     std::int64_t fetchedAt, std::string& error);
  /// The last good items of `name`, if any were ever fetched.
  std::optional<std::pair<std::vector<InventoryItem>, std::int64_t>> loadInventory(
      const std::string& name);

  SqliteDb& db() { return db_; }

 private:
  SqliteDb db_;
};

/// Read access shared by the writer and read-only connections.
std::vector<LatestRow> readLatest(SqliteDb& db, std::string& error);
std::vector<JobStatusRow> readJobStatuses(SqliteDb& db, std::string& error);
std::vector<StoredSample> readSamples(SqliteDb& db, std::string& error);

/// Opens the state DB read-only for `status` and friends.
bool openStateReadOnly(SqliteDb& db, const std::string& path, std::string& error);

/// Encodes inventory items compactly for the cache (and decodes them back).
std::string encodeInventory(const std::vector<InventoryItem>& items);
std::vector<InventoryItem> decodeInventory(const std::string& text);

}  // namespace mxpulse
