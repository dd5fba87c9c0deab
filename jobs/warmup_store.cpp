// SPDX-License-Identifier: Apache-2.0
#include "jobs/warmup_store.hpp"

#include <arpa/inet.h>
#include <unistd.h>

#include "agent/store/sqlite_db.hpp"
#include "agent/store/state_writes.hpp"

namespace mxpulse::jobs {

namespace {

constexpr const char* kGuard =
    " WHERE EXISTS (SELECT 1 FROM warmup_guard WHERE name = 'state' AND token = ?)";

std::string str(std::int64_t v) {
  return std::to_string(v);
}

/// Runs `sql` (with text parameters) and calls `row` for each result row.
template <class F>
bool select(SqliteDb& db, const std::string& sql, const std::vector<std::string>& params, F row,
            std::string& error) {
  SqliteStmt st = db.prepare(sql, error);
  if (!st) return false;
  for (size_t i = 0; i < params.size(); ++i) st.bind(static_cast<int>(i + 1), params[i]);
  int rc;
  while ((rc = st.step()) == SQLITE_ROW) row(st);
  if (rc != SQLITE_DONE) {
    error = db.lastError();
    return false;
  }
  return true;
}

}  // namespace

std::string canonicalIp(const std::string& text) {
  unsigned char buf[16];
  char out[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, text.c_str(), buf) == 1)
    return inet_ntop(AF_INET, buf, out, sizeof out) ? out : "";
  if (inet_pton(AF_INET6, text.c_str(), buf) == 1)
    return inet_ntop(AF_INET6, buf, out, sizeof out) ? out : "";
  return "";
}

bool loadWarmupState(const std::string& dbPath, const std::string& job, const std::string& source,
                     std::int64_t sinceHour, WarmupState& out, std::string& error) {
  out = WarmupState{};
  SqliteDb db;
  if (!db.open(dbPath, SqliteDb::Mode::ReadOnly, error)) return false;
  sqlite3_busy_timeout(db.handle(), 5000);
  // One read transaction: every table as of the same commit.
  if (!db.exec("BEGIN", error)) return false;
  bool ok =
      select(
          db, "SELECT rev FROM warmup_guard WHERE name = 'state'", {},
          [&](SqliteStmt& s) { out.rev = s.int64(0); }, error) &&
      select(
          db, "SELECT ip, state, since, cause, reason, actor FROM warmup_ip_state", {},
          [&](SqliteStmt& s) {
            IpRecord r;
            r.state = parseIpState(s.text(1)).value_or(IpState::Quarantine);
            r.since = s.int64(2);
            r.cause = s.text(3);
            r.reason = s.text(4);
            r.actor = s.text(5);
            out.ips[s.text(0)] = r;
          },
          error) &&
      select(
          db,
          "SELECT ip, plan, day, day_date, started_at, held_days, rollbacks, last_rollback_at, "
          "last_action FROM warmup_progress",
          {},
          [&](SqliteStmt& s) {
            WarmupProgress p;
            p.plan = s.text(1);
            p.day = static_cast<int>(s.int64(2));
            p.dayDate = s.text(3);
            p.startedAt = s.int64(4);
            p.heldDays = static_cast<int>(s.int64(5));
            p.rollbacks = static_cast<int>(s.int64(6));
            p.lastRollbackAt = s.int64(7);
            p.lastAction = s.text(8);
            out.progress[s.text(0)] = p;
          },
          error) &&
      select(
          db,
          "SELECT path, device, inode, read_offset, size, fp_len, fingerprint "
          "FROM warmup_acct_files",
          {},
          [&](SqliteStmt& s) {
            probes::AcctCursor c;
            c.device = static_cast<std::uint64_t>(s.int64(1));
            c.inode = static_cast<std::uint64_t>(s.int64(2));
            c.offset = static_cast<std::uint64_t>(s.int64(3));
            c.size = static_cast<std::uint64_t>(s.int64(4));
            c.fpLen = static_cast<std::uint64_t>(s.int64(5));
            c.fingerprint = s.text(6);
            out.cursors[s.text(0)] = c;
          },
          error) &&
      select(
          db,
          "SELECT ip, hour, sent, bounced, complaints FROM warmup_ip_hourly "
          "WHERE source = ? AND hour >= CAST(? AS INTEGER)",
          {source, str(sinceHour)},
          [&](SqliteStmt& s) {
            HealthCounts& c = out.hourly[s.text(0)][s.int64(1)];
            c.sent += s.int64(2);
            c.bounced += s.int64(3);
            c.complaints += s.int64(4);
          },
          error) &&
      // DNSBL results of any job, by the shared convention (CONTRIBUTING.md).
      select(
          db, "SELECT target, status, since FROM v_latest WHERE check_name = 'dnsbl'", {},
          [&](SqliteStmt& s) {
            std::string target = s.text(0);
            size_t sp = target.find(' ');
            if (sp == std::string::npos) return;
            std::string ip = canonicalIp(target.substr(0, sp));
            if (ip.empty()) return;
            std::string zone = target.substr(sp + 1);
            DnsblView& v = out.dnsbl[ip];
            ++v.rows;
            std::string status = s.text(1);
            if (status == "critical")
              v.listedZones.push_back(zone);
            else if (status == "unknown")
              v.unknownZones.push_back(zone);
            else if (status == "ok")
              v.clearSince = std::max(v.clearSince, s.int64(2));
          },
          error) &&
      select(
          db,
          "SELECT a.server_id, a.field, a.new_value FROM warmup_sync_audit a "
          "WHERE a.outcome = 'applied' AND a.id = (SELECT MAX(b.id) FROM warmup_sync_audit b "
          "WHERE b.server_id = a.server_id AND b.field = a.field AND b.outcome = 'applied')",
          {}, [&](SqliteStmt& s) { out.lastWritten[s.int64(0)][s.text(1)] = s.text(2); }, error) &&
      select(
          db, "SELECT last_transition_id FROM warmup_job_cursor WHERE job = ?", {job},
          [&](SqliteStmt& s) {
            out.hasTransitionCursor = true;
            out.transitionCursor = s.int64(0);
          },
          error);
  if (ok && out.hasTransitionCursor) {
    ok = select(
        db,
        "SELECT id, ip, COALESCE(from_state, ''), to_state, at, cause, reason, actor, "
        "actor_name FROM warmup_ip_transitions WHERE id > CAST(? AS INTEGER) ORDER BY id",
        {str(out.transitionCursor)},
        [&](SqliteStmt& s) {
          StoredTransition t;
          t.id = s.int64(0);
          t.ip = s.text(1);
          t.from = s.text(2);
          t.to = s.text(3);
          t.at = s.int64(4);
          t.cause = s.text(5);
          t.reason = s.text(6);
          t.actor = s.text(7);
          t.actorName = s.text(8);
          out.newTransitions.push_back(std::move(t));
        },
        error);
  }
  std::string ignored;
  db.exec("COMMIT", ignored);
  if (!ok) error = "reading warmup state from " + dbPath + ": " + error;
  return ok;
}

