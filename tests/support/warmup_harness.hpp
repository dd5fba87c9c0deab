// SPDX-License-Identifier: Apache-2.0
// Helpers for the warmup tests: a JobContext with an injected clock, a
// warmup job built from YAML params, and recording a run into a real
// StateStore exactly as the agent's single writer does.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include "agent/config_errors.hpp"
#include "agent/store/state_store.hpp"
#include "agent/yaml_reader.hpp"
#include "jobs/warmup.hpp"

namespace mxpulse::test {

class FixedContext : public JobContext {
 public:
  explicit FixedContext(std::int64_t now,
                        std::chrono::milliseconds budget = std::chrono::seconds(20))
      : now_(now), deadline_(Deadline::in(budget)) {}
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::time_point(std::chrono::seconds(now_));
  }
  Deadline deadline() const override { return deadline_; }
  bool stopRequested() const override { return false; }
  const InventorySnapshot* inventory(const std::string&) const override { return nullptr; }

 private:
  std::int64_t now_;
  Deadline deadline_;
};

/// Builds a warmup job named "warmup" from YAML params; throws with the
/// config errors if they do not parse.
inline std::unique_ptr<Job> makeWarmupJob(const std::string& yaml, const std::string& stateDb) {
  YAML::Node n = YAML::Load(yaml);
  ConfigErrors errors("test");
  MapReader r(n, "jobs[0](warmup).params", errors);
  JobBuildEnv env;
  env.stateDb = stateDb;
  auto job = jobs::warmupKind().create(r, env);
  if (!job || !errors.empty()) {
    std::string all;
    for (const auto& e : errors.errors()) all += e + "\n";
    throw std::runtime_error("bad warmup params:\n" + all);
  }
  return job;
}

/// Records `out` as a completed run of job "warmup" (results and state writes).
inline void recordWarmupRun(StateStore& store, JobOutput out, std::int64_t now) {
  RunRecord rec;
  rec.job = "warmup";
  rec.kind = "warmup";
  rec.startedAt = now;
  rec.output = std::move(out);
  std::string error;
  if (!store.recordRun(rec, error)) throw std::runtime_error("recordRun: " + error);
}

/// The result (check, target) of a run, or nullptr.
inline const CheckResult* findResult(const JobOutput& out, const std::string& check,
                                     const std::string& target) {
  for (const auto& r : out.results)
    if (r.check == check && r.target == target) return &r;
  return nullptr;
}

}  // namespace mxpulse::test
