// SPDX-License-Identifier: Apache-2.0
// The warmup job and `mxpulse ip ...` through the real binary, against the
// shared test MariaDB: once, ip list/set/history/plan, the textfile.
#include <sys/stat.h>
#include <unistd.h>
#include <boost/test/unit_test.hpp>

#include <fstream>

#include "probes/mysql_session.hpp"
#include "tests/support/test_support.hpp"

using namespace mxpulse;
using namespace std::chrono_literals;

namespace {

struct Setup {
  test::TempDir dir;
  probes::MysqlParams mysql;
  std::string db;
  std::string config = dir.file("agent.yaml");
  std::map<std::string, std::string> env;

  Setup() {
    std::string port = test::env("MXPULSE_TEST_MYSQL_PORT");
    test::skipUnless(!port.empty(),
                     "no MariaDB (MXPULSE_TEST_MYSQL_* unset; scripts/test.sh starts one)");
    mysql.host = test::env("MXPULSE_TEST_MYSQL_HOST");
    mysql.port = std::stoi(port);
    mysql.user = test::env("MXPULSE_TEST_MYSQL_USER");
    mysql.password = test::env("MXPULSE_TEST_MYSQL_PASSWORD");
    db = "mxpulse_test_warmup_cli_" + std::to_string(getpid());
    exec("DROP DATABASE IF EXISTS " + db, false);
    exec("CREATE DATABASE " + db, false);
    std::string schema = test::readFile(test::sourceDir() + "/tests/data/mailwizz_schema.sql");
    std::string stmt;
    for (size_t i = 0; i < schema.size(); ++i) {
      if (schema.compare(i, 2, "--") == 0) {
        while (i < schema.size() && schema[i] != '\n') ++i;
      } else if (schema[i] == ';') {
        exec(stmt);
        stmt.clear();
      } else {
        stmt += schema[i];
      }
    }
    exec(
        "INSERT INTO mw_delivery_server (server_id, hostname, status, hourly_quota, daily_quota, "
        "date_added, last_updated) VALUES (7, 'mta7.example.com', 'active', 0, 0, "
        "UTC_TIMESTAMP(), UTC_TIMESTAMP()), (8, 'mta8.example.com', 'active', 0, 0, "
        "UTC_TIMESTAMP(), UTC_TIMESTAMP())");
    mkdir(dir.file("textfile").c_str(), 0755);
    std::ofstream(dir.file("acct.csv"))
        << "type,timeLogged,dlvSourceIp,bounceCat\nd,2026-01-01 00:00:00+0000,192.0.2.7,\n";
    test::writeFile(config,
                    "agent: {state_db: state.db, textfile: textfile/mxpulse.prom}\n"
                    "jobs:\n"
                    "  - name: warmup\n"
                    "    kind: warmup\n"
                    "    every: 5m\n"
                    "    params:\n"
                    "      servers:\n"
                    "        - {ip: 192.0.2.7, server_id: 7, initial_state: active}\n"
                    "        - {ip: 192.0.2.8, server_id: 8, initial_state: standby}\n"
                    "      active_quota: {daily: 20000, hourly: 2500}\n"
                    "      accounting: {files: [\"" +
                        dir.path() +
                        "/acct*.csv\"]}\n"
                        "      mailwizz:\n"
                        "        host: " +
                        mysql.host + "\n        port: " + std::to_string(mysql.port) +
                        "\n        user: " + mysql.user +
                        "\n        password: ${WARMUP_TEST_PASSWORD}\n        database: " + db +
                        "\n");
    env["WARMUP_TEST_PASSWORD"] = mysql.password;
    env["USER"] = "alice";
    env["SUDO_USER"] = "";
  }
  ~Setup() { exec("DROP DATABASE IF EXISTS " + db, false); }

