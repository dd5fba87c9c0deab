// SPDX-License-Identifier: Apache-2.0
// A JobContext for driving a job's run() directly in tests: a fixed wall
// clock, a deadline from now, no inventories.
#pragma once

#include <chrono>
#include <string>

#include "agent/job.hpp"

namespace mxpulse::test {

class FixedContext : public JobContext {
 public:
  FixedContext(std::int64_t unixNow, std::chrono::milliseconds budget)
      : now_(std::chrono::system_clock::time_point(std::chrono::seconds(unixNow))),
        deadline_(Deadline::in(budget)) {}
  std::chrono::system_clock::time_point now() const override { return now_; }
  Deadline deadline() const override { return deadline_; }
  bool stopRequested() const override { return false; }
  const InventorySnapshot* inventory(const std::string&) const override { return nullptr; }

 private:
  std::chrono::system_clock::time_point now_;
  Deadline deadline_;
};

}  // namespace mxpulse::test
