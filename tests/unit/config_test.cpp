// SPDX-License-Identifier: Apache-2.0
// Config loading: strict, positioned, all errors at once.
#include <boost/test/unit_test.hpp>

#include "agent/config.hpp"
#include "tests/support/test_support.hpp"

using namespace mxpulse;

namespace {
const JobRegistry& registry() {
  static JobRegistry r = [] {
    JobRegistry reg;
    registerBuiltinJobs(reg);
    return reg;
  }();
  return r;
}

LoadResult load(const std::string& text) {
  LoadOptions opts;
  opts.baseDir = "/base";
  return loadConfigText(text, "agent.yaml", registry(), opts);
}

bool hasError(const LoadResult& r, const std::string& needle) {
  for (const auto& e : r.errors.errors())
    if (e.find(needle) != std::string::npos) return true;
  return false;
}

std::string allErrors(const LoadResult& r) {
  std::string s;
  for (const auto& e : r.errors.errors()) s += e + "\n";
  return s;
}

const char* kMinimal = R"(
jobs:
  - name: host
    kind: host
    every: 1m
)";
}  // namespace

BOOST_AUTO_TEST_SUITE(config)

BOOST_AUTO_TEST_CASE(minimal_config_gets_defaults) {
  auto r = load(kMinimal);
  BOOST_REQUIRE_MESSAGE(r.config, allErrors(r));
  BOOST_TEST(r.config->jobs.size() == 1u);
  BOOST_TEST(r.config->agent.workers == 4);
  BOOST_TEST(r.config->agent.stateDb == "/var/lib/mxpulse/state.db");
  BOOST_TEST(r.config->jobs[0].timeout.count() == 30000);
  BOOST_TEST(r.config->jobs[0].schedule.every->count() == 60000);
}

BOOST_AUTO_TEST_CASE(relative_paths_resolve_against_the_config_directory) {
  auto r = load("agent: {state_db: var/s.db, textfile: t/x.prom}\n" + std::string(kMinimal));
  BOOST_REQUIRE(r.config);
  BOOST_TEST(r.config->agent.stateDb == "/base/var/s.db");
  BOOST_TEST(r.config->agent.textfile == "/base/t/x.prom");
}

BOOST_AUTO_TEST_CASE(every_error_is_reported_at_once_with_position) {
  auto r = load(R"(agent:
  workers: many
  default_timeout: 5 minutes
  colour: blue
jobs:
  - name: a
    kind: host
    every: 1m
    params: {disks: [/], bogus: 1}
  - name: a
    kind: host
    cron: "61 * * * *"
  - name: b
    kind: nosuchkind
    every: 1m
  - name: c
    kind: host
    every: 10s
    timeout: 20s
)");
  BOOST_TEST(!r.config);
  BOOST_TEST(r.errors.size() >= 7u, allErrors(r));
  BOOST_TEST(hasError(r, "agent.yaml:2:12: agent.workers: must be an integer"), allErrors(r));
  BOOST_TEST(hasError(r, "agent.yaml:3:20: agent.default_timeout: bad duration"), allErrors(r));
  BOOST_TEST(hasError(r, "agent.yaml:4:3: agent.colour: unknown key"), allErrors(r));
  BOOST_TEST(hasError(r, "jobs[0](a).params.bogus: unknown key"), allErrors(r));
  BOOST_TEST(hasError(r, "duplicate job name (first used on line 6)"), allErrors(r));
  BOOST_TEST(hasError(r, "minute: '61' is outside 0-59"), allErrors(r));
  BOOST_TEST(hasError(r, "unknown job kind 'nosuchkind' (known: "), allErrors(r));
  BOOST_TEST(hasError(r, "jobs[3](c).timeout: must be shorter than every"), allErrors(r));
}

