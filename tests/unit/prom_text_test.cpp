// SPDX-License-Identifier: Apache-2.0
#include <boost/test/unit_test.hpp>
#include <cmath>

#include "agent/output/prom_text.hpp"

using namespace mxpulse;

BOOST_AUTO_TEST_SUITE(prom_text)

BOOST_AUTO_TEST_CASE(label_values_and_help_are_escaped) {
  BOOST_TEST(escapeLabelValue("a\\b\"c\nd") == "a\\\\b\\\"c\\nd");
  BOOST_TEST(escapeHelp("x\\y\nz \"q\"") == "x\\\\y\\nz \"q\"");
  BOOST_TEST(renderLabels({{"job", "a"}, {"target", "C:\\x\"y"}}) ==
             "job=\"a\",target=\"C:\\\\x\\\"y\"");
}

BOOST_AUTO_TEST_CASE(values_use_the_exposition_spelling) {
  BOOST_TEST(formatValue(3) == "3");
  BOOST_TEST(formatValue(-0.25) == "-0.25");
  BOOST_TEST(formatValue(1795219200) == "1795219200");
  BOOST_TEST(formatValue(std::nan("")) == "NaN");
  BOOST_TEST(formatValue(HUGE_VAL) == "+Inf");
  BOOST_TEST(formatValue(-HUGE_VAL) == "-Inf");
  BOOST_TEST(formatValue(0.1 + 0.2) == "0.30000000000000004");
}

BOOST_AUTO_TEST_CASE(names_are_validated) {
  BOOST_TEST(validMetricName("mxpulse_job_success"));
  BOOST_TEST(validMetricName("a:b_c1"));
  BOOST_TEST(!validMetricName("1abc"));
  BOOST_TEST(!validMetricName("a-b"));
  BOOST_TEST(!validMetricName(""));
  BOOST_TEST(validLabelName("target"));
  BOOST_TEST(!validLabelName("__name__"));
  BOOST_TEST(!validLabelName("a:b"));
}

BOOST_AUTO_TEST_CASE(families_render_once_with_help_type_and_sorted_series) {
  PromWriter w;
  MetricDesc g{"mxpulse_b", "B help", MetricType::Gauge};
  MetricDesc c{"mxpulse_a_total", "A help", MetricType::Counter};
  w.add(Sample(g, {{"x", "2"}}, 2));
  w.add(Sample(c, {}, 7));
  w.add(Sample(g, {{"x", "1"}}, 1));
  w.add(Sample(g, {{"x", "2"}}, 5));  // same series: last value wins, no duplicate line
  w.add("bad-name", "h", MetricType::Gauge, "", 1);  // dropped, never breaks the file
  BOOST_TEST(w.render() ==
             "# HELP mxpulse_a_total A help\n"
             "# TYPE mxpulse_a_total counter\n"
             "mxpulse_a_total 7\n"
             "# HELP mxpulse_b B help\n"
             "# TYPE mxpulse_b gauge\n"
             "mxpulse_b{x=\"1\"} 1\n"
             "mxpulse_b{x=\"2\"} 5\n");
}

BOOST_AUTO_TEST_CASE(first_help_wins_for_a_family) {
  PromWriter w;
  w.add("m", "first", MetricType::Gauge, "a=\"1\"", 1);
  w.add("m", "second", MetricType::Gauge, "a=\"2\"", 2);
  std::string out = w.render();
  BOOST_TEST(out.find("# HELP m first\n") == 0u);
  BOOST_TEST(out.find("second") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
