// SPDX-License-Identifier: Apache-2.0
// Telegram message text: escaping, length as Telegram counts it, truncation
// that never breaks markup, grouping, and routing by severity.
#include <boost/test/unit_test.hpp>

#include "agent/output/alert_message.hpp"
#include "tests/support/fake_telegram.hpp"

using namespace mxpulse;

namespace {

AlertEvent event(const std::string& target, Status severity, const std::string& summary,
                 NotificationKind kind = NotificationKind::Firing, Status previous = Status::Ok) {
  AlertEvent e;
  e.job = "dnsbl";
  e.check = "dnsbl";
  e.target = target;
  e.summary = summary;
  e.notification.kind = kind;
  e.notification.severity = severity;
  e.notification.previous = previous;
  e.notification.since = 1800000000;
  e.at = 1800007500;
  return e;
}

AlertNotification note(NotificationKind kind, Status severity, Status previous) {
  AlertNotification n;
  n.kind = kind;
  n.severity = severity;
  n.previous = previous;
  return n;
}

void requireValid(const MessageText& m, size_t limit) {
  size_t visible = 0;
  std::string problem = test::checkTelegramHtml(m.html, &visible);
  BOOST_TEST(problem.empty(), problem << " in: " << m.html.substr(0, 300));
  BOOST_TEST(visible <= limit);
  // The plain fallback is exactly what the HTML shows.
  BOOST_TEST(test::telegramHtmlText(m.html) == m.plain);
  BOOST_TEST(telegramLength(m.plain) == visible);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(alert_message)

BOOST_AUTO_TEST_CASE(escapes_only_what_the_bot_api_needs) {
  BOOST_TEST(escapeHtml("a<b>&c\"d'") == "a&lt;b&gt;&amp;c\"d'");
  BOOST_TEST(escapeHtml("&amp;") == "&amp;amp;");  // text, not markup: escaped again
}

BOOST_AUTO_TEST_CASE(counts_length_in_utf16_units) {
  BOOST_TEST(telegramLength("abc") == 3u);
  BOOST_TEST(telegramLength("\xD0\x96") == 1u);          // Cyrillic Zhe: one unit
  BOOST_TEST(telegramLength("\xF0\x9F\x94\xB4") == 2u);  // emoji: a surrogate pair
  BOOST_TEST(telegramLength("\xE2\x9C\x85x") == 2u);
}

BOOST_AUTO_TEST_CASE(truncation_cuts_on_code_points_and_marks_the_cut) {
  BOOST_TEST(truncateText("hello", 10) == "hello");
  BOOST_TEST(truncateText("hello world", 6) == "hello\xE2\x80\xA6");
  std::string cyr;
  for (int i = 0; i < 10; ++i) cyr += "\xD0\x96";
  std::string cut = truncateText(cyr, 5);
  BOOST_TEST(telegramLength(cut) == 5u);
  BOOST_TEST(cut.size() == 4 * 2 + 3u);  // four whole letters + the ellipsis
  // An emoji never gets split in half.
  BOOST_TEST(truncateText("ab\xF0\x9F\x94\xB4"
                          "cd",
                          4) == "ab\xE2\x80\xA6");
  // Control characters and invalid bytes cannot reach Telegram.
  BOOST_TEST(truncateText("a\tb\x01\n", 10) == "a b \n");
  BOOST_TEST(truncateText("a\xFF"
                          "b",
                          10) ==
             "a\xEF\xBF\xBD"
             "b");
  BOOST_TEST(truncateText("a\xC3"
                          "b",
                          10) ==
             "a\xEF\xBF\xBD"
             "b");  // broken sequence
}

BOOST_AUTO_TEST_CASE(one_alert_reads_well_and_is_valid_html) {
  auto msgs = buildAlertMessages("mx1",
                                 {event("203.0.113.7 zen.spamhaus.org", Status::Critical,
                                        "listed on zen (127.0.0.2 <SBL> & more)")},
                                 4000);
  BOOST_REQUIRE(msgs.size() == 1u);
  requireValid(msgs[0], 4000);
  BOOST_TEST(msgs[0].html.find("<b>CRITICAL</b>") != std::string::npos);
  BOOST_TEST(msgs[0].html.find("<code>203.0.113.7 zen.spamhaus.org</code>") != std::string::npos);
  BOOST_TEST(msgs[0].html.find("&lt;SBL&gt; &amp; more") != std::string::npos);
  BOOST_TEST(msgs[0].plain.find("<SBL> & more") != std::string::npos);
  BOOST_TEST(msgs[0].plain.find("mxpulse @ mx1") == 0u);
  BOOST_TEST(msgs[0].alerts == 1);
}

BOOST_AUTO_TEST_CASE(every_kind_has_its_wording) {
  auto text = [](NotificationKind k, Status s, Status p) {
    auto m = buildAlertMessages("h", {event("t", s, "sum", k, p)}, 4000);
    requireValid(m.at(0), 4000);
    return m.at(0).plain;
  };
  BOOST_TEST(text(NotificationKind::Firing, Status::Unknown, Status::Ok).find("COULD NOT CHECK") !=
             std::string::npos);
  BOOST_TEST(text(NotificationKind::Changed, Status::Critical, Status::Warning)
                 .find("ESCALATED to CRITICAL (was warning)") != std::string::npos);
  BOOST_TEST(text(NotificationKind::Changed, Status::Warning, Status::Critical)
                 .find("NOW WARNING (was critical)") != std::string::npos);
  BOOST_TEST(text(NotificationKind::Resolved, Status::Ok, Status::Critical)
                 .find("RESOLVED (was critical for 2h5m)") != std::string::npos);
  BOOST_TEST(text(NotificationKind::Reminder, Status::Critical, Status::Critical)
                 .find("STILL CRITICAL (for 2h5m)") != std::string::npos);
  BOOST_TEST(text(NotificationKind::Flapping, Status::Critical, Status::Ok).find("FLAPPING") !=
             std::string::npos);
  BOOST_TEST(text(NotificationKind::FlapEnded, Status::Ok, Status::Critical)
                 .find("STOPPED FLAPPING, now OK") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(fifty_listings_become_few_messages_under_the_limit) {
  std::vector<AlertEvent> events;
  for (int i = 0; i < 50; ++i)
    events.push_back(event("203.0.113." + std::to_string(i) + " zen.spamhaus.org", Status::Critical,
                           "listed on zen.spamhaus.org: 127.0.0.2 (SBL: Spamhaus SBL data) & "
                           "127.0.0.4 (XBL: CBL data) <https://check.spamhaus.org/>"));
  auto msgs = buildAlertMessages("mx1.example.com", events, 4000);
  BOOST_TEST(msgs.size() >= 2u);
  BOOST_TEST(msgs.size() <= 4u);
  int total = 0;
  for (size_t i = 0; i < msgs.size(); ++i) {
    requireValid(msgs[i], 4000);
    total += msgs[i].alerts;
    std::string part = "(" + std::to_string(i + 1) + "/" + std::to_string(msgs.size()) + ")";
    BOOST_TEST(msgs[i].plain.find(part) != std::string::npos);
    BOOST_TEST(msgs[i].plain.find("50 alerts") != std::string::npos);
  }
  BOOST_TEST(total == 50);
}

BOOST_AUTO_TEST_CASE(a_huge_summary_is_truncated_without_breaking_markup) {
  std::string huge;
  for (int i = 0; i < 3000; ++i) huge += "<&>\xD0\x96";
  std::string target(5000, 'x');
  auto msgs = buildAlertMessages("mx1", {event(target, Status::Warning, huge)}, 4000);
  BOOST_REQUIRE(msgs.size() == 1u);
  requireValid(msgs[0], 4000);
  BOOST_TEST(msgs[0].plain.find("\xE2\x80\xA6") != std::string::npos);
  // Even a message built with the repeat note stays within Telegram's limit.
  requireValid(prependRepeatNote(msgs[0]), 4096);
}

BOOST_AUTO_TEST_CASE(worst_news_first) {
  auto msgs = buildAlertMessages(
      "h",
      {event("a", Status::Ok, "fine", NotificationKind::Resolved, Status::Critical),
       event("b", Status::Warning, "meh"), event("c", Status::Critical, "bad")},
      4000);
  BOOST_REQUIRE(msgs.size() == 1u);
  const std::string& p = msgs[0].plain;
  BOOST_TEST(p.find("bad") < p.find("meh"));
  BOOST_TEST(p.find("meh") < p.find("fine"));
  BOOST_TEST(static_cast<int>(msgs[0].worst) == static_cast<int>(Status::Critical));
}

BOOST_AUTO_TEST_CASE(silenced_messages_say_so) {
  auto msgs = buildAlertMessages("h", {event("a", Status::Critical, "bad")}, 4000, true);
  BOOST_TEST(msgs.at(0).plain.find("silenced") != std::string::npos);
  requireValid(msgs[0], 4000);
}

BOOST_AUTO_TEST_CASE(routing_by_severity) {
  TelegramChat pager{"1", Status::Critical, false};
  TelegramChat team{"2", Status::Warning, true};
  using K = NotificationKind;
  const Status O = Status::Ok, W = Status::Warning, C = Status::Critical, U = Status::Unknown;
  BOOST_TEST(!chatWants(pager, note(K::Firing, W, O)));
  BOOST_TEST(chatWants(team, note(K::Firing, W, O)));
  BOOST_TEST(chatWants(pager, note(K::Firing, C, O)));
  BOOST_TEST(chatWants(pager, note(K::Changed, C, W)));  // escalation reaches the pager
  BOOST_TEST(chatWants(pager, note(K::Changed, W, C)));  // and so does the way down
  BOOST_TEST(chatWants(pager, note(K::Resolved, O, C)));
  BOOST_TEST(!chatWants(pager, note(K::Resolved, O, W)));  // it never heard of that one
  BOOST_TEST(!chatWants(pager, note(K::Firing, U, O)));    // include_unknown: false
  BOOST_TEST(chatWants(team, note(K::Firing, U, O)));
  BOOST_TEST(chatWants(pager, note(K::Changed, U, C)));  // its critical became "could not check"
}

BOOST_AUTO_TEST_CASE(test_message_is_valid) {
  MessageText m = buildTestMessage("mx1 <&>", 1800000000);
  requireValid(m, 4096);
  // The host name is escaped in the HTML and kept verbatim in the plain text.
  BOOST_TEST(m.html.find("mxpulse @ mx1 &lt;&amp;&gt;") != std::string::npos, m.html);
  BOOST_TEST(m.plain.find("mxpulse @ mx1 <&>") != std::string::npos, m.plain);
  BOOST_TEST(m.html.find("1800000000") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(ages) {
  BOOST_TEST(formatAge(45) == "45s");
  BOOST_TEST(formatAge(90) == "1m30s");
  BOOST_TEST(formatAge(7500) == "2h5m");
  BOOST_TEST(formatAge(3 * 86400 + 7200) == "3d2h");
}

BOOST_AUTO_TEST_SUITE_END()