BOOST_AUTO_TEST_CASE(typos_get_a_suggestion) {
  auto r = load("agent: {worker: 2}\n" + std::string(kMinimal));
  BOOST_TEST(hasError(r, "agent.worker: unknown key (did you mean 'workers'?)"), allErrors(r));
}

BOOST_AUTO_TEST_CASE(top_level_must_be_a_mapping) {
  BOOST_TEST(hasError(load("- a\n- b\n"), "found a list"));
  BOOST_TEST(hasError(load(""), "config is empty"));
  BOOST_TEST(hasError(load("just text"), "found a scalar"));
}

BOOST_AUTO_TEST_CASE(yaml_syntax_errors_have_line_and_column) {
  auto r = load("jobs:\n  - name: [unclosed\n");
  BOOST_REQUIRE(!r.config);
  BOOST_TEST(allErrors(r).find("agent.yaml:") == 0u, allErrors(r));
  BOOST_TEST(hasError(r, "YAML syntax error"), allErrors(r));
}

BOOST_AUTO_TEST_CASE(huge_config_is_refused_without_parsing) {
  std::string big(kMaxConfigBytes + 1, '#');
  auto r = load(big);
  BOOST_TEST(hasError(r, "the limit is 4 MiB"), allErrors(r));
}

BOOST_AUTO_TEST_CASE(missing_and_unreadable_files_say_what_to_do) {
  auto r = loadConfigFile("/nonexistent/agent.yaml", registry());
  BOOST_TEST(hasError(r, "/nonexistent/agent.yaml: cannot open config"), allErrors(r));
  BOOST_TEST(hasError(r, "--config"), allErrors(r));
  test::TempDir dir;
  auto r2 = loadConfigFile(dir.path(), registry());
  BOOST_TEST(hasError(r2, "not a regular file"), allErrors(r2));
}

BOOST_AUTO_TEST_CASE(jobs_need_a_schedule_and_a_valid_name) {
  auto r = load("jobs:\n  - name: Bad Name\n    kind: host\n");
  BOOST_TEST(hasError(r, "must match [a-z0-9][a-z0-9_-]*"), allErrors(r));
  BOOST_TEST(hasError(r, "needs a schedule"), allErrors(r));
  BOOST_TEST(hasError(load("jobs: []\n"), "no jobs configured"));
  BOOST_TEST(hasError(load("agent: {}\n"), "no jobs configured"));
}

BOOST_AUTO_TEST_CASE(every_and_cron_are_exclusive) {
  auto r = load("jobs:\n  - {name: a, kind: host, every: 1m, cron: '* * * * *'}\n");
  BOOST_TEST(hasError(r, "either every or cron"), allErrors(r));
}

BOOST_AUTO_TEST_CASE(default_timeout_shrinks_for_short_intervals) {
  auto r = load("jobs:\n  - {name: a, kind: host, every: 10s}\n");
  BOOST_REQUIRE(r.config);
  BOOST_TEST(r.config->jobs[0].timeout.count() == 5000);
}

