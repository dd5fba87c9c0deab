// SPDX-License-Identifier: Apache-2.0
// `mxpulse run`: sd_notify, scheduling, timeouts and overruns, SIGHUP
// reload (a bad config is refused), SIGTERM.
#include <boost/test/unit_test.hpp>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "tests/support/test_support.hpp"

using namespace mxpulse::test;
using namespace std::chrono;

namespace {
/// Receives sd_notify datagrams on a socket in the temp dir.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    BOOST_REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    timeval tv{0, 100000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~NotifySocket() { close(fd_); }
  /// Everything received so far, messages separated by '|'.
  const std::string& poll() {
    char buf[512];
    ssize_t n;
    while ((n = recv(fd_, buf, sizeof buf, 0)) > 0) received_ += std::string(buf, n) + "|";
    return received_;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_, received_;
  int fd_;
};

std::string config(const std::string& jobs) {
  return "agent: {state_db: state.db, textfile: tf/mxpulse.prom, max_splay: 0s, shutdown_grace: 2s}\n"
         "jobs:\n" + jobs;
}

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(agent_daemon)

BOOST_AUTO_TEST_CASE(runs_reloads_and_stops_cleanly) {
  TempDir dir;
  mkdir(dir.file("tf").c_str(), 0755);
  std::string cfg = dir.file("agent.yaml"), prom = dir.file("tf/mxpulse.prom");
  writeFile(cfg, config("  - {name: a, kind: host, every: 1s, params: {disks: [/]}}\n"));
  NotifySocket notify(dir.file("notify.sock"));
  Child agent({binary(), "--config", cfg, "run"}, dir.file("agent.log"),
              {{"NOTIFY_SOCKET", notify.path()}, {"WATCHDOG_USEC", "400000"},
               {"WATCHDOG_PID", ""}});
  BOOST_REQUIRE(eventually([&] { return contains(notify.poll(), "READY=1"); }, seconds(20)));
  // Runs every second: the run counter climbs.
  BOOST_REQUIRE(eventually([&] {
    return contains(readFile(prom), "mxpulse_job_runs_total{job=\"a\",kind=\"host\"} 3");
  }, seconds(30)));
  BOOST_TEST(contains(notify.poll(), "WATCHDOG=1"));

  // A broken config is refused; the old one keeps running.
  writeFile(cfg, "jobs: [ {name: a, kind: host, every: never} ]\n");
  agent.signal(SIGHUP);
  BOOST_REQUIRE(eventually([&] {
    return contains(readFile(prom), "mxpulse_config_last_reload_successful 0");
  }, seconds(20)));
  BOOST_TEST(agent.running());
  BOOST_TEST(contains(readFile(dir.file("agent.log")), "reload refused"));
  BOOST_TEST(contains(readFile(dir.file("agent.log")), "bad duration 'never'"));

  // A good config with a new job is taken.
  writeFile(cfg, config("  - {name: a, kind: host, every: 1s, params: {disks: [/]}}\n"
                        "  - {name: b, kind: host, every: 1s, params: {disks: [/]}}\n"));
  agent.signal(SIGHUP);
  BOOST_REQUIRE(eventually([&] {
    std::string t = readFile(prom);
    return contains(t, "mxpulse_config_last_reload_successful 1") &&
           contains(t, "mxpulse_job_success{job=\"b\",kind=\"host\"} 1");
  }, seconds(20)));

  agent.signal(SIGTERM);
  BOOST_TEST(agent.wait(seconds(15)) == 0);
  BOOST_TEST(contains(notify.poll(), "STOPPING=1"));
  BOOST_TEST(contains(readFile(dir.file("agent.log")), "stopped"));
}

BOOST_AUTO_TEST_CASE(a_hung_job_times_out_and_is_not_started_twice) {
  TempDir dir;
  mkdir(dir.file("tf").c_str(), 0755);
  mkdir(dir.file("proc").c_str(), 0755);
  // Reading a FIFO with no writer blocks forever: a job that ignores its deadline.
  BOOST_REQUIRE(mkfifo(dir.file("proc/meminfo").c_str(), 0644) == 0);
  std::string cfg = dir.file("agent.yaml"), prom = dir.file("tf/mxpulse.prom");
  writeFile(cfg, config("  - {name: stuck, kind: host, every: 2s, timeout: 500ms,"
                        " params: {disks: [/], proc_root: " + dir.file("proc") + "}}\n"));
  Child agent({binary(), "--config", cfg, "run"}, dir.file("agent.log"));
  BOOST_REQUIRE(eventually([&] {
    std::string t = readFile(prom);
    return contains(t, "mxpulse_job_success{job=\"stuck\",kind=\"host\"} 0") &&
           !contains(t, "mxpulse_job_overruns_total{job=\"stuck\",kind=\"host\"} 0");
  }, seconds(30)));
  std::string t = readFile(prom);
  BOOST_TEST(contains(t, "mxpulse_check_status{job=\"stuck\",check=\"job\",target=\"stuck\"} 3"), t);
  BOOST_TEST(contains(t, "mxpulse_job_runs_total{job=\"stuck\",kind=\"host\"} 1\n"), t);
  auto r = runProcess({binary(), "--config", cfg, "status"});
  BOOST_TEST(contains(r.out, "unknown: timeout after 500ms"), r.out);
  // SIGTERM with a job still stuck: abandoned after the grace, exit 0.
  agent.signal(SIGTERM);
  BOOST_TEST(agent.wait(seconds(15)) == 0);
  // Unblock the FIFO reader thread of nobody (process gone): nothing to do.
}

BOOST_AUTO_TEST_SUITE_END()
