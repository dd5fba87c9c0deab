// SPDX-License-Identifier: Apache-2.0
#include <boost/test/unit_test.hpp>

#include "agent/inventory.hpp"
#include "agent/store/state_store.hpp"
#include "tests/support/test_support.hpp"

using namespace mxpulse;

namespace {
probes::SqlRows rows(std::vector<std::string> cols,
                     std::vector<std::vector<std::optional<std::string>>> data) {
  probes::SqlRows r;
  r.ok = true;
  r.columns = std::move(cols);
  r.rows = std::move(data);
  return r;
}

AgentConfig configWithQuery(const std::string& dbPath, const std::string& query) {
  AgentConfig c;
  c.agent.stateDb = dbPath;
  ConnectionConfig conn;
  conn.name = "src";
  conn.driver = SqlDriver::Sqlite;
  conn.path = dbPath;
  c.connections["src"] = conn;
  InventoryConfig inv;
  inv.name = "doms";
  inv.kind = InventoryKind::Domains;
  inv.connection = "src";
  inv.query = query;
  c.inventories["doms"] = inv;
  return c;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(inventory)

BOOST_AUTO_TEST_CASE(rows_become_items_and_merge_by_key) {
  std::vector<InventoryItem> items;
  std::string error;
  BOOST_REQUIRE(rowsToItems(rows({"domain", "ips", "dkim_selectors"},
                                 {{"example.com", "203.0.113.7, 203.0.113.8", "s1"},
                                  {"example.com", "2001:db8::1", std::nullopt},
                                  {std::nullopt, "1.2.3.4", "x"},
                                  {"example.org", std::nullopt, "a b"}}),
                            InventoryKind::Domains, items, error));
  BOOST_REQUIRE(items.size() == 2u);
  BOOST_TEST(items[0].all("ips").size() == 3u);
  BOOST_TEST(items[1].all("dkim_selectors").size() == 2u);
  BOOST_TEST(items[1].all("ips").empty());
}

BOOST_AUTO_TEST_CASE(unknown_columns_and_missing_key_are_errors) {
  std::vector<InventoryItem> items;
  std::string error;
  BOOST_TEST(!rowsToItems(rows({"domain", "colour"}, {}), InventoryKind::Domains, items, error));
  BOOST_TEST(error.find("column 'colour' is not a field of domains") != std::string::npos, error);
  BOOST_TEST(!rowsToItems(rows({"helo"}, {}), InventoryKind::Ips, items, error));
  BOOST_TEST(error.find("must return a column named 'ip'") != std::string::npos, error);
}

BOOST_AUTO_TEST_CASE(sql_source_falls_back_to_the_last_good_list) {
  test::TempDir dir;
  std::string db = dir.file("src.db"), error;
  {
    SqliteDb w;
    BOOST_REQUIRE(w.open(db, SqliteDb::Mode::ReadWriteCreate, error));
    BOOST_REQUIRE(w.exec("CREATE TABLE d (name TEXT, ip TEXT);"
                         "INSERT INTO d VALUES ('example.com','203.0.113.7');",
                         error));
  }
  StateStore state;
  BOOST_REQUIRE(state.open(dir.file("state.db"), error));
  AgentConfig config = configWithQuery(db, "SELECT name AS domain, ip AS ips FROM d");
  {
    InventoryService svc(config);
    svc.attachCache(dir.file("state.db"));
    auto snap = svc.snapshot("doms", Deadline::in(std::chrono::seconds(5)), 1000);
    BOOST_TEST(snap.error.empty(), snap.error);
    BOOST_REQUIRE(snap.items.size() == 1u);
    BOOST_TEST(snap.items[0].first("ips") == "203.0.113.7");
  }
  {
    SqliteDb w;
    BOOST_REQUIRE(w.open(db, SqliteDb::Mode::ReadWriteCreate, error));
    BOOST_REQUIRE(w.exec("DROP TABLE d", error));
  }
  // A new service (as after a restart) still has the list, from the cache.
  InventoryService svc(config);
  svc.attachCache(dir.file("state.db"));
  auto snap = svc.snapshot("doms", Deadline::in(std::chrono::seconds(5)), 2000);
  BOOST_TEST(snap.error.find("no such table: d") != std::string::npos, snap.error);
  BOOST_REQUIRE(snap.items.size() == 1u);
  BOOST_TEST(snap.fetchedAt == 1000);
}

BOOST_AUTO_TEST_CASE(sql_source_is_read_only_and_time_bounded) {
  test::TempDir dir;
  std::string db = dir.file("src.db"), error;
  {
    SqliteDb w;
    BOOST_REQUIRE(w.open(db, SqliteDb::Mode::ReadWriteCreate, error));
    BOOST_REQUIRE(w.exec("CREATE TABLE d (domain TEXT)", error));
  }
  AgentConfig writes = configWithQuery(db, "INSERT INTO d VALUES ('x') RETURNING domain");
  InventoryService svc(writes);
  auto snap = svc.snapshot("doms", Deadline::in(std::chrono::seconds(5)), 1);
  BOOST_TEST(snap.error.find("read-only") != std::string::npos, snap.error);
  // A query that would run for minutes is cut at the deadline.
  AgentConfig slow = configWithQuery(
      db,
      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) "
      "SELECT 'd' || x AS domain FROM c WHERE x < 0");
  InventoryService svc2(slow);
  auto start = std::chrono::steady_clock::now();
  auto snap2 = svc2.snapshot("doms", Deadline::in(std::chrono::milliseconds(300)), 1);
  BOOST_TEST(snap2.error == "query timed out");
  BOOST_TEST((std::chrono::steady_clock::now() - start < std::chrono::seconds(10)));
}

BOOST_AUTO_TEST_CASE(check_queries_prepares_sqlite_queries) {
  test::TempDir dir;
  std::string db = dir.file("src.db"), error;
  {
    SqliteDb w;
    BOOST_REQUIRE(w.open(db, SqliteDb::Mode::ReadWriteCreate, error));
    BOOST_REQUIRE(w.exec("CREATE TABLE d (domain TEXT)", error));
  }
  InventoryService good(configWithQuery(db, "SELECT domain FROM d"));
  BOOST_TEST(good.checkQueries(false).empty());
  InventoryService bad(configWithQuery(db, "SELECT domian FROM d"));
  auto problems = bad.checkQueries(false);
  BOOST_REQUIRE(problems.size() == 1u);
  BOOST_TEST(problems[0].find("no such column: domian") != std::string::npos, problems[0]);
}

BOOST_AUTO_TEST_SUITE_END()
