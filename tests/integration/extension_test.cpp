// SPDX-License-Identifier: Apache-2.0
// The real binary loads mxpulse-ext.so only when something needs it: an
// agent of host jobs never maps OpenSSL, Poco, ldns or MariaDB; the first
// DNS job does; and a missing module is one clear config error.
#include <signal.h>
#include <sys/stat.h>
#include <boost/test/unit_test.hpp>

#include "tests/support/test_support.hpp"

using namespace mxpulse::test;
using namespace std::chrono_literals;

namespace {

std::string maps(int pid) {
  return readFile("/proc/" + std::to_string(pid) + "/maps");
}

std::string config(const std::string& jobs) {
  return "agent: {state_db: state.db, textfile: tf/mxpulse.prom, max_splay: 0s}\n"
         "dns: {resolvers: [\"127.0.0.1:9\"]}\njobs:\n" +
         jobs;
}

const char* kHostJob = "  - {name: host, kind: host, every: 1h, params: {disks: [/]}}\n";
const char* kDnsblJob =
    "  - {name: bl, kind: dnsbl, every: 1h, timeout: 5s, params: {ips: [192.0.2.1], "
    "zones: [{zone: bl.test}], attempt_timeout: 200ms, attempts: 1}}\n";

}  // namespace

BOOST_AUTO_TEST_SUITE(extension)

BOOST_AUTO_TEST_CASE(host_only_daemon_never_maps_the_network_libraries) {
  TempDir dir;
  mkdir(dir.file("tf").c_str(), 0755);
  writeFile(dir.file("agent.yaml"), config(kHostJob));
  Child agent({binary(), "--config", dir.file("agent.yaml"), "run"}, dir.file("agent.log"));
  BOOST_REQUIRE(eventually([&] { return fileExists(dir.file("tf/mxpulse.prom")); }, 20s));
  std::string m = maps(agent.pid());
  for (const char* lib :
       {"mxpulse-ext.so", "libcrypto", "libssl", "libPoco", "libldns", "libmariadb"})
    BOOST_TEST(m.find(lib) == std::string::npos, lib << " is mapped by a host-only agent");
  agent.signal(SIGTERM);
  BOOST_TEST(agent.wait(10s) == 0);
}

BOOST_AUTO_TEST_CASE(a_dns_job_loads_the_module) {
  TempDir dir;
  mkdir(dir.file("tf").c_str(), 0755);
  writeFile(dir.file("agent.yaml"), config(std::string(kHostJob) + kDnsblJob));
  Child agent({binary(), "--config", dir.file("agent.yaml"), "--verbose", "run"},
              dir.file("agent.log"));
  BOOST_REQUIRE(eventually([&] { return fileExists(dir.file("tf/mxpulse.prom")); }, 20s));
  std::string m = maps(agent.pid());
  BOOST_TEST(m.find("mxpulse-ext.so") != std::string::npos);
  BOOST_TEST(m.find("libldns") != std::string::npos);
  agent.signal(SIGTERM);
  BOOST_TEST(agent.wait(10s) == 0);
  BOOST_TEST(readFile(dir.file("agent.log")).find("extension loaded") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_missing_module_is_one_clear_error_and_host_jobs_still_run) {
  TempDir dir;
  mkdir(dir.file("tf").c_str(), 0755);
  std::map<std::string, std::string> env{{"MXPULSE_EXTENSION", dir.file("nowhere/mxpulse-ext.so")}};
  writeFile(dir.file("dns.yaml"), config(std::string(kHostJob) + kDnsblJob));
  auto r = runProcess({binary(), "--config", dir.file("dns.yaml"), "check-config"}, env);
  BOOST_TEST(r.exitCode == 78);
  BOOST_TEST(
      r.err.find("job kind 'dnsbl' is unavailable: mxpulse-ext.so not found") != std::string::npos,
      r.err);
  BOOST_TEST(r.err.find("unknown key") == std::string::npos, r.err);
  BOOST_TEST(r.err.find("1 error(s)") != std::string::npos, r.err);

  writeFile(dir.file("host.yaml"), config(kHostJob));
  r = runProcess({binary(), "--config", dir.file("host.yaml"), "once"}, env);
  BOOST_TEST((r.exitCode >= 0 && r.exitCode <= 2), r.err);
  r = runProcess({binary(), "check", "mx", "example.test"}, env);
  BOOST_TEST(r.exitCode == 70);
  BOOST_TEST(r.err.find("mxpulse-ext.so not found") != std::string::npos, r.err);
}

BOOST_AUTO_TEST_SUITE_END()
