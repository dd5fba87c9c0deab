// SPDX-License-Identifier: Apache-2.0
// A real prometheus-node-exporter serves what we write.
#include <boost/test/unit_test.hpp>
#include <sys/stat.h>

#include "tests/support/test_support.hpp"

using namespace mxpulse::test;
using namespace std::chrono;

BOOST_AUTO_TEST_SUITE(node_exporter)

BOOST_AUTO_TEST_CASE(textfile_collector_serves_our_series) {
  std::string exporter = findProgram("prometheus-node-exporter");
  if (exporter.empty()) exporter = findProgram("node_exporter");
  skipUnless(!exporter.empty(), "prometheus-node-exporter not installed");
  TempDir dir;
  mkdir(dir.file("tf").c_str(), 0755);
  writeFile(dir.file("agent.yaml"),
            "agent: {state_db: state.db, textfile: tf/mxpulse.prom}\njobs:\n"
            "  - {name: host, kind: host, every: 1m, params: {disks: [/], processes: [nope-zz]}}\n");
  auto once = runProcess({binary(), "--config", dir.file("agent.yaml"), "once"});
  BOOST_REQUIRE(once.exitCode == 2);
  int port = freePort();
  Child ne({exporter, "--web.listen-address=127.0.0.1:" + std::to_string(port),
            "--collector.disable-defaults", "--collector.textfile",
            "--collector.textfile.directory=" + dir.file("tf")},
           dir.file("ne.log"));
  std::string body;
  int status = 0;
  BOOST_REQUIRE(eventually([&] {
    body = httpGet(port, "/metrics", &status);
    return status == 200;
  }, seconds(20)));
  BOOST_TEST(body.find("node_textfile_scrape_error 0") != std::string::npos, body);
  BOOST_TEST(body.find("mxpulse_check_status{check=\"process\",job=\"host\",target=\"nope-zz\"} 2") !=
                 std::string::npos,
             body);
  BOOST_TEST(body.find("mxpulse_job_success{job=\"host\",kind=\"host\"} 1") != std::string::npos);
  BOOST_TEST(body.find("node_textfile_mtime_seconds{file=") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