WarmupWrites WarmupWrites::guarded(std::int64_t expectedRev, const std::string& token) {
  WarmupWrites w;
  w.guarded_ = true;
  w.token_ = token;
  w.writes_.push_back(StateWrite{
      "UPDATE warmup_guard SET rev = rev + 1, token = ? WHERE name = 'state' AND rev = CAST(? AS "
      "INTEGER)",
      {token, str(expectedRev)}});
  return w;
}

WarmupWrites WarmupWrites::operatorWrites() {
  WarmupWrites w;
  // In-flight runs read the old rev: their writes will not apply.
  w.writes_.push_back(
      StateWrite{"UPDATE warmup_guard SET rev = rev + 1, token = '' WHERE name = 'state'", {}});
  return w;
}

void WarmupWrites::add(std::string sql, std::vector<std::string> params) {
  writes_.push_back(StateWrite{std::move(sql), std::move(params)});
}

// INSERT ... SELECT <values> WHERE <guard> [ON CONFLICT ...]: the WHERE is
// always present, which also keeps SQLite's upsert parser unambiguous.
std::string WarmupWrites::cond() const {
  return guarded_ ? kGuard : " WHERE 1";
}

std::string WarmupWrites::andGuard() const {
  return guarded_ ? " AND EXISTS (SELECT 1 FROM warmup_guard WHERE name = 'state' AND token = ?)"
                  : "";
}

