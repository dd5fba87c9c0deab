// SPDX-License-Identifier: Apache-2.0
// The pmta job against a fake PowerMTA management server on 127.0.0.1
// serving the XML fixtures (tests/data/pmta), including malformed,
// truncated, huge, stalled and trickling responses, and against a fake
// `pmta` program for the CLI fallback. Every run must end by its deadline.
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <chrono>

#include "agent/config_errors.hpp"
#include "agent/yaml_reader.hpp"
#include "jobs/pmta.hpp"
#include "probes/bounded_exec.hpp"
#include "probes/bounded_http.hpp"
#include "tests/support/fake_http.hpp"
#include "tests/support/fixed_context.hpp"
#include "tests/support/status_print.hpp"
#include "tests/support/test_support.hpp"

using namespace mxpulse;
using Mode = test::FakeHttpResponse::Mode;

namespace {

constexpr std::int64_t kNow = 1777636800;

std::string fixture(const std::string& name) {
  return test::readFile(test::sourceDir() + "/tests/data/pmta/" + name);
}

/// Serves the fixture for each endpoint; `status` lets a test replace it.
test::FakeHttpResponse pmtaHandler(const test::FakeHttpRequest& req,
                                   test::FakeHttpResponse status) {
  std::string path = req.target.substr(0, req.target.find('?'));
  if (path == "/status") return status;
  test::FakeHttpResponse r;
  if (path == "/queues")
    r.body = fixture("queues.xml");
  else if (path == "/domains")
    r.body = fixture("domains.xml");
  else if (path == "/vmtas")
    r.body = fixture("vmtas.xml");
  else
    r.status = 404;
  return r;
}

test::FakeHttpResponse ok(const std::string& body) {
  test::FakeHttpResponse r;
  r.body = body;
  return r;
}

std::unique_ptr<Job> makeJob(const std::string& yaml) {
  ConfigErrors errors("test");
  YAML::Node node = YAML::Load(yaml);
  MapReader r(node, "params", errors);
  JobBuildEnv env;
  auto job = jobs::pmtaKind().create(r, env);
  r.finish();
  std::string all;
  for (const auto& e : errors.errors()) all += e + "\n";
  BOOST_TEST_REQUIRE(errors.empty(), all);
  BOOST_TEST_REQUIRE(static_cast<bool>(job));
  return job;
}

const CheckResult* find(const JobOutput& out, const std::string& check, const std::string& target) {
  for (const auto& r : out.results)
    if (r.check == check && r.target == target) return &r;
  return nullptr;
}

/// A stand-in `pmta` that prints a fixture per subcommand (or sleeps).
std::string fakePmta(const test::TempDir& dir, const std::string& behaviour) {
  std::string path = dir.file("pmta");
  std::string data = test::sourceDir() + "/tests/data/pmta/";
  std::string script = "#!/bin/sh\n";
  if (behaviour == "hang") {
    script += "exec sleep 30\n";
  } else {
    script += "case \"$3\" in\n  status) cat '" + data + "dom-status.txt' ;;\n  topqueues) cat '" +
              data + "dom-topqueues.txt' ;;\n  *) echo unknown >&2; exit 1 ;;\nesac\n";
  }
  test::writeFile(path, script);
  chmod(path.c_str(), 0755);
  return path;
}

struct Timed {
  JobOutput out;
  double seconds = 0;
};

Timed runJob(Job& job, std::chrono::milliseconds budget) {
  test::FixedContext ctx(kNow, budget);
  auto start = std::chrono::steady_clock::now();
  Timed t;
  t.out = job.run(ctx);
  t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return t;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pmta_http)

BOOST_AUTO_TEST_CASE(reads_every_endpoint) {
  test::FakeHttpServer server(
      [](const test::FakeHttpRequest& req) { return pmtaHandler(req, ok(fixture("status.xml"))); });
  auto job = makeJob("{url: '" + server.url() + "', cli_fallback: false, domain_queue_warn: 2000}");
  Timed t = runJob(*job, std::chrono::seconds(10));
  const CheckResult* total = find(t.out, "pmta_queue", "total");
  BOOST_TEST_REQUIRE(total);
  BOOST_TEST(total->status == Status::Ok);
  BOOST_TEST(total->summary.find("15,423 recipients queued") == 0u);
  BOOST_TEST(find(t.out, "pmta_domain_queue", "gmail.com")->status == Status::Warning);
  BOOST_TEST(find(t.out, "pmta_vmta", "vmta-ip1")->status == Status::Warning);
  std::set<std::string> paths;
  for (const auto& r : server.requests()) paths.insert(r.target.substr(0, r.target.find('?')));
  BOOST_TEST(paths == (std::set<std::string>{"/status", "/queues", "/domains", "/vmtas"}));
  for (const auto& r : server.requests()) {
    BOOST_TEST(r.target.find("format=xml") != std::string::npos);
    BOOST_TEST(r.header("Authorization").empty());
  }
}

BOOST_AUTO_TEST_CASE(basic_auth_and_secret_kept_out_of_results) {
  const std::string secret = "s3cret-Pmta-Pass";
  test::TempDir dir;
  test::writeFile(dir.file("pw"), secret + "\n");
  test::FakeHttpServer server([&](const test::FakeHttpRequest& req) {
    // "monitor:s3cret-Pmta-Pass" in base64
    if (req.header("Authorization") != "Basic bW9uaXRvcjpzM2NyZXQtUG10YS1QYXNz") {
      test::FakeHttpResponse denied;
      denied.status = 401;
      denied.body = "<html>unauthorized</html>";
      return denied;
    }
    return pmtaHandler(req, ok(fixture("status.xml")));
  });
  auto job = makeJob("{url: '" + server.url() + "', user: monitor, password_file: '" +
                     dir.file("pw") + "', cli_fallback: false}");
  Timed t = runJob(*job, std::chrono::seconds(10));
  BOOST_TEST(find(t.out, "pmta_queue", "total")->status == Status::Ok);
  for (const auto& r : t.out.results) {
    BOOST_TEST(r.summary.find(secret) == std::string::npos);
    BOOST_TEST(r.facts.dump().find(secret) == std::string::npos);
  }
  // Wrong password: 401 is an unknown with the reason, and still no secret.
  test::writeFile(dir.file("pw"), "wrong\n");
  auto bad = makeJob("{url: '" + server.url() + "', user: monitor, password_file: '" +
                     dir.file("pw") + "', cli_fallback: false}");
  Timed u = runJob(*bad, std::chrono::seconds(10));
  BOOST_TEST(u.out.results[0].status == Status::Unknown);
  BOOST_TEST(u.out.results[0].summary.find("HTTP 401") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(bad_bodies_are_unknown) {
  for (const char* name : {"malformed.xml", "truncated.xml", "entity-bomb.xml", "html-error.xml"}) {
    BOOST_TEST_CONTEXT(name) {
      test::FakeHttpServer server(
          [&](const test::FakeHttpRequest& req) { return pmtaHandler(req, ok(fixture(name))); });
      auto job = makeJob("{url: '" + server.url() + "', cli_fallback: false}");
      Timed t = runJob(*job, std::chrono::seconds(10));
      BOOST_TEST_REQUIRE(t.out.results.size() == 1u);
      BOOST_TEST(t.out.results[0].status == Status::Unknown);
      BOOST_TEST(t.out.results[0].summary.find("/status") != std::string::npos);
    }
  }
}

BOOST_AUTO_TEST_CASE(huge_truncated_slow_and_stalled_responses) {
  // Over the size cap.
  std::string huge = "<rsp><data><status><queue><smtp><rcp>1</rcp></smtp></queue>";
  huge += std::string(3u << 20, ' ') + "</status></data></rsp>";
  {
    test::FakeHttpServer server(
        [&](const test::FakeHttpRequest& req) { return pmtaHandler(req, ok(huge)); });
    auto job =
        makeJob("{url: '" + server.url() + "', cli_fallback: false, max_response_bytes: 1048576}");
    Timed t = runJob(*job, std::chrono::seconds(10));
    BOOST_TEST(t.out.results[0].status == Status::Unknown);
    BOOST_TEST(t.out.results[0].summary.find("over the cap") != std::string::npos);
  }
  // Announces the full length, sends half, closes.
  {
    test::FakeHttpServer server([&](const test::FakeHttpRequest& req) {
      auto r = ok(fixture("status.xml"));
      r.mode = Mode::Truncate;
      return pmtaHandler(req, r);
    });
    auto job = makeJob("{url: '" + server.url() + "', cli_fallback: false}");
    Timed t = runJob(*job, std::chrono::seconds(10));
    BOOST_TEST(t.out.results[0].status == Status::Unknown);
    BOOST_TEST(t.out.results[0].summary.find("truncated") != std::string::npos);
  }
  // Trickles one byte per 50 ms: must give up at the deadline, not when done.
  {
    test::FakeHttpServer server([&](const test::FakeHttpRequest& req) {
      auto r = ok(fixture("status.xml"));
      r.mode = Mode::Trickle;
      return pmtaHandler(req, r);
    });
    auto job = makeJob("{url: '" + server.url() + "', cli_fallback: false}");
    Timed t = runJob(*job, std::chrono::milliseconds(1500));
    BOOST_TEST(t.out.results[0].status == Status::Unknown);
    BOOST_TEST(t.out.results[0].summary.find("deadline") != std::string::npos);
    BOOST_TEST(t.seconds < 5.0);  // the whole body would take ~60 s
  }
  // Reads the request and never answers.
  {
    test::FakeHttpServer server([&](const test::FakeHttpRequest& req) {
      auto r = ok("");
      r.mode = Mode::Stall;
      return pmtaHandler(req, r);
    });
    auto job = makeJob("{url: '" + server.url() + "', cli_fallback: false}");
    Timed t = runJob(*job, std::chrono::milliseconds(1500));
    BOOST_TEST(t.out.results[0].status == Status::Unknown);
    BOOST_TEST(t.out.results[0].summary.find("deadline") != std::string::npos);
    BOOST_TEST(t.seconds < 5.0);
  }
}

BOOST_AUTO_TEST_CASE(partial_failure_keeps_status) {
  test::FakeHttpServer server([](const test::FakeHttpRequest& req) {
    if (req.target.rfind("/queues", 0) == 0) {
      test::FakeHttpResponse r;
      r.status = 500;
      return r;
    }
    return pmtaHandler(req, ok(fixture("status.xml")));
  });
  auto job = makeJob("{url: '" + server.url() + "', cli_fallback: false, vmtas: [vmta-ip1]}");
  Timed t = runJob(*job, std::chrono::seconds(10));
  BOOST_TEST(find(t.out, "pmta_queue", "total")->status == Status::Ok);
  BOOST_TEST(find(t.out, "pmta_queues", "queues")->status == Status::Unknown);
  BOOST_TEST(find(t.out, "pmta_vmta", "vmta-ip1")->status == Status::Unknown);
  // Domains were served by /domains, so the domain findings still work.
  BOOST_TEST(find(t.out, "pmta_domain_queue", "gmail.com") != nullptr);
}

BOOST_AUTO_TEST_CASE(cli_fallback_when_http_is_down) {
  test::TempDir dir;
  std::string pmta = fakePmta(dir, "ok");
  int port = test::freePort();  // nothing listens there
  auto job = makeJob("{url: 'http://127.0.0.1:" + std::to_string(port) + "', pmta_command: ['" +
                     pmta + "'], domain_queue_warn: 2000}");
  Timed t = runJob(*job, std::chrono::seconds(10));
  const CheckResult* total = find(t.out, "pmta_queue", "total");
  BOOST_TEST_REQUIRE(total);
  BOOST_TEST(total->status == Status::Ok);
  BOOST_TEST(total->summary.find("15,420 recipients queued") == 0u);
  BOOST_TEST(total->summary.find("via pmta CLI") != std::string::npos);
  BOOST_TEST(*total->facts.find("source")->asString() == "cli");
  const CheckResult* vmta = find(t.out, "pmta_vmta", "vmta-ip1");
  BOOST_TEST_REQUIRE(vmta);
  BOOST_TEST(vmta->status == Status::Warning);
  BOOST_TEST(find(t.out, "pmta_domain_queue", "gmail.com")->status == Status::Warning);
}

BOOST_AUTO_TEST_CASE(cli_that_hangs_is_killed_at_the_deadline) {
  test::TempDir dir;
  std::string pmta = fakePmta(dir, "hang");
  int port = test::freePort();
  auto job = makeJob("{url: 'http://127.0.0.1:" + std::to_string(port) + "', pmta_command: ['" +
                     pmta + "']}");
  Timed t = runJob(*job, std::chrono::milliseconds(1500));
  BOOST_TEST(t.out.results[0].status == Status::Unknown);
  BOOST_TEST(t.out.results[0].summary.find("HTTP: ") != std::string::npos);
  BOOST_TEST(t.out.results[0].summary.find("did not finish by the deadline") != std::string::npos);
  BOOST_TEST(t.seconds < 5.0);
}

// The CLI runner itself: exit codes, missing programs, the output cap and
// the deadline (the child is killed, not waited for).
BOOST_AUTO_TEST_CASE(bounded_exec_limits) {
  Deadline d = Deadline::in(std::chrono::seconds(10));
  auto ok = probes::runBounded({"/bin/echo", "status.queue.smtp.rcp=\"1\""}, d, 1024);
  BOOST_TEST(ok.error.empty());
  BOOST_TEST(ok.exitCode == 0);
  BOOST_TEST(ok.out == "status.queue.smtp.rcp=\"1\"\n");
  auto missing = probes::runBounded({"/nonexistent/pmta", "--dom"}, d, 1024);
  BOOST_TEST(!missing.error.empty());
  auto failing = probes::runBounded({"/bin/sh", "-c", "echo oops >&2; exit 3"}, d, 1024);
  BOOST_TEST(failing.exitCode == 3);
  BOOST_TEST(failing.err == "oops\n");
  BOOST_TEST(failing.error.find("exited with status 3") != std::string::npos);
  auto flood = probes::runBounded({"/bin/sh", "-c", "yes status.x=\\\"1\\\""}, d, 65536);
  BOOST_TEST(flood.truncated);
  BOOST_TEST(flood.out.size() == 65536u);
  BOOST_TEST(flood.error.find("more than 65536 bytes") != std::string::npos);
  auto start = std::chrono::steady_clock::now();
  auto slow =
      probes::runBounded({"/bin/sleep", "30"}, Deadline::in(std::chrono::milliseconds(300)), 1024);
  BOOST_TEST(slow.timedOut);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  BOOST_TEST(took < 5.0);  // killed at the 0.3 s deadline, not after sleep's 30 s
}

BOOST_AUTO_TEST_CASE(adhoc_check_json) {
  test::FakeHttpServer server(
      [](const test::FakeHttpRequest& req) { return pmtaHandler(req, ok(fixture("status.xml"))); });
  auto r = test::runProcess({MXPULSE_BINARY, "check", "pmta", server.url(), "--no-cli",
                             "--domain-queue-warn", "2000", "--oldest-warn", "0s", "--oldest-crit",
                             "0s", "--json"});
  // Warnings only: gmail.com, yahoo.com, vmta-ip1 in backoff, a disabled
  // source. (The fixture's oldest message is old by the wall clock.)
  BOOST_TEST(r.exitCode == 1);
  BOOST_TEST(r.out.find("\"check\":\"pmta_queue\"") != std::string::npos);
  BOOST_TEST(r.out.find("\"target\":\"gmail.com\"") != std::string::npos);
  auto usage = test::runProcess({MXPULSE_BINARY, "check", "pmta", "--password", "x"});
  BOOST_TEST(usage.exitCode != 0);
  BOOST_TEST(usage.err.find("unknown option --password") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
