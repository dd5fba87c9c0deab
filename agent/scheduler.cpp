// SPDX-License-Identifier: Apache-2.0
#include "agent/scheduler.hpp"

#include <algorithm>

#include "agent/log.hpp"

namespace mxpulse {

Scheduler::Scheduler(int workers, Hooks hooks, Runner::Clock clock, Millis watchdogInterval)
    : hooks_(std::move(hooks)),
      clock_(std::move(clock)),
      watchdogInterval_(watchdogInterval),
      workerCount_(std::max(1, workers)) {}

Scheduler::~Scheduler() { stop(Millis(0)); }

void Scheduler::setJobs(const std::vector<JobConfig>& jobs, const std::string& splaySeed,
                        Millis maxSplay) {
  std::lock_guard<std::mutex> lock(mutex_);
  WallTime now = clock_();
  std::vector<Entry> next;
  for (const auto& job : jobs) {
    Entry e;
    e.job = job;
    e.splay = splayFor(splaySeed, job.name, job.schedule, maxSplay);
    e.due = firstDue(job.schedule, now, e.splay);
    for (auto& old : entries_) {
      if (old.job.name == job.name && old.job.schedule.describe() == job.schedule.describe()) {
        e.due = old.due;  // same job, same schedule: keep its phase
        e.inFlight = old.inFlight;
      }
    }
    next.push_back(std::move(e));
  }
  entries_ = std::move(next);
  wake_.notify_all();
}

void Scheduler::start() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (schedulerThread_.joinable()) return;
  stopping_ = false;
  for (int i = 0; i < workerCount_; ++i) workers_.emplace_back([this] { workerLoop(); });
  schedulerThread_ = std::thread([this] { schedulerLoop(); });
}

void Scheduler::stop(Millis grace) {
  {
    std::unique_lock<std::mutex> lock(mutex_);
    if (!schedulerThread_.joinable()) return;
    stopping_ = true;
    queue_.clear();
    wake_.notify_all();
    workReady_.notify_all();
    workDone_.wait_for(lock, grace, [this] { return busyWorkers_ == 0; });
  }
  schedulerThread_.join();
  // Workers still inside a job are detached: the process is about to exit
  // and the job's own thread is bounded by its deadline anyway.
  for (auto& w : workers_) {
    bool idle;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      idle = busyWorkers_ == 0;
    }
    if (idle)
      w.join();
    else
      w.detach();
  }
  workers_.clear();
}

std::vector<std::pair<std::string, WallTime>> Scheduler::dueTimes() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::pair<std::string, WallTime>> out;
  for (const auto& e : entries_) out.emplace_back(e.job.name, e.due);
  return out;
}

void Scheduler::schedulerLoop() {
  std::unique_lock<std::mutex> lock(mutex_);
  auto nextWatchdog = std::chrono::steady_clock::now() + watchdogInterval_;
  while (!stopping_) {
    WallTime now = clock_();
    for (auto& e : entries_) {
      if (e.due > now) continue;
      if (e.inFlight && !e.inFlight->finished) {
        log::warning("job still running at its next due time; skipping this run " +
                     log::kv("job", e.job.name));
        if (hooks_.overrun) hooks_.overrun(e.job);
      } else {
        e.inFlight = std::make_shared<RunHandle>();
        queue_.emplace_back(e.job, e.inFlight);
        workReady_.notify_one();
      }
      e.due = nextDue(e.job.schedule, e.due, now, e.splay);
    }
    WallTime wakeAt = WallTime::max();
    for (const auto& e : entries_) wakeAt = std::min(wakeAt, e.due);
    if (watchdogInterval_.count() > 0) {
      auto steadyNow = std::chrono::steady_clock::now();
      if (steadyNow >= nextWatchdog) {
        if (hooks_.watchdog) hooks_.watchdog();
        nextWatchdog = steadyNow + watchdogInterval_;
      }
      wakeAt = std::min(wakeAt, now + std::chrono::duration_cast<WallTime::duration>(
                                          nextWatchdog - steadyNow));
    }
    if (wakeAt == WallTime::max())
      wake_.wait(lock);
    else
      wake_.wait_until(lock, wakeAt);
  }
}

void Scheduler::workerLoop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    workReady_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    auto task = std::move(queue_.front());
    queue_.pop_front();
    ++busyWorkers_;
    lock.unlock();
    try {
      hooks_.execute(task.first, task.second);
    } catch (const std::exception& e) {
      log::error("job execution failed " + log::kv("job", task.first.name) + " " +
                 log::kv("error", e.what()));
    }
    lock.lock();
    --busyWorkers_;
    workDone_.notify_all();
  }
}

}  // namespace mxpulse