void WarmupWrites::saveIpState(const std::string& ip, const IpRecord& r, std::int64_t now) {
  std::vector<std::string> p = {
      ip, ipStateName(r.state), str(r.since), r.cause, r.reason, r.actor, str(now)};
  if (guarded_) p.push_back(token_);
  add("INSERT INTO warmup_ip_state (ip, state, since, cause, reason, actor, updated_at) "
      "SELECT ?, ?, CAST(? AS INTEGER), ?, ?, ?, CAST(? AS INTEGER)" +
          cond() +
          " ON CONFLICT (ip) DO UPDATE SET state = excluded.state, since = excluded.since, "
          "cause = excluded.cause, reason = excluded.reason, actor = excluded.actor, "
          "updated_at = excluded.updated_at",
      std::move(p));
}

void WarmupWrites::addTransition(const std::string& ip, const Transition& t, std::int64_t at,
                                 const std::string& actor, const std::string& actorName) {
  std::vector<std::string> p = {ip,
                                t.from ? ipStateName(*t.from) : "",
                                ipStateName(t.to),
                                str(at),
                                t.cause,
                                t.reason,
                                actor,
                                actorName};
  if (guarded_) p.push_back(token_);
  add("INSERT INTO warmup_ip_transitions (ip, from_state, to_state, at, cause, reason, actor, "
      "actor_name) SELECT ?, NULLIF(?, ''), ?, CAST(? AS INTEGER), ?, ?, ?, ?" +
          cond(),
      std::move(p));
}

void WarmupWrites::saveProgress(const std::string& ip, const WarmupProgress& pr, std::int64_t now) {
  std::vector<std::string> p = {ip,
                                pr.plan,
                                str(pr.day),
                                pr.dayDate,
                                str(pr.startedAt),
                                str(pr.heldDays),
                                str(pr.rollbacks),
                                str(pr.lastRollbackAt),
                                pr.lastAction,
                                str(now)};
  if (guarded_) p.push_back(token_);
  add("INSERT INTO warmup_progress (ip, plan, day, day_date, started_at, held_days, rollbacks, "
      "last_rollback_at, last_action, updated_at) SELECT ?, ?, CAST(? AS INTEGER), ?, "
      "CAST(? AS INTEGER), CAST(? AS INTEGER), CAST(? AS INTEGER), CAST(? AS INTEGER), ?, "
      "CAST(? AS INTEGER)" +
          cond() +
          " ON CONFLICT (ip) DO UPDATE SET plan = excluded.plan, day = excluded.day, "
          "day_date = excluded.day_date, started_at = excluded.started_at, "
          "held_days = excluded.held_days, rollbacks = excluded.rollbacks, "
          "last_rollback_at = excluded.last_rollback_at, last_action = excluded.last_action, "
          "updated_at = excluded.updated_at",
      std::move(p));
}

void WarmupWrites::dropProgress(const std::string& ip) {
  std::vector<std::string> p = {ip};
  if (guarded_) p.push_back(token_);
  add("DELETE FROM warmup_progress WHERE ip = ?" + andGuard(), std::move(p));
}

void WarmupWrites::hourly(const std::string& source, const std::string& ip, std::int64_t hour,
                          const HealthCounts& c, bool addUp) {
  std::vector<std::string> p = {ip,          str(hour),      source,
                                str(c.sent), str(c.bounced), str(c.complaints)};
  if (guarded_) p.push_back(token_);
  const char* plus = addUp ? "warmup_ip_hourly." : "";
  add("INSERT INTO warmup_ip_hourly (ip, hour, source, sent, bounced, complaints) "
      "SELECT ?, CAST(? AS INTEGER), ?, CAST(? AS INTEGER), CAST(? AS INTEGER), "
      "CAST(? AS INTEGER)" +
          cond() + " ON CONFLICT (source, ip, hour) DO UPDATE SET sent = " +
          (addUp ? std::string(plus) + "sent + " : std::string()) +
          "excluded.sent, bounced = " + (addUp ? std::string(plus) + "bounced + " : std::string()) +
          "excluded.bounced, complaints = " +
          (addUp ? std::string(plus) + "complaints + " : std::string()) + "excluded.complaints",
      std::move(p));
}

void WarmupWrites::addHourly(const std::string& source, const std::string& ip, std::int64_t hour,
                             const HealthCounts& c) {
  hourly(source, ip, hour, c, true);
}

void WarmupWrites::setHourly(const std::string& source, const std::string& ip, std::int64_t hour,
                             const HealthCounts& c) {
  hourly(source, ip, hour, c, false);
}

void WarmupWrites::pruneHourly(std::int64_t beforeHour) {
  std::vector<std::string> p = {str(beforeHour)};
  if (guarded_) p.push_back(token_);
  add("DELETE FROM warmup_ip_hourly WHERE hour < CAST(? AS INTEGER)" + andGuard(), std::move(p));
}

