// SPDX-License-Identifier: Apache-2.0
#include "agent/store/state_store.hpp"

#include <cmath>
#include <map>

#include "agent/output/prom_text.hpp"
#include "agent/store/alert_store.hpp"
#include "agent/store/migrations.hpp"
#include "agent/store/state_writes.hpp"

namespace mxpulse {

const char* runOutcomeName(RunOutcome o) {
  switch (o) {
    case RunOutcome::Completed:
      return "completed";
    case RunOutcome::Timeout:
      return "timeout";
    case RunOutcome::Error:
      return "error";
  }
  return "error";
}

Status RunRecord::worstStatus() const {
  if (output.results.empty())
    return outcome == RunOutcome::Completed ? Status::Ok : Status::Unknown;
  Status s = output.results.front().status;
  for (const auto& r : output.results) s = worse(s, r.status);
  return s;
}

namespace {
bool configure(SqliteDb& db, std::string& error) {
  // WAL: readers never block the writer. synchronous=FULL: a COMMIT is on
  // disk before it returns, so kill -9 or a power cut loses nothing committed.
  // A page cache of up to 32 MiB keeps a big run's transaction (thousands of
  // results, their indexes) from spilling to the WAL half-way; recordRun()
  // hands the pages back after each commit, so the idle daemon stays small.
  return db.exec(
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
      "PRAGMA wal_autocheckpoint=1000; PRAGMA cache_size=-32768;",
      error);
}
}  // namespace

bool StateStore::open(const std::string& path, std::string& error) {
  if (!db_.open(path, SqliteDb::Mode::ReadWriteCreate, error)) return false;
  if (!configure(db_, error)) return false;
  return applyMigrations(db_, error);
}

bool openStateReadOnly(SqliteDb& db, const std::string& path, std::string& error) {
  return db.open(path, SqliteDb::Mode::ReadOnly, error);
}

bool StateStore::recordRun(const RunRecord& run, std::string& error, const AlertSettings* alerts) {
  SqliteTransaction tx(db_);
  if (!tx.begin(error)) return false;
  std::string detail;
  auto fail = [&](const std::string& what) {
    error =
        db_.explain(db_.lastErrorCode(), what + ": " + (detail.empty() ? db_.lastError() : detail));
    return false;
  };
  Status worst = run.worstStatus();
  SqliteStmt ins = db_.prepare(
      "INSERT INTO runs (job, kind, started_at, duration_ms, outcome, status, error) "
      "VALUES (?,?,?,?,?,?,?)",
      detail);
  if (!ins) return fail("insert run");
  ins.bind(1, run.job).bind(2, run.kind).bind(3, run.startedAt).bind(4, run.durationMs);
  ins.bind(5, std::string(runOutcomeName(run.outcome))).bind(6, static_cast<int>(worst));
  if (run.error.empty())
    ins.bindNull(7);
  else
    ins.bind(7, run.error);
  if (!ins.run()) return fail("insert run");
  std::int64_t runId = db_.lastInsertId();

  SqliteStmt hist = db_.prepare(
      "INSERT INTO results (run_id, job, check_name, target, status, summary, facts, observed_at) "
      "VALUES (?,?,?,?,?,?,?,?)",
      detail);
  SqliteStmt upsert = db_.prepare(
      "INSERT INTO latest (job, check_name, target, status, summary, facts, observed_at, since, "
      "run_id) VALUES (?1,?2,?3,?4,?5,?6,?7,?7,?8) "
      "ON CONFLICT (job, check_name, target) DO UPDATE SET "
      "since = CASE WHEN latest.status = excluded.status THEN latest.since ELSE excluded.since "
      "END, "
      "status = excluded.status, summary = excluded.summary, facts = excluded.facts, "
      "observed_at = excluded.observed_at, run_id = excluded.run_id",
      detail);
  if (!hist || !upsert) return fail("prepare results");
  for (const auto& r : run.output.results) {
    std::string facts = r.facts.isNull() ? "{}" : r.facts.dump();
    hist.reset();
    hist.bind(1, runId).bind(2, run.job).bind(3, r.check).bind(4, r.target);
    hist.bind(5, static_cast<int>(r.status))
        .bind(6, r.summary)
        .bind(7, facts)
        .bind(8, run.startedAt);
    if (!hist.run()) return fail("insert result");
    upsert.reset();
    upsert.bind(1, run.job).bind(2, r.check).bind(3, r.target).bind(4, static_cast<int>(r.status));
    upsert.bind(5, r.summary).bind(6, facts).bind(7, run.startedAt).bind(8, runId);
    if (!upsert.run()) return fail("update latest");
  }
  if (run.outcome == RunOutcome::Completed) {
    // Targets that left the inventory stop being "latest".
    SqliteStmt drop = db_.prepare("DELETE FROM latest WHERE job = ? AND run_id <> ?", detail);
    if (!drop) return fail("prune latest");
    drop.bind(1, run.job).bind(2, runId);
    if (!drop.run()) return fail("prune latest");
  }

  bool success = run.outcome == RunOutcome::Completed;
  // The job's own state (e.g. warmup progress) commits with its results.
  if (success) applyJobStateWrites(db_, run.job, run.kind, run.output.stateWrites);
  SqliteStmt js = db_.prepare(
      "INSERT INTO job_status (job, kind, last_run_at, last_duration_ms, last_success, "
      "last_status, runs_total, failures_total) VALUES (?1,?2,?3,?4,?5,?6,1,?7) "
      "ON CONFLICT (job) DO UPDATE SET kind = excluded.kind, last_run_at = excluded.last_run_at, "
      "last_duration_ms = excluded.last_duration_ms, last_success = excluded.last_success, "
      "last_status = excluded.last_status, runs_total = job_status.runs_total + 1, "
      "failures_total = job_status.failures_total + excluded.failures_total",
      detail);
  if (!js) return fail("update job status");
  js.bind(1, run.job).bind(2, run.kind).bind(3, run.startedAt).bind(4, run.durationMs);
  js.bind(5, success ? 1 : 0).bind(6, static_cast<int>(worst)).bind(7, success ? 0 : 1);
  if (!js.run()) return fail("update job status");

  if (success) {
    // A failed run keeps the previous samples: stale figures beat a gap
    // that looks like "zero", and mxpulse_job_success says they are stale.
    SqliteStmt del = db_.prepare("DELETE FROM job_samples WHERE job = ?", detail);
    SqliteStmt add = db_.prepare(
        "INSERT INTO job_samples (job, name, help, type, labels, value) VALUES (?,?,?,?,?,?)",
        detail);
    if (!del || !add) return fail("update samples");
    del.bind(1, run.job);
    if (!del.run()) return fail("update samples");
    for (const auto& s : run.output.samples) {
      add.reset();
      add.bind(1, run.job).bind(2, s.name).bind(3, s.help);
      add.bind(4, std::string(s.type == MetricType::Counter ? "counter" : "gauge"));
      add.bind(5, renderLabels(s.labels));
      if (std::isnan(s.value))
        add.bindNull(6);
      else
        add.bind(6, s.value);
      if (!add.run()) return fail("insert sample");
    }
  }
  // Alerts commit with the results they follow from, or not at all.
  if (alerts && !recordAlerts(db_, run, *alerts, detail)) return fail("record alerts");
  if (!tx.commit(error)) return false;
  sqlite3_db_release_memory(db_.handle());
  return true;
}

bool StateStore::recordOverrun(const std::string& job, const std::string& kind,
                               std::string& error) {
  std::string detail;
  SqliteStmt st = db_.prepare(
      "INSERT INTO job_status (job, kind, last_run_at, last_duration_ms, last_success, "
      "last_status, overruns_total) VALUES (?1, ?2, 0, 0, 0, 3, 1) "
      "ON CONFLICT (job) DO UPDATE SET overruns_total = job_status.overruns_total + 1",
      detail);
  if (!st) {
    error = detail;
    return false;
  }
  st.bind(1, job).bind(2, kind);
  if (!st.run()) {
    error = db_.explain(db_.lastErrorCode(), db_.lastError());
    return false;
  }
  return true;
}

bool StateStore::prune(std::int64_t olderThan, std::string& error) {
  std::string detail;
  // results go with their runs (ON DELETE CASCADE). Latest rows stay even
  // when old: they are the current state of a rarely-run check.
  SqliteStmt st = db_.prepare(
      "DELETE FROM runs WHERE started_at < ?1 AND id NOT IN (SELECT run_id FROM latest)", detail);
  if (!st) {
    error = detail;
    return false;
  }
  st.bind(1, olderThan);
  if (!st.run()) {
    error = db_.explain(db_.lastErrorCode(), db_.lastError());
    return false;
  }
  // Delivered and silenced messages and old alert events go with the
  // history; failed messages stay until someone looks at them.
  SqliteStmt events = db_.prepare("DELETE FROM alert_events WHERE created_at < ?1", detail);
  SqliteStmt outbox = db_.prepare(
      "DELETE FROM outbox WHERE state IN ('sent', 'silenced') AND created_at < ?1", detail);
  SqliteStmt silences =
      db_.prepare("DELETE FROM silences WHERE coalesce(removed_at, expires_at) < ?1", detail);
  for (SqliteStmt* p : {&events, &outbox, &silences}) {
    if (!*p) {
      error = detail;
      return false;
    }
    p->bind(1, olderThan);
    if (!p->run()) {
      error = db_.explain(db_.lastErrorCode(), db_.lastError());
      return false;
    }
  }
  return true;
}

bool StateStore::forgetJobsExcept(const std::set<std::string>& jobs, std::string& error) {
  std::string list;
  for (const auto& j : jobs) {
    if (!list.empty()) list += ',';
    list += '\'';
    for (char c : j) list += c == '\'' ? std::string("''") : std::string(1, c);
    list += '\'';
  }
  if (list.empty()) list = "''";
  return db_.exec("DELETE FROM latest WHERE job NOT IN (" + list +
                      ");"
                      "DELETE FROM job_status WHERE job NOT IN (" +
                      list + "); DELETE FROM job_samples WHERE job NOT IN (" + list +
                      "); DELETE FROM alert_state WHERE job NOT IN (" + list + ");",
                  error);
}

// Inventory cache encoding: one item per line; fields separated by 0x1F,
// a field is name 0x1E value 0x1E value... Values never contain these
// control characters (config and SQL values are checked when read).
std::string encodeInventory(const std::vector<InventoryItem>& items) {
  std::string out;
  for (const auto& item : items) {
    bool firstField = true;
    for (const auto& [name, values] : item.fields) {
      if (!firstField) out += '\x1f';
      firstField = false;
      out += name;
      for (const auto& v : values) {
        out += '\x1e';
        out += v;
      }
    }
    out += '\n';
  }
  return out;
}

std::vector<InventoryItem> decodeInventory(const std::string& text) {
  std::vector<InventoryItem> items;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string line = text.substr(pos, eol - pos);
    pos = eol + 1;
    InventoryItem item;
    size_t fpos = 0;
    while (fpos <= line.size() && !line.empty()) {
      size_t fend = line.find('\x1f', fpos);
      if (fend == std::string::npos) fend = line.size();
      std::string field = line.substr(fpos, fend - fpos);
      size_t vpos = field.find('\x1e');
      std::string name = field.substr(0, vpos);
      std::vector<std::string> values;
      while (vpos != std::string::npos) {
        size_t vend = field.find('\x1e', vpos + 1);
        values.push_back(field.substr(
            vpos + 1, vend == std::string::npos ? std::string::npos : vend - vpos - 1));
        vpos = vend;
      }
      item.fields[name] = values;
      fpos = fend + 1;
      if (fend == line.size()) break;
    }
    if (!item.fields.empty()) items.push_back(std::move(item));
  }
  return items;
}

