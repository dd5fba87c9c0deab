// SPDX-License-Identifier: Apache-2.0
// PowerMTA: XML and --dom parsing of the fixtures in tests/data/pmta (built
// from the documented structure, reference/formats.md §2), and the pure
// evaluator with hand-built observations and a fixed `now`.
#include <boost/test/unit_test.hpp>

#include <set>

#include "agent/config_errors.hpp"
#include "agent/yaml_reader.hpp"
#include "jobs/pmta.hpp"
#include "probes/pmta_client.hpp"
#include "tests/support/status_print.hpp"
#include "tests/support/test_support.hpp"

using namespace mxpulse;
using namespace mxpulse::probes;
using mxpulse::jobs::PmtaObservations;
using mxpulse::jobs::PmtaParams;

namespace {

std::string fixture(const std::string& name) {
  return test::readFile(test::sourceDir() + "/tests/data/pmta/" + name);
}

PmtaKeys keysOf(const std::string& name) {
  PmtaKeys k;
  std::string error;
  BOOST_TEST_REQUIRE(flattenPmtaXml(fixture(name), k, error), error);
  return k;
}

PmtaSnapshot fullSnapshot() {
  PmtaSnapshot s;
  s.source = "http";
  s.ok = true;
  readPmtaStatus(keysOf("status.xml"), s);
  s.queues = readPmtaQueues(keysOf("queues.xml"));
  s.domains = readPmtaGroups(keysOf("domains.xml"), "domain");
  s.vmtas = readPmtaGroups(keysOf("vmtas.xml"), "vmta");
  s.haveQueues = s.haveDomains = s.haveVmtas = true;
  return s;
}

const CheckResult* find(const JobOutput& out, const std::string& check, const std::string& target) {
  for (const auto& r : out.results)
    if (r.check == check && r.target == target) return &r;
  return nullptr;
}

double sample(const JobOutput& out, const std::string& name, const Labels& labels) {
  for (const auto& s : out.samples)
    if (s.name == name && s.labels == labels) return s.value;
  return -1;
}

std::optional<PmtaParams> parse(const std::string& yaml, ConfigErrors& errors) {
  YAML::Node node = YAML::Load(yaml);
  MapReader r(node, "params", errors);
  JobBuildEnv env;
  auto p = jobs::parsePmtaParams(r, env);
  r.finish();
  return p;
}

// 2026-05-01 12:00:00 UTC; the fixtures' oldest message is 2026-05-01 08:00 UTC.
constexpr std::int64_t kNow = 1777636800;

}  // namespace

BOOST_AUTO_TEST_SUITE(pmta)

BOOST_AUTO_TEST_CASE(status_xml_totals) {
  PmtaSnapshot s;
  readPmtaStatus(keysOf("status.xml"), s);
  BOOST_TEST(s.queuedRecipients == 15423);  // smtp 15420 + pipe 3
  BOOST_TEST(s.queuedByKind.at("smtp") == 15420);
  BOOST_TEST_REQUIRE(s.queuedMessages.has_value());
  BOOST_TEST(*s.queuedMessages == 14900);
  BOOST_TEST(s.connectionsIn == 12);
  BOOST_TEST(s.connectionsOut == 87);
  BOOST_TEST(s.total.outRcp == 1243000);
  BOOST_TEST(s.lastHour.outRcp == 40500);
  BOOST_TEST(s.lastMinute.inRcp == 700);
}

BOOST_AUTO_TEST_CASE(queues_xml_backoff_events_sources) {
  auto q = readPmtaQueues(keysOf("queues.xml"));
  BOOST_TEST_REQUIRE(q.size() == 5u);
  BOOST_TEST(q[0].domain == "gmail.com");
  BOOST_TEST(q[0].vmta == "vmta-ip1");
  BOOST_TEST(q[0].backoff());
  BOOST_TEST(q[0].backoffReason.find("421-4.7.28") == 0u);
  BOOST_TEST(q[0].events.size() == 2u);
  BOOST_TEST(q[0].events[0].type == "error");
  BOOST_TEST_REQUIRE(q[0].oldestTime.has_value());
  BOOST_TEST(*q[0].oldestTime == 1777622400);
  BOOST_TEST(!q[1].backoff());
  BOOST_TEST(q[2].disabledSources == std::vector<std::string>{"203.0.113.7"});
  BOOST_TEST(q[3].paused);
}

BOOST_AUTO_TEST_CASE(domain_and_vmta_lists) {
  auto d = readPmtaGroups(keysOf("domains.xml"), "domain");
  BOOST_TEST_REQUIRE(d.size() == 4u);
  BOOST_TEST(d[0].name == "gmail.com");
  BOOST_TEST(d[0].recipients == 10500);
  auto v = readPmtaGroups(keysOf("vmtas.xml"), "vmta");
  BOOST_TEST_REQUIRE(v.size() == 3u);
  BOOST_TEST(v[0].recipients == 11500);
  // Summed from queues when a list is not served.
  auto g = groupPmtaQueues(readPmtaQueues(keysOf("queues.xml")), true);
  BOOST_TEST(g.size() == 4u);
  for (const auto& x : g)
    if (x.name == "gmail.com") BOOST_TEST(x.recipients == 10500);
}