BOOST_AUTO_TEST_CASE(inventories_are_validated) {
  auto r = load(R"(
connections:
  mw: {driver: mysql, database: mailwizz, password_file: /nonexistent}
inventories:
  doms:
    kind: domains
    items:
      - {domain: example.com, ips: [203.0.113.7, "2001:db8::1"], dkim_selectors: s1}
      - example.org
      - {domain: example.com}
      - {ips: [1.2.3.4]}
      - {domain: x.example, ips: [not-an-ip], colour: red}
  eps:
    kind: endpoints
    items: ["mx.example.com:25", "nope"]
  q1:
    kind: ips
    connection: mw
    query: "DELETE FROM mw_delivery_server"
  q2:
    kind: ips
    connection: nowhere
    query: "SELECT ip FROM t"
  q3:
    kind: ips
  q4:
    kind: galaxies
    items: []
jobs:
  - {name: a, kind: host, every: 1m}
)");
  BOOST_TEST(!r.config);
  BOOST_TEST(hasError(r, "duplicate domain 'example.com'"), allErrors(r));
  BOOST_TEST(hasError(r, "items[3].domain: is required"), allErrors(r));
  BOOST_TEST(hasError(r, "'not-an-ip' is not an IP address"), allErrors(r));
  BOOST_TEST(hasError(r, "items[4].colour: unknown key"), allErrors(r));
  BOOST_TEST(hasError(r, "'nope' is not host:port"), allErrors(r));
  BOOST_TEST(hasError(r, "q1.query: must be a single SELECT"), allErrors(r));
  BOOST_TEST(hasError(r, "unknown connection 'nowhere'"), allErrors(r));
  BOOST_TEST(hasError(r, "q3: needs items, or connection and query"), allErrors(r));
  BOOST_TEST(hasError(r, "q4.kind: must be domains, ips, endpoints or delivery_servers"),
             allErrors(r));
  BOOST_TEST(hasError(r, "cannot read secret file '/nonexistent'"), allErrors(r));
}

BOOST_AUTO_TEST_CASE(static_inventory_items_are_typed) {
  auto r = load(R"(
inventories:
  doms:
    kind: domains
    items:
      - {domain: example.com, ips: [203.0.113.7, "2001:db8::1"], dkim_selectors: s1}
      - example.org
jobs:
  - {name: a, kind: host, every: 1m}
)");
  BOOST_REQUIRE_MESSAGE(r.config, allErrors(r));
  const auto& inv = r.config->inventories.at("doms");
  BOOST_TEST(inv.items.size() == 2u);
  BOOST_TEST(inv.items[0].all("ips").size() == 2u);
  BOOST_TEST(inv.items[0].first("dkim_selectors") == "s1");
  BOOST_TEST(inv.items[1].first("domain") == "example.org");
}

BOOST_AUTO_TEST_CASE(secrets_come_from_environment_or_files_never_required_inline) {
  test::TempDir dir;
  test::writeFile(dir.file("pw"), "s3cret\n");
  setenv("MXPULSE_TEST_PW", "fromenv", 1);
  auto r = load("connections:\n  a: {database: d, password_file: " + dir.file("pw") +
                "}\n  b: {database: d, password: \"${MXPULSE_TEST_PW}\"}\n"
                "  c: {database: d, password: literal}\n" + std::string(kMinimal));
  BOOST_REQUIRE_MESSAGE(r.config, allErrors(r));
  BOOST_TEST(r.config->connections.at("a").password == "s3cret");
  BOOST_TEST(r.config->connections.at("b").password == "fromenv");
  BOOST_TEST(r.config->connections.at("c").password == "literal");
  BOOST_TEST(r.errors.warnings().size() == 1u);  // the inline literal
  auto missing = load("connections:\n  a: {database: d, password: \"${MXPULSE_TEST_UNSET_VAR}\"}\n" +
                      std::string(kMinimal));
  BOOST_TEST(hasError(missing, "environment variable 'MXPULSE_TEST_UNSET_VAR' is not set"),
             allErrors(missing));
}

BOOST_AUTO_TEST_CASE(dns_resolvers_must_be_host_port) {
  auto r = load("dns: {resolvers: ['127.0.0.1:53', '[::1]:5353', '::1:53', 'host', 'h:99999']}\n" +
                std::string(kMinimal));
  BOOST_TEST(hasError(r, "dns.resolvers[2]: '::1:53' is not host:port"), allErrors(r));
  BOOST_TEST(hasError(r, "dns.resolvers[3]"), allErrors(r));
  BOOST_TEST(hasError(r, "dns.resolvers[4]"), allErrors(r));
  BOOST_TEST(!hasError(r, "dns.resolvers[0]"), allErrors(r));
  BOOST_TEST(!hasError(r, "dns.resolvers[1]"), allErrors(r));
}

BOOST_AUTO_TEST_SUITE_END()