void WarmupWrites::saveCursor(const std::string& path, const probes::AcctCursor& c,
                              std::int64_t now) {
  std::vector<std::string> p = {path,
                                std::to_string(c.device),
                                std::to_string(c.inode),
                                std::to_string(c.offset),
                                std::to_string(c.size),
                                std::to_string(c.fpLen),
                                c.fingerprint,
                                str(now)};
  if (guarded_) p.push_back(token_);
  add("INSERT INTO warmup_acct_files (path, device, inode, read_offset, size, fp_len, fingerprint, "
      "updated_at) SELECT ?, CAST(? AS INTEGER), CAST(? AS INTEGER), CAST(? AS INTEGER), "
      "CAST(? AS INTEGER), CAST(? AS INTEGER), ?, CAST(? AS INTEGER)" +
          cond() +
          " ON CONFLICT (path) DO UPDATE SET device = excluded.device, inode = excluded.inode, "
          "read_offset = excluded.read_offset, size = excluded.size, fp_len = excluded.fp_len, "
          "fingerprint = excluded.fingerprint, updated_at = excluded.updated_at",
      std::move(p));
}

void WarmupWrites::pruneCursors(std::int64_t notUpdatedSince) {
  std::vector<std::string> p = {str(notUpdatedSince)};
  if (guarded_) p.push_back(token_);
  add("DELETE FROM warmup_acct_files WHERE updated_at < CAST(? AS INTEGER)" + andGuard(),
      std::move(p));
}

void WarmupWrites::advanceTransitionCursor(const std::string& job) {
  std::vector<std::string> p = {job};
  if (guarded_) p.push_back(token_);
  add("INSERT INTO warmup_job_cursor (job, last_transition_id) "
      "SELECT ?, COALESCE((SELECT MAX(id) FROM warmup_ip_transitions), 0)" +
          cond() +
          " ON CONFLICT (job) DO UPDATE SET last_transition_id = excluded.last_transition_id",
      std::move(p));
}

void WarmupWrites::audit(std::int64_t at, const std::string& job, long long serverId,
                         const std::string& ip, const std::string& field,
                         const std::string& oldValue, const std::string& newValue,
                         const std::string& ipState, const std::string& reason, bool applied) {
  add("INSERT INTO warmup_sync_audit (at, job, server_id, ip, field, old_value, new_value, "
      "ip_state, reason, outcome) VALUES (CAST(? AS INTEGER), ?, CAST(? AS INTEGER), ?, ?, ?, ?, "
      "?, ?, ?)",
      {str(at), job, std::to_string(serverId), ip, field, oldValue, newValue, ipState, reason,
       applied ? "applied" : "rolled_back"});
}

bool operatorSetIpState(const std::string& dbPath, const std::string& ip, IpState to,
                        const std::string& reason, const std::string& user, const std::string& plan,
                        std::int64_t now, std::string& previous, std::string& error) {
  if (access(dbPath.c_str(), F_OK) != 0) {
    error = "no state DB at " + dbPath + " yet: run `mxpulse once` or start the daemon first";
    return false;
  }
  SqliteDb db;
  if (!db.open(dbPath, SqliteDb::Mode::ReadWriteCreate, error)) return false;
  sqlite3_busy_timeout(db.handle(), 10000);
  SqliteTransaction tx(db);
  if (!tx.begin(error)) return false;
  previous.clear();
  bool ok = select(
      db, "SELECT state FROM warmup_ip_state WHERE ip = ?", {ip},
      [&](SqliteStmt& s) { previous = s.text(0); }, error);
  if (!ok) {
    error = "reading the IP state: " + error + " (is this state DB from an older mxpulse?)";
    return false;
  }
  WarmupWrites w = WarmupWrites::operatorWrites();
  IpRecord r{to, now, "operator", reason, "operator"};
  Transition t{parseIpState(previous), to, "operator", reason};
  w.saveIpState(ip, r, now);
  w.addTransition(ip, t, now, "operator", user);
  if (to == IpState::Warming) {
    WarmupProgress p = freshProgress(plan, now);
    p.lastAction = "started by operator";
    w.saveProgress(ip, p, now);
  } else {
    w.dropProgress(ip);
  }
  if (!applyStateWrites(db, "warmup", w.statements(), error)) return false;
  return tx.commit(error);
}

}  // namespace mxpulse::jobs