BOOST_AUTO_TEST_CASE(bad_documents_are_errors_not_zeros) {
  for (const char* name : {"malformed.xml", "truncated.xml", "entity-bomb.xml", "html-error.xml"}) {
    PmtaKeys k;
    std::string error;
    BOOST_TEST(!flattenPmtaXml(fixture(name), k, error), name);
    BOOST_TEST(!error.empty(), name);
  }
  PmtaKeys k;
  std::string error;
  BOOST_TEST(!flattenPmtaXml(fixture("entity-bomb.xml"), k, error));
  BOOST_TEST(error.find("DTD") != std::string::npos);
  BOOST_TEST(!flattenPmtaXml("", k, error));
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "<a>";
  BOOST_TEST(!flattenPmtaXml("<rsp><data>" + deep, k, error));
  // An empty list is fine (nothing queued).
  BOOST_TEST(flattenPmtaXml(fixture("empty-list.xml"), k, error), error);
  BOOST_TEST(readPmtaQueues(k).empty());
}

BOOST_AUTO_TEST_CASE(dom_output_matches_xml) {
  PmtaSnapshot s;
  readPmtaStatus(parsePmtaDom(fixture("dom-status.txt")), s);
  BOOST_TEST(s.queuedRecipients == 15420);
  BOOST_TEST(s.connectionsOut == 87);
  BOOST_TEST(!s.queuedMessages.has_value());
  auto q = readPmtaQueues(parsePmtaDom(fixture("dom-topqueues.txt")));
  BOOST_TEST_REQUIRE(q.size() == 3u);
  BOOST_TEST(q[0].backoff());
  // Inner quotes survive: the value runs to the last quote on the line.
  BOOST_TEST(q[0].events[0].text.find("\"421-4.7.28") != std::string::npos);
  BOOST_TEST(q[0].backoffReason == q[0].events[0].text);
}

BOOST_AUTO_TEST_CASE(times) {
  BOOST_TEST(parsePmtaTime("1777622400").value_or(0) == 1777622400);
  BOOST_TEST(parsePmtaTime("2026-05-01 09:59:12").has_value());
  BOOST_TEST(!parsePmtaTime("soon").has_value());
}

BOOST_AUTO_TEST_CASE(params_defaults_and_errors) {
  ConfigErrors errors("t");
  auto p = parse("{}", errors);
  BOOST_TEST_REQUIRE(p.has_value());
  BOOST_TEST(p->http.baseUrl == "http://127.0.0.1:8080");
  BOOST_TEST(p->cliFallback);
  ConfigErrors bad("t");
  BOOST_TEST(!parse("{url: 'ftp://x', queue_warn: 10, queue_crit: 5, backoff: maybe, "
                    "pmta_command: pmta, password: x}",
                    bad)
                  .has_value());
  BOOST_TEST(bad.size() >= 5u);
  ConfigErrors unknown("t");
  parse("{queue_wran: 5}", unknown);
  BOOST_TEST(unknown.size() == 1u);
}

