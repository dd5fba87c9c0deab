// SPDX-License-Identifier: Apache-2.0
#include <boost/test/unit_test.hpp>

#include "agent/store/migrations.hpp"
#include "agent/store/state_store.hpp"
#include "tests/support/test_support.hpp"

using namespace mxpulse;

namespace {
RunRecord run(std::int64_t at, std::vector<CheckResult> results,
              RunOutcome outcome = RunOutcome::Completed) {
  RunRecord r;
  r.job = "host";
  r.kind = "host";
  r.startedAt = at;
  r.durationMs = 12;
  r.outcome = outcome;
  r.output.results = std::move(results);
  return r;
}
CheckResult result(const char* target, Status s) {
  CheckResult r("disk_free", target, s, std::string(target) + " " + statusName(s));
  r.facts.set("n", 1);
  return r;
}
int count(SqliteDb& db, const std::string& sql) {
  std::string error;
  auto st = db.prepare(sql, error);
  BOOST_REQUIRE_MESSAGE(st, error);
  BOOST_REQUIRE(st.step() == SQLITE_ROW);
  return static_cast<int>(st.int64(0));
}
}  // namespace

BOOST_AUTO_TEST_SUITE(state_store)

BOOST_AUTO_TEST_CASE(migrations_apply_once_and_record_the_version) {
  test::TempDir dir;
  std::string error;
  {
    StateStore s;
    BOOST_REQUIRE_MESSAGE(s.open(dir.file("s.db"), error), error);
    BOOST_TEST(count(s.db(), "PRAGMA user_version") == migrations().back().version);
    BOOST_TEST(count(s.db(), "SELECT count(*) FROM sqlite_master WHERE name='latest'") == 1);
  }
  StateStore again;  // reopening is a no-op
  BOOST_REQUIRE_MESSAGE(again.open(dir.file("s.db"), error), error);
  auto mode = again.db().prepare("PRAGMA journal_mode", error);
  BOOST_REQUIRE(mode.step() == SQLITE_ROW);
  BOOST_TEST(mode.text(0) == "wal");
}

BOOST_AUTO_TEST_CASE(a_newer_schema_is_refused) {
  test::TempDir dir;
  std::string error;
  {
    SqliteDb db;
    BOOST_REQUIRE(db.open(dir.file("s.db"), SqliteDb::Mode::ReadWriteCreate, error));
    BOOST_REQUIRE(db.exec("PRAGMA user_version = 9999", error));
  }
  StateStore s;
  BOOST_TEST(!s.open(dir.file("s.db"), error));
  BOOST_TEST(error.find("schema version 9999") != std::string::npos, error);
}

BOOST_AUTO_TEST_CASE(a_migration_that_lands_after_a_higher_one_still_runs) {
  test::TempDir dir;
  std::string error;
  {
    SqliteDb db;
    BOOST_REQUIRE(db.open(dir.file("s.db"), SqliteDb::Mode::ReadWriteCreate, error));
    // As if every migration but the first had been applied on another branch.
    BOOST_REQUIRE(db.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT "
                          "NOT NULL, applied_at INTEGER NOT NULL DEFAULT 0)",
                          error));
    for (const auto& m : migrations()) {
      if (m.version == 1) continue;
      BOOST_REQUIRE(db.exec("INSERT INTO schema_migrations (version, name) VALUES (" +
                                std::to_string(m.version) + ", 'x')",
                            error));
    }
    BOOST_REQUIRE(db.exec("PRAGMA user_version = " + std::to_string(migrations().back().version),
                          error));
  }
  SqliteDb db;
  BOOST_REQUIRE(db.open(dir.file("s.db"), SqliteDb::Mode::ReadWriteCreate, error));
  BOOST_REQUIRE_MESSAGE(applyMigrations(db, error), error);
  BOOST_TEST(count(db, "SELECT count(*) FROM sqlite_master WHERE name='latest'") == 1);
  BOOST_TEST(count(db, "SELECT count(*) FROM schema_migrations WHERE version = 1") == 1);
}

BOOST_AUTO_TEST_CASE(a_corrupt_file_is_detected_at_open_with_the_fix) {
  test::TempDir dir;
  test::writeFile(dir.file("s.db"), std::string(8192, 'x'));
  StateStore s;
  std::string error;
  BOOST_TEST(!s.open(dir.file("s.db"), error));
  BOOST_TEST(error.find("corrupt or not a SQLite database") != std::string::npos, error);
  BOOST_TEST(error.find("mv " + dir.file("s.db")) != std::string::npos, error);
}

BOOST_AUTO_TEST_CASE(latest_tracks_since_when_status_changed) {
  test::TempDir dir;
  StateStore s;
  std::string error;
  BOOST_REQUIRE(s.open(dir.file("s.db"), error));
  BOOST_REQUIRE(s.recordRun(run(100, {result("/", Status::Ok)}), error));
  BOOST_REQUIRE(s.recordRun(run(200, {result("/", Status::Warning)}), error));
  BOOST_REQUIRE(s.recordRun(run(300, {result("/", Status::Warning)}), error));
  auto rows = readLatest(s.db(), error);
  BOOST_REQUIRE(rows.size() == 1u);
  BOOST_TEST(static_cast<int>(rows[0].status) == static_cast<int>(Status::Warning));
  BOOST_TEST(rows[0].since == 200);
  BOOST_TEST(rows[0].observedAt == 300);
  BOOST_TEST(rows[0].facts == R"({"n":1})");
  BOOST_TEST(count(s.db(), "SELECT count(*) FROM results") == 3);
  auto jobs = readJobStatuses(s.db(), error);
  BOOST_TEST(jobs.at(0).runsTotal == 3);
  BOOST_TEST(static_cast<int>(jobs.at(0).lastStatus) == static_cast<int>(Status::Warning));
}

