// SPDX-License-Identifier: Apache-2.0
// The warmup job against a real MariaDB holding MailWizz-shaped tables
// (tests/data/mailwizz_schema.sql): quota and status sync with audit,
// MailWizz's own warmup plans left alone, drift, dry run, health from
// MailWizz's logs, and failures mid-transaction (a lock that never comes,
// a server that accepts and says nothing, a server killed mid-sync) that
// must leave nothing half-written and be retried by the next run.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>

#include "probes/mysql_session.hpp"
#include "tests/support/test_support.hpp"
#include "tests/support/warmup_harness.hpp"

namespace mxpulse {
inline std::ostream& operator<<(std::ostream& o, Status s) {
  return o << statusName(s);
}
}  // namespace mxpulse

using namespace mxpulse;
using namespace std::chrono_literals;

namespace {

std::int64_t wallNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// An admin session on a MariaDB server (autocommit per statement).
struct Sql {
  probes::MysqlSession s;
  Sql(const probes::MysqlParams& p) {
    std::string error;
    BOOST_REQUIRE_MESSAGE(s.connect(p, Deadline::in(20s), error), error);
  }
  void exec(const std::string& sql) {
    std::string error;
    BOOST_REQUIRE_MESSAGE(s.exec(sql, error) && s.commit(error), sql << ": " << error);
  }
  std::string one(const std::string& sql) {
    auto rows = s.query(sql);
    std::string error;
    s.commit(error);  // end the read view so later reads see new commits
    BOOST_REQUIRE_MESSAGE(rows.ok && rows.rows.size() == 1 && rows.rows[0][0],
                          sql << ": " << rows.error);
    return *rows.rows[0][0];
  }
  void loadSchema() {
    std::string text = test::readFile(test::sourceDir() + "/tests/data/mailwizz_schema.sql");
    std::string stmt;
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '-' && i + 1 < text.size() && text[i + 1] == '-') {
        while (i < text.size() && text[i] != '\n') ++i;
        continue;
      }
      if (text[i] == ';') {
        exec(stmt);
        stmt.clear();
      } else {
        stmt += text[i];
      }
    }
  }
};

/// A throwaway database on the shared test MariaDB, with the schema and
/// three delivery servers.
struct MailwizzDb {
  probes::MysqlParams params;
  std::string name;
  MailwizzDb() {
    params.host = test::env("MXPULSE_TEST_MYSQL_HOST");
    std::string port = test::env("MXPULSE_TEST_MYSQL_PORT");
    test::skipUnless(!port.empty(),
                     "no MariaDB (MXPULSE_TEST_MYSQL_* unset; scripts/test.sh starts one)");
    params.port = std::stoi(port);
    params.user = test::env("MXPULSE_TEST_MYSQL_USER");
    params.password = test::env("MXPULSE_TEST_MYSQL_PASSWORD");
    static int counter = 0;
    name = "mxpulse_test_warmup_" + std::to_string(getpid()) + "_" + std::to_string(++counter);
    Sql admin(params);
    admin.exec("DROP DATABASE IF EXISTS " + name);
    admin.exec("CREATE DATABASE " + name);
    params.database = name;
    Sql db(params);
    db.loadSchema();
    db.exec(
        "INSERT INTO mw_delivery_server (server_id, name, hostname, hourly_quota, daily_quota, "
        "status, date_added, last_updated) VALUES "
        "(7, '192.0.2.7 vmta7', 'mta7.example.com', 0, 0, 'inactive', UTC_TIMESTAMP(), "
        "UTC_TIMESTAMP()),"
        "(8, '192.0.2.8 vmta8', 'mta8.example.com', 0, 0, 'inactive', UTC_TIMESTAMP(), "
        "UTC_TIMESTAMP()),"
        "(9, '192.0.2.9 vmta9', 'mta9.example.com', 0, 0, 'active', UTC_TIMESTAMP(), "
        "UTC_TIMESTAMP())");
  }
  ~MailwizzDb() {
    if (name.empty()) return;
    probes::MysqlParams p = params;
    p.database.clear();
    probes::MysqlSession s;
    std::string error;
    if (s.connect(p, Deadline::in(10s), error)) s.exec("DROP DATABASE IF EXISTS " + name, error);
  }
  std::string value(const std::string& column, int server) {
    Sql db(params);
    return db.one("SELECT " + column +
                  " FROM mw_delivery_server WHERE server_id = " + std::to_string(server));
  }
};

