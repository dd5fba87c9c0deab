// SPDX-License-Identifier: Apache-2.0
// Alerts end to end inside one process: results -> alert state and outbox
// (one transaction) -> notifier -> a fake Telegram Bot API on loopback.
// Outages, flood control, bad HTML, hangs, undeliverable chats, expiry,
// recovery of rows a dead process left 'sending', silences, routing,
// grouping, SQL rules, metrics, and that the token never reaches the DB.
#include <boost/test/unit_test.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <set>

#include "agent/output/alert_rules.hpp"
#include "agent/output/result_sink.hpp"
#include "agent/output/telegram_notifier.hpp"
#include "agent/store/alert_store.hpp"
#include "agent/store/state_store.hpp"
#include "probes/telegram.hpp"
#include "tests/support/fake_telegram.hpp"
#include "tests/support/test_support.hpp"

using namespace mxpulse;
using test::FakeTelegram;
using namespace std::chrono_literals;

namespace {

const std::string kToken = "123456:TEST-token_abcdef";

std::int64_t now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

CheckResult result(const std::string& target, Status s, const std::string& summary = "") {
  return CheckResult("process", target, s,
                     summary.empty() ? target + " is " + statusName(s) : summary);
}

struct Env {
  test::TempDir dir;
  StateStore store;
  FakeTelegram fake{kToken};
  AlertSettings settings;
  TelegramConfig tg;
  std::string error;

  Env() {
    BOOST_REQUIRE_MESSAGE(store.open(db(), error), error);
    settings.host = "mx1";
    settings.defaults.flapThreshold = 0;
    settings.chats = {TelegramChat{"42", Status::Warning, true}};
    tg.enabled = true;
    tg.apiBaseUrl = fake.baseUrl();
    tg.botToken = kToken;
    tg.timeout = 2s;
    tg.retryMin = 1s;
    tg.retryMax = 2s;
    tg.sendInterval = 0s;
    tg.chats = settings.chats;
  }
  std::string db() const { return dir.file("state.db"); }