BOOST_AUTO_TEST_CASE(targets_that_leave_the_inventory_leave_latest) {
  test::TempDir dir;
  StateStore s;
  std::string error;
  BOOST_REQUIRE(s.open(dir.file("s.db"), error));
  BOOST_REQUIRE(s.recordRun(run(100, {result("/", Status::Ok), result("/var", Status::Ok)}), error));
  BOOST_REQUIRE(s.recordRun(run(200, {result("/", Status::Ok)}), error));
  BOOST_TEST(readLatest(s.db(), error).size() == 1u);
  // A timed-out run keeps the last known results and adds its own.
  RunRecord timeout = run(300, {CheckResult("job", "host", Status::Unknown, "timeout")},
                          RunOutcome::Timeout);
  BOOST_REQUIRE(s.recordRun(timeout, error));
  BOOST_TEST(readLatest(s.db(), error).size() == 2u);
  auto jobs = readJobStatuses(s.db(), error);
  BOOST_TEST(jobs.at(0).failuresTotal == 1);
  BOOST_TEST(!jobs.at(0).lastSuccess);
}

BOOST_AUTO_TEST_CASE(failed_runs_keep_the_previous_samples) {
  test::TempDir dir;
  StateStore s;
  std::string error;
  BOOST_REQUIRE(s.open(dir.file("s.db"), error));
  MetricDesc d{"mxpulse_x", "X.", MetricType::Gauge};
  RunRecord ok = run(100, {result("/", Status::Ok)});
  ok.output.samples.emplace_back(d, Labels{{"job", "host"}}, 5);
  BOOST_REQUIRE(s.recordRun(ok, error));
  BOOST_REQUIRE(s.recordRun(run(200, {}, RunOutcome::Error), error));
  auto samples = readSamples(s.db(), error);
  BOOST_REQUIRE(samples.size() == 1u);
  BOOST_TEST(samples[0].value == 5);
  BOOST_TEST(samples[0].labels == "job=\"host\"");
}

BOOST_AUTO_TEST_CASE(retention_prunes_history_but_not_latest) {
  test::TempDir dir;
  StateStore s;
  std::string error;
  BOOST_REQUIRE(s.open(dir.file("s.db"), error));
  BOOST_REQUIRE(s.recordRun(run(100, {result("/", Status::Ok), result("/var", Status::Ok)}), error));
  BOOST_REQUIRE(s.recordRun(run(200, {result("/", Status::Ok)}), error));
  BOOST_REQUIRE(s.recordRun(run(300, {result("/", Status::Ok)}), error));
  BOOST_REQUIRE(s.prune(250, error));
  BOOST_TEST(count(s.db(), "SELECT count(*) FROM runs") == 1);
  BOOST_TEST(count(s.db(), "SELECT count(*) FROM results") == 1);  // cascade
  BOOST_TEST(readLatest(s.db(), error).size() == 1u);
}

BOOST_AUTO_TEST_CASE(removed_jobs_are_forgotten) {
  test::TempDir dir;
  StateStore s;
  std::string error;
  BOOST_REQUIRE(s.open(dir.file("s.db"), error));
  BOOST_REQUIRE(s.recordRun(run(100, {result("/", Status::Ok)}), error));
  BOOST_REQUIRE(s.forgetJobsExcept({"other", "it's"}, error));
  BOOST_TEST(readLatest(s.db(), error).empty());
  BOOST_TEST(readJobStatuses(s.db(), error).empty());
  BOOST_TEST(count(s.db(), "SELECT count(*) FROM results") == 1);  // history stays
}

BOOST_AUTO_TEST_CASE(readers_do_not_block_the_writer) {
  test::TempDir dir;
  StateStore s;
  std::string error;
  BOOST_REQUIRE(s.open(dir.file("s.db"), error));
  BOOST_REQUIRE(s.recordRun(run(100, {result("/", Status::Ok)}), error));
  SqliteDb reader;
  BOOST_REQUIRE(openStateReadOnly(reader, dir.file("s.db"), error));
  BOOST_REQUIRE(reader.exec("BEGIN", error));
  BOOST_TEST(readLatest(reader, error).size() == 1u);  // holds a read snapshot
  BOOST_TEST(s.recordRun(run(200, {result("/", Status::Critical)}), error), error);
  BOOST_TEST(static_cast<int>(readLatest(reader, error)[0].status) == 0);  // snapshot isolation
  BOOST_REQUIRE(reader.exec("COMMIT", error));
  BOOST_TEST(static_cast<int>(readLatest(reader, error)[0].status) == 2);
}

BOOST_AUTO_TEST_CASE(inventory_cache_round_trips) {
  std::vector<InventoryItem> items(2);
  items[0].fields["domain"] = {"example.com"};
  items[0].fields["ips"] = {"203.0.113.7", "2001:db8::1"};
  items[1].fields["domain"] = {"example.org"};
  items[1].fields["dkim_selectors"] = {};
  auto back = decodeInventory(encodeInventory(items));
  BOOST_REQUIRE(back.size() == 2u);
  BOOST_TEST(back[0].all("ips").size() == 2u);
  BOOST_TEST(back[0].all("ips")[1] == "2001:db8::1");
  BOOST_TEST(back[1].first("domain") == "example.org");
  BOOST_TEST(back[1].all("dkim_selectors").empty());
}

BOOST_AUTO_TEST_SUITE_END()
