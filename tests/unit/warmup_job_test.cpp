// SPDX-License-Identifier: Apache-2.0
// The warmup job end to end without MySQL (sync: false): generated PowerMTA
// accounting files over simulated days drive the plan (advance, hold, roll
// back), each run is recorded into a real state DB through the store, and
// rotation of the accounting file neither loses nor double-counts lines.
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <fstream>

#include "jobs/warmup_lifecycle.hpp"
#include "tests/support/test_support.hpp"
#include "tests/support/warmup_harness.hpp"

namespace mxpulse {
inline std::ostream& operator<<(std::ostream& o, Status s) {
  return o << statusName(s);
}
}  // namespace mxpulse

using namespace mxpulse;

namespace {

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kT0 = 1772409600;  // 2026-03-02 00:00:00 UTC

std::string stamp(std::int64_t t) {
  time_t tt = static_cast<time_t>(t);
  struct tm tm {};
  gmtime_r(&tt, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S+0000", &tm);
  return buf;
}

/// `n` records from `ip` logged at `t`, `bounced` of them bounces.
void logSends(const std::string& path, const std::string& ip, std::int64_t t, int n, int bounced) {
  bool fresh = !test::fileExists(path);
  std::ofstream out(path, std::ios::app | std::ios::binary);
  if (fresh) out << "type,timeLogged,orig,rcpt,bounceCat,dlvSourceIp,vmta\r\n";
  for (int i = 0; i < n; ++i)
    out << (i < bounced ? "b" : "d") << "," << stamp(t + i) << ",news@example.com,u" << i
        << "@example.net," << (i < bounced ? "bad-mailbox" : "success") << "," << ip
        << ",vmta1\r\n";
}

long long scalar(SqliteDb& db, const std::string& sql) {
  std::string error;
  SqliteStmt st = db.prepare(sql, error);
  BOOST_REQUIRE_MESSAGE(st, error);
  BOOST_REQUIRE(st.step() == SQLITE_ROW);
  return st.int64(0);
}

long long factInt(const CheckResult* r, const std::string& key) {
  BOOST_REQUIRE(r);
  const Json* j = r->facts.find(key);
  BOOST_REQUIRE_MESSAGE(j && j->asInt(), "fact " << key << " missing");
  return *j->asInt();
}

std::string params(const std::string& dir) {
  return R"(
servers:
  - {ip: 192.0.2.10, server_id: 10}
  - {ip: 192.0.2.11, server_id: 11}
default_plan: short
plans:
  short: {count: calendar_days, days: [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]}
health: {window: 24h, min_volume: 50, bounce_rate: 5%, severe_factor: 2, rollback_days: 2}
accounting: {files: [")" +
         dir + R"(/acct*.csv"]}
mailwizz: {sync: false, user: unused, database: unused}
)";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(warmup_job)

BOOST_AUTO_TEST_CASE(plan_advances_holds_and_rolls_back_on_accounting_files) {
  test::TempDir dir;
  std::string db = dir.file("state.db");
  StateStore store;
  std::string error;
  BOOST_REQUIRE(store.open(db, error));
  auto job = test::makeWarmupJob(params(dir.path()), db);
  std::string acct = dir.file("acct.csv");

  // Bounce share per day for .11 (.10 stays at 2%).
  const int bounces11[] = {2, 2, 2, 7, 7, 15, 1, 1};
  std::vector<long long> day10, day11;
  for (int d = 0; d < 8; ++d) {
    std::int64_t morning = kT0 + d * kDay + 8 * 3600;
    logSends(acct, "192.0.2.10", morning, 100, 2);
    logSends(acct, "192.0.2.11", morning, 100, bounces11[d]);
    logSends(acct, "198.51.100.99", morning, 10, 0);  // not ours
    if (d == 4) {
      // Rotation between runs: the file moves away with unread lines, a new
      // one starts at the same path.
      logSends(acct, "192.0.2.11", morning + 60, 50, 3);
      BOOST_REQUIRE(std::rename(acct.c_str(), dir.file("acct-2026-03-06-0900.csv").c_str()) == 0);
      logSends(acct, "192.0.2.11", morning + 120, 50, 4);
    }
    std::int64_t now = kT0 + d * kDay + 10 * 3600;
    test::FixedContext ctx(now);
    JobOutput out = job->run(ctx);
    const CheckResult* a = test::findResult(out, "accounting", "pmta");
    BOOST_REQUIRE(a);
    BOOST_TEST(a->status == Status::Ok, a->summary);
    day10.push_back(factInt(test::findResult(out, "warmup", "192.0.2.10"), "plan_day"));
    day11.push_back(factInt(test::findResult(out, "warmup", "192.0.2.11"), "plan_day"));
    if (d == 3) {
      const CheckResult* w = test::findResult(out, "warmup", "192.0.2.11");
      BOOST_TEST(w->status == Status::Warning);
      BOOST_TEST(w->summary.find("held at day 3") != std::string::npos, w->summary);
    }
    if (d == 5) {
      const CheckResult* w = test::findResult(out, "warmup", "192.0.2.11");
      BOOST_TEST(w->summary.find("rolled back from day 3 to 1") != std::string::npos, w->summary);
    }
    test::recordWarmupRun(store, std::move(out), now);
  }
  std::vector<long long> want10 = {1, 2, 3, 4, 5, 6, 7, 8};
  std::vector<long long> want11 = {1, 2, 3, 3, 3, 1, 2, 3};
  BOOST_TEST(day10 == want10, boost::test_tools::per_element());
  BOOST_TEST(day11 == want11, boost::test_tools::per_element());

  // Every line counted exactly once, rotation included: .11 sent 8 x 100 + 100.
  BOOST_TEST(scalar(store.db(), "SELECT SUM(sent) FROM warmup_ip_hourly WHERE ip = '192.0.2.11'") ==
             900);
  BOOST_TEST(
      scalar(store.db(), "SELECT SUM(bounced) FROM warmup_ip_hourly WHERE ip = '192.0.2.11'") ==
      2 + 2 + 2 + 7 + 7 + 15 + 1 + 1 + 3 + 4);
  BOOST_TEST(scalar(store.db(),
                    "SELECT COUNT(*) FROM warmup_ip_hourly WHERE ip = "
                    "'198.51.100.99'") == 0);
  BOOST_TEST(scalar(store.db(), "SELECT rollbacks FROM warmup_progress WHERE ip = '192.0.2.11'") ==
             1);
  BOOST_TEST(scalar(store.db(), "SELECT held_days FROM warmup_progress WHERE ip = '192.0.2.11'") ==
             3);
  // The transitions were recorded once each (first sight of both IPs).
  BOOST_TEST(scalar(store.db(), "SELECT COUNT(*) FROM warmup_ip_transitions") == 2);
}

BOOST_AUTO_TEST_CASE(dnsbl_results_quarantine_through_the_state_db) {
  test::TempDir dir;
  std::string db = dir.file("state.db");
  StateStore store;
  std::string error;
  BOOST_REQUIRE(store.open(db, error));
  auto job = test::makeWarmupJob(params(dir.path()), db);
  logSends(dir.file("acct.csv"), "192.0.2.10", kT0, 10, 0);
  std::int64_t now = kT0 + 3600;
  {
    test::FixedContext ctx(now);
    test::recordWarmupRun(store, job->run(ctx), now);
  }
  // Another job (kind dnsbl) reports 192.0.2.10 listed on a critical zone.
  RunRecord dnsbl;
  dnsbl.job = "blocklists";
  dnsbl.kind = "dnsbl";
  dnsbl.startedAt = now + 60;
  dnsbl.output.results.emplace_back("dnsbl", "192.0.2.10 zen.spamhaus.org", Status::Critical,
                                    "listed");
  dnsbl.output.results.emplace_back("dnsbl", "192.0.2.11 zen.spamhaus.org", Status::Ok, "clean");
  BOOST_REQUIRE(store.recordRun(dnsbl, error));

  now += 300;
  test::FixedContext ctx(now);
  JobOutput out = job->run(ctx);
  const CheckResult* w = test::findResult(out, "warmup", "192.0.2.10");
  BOOST_TEST(w->status == Status::Critical);
  BOOST_TEST(w->summary.find("QUARANTINE") != std::string::npos, w->summary);
  const CheckResult* t = test::findResult(out, "ip_transition", "192.0.2.10");
  BOOST_TEST(t->status == Status::Warning);
  BOOST_TEST(
      t->summary.find("WARMING -> QUARANTINE: listed on zen.spamhaus.org") != std::string::npos,
      t->summary);
  BOOST_TEST(test::findResult(out, "warmup", "192.0.2.11")->status == Status::Ok);
  test::recordWarmupRun(store, std::move(out), now);
  BOOST_TEST(scalar(store.db(),
                    "SELECT COUNT(*) FROM warmup_ip_state WHERE state = "
                    "'QUARANTINE' AND cause = 'dnsbl'") == 1);
  BOOST_TEST(scalar(store.db(), "SELECT COUNT(*) FROM warmup_progress WHERE ip = '192.0.2.10'") ==
             0);

  // The next run reports no new transition.
  now += 300;
  test::FixedContext ctx2(now);
  out = job->run(ctx2);
  BOOST_TEST(test::findResult(out, "ip_transition", "192.0.2.10")->status == Status::Ok);
}

BOOST_AUTO_TEST_CASE(dry_run_returns_no_state_writes) {
  test::TempDir dir;
  std::string db = dir.file("state.db");
  StateStore store;
  std::string error;
  BOOST_REQUIRE(store.open(db, error));
  auto job = test::makeWarmupJob(params(dir.path()) + "dry_run: true\n", db);
  logSends(dir.file("acct.csv"), "192.0.2.10", kT0, 10, 0);
  test::FixedContext ctx(kT0 + 3600);
  JobOutput out = job->run(ctx);
  BOOST_TEST(out.stateWrites.empty());
  BOOST_TEST(test::findResult(out, "warmup", "192.0.2.10")->summary.rfind("dry run: ", 0) == 0);
  test::recordWarmupRun(store, std::move(out), kT0 + 3600);
  BOOST_TEST(scalar(store.db(), "SELECT COUNT(*) FROM warmup_ip_state") == 0);
  BOOST_TEST(scalar(store.db(), "SELECT COUNT(*) FROM warmup_acct_files") == 0);
}

BOOST_AUTO_TEST_CASE(unreadable_state_db_is_unknown_and_touches_nothing) {
  test::TempDir dir;
  auto job = test::makeWarmupJob(params(dir.path()), dir.file("missing/state.db"));
  test::FixedContext ctx(kT0);
  JobOutput out = job->run(ctx);
  BOOST_REQUIRE_EQUAL(out.results.size(), 1u);
  BOOST_TEST(out.results[0].status == Status::Unknown);
  BOOST_TEST(out.stateWrites.empty());
}

BOOST_AUTO_TEST_CASE(params_are_validated) {
  test::TempDir dir;
  for (const std::string& bad : {
           std::string("servers: [{ip: nope, server_id: 1}]\nmailwizz: {user: u, database: d}\n"
                       "health: {source: mailwizz}\n"),
           std::string("servers: [{ip: 192.0.2.1, server_id: 1}, {ip: 192.0.2.1, server_id: 2}]\n"
                       "mailwizz: {user: u, database: d}\nhealth: {source: mailwizz}\n"),
           std::string("servers: [{ip: 192.0.2.1, server_id: 1}]\n"
                       "mailwizz: {user: u, database: d, table_prefix: 'mw; DROP'}\n"
                       "health: {source: mailwizz}\n"),
           std::string("servers: [{ip: 192.0.2.1, server_id: 1}]\n"
                       "mailwizz: {user: u, database: d}\n"),  // accounting files missing
           std::string("servers: [{ip: 192.0.2.1, server_id: 1, plan: nope}]\n"
                       "mailwizz: {user: u, database: d}\nhealth: {source: mailwizz}\n"),
           std::string("servers: [{ip: 192.0.2.1, server_id: 1}]\n"
                       "mailwizz: {user: u, database: d, on_drift: shrug}\n"
                       "health: {source: mailwizz}\n"),
       }) {
    BOOST_CHECK_THROW(test::makeWarmupJob(bad, dir.file("state.db")), std::runtime_error);
  }
  BOOST_CHECK_NO_THROW(
      test::makeWarmupJob("servers: [{ip: '2001:DB8::7', server_id: 1}]\n"
                          "mailwizz: {user: u, database: d}\n"
                          "health: {source: mailwizz}\n",
                          dir.file("state.db")));
}

BOOST_AUTO_TEST_SUITE_END()
