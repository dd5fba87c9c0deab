// SPDX-License-Identifier: Apache-2.0
// The command-line contract, driven through the real binary.
#include <boost/test/unit_test.hpp>
#include <sys/stat.h>

#include "tests/support/test_support.hpp"

using namespace mxpulse::test;

namespace {
struct Agent {
  TempDir dir;
  std::string config = dir.file("agent.yaml");
  Agent(const std::string& jobs = "  - {name: host, kind: host, every: 1m, params: {disks: [/], "
                                  "processes: [mxpulse-no-such-process]}}\n") {
    mkdir(dir.file("textfile").c_str(), 0755);
    writeFile(config, "agent: {state_db: state.db, textfile: textfile/mxpulse.prom}\njobs:\n" + jobs);
  }
  ProcessResult run(std::vector<std::string> args) {
    args.insert(args.begin(), {binary(), "--config", config});
    return runProcess(args);
  }
};
}  // namespace

BOOST_AUTO_TEST_SUITE(cli)

BOOST_AUTO_TEST_CASE(help_lists_every_command_and_bad_usage_exits_64) {
  auto r = runProcess({binary(), "--help"});
  BOOST_TEST(r.exitCode == 0);
  for (const char* cmd : {"run", "once [JOB...]", "check-config", "status", "inventory", "check NAME"})
    BOOST_TEST(r.out.find(cmd) != std::string::npos, cmd);
  BOOST_TEST(runProcess({binary(), "frobnicate"}).exitCode == 64);
  BOOST_TEST(runProcess({binary(), "--bogus"}).exitCode == 64);
  BOOST_TEST(runProcess({binary()}).exitCode == 64);
}

BOOST_AUTO_TEST_CASE(check_config_exits_0_or_78_with_every_error) {
  Agent ok;
  auto r = ok.run({"check-config"});
  BOOST_TEST(r.exitCode == 0, r.err);
  BOOST_TEST(r.out.find("OK (1 jobs") != std::string::npos, r.out);

  Agent bad("  - {name: a, kind: host, every: 5 minutes}\n  - {name: a, kind: hots, every: 1m}\n");
  r = bad.run({"check-config"});
  BOOST_TEST(r.exitCode == 78);
  BOOST_TEST(r.err.find(bad.config + ":3:34: jobs[0](a).every: bad duration") != std::string::npos,
             r.err);
  BOOST_TEST(r.err.find("duplicate job name") != std::string::npos, r.err);
  BOOST_TEST(r.err.find("unknown job kind 'hots'") != std::string::npos, r.err);
  BOOST_TEST(r.err.find("3 error(s)") != std::string::npos, r.err);
}

BOOST_AUTO_TEST_CASE(bad_config_files_get_one_clear_message) {
  TempDir dir;
  writeFile(dir.file("list.yaml"), "- jobs\n- more\n");
  auto r = runProcess({binary(), "--config", dir.file("list.yaml"), "check-config"});
  BOOST_TEST(r.exitCode == 78);
  BOOST_TEST(r.err.find("must be a YAML mapping") != std::string::npos, r.err);

  writeFile(dir.file("big.yaml"), std::string(10 * 1024 * 1024, '#'));
  r = runProcess({binary(), "--config", dir.file("big.yaml"), "check-config"});
  BOOST_TEST(r.exitCode == 78);
  BOOST_TEST(r.err.find("10240 KiB; the limit is 4 MiB") != std::string::npos, r.err);

  r = runProcess({binary(), "--config", dir.file("missing.yaml"), "once"});
  BOOST_TEST(r.exitCode == 78);
  BOOST_TEST(r.err.find("missing.yaml: cannot open config: No such file") != std::string::npos,
             r.err);
  r = runProcess({binary(), "status"}, {{"MXPULSE_CONFIG", dir.file("missing.yaml")}});
  BOOST_TEST(r.exitCode == 78);
}

