// SPDX-License-Identifier: Apache-2.0
#include "agent/output/result_sink.hpp"

#include <chrono>

#include "agent/log.hpp"
#include "agent/output/alert_rules.hpp"

namespace mxpulse {

namespace {
constexpr int kFatalAfterFailures = 5;
std::int64_t unixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
std::int64_t unixNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

ResultSink::ResultSink(StateStore& store, Settings settings, AgentGauges gauges,
                       std::function<void(const std::string&)> onFatal)
    : store_(store), settings_(std::move(settings)), gauges_(std::move(gauges)),
      onFatal_(std::move(onFatal)) {}

ResultSink::~ResultSink() { stop(); }

void ResultSink::start() {
  std::string error;
  if (!store_.forgetJobsExcept(settings_.jobs, error)) log::warning("state DB: " + error);
  thread_ = std::thread([this] { loop(); });
}

void ResultSink::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!thread_.joinable()) return;
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void ResultSink::submit(RunRecord run) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.emplace_back(std::move(run));
  }
  changed_.notify_all();
}

void ResultSink::overrun(const std::string& job, const std::string& kind) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.emplace_back(Overrun{job, kind});
  }
  changed_.notify_all();
}

void ResultSink::reconfigure(Settings settings, bool reloadOk, std::int64_t reloadAt) {
  std::lock_guard<std::mutex> lock(mutex_);
  gauges_.configReloadOk = reloadOk;
  if (reloadOk) {
    gauges_.configReloadSuccessAt = reloadAt;
    settings_ = std::move(settings);
    forgetPending_ = true;  // done on the sink thread: it owns the connection
  }
  textfileDirty_ = true;
  changed_.notify_all();
}

void ResultSink::flush() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [this] { return queue_.empty() && !busy_ && !textfileDirty_; });
}

void ResultSink::touch() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    textfileDirty_ = true;
  }
  changed_.notify_all();
}

bool ResultSink::evaluateRules(const Settings& settings, bool force, std::string& error) {
  bool ok = true;
  for (const auto& rule : settings.rules) {
    std::int64_t nowMs = unixNowMs();
    auto last = lastRuleRun_.find(rule.name);
    if (!force && last != lastRuleRun_.end() && nowMs - last->second < rule.every.count()) continue;
    lastRuleRun_[rule.name] = nowMs;
    RunRecord rec = evaluateRule(rule, store_.db().path(), nowMs / 1000);
    if (rec.outcome != RunOutcome::Completed)
      log::warning("alert rule failed " + log::kv("rule", rule.name) + " " +
                   log::kv("error", rec.error));
    std::string why;
    if (!store_.recordRun(rec, why, settings.alerts.get())) {
      error = "rule " + rule.name + ": " + why;
      ok = false;
    }
  }
  return ok;
}

bool ResultSink::runRules(bool force, std::string& error) {
  return evaluateRules(settings_, force, error);
}

void ResultSink::handle(Event& event, const Settings& settings) {
  std::string error;
  bool ok;
  if (auto* run = std::get_if<RunRecord>(&event)) {
    ok = store_.recordRun(*run, error, settings.alerts.get());
    log::info("job finished " + log::kv("job", run->job) + " " + log::kv("kind", run->kind) + " " +
              log::kv("outcome", runOutcomeName(run->outcome)) + " " +
              log::kv("status", statusName(run->worstStatus())) + " " +
              log::kv("results", static_cast<long long>(run->output.results.size())) + " " +
              log::kv("duration_ms", run->durationMs));
  } else {
    auto& o = std::get<Overrun>(event);
    ok = store_.recordOverrun(o.job, o.kind, error);
  }
  if (!ok) {
    ++consecutiveFailures_;
    log::error("cannot record result: " + error);
    if (consecutiveFailures_ >= kFatalAfterFailures && onFatal_) onFatal_(error);
    return;
  }
  consecutiveFailures_ = 0;
  if (std::holds_alternative<RunRecord>(event) && !settings.rules.empty()) {
    // Rules see the state this run just committed.
    if (!evaluateRules(settings, false, error)) log::error("cannot record alert rule: " + error);
  }
  if (onCommitted_) onCommitted_();
  std::int64_t now = unixNow();
  if (now - lastPrune_ >= 3600) {
    lastPrune_ = now;
    if (!store_.prune(now - settings.retentionSeconds, error))
      log::warning("history pruning failed: " + error);
  }
}

bool ResultSink::writeTextfile(std::string& error) {
  if (settings_.textfile.empty()) return true;
  auto jobs = readJobStatuses(store_.db(), error);
  auto latest = readLatest(store_.db(), error);
  auto samples = readSamples(store_.db(), error);
  std::vector<JobStatusRow> configured;
  for (auto& j : jobs)
    if (settings_.jobs.count(j.job)) configured.push_back(std::move(j));
  std::vector<LatestRow> current;
  for (auto& r : latest)
    if (settings_.jobs.count(r.job)) current.push_back(std::move(r));
  std::vector<StoredSample> currentSamples;
  for (auto& s : samples)
    if (settings_.jobs.count(s.job)) currentSamples.push_back(std::move(s));
  AlertFigures figures = readAlertFigures(store_.db(), error);
  std::string text = renderTextfile(configured, current, currentSamples, gauges_,
                                    settings_.alerts ? &figures : nullptr);
  return writeFileAtomically(settings_.textfile, text, error);
}

void ResultSink::loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    changed_.wait(lock, [this] { return stopping_ || !queue_.empty() || textfileDirty_; });
    bool wrote = false;
    while (!queue_.empty()) {
      Event event = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
      Settings settings = settings_;  // reconfigure() may replace settings_ meanwhile
      lock.unlock();
      handle(event, settings);
      wrote = true;
      lock.lock();
    }
    if (forgetPending_) {
      forgetPending_ = false;
      std::string error;
      if (!store_.forgetJobsExcept(settings_.jobs, error)) log::warning("state DB: " + error);
    }
    if (wrote || textfileDirty_) {
      textfileDirty_ = false;
      busy_ = true;
      // Render under the lock: reconfigure() may change settings_.
      std::string error;
      if (!writeTextfile(error)) log::error(error);
    }
    busy_ = false;
    changed_.notify_all();
    if (stopping_ && queue_.empty()) return;
  }
}

}  // namespace mxpulse
