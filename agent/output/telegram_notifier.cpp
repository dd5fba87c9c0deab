// SPDX-License-Identifier: Apache-2.0
#include "agent/output/telegram_notifier.hpp"

#include <algorithm>
#include <chrono>
#include <random>
#include <set>

#include "agent/log.hpp"
#include "agent/output/alert_message.hpp"
#include "agent/store/alert_store.hpp"
#include "agent/extension.hpp"
#include "probes/telegram.hpp"

namespace mxpulse {

namespace {

std::int64_t unixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t seconds(Millis d) {
  return std::chrono::duration_cast<std::chrono::seconds>(d).count();
}

std::int64_t randomToken() {
  std::random_device rd;
  std::uint64_t v = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  return static_cast<std::int64_t>(v >> 1) + 1;  // positive, never 0
}

}  // namespace

std::int64_t backoffSeconds(const TelegramConfig& config, int attempts) {
  std::int64_t base = std::max<std::int64_t>(1, seconds(config.retryMin));
  std::int64_t cap = std::max(base, seconds(config.retryMax));
  std::int64_t d = base;
  for (int i = 1; i < attempts && d < cap; ++i) d *= 2;
  return std::min(d, cap);
}

TelegramNotifier::TelegramNotifier(std::string dbPath, TelegramConfig config)
    : dbPath_(std::move(dbPath)), config_(std::move(config)), token_(randomToken()) {}

TelegramNotifier::~TelegramNotifier() {
  stop();
}

bool TelegramNotifier::open(std::string& error) {
  return db_.open(dbPath_, SqliteDb::Mode::ReadWriteCreate, error);
}

void TelegramNotifier::start() {
  stopping_ = false;
  thread_ = std::thread([this] { loop(); });
}

void TelegramNotifier::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void TelegramNotifier::wake() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    woken_ = true;
  }
  cv_.notify_all();
}

void TelegramNotifier::reconfigure(TelegramConfig config) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    config_ = std::move(config);
    woken_ = true;
  }
  cv_.notify_all();
}

TelegramConfig TelegramNotifier::config() {
  std::lock_guard<std::mutex> lock(mutex_);
  return config_;
}

bool TelegramNotifier::pause(std::int64_t ms) {
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stopping_.load(); });
  return !stopping_;
}

