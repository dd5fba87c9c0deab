// SPDX-License-Identifier: Apache-2.0
// Runs one job once: resolves its inventories, gives it a deadline, catches
// what it throws, and turns a hang into `unknown: timeout`. The job runs on
// its own thread so that a job ignoring its deadline cannot hold a worker;
// its late result is discarded and the scheduler will not start it again
// until that thread has really finished (RunHandle::finished).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>

#include "agent/config.hpp"
#include "agent/inventory.hpp"
#include "agent/store/state_store.hpp"

namespace mxpulse {

/// Tells whether the job thread of a run is still going.
struct RunHandle {
  std::atomic<bool> finished{false};
};

class Runner {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  Runner(InventoryService& inventories, Clock clock, const std::atomic<bool>& stopping)
      : inventories_(inventories), clock_(std::move(clock)), stopping_(stopping) {}

  /// Blocks until the job returns or its deadline (+1 s grace) passes.
  RunRecord run(const JobConfig& job, std::shared_ptr<RunHandle> handle = nullptr);

 private:
  InventoryService& inventories_;
  Clock clock_;
  const std::atomic<bool>& stopping_;
};

/// Adds `job="<name>"` as the first label of every sample.
void labelSamples(const std::string& jobName, std::vector<Sample>& samples);

}  // namespace mxpulse
