// SPDX-License-Identifier: Apache-2.0
// The state DB survives kill -9 at any moment, and the textfile is never
// seen half-written.
#include <boost/test/unit_test.hpp>
#include <signal.h>
#include <sys/stat.h>

#include <random>
#include <thread>

#include "agent/store/sqlite_db.hpp"
#include "tests/support/test_support.hpp"

using namespace mxpulse;
using namespace mxpulse::test;
using namespace std::chrono;

BOOST_AUTO_TEST_SUITE(durability)

BOOST_AUTO_TEST_CASE(kill_9_during_runs_loses_nothing_committed) {
  TempDir dir;
  mkdir(dir.file("tf").c_str(), 0755);
  std::string cfg = dir.file("agent.yaml");
  // Several jobs every second with several results each: plenty of commits
  // in flight when the kill lands.
  std::string jobs;
  for (int i = 0; i < 4; ++i)
    jobs += "  - {name: j" + std::to_string(i) +
            ", kind: host, every: 1s, params: {disks: [/, /tmp], processes: [a, b, c]}}\n";
  writeFile(cfg, "agent: {state_db: state.db, textfile: tf/m.prom, max_splay: 0s}\njobs:\n" + jobs);
  std::mt19937 rng(42);  // fixed seed: the same kill points every run
  std::uniform_int_distribution<int> delay(300, 1500);
  long long previousRuns = 0;
  for (int round = 0; round < 8; ++round) {
    {
      Child agent({binary(), "--config", cfg, "run"}, dir.file("agent.log"));
      std::this_thread::sleep_for(milliseconds(delay(rng)));
      agent.signal(SIGKILL);
      BOOST_TEST(agent.wait(seconds(10)) == -2);
    }
    // Whatever was committed is there, and the file is intact.
    SqliteDb db;
    std::string error;
    BOOST_REQUIRE_MESSAGE(db.open(dir.file("state.db"), SqliteDb::Mode::ReadWriteCreate, error),
                          error);
    auto check = db.prepare("PRAGMA integrity_check", error);
    BOOST_REQUIRE(check.step() == SQLITE_ROW);
    BOOST_TEST(check.text(0) == "ok");
    auto runs = db.prepare("SELECT count(*) FROM runs", error);
    BOOST_REQUIRE(runs.step() == SQLITE_ROW);
    BOOST_TEST(runs.int64(0) >= previousRuns, "runs went backwards after a kill");
    previousRuns = runs.int64(0);
    // Every run has all of its results (one transaction per run).
    auto partial = db.prepare(
        "SELECT count(*) FROM runs r WHERE (SELECT count(*) FROM results x WHERE x.run_id = r.id)"
        " <> 7",
        error);
    BOOST_REQUIRE(partial.step() == SQLITE_ROW);
    BOOST_TEST(partial.int64(0) == 0);
    // The textfile is complete whenever it exists: it ends with a newline
    // and no temp file is visible to node_exporter (*.prom).
    std::string prom = readFile(dir.file("tf/m.prom"));
    if (!prom.empty()) BOOST_TEST(prom.back() == '\n');
    auto ls = runProcess({"/bin/sh", "-c", "ls " + dir.file("tf") + "/*.prom"});
    BOOST_TEST(ls.out == dir.file("tf/m.prom") + "\n");
  }
  BOOST_TEST(previousRuns > 0);
  // And the agent starts normally on the survivor.
  auto r = runProcess({binary(), "--config", cfg, "status"});
  BOOST_TEST(r.exitCode == 0, r.err);
}

BOOST_AUTO_TEST_SUITE_END()
