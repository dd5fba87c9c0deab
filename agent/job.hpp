// SPDX-License-Identifier: Apache-2.0
// THE job API. A job kind is three parts: a params parser (YAML -> struct,
// errors collected), a pure evaluator (observations + now -> results) and a
// thin I/O shell (this Job's run()). The framework owns scheduling, the
// deadline, the exception boundary, persistence, alerts and metrics.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "probes/deadline.hpp"
#include "agent/inventory_types.hpp"
#include "agent/json.hpp"
#include "agent/metrics.hpp"
#include "agent/status.hpp"

namespace mxpulse {

class MapReader;

/// The outcome of one check on one target, e.g. ("disk_free", "/var").
struct CheckResult {
  std::string check;    ///< snake_case check name, stable (alert and DB key)
  std::string target;   ///< what was checked: a domain, an IP, a mount, host:port
  Status status = Status::Unknown;
  std::string summary;  ///< one line, used verbatim in alerts
  Json facts = Json::object();  ///< typed details, persisted as JSON

  CheckResult() = default;
  CheckResult(std::string c, std::string t, Status s, std::string sum)
      : check(std::move(c)), target(std::move(t)), status(s), summary(std::move(sum)) {}
};

/// One parameterised SQL statement (`?` placeholders, values bound as text;
/// an INTEGER column converts them) that the store runs in the transaction
/// that records the run. Jobs never write SQLite themselves; a stateful job
/// returns its changes this way. The store allows only INSERT/UPDATE/DELETE
/// on tables named `<kind>_*` (agent/store/state_writes.hpp).
struct StateWrite {
  std::string sql;
  std::vector<std::string> params;
};

/// Everything one run of a job produced.
struct JobOutput {
  std::vector<CheckResult> results;
  std::vector<Sample> samples;  ///< the framework adds the `job` label
  std::vector<StateWrite> stateWrites;  ///< applied only for a completed run
};

/// What a job may ask of the framework during run(). Implemented by the
/// runner; tests use their own implementation with a fixed clock.
class JobContext {
 public:
  virtual ~JobContext() = default;
  /// Wall-clock time of this run (fixed for the run; injected in tests).
  virtual std::chrono::system_clock::time_point now() const = 0;
  /// Every probe call takes this (or an earlier) deadline.
  virtual Deadline deadline() const = 0;
  /// True once the agent is shutting down: return early with what you have.
  virtual bool stopRequested() const = 0;
  /// The named inventory, resolved by the framework before the run; nullptr
  /// if the job did not declare it.
  virtual const InventorySnapshot* inventory(const std::string& name) const = 0;
};

class Job {
 public:
  virtual ~Job() = default;
  /// Runs every check once. Expected failures (timeouts, NXDOMAIN, refused
  /// connections) are results with Status::Unknown or worse, never
  /// exceptions; an exception is a bug and the runner reports it as unknown.
  virtual JobOutput run(JobContext& ctx) = 0;
  /// Names of the inventories run() reads (resolved before each run).
  virtual std::vector<std::string> inventories() const { return {}; }
  /// The (check, target) pairs a run would produce, for `mxpulse inventory`.
  virtual std::vector<std::string> plannedTargets(const JobContext& ctx) const = 0;
};

/// Facts about the rest of the config that a params parser may need.
struct JobBuildEnv {
  std::map<std::string, InventoryKind> inventories;  ///< declared inventories
  std::vector<std::string> resolvers;                ///< global DNS resolvers host:port
  bool resolveSecrets = true;  ///< false while only validating shape
  std::string stateDb;         ///< agent.state_db, for jobs that read their own state
};

/// Parses `params` (report errors through it, call finish()) and returns the
/// job, or nullptr when the params are invalid.
using JobFactory = std::function<std::unique_ptr<Job>(MapReader& params, const JobBuildEnv& env)>;

struct JobKind {
  std::string name;         ///< YAML `kind:` value, snake_case
  std::string description;  ///< one line, shown by --help
  JobFactory create;
};

class JobRegistry {
 public:
  /// Throws std::logic_error on a duplicate name (a programming error).
  void add(JobKind kind);
  const JobKind* find(const std::string& name) const;
  std::vector<std::string> names() const;

 private:
  std::map<std::string, JobKind> kinds_;
};

/// Defined in jobs/builtin.cpp: the explicit list of every job kind.
void registerBuiltinJobs(JobRegistry& registry);

}  // namespace mxpulse
