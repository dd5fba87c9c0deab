// SPDX-License-Identifier: Apache-2.0
#include <boost/test/unit_test.hpp>
#include <sys/stat.h>

#include "agent/yaml_reader.hpp"
#include "jobs/host.hpp"
#include "tests/support/test_support.hpp"

using namespace mxpulse;
using namespace mxpulse::jobs;

namespace {
const CheckResult& find(const JobOutput& out, const std::string& check, const std::string& target) {
  for (const auto& r : out.results)
    if (r.check == check && r.target == target) return r;
  BOOST_FAIL("no result " << check << " " << target);
  return out.results.front();
}
int st(const CheckResult& r) { return static_cast<int>(r.status); }

HostObservations healthy() {
  HostObservations o;
  probes::DiskUsage d;
  d.sizeBytes = 100ULL << 30;
  d.availBytes = 50ULL << 30;
  d.inodes = 1000;
  d.availInodes = 900;
  o.disks.emplace_back("/", d);
  o.memory.totalBytes = 8ULL << 30;
  o.memory.availableBytes = 4ULL << 30;
  o.load.load1 = o.load.load5 = o.load.load15 = 1.0;
  o.load.cpus = 4;
  o.processes = {{10, "pmtad", "pmtad"}, {11, "mariadbd", "mariadbd"}, {12, "mariadbd", "mariadbd"}};
  return o;
}

HostParams params() {
  HostParams p;
  p.disks = {DiskRule{"/", 15, 5}};
  p.processes = {"pmtad", "mariadbd"};
  return p;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(host)

BOOST_AUTO_TEST_CASE(healthy_host_is_ok_everywhere) {
  auto out = evaluateHost(params(), healthy());
  BOOST_TEST(out.results.size() == 5u);
  for (const auto& r : out.results) BOOST_TEST(st(r) == 0, r.check << " " << r.summary);
  BOOST_TEST(find(out, "process", "mariadbd").summary == "mariadbd is running (2 processes)");
  BOOST_TEST(find(out, "disk_free", "/").summary ==
             "/ has 50.0 GiB free (50.0%) of 100.0 GiB, 90.0% inodes free");
}

BOOST_AUTO_TEST_CASE(disk_space_and_inodes_have_thresholds) {
  auto o = healthy();
  o.disks[0].second.availBytes = 10ULL << 30;  // 10% -> warning
  BOOST_TEST(st(find(evaluateHost(params(), o), "disk_free", "/")) == 1);
  o.disks[0].second.availBytes = 4ULL << 30;  // 4% -> critical
  BOOST_TEST(st(find(evaluateHost(params(), o), "disk_free", "/")) == 2);
  o = healthy();
  o.disks[0].second.availInodes = 30;  // 3% inodes: a spool of small files
  auto r = find(evaluateHost(params(), o), "disk_free", "/");
  BOOST_TEST(st(r) == 2);
  BOOST_TEST(r.summary.find("inodes below 5%") != std::string::npos, r.summary);
}

BOOST_AUTO_TEST_CASE(unreadable_sources_are_unknown_not_ok) {
  auto o = healthy();
  o.disks[0].second.error = "statvfs /: No such file or directory";
  o.memory.error = "cannot read /proc/meminfo";
  o.load.error = "cannot read /proc/loadavg";
  o.processError = "cannot list /proc";
  auto out = evaluateHost(params(), o);
  for (const auto& r : out.results) BOOST_TEST(st(r) == 3, r.check << " " << r.summary);
}

BOOST_AUTO_TEST_CASE(memory_load_and_processes) {
  auto o = healthy();
  o.memory.availableBytes = 600ULL << 20;  // ~7.3% -> warning
  o.load.load15 = 17;                      // 4.25 per CPU -> critical
  o.processes.erase(o.processes.begin());  // pmtad gone
  auto out = evaluateHost(params(), o);
  BOOST_TEST(st(find(out, "memory", "memory")) == 1);
  BOOST_TEST(st(find(out, "load", "load")) == 2);
  BOOST_TEST(st(find(out, "process", "pmtad")) == 2);
  BOOST_TEST(find(out, "process", "pmtad").summary == "pmtad is not running");
}

BOOST_AUTO_TEST_CASE(long_process_names_match_the_truncated_comm) {
  auto p = params();
  p.processes = {"pmta-accounting-daemon"};
  auto o = healthy();
  o.processes = {{5, "pmta-accountin", "python3"}};  // comm is not 15 chars here
  BOOST_TEST(st(find(evaluateHost(p, o), "process", "pmta-accounting-daemon")) == 2);
  o.processes = {{5, "pmta-accounting", "python3"}};  // kernel keeps 15 chars
  BOOST_TEST(st(find(evaluateHost(p, o), "process", "pmta-accounting-daemon")) == 0);
}

BOOST_AUTO_TEST_CASE(samples_describe_the_host) {
  auto out = evaluateHost(params(), healthy());
  bool sawDisk = false, sawProc = false;
  for (const auto& s : out.samples) {
    if (s.name == "mxpulse_host_disk_available_bytes") sawDisk = s.value == double(50ULL << 30);
    if (s.name == "mxpulse_host_processes" && s.labels.at(0).second == "mariadbd")
      sawProc = s.value == 2;
  }
  BOOST_TEST(sawDisk);
  BOOST_TEST(sawProc);
}

BOOST_AUTO_TEST_CASE(probe_reads_a_fixture_proc_tree) {
  test::TempDir dir;
  test::writeFile(dir.file("meminfo"), "MemTotal:  1000 kB\nMemFree: 10 kB\nMemAvailable: 250 kB\n");
  test::writeFile(dir.file("loadavg"), "0.50 1.00 3.00 1/100 12345\n");
  test::writeFile(dir.file("stat"), "cpu  1 2 3\ncpu0 1 2 3\ncpu1 1 2 3\nintr 1\n");
  mkdir(dir.file("42").c_str(), 0755);
  test::writeFile(dir.file("42/comm"), "pmtad\n");
  test::writeFile(dir.file("42/cmdline"), std::string("/usr/sbin/pmtad\0--debug\0", 24));
  mkdir(dir.file("self").c_str(), 0755);
  auto mem = probes::readMemory(dir.path());
  BOOST_TEST(mem.error.empty(), mem.error);
  BOOST_TEST(mem.availableBytes == 250u * 1024);
  auto load = probes::readLoad(dir.path());
  BOOST_TEST(load.cpus == 2);
  BOOST_TEST(load.load15 == 3.0);
  std::string error;
  auto procs = probes::listProcesses(dir.path(), error);
  BOOST_REQUIRE(procs.size() == 1u);
  BOOST_TEST(procs[0].pid == 42);
  BOOST_TEST(procs[0].exe == "pmtad");
  test::writeFile(dir.file("meminfo"), "garbage\n");
  BOOST_TEST(!probes::readMemory(dir.path()).error.empty());
  BOOST_TEST(!probes::statDisk(dir.file("missing")).error.empty());
}

BOOST_AUTO_TEST_CASE(params_are_strict) {
  ConfigErrors errors("t");
  YAML::Node n = YAML::Load(
      "{disks: [relative, {path: /, warn_free: 5%, crit_free: 10%}], load_crit_per_cpu: 1,"
      " disk_warn_free: 150%}");
  MapReader r(n, "params", errors);
  BOOST_TEST(!parseHostParams(r).has_value());
  std::string all;
  for (const auto& e : errors.errors()) all += e + "\n";
  BOOST_TEST(all.find("must be an absolute path") != std::string::npos, all);
  BOOST_TEST(all.find("crit_free must not be above warn_free") != std::string::npos, all);
  BOOST_TEST(all.find("must not be below load_warn_per_cpu") != std::string::npos, all);
  BOOST_TEST(all.find("between 0% and 100%") != std::string::npos, all);
}

BOOST_AUTO_TEST_SUITE_END()