bool StateStore::saveInventory(const std::string& name, const std::vector<InventoryItem>& items,
                               std::int64_t fetchedAt, std::string& error) {
  std::string detail;
  SqliteStmt st = db_.prepare(
      "INSERT INTO inventory_cache (name, items, fetched_at) VALUES (?,?,?) "
      "ON CONFLICT (name) DO UPDATE SET items = excluded.items, fetched_at = excluded.fetched_at",
      detail);
  if (!st) {
    error = detail;
    return false;
  }
  st.bind(1, name).bind(2, encodeInventory(items)).bind(3, fetchedAt);
  if (!st.run()) {
    error = db_.explain(db_.lastErrorCode(), db_.lastError());
    return false;
  }
  return true;
}

std::optional<std::pair<std::vector<InventoryItem>, std::int64_t>> StateStore::loadInventory(
    const std::string& name) {
  std::string detail;
  SqliteStmt st =
      db_.prepare("SELECT items, fetched_at FROM inventory_cache WHERE name = ?", detail);
  if (!st) return std::nullopt;
  st.bind(1, name);
  if (st.step() != SQLITE_ROW) return std::nullopt;
  return std::make_pair(decodeInventory(st.text(0)), st.int64(1));
}

std::vector<LatestRow> readLatest(SqliteDb& db, std::string& error) {
  std::vector<LatestRow> rows;
  SqliteStmt st = db.prepare(
      "SELECT job, check_name, target, status, summary, facts, observed_at, since FROM latest "
      "ORDER BY job, check_name, target",
      error);
  if (!st) return rows;
  int rc;
  while ((rc = st.step()) == SQLITE_ROW) {
    LatestRow r;
    r.job = st.text(0);
    r.check = st.text(1);
    r.target = st.text(2);
    int s = static_cast<int>(st.int64(3));
    r.status = s >= 0 && s <= 3 ? static_cast<Status>(s) : Status::Unknown;
    r.summary = st.text(4);
    r.facts = st.text(5);
    r.observedAt = st.int64(6);
    r.since = st.int64(7);
    rows.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) error = db.explain(db.lastErrorCode(), db.lastError());
  return rows;
}

