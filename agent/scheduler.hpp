// SPDX-License-Identifier: Apache-2.0
// Decides when each job runs. One thread sleeps until the earliest due time
// (condition_variable::wait_until: no polling), hands due jobs to a small
// worker pool, and never starts a job whose previous run is still going
// (the skipped run is counted as an overrun). Missed runs are not caught up.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "agent/config.hpp"
#include "agent/runner.hpp"

namespace mxpulse {

class Scheduler {
 public:
  struct Hooks {
    /// Runs one job on a worker thread (runner + result sink).
    std::function<void(const JobConfig&, std::shared_ptr<RunHandle>)> execute;
    /// A due run was skipped because the previous one is still going.
    std::function<void(const JobConfig&)> overrun;
    /// Called every `watchdogInterval` (systemd WATCHDOG=1), if set.
    std::function<void()> watchdog;
  };

  Scheduler(int workers, Hooks hooks, Runner::Clock clock, Millis watchdogInterval = Millis(0));
  ~Scheduler();

  /// Installs (or replaces, on reload) the job list. A job that keeps its
  /// name and schedule keeps its next due time.
  void setJobs(const std::vector<JobConfig>& jobs, const std::string& splaySeed, Millis maxSplay);
  void start();
  /// Stops scheduling; waits up to `grace` for running jobs, then returns
  /// (abandoned job threads end with the process).
  void stop(Millis grace);

  /// For tests and `status`: (job, next due) pairs.
  std::vector<std::pair<std::string, WallTime>> dueTimes();

 private:
  struct Entry {
    JobConfig job;
    Millis splay{0};
    WallTime due;
    std::shared_ptr<RunHandle> inFlight;
  };
  void schedulerLoop();
  void workerLoop();

  Hooks hooks_;
  Runner::Clock clock_;
  Millis watchdogInterval_;
  int workerCount_;
  std::mutex mutex_;
  std::condition_variable wake_;      // scheduler: jobs changed, or stop
  std::condition_variable workReady_;  // workers: queue not empty, or stop
  std::condition_variable workDone_;   // stop(): a worker finished
  std::vector<Entry> entries_;
  std::deque<std::pair<JobConfig, std::shared_ptr<RunHandle>>> queue_;
  int busyWorkers_ = 0;
  bool stopping_ = false;
  std::thread schedulerThread_;
  std::vector<std::thread> workers_;
};

}  // namespace mxpulse
