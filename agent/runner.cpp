// SPDX-License-Identifier: Apache-2.0
#include "agent/runner.hpp"

#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>

#include "agent/log.hpp"

namespace mxpulse {

namespace {

class RunContext : public JobContext {
 public:
  RunContext(std::chrono::system_clock::time_point now, Deadline deadline,
             const std::atomic<bool>& stopping, std::map<std::string, InventorySnapshot> inv)
      : now_(now), deadline_(deadline), stopping_(stopping), inventories_(std::move(inv)) {}
  std::chrono::system_clock::time_point now() const override { return now_; }
  Deadline deadline() const override { return deadline_; }
  bool stopRequested() const override { return stopping_.load(); }
  const InventorySnapshot* inventory(const std::string& name) const override {
    auto it = inventories_.find(name);
    return it == inventories_.end() ? nullptr : &it->second;
  }

 private:
  std::chrono::system_clock::time_point now_;
  Deadline deadline_;
  const std::atomic<bool>& stopping_;
  std::map<std::string, InventorySnapshot> inventories_;
};

// Shared between the waiting worker and the job thread, which may outlive
// the wait (it then finishes into a state nobody reads).
struct Shared {
  std::mutex mutex;
  std::condition_variable done;
  bool finished = false;
  JobOutput output;
  std::string exception;
};

std::string formatAge(std::int64_t seconds) {
  if (seconds < 120) return std::to_string(seconds) + "s";
  if (seconds < 7200) return std::to_string(seconds / 60) + "m";
  if (seconds < 172800) return std::to_string(seconds / 3600) + "h";
  return std::to_string(seconds / 86400) + "d";
}

}  // namespace

void labelSamples(const std::string& jobName, std::vector<Sample>& samples) {
  for (auto& s : samples) {
    bool has = false;
    for (const auto& l : s.labels) has = has || l.first == "job";
    if (!has) s.labels.insert(s.labels.begin(), {"job", jobName});
  }
}

RunRecord Runner::run(const JobConfig& job, std::shared_ptr<RunHandle> handle) {
  using namespace std::chrono;
  RunRecord rec;
  rec.job = job.name;
  rec.kind = job.kind;
  auto wallStart = clock_();
  rec.startedAt = duration_cast<seconds>(wallStart.time_since_epoch()).count();
  auto steadyStart = steady_clock::now();
  Deadline deadline(steadyStart + job.timeout);

  std::map<std::string, InventorySnapshot> snapshots;
  std::vector<CheckResult> inventoryResults;
  for (const auto& name : job.job->inventories()) {
    InventorySnapshot snap = inventories_.snapshot(name, deadline, rec.startedAt);
    if (!snap.error.empty()) {
      std::string summary = "inventory " + name + " could not be read: " + snap.error;
      summary += snap.fetchedAt
                     ? "; using the last good list (" + std::to_string(snap.items.size()) +
                           " items, " + formatAge(rec.startedAt - snap.fetchedAt) + " old)"
                     : "; no earlier list to fall back on";
      CheckResult r("inventory", name, Status::Unknown, summary);
      r.facts.set("error", snap.error);
      r.facts.set("items_used", static_cast<long long>(snap.items.size()));
      r.facts.set("last_good_at", static_cast<long long>(snap.fetchedAt));
      inventoryResults.push_back(std::move(r));
    }
    snapshots.emplace(name, std::move(snap));
  }

  auto shared = std::make_shared<Shared>();
  auto context = std::make_shared<RunContext>(wallStart, deadline, stopping_, std::move(snapshots));
  std::shared_ptr<Job> jobPtr = job.job;
  if (!handle) handle = std::make_shared<RunHandle>();
  std::thread([shared, context, jobPtr, handle] {
    JobOutput out;
    std::string exception;
    try {
      out = jobPtr->run(*context);
    } catch (const std::exception& e) {
      exception = e.what();
    } catch (...) {
      exception = "unknown exception";
    }
    {
      std::lock_guard<std::mutex> lock(shared->mutex);
      shared->output = std::move(out);
      shared->exception = std::move(exception);
      shared->finished = true;
    }
    shared->done.notify_all();
    handle->finished = true;
  }).detach();

  bool finished;
  {
    std::unique_lock<std::mutex> lock(shared->mutex);
    finished = shared->done.wait_until(lock, deadline.at() + seconds(1),
                                       [&] { return shared->finished; });
    if (finished) {
      rec.output = std::move(shared->output);
      if (!shared->exception.empty()) {
        rec.outcome = RunOutcome::Error;
        rec.error = shared->exception;
      }
    }
  }
  rec.durationMs = duration_cast<milliseconds>(steady_clock::now() - steadyStart).count();
  if (!finished) {
    rec.outcome = RunOutcome::Timeout;
    rec.error = "timeout after " + formatDuration(job.timeout);
    rec.output = JobOutput{};
    rec.output.results.emplace_back("job", job.name, Status::Unknown,
                                    job.name + ": unknown: timeout after " +
                                        formatDuration(job.timeout) + " (job did not finish)");
    log::warning("job timed out " + log::kv("job", job.name) +
                 " " + log::kv("timeout", formatDuration(job.timeout)));
  } else if (rec.outcome == RunOutcome::Error) {
    // A bug in the job: keep nothing it produced, say so once.
    rec.output = JobOutput{};
    rec.output.results.emplace_back("job", job.name, Status::Unknown,
                                    job.name + ": unknown: internal error: " + rec.error);
    log::error("job failed with an exception " + log::kv("job", job.name) + " " +
               log::kv("error", rec.error));
  }
  for (auto& r : inventoryResults) rec.output.results.push_back(std::move(r));
  labelSamples(job.name, rec.output.samples);
  return rec;
}

}  // namespace mxpulse
