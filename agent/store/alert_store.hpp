// SPDX-License-Identifier: Apache-2.0
// Alert state, the outbox, silences and counters in the state DB.
//
// recordAlerts() runs inside the transaction that records a run (see
// StateStore::recordRun), so a result, the alert state it leads to and the
// messages it produces are committed together or not at all: a crash can
// never keep the result and lose its alert. The outbox functions are used
// by the notifier on its own connection; each is one short transaction.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/output/alert_config.hpp"
#include "agent/output/alert_message.hpp"
#include "agent/store/sqlite_db.hpp"

namespace mxpulse {

struct RunRecord;

/// Steps the policy for every result of `run` and enqueues the messages.
/// Must be called inside an open transaction on `db`.
bool recordAlerts(SqliteDb& db, const RunRecord& run, const AlertSettings& settings,
                  std::string& error);

// ------------------------------------------------------------- silences

struct SilenceRow {
  std::int64_t id = 0;
  std::string matcher, reason;
  std::int64_t createdAt = 0, expiresAt = 0, removedAt = 0;
};

/// True if the glob `matcher` matches the job, the check, the target, a
/// whitespace-separated word of the target, "job/check" or "job/check/target".
bool silenceMatches(const std::string& matcher, const std::string& job, const std::string& check,
                    const std::string& target);
bool addSilence(SqliteDb& db, const std::string& matcher, std::int64_t now, std::int64_t expiresAt,
                const std::string& reason, std::int64_t& id, std::string& error);
/// Active silences (and, with `all`, expired and removed ones too).
std::vector<SilenceRow> listSilences(SqliteDb& db, std::int64_t now, bool all, std::string& error);
/// False with `error` when there is no active silence `id`.
bool removeSilence(SqliteDb& db, std::int64_t id, std::int64_t now, std::string& error);

// --------------------------------------------------------------- outbox

struct OutboxRow {
  std::int64_t id = 0;
  std::int64_t createdAt = 0;
  std::string chatId, job, state, lastError;
  std::string html, plain;
  int alerts = 0;
  Status severity = Status::Ok;
  int attempts = 0;
  std::int64_t nextAttemptAt = 0, sentAt = 0;
  bool uncertain = false;
};

/// The oldest pending message of every chat whose older messages are all
/// delivered (or failed): per-chat order is kept even across retries.
std::vector<OutboxRow> outboxHeads(SqliteDb& db, std::string& error);
/// Puts rows that a dead process left in 'sending' back to 'pending',
/// flagged uncertain (they may have arrived). A row counts as abandoned
/// when its pid is gone, its pid is ours but the token is not, or it was
/// claimed longer than `staleAfter` seconds ago. Returns how many.
int recoverAbandoned(SqliteDb& db, std::int64_t now, std::int64_t staleAfter, std::int64_t token,
                     std::string& error);
/// pending -> sending for this process; false if someone else took it.
bool claimOutbox(SqliteDb& db, std::int64_t id, std::int64_t now, std::int64_t token,
                 std::string& error);
bool markOutboxSent(SqliteDb& db, std::int64_t id, std::int64_t now, std::string& error);
/// Back to pending for another attempt at `nextAt`.
bool markOutboxRetry(SqliteDb& db, std::int64_t id, std::int64_t nextAt, const std::string& why,
                     bool uncertain, std::string& error);
bool markOutboxFailed(SqliteDb& db, std::int64_t id, const std::string& why, std::string& error);
/// Pending rows created before `createdBefore` become 'failed' (kept).
int expireOutbox(SqliteDb& db, std::int64_t createdBefore, std::string& error);
/// failed -> pending (all failed rows when id is 0). Returns how many.
int retryFailedOutbox(SqliteDb& db, std::int64_t id, std::int64_t now, std::string& error);
/// Rows in the given state, oldest first (at most `limit`).
std::vector<OutboxRow> readOutbox(SqliteDb& db, const std::string& state, int limit,
                                  std::string& error);

// ------------------------------------------------------ status, metrics

struct FiringAlertRow {
  std::string job, check, target, summary;
  Status severity = Status::Unknown;
  std::int64_t since = 0;
  bool flapping = false;
};
std::vector<FiringAlertRow> readFiringAlerts(SqliteDb& db, std::string& error);

struct AlertFigures {
  std::map<std::string, std::int64_t> firing;       ///< severity name -> alerts firing
  std::map<std::string, std::int64_t> outboxDepth;  ///< pending, sending, failed
  std::int64_t sends = 0, sendErrors = 0;
};
AlertFigures readAlertFigures(SqliteDb& db, std::string& error);

/// Counter names kept in the `counters` table.
constexpr const char* kCounterSends = "telegram_sends_total";
constexpr const char* kCounterSendErrors = "telegram_send_errors_total";

}  // namespace mxpulse
