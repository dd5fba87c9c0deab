// SPDX-License-Identifier: Apache-2.0
// The notifier: drains the outbox to Telegram on its own thread and its own
// SQLite connection, so a slow or absent Telegram never delays recording.
//
// Order: per chat, strictly by outbox id; a message waiting for a retry
// holds back the newer messages of its chat (other chats go on).
// Retries: exponential backoff from retry_min to retry_max, forever unless
// expire_after is set (then the row becomes 'failed', kept with last_error).
// 429 pauses all sending for retry_after seconds. A 400 "can't parse
// entities" is resent once as plain text in the same attempt. Other 4xx
// answers (chat not found, bot blocked) fail the row at once, except 401
// and 404, which mean the token or the base URL is wrong for every message:
// those are retried until the config is fixed.
//
// Delivery guarantee: at least once, with duplicates only in one marked
// case. Each send is (1) commit state='sending' with our pid and a random
// token, (2) HTTP, (3) commit 'sent' or back to 'pending'. If the process
// dies between (1) and (3), or the HTTP exchange breaks after the request
// was written (timeout, reset, 5xx), Telegram may or may not have the
// message; we cannot know. Such a row is sent again, and the new copy is
// prefixed "possibly repeated". So a message can arrive twice only when the
// first attempt's outcome was unknown, and then the second copy says so;
// a message is never silently dropped. A row is recovered from 'sending'
// when its pid is gone, when the pid is ours but the token is not (pid
// reuse after a restart), or when it was claimed more than 2*timeout+60s
// ago.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "agent/output/alert_config.hpp"
#include "agent/store/sqlite_db.hpp"
#include "probes/deadline.hpp"

namespace mxpulse {

class TelegramNotifier {
 public:
  struct Pass {
    int sent = 0, retrying = 0, failed = 0, expired = 0, recovered = 0;
    bool dbError = false;
  };

  TelegramNotifier(std::string dbPath, TelegramConfig config);
  ~TelegramNotifier();

  /// Opens the notifier's own connection to the (already migrated) state DB.
  bool open(std::string& error);
  void start();
  /// Finishes the message in flight (bounded by the timeout), then returns.
  void stop();
  /// Something was enqueued: look now rather than at the next retry time.
  void wake();
  void reconfigure(TelegramConfig config);
  /// Called (on the notifier thread) after a pass that changed the outbox.
  void onChange(std::function<void()> callback) { onChange_ = std::move(callback); }

  /// One pass: recovers abandoned rows, expires old ones, then sends every
  /// due message (each at most once) until none is due or `deadline`.
  Pass drainOnce(Deadline deadline);

 private:
  void loop();
  /// Sleeps up to `ms` unless stopped; false if stopped.
  bool pause(std::int64_t ms);
  TelegramConfig config();

  std::string dbPath_;
  SqliteDb db_;
  std::mutex mutex_;
  std::condition_variable cv_;
  TelegramConfig config_;
  bool woken_ = false;
  std::atomic<bool> stopping_{false};
  std::int64_t pausedUntil_ = 0;  ///< unix seconds: 429 pause for every chat
  std::int64_t token_;            ///< claim token of this process
  std::function<void()> onChange_;
  std::thread thread_;
};

/// Backoff before attempt `attempts + 1`: retryMin * 2^(attempts-1), capped.
std::int64_t backoffSeconds(const TelegramConfig& config, int attempts);

}  // namespace mxpulse
