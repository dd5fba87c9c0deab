// SPDX-License-Identifier: Apache-2.0
#include <boost/test/unit_test.hpp>
#include <ctime>

#include "agent/cron.hpp"
#include "agent/report.hpp"

using namespace mxpulse;
using Clock = std::chrono::system_clock;

namespace {
Clock::time_point at(int y, int mo, int d, int h, int mi, int s = 0) {
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return Clock::from_time_t(timegm(&tm));
}
std::string iso(Clock::time_point t) { return isoTime(Clock::to_time_t(t)); }
CronExpr parse(const char* text) {
  std::string error;
  auto c = CronExpr::parse(text, error);
  BOOST_REQUIRE_MESSAGE(c.has_value(), text << ": " << error);
  return *c;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(cron)

BOOST_AUTO_TEST_CASE(daily_at_six_utc) {
  auto c = parse("0 6 * * *");
  BOOST_TEST(iso(*c.next(at(2026, 11, 21, 5, 59, 59))) == "2026-11-21T06:00:00Z");
  BOOST_TEST(iso(*c.next(at(2026, 11, 21, 6, 0, 0))) == "2026-11-22T06:00:00Z");
}

BOOST_AUTO_TEST_CASE(steps_ranges_lists_and_names) {
  BOOST_TEST(iso(*parse("*/15 * * * *").next(at(2026, 1, 1, 10, 7))) == "2026-01-01T10:15:00Z");
  BOOST_TEST(iso(*parse("5,35 9-17 * * mon-fri").next(at(2026, 11, 21, 12, 0))) ==
             "2026-11-23T09:05:00Z");  // 21st is a Saturday
  BOOST_TEST(iso(*parse("0 0 1 jan *").next(at(2026, 6, 1, 0, 0))) == "2027-01-01T00:00:00Z");
  BOOST_TEST(iso(*parse("0 12 * * 7").next(at(2026, 11, 21, 0, 0))) == "2026-11-22T12:00:00Z");
}

BOOST_AUTO_TEST_CASE(day_of_month_or_day_of_week_when_both_set) {
  // Vixie cron: the 1st of the month OR any Monday.
  auto c = parse("0 0 1 * mon");
  BOOST_TEST(iso(*c.next(at(2026, 11, 21, 0, 0))) == "2026-11-23T00:00:00Z");
  BOOST_TEST(iso(*c.next(at(2026, 11, 30, 0, 0))) == "2026-12-01T00:00:00Z");
}

BOOST_AUTO_TEST_CASE(leap_day_and_impossible_dates) {
  BOOST_TEST(iso(*parse("0 0 29 2 *").next(at(2026, 3, 1, 0, 0))) == "2028-02-29T00:00:00Z");
  BOOST_TEST(!parse("0 0 30 2 *").next(at(2026, 1, 1, 0, 0)).has_value());
}

BOOST_AUTO_TEST_CASE(rejects_bad_expressions_with_a_reason) {
  for (const char* bad : {"", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *",
                          "* * * 13 *", "* * * * 8", "*/0 * * * *", "5-1 * * * *", "a * * * *",
                          "* * * foo *"}) {
    std::string error;
    BOOST_TEST(!CronExpr::parse(bad, error).has_value(), "accepted '" << bad << "'");
    BOOST_TEST(!error.empty());
  }
}

BOOST_AUTO_TEST_SUITE_END()
