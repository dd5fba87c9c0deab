// SPDX-License-Identifier: Apache-2.0
// Alerts through the real binary: `mxpulse run` killed with SIGKILL while
// a message is in flight, then restarted (nothing lost, the one repeat is
// marked, nothing else repeated); `once` delivering; silences, `alert
// test`, `status` and check-config of rules from the command line.
#include <signal.h>
#include <sys/stat.h>
#include <boost/test/unit_test.hpp>

#include "agent/store/sqlite_db.hpp"
#include "tests/support/fake_telegram.hpp"
#include "tests/support/test_support.hpp"

using namespace mxpulse;
using namespace mxpulse::test;
using namespace std::chrono;

namespace {

const std::string kToken = "424242:DAEMON-test-token_zz";

std::string config(const std::string& baseUrl, const std::string& every,
                   const std::string& processes, const std::string& extraAlerts = "") {
  return "agent: {state_db: state.db, textfile: tf/mxpulse.prom, max_splay: 0s, "
         "shutdown_grace: 2s}\n"
         "alerts:\n"
         "  host: testhost\n"
         "  telegram:\n"
         "    api_base_url: " +
         baseUrl +
         "\n"
         "    bot_token: ${MXPULSE_TEST_TG_TOKEN}\n"
         "    timeout: 20s\n"
         "    retry_min: 1s\n"
         "    retry_max: 2s\n"
         "    send_interval: 0s\n"
         "    chats: [{chat_id: 42}]\n" +
         extraAlerts +
         "jobs:\n"
         "  - name: host\n"
         "    kind: host\n"
         "    every: " +
         every +
         "\n"
         "    params:\n"
         "      processes: [" +
         processes +
         "]\n"
         "      load_warn_per_cpu: 1000\n"
         "      load_crit_per_cpu: 1000\n"
         "      memory_warn_available: 0%\n"
         "      memory_crit_available: 0%\n";
}

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

/// One value from the state DB, read-only (the daemon may be writing).
std::string query(const std::string& db, const std::string& sql) {
  SqliteDb conn;
  std::string error;
  if (!conn.open(db, SqliteDb::Mode::ReadOnly, error)) return "";
  auto st = conn.prepare(sql, error);
  if (!st || st.step() != SQLITE_ROW) return "";
  return st.text(0);
}

ProcessResult cli(const std::string& cfg, std::vector<std::string> args) {
  args.insert(args.begin(), {binary(), "--config", cfg});
  return runProcess(args, {{"MXPULSE_TEST_TG_TOKEN", kToken}}, seconds(60));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(alert_daemon)

BOOST_AUTO_TEST_CASE(kill_9_while_sending_loses_nothing_and_marks_the_one_repeat) {
  TempDir dir;
  mkdir(dir.file("tf").c_str(), 0755);
  FakeTelegram fake(kToken);
  fake.setDefault(FakeTelegram::Reply::Hang);  // the first send never gets an answer
  std::string cfg = dir.file("agent.yaml"), db = dir.file("state.db");
  writeFile(cfg, config(fake.baseUrl(), "1s", "mxpulse-absent-one, mxpulse-absent-two"));
  std::map<std::string, std::string> env{{"MXPULSE_TEST_TG_TOKEN", kToken}};

  {
    Child agent({binary(), "--config", cfg, "run"}, dir.file("agent1.log"), env);
    BOOST_REQUIRE_MESSAGE(fake.waitFor(1, seconds(30)), readFile(dir.file("agent1.log")));
    BOOST_REQUIRE(eventually([&] { return query(db, "SELECT state FROM outbox") == "sending"; },
                             seconds(10)));
    agent.signal(SIGKILL);
    BOOST_TEST(agent.wait(seconds(10)) == -2);
  }
  // The crash left the message claimed but unconfirmed.
  BOOST_TEST(query(db, "SELECT count(*) FROM outbox") == "1");
  BOOST_TEST(query(db, "SELECT state FROM outbox") == "sending");
  auto first = fake.requests().at(0);
  BOOST_TEST(first.valid, first.problem);
  BOOST_TEST(contains(first.text, "mxpulse-absent-one"));
  BOOST_TEST(contains(first.text, "mxpulse-absent-two"));

  fake.setDefault(FakeTelegram::Reply::Ok);
  fake.releaseHung();
  Child agent({binary(), "--config", cfg, "run"}, dir.file("agent2.log"), env);
  BOOST_REQUIRE_MESSAGE(fake.waitFor(2, seconds(30)), readFile(dir.file("agent2.log")));
  BOOST_REQUIRE(
      eventually([&] { return query(db, "SELECT state FROM outbox") == "sent"; }, seconds(10)));
  auto second = fake.requests().at(1);
  BOOST_TEST(second.valid, second.problem);
  // The resent copy says it may be a repeat, and carries the same alerts.
  BOOST_TEST(contains(second.text, "possibly repeated"));
  BOOST_TEST(second.text.size() > first.text.size());
  BOOST_TEST(second.text.compare(second.text.size() - first.text.size(), first.text.size(),
                                 first.text) == 0);
  BOOST_TEST(contains(readFile(dir.file("agent2.log")), "possibly repeated"));

  // The job keeps running after the restart; the alert state survived it, so
  // nothing is announced again.
  std::string prom = dir.file("tf/mxpulse.prom");
  int runsBefore = std::stoi(query(db, "SELECT runs_total FROM job_status WHERE job = 'host'"));
  BOOST_REQUIRE(eventually(
      [&] {
        return std::stoi(query(db, "SELECT runs_total FROM job_status WHERE job = 'host'")) >=
               runsBefore + 3;
      },
      seconds(30)));
  BOOST_TEST(fake.count() == 2u);
  BOOST_TEST(query(db, "SELECT count(*) FROM outbox") == "1");
  BOOST_REQUIRE(eventually(
      [&] {
        std::string t = readFile(prom);
        return contains(t, "mxpulse_telegram_sends_total 1") &&
               contains(t, "mxpulse_alerts_firing{severity=\"critical\"} 2");
      },
      seconds(20)));

  auto status = cli(cfg, {"status"});
  BOOST_TEST(status.exitCode == 0, status.err);
  BOOST_TEST(contains(status.out, "alerts: 2 firing"));
  BOOST_TEST(contains(status.out, "outbox: 0 pending, 0 sending, 0 failed; 1 sent"));

  agent.signal(SIGTERM);
  BOOST_TEST(agent.wait(seconds(30)) == 0);
  // The token is in no log and nowhere in the state DB.
  for (const char* f : {"agent1.log", "agent2.log", "state.db", "state.db-wal"})
    BOOST_TEST(!contains(readFile(dir.file(f)), "DAEMON-test-token"), f);
}

BOOST_AUTO_TEST_CASE(once_delivers_and_the_cli_manages_silences_and_tests_chats) {
  TempDir dir;
  mkdir(dir.file("tf").c_str(), 0755);
  FakeTelegram fake(kToken);
  std::string cfg = dir.file("agent.yaml");
  writeFile(cfg, config(fake.baseUrl(), "1h", "mxpulse-absent-one"));

  auto once = cli(cfg, {"once"});
  BOOST_TEST(once.exitCode == 2, once.out << once.err);  // critical
  BOOST_REQUIRE(fake.count() == 1u);
  BOOST_TEST(contains(fake.requests()[0].text, "mxpulse-absent-one"));

  auto add = cli(cfg, {"silence", "add", "mxpulse-absent-two", "--for", "2h", "--reason",
                       "being reinstalled"});
  BOOST_TEST(add.exitCode == 0, add.err);
  BOOST_TEST(contains(add.out, "silence 1: alerts matching 'mxpulse-absent-two'"));
  auto list = cli(cfg, {"silence", "list"});
  BOOST_TEST(contains(list.out, "mxpulse-absent-two  active until"));
  BOOST_TEST(contains(list.out, "being reinstalled"));
  BOOST_TEST(cli(cfg, {"silence", "add", "x"}).exitCode == 64);  // --for is required

  // A new alert that matches the silence is recorded, not sent.
  writeFile(cfg, config(fake.baseUrl(), "1h", "mxpulse-absent-one, mxpulse-absent-two"));
  once = cli(cfg, {"once"});
  BOOST_TEST(once.exitCode == 2);
  BOOST_TEST(fake.count() == 1u);
  BOOST_TEST(query(dir.file("state.db"), "SELECT count(*) FROM outbox WHERE state = 'silenced'") ==
             "1");
  auto remove = cli(cfg, {"silence", "remove", "1"});
  BOOST_TEST(remove.exitCode == 0, remove.err);
  BOOST_TEST(cli(cfg, {"silence", "remove", "1"}).exitCode == 70);
  BOOST_TEST(contains(cli(cfg, {"silence", "list"}).out, "no active silences"));

  // alert test: directly to every chat, success reported per chat.
  auto test = cli(cfg, {"alert", "test"});
  BOOST_TEST(test.exitCode == 0, test.out << test.err);
  BOOST_TEST(contains(test.out, "chat 42: sent"));
  BOOST_TEST(contains(fake.requests().back().text, "Test message"));
  fake.script({FakeTelegram::Reply::ChatNotFound});
  test = cli(cfg, {"alert", "test"});
  BOOST_TEST(test.exitCode == 70);
  BOOST_TEST(contains(test.out, "chat 42: FAILED: HTTP 400: Bad Request: chat not found"));

  auto status = cli(cfg, {"status"});
  BOOST_TEST(contains(status.out, "alerts: 2 firing"));
  BOOST_TEST(contains(status.out, "critical host process mxpulse-absent-two"));
  auto help = cli(cfg, {"--help"});
  BOOST_TEST(contains(help.out, "silence add CHECK_OR_TARGET --for DURATION"));
  BOOST_TEST(contains(help.out, "alert test"));
}

BOOST_AUTO_TEST_CASE(the_daemon_evaluates_rules_after_runs) {
  TempDir dir;
  mkdir(dir.file("tf").c_str(), 0755);
  FakeTelegram fake(kToken);
  std::string cfg = dir.file("agent.yaml");
  writeFile(
      cfg,
      config(fake.baseUrl(), "1s", "mxpulse-absent-one",
             "  rules:\n"
             "    - name: host_down\n"
             "      every: 1s\n"
             "      query: >\n"
             "        SELECT target AS process, 'process ' || target || ' is down' AS summary\n"
             "        FROM v_latest WHERE job = 'host' AND status = 'critical'\n"));
  Child agent({binary(), "--config", cfg, "run"}, dir.file("agent.log"),
              {{"MXPULSE_TEST_TG_TOKEN", kToken}});
  BOOST_TEST(eventually(
      [&] {
        for (const auto& r : fake.requests())
          if (contains(r.text, "rule:host_down") &&
              contains(r.text, "process mxpulse-absent-one is down"))
            return true;
        return false;
      },
      seconds(30)));
  agent.signal(SIGTERM);
  BOOST_TEST(agent.wait(seconds(30)) == 0);
}

BOOST_AUTO_TEST_CASE(check_config_rejects_bad_rules_with_reasons) {
  TempDir dir;
  mkdir(dir.file("tf").c_str(), 0755);
  std::string cfg = dir.file("agent.yaml");
  writeFile(cfg, config("http://127.0.0.1:9", "1h", "init",
                        "  rules:\n"
                        "    - {name: fine, query: \"SELECT target FROM v_latest WHERE status = "
                        "'critical'\"}\n"
                        "    - {name: writes, query: \"DELETE FROM latest\"}\n"
                        "    - {name: typo, query: \"SELECT * FROM v_lates\"}\n"));
  auto r = cli(cfg, {"check-config"});
  BOOST_TEST(r.exitCode == 78, r.out << r.err);
  BOOST_TEST(contains(r.err, "alerts.rules(writes)"));
  BOOST_TEST(contains(r.err, "read-only"));
  BOOST_TEST(contains(r.err, "alerts.rules(typo)"));
  BOOST_TEST(contains(r.err, "no such table: v_lates"));
  BOOST_TEST(!contains(r.err, "alerts.rules(fine)"));

  writeFile(cfg, config("http://127.0.0.1:9", "1h", "init",
                        "  rules:\n"
                        "    - {name: fine, query: \"SELECT target FROM v_latest\"}\n"));
  r = cli(cfg, {"check-config"});
  BOOST_TEST(r.exitCode == 0, r.out << r.err);
  BOOST_TEST(contains(r.out, "1 alert rules, 1 Telegram chats"));
}

BOOST_AUTO_TEST_SUITE_END()
