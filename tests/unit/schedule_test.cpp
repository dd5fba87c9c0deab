// SPDX-License-Identifier: Apache-2.0
#include <boost/test/unit_test.hpp>

#include "agent/schedule.hpp"

using namespace mxpulse;
using namespace std::chrono;
using Clock = system_clock;

namespace {
Schedule every(Millis d) {
  Schedule s;
  s.every = d;
  return s;
}
Schedule cronAt(const char* text) {
  Schedule s;
  std::string error;
  s.cron = CronExpr::parse(text, error);
  BOOST_REQUIRE(s.cron);
  return s;
}
const Clock::time_point kT0 = Clock::from_time_t(1795219200);  // 2026-11-21T00:00:00Z
}  // namespace

BOOST_AUTO_TEST_SUITE(schedule)

BOOST_AUTO_TEST_CASE(splay_is_deterministic_and_bounded) {
  Schedule s = every(minutes(5));
  Millis a = splayFor("mx1", "dnsbl", s, seconds(60));
  BOOST_TEST((a == splayFor("mx1", "dnsbl", s, seconds(60))));
  BOOST_TEST(a.count() >= 0);
  BOOST_TEST(a.count() < 60000);
  // Different hosts spread out (not all equal across a small fleet).
  int distinct = 0;
  Millis first = splayFor("host0", "dnsbl", s, seconds(60));
  for (int i = 1; i < 20; ++i)
    distinct += splayFor("host" + std::to_string(i), "dnsbl", s, seconds(60)) != first;
  BOOST_TEST(distinct >= 15);
  // Never more than half a short interval.
  BOOST_TEST(splayFor("mx1", "x", every(seconds(10)), seconds(60)).count() < 5000);
  BOOST_TEST(splayFor("mx1", "x", s, Millis(0)).count() == 0);
}

BOOST_AUTO_TEST_CASE(interval_first_run_is_after_the_splay) {
  BOOST_TEST((firstDue(every(minutes(5)), kT0, seconds(7)) == kT0 + seconds(7)));
}

BOOST_AUTO_TEST_CASE(interval_keeps_its_phase) {
  Schedule s = every(minutes(5));
  auto due = kT0 + seconds(7);
  BOOST_TEST((nextDue(s, due, due + milliseconds(3), seconds(7)) == due + minutes(5)));
}

BOOST_AUTO_TEST_CASE(no_catch_up_burst_after_downtime) {
  Schedule s = every(minutes(5));
  auto due = kT0;
  // The host was asleep for 3 hours: the next run is the next slot, once.
  auto now = kT0 + hours(3) + seconds(10);
  auto next = nextDue(s, due, now, Millis(0));
  BOOST_TEST((next > now));
  BOOST_TEST((next - now <= minutes(5)));
  BOOST_TEST((duration_cast<seconds>(next - kT0).count() % 300 == 0));
}

BOOST_AUTO_TEST_CASE(cron_runs_at_the_slot_plus_splay) {
  Schedule s = cronAt("0 6 * * *");
  auto first = firstDue(s, kT0, seconds(30));
  BOOST_TEST((first == kT0 + hours(6) + seconds(30)));
  BOOST_TEST((nextDue(s, first, first + seconds(2), seconds(30)) == first + hours(24)));
  // Late (after downtime): the next future slot, not the missed ones.
  BOOST_TEST((nextDue(s, first, first + hours(50), seconds(30)) == first + hours(72)));
}

BOOST_AUTO_TEST_SUITE_END()
