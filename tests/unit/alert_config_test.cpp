// SPDX-License-Identifier: Apache-2.0
// The `alerts:` section: defaults, per-job overrides, Telegram settings and
// secrets, rules, strictness; and check-config's validation of rule SQL.
#include <boost/test/unit_test.hpp>

#include <cstdlib>

#include "agent/config.hpp"
#include "agent/output/alert_rules.hpp"
#include "agent/output/alert_setup.hpp"
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

LoadResult load(const std::string& alerts, const std::string& jobAlerts = "") {
  std::string text = alerts +
                     "\njobs:\n  - name: host\n    kind: host\n    every: 1m\n    params: {}\n" +
                     jobAlerts;
  return loadConfigText(text, "agent.yaml", registry(), LoadOptions{});
}

std::string allErrors(const LoadResult& r) {
  std::string s;
  for (const auto& e : r.errors.errors()) s += e + "\n";
  return s;
}

bool hasError(const LoadResult& r, const std::string& needle) {
  return allErrors(r).find(needle) != std::string::npos;
}

const char* kTelegram = R"(
alerts:
  host: mx1
  policy:
    fail_after_warning: 3
    remind_every: 2h
    flap_threshold: 0
  telegram:
    api_base_url: http://127.0.0.1:8081
    bot_token: ${MXPULSE_TEST_TG_TOKEN}
    timeout: 3s
    retry_min: 2s
    retry_max: 1m
    expire_after: 2d
    send_interval: 0s
    chats:
      - chat_id: -1001234567890
      - chat_id: "@oncall"
        min_severity: critical
        include_unknown: false
  rules:
    - name: listed_zones
      severity: critical
      every: 5m
      timeout: 2s
      query: SELECT 'zen' AS zone
)";

}  // namespace

BOOST_AUTO_TEST_SUITE(alert_config)

BOOST_AUTO_TEST_CASE(defaults_without_an_alerts_section) {
  auto r = load("");
  BOOST_REQUIRE_MESSAGE(r.config, allErrors(r));
  const AlertsConfig& a = r.config->alerts;
  BOOST_TEST(!a.telegram.enabled);
  BOOST_TEST(a.policy.failAfterCritical == 1);
  BOOST_TEST(a.policy.failAfterWarning == 2);
  BOOST_TEST(a.policy.remindEverySeconds == 6 * 3600);
  BOOST_TEST(!a.host.empty());  // the host name
  BOOST_TEST(r.config->jobs.at(0).alerts.enabled);
  BOOST_TEST(r.config->jobs.at(0).alerts.policy.failAfterWarning == 2);
}

BOOST_AUTO_TEST_CASE(full_section_with_token_from_the_environment) {
  setenv("MXPULSE_TEST_TG_TOKEN", "123456:ABC-def_GHI", 1);
  auto r = load(kTelegram, "    alerts:\n      recover_after: 2\n      fail_after_critical: 2\n");
  BOOST_REQUIRE_MESSAGE(r.config, allErrors(r));
  const AlertsConfig& a = r.config->alerts;
  BOOST_TEST(a.host == "mx1");
  BOOST_TEST(a.telegram.enabled);
  BOOST_TEST(a.telegram.botToken == "123456:ABC-def_GHI");
  BOOST_TEST(a.telegram.apiBaseUrl == "http://127.0.0.1:8081");
  BOOST_TEST(a.telegram.timeout.count() == 3000);
  BOOST_TEST(a.telegram.expireAfter.count() == 2LL * 86400000);
  BOOST_REQUIRE(a.telegram.chats.size() == 2u);
  BOOST_TEST(a.telegram.chats[0].chatId == "-1001234567890");
  BOOST_TEST(a.telegram.chats[0].includeUnknown);
  BOOST_TEST(a.telegram.chats[1].chatId == "@oncall");
  BOOST_TEST(static_cast<int>(a.telegram.chats[1].minSeverity) ==
             static_cast<int>(Status::Critical));
  BOOST_TEST(!a.telegram.chats[1].includeUnknown);
  BOOST_REQUIRE(a.rules.size() == 1u);
  BOOST_TEST(a.rules[0].name == "listed_zones");
  BOOST_TEST(a.rules[0].every.count() == 300000);
  // The job inherits the global policy and overrides two keys.
  const AlertPolicy& p = r.config->jobs.at(0).alerts.policy;
  BOOST_TEST(p.failAfterWarning == 3);
  BOOST_TEST(p.remindEverySeconds == 7200);
  BOOST_TEST(p.recoverAfter == 2);
  BOOST_TEST(p.failAfterCritical == 2);
  // Runtime settings: the job's policy, a rule pseudo-job that fires at once.
  auto s = makeAlertSettings(*r.config);
  BOOST_TEST(s->policyFor("host").failAfterCritical == 2);
  BOOST_TEST(s->policyFor("rule:listed_zones").failAfterWarning == 1);
  BOOST_TEST(s->chats.size() == 2u);
}

