// SPDX-License-Identifier: Apache-2.0
#include <boost/test/unit_test.hpp>

#include "agent/report.hpp"

using namespace mxpulse;

BOOST_AUTO_TEST_SUITE(report)

BOOST_AUTO_TEST_CASE(exit_code_follows_the_plugin_convention) {
  auto line = [](Status s) {
    ReportLine l;
    l.status = s;
    return l;
  };
  BOOST_TEST(exitCodeFor({}) == 0);
  BOOST_TEST(exitCodeFor({line(Status::Ok)}) == 0);
  BOOST_TEST(exitCodeFor({line(Status::Ok), line(Status::Unknown)}) == 3);
  BOOST_TEST(exitCodeFor({line(Status::Unknown), line(Status::Warning)}) == 1);
  BOOST_TEST(exitCodeFor({line(Status::Warning), line(Status::Critical), line(Status::Unknown)}) == 2);
}

BOOST_AUTO_TEST_CASE(json_lines_carry_the_contract_fields) {
  RunRecord run;
  run.job = "host";
  run.kind = "host";
  run.startedAt = 1795219200;
  CheckResult r("disk_free", "/", Status::Warning, "/ has 10% free");
  r.facts.set("free_percent", 10.5);
  run.output.results.push_back(r);
  auto lines = reportLines(run);
  BOOST_REQUIRE(lines.size() == 1u);
  BOOST_TEST(formatJsonLine(lines[0]) ==
             R"({"job":"host","kind":"host","check":"disk_free","target":"/","status":"warning",)"
             R"("summary":"/ has 10% free","facts":{"free_percent":10.5},)"
             R"("observed_at":"2026-11-21T00:00:00Z"})");
  BOOST_TEST(formatTextLine(lines[0]) == "WARNING  host/disk_free /: / has 10% free");
}

BOOST_AUTO_TEST_SUITE_END()