std::string jobYaml(const probes::MysqlParams& p, const std::string& extra = "",
                    const std::string& mailwizzExtra = "") {
  return "servers:\n"
         "  - {ip: 192.0.2.7, server_id: 7}\n"
         "  - {ip: 192.0.2.8, server_id: 8}\n"
         "  - {ip: 192.0.2.9, server_id: 9, initial_state: standby}\n"
         "health: {source: mailwizz, min_volume: 100}\n"
         "mailwizz:\n"
         "  host: " +
         p.host + "\n  port: " + std::to_string(p.port) + "\n  user: " + p.user +
         "\n  password: ${MXPULSE_TEST_MYSQL_PASSWORD}\n  database: " + p.database + "\n" +
         mailwizzExtra + extra;
}

long long scalar(SqliteDb& db, const std::string& sql) {
  std::string error;
  SqliteStmt st = db.prepare(sql, error);
  BOOST_REQUIRE_MESSAGE(st, error);
  BOOST_REQUIRE(st.step() == SQLITE_ROW);
  return st.int64(0);
}

struct State {
  test::TempDir dir;
  StateStore store;
  std::string path;
  State() : path(dir.file("state.db")) {
    std::string error;
    BOOST_REQUIRE_MESSAGE(store.open(path, error), error);
  }
};

JobOutput runAndRecord(Job& job, State& st, std::int64_t now,
                       std::chrono::milliseconds budget = 20s) {
  test::FixedContext ctx(now, budget);
  JobOutput out = job.run(ctx);
  JobOutput copy = out;
  test::recordWarmupRun(st.store, std::move(copy), now);
  return out;
}

const CheckResult& result(const JobOutput& out, const std::string& check, const std::string& ip) {
  const CheckResult* r = test::findResult(out, check, ip);
  BOOST_REQUIRE_MESSAGE(r, "no " << check << " result for " << ip);
  return *r;
}

/// A private mariadbd this test may kill (the shared one must survive).
class PrivateMariadb {
 public:
  PrivateMariadb() {
    std::string mysqld = "/usr/sbin/mariadbd";
    test::skipUnless(test::fileExists(mysqld), "no mariadbd");
    port_ = test::freePort();
    auto r =
        test::runProcess({"mariadb-install-db", "--no-defaults", "--datadir=" + dir_.file("data"),
                          "--user=" + user(), "--auth-root-authentication-method=normal"},
                         {}, 120s);
    BOOST_REQUIRE_MESSAGE(r.exitCode == 0, "mariadb-install-db: " << r.out << r.err);
    start();
  }
  void start() {
    child_ = std::make_unique<test::Child>(
        std::vector<std::string>{
            "/usr/sbin/mariadbd", "--no-defaults", "--datadir=" + dir_.file("data"),
            "--socket=" + dir_.file("mysql.sock"), "--port=" + std::to_string(port_),
            "--bind-address=127.0.0.1", "--user=" + user(), "--skip-log-bin", "--skip-grant-tables",
            "--innodb-buffer-pool-size=16M", "--pid-file=" + dir_.file("mysqld.pid")},
        dir_.file("server.log"));
    bool up = test::eventually(
        [&] {
          probes::MysqlSession s;
          std::string error;
          return s.connect(params(""), Deadline::in(1s), error);
        },
        60s);
    BOOST_REQUIRE_MESSAGE(
        up, "private mariadbd did not start: " << test::readFile(dir_.file("server.log")));
  }
  void kill9() {
    child_->signal(SIGKILL);
    child_->wait(20s);
  }
  probes::MysqlParams params(const std::string& db) const {
    probes::MysqlParams p;
    p.host = "127.0.0.1";
    p.port = port_;
    p.user = "root";
    p.database = db;
    return p;
  }

