// SPDX-License-Identifier: Apache-2.0
// The runner: deadline, exception boundary, inventory failures as results.
#include <boost/test/unit_test.hpp>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "agent/runner.hpp"

using namespace mxpulse;
using namespace std::chrono;

namespace {
class FakeJob : public Job {
 public:
  std::function<JobOutput(JobContext&)> body;
  std::vector<std::string> invs;
  JobOutput run(JobContext& ctx) override { return body(ctx); }
  std::vector<std::string> inventories() const override { return invs; }
  std::vector<std::string> plannedTargets(const JobContext&) const override { return {}; }
};

JobConfig jobWith(std::shared_ptr<FakeJob> job, Millis timeout = seconds(5)) {
  JobConfig c;
  c.name = "fake";
  c.kind = "fake";
  c.timeout = timeout;
  c.job = std::move(job);
  return c;
}

bool eventuallyFinished(const std::shared_ptr<RunHandle>& h) {
  for (int i = 0; i < 500 && !h->finished; ++i) std::this_thread::sleep_for(milliseconds(10));
  return h->finished;
}

const system_clock::time_point kNow = system_clock::from_time_t(1795219200);

struct Fixture {
  AgentConfig config;
  std::unique_ptr<InventoryService> inventories;
  std::atomic<bool> stopping{false};
  Fixture() {
    InventoryConfig broken;
    broken.name = "mw";
    broken.kind = InventoryKind::Ips;
    broken.connection = "src";
    broken.query = "SELECT ip FROM nowhere";
    config.inventories["mw"] = broken;
    ConnectionConfig conn;
    conn.driver = SqlDriver::Sqlite;
    conn.path = "/nonexistent/db.sqlite";
    config.connections["src"] = conn;
    InventoryConfig fixed;
    fixed.name = "static";
    fixed.kind = InventoryKind::Ips;
    fixed.items.resize(1);
    fixed.items[0].fields["ip"] = {"192.0.2.1"};
    config.inventories["static"] = fixed;
    inventories = std::make_unique<InventoryService>(config);
  }
  RunRecord run(const JobConfig& job) {
    Runner runner(*inventories, [] { return kNow; }, stopping);
    return runner.run(job);
  }
};
}  // namespace

BOOST_FIXTURE_TEST_SUITE(runner, Fixture)

BOOST_AUTO_TEST_CASE(results_and_samples_pass_through_with_the_job_label) {
  auto job = std::make_shared<FakeJob>();
  job->invs = {"static"};
  job->body = [](JobContext& ctx) {
    JobOutput out;
    BOOST_TEST((ctx.now() == kNow));
    BOOST_TEST(ctx.inventory("static")->items.at(0).first("ip") == "192.0.2.1");
    BOOST_TEST(ctx.inventory("other") == nullptr);
    out.results.emplace_back("c", "t", Status::Warning, "w");
    out.samples.emplace_back(MetricDesc{"m", "h", MetricType::Gauge}, Labels{{"a", "b"}}, 1);
    return out;
  };
  RunRecord r = run(jobWith(job));
  BOOST_TEST((r.outcome == RunOutcome::Completed));
  BOOST_TEST(r.startedAt == 1795219200);
  BOOST_REQUIRE(r.output.results.size() == 1u);
  BOOST_TEST(r.output.samples.at(0).labels.at(0).first == "job");
  BOOST_TEST(r.output.samples.at(0).labels.at(0).second == "fake");
}

BOOST_AUTO_TEST_CASE(an_exception_is_a_bug_reported_as_unknown) {
  auto job = std::make_shared<FakeJob>();
  job->body = [](JobContext&) -> JobOutput { throw std::runtime_error("boom"); };
  RunRecord r = run(jobWith(job));
  BOOST_TEST((r.outcome == RunOutcome::Error));
  BOOST_REQUIRE(r.output.results.size() == 1u);
  BOOST_TEST(static_cast<int>(r.output.results[0].status) == 3);
  BOOST_TEST(r.output.results[0].summary == "fake: unknown: internal error: boom");
}

BOOST_AUTO_TEST_CASE(a_hung_job_times_out_and_its_late_result_is_dropped) {
  auto gate = std::make_shared<std::pair<std::mutex, std::condition_variable>>();
  auto released = std::make_shared<bool>(false);
  auto job = std::make_shared<FakeJob>();
  job->body = [gate, released](JobContext&) {
    std::unique_lock<std::mutex> lock(gate->first);
    gate->second.wait(lock, [&] { return *released; });  // ignores its deadline
    JobOutput out;
    out.results.emplace_back("late", "t", Status::Ok, "too late");
    return out;
  };
  auto handle = std::make_shared<RunHandle>();
  Runner runner(*inventories, [] { return kNow; }, stopping);
  RunRecord r = runner.run(jobWith(job, milliseconds(100)), handle);
  BOOST_TEST((r.outcome == RunOutcome::Timeout));
  BOOST_REQUIRE(r.output.results.size() == 1u);
  BOOST_TEST(r.output.results[0].check == "job");
  BOOST_TEST(r.output.results[0].summary.find("timeout after 100ms") != std::string::npos);
  BOOST_TEST(!handle->finished);  // the scheduler will not start it again yet
  {
    std::lock_guard<std::mutex> lock(gate->first);
    *released = true;
  }
  gate->second.notify_all();
  BOOST_TEST(eventuallyFinished(handle));
}

BOOST_AUTO_TEST_CASE(a_failed_inventory_is_its_own_unknown_result) {
  auto job = std::make_shared<FakeJob>();
  job->invs = {"mw"};
  job->body = [](JobContext& ctx) {
    JobOutput out;
    const auto* inv = ctx.inventory("mw");
    BOOST_TEST(!inv->error.empty());
    out.results.emplace_back("c", "t", Status::Ok, "checked what we had");
    return out;
  };
  RunRecord r = run(jobWith(job));
  BOOST_REQUIRE(r.output.results.size() == 2u);
  const auto& inv = r.output.results[1];
  BOOST_TEST(inv.check == "inventory");
  BOOST_TEST(inv.target == "mw");
  BOOST_TEST(static_cast<int>(inv.status) == 3);
  BOOST_TEST(inv.summary.find("inventory mw could not be read") == 0u, inv.summary);
  BOOST_TEST(inv.summary.find("no earlier list to fall back on") != std::string::npos, inv.summary);
}

BOOST_AUTO_TEST_SUITE_END()