BOOST_AUTO_TEST_CASE(evaluate_thresholds_and_findings) {
  ConfigErrors errors("t");
  auto p = parse(
      "{queue_warn: 10000, queue_crit: 100000, domain_queue_warn: 2000, "
      "domain_queue_crit: 10000, oldest_warn: 2h, oldest_crit: 6h, "
      "domains: [gmail.com, aol.com], top_domains: 2, top_vmtas: 1}",
      errors);
  BOOST_TEST_REQUIRE(p.has_value());
  PmtaObservations obs{fullSnapshot(), ""};
  JobOutput out = jobs::evaluatePmta(*p, obs, kNow);

  const CheckResult* total = find(out, "pmta_queue", "total");
  BOOST_TEST_REQUIRE(total);
  BOOST_TEST(total->status == Status::Warning);
  BOOST_TEST(total->summary.find("15,423 recipients queued") == 0u);
  BOOST_TEST(total->summary.find("warning at 10,000") != std::string::npos);

  // gmail.com: 10,500 queued (critical) and oldest 4h (warning) -> critical.
  const CheckResult* gmail = find(out, "pmta_domain_queue", "gmail.com");
  BOOST_TEST_REQUIRE(gmail);
  BOOST_TEST(gmail->status == Status::Critical);
  BOOST_TEST(gmail->summary.find("oldest 4h") != std::string::npos);
  // yahoo.com 2,500 >= 2,000 -> warning; outlook.com 1,200 not reported.
  BOOST_TEST(find(out, "pmta_domain_queue", "yahoo.com")->status == Status::Warning);
  BOOST_TEST(!find(out, "pmta_domain_queue", "outlook.com"));
  // A watched domain with nothing queued is reported as ok.
  BOOST_TEST(find(out, "pmta_domain_queue", "aol.com")->status == Status::Ok);

  const CheckResult* vmta = find(out, "pmta_vmta", "vmta-ip1");
  BOOST_TEST_REQUIRE(vmta);
  BOOST_TEST(vmta->status == Status::Warning);
  BOOST_TEST(vmta->summary.find("in backoff (gmail.com 9,000)") != std::string::npos);
  BOOST_TEST(vmta->summary.find("421-4.7.28") != std::string::npos);
  BOOST_TEST(!find(out, "pmta_vmta", "vmta-ip2"));

  const CheckResult* src = find(out, "pmta_disabled_source", "yahoo.com/vmta-ip1");
  BOOST_TEST_REQUIRE(src);
  BOOST_TEST(src->status == Status::Warning);
  BOOST_TEST(src->summary.find("203.0.113.7") != std::string::npos);

  // Bounded labels: top 2 domains + other; 1 VMTA (the one in backoff) + other.
  BOOST_TEST(sample(out, "mxpulse_pmta_domain_queued_recipients", {{"domain", "gmail.com"}}) ==
             10500);
  BOOST_TEST(sample(out, "mxpulse_pmta_domain_queued_recipients", {{"domain", "other"}}) == 2420);
  BOOST_TEST(sample(out, "mxpulse_pmta_domain_queued_recipients", {{"domain", "outlook.com"}}) ==
             -1);
  BOOST_TEST(sample(out, "mxpulse_pmta_vmta_queued_recipients", {{"vmta", "vmta-ip1"}}) == 11500);
  BOOST_TEST(sample(out, "mxpulse_pmta_vmta_queued_recipients", {{"vmta", "other"}}) == 3920);
  BOOST_TEST(sample(out, "mxpulse_pmta_vmta_backoff_queues", {{"vmta", "vmta-ip1"}}) == 1);
  BOOST_TEST(sample(out, "mxpulse_pmta_up", {{"source", "http"}}) == 1);
  BOOST_TEST(sample(out, "mxpulse_pmta_connections", {{"direction", "out"}}) == 87);
  BOOST_TEST(sample(out, "mxpulse_pmta_backoff_queues", {}) == 1);
  BOOST_TEST(sample(out, "mxpulse_pmta_domain_oldest_message_timestamp_seconds",
                    {{"domain", "gmail.com"}}) == 1777622400);
  std::set<std::string> names;
  for (const auto& s : out.samples) names.insert(s.name);
  BOOST_TEST(names.size() >= 14u);
}

BOOST_AUTO_TEST_CASE(checks_can_be_turned_off) {
  ConfigErrors errors("t");
  auto p = parse(
      "{queue_warn: 0, queue_crit: 0, domain_queue_warn: 0, domain_queue_crit: 0, "
      "oldest_warn: 0s, oldest_crit: 0s, backoff: off, disabled_source: off}",
      errors);
  BOOST_TEST_REQUIRE(p.has_value());
  JobOutput out = jobs::evaluatePmta(*p, PmtaObservations{fullSnapshot(), ""}, kNow);
  BOOST_TEST(out.results.size() == 1u);
  BOOST_TEST(out.results[0].status == Status::Ok);
}

BOOST_AUTO_TEST_CASE(unreadable_is_unknown_never_zero) {
  ConfigErrors errors("t");
  auto p = parse("{domains: [gmail.com], vmtas: [vmta-ip1]}", errors);
  PmtaObservations obs;
  obs.snapshot.source = "cli";
  obs.snapshot.error = "/usr/sbin/pmta: No such file or directory";
  obs.httpError = "connection refused by 127.0.0.1:8080";
  JobOutput out = jobs::evaluatePmta(*p, obs, kNow);
  BOOST_TEST_REQUIRE(out.results.size() == 3u);
  for (const auto& r : out.results) BOOST_TEST(r.status == Status::Unknown);
  BOOST_TEST(out.results[0].summary.find("HTTP: connection refused") != std::string::npos);
  BOOST_TEST(out.results[0].summary.find("CLI: /usr/sbin/pmta") != std::string::npos);
  BOOST_TEST(out.samples.size() == 1u);
  BOOST_TEST(sample(out, "mxpulse_pmta_up", {{"source", "none"}}) == 0);
  BOOST_TEST(sample(out, "mxpulse_pmta_queued_recipients", {}) == -1);

  // Status read but the queue list not: backoff is unknown, not "none".
  PmtaSnapshot partial;
  partial.ok = true;
  partial.source = "http";
  readPmtaStatus(keysOf("status.xml"), partial);
  partial.problems = {"/queues: HTTP 500 Internal Server Error"};
  JobOutput out2 = jobs::evaluatePmta(*p, PmtaObservations{partial, ""}, kNow);
  BOOST_TEST(find(out2, "pmta_queues", "queues")->status == Status::Unknown);
  BOOST_TEST(find(out2, "pmta_vmta", "vmta-ip1")->status == Status::Unknown);
  BOOST_TEST(find(out2, "pmta_domain_queue", "gmail.com")->status == Status::Unknown);
  BOOST_TEST(sample(out2, "mxpulse_pmta_backoff_queues", {}) == -1);
}

BOOST_AUTO_TEST_SUITE_END()