BOOST_AUTO_TEST_CASE(token_from_a_file_and_never_in_messages) {
  test::TempDir dir;
  test::writeFile(dir.file("token"), "987654:FILE-secret-token\n");
  std::string text = std::string(kTelegram);
  text.replace(text.find("bot_token: ${MXPULSE_TEST_TG_TOKEN}"),
               std::string("bot_token: ${MXPULSE_TEST_TG_TOKEN}").size(),
               "bot_token_file: " + dir.file("token"));
  auto r = load(text);
  BOOST_REQUIRE_MESSAGE(r.config, allErrors(r));
  BOOST_TEST(r.config->alerts.telegram.botToken == "987654:FILE-secret-token");
  // A token with a stray space is refused without echoing it.
  test::writeFile(dir.file("token"), "987654:FILE secret\n");
  r = load(text);
  BOOST_TEST(!r.config);
  BOOST_TEST(hasError(r, "alerts.telegram.bot_token"));
  BOOST_TEST(allErrors(r).find("FILE secret") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(missing_token_variable_is_an_error) {
  unsetenv("MXPULSE_TEST_TG_TOKEN_UNSET");
  std::string text = kTelegram;
  text.replace(text.find("MXPULSE_TEST_TG_TOKEN"), std::string("MXPULSE_TEST_TG_TOKEN").size(),
               "MXPULSE_TEST_TG_TOKEN_UNSET");
  auto r = load(text);
  BOOST_TEST(!r.config);
  BOOST_TEST(hasError(r, "MXPULSE_TEST_TG_TOKEN_UNSET' is not set"));
}

BOOST_AUTO_TEST_CASE(unknown_keys_and_bad_values_are_rejected_with_positions) {
  setenv("MXPULSE_TEST_TG_TOKEN", "123456:ABC", 1);
  auto r = load(R"(
alerts:
  polcy: {}
  policy:
    fail_after_warning: 0
    remind_every: 10s
  telegram:
    api_base_url: ftp://example.com
    bot_token: ${MXPULSE_TEST_TG_TOKEN}
    timeout: 0s
    chats:
      - chat_id: not-a-chat
        min_severity: info
        colour: red
  rules:
    - name: Bad Name
      severity: ok
      query: SELECT 1
    - name: dup
      query: SELECT 1
    - name: dup
)",
                "    alerts:\n      enabled: maybe\n      fail_after_criticl: 2\n");
  BOOST_TEST(!r.config);
  for (const char* needle :
       {"alerts.polcy: unknown key", "alerts.policy.fail_after_warning: must be between 1 and",
        "alerts.policy.remind_every: must be at least 1m",
        "alerts.telegram.api_base_url: must start with https://",
        "alerts.telegram.timeout: must be between 1s and 5m",
        "alerts.telegram.chats[0].chat_id: must be a numeric chat id",
        "alerts.telegram.chats[0].min_severity: must be warning or critical",
        "alerts.telegram.chats[0].colour: unknown key",
        "alerts.rules[0](Bad Name).name: must match",
        "alerts.rules[0](Bad Name).severity: must be warning, critical or unknown",
        "alerts.rules[2](dup).name: duplicate rule name", "alerts.rules[2].query: is required",
        "jobs[0](host).alerts.enabled: must be true or false",
        "jobs[0](host).alerts.fail_after_criticl: unknown key"})
    BOOST_TEST(hasError(r, needle), "missing: " << needle << "\nin:\n" << allErrors(r));
  BOOST_TEST(hasError(r, "agent.yaml:3:3: alerts.polcy"));  // positioned
}

BOOST_AUTO_TEST_CASE(telegram_needs_chats_and_a_token) {
  auto r = load("alerts:\n  telegram:\n    timeout: 5s\n");
  BOOST_TEST(!r.config);
  BOOST_TEST(hasError(r, "alerts.telegram.bot_token: is required"));
  BOOST_TEST(hasError(r, "alerts.telegram.chats: must be a non-empty list"));
}

BOOST_AUTO_TEST_CASE(check_config_validates_rule_sql) {
  AlertRuleConfig good{"good", "SELECT job, count(*) AS value FROM v_latest GROUP BY job",
                       Status::Warning};
  AlertRuleConfig alerts{"alerts", "SELECT job, check_name FROM v_alerts WHERE phase = 'firing'",
                         Status::Warning};
  AlertRuleConfig syntax{"syntax", "SELEC * FROM v_latest", Status::Warning};
  AlertRuleConfig table{"table", "SELECT * FROM no_such_view", Status::Warning};
  AlertRuleConfig writes{"writes", "DELETE FROM latest", Status::Warning};
  AlertRuleConfig two{"two", "SELECT 1; SELECT 2", Status::Warning};
  BOOST_TEST(checkRules({good, alerts}).empty());
  auto problems = checkRules({good, syntax, table, writes, two});
  std::string all;
  for (const auto& p : problems) all += p + "\n";
  BOOST_TEST(problems.size() == 4u, all);
  BOOST_TEST(all.find("alerts.rules(syntax)") != std::string::npos);
  BOOST_TEST(all.find("syntax error") != std::string::npos);
  BOOST_TEST(all.find("no such table: no_such_view") != std::string::npos);
  BOOST_TEST(all.find("alerts.rules(writes)") != std::string::npos);
  BOOST_TEST(all.find("read-only") != std::string::npos);
  BOOST_TEST(all.find("only one statement") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(rule_rows_become_labelled_results) {
  AlertRuleConfig rule{"listed", "", Status::Critical};
  probes::SqlRows rows;
  rows.ok = true;
  rows.columns = {"zone", "value", "summary", "severity"};
  rows.rows = {{std::string("zen"), std::string("5"), std::string("5 IPs on zen"), std::nullopt},
               {std::string("sorbs"), std::string("4"), std::nullopt, std::string("warning")},
               {std::string("zen"), std::string("6"), std::nullopt, std::nullopt}};  // duplicate
  RunRecord rec = ruleRecord(rule, rows, 1800000000, 3);
  BOOST_TEST(rec.job == "rule:listed");
  BOOST_TEST(rec.kind == "rule");
  BOOST_TEST(std::string(runOutcomeName(rec.outcome)) == "completed");
  BOOST_REQUIRE(rec.output.results.size() == 2u);
  BOOST_TEST(rec.output.results[0].target == "zone=zen");  // value is not a label
  BOOST_TEST(rec.output.results[0].summary == "5 IPs on zen");
  BOOST_TEST(static_cast<int>(rec.output.results[0].status) == static_cast<int>(Status::Critical));
  BOOST_TEST(rec.output.results[1].summary == "listed: zone=sorbs (value 4)");
  BOOST_TEST(static_cast<int>(rec.output.results[1].status) == static_cast<int>(Status::Warning));

  probes::SqlRows failed;
  failed.error = "query timed out";
  rec = ruleRecord(rule, failed, 1800000000, 3);
  BOOST_TEST(std::string(runOutcomeName(rec.outcome)) == "error");
  BOOST_REQUIRE(rec.output.results.size() == 1u);
  BOOST_TEST(static_cast<int>(rec.output.results[0].status) == static_cast<int>(Status::Unknown));
  BOOST_TEST(rec.output.results[0].summary == "alert rule listed could not run: query timed out");
}

BOOST_AUTO_TEST_SUITE_END()