  bool record(std::vector<CheckResult> results, std::int64_t at = 0,
              const std::string& job = "host") {
    RunRecord r;
    r.job = job;
    r.kind = "host";
    r.startedAt = at ? at : now();
    r.output.results = std::move(results);
    bool ok = store.recordRun(r, error, &settings);
    BOOST_TEST(ok, error);
    return ok;
  }
  std::int64_t scalar(const std::string& sql) {
    std::string e;
    auto st = store.db().prepare(sql, e);
    BOOST_REQUIRE_MESSAGE(st, e);
    BOOST_REQUIRE(st.step() == SQLITE_ROW);
    return st.int64(0);
  }
  std::string text(const std::string& sql) {
    std::string e;
    auto st = store.db().prepare(sql, e);
    BOOST_REQUIRE_MESSAGE(st, e);
    BOOST_REQUIRE(st.step() == SQLITE_ROW);
    return st.text(0);
  }
  std::unique_ptr<TelegramNotifier> notifier() {
    auto n = std::make_unique<TelegramNotifier>(db(), tg);
    BOOST_REQUIRE_MESSAGE(n->open(error), error);
    return n;
  }
  /// Drains until `pred` or a timeout (retries are due after whole seconds).
  template <class Pred>
  bool drainUntil(TelegramNotifier& n, Pred pred, std::chrono::milliseconds timeout = 15s) {
    return test::eventually(
        [&] {
          n.drainOnce(Deadline::in(5s));
          return pred();
        },
        timeout);
  }
};

bool contains(const std::string& s, const std::string& needle) {
  return s.find(needle) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(alerts)

BOOST_AUTO_TEST_CASE(firing_and_resolved_reach_telegram_once_each) {
  Env env;
  env.record({result("pmtad", Status::Critical), result("mariadbd", Status::Ok)});
  BOOST_TEST(env.scalar("SELECT count(*) FROM outbox WHERE state = 'pending'") == 1);
  auto n = env.notifier();
  auto pass = n->drainOnce(Deadline::in(10s));
  BOOST_TEST(pass.sent == 1);
  auto reqs = env.fake.requests();
  BOOST_REQUIRE(reqs.size() == 1u);
  BOOST_TEST(reqs[0].valid, reqs[0].problem);
  BOOST_TEST(reqs[0].chatId == "42");
  BOOST_TEST(reqs[0].parseMode == "HTML");
  BOOST_TEST(contains(reqs[0].text, "<b>CRITICAL</b>"));
  BOOST_TEST(contains(reqs[0].text, "<code>pmtad</code>"));
  BOOST_TEST(!contains(reqs[0].text, "mariadbd"));
  BOOST_TEST(env.text("SELECT state FROM outbox") == "sent");

  env.record({result("pmtad", Status::Critical), result("mariadbd", Status::Ok)});  // no news
  BOOST_TEST(env.scalar("SELECT count(*) FROM outbox") == 1);
  env.record({result("pmtad", Status::Ok), result("mariadbd", Status::Ok)});
  n->drainOnce(Deadline::in(10s));
  reqs = env.fake.requests();
  BOOST_REQUIRE(reqs.size() == 2u);
  BOOST_TEST(contains(reqs[1].text, "RESOLVED"));
  BOOST_TEST(env.scalar("SELECT value FROM counters WHERE name = 'telegram_sends_total'") == 2);
  BOOST_TEST(env.scalar("SELECT count(*) FROM alert_events") == 2);
}

BOOST_AUTO_TEST_CASE(a_result_and_its_alert_commit_together_or_not_at_all) {
  Env env;
  env.record({result("pmtad", Status::Ok)});
  // Make the outbox insert fail: the whole run must roll back with it.
  BOOST_REQUIRE(
      env.store.db().exec("CREATE TRIGGER no_outbox BEFORE INSERT ON outbox BEGIN "
                          "SELECT RAISE(ABORT, 'outbox is full'); END",
                          env.error));
  RunRecord r;
  r.job = "host";
  r.kind = "host";
  r.startedAt = now();
  r.output.results = {result("pmtad", Status::Critical)};
  BOOST_TEST(!env.store.recordRun(r, env.error, &env.settings));
  BOOST_TEST(contains(env.error, "outbox is full"));
  BOOST_TEST(env.scalar("SELECT status FROM latest WHERE target = 'pmtad'") == 0);  // still ok
  BOOST_TEST(env.text("SELECT phase FROM alert_state WHERE target = 'pmtad'") == "ok");
  BOOST_TEST(env.scalar("SELECT count(*) FROM runs") == 1);
}

BOOST_AUTO_TEST_CASE(outage_then_recovery_delivers_everything_in_order) {
  Env env;
  env.tg.apiBaseUrl = "http://127.0.0.1:" + std::to_string(test::freePort());  // nobody listens
  std::int64_t t = now();
  env.record({result("a", Status::Critical)}, t);
  env.record({result("a", Status::Critical), result("b", Status::Critical)}, t + 1);
  env.record({result("a", Status::Ok), result("b", Status::Critical)}, t + 2);
  env.record({result("a", Status::Ok), result("b", Status::Ok)}, t + 3);
  const std::int64_t rows = env.scalar("SELECT count(*) FROM outbox");
  BOOST_REQUIRE(rows == 4);

  auto n = env.notifier();
  n->start();
  // During the outage only the oldest message is tried (order is kept).
  BOOST_TEST(
      test::eventually([&] { return env.scalar("SELECT max(attempts) FROM outbox") >= 2; }, 20s));
  BOOST_TEST(env.scalar("SELECT count(*) FROM outbox WHERE attempts > 0") == 1);
  BOOST_TEST(env.text("SELECT last_error FROM outbox ORDER BY id LIMIT 1").size() > 0u);

  TelegramConfig back = env.tg;
  back.apiBaseUrl = env.fake.baseUrl();
  n->reconfigure(back);
  BOOST_TEST(test::eventually(
      [&] { return env.scalar("SELECT count(*) FROM outbox WHERE state = 'sent'") == rows; }, 20s));
  n->stop();

  auto reqs = env.fake.requests();
  BOOST_REQUIRE(reqs.size() == static_cast<size_t>(rows));
  // In the order they were produced: a fires, b fires, a resolves, b resolves.
  BOOST_TEST((contains(reqs[0].text, "CRITICAL") && contains(reqs[0].text, "<code>a</code>")));
  BOOST_TEST((contains(reqs[1].text, "CRITICAL") && contains(reqs[1].text, "<code>b</code>")));
  BOOST_TEST((contains(reqs[2].text, "RESOLVED") && contains(reqs[2].text, "<code>a</code>")));
  BOOST_TEST((contains(reqs[3].text, "RESOLVED") && contains(reqs[3].text, "<code>b</code>")));
  for (const auto& r : reqs) {
    BOOST_TEST(r.valid, r.problem);
    // A refused connection proves nothing arrived: no "possibly repeated".
    BOOST_TEST(!contains(r.text, "possibly repeated"));
  }
  BOOST_TEST(env.scalar("SELECT value FROM counters WHERE name = 'telegram_send_errors_total'") >=
             2);
}

BOOST_AUTO_TEST_CASE(server_errors_are_retried_and_the_copy_is_marked) {
  Env env;
  env.fake.script({FakeTelegram::Reply::ServerError});
  env.record({result("pmtad", Status::Critical)});
  auto n = env.notifier();
  auto pass = n->drainOnce(Deadline::in(10s));
  BOOST_TEST(pass.retrying == 1);
  BOOST_TEST(env.scalar("SELECT uncertain FROM outbox") == 1);
  BOOST_TEST(contains(env.text("SELECT last_error FROM outbox"), "HTTP 500"));
  BOOST_TEST(env.drainUntil(*n, [&] { return env.fake.count() == 2; }));
  auto reqs = env.fake.requests();
  BOOST_TEST(!contains(reqs[0].text, "possibly repeated"));
  BOOST_TEST(contains(reqs[1].text, "possibly repeated"));
  BOOST_TEST(reqs[1].valid, reqs[1].problem);
  BOOST_TEST(env.text("SELECT state FROM outbox") == "sent");
  BOOST_TEST(env.scalar("SELECT attempts FROM outbox") == 2);
}

BOOST_AUTO_TEST_CASE(flood_control_waits_retry_after_for_every_chat) {
  Env env;
  env.fake.setRetryAfter(2);
  env.fake.script({FakeTelegram::Reply::TooManyRequests});
  env.settings.chats.push_back(TelegramChat{"43", Status::Warning, true});
  env.record({result("pmtad", Status::Critical)});  // one message per chat
  auto n = env.notifier();
  std::int64_t before = now();
  auto pass = n->drainOnce(Deadline::in(10s));
  BOOST_TEST(pass.retrying == 1);
  BOOST_TEST(pass.sent == 0);  // the other chat waits too: the flood limit is the bot's
  BOOST_TEST(env.fake.count() == 1u);
  BOOST_TEST(env.scalar("SELECT min(next_attempt_at) FROM outbox WHERE attempts = 1") >=
             before + 2);
  BOOST_TEST(contains(env.text("SELECT last_error FROM outbox WHERE attempts = 1"), "HTTP 429"));
  BOOST_TEST(env.drainUntil(
      *n, [&] { return env.scalar("SELECT count(*) FROM outbox WHERE state = 'sent'") == 2; }));
  for (const auto& r : env.fake.requests()) BOOST_TEST(!contains(r.text, "possibly repeated"));
}

BOOST_AUTO_TEST_CASE(html_refused_by_telegram_goes_out_as_plain_text) {
  Env env;
  env.fake.script({FakeTelegram::Reply::ParseError});
  env.record({result("pmtad", Status::Critical, "pmtad <down> & out")});
  auto n = env.notifier();
  auto pass = n->drainOnce(Deadline::in(10s));
  BOOST_TEST(pass.sent == 1);
  auto reqs = env.fake.requests();
  BOOST_REQUIRE(reqs.size() == 2u);
  BOOST_TEST(reqs[0].parseMode == "HTML");
  BOOST_TEST(reqs[1].parseMode == "");
  BOOST_TEST(reqs[1].text == env.text("SELECT plain_text FROM outbox"));
  BOOST_TEST(contains(reqs[1].text, "pmtad <down> & out"));
  BOOST_TEST(test::telegramHtmlText(reqs[0].text) == reqs[1].text);
}

BOOST_AUTO_TEST_CASE(a_hanging_api_times_out_and_the_resend_is_marked) {
  Env env;
  env.tg.timeout = 1s;
  env.fake.script({FakeTelegram::Reply::Hang});
  env.record({result("pmtad", Status::Critical)});
  auto n = env.notifier();
  auto pass = n->drainOnce(Deadline::in(10s));
  BOOST_TEST(pass.retrying == 1);
  BOOST_TEST(contains(env.text("SELECT last_error FROM outbox"), "no answer in time"));
  env.fake.releaseHung();
  BOOST_TEST(env.drainUntil(*n, [&] { return env.text("SELECT state FROM outbox") == "sent"; }));
  auto reqs = env.fake.requests();
  BOOST_REQUIRE(reqs.size() == 2u);
  BOOST_TEST(contains(reqs[1].text, "possibly repeated"));
}

BOOST_AUTO_TEST_CASE(undeliverable_messages_are_kept_failed_and_do_not_block) {
  Env env;
  env.fake.script({FakeTelegram::Reply::ChatNotFound});
  env.record({result("pmtad", Status::Critical)});
  auto n = env.notifier();
  auto pass = n->drainOnce(Deadline::in(10s));
  BOOST_TEST(pass.failed == 1);
  BOOST_TEST(env.text("SELECT state FROM outbox") == "failed");
  BOOST_TEST(contains(env.text("SELECT last_error FROM outbox"), "chat not found"));
  // The next message of the same chat is not held back by a failed one.
  env.record({result("pmtad", Status::Ok)});
  n->drainOnce(Deadline::in(10s));
  BOOST_TEST(env.scalar("SELECT count(*) FROM outbox WHERE state = 'sent'") == 1);
  // ...and the failed one can be queued again by the operator.
  BOOST_TEST(retryFailedOutbox(env.store.db(), 0, now(), env.error) == 1);
  n->drainOnce(Deadline::in(10s));
  BOOST_TEST(env.scalar("SELECT count(*) FROM outbox WHERE state = 'sent'") == 2);
}

BOOST_AUTO_TEST_CASE(old_messages_expire_into_failed_when_configured) {
  Env env;
  env.tg.expireAfter = 1h;
  env.record({result("pmtad", Status::Critical)}, now() - 7200);
  env.record({result("mariadbd", Status::Critical)});
  auto n = env.notifier();
  auto pass = n->drainOnce(Deadline::in(10s));
  BOOST_TEST(pass.expired == 1);
  BOOST_TEST(pass.sent == 1);
  BOOST_TEST(contains(env.text("SELECT last_error FROM outbox WHERE state = 'failed'"), "expired"));
  BOOST_TEST(contains(env.fake.requests().at(0).text, "mariadbd"));
}

BOOST_AUTO_TEST_CASE(rows_left_sending_by_a_dead_process_are_resent_marked) {
  Env env;
  env.record({result("pmtad", Status::Critical)});
  env.settings.chats = {TelegramChat{"77", Status::Warning, true}};
  env.record({result("mariadbd", Status::Critical)});
  pid_t dead = fork();
  if (dead == 0) _exit(0);
  waitpid(dead, nullptr, 0);
  // Chat 42: claimed by a process that died mid-send. Chat 77: claimed just
  // now by a live process (pid 1): left alone, and its chat waits.
  BOOST_REQUIRE(env.store.db().exec(
      "UPDATE outbox SET state = 'sending', attempts = 1, claimed_by = " + std::to_string(dead) +
          ", claim_token = 5, claimed_at = " + std::to_string(now()) +
          " WHERE chat_id = '42';"
          "UPDATE outbox SET state = 'sending', attempts = 1, claimed_by = 1, claim_token = 5, "
          "claimed_at = " +
          std::to_string(now()) + " WHERE chat_id = '77'",
      env.error));
  auto n = env.notifier();
  auto pass = n->drainOnce(Deadline::in(10s));
  BOOST_TEST(pass.recovered == 1);
  BOOST_TEST(pass.sent == 1);
  auto reqs = env.fake.requests();
  BOOST_REQUIRE(reqs.size() == 1u);
  BOOST_TEST(reqs[0].chatId == "42");
  BOOST_TEST(contains(reqs[0].text, "possibly repeated"));
  BOOST_TEST(env.text("SELECT state FROM outbox WHERE chat_id = '77'") == "sending");
  // A claim older than 2*timeout+60s is abandoned whoever holds it.
  BOOST_REQUIRE(env.store.db().exec(
      "UPDATE outbox SET claimed_at = claimed_at - 3600 WHERE chat_id = '77'", env.error));
  pass = n->drainOnce(Deadline::in(10s));
  BOOST_TEST(pass.recovered == 1);
  BOOST_TEST(env.text("SELECT state FROM outbox WHERE chat_id = '77'") == "sent");
}

BOOST_AUTO_TEST_CASE(the_token_never_reaches_the_db_or_errors) {
  Env env;
  env.tg.botToken = "999999:WRONG-secret-token-xyz";
  env.record({result("pmtad", Status::Critical)});
  auto n = env.notifier();
  auto pass = n->drainOnce(Deadline::in(10s));
  // 401: the token is wrong for every message; retried, not failed.
  BOOST_TEST(pass.retrying == 1);
  BOOST_TEST(env.text("SELECT state FROM outbox") == "pending");
  BOOST_TEST(contains(env.text("SELECT last_error FROM outbox"), "HTTP 401"));
  BOOST_TEST(env.fake.requests().at(0).token == "999999:WRONG-secret-token-xyz");  // it was used
  // Connection errors name the base URL, never the path with the token.
  env.tg.apiBaseUrl = "http://127.0.0.1:" + std::to_string(test::freePort()) + "/prefix";
  auto refused = probes::telegramSendMessage({env.tg.apiBaseUrl, env.tg.botToken}, "42", "x", "",
                                             Deadline::in(2s));
  BOOST_TEST(!contains(refused.description, "WRONG-secret"));
  BOOST_TEST(contains(refused.description, "127.0.0.1"));
  BOOST_TEST(probes::maskToken("GET /bot999999:WRONG-secret-token-xyz/x", env.tg.botToken) ==
             "GET /bot<token>/x");
  env.store.db().exec("PRAGMA wal_checkpoint(TRUNCATE)", env.error);
  for (const char* suffix : {"", "-wal"}) {
    std::string bytes = test::readFile(env.db() + suffix);
    BOOST_TEST(!contains(bytes, "WRONG-secret"), "token found in state.db" << suffix);
  }
}

BOOST_AUTO_TEST_CASE(fifty_alerts_of_one_run_are_grouped) {
  Env env;
  std::vector<CheckResult> results;
  for (int i = 0; i < 50; ++i)
    results.emplace_back(
        "dnsbl", "203.0.113." + std::to_string(i) + " zen.spamhaus.org", Status::Critical,
        "listed on zen.spamhaus.org: 127.0.0.2 (SBL) <https://check.spamhaus.org>");
  env.record(results, 0, "dnsbl");
  std::int64_t messages = env.scalar("SELECT count(*) FROM outbox");
  BOOST_TEST(messages >= 2);
  BOOST_TEST(messages <= 3);
  BOOST_TEST(env.scalar("SELECT sum(alerts) FROM outbox") == 50);
  auto n = env.notifier();
  n->drainOnce(Deadline::in(20s));
  BOOST_TEST(env.fake.count() == static_cast<size_t>(messages));
  for (const auto& r : env.fake.requests()) BOOST_TEST(r.valid, r.problem);  // HTML and <= 4096
}

BOOST_AUTO_TEST_CASE(silenced_alerts_are_recorded_but_not_sent) {
  Env env;
  std::int64_t id = 0;
  BOOST_REQUIRE(addSilence(env.store.db(), "203.0.113.7", now(), now() + 7200, "delisting asked",
                           id, env.error));
  std::int64_t old = 0;
  BOOST_REQUIRE(addSilence(env.store.db(), "203.0.113.8", now() - 7200, now() - 3600, "expired",
                           old, env.error));
  env.record({CheckResult("dnsbl", "203.0.113.7 zen.spamhaus.org", Status::Critical, "listed"),
              CheckResult("dnsbl", "203.0.113.8 zen.spamhaus.org", Status::Critical, "listed")},
             0, "dnsbl");
  BOOST_TEST(env.scalar("SELECT count(*) FROM outbox WHERE state = 'silenced'") == 1);
  BOOST_TEST(
      contains(env.text("SELECT payload FROM outbox WHERE state = 'silenced'"), "203.0.113.7"));
  BOOST_TEST(env.scalar("SELECT silence_id FROM alert_events WHERE target LIKE '203.0.113.7%'") ==
             id);
  auto n = env.notifier();
  n->drainOnce(Deadline::in(10s));
  auto reqs = env.fake.requests();
  BOOST_REQUIRE(reqs.size() == 1u);
  BOOST_TEST(!contains(reqs[0].text, "203.0.113.7 "));
  BOOST_TEST(contains(reqs[0].text, "203.0.113.8"));
  // Listing and removing.
  BOOST_TEST(listSilences(env.store.db(), now(), false, env.error).size() == 1u);
  BOOST_TEST(listSilences(env.store.db(), now(), true, env.error).size() == 2u);
  BOOST_TEST(removeSilence(env.store.db(), id, now(), env.error));
  BOOST_TEST(!removeSilence(env.store.db(), id, now(), env.error));
  BOOST_TEST(contains(env.error, "no active silence"));
  BOOST_TEST(silenceMatches("dnsbl/*", "dnsbl", "dnsbl", "x"));
  BOOST_TEST(silenceMatches("zen.spamhaus.org", "dnsbl", "dnsbl", "203.0.113.7 zen.spamhaus.org"));
  BOOST_TEST(!silenceMatches("203.0.113.1", "dnsbl", "dnsbl", "203.0.113.17 zen"));
}

BOOST_AUTO_TEST_CASE(routing_by_severity_to_several_chats) {
  Env env;
  env.settings.chats = {TelegramChat{"42", Status::Warning, true},
                        TelegramChat{"-100777", Status::Critical, false}};
  env.record({result("disk", Status::Warning)});
  env.record({result("disk", Status::Warning)});  // fires warning: team chat only
  BOOST_TEST(env.scalar("SELECT count(*) FROM outbox WHERE chat_id = '42'") == 1);
  BOOST_TEST(env.scalar("SELECT count(*) FROM outbox WHERE chat_id = '-100777'") == 0);
  env.record({result("disk", Status::Critical)});  // escalation: both
  BOOST_TEST(env.scalar("SELECT count(*) FROM outbox WHERE chat_id = '-100777'") == 1);
  auto n = env.notifier();
  n->drainOnce(Deadline::in(10s));
  BOOST_TEST(env.fake.count() == 3u);
  std::set<std::string> chats;
  for (const auto& r : env.fake.requests()) chats.insert(r.chatId);
  BOOST_TEST(chats.count("-100777") == 1u);
}

BOOST_AUTO_TEST_CASE(sql_rules_fire_resolve_and_fail_cleanly) {
  Env env;
  auto listed = [&](int n) {
    std::vector<CheckResult> rs;
    for (int i = 0; i < 6; ++i) {
      CheckResult r("dnsbl", "203.0.113." + std::to_string(i) + " zen", Status::Ok, "");
      r.facts.set("listed", i < n);
      r.facts.set("zone", "zen");
      r.status = i < n ? Status::Warning : Status::Ok;
      rs.push_back(r);
    }
    return rs;
  };
  AlertRuleConfig rule{"many_listed",
                       "SELECT json_extract(facts, '$.zone') AS zone, count(*) AS value FROM "
                       "v_latest WHERE check_name = 'dnsbl' AND json_extract(facts, '$.listed') "
                       "GROUP BY 1 HAVING count(*) > 3",
                       Status::Critical};
  env.settings.jobs["rule:many_listed"].policy = rulePolicy(env.settings.defaults);
  env.settings.jobs["dnsbl"].enabled = false;  // only the rule talks here
  auto evaluate = [&](const AlertRuleConfig& r) {
    RunRecord rec = evaluateRule(r, env.db(), now());
    BOOST_TEST(env.store.recordRun(rec, env.error, &env.settings), env.error);
    return rec;
  };
  env.record(listed(5), 0, "dnsbl");
  RunRecord rec = evaluate(rule);
  BOOST_TEST(std::string(runOutcomeName(rec.outcome)) == "completed");
  BOOST_REQUIRE(rec.output.results.size() == 1u);
  BOOST_TEST(rec.output.results[0].target == "zone=zen");
  BOOST_TEST(env.scalar("SELECT count(*) FROM outbox") == 1);
  BOOST_TEST(contains(env.text("SELECT payload FROM outbox"), "many_listed: zone=zen (value 5)"));
  evaluate(rule);  // still 5: no news
  BOOST_TEST(env.scalar("SELECT count(*) FROM outbox") == 1);
  env.record(listed(2), 0, "dnsbl");
  evaluate(rule);  // the row is gone: resolved
  BOOST_TEST(env.scalar("SELECT count(*) FROM outbox") == 2);
  BOOST_TEST(contains(env.text("SELECT payload FROM outbox ORDER BY id DESC LIMIT 1"), "RESOLVED"));
  BOOST_TEST(contains(env.text("SELECT payload FROM outbox ORDER BY id DESC LIMIT 1"),
                      "no longer returns"));

  // Broken rules fail with a clear reason, as a "could not check" alert.
  AlertRuleConfig invalid{"invalid", "SELECT nope FROM v_latest", Status::Warning};
  AlertRuleConfig slow{"slow",
                       "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
                       "SELECT count(*) FROM c",
                       Status::Warning, std::chrono::minutes(1), 200ms};
  AlertRuleConfig writes{"writes", "DELETE FROM latest", Status::Warning};
  std::int64_t latestRows = env.scalar("SELECT count(*) FROM latest");
  rec = evaluate(invalid);
  BOOST_TEST(contains(rec.error, "no such column: nope"));
  rec = evaluate(slow);
  BOOST_TEST(rec.error == "query timed out after 200ms (simplify it, or raise the rule's timeout)");
  BOOST_TEST(rec.durationMs < 5000);
  rec = evaluate(writes);
  BOOST_TEST(contains(rec.error, "writes to the database"));
  BOOST_TEST(env.scalar("SELECT count(*) FROM latest WHERE job = 'dnsbl'") == 6);
  BOOST_TEST(env.scalar("SELECT count(*) FROM latest") >= latestRows);
  BOOST_TEST(env.text("SELECT summary FROM latest WHERE job = 'rule:writes'") ==
             "alert rule writes could not run: the statement writes to the database; queries "
             "must be read-only");
  rec = evaluate(writes);  // twice unknown (fail_after_unknown 2): "could not check"
  BOOST_TEST(
      contains(env.text("SELECT payload FROM outbox ORDER BY id DESC LIMIT 1"), "COULD NOT CHECK"));
}

BOOST_AUTO_TEST_CASE(sink_runs_rules_and_writes_alert_metrics) {
  Env env;
  ResultSink::Settings s;
  s.textfile = env.dir.file("mxpulse.prom");
  s.jobs = {"host", "rule:down"};
  auto settings = std::make_shared<AlertSettings>(env.settings);
  settings->jobs["rule:down"].policy = rulePolicy(settings->defaults);
  s.alerts = settings;
  s.rules = {AlertRuleConfig{
      "down", "SELECT target FROM v_latest WHERE job = 'host' AND status = 'critical'",
      Status::Critical}};
  ResultSink sink(env.store, s, AgentGauges{"1.0", true, now(), 0});
  env.record({result("pmtad", Status::Critical)});
  BOOST_TEST(sink.runRules(true, env.error), env.error);
  BOOST_TEST(env.scalar("SELECT count(*) FROM alert_state WHERE job = 'rule:down' AND phase = "
                        "'firing'") == 1);
  auto n = env.notifier();
  n->drainOnce(Deadline::in(10s));
  BOOST_REQUIRE(sink.writeTextfile(env.error));
  std::string prom = test::readFile(s.textfile);
  BOOST_TEST(contains(prom, "mxpulse_alerts_firing{severity=\"critical\"} 2"));
  BOOST_TEST(contains(prom, "mxpulse_alerts_firing{severity=\"warning\"} 0"));
  BOOST_TEST(contains(prom, "mxpulse_alert_outbox_depth{state=\"pending\"} 0"));
  BOOST_TEST(contains(prom, "mxpulse_alert_outbox_depth{state=\"failed\"} 0"));
  BOOST_TEST(contains(prom, "mxpulse_telegram_sends_total 2"));
  BOOST_TEST(contains(prom, "mxpulse_telegram_send_errors_total 0"));
  BOOST_TEST(contains(prom, "# TYPE mxpulse_telegram_sends_total counter"));
  std::string promtool = "/usr/bin/promtool";
  if (test::fileExists(promtool)) {
    auto r = test::runProcess({"/bin/sh", "-c", promtool + " check metrics < " + s.textfile});
    BOOST_TEST(r.exitCode == 0, r.out << r.err);
  }
}

BOOST_AUTO_TEST_SUITE_END()