BOOST_AUTO_TEST_CASE(once_records_prints_and_exits_with_the_worst_status) {
  Agent a;
  auto r = a.run({"once"});
  BOOST_TEST(r.exitCode == 2, r.err);  // the missing process is critical
  BOOST_TEST(r.out.find("CRITICAL host/process mxpulse-no-such-process") != std::string::npos, r.out);
  BOOST_TEST(fileExists(a.dir.file("state.db")));
  std::string prom = readFile(a.dir.file("textfile/mxpulse.prom"));
  BOOST_TEST(prom.find("mxpulse_check_status{job=\"host\",check=\"process\",target=\"mxpulse-no-"
                       "such-process\"} 2") != std::string::npos,
             prom);
  BOOST_TEST(prom.find("mxpulse_job_success{job=\"host\",kind=\"host\"} 1") != std::string::npos);

  r = a.run({"status", "--json"});
  BOOST_TEST(r.exitCode == 0);
  BOOST_TEST(r.out.find(R"("job":"host","kind":"host","check":"process","target":"mxpulse-no-such-process","status":"critical")") !=
                 std::string::npos,
             r.out);
  r = a.run({"status"});
  BOOST_TEST(r.out.find("job host (host): last run") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("(since ") != std::string::npos, r.out);
}

BOOST_AUTO_TEST_CASE(once_selects_jobs_by_name) {
  Agent a("  - {name: one, kind: host, every: 1m, params: {disks: [/]}}\n"
          "  - {name: two, kind: host, every: 1m, params: {disks: [/], processes: [nope-x]}}\n");
  auto r = a.run({"once", "one", "--json"});
  BOOST_TEST(r.out.find("\"job\":\"one\"") != std::string::npos);
  BOOST_TEST(r.out.find("\"job\":\"two\"") == std::string::npos);
  BOOST_TEST(a.run({"once", "three"}).exitCode == 64);
}

BOOST_AUTO_TEST_CASE(unusable_state_db_or_textfile_is_exit_70_with_the_fix) {
  Agent a;
  writeFile(a.dir.file("state.db"), std::string(4096, 'z'));
  auto r = a.run({"once"});
  BOOST_TEST(r.exitCode == 70);
  BOOST_TEST(r.err.find("corrupt or not a SQLite database") != std::string::npos, r.err);

  Agent b;
  runProcess({"/bin/rm", "-rf", b.dir.file("textfile")});
  r = b.run({"once"});
  BOOST_TEST(r.exitCode == 70);
  BOOST_TEST(r.err.find("cannot write textfile in " + b.dir.file("textfile")) != std::string::npos,
             r.err);
  r = b.run({"check-config"});
  BOOST_TEST(r.exitCode == 78);
  BOOST_TEST(r.err.find("does not exist") != std::string::npos, r.err);
}

BOOST_AUTO_TEST_CASE(ad_hoc_host_check_needs_no_config) {
  auto r = runProcess({binary(), "check", "host", "--disk", "/", "--process", "no-such-daemon", "--json"});
  BOOST_TEST(r.exitCode == 2, r.err);
  BOOST_TEST(r.out.find(R"("check":"process","target":"no-such-daemon","status":"critical")") !=
                 std::string::npos,
             r.out);
  BOOST_TEST(runProcess({binary(), "check", "host", "stray"}).exitCode == 64);
  BOOST_TEST(runProcess({binary(), "check", "nosuch"}).exitCode == 64);
  BOOST_TEST(runProcess({binary(), "check", "--help"}).exitCode == 0);
}

BOOST_AUTO_TEST_CASE(inventory_prints_what_each_job_checks) {
  Agent a;
  auto r = a.run({"inventory"});
  BOOST_TEST(r.exitCode == 0, r.err);
  BOOST_TEST(r.out.find("job host (host, every 1m, timeout 30s)") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("process mxpulse-no-such-process") != std::string::npos, r.out);
}

BOOST_AUTO_TEST_CASE(textfile_passes_promtool) {
  std::string promtool = findProgram("promtool");
  skipUnless(!promtool.empty(), "promtool not installed (Debian package prometheus)");
  Agent a;
  a.run({"once"});
  auto r = runProcess({"/bin/sh", "-c", promtool + " check metrics < " + a.dir.file("textfile/mxpulse.prom")});
  BOOST_TEST(r.exitCode == 0, r.out << r.err);
}

BOOST_AUTO_TEST_SUITE_END()