  void exec(const std::string& sql, bool inDb = true) {
    probes::MysqlParams p = mysql;
    if (inDb) p.database = db;
    probes::MysqlSession s;
    std::string error;
    if (!s.connect(p, Deadline::in(10s), error) || !s.exec(sql, error) || !s.commit(error))
      BOOST_FAIL(sql << ": " << error);
  }
  std::string value(const std::string& sql) {
    probes::MysqlParams p = mysql;
    p.database = db;
    probes::MysqlSession s;
    std::string error;
    BOOST_REQUIRE(s.connect(p, Deadline::in(10s), error));
    auto rows = s.query(sql);
    BOOST_REQUIRE(rows.ok && rows.rows.size() == 1 && rows.rows[0][0]);
    return *rows.rows[0][0];
  }
  test::ProcessResult run(std::vector<std::string> args) {
    args.insert(args.begin(), {MXPULSE_BINARY, "--config", config});
    return test::runProcess(args, env, 60s);
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(warmup_cli)

BOOST_AUTO_TEST_CASE(once_ip_commands_and_metrics) {
  Setup s;
  auto r = s.run({"check-config"});
  BOOST_TEST(r.exitCode == 0, r.err);

  r = s.run({"once", "warmup"});
  BOOST_TEST(r.exitCode == 1, r.out << r.err);  // warnings: the first transitions
  BOOST_TEST(r.out.find("192.0.2.7 ACTIVE since") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("daily_quota unlimited -> 20,000") != std::string::npos, r.out);
  BOOST_TEST(s.value("SELECT daily_quota FROM mw_delivery_server WHERE server_id = 7") == "20000");
  BOOST_TEST(s.value("SELECT status FROM mw_delivery_server WHERE server_id = 8") == "inactive");
  std::string prom = test::readFile(s.dir.file("textfile/mxpulse.prom"));
  BOOST_TEST(
      prom.find("mxpulse_warmup_ip_state{job=\"warmup\",ip=\"192.0.2.7\",state=\"ACTIVE\"} 1") !=
          std::string::npos,
      prom);
  BOOST_TEST(
      prom.find("mxpulse_warmup_ip_state{job=\"warmup\",ip=\"192.0.2.8\",state=\"ACTIVE\"} 0") !=
      std::string::npos);
  BOOST_TEST(prom.find("mxpulse_warmup_applied_quota_messages{job=\"warmup\",ip=\"192.0.2.7\","
                       "period=\"daily\"} 20000") != std::string::npos);
  BOOST_TEST(prom.find("mxpulse_warmup_mailwizz_up{job=\"warmup\"} 1") != std::string::npos);
  if (test::fileExists("/usr/bin/promtool")) {
    auto lint = test::runProcess(
        {"/bin/sh", "-c",
         "promtool check metrics < '" + s.dir.file("textfile/mxpulse.prom") + "'"});
    BOOST_TEST(lint.exitCode == 0, lint.out << lint.err);
  }

  r = s.run({"ip", "list", "--json"});
  BOOST_TEST(r.exitCode == 0, r.err);
  BOOST_TEST(r.out.find("\"ip\":\"192.0.2.7\",\"state\":\"ACTIVE\"") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("\"ip\":\"192.0.2.8\",\"state\":\"STANDBY\"") != std::string::npos, r.out);

  // The operator quarantines .7 by hand.
  BOOST_TEST(s.run({"ip", "set", "192.0.2.7", "quarantine"}).exitCode == 64);  // no --reason
  BOOST_TEST(s.run({"ip", "set", "192.0.2.7", "frozen", "--reason", "x"}).exitCode == 64);
  r = s.run({"ip", "set", "192.0.2.7", "quarantine", "--reason", "complaints at Gmail"});
  BOOST_TEST(r.exitCode == 0, r.err);
  BOOST_TEST(r.out.find("ACTIVE -> QUARANTINE (operator alice)") != std::string::npos, r.out);

  // The plan shows what the next run would do, and writes nothing.
  r = s.run({"ip", "plan"});
  BOOST_TEST(r.out.find("would set status 'active' -> 'inactive' on server 7") != std::string::npos,
             r.out);
  BOOST_TEST(r.out.find("192.0.2.8 STANDBY -> ACTIVE") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("nothing was written") != std::string::npos);
  BOOST_TEST(s.value("SELECT status FROM mw_delivery_server WHERE server_id = 7") == "active");
  r = s.run({"ip", "list"});
  BOOST_TEST(r.out.find("STANDBY") != std::string::npos, r.out);

  r = s.run({"once", "warmup"});
  BOOST_TEST(r.exitCode == 2, r.out);  // the quarantine is critical
  BOOST_TEST(s.value("SELECT status FROM mw_delivery_server WHERE server_id = 7") == "inactive");
  BOOST_TEST(s.value("SELECT status FROM mw_delivery_server WHERE server_id = 8") == "active");
  BOOST_TEST(s.value("SELECT daily_quota FROM mw_delivery_server WHERE server_id = 8") == "20000");

  r = s.run({"ip", "history", "192.0.2.7"});
  BOOST_TEST(r.out.find("ACTIVE     -> QUARANTINE operator alice: complaints at Gmail") !=
                 std::string::npos,
             r.out);
  r = s.run({"ip", "history", "192.0.2.8", "--json"});
  BOOST_TEST(r.out.find("\"cause\":\"standby\"") != std::string::npos, r.out);

  r = test::runProcess({MXPULSE_BINARY, "--help"});
  BOOST_TEST(r.out.find("ip list") != std::string::npos);
  r = s.run({"ip", "--help"});
  BOOST_TEST(r.exitCode == 0);
  BOOST_TEST(r.out.find("ip plan [JOB...]") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