std::vector<JobStatusRow> readJobStatuses(SqliteDb& db, std::string& error) {
  std::vector<JobStatusRow> rows;
  SqliteStmt st = db.prepare(
      "SELECT job, kind, last_run_at, last_duration_ms, last_success, last_status, runs_total, "
      "failures_total, overruns_total FROM job_status ORDER BY job",
      error);
  if (!st) return rows;
  while (st.step() == SQLITE_ROW) {
    JobStatusRow r;
    r.job = st.text(0);
    r.kind = st.text(1);
    r.lastRunAt = st.int64(2);
    r.lastDurationMs = st.int64(3);
    r.lastSuccess = st.int64(4) != 0;
    int s = static_cast<int>(st.int64(5));
    r.lastStatus = s >= 0 && s <= 3 ? static_cast<Status>(s) : Status::Unknown;
    r.runsTotal = st.int64(6);
    r.failuresTotal = st.int64(7);
    r.overrunsTotal = st.int64(8);
    rows.push_back(std::move(r));
  }
  return rows;
}

std::vector<StoredSample> readSamples(SqliteDb& db, std::string& error) {
  std::vector<StoredSample> rows;
  SqliteStmt st = db.prepare(
      "SELECT job, name, help, type, labels, value FROM job_samples ORDER BY job, name", error);
  if (!st) return rows;
  while (st.step() == SQLITE_ROW) {
    StoredSample s;
    s.job = st.text(0);
    s.name = st.text(1);
    s.help = st.text(2);
    s.type = st.text(3);
    s.labels = st.text(4);
    s.value = st.isNull(5) ? std::nan("") : st.real(5);
    rows.push_back(std::move(s));
  }
  return rows;
}

}  // namespace mxpulse
