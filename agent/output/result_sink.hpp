// SPDX-License-Identifier: Apache-2.0
// The single writer: one thread takes finished runs from a queue, commits
// each in one transaction, prunes old history, and rewrites the textfile.
// Workers never touch SQLite, so a slow disk never delays a check.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <variant>

#include "agent/output/alert_config.hpp"
#include "agent/output/textfile.hpp"
#include "agent/store/state_store.hpp"

namespace mxpulse {

class ResultSink {
 public:
  struct Settings {
    std::string textfile;  ///< "" = no textfile
    std::set<std::string> jobs;  ///< configured jobs (others are forgotten)
    std::int64_t retentionSeconds = 30 * 86400;
    /// Alert policy and routing, applied in each run's transaction; null
    /// records results only.
    std::shared_ptr<const AlertSettings> alerts;
    /// SQL alert rules, evaluated after runs (each at most every rule.every).
    std::vector<AlertRuleConfig> rules;
  };
  /// `onFatal` is called after repeated write failures (the DB is gone).
  ResultSink(StateStore& store, Settings settings, AgentGauges gauges,
             std::function<void(const std::string&)> onFatal = nullptr);
  ~ResultSink();

  void start();
  void stop();  ///< drains the queue first
  void submit(RunRecord run);
  void overrun(const std::string& job, const std::string& kind);
  void reconfigure(Settings settings, bool reloadOk, std::int64_t reloadAt);
  /// Blocks until everything submitted so far is committed and rendered.
  void flush();
  /// Renders and writes the textfile now (on the caller's thread; only
  /// when the sink thread is not running). Returns false with `error`.
  bool writeTextfile(std::string& error);
  /// Evaluates the alert rules that are due (all of them with `force`) and
  /// records their rows; on the caller's thread, like writeTextfile().
  bool runRules(bool force, std::string& error);
  /// Called on the sink thread after each commit (wakes the notifier).
  void onCommitted(std::function<void()> callback) { onCommitted_ = std::move(callback); }
  /// Marks the textfile for rewriting (e.g. after the notifier sent something).
  void touch();

 private:
  struct Overrun {
    std::string job, kind;
  };
  using Event = std::variant<RunRecord, Overrun>;
  void loop();
  void handle(Event& event, const Settings& settings);
  bool evaluateRules(const Settings& settings, bool force, std::string& error);

  StateStore& store_;
  Settings settings_;
  AgentGauges gauges_;
  std::function<void(const std::string&)> onFatal_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Event> queue_;
  bool stopping_ = false;
  bool busy_ = false;
  bool textfileDirty_ = false;
  bool forgetPending_ = false;
  int consecutiveFailures_ = 0;
  std::int64_t lastPrune_ = 0;
  std::map<std::string, std::int64_t> lastRuleRun_;  ///< rule -> unix ms of last evaluation
  std::function<void()> onCommitted_;
  std::thread thread_;
};

}  // namespace mxpulse
