// SPDX-License-Identifier: Apache-2.0
#include <boost/test/unit_test.hpp>
#include <sys/stat.h>

#include "agent/output/textfile.hpp"
#include "tests/support/test_support.hpp"

using namespace mxpulse;

BOOST_AUTO_TEST_SUITE(textfile)

BOOST_AUTO_TEST_CASE(renders_framework_series_per_job_and_check) {
  JobStatusRow j;
  j.job = "host";
  j.kind = "host";
  j.lastRunAt = 1795219200;
  j.lastDurationMs = 1500;
  j.lastSuccess = true;
  j.lastStatus = Status::Critical;
  j.runsTotal = 3;
  j.overrunsTotal = 1;
  LatestRow r;
  r.job = "host";
  r.check = "process";
  r.target = "pm\"ta";
  r.status = Status::Critical;
  StoredSample s{"host", "mxpulse_host_processes", "Processes.", "gauge", "job=\"host\",name=\"x\"", 0};
  std::string text = renderTextfile({j}, {r}, {s}, AgentGauges{"1.2.3", true, 1795219000, 0});
  for (const char* want :
       {"mxpulse_job_success{job=\"host\",kind=\"host\"} 1\n",
        "mxpulse_job_duration_seconds{job=\"host\",kind=\"host\"} 1.5\n",
        "mxpulse_job_last_run_timestamp_seconds{job=\"host\",kind=\"host\"} 1795219200\n",
        "mxpulse_job_overruns_total{job=\"host\",kind=\"host\"} 1\n",
        "# TYPE mxpulse_job_overruns_total counter\n",
        "mxpulse_check_status{job=\"host\",check=\"process\",target=\"pm\\\"ta\"} 2\n",
        "mxpulse_host_processes{job=\"host\",name=\"x\"} 0\n",
        "mxpulse_build_info{version=\"1.2.3\"} 1\n", "mxpulse_config_last_reload_successful 1\n"})
    BOOST_TEST(text.find(want) != std::string::npos, "missing: " << want << "\nin:\n" << text);
}

BOOST_AUTO_TEST_CASE(a_job_that_never_ran_has_no_stale_success_series) {
  JobStatusRow j;
  j.job = "x";
  j.kind = "host";
  j.overrunsTotal = 2;  // only overruns so far
  std::string text = renderTextfile({j}, {}, {}, AgentGauges{});
  BOOST_TEST(text.find("mxpulse_job_success{") == std::string::npos);
  BOOST_TEST(text.find("mxpulse_job_overruns_total{job=\"x\",kind=\"host\"} 2") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(atomic_write_replaces_the_file_and_leaves_no_temp) {
  test::TempDir dir;
  std::string path = dir.file("mxpulse.prom"), error;
  BOOST_TEST(writeFileAtomically(path, "a 1\n", error));
  BOOST_TEST(writeFileAtomically(path, "a 2\n", error));
  BOOST_TEST(test::readFile(path) == "a 2\n");
  auto r = test::runProcess({"ls", "-A", dir.path()});
  BOOST_TEST(r.out == "mxpulse.prom\n");
}

BOOST_AUTO_TEST_CASE(missing_or_read_only_directory_gives_a_clear_error) {
  test::TempDir dir;
  std::string error;
  BOOST_TEST(!writeFileAtomically(dir.file("nope/x.prom"), "a 1\n", error));
  BOOST_TEST(error.find("create the directory") != std::string::npos, error);
  if (geteuid() != 0) {  // root ignores directory permissions
    mkdir(dir.file("ro").c_str(), 0555);
    BOOST_TEST(!writeFileAtomically(dir.file("ro/x.prom"), "a 1\n", error));
    BOOST_TEST(error.find("writable") != std::string::npos, error);
  }
}

BOOST_AUTO_TEST_CASE(failed_rename_leaves_no_temp_file) {
  // A directory where the target should be makes the final rename fail.
  test::TempDir dir;
  std::string error;
  BOOST_TEST(writeFileAtomically(dir.file("x.prom"), "old 1\n", error));
  mkdir(dir.file("y.prom").c_str(), 0755);
  BOOST_TEST(!writeFileAtomically(dir.file("y.prom"), "new 1\n", error));
  BOOST_TEST(error.find("rename") != std::string::npos, error);
  auto r = test::runProcess({"ls", "-A", dir.path()});
  BOOST_TEST(r.out == "x.prom\ny.prom\n");  // no temp file left behind
}

BOOST_AUTO_TEST_SUITE_END()
