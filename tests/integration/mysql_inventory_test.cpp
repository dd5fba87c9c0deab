// SPDX-License-Identifier: Apache-2.0
// SQL-driven inventory from a real MariaDB (started by scripts/test.sh):
// read-only, checked by check-config --online, last good list on failure.
#include <boost/test/unit_test.hpp>
#include <sys/stat.h>

#include "tests/support/test_support.hpp"

using namespace mxpulse::test;

namespace {
struct MariaDb {
  std::string host = env("MXPULSE_TEST_MYSQL_HOST"), port = env("MXPULSE_TEST_MYSQL_PORT");
  std::string socket = env("MXPULSE_TEST_MYSQL_SOCKET"), user = env("MXPULSE_TEST_MYSQL_USER");
  std::string password = env("MXPULSE_TEST_MYSQL_PASSWORD");
  MariaDb() {
    skipUnless(!port.empty(), "no MariaDB (MXPULSE_TEST_MYSQL_* unset; scripts/test.sh starts one)");
  }
  ProcessResult sql(const std::string& statements) {
    return runProcess({findProgram("mariadb").empty() ? "mysql" : "mariadb", "--no-defaults",
                       "-h", host, "-P", port, "--protocol=TCP", "-u", user, "-p" + password, "-e",
                       statements});
  }
};

std::string configFor(const MariaDb& db, const std::string& port, const std::string& query) {
  return "agent: {state_db: state.db, textfile: ''}\n"
         "connections:\n"
         "  mailwizz: {driver: mysql, host: " + db.host + ", port: " + port + ", user: " + db.user +
         ", password: \"${MXPULSE_TEST_MYSQL_PASSWORD}\", database: mxpulse_test_inv, timeout: 3s}\n"
         "inventories:\n"
         "  servers:\n"
         "    kind: delivery_servers\n"
         "    connection: mailwizz\n"
         "    query: \"" + query + "\"\n"
         "jobs:\n  - {name: host, kind: host, every: 1m, params: {disks: [/]}}\n";
}

const char* kQuery =
    "SELECT server_id, hostname, name, SUBSTRING_INDEX(name, ' ', 1) AS ip "
    "FROM mw_delivery_server WHERE status IN ('active', 'in-use')";
}  // namespace

BOOST_AUTO_TEST_SUITE(mysql_inventory)

BOOST_AUTO_TEST_CASE(active_delivery_servers_become_the_inventory) {
  MariaDb db;
  auto r = db.sql(
      "DROP DATABASE IF EXISTS mxpulse_test_inv; CREATE DATABASE mxpulse_test_inv;"
      "USE mxpulse_test_inv;"
      "CREATE TABLE mw_delivery_server (server_id INT AUTO_INCREMENT PRIMARY KEY,"
      " hostname VARCHAR(255) NOT NULL, name VARCHAR(255), status CHAR(15) NOT NULL DEFAULT 'inactive');"
      "INSERT INTO mw_delivery_server (hostname, name, status) VALUES"
      " ('pmta1.example.com', '203.0.113.7 vmta1', 'active'),"
      " ('pmta1.example.com', '203.0.113.8 vmta2', 'in-use'),"
      " ('pmta2.example.com', '203.0.113.9 old', 'disabled');");
  BOOST_REQUIRE_MESSAGE(r.exitCode == 0, r.err);
  TempDir dir;
  std::string cfg = dir.file("agent.yaml");
  writeFile(cfg, configFor(db, db.port, kQuery));
  r = runProcess({binary(), "--config", cfg, "check-config", "--online"});
  BOOST_TEST(r.exitCode == 0, r.err);
  BOOST_REQUIRE(runProcess({binary(), "--config", cfg, "once"}).exitCode != 70);  // creates the DB
  r = runProcess({binary(), "--config", cfg, "inventory"});
  BOOST_TEST(r.exitCode == 0, r.err);
  BOOST_TEST(r.out.find("inventory servers (delivery_servers, SQL on mailwizz): 2 items") !=
                 std::string::npos,
             r.out);
  BOOST_TEST(r.out.find("ip=203.0.113.8") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("203.0.113.9") == std::string::npos, r.out);

  // The server goes away: the last good list is used and the failure said.
  writeFile(cfg, configFor(db, std::to_string(freePort()), kQuery));
  r = runProcess({binary(), "--config", cfg, "inventory"});
  BOOST_TEST(r.out.find("2 items (SOURCE FAILED: cannot connect to MySQL") != std::string::npos,
             r.out);
  BOOST_TEST(r.out.find("password") == std::string::npos, "secret leaked: " << r.out);
  BOOST_TEST(r.out.find(db.password) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(bad_and_writing_queries_are_refused) {
  MariaDb db;
  TempDir dir;
  std::string cfg = dir.file("agent.yaml");
  writeFile(cfg, configFor(db, db.port, "SELECT server_id FROM no_such_table"));
  auto r = runProcess({binary(), "--config", cfg, "check-config", "--online"});
  BOOST_TEST(r.exitCode == 78);
  BOOST_TEST(r.err.find("inventories.servers.query") != std::string::npos, r.err);
  BOOST_TEST(r.err.find("no_such_table") != std::string::npos, r.err);
  // Offline check-config does not connect, so it passes the same file.
  BOOST_TEST(runProcess({binary(), "--config", cfg, "check-config"}).exitCode == 0);

  writeFile(cfg, configFor(db, db.port, "UPDATE mw_delivery_server SET status = 'x'"));
  r = runProcess({binary(), "--config", cfg, "check-config"});
  BOOST_TEST(r.exitCode == 78);
  BOOST_TEST(r.err.find("must be a single SELECT") != std::string::npos, r.err);

}

BOOST_AUTO_TEST_CASE(slow_queries_are_cut_by_the_deadline) {
  MariaDb db;
  TempDir dir;
  std::string cfg = dir.file("agent.yaml");
  writeFile(cfg, configFor(db, db.port, "SELECT SLEEP(30) AS server_id"));
  auto start = std::chrono::steady_clock::now();
  auto r = runProcess({binary(), "--config", cfg, "inventory"});
  // The server stops the statement (max_statement_time) or the client gives
  // up (read timeout): either way the agent answers long before SLEEP(30).
  BOOST_TEST(r.exitCode == 0, r.err);
  BOOST_TEST((std::chrono::steady_clock::now() - start < std::chrono::seconds(25)));
}

BOOST_AUTO_TEST_SUITE_END()
