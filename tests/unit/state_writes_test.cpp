// SPDX-License-Identifier: Apache-2.0
// JobOutput::stateWrites: applied by the store in the run's transaction,
// only on the job kind's own tables, all or nothing; and the warmup job's
// optimistic guard on top of it.
#include <boost/test/unit_test.hpp>

#include "agent/store/state_store.hpp"
#include "agent/store/state_writes.hpp"
#include "jobs/warmup_store.hpp"
#include "tests/support/test_support.hpp"

using namespace mxpulse;

namespace {

long long scalar(SqliteDb& db, const std::string& sql) {
  std::string error;
  SqliteStmt st = db.prepare(sql, error);
  BOOST_REQUIRE_MESSAGE(st, error);
  BOOST_REQUIRE(st.step() == SQLITE_ROW);
  return st.int64(0);
}

StateWrite guardBump() {
  return StateWrite{"UPDATE warmup_guard SET rev = rev + 1 WHERE name = ?", {"state"}};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(state_writes)

BOOST_AUTO_TEST_CASE(only_the_kinds_own_tables) {
  test::TempDir dir;
  StateStore store;
  std::string error;
  BOOST_REQUIRE(store.open(dir.file("state.db"), error));
  SqliteDb& db = store.db();

  std::vector<StateWrite> bad = {
      {"DELETE FROM runs", {}},
      {"INSERT INTO latest (job, check_name, target, status, summary, observed_at, since, run_id) "
       "VALUES ('x','y','z',0,'',0,0,0)",
       {}},
      {"UPDATE job_kv SET value = 'x'", {}},
      {"DROP TABLE warmup_guard", {}},
      {"PRAGMA user_version = 99", {}},
      {"ATTACH DATABASE ':memory:' AS other", {}},
      {"SELECT 1", {}},
      {"UPDATE warmup_guard SET rev = 5; DELETE FROM runs", {}},
      {"UPDATE warmup_guard SET rev = ?", {}},
      {"INSERT INTO warmup_guard (name, rev) VALUES ('state', 1)", {}},  // constraint
  };
  for (const auto& w : bad) {
    SqliteTransaction tx(db);
    BOOST_REQUIRE(tx.begin(error));
    // A good write first: it must not survive the failing one.
    std::vector<StateWrite> batch = {guardBump(), w};
    BOOST_TEST(!applyStateWrites(db, "warmup", batch, error), w.sql);
    BOOST_TEST(!error.empty());
    BOOST_TEST(scalar(db, "SELECT rev FROM warmup_guard") == 0, w.sql);
    BOOST_REQUIRE(tx.commit(error));  // the outer transaction stays usable
  }
  // Another kind may not write warmup's tables.
  {
    SqliteTransaction tx(db);
    BOOST_REQUIRE(tx.begin(error));
    BOOST_TEST(!applyStateWrites(db, "dnsbl", {guardBump()}, error));
    BOOST_TEST(error.find("only dnsbl_* tables") != std::string::npos, error);
    BOOST_TEST(applyStateWrites(db, "warmup", {guardBump(), guardBump()}, error), error);
    BOOST_REQUIRE(tx.commit(error));
  }
  BOOST_TEST(scalar(db, "SELECT rev FROM warmup_guard") == 2);
}

BOOST_AUTO_TEST_CASE(applied_with_completed_runs_only) {
  test::TempDir dir;
  StateStore store;
  std::string error;
  BOOST_REQUIRE(store.open(dir.file("state.db"), error));
  RunRecord rec;
  rec.job = "warmup";
  rec.kind = "warmup";
  rec.startedAt = 1000;
  rec.output.results.emplace_back("warmup", "192.0.2.1", Status::Ok, "fine");
  rec.output.stateWrites = {guardBump()};
  BOOST_REQUIRE(store.recordRun(rec, error));
  BOOST_TEST(scalar(store.db(), "SELECT rev FROM warmup_guard") == 1);

  rec.outcome = RunOutcome::Timeout;
  BOOST_REQUIRE(store.recordRun(rec, error));
  BOOST_TEST(scalar(store.db(), "SELECT rev FROM warmup_guard") == 1);

  // A batch that fails leaves the job's state alone but keeps its results.
  rec.outcome = RunOutcome::Completed;
  rec.startedAt = 2000;
  rec.output.stateWrites = {guardBump(), {"DELETE FROM runs", {}}};
  BOOST_REQUIRE(store.recordRun(rec, error));
  BOOST_TEST(scalar(store.db(), "SELECT rev FROM warmup_guard") == 1);
  BOOST_TEST(scalar(store.db(), "SELECT COUNT(*) FROM runs") == 3);
  BOOST_TEST(scalar(store.db(), "SELECT MAX(observed_at) FROM latest") == 2000);
}

BOOST_AUTO_TEST_CASE(warmup_guard_discards_a_stale_run_but_keeps_its_audit) {
  test::TempDir dir;
  StateStore store;
  std::string error;
  BOOST_REQUIRE(store.open(dir.file("state.db"), error));
  SqliteDb& db = store.db();
  auto apply = [&](jobs::WarmupWrites& w) {
    SqliteTransaction tx(db);
    BOOST_REQUIRE(tx.begin(error));
    BOOST_REQUIRE_MESSAGE(applyStateWrites(db, "warmup", w.statements(), error), error);
    BOOST_REQUIRE(tx.commit(error));
  };
  jobs::IpRecord active{jobs::IpState::Active, 100, "initial", "first seen", "agent"};
  jobs::IpRecord warming{jobs::IpState::Warming, 200, "schedule", "again", "agent"};

  // Two runs read rev 0; the first commits, the second is stale.
  auto first = jobs::WarmupWrites::guarded(0, "run-1");
  first.saveIpState("192.0.2.1", active, 100);
  first.addTransition("192.0.2.1",
                      jobs::Transition{std::nullopt, jobs::IpState::Active, "initial", "x"}, 100,
                      "agent", "warmup");
  auto second = jobs::WarmupWrites::guarded(0, "run-2");
  second.saveIpState("192.0.2.1", warming, 200);
  second.audit(200, "warmup", 7, "192.0.2.1", "daily_quota", "0", "50", "WARMING", "r", true);
  apply(first);
  apply(second);
  BOOST_TEST(scalar(db, "SELECT since FROM warmup_ip_state WHERE ip = '192.0.2.1'") == 100);
  BOOST_TEST(scalar(db, "SELECT COUNT(*) FROM warmup_ip_transitions") == 1);
  BOOST_TEST(scalar(db, "SELECT COUNT(*) FROM warmup_sync_audit") == 1);
  BOOST_TEST(scalar(db, "SELECT rev FROM warmup_guard") == 1);

  // The operator's change bumps the revision: a run that read rev 1 is stale.
  std::string previous;
  BOOST_REQUIRE(store.db().exec("SELECT 1", error));
  auto third = jobs::WarmupWrites::guarded(1, "run-3");
  third.saveIpState("192.0.2.1", warming, 300);
  BOOST_REQUIRE_MESSAGE(
      jobs::operatorSetIpState(dir.file("state.db"), "192.0.2.1", jobs::IpState::Quarantine, "hand",
                               "alice", "default", 250, previous, error),
      error);
  BOOST_TEST(previous == "ACTIVE");
  apply(third);
  std::string state;
  {
    SqliteStmt st = db.prepare("SELECT state, actor FROM warmup_ip_state", error);
    BOOST_REQUIRE(st.step() == SQLITE_ROW);
    state = st.text(0) + "/" + st.text(1);
  }
  BOOST_TEST(state == "QUARANTINE/operator");
  BOOST_TEST(scalar(db, "SELECT COUNT(*) FROM warmup_ip_transitions WHERE actor_name = 'alice'") ==
             1);
}

BOOST_AUTO_TEST_SUITE_END()
