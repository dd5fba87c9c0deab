// SPDX-License-Identifier: Apache-2.0
#include <boost/test/unit_test.hpp>

#include "agent/duration.hpp"

using namespace mxpulse;
using namespace std::chrono;

BOOST_AUTO_TEST_SUITE(duration)

BOOST_AUTO_TEST_CASE(parses_units_and_sequences) {
  BOOST_TEST(parseDuration("500ms")->count() == 500);
  BOOST_TEST(parseDuration("30s")->count() == 30000);
  BOOST_TEST(parseDuration("5m")->count() == 300000);
  BOOST_TEST(parseDuration("1h30m")->count() == 5400000);
  BOOST_TEST(parseDuration("7d")->count() == 7LL * 86400000);
  BOOST_TEST(parseDuration("2w")->count() == 14LL * 86400000);
  BOOST_TEST(parseDuration("0s")->count() == 0);
}

BOOST_AUTO_TEST_CASE(rejects_malformed_input) {
  for (const char* bad : {"", "5", "m", "5x", "-5m", "5 m", "1.5h", "99999999999999h", "5m30"})
    BOOST_TEST(!parseDuration(bad).has_value(), "accepted '" << bad << "'");
}

BOOST_AUTO_TEST_CASE(formats_shortest_exact_form) {
  BOOST_TEST(formatDuration(milliseconds(90000)) == "1m30s");
  BOOST_TEST(formatDuration(milliseconds(0)) == "0s");
  BOOST_TEST(formatDuration(milliseconds(86400000 + 500)) == "1d500ms");
  for (const char* s : {"1h30m", "2d", "45s", "250ms"})
    BOOST_TEST(formatDuration(*parseDuration(s)) == s);
}

BOOST_AUTO_TEST_SUITE_END()
