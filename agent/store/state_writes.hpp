// SPDX-License-Identifier: Apache-2.0
// Applies the state changes a job returned (JobOutput::stateWrites) inside
// the transaction that records its run, so results, metrics and the job's
// own state commit together or not at all; jobs themselves never write the
// state DB (single writer).
//
// Containment: a job kind may only INSERT, UPDATE or DELETE rows of tables
// named `<kind>_*` (created by that kind's migration) and read any table.
// An SQLite authorizer enforces this while the statements are prepared, so
// a job cannot touch `runs`, `latest`, another kind's tables, the schema,
// PRAGMAs or ATTACH. One statement per entry (no `;` tail).
//
// A failing batch is rolled back to a savepoint and logged; the run's
// results are still recorded, and the job recomputes from the unchanged
// state on its next run.
#pragma once

#include <string>
#include <vector>

#include "agent/job.hpp"
#include "agent/store/sqlite_db.hpp"

namespace mxpulse {

/// Runs `writes` for a job of `kind` inside the caller's open transaction.
/// Returns false with `error` after rolling the batch back (nothing of it
/// remains); the caller's transaction stays usable either way.
bool applyStateWrites(SqliteDb& db, const std::string& kind, const std::vector<StateWrite>& writes,
                      std::string& error);

/// The same, for use in StateStore::recordRun: logs a failure instead of
/// failing the run (the job's own state is then unchanged).
void applyJobStateWrites(SqliteDb& db, const std::string& job, const std::string& kind,
                         const std::vector<StateWrite>& writes);

}  // namespace mxpulse
