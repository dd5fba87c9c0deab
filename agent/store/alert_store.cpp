// SPDX-License-Identifier: Apache-2.0
#include "agent/store/alert_store.hpp"

#include <fnmatch.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <set>
#include <sstream>
#include <tuple>

#include "agent/store/state_store.hpp"

namespace mxpulse {

namespace {

using Key = std::pair<std::string, std::string>;  // check, target

struct StoredAlert {
  AlertState state;
  std::string summary;
};

Status statusFrom(std::int64_t v) {
  return v >= 0 && v <= 3 ? static_cast<Status>(v) : Status::Unknown;
}

std::string encodeChanges(const std::vector<std::int64_t>& changes) {
  std::string out;
  for (auto t : changes) {
    if (!out.empty()) out += ' ';
    out += std::to_string(t);
  }
  return out;
}

std::vector<std::int64_t> decodeChanges(const std::string& text) {
  std::vector<std::int64_t> out;
  std::istringstream in(text);
  std::int64_t t;
  while (in >> t) out.push_back(t);
  return out;
}

/// A state with nothing to remember: its row can go.
bool quiet(const AlertState& s) {
  return s.phase == AlertPhase::Ok && !s.flapping && s.announced == Status::Ok && s.changes.empty();
}

bool fail(SqliteDb& db, const std::string& what, std::string& error) {
  error = what + ": " + db.lastError();
  return false;
}

struct ActiveSilence {
  std::int64_t id;
  std::string matcher;
};

std::int64_t changes(SqliteDb& db) {
  return sqlite3_changes(db.handle());
}

}  // namespace

bool silenceMatches(const std::string& matcher, const std::string& job, const std::string& check,
                    const std::string& target) {
  auto m = [&](const std::string& s) { return fnmatch(matcher.c_str(), s.c_str(), 0) == 0; };
  if (m(job) || m(check) || m(target) || m(job + "/" + check) ||
      m(job + "/" + check + "/" + target))
    return true;
  std::istringstream words(target);
  std::string w;
  while (words >> w)
    if (m(w)) return true;
  return false;
}

bool recordAlerts(SqliteDb& db, const RunRecord& run, const AlertSettings& settings,
                  std::string& error) {
  if (!settings.enabledFor(run.job)) return true;
  const AlertPolicy& policy = settings.policyFor(run.job);
  const std::int64_t now = run.startedAt;
  const bool rule = isRuleJob(run.job);

  std::map<Key, StoredAlert> stored;
  {
    SqliteStmt st = db.prepare(
        "SELECT check_name, target, phase, severity, last_status, same_count, bad_count, since, "
        "last_notified_at, announced, flapping, flap_changes, summary FROM alert_state "
        "WHERE job = ?",
        error);
    if (!st) return false;
    st.bind(1, run.job);
    int rc;
    while ((rc = st.step()) == SQLITE_ROW) {
      StoredAlert a;
      a.state.phase = parseAlertPhase(st.text(2)).value_or(AlertPhase::Ok);
      a.state.severity = statusFrom(st.int64(3));
      a.state.lastStatus = statusFrom(st.int64(4));
      a.state.sameCount = static_cast<int>(st.int64(5));
      a.state.badCount = static_cast<int>(st.int64(6));
      a.state.since = st.int64(7);
      a.state.lastNotifiedAt = st.int64(8);
      a.state.announced = statusFrom(st.int64(9));
      a.state.flapping = st.int64(10) != 0;
      a.state.changes = decodeChanges(st.text(11));
      a.summary = st.text(12);
      stored[{st.text(0), st.text(1)}] = std::move(a);
    }
    if (rc != SQLITE_DONE) return fail(db, "read alert state", error);
  }

  std::vector<AlertEvent> events;
  std::map<Key, StoredAlert> next;
  std::set<Key> gone;
  auto emit = [&](const Key& k, const AlertNotification& n, const std::string& summary) {
    AlertEvent e;
    e.job = run.job;
    e.check = k.first;
    e.target = k.second;
    e.summary = summary;
    e.notification = n;
    e.at = now;
    events.push_back(std::move(e));
  };
  for (const auto& r : run.output.results) {
    Key k{r.check, r.target};
    auto it = next.find(k);
    const AlertState& prev = it != next.end()  ? it->second.state
                             : stored.count(k) ? stored[k].state
                                               : AlertState{};
    AlertStep step = stepAlert(prev, r.status, now, policy);
    if (step.notification) emit(k, *step.notification, r.summary);
    next[k] = StoredAlert{std::move(step.state), r.summary};
  }
  if (run.outcome == RunOutcome::Completed) {
    // Keys this run no longer produced. For a rule, a missing row means its
    // condition cleared: an ok result (history kept for flap detection).
    // For a job, the target left the inventory or config: it resolves now.
    for (auto& [k, a] : stored) {
      if (next.count(k)) continue;
      if (rule) {
        AlertStep step = stepAlert(a.state, Status::Ok, now, policy);
        if (step.notification)
          emit(k, *step.notification,
               "the rule no longer returns this row (was: " + a.summary + ")");
        if (quiet(step.state))
          gone.insert(k);
        else
          next[k] = StoredAlert{std::move(step.state), a.summary};
      } else {
        if (auto n = vanishAlert(a.state))
          emit(k, *n,
               "no longer checked: removed from the configuration or inventory (was: " + a.summary +
                   ")");
        gone.insert(k);
      }
    }
  }

  SqliteStmt upsert = db.prepare(
      "INSERT INTO alert_state (job, check_name, target, phase, severity, last_status, same_count, "
      "bad_count, since, last_notified_at, announced, flapping, flap_changes, summary, updated_at) "
      "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15) "
      "ON CONFLICT (job, check_name, target) DO UPDATE SET phase = excluded.phase, "
      "severity = excluded.severity, last_status = excluded.last_status, "
      "same_count = excluded.same_count, bad_count = excluded.bad_count, since = excluded.since, "
      "last_notified_at = excluded.last_notified_at, announced = excluded.announced, "
      "flapping = excluded.flapping, flap_changes = excluded.flap_changes, "
      "summary = excluded.summary, updated_at = excluded.updated_at",
      error);
  if (!upsert) return false;
  for (const auto& [k, a] : next) {
    const AlertState& s = a.state;
    upsert.reset();
    upsert.bind(1, run.job).bind(2, k.first).bind(3, k.second);
    upsert.bind(4, std::string(alertPhaseName(s.phase))).bind(5, static_cast<int>(s.severity));
    upsert.bind(6, static_cast<int>(s.lastStatus)).bind(7, s.sameCount).bind(8, s.badCount);
    upsert.bind(9, s.since).bind(10, s.lastNotifiedAt).bind(11, static_cast<int>(s.announced));
    upsert.bind(12, s.flapping ? 1 : 0).bind(13, encodeChanges(s.changes)).bind(14, a.summary);
    upsert.bind(15, now);
    if (!upsert.run()) return fail(db, "write alert state", error);
  }
  if (!gone.empty()) {
    SqliteStmt del = db.prepare(
        "DELETE FROM alert_state WHERE job = ? AND check_name = ? AND target = ?", error);
    if (!del) return false;
    for (const auto& k : gone) {
      del.reset();
      del.bind(1, run.job).bind(2, k.first).bind(3, k.second);
      if (!del.run()) return fail(db, "delete alert state", error);
    }
  }
  if (events.empty()) return true;

  std::vector<ActiveSilence> silences;
  {
    SqliteStmt st = db.prepare(
        "SELECT id, matcher FROM silences WHERE removed_at IS NULL AND expires_at > ? ORDER BY id",
        error);
    if (!st) return false;
    st.bind(1, now);
    while (st.step() == SQLITE_ROW) silences.push_back({st.int64(0), st.text(1)});
  }
  SqliteStmt ev = db.prepare(
      "INSERT INTO alert_events (created_at, job, check_name, target, kind, severity, previous, "
      "summary, silence_id) VALUES (?,?,?,?,?,?,?,?,?)",
      error);
  if (!ev) return false;
  std::vector<bool> silenced(events.size(), false);
  for (size_t i = 0; i < events.size(); ++i) {
    const AlertEvent& e = events[i];
    std::int64_t silenceId = 0;
    for (const auto& s : silences)
      if (silenceMatches(s.matcher, e.job, e.check, e.target)) {
        silenceId = s.id;
        break;
      }
    silenced[i] = silenceId != 0;
    ev.reset();
    ev.bind(1, now).bind(2, e.job).bind(3, e.check).bind(4, e.target);
    ev.bind(5, std::string(notificationKindName(e.notification.kind)));
    ev.bind(6, static_cast<int>(e.notification.severity));
    ev.bind(7, static_cast<int>(e.notification.previous)).bind(8, e.summary);
    if (silenceId)
      ev.bind(9, silenceId);
    else
      ev.bindNull(9);
    if (!ev.run()) return fail(db, "record alert event", error);
  }

  // One group per chat and per silenced-ness: all notifications of this run
  // for that chat become as few messages as fit the limit.
  SqliteStmt out = db.prepare(
      "INSERT INTO outbox (created_at, chat_id, job, alerts, severity, payload, plain_text, "
      "next_attempt_at, state) VALUES (?1,?2,?3,?4,?5,?6,?7,?1,?8)",
      error);
  if (!out) return false;
  for (const auto& chat : settings.chats) {
    for (bool held : {false, true}) {
      std::vector<AlertEvent> mine;
      for (size_t i = 0; i < events.size(); ++i)
        if (silenced[i] == held && chatWants(chat, events[i].notification))
          mine.push_back(events[i]);
      if (mine.empty()) continue;
      for (const auto& m : buildAlertMessages(settings.host, mine, settings.messageLimit, held)) {
        out.reset();
        out.bind(1, now).bind(2, chat.chatId).bind(3, run.job).bind(4, m.alerts);
        out.bind(5, static_cast<int>(m.worst)).bind(6, m.html).bind(7, m.plain);
        out.bind(8, std::string(held ? "silenced" : "pending"));
        if (!out.run()) return fail(db, "enqueue message", error);
      }
    }
  }
  return true;
}

// ------------------------------------------------------------- silences

bool addSilence(SqliteDb& db, const std::string& matcher, std::int64_t now, std::int64_t expiresAt,
                const std::string& reason, std::int64_t& id, std::string& error) {
  SqliteStmt st = db.prepare(
      "INSERT INTO silences (matcher, created_at, expires_at, reason) VALUES (?,?,?,?)", error);
  if (!st) return false;
  st.bind(1, matcher).bind(2, now).bind(3, expiresAt).bind(4, reason);
  if (!st.run()) return fail(db, "add silence", error);
  id = db.lastInsertId();
  return true;
}

std::vector<SilenceRow> listSilences(SqliteDb& db, std::int64_t now, bool all, std::string& error) {
  std::vector<SilenceRow> rows;
  SqliteStmt st = db.prepare(
      std::string("SELECT id, matcher, reason, created_at, expires_at, coalesce(removed_at, 0) "
                  "FROM silences") +
          (all ? "" : " WHERE removed_at IS NULL AND expires_at > ?1") + " ORDER BY id",
      error);
  if (!st) return rows;
  if (!all) st.bind(1, now);
  while (st.step() == SQLITE_ROW) {
    SilenceRow r;
    r.id = st.int64(0);
    r.matcher = st.text(1);
    r.reason = st.text(2);
    r.createdAt = st.int64(3);
    r.expiresAt = st.int64(4);
    r.removedAt = st.int64(5);
    rows.push_back(std::move(r));
  }
  return rows;
}

bool removeSilence(SqliteDb& db, std::int64_t id, std::int64_t now, std::string& error) {
  SqliteStmt st = db.prepare(
      "UPDATE silences SET removed_at = ?1 WHERE id = ?2 AND removed_at IS NULL AND expires_at > "
      "?1",
      error);
  if (!st) return false;
  st.bind(1, now).bind(2, id);
  if (!st.run()) return fail(db, "remove silence", error);
  if (changes(db) != 1) {
    error = "no active silence with id " + std::to_string(id) + " (see: mxpulse silence list)";
    return false;
  }
  return true;
}

// --------------------------------------------------------------- outbox

namespace {

const char* kOutboxColumns =
    "id, created_at, chat_id, job, state, coalesce(last_error, ''), payload, plain_text, alerts, "
    "severity, attempts, next_attempt_at, coalesce(sent_at, 0), uncertain";

OutboxRow outboxRow(const SqliteStmt& st) {
  OutboxRow r;
  r.id = st.int64(0);
  r.createdAt = st.int64(1);
  r.chatId = st.text(2);
  r.job = st.text(3);
  r.state = st.text(4);
  r.lastError = st.text(5);
  r.html = st.text(6);
  r.plain = st.text(7);
  r.alerts = static_cast<int>(st.int64(8));
  r.severity = statusFrom(st.int64(9));
  r.attempts = static_cast<int>(st.int64(10));
  r.nextAttemptAt = st.int64(11);
  r.sentAt = st.int64(12);
  r.uncertain = st.int64(13) != 0;
  return r;
}

bool bumpCounter(SqliteDb& db, const char* name, std::string& error) {
  SqliteStmt st = db.prepare(
      "INSERT INTO counters (name, value) VALUES (?, 1) "
      "ON CONFLICT (name) DO UPDATE SET value = value + 1",
      error);
  if (!st) return false;
  st.bind(1, std::string(name));
  return st.run() || fail(db, "count", error);
}

/// Runs `body` in BEGIN IMMEDIATE ... COMMIT.
template <class Body>
bool inTransaction(SqliteDb& db, std::string& error, Body body) {
  SqliteTransaction tx(db);
  if (!tx.begin(error)) return false;
  if (!body()) return false;
  return tx.commit(error);
}

}  // namespace

std::vector<OutboxRow> outboxHeads(SqliteDb& db, std::string& error) {
  std::vector<OutboxRow> rows;
  SqliteStmt st = db.prepare(
      std::string("SELECT ") + kOutboxColumns +
          " FROM outbox o WHERE state = 'pending' AND id = (SELECT min(id) FROM outbox p "
          "WHERE p.chat_id = o.chat_id AND p.state IN ('pending', 'sending')) ORDER BY id",
      error);
  if (!st) return rows;
  int rc;
  while ((rc = st.step()) == SQLITE_ROW) rows.push_back(outboxRow(st));
  if (rc != SQLITE_DONE) error = db.lastError();
  return rows;
}

int recoverAbandoned(SqliteDb& db, std::int64_t now, std::int64_t staleAfter, std::int64_t token,
                     std::string& error) {
  int recovered = 0;
  bool ok = inTransaction(db, error, [&] {
    std::vector<std::int64_t> ids;
    {
      SqliteStmt st = db.prepare(
          "SELECT id, coalesce(claimed_by, 0), coalesce(claim_token, 0), coalesce(claimed_at, 0) "
          "FROM outbox WHERE state = 'sending'",
          error);
      if (!st) return false;
      while (st.step() == SQLITE_ROW) {
        std::int64_t pid = st.int64(1), tok = st.int64(2), at = st.int64(3);
        bool dead = pid <= 0 || (kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH);
        bool reused = pid == getpid() && tok != token;
        if (dead || reused || at < now - staleAfter) ids.push_back(st.int64(0));
      }
    }
    SqliteStmt up = db.prepare(
        "UPDATE outbox SET state = 'pending', uncertain = 1, claimed_by = NULL, "
        "claim_token = NULL, last_error = 'interrupted while sending; it may have arrived' "
        "WHERE id = ? AND state = 'sending'",
        error);
    if (!up) return false;
    for (auto id : ids) {
      up.reset();
      up.bind(1, id);
      if (!up.run()) return fail(db, "recover outbox", error);
      recovered += static_cast<int>(changes(db));
    }
    return true;
  });
  return ok ? recovered : -1;
}

bool claimOutbox(SqliteDb& db, std::int64_t id, std::int64_t now, std::int64_t token,
                 std::string& error) {
  bool claimed = false;
  bool ok = inTransaction(db, error, [&] {
    SqliteStmt st = db.prepare(
        "UPDATE outbox SET state = 'sending', attempts = attempts + 1, claimed_by = ?, "
        "claim_token = ?, claimed_at = ? WHERE id = ? AND state = 'pending'",
        error);
    if (!st) return false;
    st.bind(1, static_cast<std::int64_t>(getpid())).bind(2, token).bind(3, now).bind(4, id);
    if (!st.run()) return fail(db, "claim message", error);
    claimed = changes(db) == 1;
    return true;
  });
  return ok && claimed;
}

namespace {
/// One UPDATE of an outbox row and one counter, in one transaction.
template <class Bind>
bool finishAttempt(SqliteDb& db, const char* what, const char* sql, Bind bind, const char* counter,
                   std::string& error) {
  return inTransaction(db, error, [&] {
    SqliteStmt st = db.prepare(sql, error);
    if (!st) return false;
    bind(st);
    if (!st.run()) return fail(db, what, error);
    return bumpCounter(db, counter, error);
  });
}
}  // namespace

bool markOutboxSent(SqliteDb& db, std::int64_t id, std::int64_t now, std::string& error) {
  return finishAttempt(
      db, "mark sent",
      "UPDATE outbox SET state = 'sent', sent_at = ?, claimed_by = NULL, claim_token = NULL "
      "WHERE id = ?",
      [&](SqliteStmt& st) { st.bind(1, now).bind(2, id); }, kCounterSends, error);
}

bool markOutboxRetry(SqliteDb& db, std::int64_t id, std::int64_t nextAt, const std::string& why,
                     bool uncertain, std::string& error) {
  return finishAttempt(
      db, "reschedule message",
      "UPDATE outbox SET state = 'pending', next_attempt_at = ?, last_error = ?, "
      "uncertain = max(uncertain, ?), claimed_by = NULL, claim_token = NULL WHERE id = ?",
      [&](SqliteStmt& st) {
        st.bind(1, nextAt).bind(2, why).bind(3, uncertain ? 1 : 0).bind(4, id);
      },
      kCounterSendErrors, error);
}

bool markOutboxFailed(SqliteDb& db, std::int64_t id, const std::string& why, std::string& error) {
  return finishAttempt(
      db, "mark failed",
      "UPDATE outbox SET state = 'failed', last_error = ?, claimed_by = NULL, claim_token = NULL "
      "WHERE id = ?",
      [&](SqliteStmt& st) { st.bind(1, why).bind(2, id); }, kCounterSendErrors, error);
}

int expireOutbox(SqliteDb& db, std::int64_t createdBefore, std::string& error) {
  int n = 0;
  bool ok = inTransaction(db, error, [&] {
    SqliteStmt st = db.prepare(
        "UPDATE outbox SET state = 'failed', last_error = 'expired: not delivered in time' || "
        "coalesce(' (last error: ' || last_error || ')', '') "
        "WHERE state = 'pending' AND created_at < ?",
        error);
    if (!st) return false;
    st.bind(1, createdBefore);
    if (!st.run()) return fail(db, "expire messages", error);
    n = static_cast<int>(changes(db));
    return true;
  });
  return ok ? n : -1;
}

int retryFailedOutbox(SqliteDb& db, std::int64_t id, std::int64_t now, std::string& error) {
  SqliteStmt st = db.prepare(
      std::string("UPDATE outbox SET state = 'pending', next_attempt_at = ?1, attempts = 0, "
                  "created_at = ?1 WHERE state = 'failed'") +
          (id ? " AND id = ?2" : ""),
      error);
  if (!st) return -1;
  st.bind(1, now);
  if (id) st.bind(2, id);
  if (!st.run()) {
    fail(db, "retry messages", error);
    return -1;
  }
  return static_cast<int>(changes(db));
}

std::vector<OutboxRow> readOutbox(SqliteDb& db, const std::string& state, int limit,
                                  std::string& error) {
  std::vector<OutboxRow> rows;
  SqliteStmt st = db.prepare(
      std::string("SELECT ") + kOutboxColumns + " FROM outbox WHERE state = ? ORDER BY id LIMIT ?",
      error);
  if (!st) return rows;
  st.bind(1, state).bind(2, limit);
  while (st.step() == SQLITE_ROW) rows.push_back(outboxRow(st));
  return rows;
}

// ------------------------------------------------------ status, metrics

std::vector<FiringAlertRow> readFiringAlerts(SqliteDb& db, std::string& error) {
  std::vector<FiringAlertRow> rows;
  SqliteStmt st = db.prepare(
      "SELECT job, check_name, target, summary, severity, since, flapping FROM alert_state "
      "WHERE phase = 'firing' OR flapping = 1 ORDER BY severity = 2 DESC, severity = 1 DESC, "
      "job, check_name, target",
      error);
  if (!st) return rows;
  while (st.step() == SQLITE_ROW) {
    FiringAlertRow r;
    r.job = st.text(0);
    r.check = st.text(1);
    r.target = st.text(2);
    r.summary = st.text(3);
    r.severity = statusFrom(st.int64(4));
    r.since = st.int64(5);
    r.flapping = st.int64(6) != 0;
    rows.push_back(std::move(r));
  }
  return rows;
}

AlertFigures readAlertFigures(SqliteDb& db, std::string& error) {
  AlertFigures f;
  for (const char* s : {"warning", "critical", "unknown"}) f.firing[s] = 0;
  for (const char* s : {"pending", "sending", "failed"}) f.outboxDepth[s] = 0;
  {
    SqliteStmt st = db.prepare(
        "SELECT severity, count(*) FROM alert_state WHERE phase = 'firing' GROUP BY severity",
        error);
    if (!st) return f;
    while (st.step() == SQLITE_ROW) {
      Status s = statusFrom(st.int64(0));
      if (s != Status::Ok) f.firing[statusName(s)] += st.int64(1);
    }
  }
  {
    SqliteStmt st = db.prepare(
        "SELECT state, count(*) FROM outbox WHERE state IN ('pending', 'sending', 'failed') "
        "GROUP BY state",
        error);
    if (!st) return f;
    while (st.step() == SQLITE_ROW) f.outboxDepth[st.text(0)] = st.int64(1);
  }
  {
    SqliteStmt st = db.prepare("SELECT name, value FROM counters", error);
    if (!st) return f;
    while (st.step() == SQLITE_ROW) {
      if (st.text(0) == kCounterSends) f.sends = st.int64(1);
      if (st.text(0) == kCounterSendErrors) f.sendErrors = st.int64(1);
    }
  }
  return f;
}

}  // namespace mxpulse