TelegramNotifier::Pass TelegramNotifier::drainOnce(Deadline deadline) {
  Pass pass;
  const TelegramConfig cfg = config();
  const probes::TelegramEndpoint endpoint{cfg.apiBaseUrl, cfg.botToken};
  std::string error;
  std::int64_t now = unixNow();

  int recovered = recoverAbandoned(db_, now, 2 * seconds(cfg.timeout) + 60, token_, error);
  if (recovered < 0) {
    log::error("outbox: " + error);
    pass.dbError = true;
    return pass;
  }
  pass.recovered = recovered;
  if (recovered > 0)
    log::warning("outbox: " + std::to_string(recovered) +
                 " message(s) were being sent when a previous process stopped; sending them "
                 "again marked \"possibly repeated\"");
  if (cfg.expireAfter.count() > 0) {
    int expired = expireOutbox(db_, now - seconds(cfg.expireAfter), error);
    if (expired > 0) {
      pass.expired = expired;
      log::error("outbox: " + std::to_string(expired) + " message(s) not delivered within " +
                 formatDuration(cfg.expireAfter) + " marked failed (see mxpulse status)");
    }
  }

  std::set<std::int64_t> tried;
  bool first = true;
  while (!stopping_ && !deadline.expired()) {
    now = unixNow();
    if (now < pausedUntil_) break;
    error.clear();
    auto heads = outboxHeads(db_, error);
    if (!error.empty()) {
      log::error("outbox: " + error);
      pass.dbError = true;
      break;
    }
    const OutboxRow* row = nullptr;
    for (const auto& h : heads)
      if (h.nextAttemptAt <= now && !tried.count(h.id)) {
        row = &h;
        break;
      }
    if (!row) break;
    tried.insert(row->id);
    if (!first && cfg.sendInterval.count() > 0 && !pause(cfg.sendInterval.count())) break;
    first = false;
    now = unixNow();
    if (!claimOutbox(db_, row->id, now, token_, error)) {
      if (!error.empty()) {
        log::error("outbox: " + error);
        pass.dbError = true;
        break;
      }
      continue;  // another process took it
    }
    int attempt = row->attempts + 1;
    MessageText msg{row->html, row->plain, row->alerts, row->severity};
    if (row->uncertain) msg = prependRepeatNote(msg);
    Deadline sendBy = deadline.capped(cfg.timeout);
    probes::TelegramSend r =
        ext::telegramSendMessage(endpoint, row->chatId, msg.html, "HTML", sendBy);
    bool plainFallback = false;
    if (r.outcome == probes::TelegramSend::Outcome::ParseError) {
      // Our escaping should make this impossible; if Telegram disagrees, the
      // alert still goes out, without formatting.
      log::warning("telegram rejected the HTML of message " + std::to_string(row->id) + " (" +
                   r.description + "); sending it as plain text");
      plainFallback = true;
      r = ext::telegramSendMessage(endpoint, row->chatId, msg.plain, "",
                                      deadline.capped(cfg.timeout));
    }
    std::string why = probes::maskToken(r.description, cfg.botToken);
    now = unixNow();
    bool recorded;
    std::string what = log::kv("id", static_cast<long long>(row->id)) + " " +
                       log::kv("chat", row->chatId) + " " +
                       log::kv("attempt", static_cast<long long>(attempt));
    using O = probes::TelegramSend::Outcome;
    switch (r.outcome) {
      case O::Sent:
        recorded = markOutboxSent(db_, row->id, now, error);
        ++pass.sent;
        log::info("telegram message sent " + what + " " +
                  log::kv("alerts", static_cast<long long>(row->alerts)) +
                  (plainFallback ? " plain_text=1" : ""));
        break;
      case O::RetryAfter:
        pausedUntil_ = now + r.retryAfter;
        recorded = markOutboxRetry(db_, row->id, now + r.retryAfter, why, false, error);
        ++pass.retrying;
        log::warning("telegram flood control: waiting " + std::to_string(r.retryAfter) + "s " +
                     what);
        break;
      case O::Rejected:
      case O::ParseError:
        if (r.httpStatus != 401 && r.httpStatus != 404) {
          recorded = markOutboxFailed(db_, row->id, why, error);
          ++pass.failed;
          log::error("telegram refused message; kept as failed " + what + " " +
                     log::kv("error", why));
          break;
        }
        [[fallthrough]];  // wrong token or URL: every message is affected; retry
      case O::ServerError:
      case O::NetworkError: {
        std::int64_t wait = backoffSeconds(cfg, attempt);
        recorded = markOutboxRetry(db_, row->id, now + wait, why, r.maybeDelivered, error);
        ++pass.retrying;
        log::warning("telegram send failed; retrying in " + std::to_string(wait) + "s " + what +
                     " " + log::kv("error", why));
        break;
      }
    }
    if (!recorded) {
      // The row stays 'sending' and is recovered (uncertain) by the next
      // pass once it is stale, or at the next start.
      log::error("outbox: cannot record the send result: " + error);
      pass.dbError = true;
      break;
    }
  }
  return pass;
}

void TelegramNotifier::loop() {
  while (!stopping_) {
    Pass pass = drainOnce(Deadline());
    if ((pass.sent || pass.failed || pass.retrying || pass.expired || pass.recovered) && onChange_)
      onChange_();
    // Sleep until the earliest retry (or a wake-up, or stop).
    std::int64_t now = unixNow();
    std::int64_t next = now + 60;
    std::string error;
    if (!pass.dbError) {
      for (const auto& h : outboxHeads(db_, error)) next = std::min(next, h.nextAttemptAt);
    } else {
      next = now + 5;  // the DB is busy or broken: try again soon, not in a tight loop
    }
    next = std::max(next, pausedUntil_);
    auto until =
        std::chrono::system_clock::time_point(std::chrono::seconds(std::max(next, now + 1)));
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait_until(lock, until, [this] { return stopping_.load() || woken_; });
    woken_ = false;
  }
}

}  // namespace mxpulse
