// SPDX-License-Identifier: Apache-2.0
#include <yaml-cpp/yaml.h>
#include <boost/test/unit_test.hpp>

#include "agent/yaml_reader.hpp"
#include "jobs/warmup_plan.hpp"

using namespace mxpulse;
using namespace mxpulse::jobs;

namespace {

std::map<std::string, WarmupPlan> parse(const std::string& yaml, ConfigErrors& errors) {
  YAML::Node n = YAML::Load(yaml);
  MapReader r(n, "params", errors);
  auto plans = parseWarmupPlans(r, "plans");
  r.finish();
  return plans;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(warmup_plan)

BOOST_AUTO_TEST_CASE(default_plan_is_a_six_week_ramp) {
  WarmupPlan p = defaultWarmupPlan();
  BOOST_TEST(p.name == "default");
  BOOST_TEST(p.length() == 42);
  BOOST_TEST((p.counting == DayCounting::SendingDays));
  BOOST_TEST(p.quota(1).daily == 50);
  BOOST_TEST(p.quota(42).daily == 100000);
  BOOST_TEST(p.quota(1).hourly == 7);  // ceil(50 / 8)
  for (int d = 2; d <= 42; ++d) {
    BOOST_TEST(p.quota(d).daily >= p.quota(d - 1).daily, "day " << d);
    BOOST_TEST(p.quota(d).hourly * 8 >= p.quota(d).daily);
  }
  // Out of range days clamp.
  BOOST_TEST(p.quota(0).daily == 50);
  BOOST_TEST(p.quota(100).daily == 100000);
}

BOOST_AUTO_TEST_CASE(named_plans_with_days_or_ramp) {
  ConfigErrors errors("test");
  auto plans = parse(R"(
plans:
  fast:
    count: calendar_days
    hourly_share: 10%
    days: [200, 500, {daily: 1000, hourly: 250}, {daily: 2000}]
  slow:
    sending_day_min: 80%
    ramp: {first: 20, last: 5000, days: 60}
)",
                     errors);
  BOOST_TEST(errors.empty());
  BOOST_REQUIRE(plans.count("fast"));
  BOOST_REQUIRE(plans.count("slow"));
  BOOST_TEST(plans.count("default") == 1u);  // built-in stays available
  const WarmupPlan& f = plans["fast"];
  BOOST_TEST((f.counting == DayCounting::CalendarDays));
  BOOST_TEST(f.length() == 4);
  BOOST_TEST(f.quota(1).hourly == 20);
  BOOST_TEST(f.quota(3).hourly == 250);
  BOOST_TEST(f.quota(4).hourly == 200);
  const WarmupPlan& s = plans["slow"];
  BOOST_TEST(s.length() == 60);
  BOOST_TEST(s.sendingDayMinShare == 0.8);
  BOOST_TEST(s.quota(1).daily == 20);
  BOOST_TEST(s.quota(60).daily == 5000);
}

BOOST_AUTO_TEST_CASE(bad_plans_are_config_errors) {
  ConfigErrors errors("test");
  parse(R"(
plans:
  a: {days: [100], ramp: {first: 1, last: 2, days: 2}}
  b: {count: weekdays, days: [100]}
  c: {days: []}
  d: {days: [-5, abc]}
  e: {days: [100], colour: red}
  f: {ramp: {first: 500, last: 100}}
)",
        errors);
  std::string all;
  for (const auto& e : errors.errors()) all += e + "\n";
  BOOST_TEST(all.find("plans.a: give either days") != std::string::npos, all);
  BOOST_TEST(all.find("plans.b.count: must be sending_days or calendar_days") != std::string::npos);
  BOOST_TEST(all.find("plans.c.days: must be a non-empty list") != std::string::npos);
  BOOST_TEST(all.find("plans.d.days[0]") != std::string::npos);
  BOOST_TEST(all.find("plans.d.days[1]") != std::string::npos);
  BOOST_TEST(all.find("plans.e.colour: unknown key") != std::string::npos);
  BOOST_TEST(all.find("plans.f.ramp.last: must not be below first") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