 private:
  static std::string user() {
    const char* u = std::getenv("USER");
    return u && *u ? u : "root";
  }
  test::TempDir dir_;
  int port_ = 0;
  std::unique_ptr<test::Child> child_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(warmup_mailwizz)

BOOST_AUTO_TEST_CASE(sync_writes_quotas_and_status_then_stays_in_sync) {
  MailwizzDb mw;
  State st;
  auto job = test::makeWarmupJob(jobYaml(mw.params), st.path);
  std::int64_t now = wallNow();
  JobOutput out = runAndRecord(*job, st, now);
  const CheckResult& s7 = result(out, "mailwizz_sync", "192.0.2.7");
  BOOST_TEST(s7.status == Status::Ok, s7.summary);
  BOOST_TEST(s7.summary.find("daily_quota unlimited -> 50") != std::string::npos, s7.summary);
  BOOST_TEST(s7.summary.find("5 minutes") != std::string::npos);
  BOOST_TEST(mw.value("status", 7) == "active");
  BOOST_TEST(mw.value("daily_quota", 7) == "50");
  BOOST_TEST(mw.value("hourly_quota", 7) == "7");
  BOOST_TEST(mw.value("status", 9) == "inactive");  // STANDBY
  BOOST_TEST(mw.value("daily_quota", 9) == "0");    // quotas of a stopped server left alone
  BOOST_TEST(scalar(st.store.db(),
                    "SELECT COUNT(*) FROM warmup_sync_audit WHERE outcome = "
                    "'applied'") == 7);  // 3 + 3 + 1 fields
  BOOST_TEST(scalar(st.store.db(),
                    "SELECT COUNT(*) FROM warmup_sync_audit WHERE server_id = 9 "
                    "AND field = 'status' AND new_value = 'inactive'") == 1);
  // MailWizz itself flips active <-> in-use while sending: still in sync.
  Sql(mw.params).exec("UPDATE mw_delivery_server SET status = 'in-use' WHERE server_id = 7");
  out = runAndRecord(*job, st, now + 300);
  BOOST_TEST(result(out, "mailwizz_sync", "192.0.2.7").summary.find("in sync") !=
             std::string::npos);
  BOOST_TEST(mw.value("status", 7) == "in-use");
  BOOST_TEST(scalar(st.store.db(), "SELECT COUNT(*) FROM warmup_sync_audit") == 7);
  const CheckResult& c = result(out, "mailwizz_warmup_conflict", "192.0.2.8");
  BOOST_TEST(c.status == Status::Ok);
}

BOOST_AUTO_TEST_CASE(mailwizz_own_warmup_plan_is_never_touched) {
  MailwizzDb mw;
  State st;
  Sql(mw.params).exec(
      "UPDATE mw_delivery_server SET warmup_plan_id = 3, hourly_quota = 10, daily_quota = 240, "
      "status = 'active' WHERE server_id = 8");
  auto job = test::makeWarmupJob(jobYaml(mw.params, "", "  on_drift: overwrite\n"), st.path);
  JobOutput out = runAndRecord(*job, st, wallNow());
  const CheckResult& c = result(out, "mailwizz_warmup_conflict", "192.0.2.8");
  BOOST_TEST(c.status == Status::Warning);
  BOOST_TEST(c.summary.find("warmup plan #3") != std::string::npos, c.summary);
  BOOST_TEST(test::findResult(out, "mailwizz_sync", "192.0.2.8") == nullptr);
  BOOST_TEST(mw.value("daily_quota", 8) == "240");
  BOOST_TEST(mw.value("hourly_quota", 8) == "10");
  BOOST_TEST(mw.value("daily_quota", 7) == "50");  // the others are synced
  BOOST_TEST(scalar(st.store.db(), "SELECT COUNT(*) FROM warmup_sync_audit WHERE server_id = 8") ==
             0);

  // A MailWizz older than 2.1.10 has no warmup_plan_id column at all.
  Sql(mw.params).exec("ALTER TABLE mw_delivery_server DROP COLUMN warmup_plan_id");
  out = runAndRecord(*job, st, wallNow() + 60);
  BOOST_TEST(result(out, "mailwizz_warmup_conflict", "192.0.2.8").summary.find("before 2.1.10") !=
             std::string::npos);
  BOOST_TEST(mw.value("daily_quota", 8) == "50");
}

BOOST_AUTO_TEST_CASE(hand_edits_are_drift_reported_or_overwritten) {
  MailwizzDb mw;
  State st;
  auto job = test::makeWarmupJob(jobYaml(mw.params), st.path);
  std::int64_t now = wallNow();
  runAndRecord(*job, st, now);
  BOOST_REQUIRE(mw.value("daily_quota", 7) == "50");
  Sql(mw.params).exec("UPDATE mw_delivery_server SET daily_quota = 9000 WHERE server_id = 7");

  JobOutput out = runAndRecord(*job, st, now + 300);
  const CheckResult& r = result(out, "mailwizz_sync", "192.0.2.7");
  BOOST_TEST(r.status == Status::Warning);
  BOOST_TEST(r.summary.find("daily_quota is 9,000 but we last wrote 50") != std::string::npos,
             r.summary);
  BOOST_TEST(mw.value("daily_quota", 7) == "9000");

  auto overwrite = test::makeWarmupJob(jobYaml(mw.params, "", "  on_drift: overwrite\n"), st.path);
  out = runAndRecord(*overwrite, st, now + 600);
  const CheckResult& o = result(out, "mailwizz_sync", "192.0.2.7");
  BOOST_TEST(o.status == Status::Warning);
  BOOST_TEST(o.summary.find("overwrote a hand edit") != std::string::npos, o.summary);
  BOOST_TEST(mw.value("daily_quota", 7) == "50");
  out = runAndRecord(*job, st, now + 900);
  BOOST_TEST(result(out, "mailwizz_sync", "192.0.2.7").status == Status::Ok);
}

BOOST_AUTO_TEST_CASE(dry_run_writes_nothing_anywhere) {
  MailwizzDb mw;
  State st;
  auto job = test::makeWarmupJob(jobYaml(mw.params, "dry_run: true\n"), st.path);
  JobOutput out = runAndRecord(*job, st, wallNow());
  const CheckResult& r = result(out, "mailwizz_sync", "192.0.2.7");
  BOOST_TEST(r.summary.find("dry run: would set daily_quota unlimited -> 50") != std::string::npos,
             r.summary);
  BOOST_TEST(out.stateWrites.empty());
  BOOST_TEST(mw.value("status", 7) == "inactive");
  BOOST_TEST(mw.value("daily_quota", 7) == "0");
  BOOST_TEST(mw.value("status", 9) == "active");
  BOOST_TEST(scalar(st.store.db(), "SELECT COUNT(*) FROM warmup_ip_state") == 0);
  BOOST_TEST(scalar(st.store.db(), "SELECT COUNT(*) FROM warmup_sync_audit") == 0);
}

BOOST_AUTO_TEST_CASE(bounces_in_mailwizz_logs_quarantine_and_disable_in_one_run) {
  MailwizzDb mw;
  State st;
  Sql db(mw.params);
  // 200 sends from server 7 in the last hours, 30 of them hard-bounced.
  for (int i = 0; i < 200; ++i) {
    db.exec(
        "INSERT INTO mw_delivery_server_usage_log (server_id, date_added) VALUES (7, "
        "UTC_TIMESTAMP() - INTERVAL " +
        std::to_string(i % 5) + " HOUR)");
    db.exec(
        "INSERT INTO mw_campaign_delivery_log (campaign_id, subscriber_id, server_id, "
        "date_added) VALUES (1, " +
        std::to_string(i) + ", 7, UTC_TIMESTAMP())");
  }
  for (int i = 0; i < 30; ++i)
    db.exec(
        "INSERT INTO mw_campaign_bounce_log (campaign_id, subscriber_id, bounce_type, "
        "date_added) VALUES (1, " +
        std::to_string(i) + ", 'hard', UTC_TIMESTAMP())");
  db.exec(
      "INSERT INTO mw_campaign_bounce_log (campaign_id, subscriber_id, bounce_type, "
      "date_added) VALUES (1, 150, 'internal', UTC_TIMESTAMP())");  // not counted
  auto job = test::makeWarmupJob(
      jobYaml(mw.params,
              "initial_state: active\n"
              "health: {source: mailwizz, min_volume: 100, on_severe: quarantine}\n"),
      st.path);
  JobOutput out = runAndRecord(*job, st, wallNow());
  const CheckResult& w = result(out, "warmup", "192.0.2.7");
  BOOST_TEST(w.status == Status::Critical, w.summary);
  BOOST_TEST(w.summary.find("bounce 15.0%") != std::string::npos, w.summary);
  BOOST_TEST(mw.value("status", 7) == "inactive");
  // The standby IP took over and was enabled in the same run.
  BOOST_TEST(result(out, "warmup", "192.0.2.9").summary.find("ACTIVE") != std::string::npos);
  BOOST_TEST(mw.value("status", 9) == "active");
}

BOOST_AUTO_TEST_CASE(a_lock_that_never_comes_rolls_everything_back_and_the_retry_works) {
  MailwizzDb mw;
  State st;
  auto job = test::makeWarmupJob(jobYaml(mw.params), st.path);
  // Someone holds server 8's row: our transaction updates 7, then waits.
  Sql holder(mw.params);
  auto held = holder.s.query("SELECT * FROM mw_delivery_server WHERE server_id = 8 FOR UPDATE");
  BOOST_REQUIRE(held.ok);
  std::int64_t now = wallNow();
  JobOutput out = runAndRecord(*job, st, now, 3s);
  const CheckResult& r7 = result(out, "mailwizz_sync", "192.0.2.7");
  BOOST_TEST(r7.status == Status::Unknown, r7.summary);
  BOOST_TEST(r7.summary.find("rolled back") != std::string::npos, r7.summary);
  BOOST_TEST(result(out, "mailwizz_sync", "192.0.2.8").status == Status::Unknown);
  BOOST_TEST(mw.value("daily_quota", 7) == "0");  // nothing half-written
  BOOST_TEST(mw.value("status", 7) == "inactive");
  BOOST_TEST(scalar(st.store.db(),
                    "SELECT COUNT(*) FROM warmup_sync_audit WHERE outcome = "
                    "'applied'") == 0);
  BOOST_TEST(scalar(st.store.db(),
                    "SELECT COUNT(*) FROM warmup_sync_audit WHERE outcome = "
                    "'rolled_back'") > 0);
  // The lifecycle itself is consistent and committed.
  BOOST_TEST(scalar(st.store.db(), "SELECT COUNT(*) FROM warmup_ip_state") == 3);
  BOOST_TEST(scalar(st.store.db(), "SELECT COUNT(*) FROM warmup_progress") == 2);

  holder.s.rollback();
  out = runAndRecord(*job, st, now + 300);
  BOOST_TEST(result(out, "mailwizz_sync", "192.0.2.7").status == Status::Ok);
  BOOST_TEST(mw.value("daily_quota", 7) == "50");
  BOOST_TEST(mw.value("daily_quota", 8) == "50");
  BOOST_TEST(result(out, "ip_transition", "192.0.2.7").status == Status::Ok);
}

BOOST_AUTO_TEST_CASE(a_server_that_accepts_and_says_nothing_is_unknown) {
  State st;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  BOOST_REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  BOOST_REQUIRE(listen(fd, 8) == 0);  // never accept(): connects, then silence
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  probes::MysqlParams p;
  p.host = "127.0.0.1";
  p.port = ntohs(addr.sin_port);
  p.user = "u";
  p.database = "mailwizz";
  ::setenv("MXPULSE_TEST_MYSQL_PASSWORD", test::env("MXPULSE_TEST_MYSQL_PASSWORD").c_str(), 1);
  auto job = test::makeWarmupJob(jobYaml(p), st.path);
  JobOutput out = runAndRecord(*job, st, wallNow(), 2s);
  close(fd);
  const CheckResult& r = result(out, "mailwizz_sync", "192.0.2.7");
  BOOST_TEST(r.status == Status::Unknown);
  BOOST_TEST(r.summary.find("cannot connect") != std::string::npos, r.summary);
  BOOST_TEST(r.summary.find("next run retries") != std::string::npos);
  BOOST_TEST(result(out, "mailwizz_warmup_conflict", "192.0.2.7").status == Status::Unknown);
  BOOST_TEST(scalar(st.store.db(), "SELECT COUNT(*) FROM warmup_ip_state") == 3);
  BOOST_TEST(scalar(st.store.db(), "SELECT COUNT(*) FROM warmup_sync_audit") == 0);
}

BOOST_AUTO_TEST_CASE(server_killed_mid_sync_leaves_nothing_half_written) {
  PrivateMariadb server;
  {
    Sql admin(server.params(""));
    admin.exec("CREATE DATABASE mailwizz");
  }
  probes::MysqlParams p = server.params("mailwizz");
  {
    Sql db(p);
    db.loadSchema();
    db.exec(
        "INSERT INTO mw_delivery_server (server_id, hostname, status, date_added, "
        "last_updated) VALUES (7, 'a', 'inactive', UTC_TIMESTAMP(), UTC_TIMESTAMP()), "
        "(8, 'b', 'inactive', UTC_TIMESTAMP(), UTC_TIMESTAMP()), "
        "(9, 'c', 'active', UTC_TIMESTAMP(), UTC_TIMESTAMP())");
  }
  State st;
  ::setenv("MXPULSE_TEST_MYSQL_PASSWORD", test::env("MXPULSE_TEST_MYSQL_PASSWORD").c_str(), 1);
  auto job = test::makeWarmupJob(jobYaml(p), st.path);
  std::atomic<int> updates{0};
  jobs::setWarmupSyncHook(*job, [&](size_t) {
    if (++updates == 1) server.kill9();  // after the first UPDATE, before COMMIT
  });
  std::int64_t now = wallNow();
  JobOutput out = runAndRecord(*job, st, now, 10s);
  BOOST_TEST(updates.load() == 1);
  const CheckResult& r = result(out, "mailwizz_sync", "192.0.2.7");
  BOOST_TEST(r.status == Status::Unknown, r.summary);
  BOOST_TEST(scalar(st.store.db(),
                    "SELECT COUNT(*) FROM warmup_sync_audit WHERE outcome = "
                    "'applied'") == 0);

  server.start();  // InnoDB recovery rolls the open transaction back
  {
    Sql db(p);
    BOOST_TEST(db.one("SELECT daily_quota FROM mw_delivery_server WHERE server_id = 7") == "0");
    BOOST_TEST(db.one("SELECT status FROM mw_delivery_server WHERE server_id = 7") == "inactive");
  }
  jobs::setWarmupSyncHook(*job, nullptr);
  out = runAndRecord(*job, st, now + 300, 20s);
  BOOST_TEST(result(out, "mailwizz_sync", "192.0.2.7").status == Status::Ok);
  Sql db(p);
  BOOST_TEST(db.one("SELECT daily_quota FROM mw_delivery_server WHERE server_id = 7") == "50");
  BOOST_TEST(db.one("SELECT status FROM mw_delivery_server WHERE server_id = 9") == "inactive");
  BOOST_TEST(scalar(st.store.db(),
                    "SELECT COUNT(*) FROM warmup_sync_audit WHERE outcome = "
                    "'applied'") == 7);
}

BOOST_AUTO_TEST_SUITE_END()
