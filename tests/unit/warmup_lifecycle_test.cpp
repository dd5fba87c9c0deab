// SPDX-License-Identifier: Apache-2.0
// The IP lifecycle evaluator, driven over simulated weeks with an injected
// clock: each step feeds the previous decision back as the stored state.
#include <boost/test/unit_test.hpp>

#include <ostream>

#include "jobs/warmup_lifecycle.hpp"

namespace mxpulse {
inline std::ostream& operator<<(std::ostream& o, Status s) {
  return o << statusName(s);
}
}  // namespace mxpulse

using namespace mxpulse;
using namespace mxpulse::jobs;

namespace {

std::string name(IpState s) {
  return jobs::ipStateName(s);
}

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kT0 = 1772409600;  // 2026-03-02 00:00:00 UTC (a Monday)

std::int64_t at(int day, int hour = 10) {
  return kT0 + day * kDay + hour * 3600;
}

WarmupPlan calendarPlan(int days, long long first = 100) {
  WarmupPlan p;
  p.name = "short";
  p.counting = DayCounting::CalendarDays;
  for (int i = 0; i < days; ++i) p.days.push_back(PlanDay{first * (i + 1), first * (i + 1) / 10});
  return p;
}

HealthView healthy(long long sent = 1000) {
  HealthView h;
  h.window = HealthCounts{sent, sent / 100, 0};  // 1% bounces
  return h;
}

HealthView bouncing(double rate, long long sent = 1000) {
  HealthView h;
  h.window = HealthCounts{sent, static_cast<long long>(rate * static_cast<double>(sent)), 0};
  return h;
}

struct Sim {
  LifecyclePolicy policy;
  std::map<std::string, WarmupPlan> plans;
  std::vector<IpInput> ips;
  std::vector<std::pair<std::int64_t, std::string>> log;  ///< (time, "ip FROM->TO cause")

  void add(const std::string& ip, IpState initial = IpState::Warming,
           const std::string& plan = "short") {
    IpInput in;
    in.ip = ip;
    in.plan = plan;
    in.initialState = initial;
    ips.push_back(in);
  }
  IpInput& ip(const std::string& name) {
    for (auto& i : ips)
      if (i.ip == name) return i;
    throw std::logic_error("no ip " + name);
  }
  std::vector<IpDecision> step(std::int64_t now) {
    auto ds = evaluateLifecycle(policy, plans, ips, now);
    for (size_t i = 0; i < ds.size(); ++i) {
      for (const auto& t : ds[i].transitions)
        log.emplace_back(now, ds[i].ip + " " + (t.from ? name(*t.from) : "-") + "->" + name(t.to) +
                                  " " + t.cause);
      ips[i].record = ds[i].record;
      ips[i].progress = ds[i].progress;
      ips[i].quarantinedFromActiveByOperator = false;
    }
    return ds;
  }
  const IpDecision& find(const std::vector<IpDecision>& ds, const std::string& name) {
    for (const auto& d : ds)
      if (d.ip == name) return d;
    throw std::logic_error("no decision for " + name);
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(warmup_lifecycle)

BOOST_AUTO_TEST_CASE(full_cycle_over_eleven_weeks) {
  Sim sim;
  sim.plans["short"] = calendarPlan(5);
  sim.policy.activeFor = 28 * kDay;
  sim.policy.retireFor = 7 * kDay;
  sim.policy.restFor = 30 * kDay;
  sim.add("192.0.2.10");
  sim.ip("192.0.2.10").health = healthy();
  std::vector<long long> retiringDaily;
  for (int day = 0; day <= 80; ++day) {
    auto ds = sim.step(at(day));
    const IpDecision& d = ds[0];
    if (d.record.state == IpState::Retiring) retiringDaily.push_back(d.quota->daily);
    if (day == 3) {
      BOOST_TEST(name(d.record.state) == "WARMING");
      BOOST_TEST(d.progress->day == 4);
      BOOST_TEST(d.quota->daily == 400);
      BOOST_TEST(d.sends);
    }
    if (day == 50) {
      BOOST_TEST(name(d.record.state) == "RESTING");
      BOOST_TEST(!d.sends);
      BOOST_TEST(!d.quota.has_value());
    }
  }
  std::vector<std::pair<std::int64_t, std::string>> expected = {
      {at(0), "192.0.2.10 -->WARMING initial"},
      {at(5), "192.0.2.10 WARMING->ACTIVE plan"},
      {at(33), "192.0.2.10 ACTIVE->RETIRING schedule"},
      {at(40), "192.0.2.10 RETIRING->RESTING schedule"},
      {at(70), "192.0.2.10 RESTING->WARMING schedule"},
      {at(75), "192.0.2.10 WARMING->ACTIVE plan"},
  };
  BOOST_REQUIRE_EQUAL(sim.log.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    BOOST_TEST(sim.log[i].first == expected[i].first, "transition " << i);
    BOOST_TEST(sim.log[i].second == expected[i].second);
  }
  // RETIRING shrinks from the active quota (plan's last day, 500) to day 1 (100).
  BOOST_REQUIRE_EQUAL(retiringDaily.size(), 7u);
  BOOST_TEST(retiringDaily.front() == 500);
  for (size_t i = 1; i < retiringDaily.size(); ++i)
    BOOST_TEST(retiringDaily[i] < retiringDaily[i - 1]);
  BOOST_TEST(retiringDaily.back() >= 100);
}

BOOST_AUTO_TEST_CASE(sending_days_skip_idle_and_thin_days) {
  Sim sim;
  WarmupPlan plan = calendarPlan(3);  // 100, 200, 300 a day
  plan.counting = DayCounting::SendingDays;
  plan.sendingDayMinShare = 0.5;
  sim.plans["short"] = plan;
  sim.add("192.0.2.20");
  IpInput& in = sim.ip("192.0.2.20");
  in.health = healthy();
  sim.step(at(0));                          // starts day 1 on 2026-03-02
  in.health.sentByDate["2026-03-02"] = 80;  // >= 50% of 100: counts
  BOOST_TEST(sim.step(at(1))[0].progress->day == 2);
  in.health.sentByDate["2026-03-03"] = 0;  // idle
  BOOST_TEST(sim.step(at(2))[0].progress->day == 2);
  in.health.sentByDate["2026-03-04"] = 99;  // < 50% of 200
  auto d = sim.step(at(3));
  BOOST_TEST(d[0].progress->day == 2);
  BOOST_TEST(d[0].progress->lastAction.find("not a sending day") != std::string::npos);
  in.health.sentByDate["2026-03-05"] = 100;
  BOOST_TEST(sim.step(at(4))[0].progress->day == 3);
  // Several runs a day advance once, at the day boundary.
  BOOST_TEST(sim.step(at(4, 18))[0].progress->day == 3);
}

BOOST_AUTO_TEST_CASE(bad_bounce_rate_holds_then_rolls_back) {
  Sim sim;
  sim.plans["short"] = calendarPlan(20);
  sim.policy.rollbackDays = 3;
  sim.add("192.0.2.30");
  IpInput& in = sim.ip("192.0.2.30");
  in.health = healthy();
  for (int day = 0; day <= 7; ++day) sim.step(at(day));
  BOOST_TEST(in.progress->day == 8);

  in.health = bouncing(0.06);  // over 5%, under 2x: hold
  auto d = sim.step(at(8));
  BOOST_TEST(d[0].progress->day == 8);
  BOOST_TEST(d[0].progress->heldDays == 1);
  BOOST_TEST(d[0].status == Status::Warning);
  BOOST_TEST(healthVerdictName(d[0].health) == std::string("over_limit"));
  d = sim.step(at(9));
  BOOST_TEST(d[0].progress->day == 8);
  BOOST_TEST(d[0].progress->heldDays == 2);

  in.health = bouncing(0.12);  // >= 2x 5%: roll back 3 days, at once
  d = sim.step(at(9, 14));
  BOOST_TEST(d[0].progress->day == 5);
  BOOST_TEST(d[0].progress->rollbacks == 1);
  BOOST_TEST(d[0].quota->daily == 500);
  // Not again within the window: the lower quota needs time to show.
  d = sim.step(at(9, 20));
  BOOST_TEST(d[0].progress->day == 5);
  d = sim.step(at(10, 15));  // a window later, still severe
  BOOST_TEST(d[0].progress->day == 2);
  BOOST_TEST(d[0].progress->rollbacks == 2);
  BOOST_TEST(name(d[0].record.state) == "WARMING");

  in.health = healthy();  // recovered: advances again
  d = sim.step(at(11));
  BOOST_TEST(d[0].progress->day == 3);
}

BOOST_AUTO_TEST_CASE(complaints_count_like_bounces) {
  Sim sim;
  sim.plans["short"] = calendarPlan(20);
  sim.add("192.0.2.31");
  IpInput& in = sim.ip("192.0.2.31");
  in.health = healthy(10000);
  sim.step(at(0));
  in.health.window.complaints = 15;  // 0.15% > 0.1%
  auto d = sim.step(at(1));
  BOOST_TEST(d[0].progress->day == 1);
  BOOST_TEST(d[0].progress->heldDays == 1);
  in.health.window.complaints = 25;  // 0.25% >= 0.2%
  d = sim.step(at(1, 12));
  BOOST_TEST(d[0].progress->rollbacks == 1);
}

BOOST_AUTO_TEST_CASE(too_little_volume_neither_holds_nor_rolls_back) {
  Sim sim;
  sim.plans["short"] = calendarPlan(20);
  sim.policy.minVolume = 100;
  sim.add("192.0.2.32");
  IpInput& in = sim.ip("192.0.2.32");
  in.health = bouncing(0.4, 50);
  sim.step(at(0));
  auto d = sim.step(at(1));
  BOOST_TEST(d[0].progress->day == 2);
  BOOST_TEST(healthVerdictName(d[0].health) == std::string("insufficient_volume"));
}

BOOST_AUTO_TEST_CASE(unknown_health_does_not_move_the_plan) {
  Sim sim;
  sim.plans["short"] = calendarPlan(20);
  sim.add("192.0.2.33");
  IpInput& in = sim.ip("192.0.2.33");
  in.health = healthy();
  sim.step(at(0));
  in.health.known = false;
  in.health.error = "accounting unreadable";
  auto d = sim.step(at(1));
  BOOST_TEST(d[0].progress->day == 1);
  BOOST_TEST(d[0].progress->dayDate == "2026-03-02");  // boundary left for a run with data
  in.health = healthy();
  d = sim.step(at(1, 11));
  BOOST_TEST(d[0].progress->day == 2);
}

BOOST_AUTO_TEST_CASE(severe_rates_quarantine_when_configured_and_release_later) {
  Sim sim;
  sim.plans["short"] = calendarPlan(20);
  sim.policy.severeQuarantines = true;
  sim.policy.releaseAfter = 7 * kDay;
  sim.add("192.0.2.40");
  IpInput& in = sim.ip("192.0.2.40");
  in.health = healthy();
  sim.step(at(0));
  in.health = bouncing(0.15);
  auto d = sim.step(at(1));
  BOOST_TEST(name(d[0].record.state) == "QUARANTINE");
  BOOST_TEST(d[0].record.cause == "health");
  BOOST_TEST(d[0].status == Status::Critical);
  BOOST_TEST(!d[0].sends);
  BOOST_TEST(!d[0].progress.has_value());
  BOOST_TEST(d[0].progressDropped);
  in.health = HealthView{};  // disabled: nothing sent
  d = sim.step(at(7));
  BOOST_TEST(name(d[0].record.state) == "QUARANTINE");
  d = sim.step(at(8));
  BOOST_TEST(name(d[0].record.state) == "WARMING");
  BOOST_TEST(d[0].record.cause == "release");
  BOOST_TEST(d[0].progress->day == 1);
}

BOOST_AUTO_TEST_CASE(active_ip_severe_bounces_quarantine_it) {
  Sim sim;
  sim.plans["short"] = calendarPlan(2);
  sim.add("192.0.2.41", IpState::Active);
  sim.ip("192.0.2.41").health = bouncing(0.07);
  auto d = sim.step(at(0));
  BOOST_TEST(name(d[0].record.state) == "ACTIVE");
  BOOST_TEST(d[0].status == Status::Warning);  // over the limit: warn, keep sending
  sim.ip("192.0.2.41").health = bouncing(0.11);
  d = sim.step(at(0, 12));
  BOOST_TEST(name(d[0].record.state) == "QUARANTINE");
}

BOOST_AUTO_TEST_CASE(listing_quarantines_and_a_warm_standby_takes_over) {
  Sim sim;
  sim.plans["short"] = calendarPlan(5);
  sim.policy.standbyColdAfter = 30 * kDay;
  sim.add("192.0.2.50", IpState::Active);
  sim.add("192.0.2.51", IpState::Standby);
  sim.step(at(0));
  sim.add("192.0.2.52", IpState::Standby);  // joins later: waited less
  sim.step(at(20));
  sim.ip("192.0.2.50").dnsbl.listedZones = {"zen.spamhaus.org"};
  sim.ip("192.0.2.50").dnsbl.rows = 2;
  auto d = sim.step(at(40));  // .51 idle 40 days (cold), .52 idle 20 days (warm)
  BOOST_TEST(name(sim.find(d, "192.0.2.50").record.state) == "QUARANTINE");
  BOOST_TEST(sim.find(d, "192.0.2.50").record.reason == "listed on zen.spamhaus.org");
  BOOST_TEST(name(sim.find(d, "192.0.2.52").record.state) == "ACTIVE");
  BOOST_TEST(sim.find(d, "192.0.2.52").record.cause == "standby");
  BOOST_TEST(name(sim.find(d, "192.0.2.51").record.state) == "STANDBY");
  BOOST_TEST(sim.find(d, "192.0.2.50").summary.find("192.0.2.52 takes over") != std::string::npos);

  // Still listed a day later: stays quarantined, no second replacement.
  d = sim.step(at(41));
  BOOST_TEST(name(sim.find(d, "192.0.2.51").record.state) == "STANDBY");
  // Clean on another zone for long does not release while still listed.
  sim.ip("192.0.2.50").dnsbl.clearSince = at(0);
  d = sim.step(at(48));
  BOOST_TEST(name(sim.find(d, "192.0.2.50").record.state) == "QUARANTINE");
  BOOST_TEST(sim.find(d, "192.0.2.50").summary.find("still listed on zen.spamhaus.org") !=
             std::string::npos);

  // Delisted on day 42 (the dnsbl row's `since`); an unknown zone blocks release.
  IpInput& q = sim.ip("192.0.2.50");
  q.dnsbl.listedZones.clear();
  q.dnsbl.clearSince = at(42, 6);
  q.dnsbl.unknownZones = {"b.barracudacentral.org"};
  d = sim.step(at(50));
  BOOST_TEST(name(sim.find(d, "192.0.2.50").record.state) == "QUARANTINE");
  BOOST_TEST(sim.find(d, "192.0.2.50").summary.find("unknown") != std::string::npos);
  q.dnsbl.unknownZones.clear();
  d = sim.step(at(49, 5));  // 6d23h after delisting
  BOOST_TEST(name(sim.find(d, "192.0.2.50").record.state) == "QUARANTINE");
  d = sim.step(at(49, 7));
  BOOST_TEST(name(sim.find(d, "192.0.2.50").record.state) == "WARMING");
  BOOST_TEST(sim.find(d, "192.0.2.50").record.cause == "release");
}

BOOST_AUTO_TEST_CASE(cold_standby_warms_first_and_none_left_is_said) {
  Sim sim;
  sim.plans["short"] = calendarPlan(5);
  sim.add("192.0.2.60", IpState::Active);
  sim.add("192.0.2.61", IpState::Active);
  sim.add("192.0.2.62", IpState::Standby);
  sim.step(at(0));
  for (const char* ip : {"192.0.2.60", "192.0.2.61"}) {
    sim.ip(ip).dnsbl.listedZones = {"bl.example"};
    sim.ip(ip).dnsbl.rows = 1;
  }
  auto d = sim.step(at(45));
  BOOST_TEST(name(sim.find(d, "192.0.2.62").record.state) == "WARMING");
  BOOST_TEST(sim.find(d, "192.0.2.62").progress->day == 1);
  BOOST_TEST(sim.find(d, "192.0.2.61").summary.find("no STANDBY IP") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(operator_quarantine_is_never_released_by_rule_but_replaced) {
  Sim sim;
  sim.plans["short"] = calendarPlan(5);
  sim.add("192.0.2.70", IpState::Active);
  sim.add("192.0.2.71", IpState::Standby);
  sim.step(at(0));
  IpInput& in = sim.ip("192.0.2.70");
  in.record = IpRecord{IpState::Quarantine, at(1), "operator", "manual", "operator"};
  in.quarantinedFromActiveByOperator = true;
  auto d = sim.step(at(1, 11));
  BOOST_TEST(name(sim.find(d, "192.0.2.71").record.state) == "ACTIVE");
  d = sim.step(at(60));
  BOOST_TEST(name(sim.find(d, "192.0.2.70").record.state) == "QUARANTINE");
  BOOST_TEST(sim.find(d, "192.0.2.70").summary.find("operator") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(dnsbl_quarantine_needs_dnsbl_results_to_release) {
  Sim sim;
  sim.plans["short"] = calendarPlan(5);
  sim.add("192.0.2.80");
  IpInput& in = sim.ip("192.0.2.80");
  in.record = IpRecord{IpState::Quarantine, at(0), "dnsbl", "listed on x", "agent"};
  auto d = sim.step(at(30));  // no dnsbl rows at all (job removed?)
  BOOST_TEST(name(d[0].record.state) == "QUARANTINE");
  BOOST_TEST(d[0].summary.find("no DNSBL results") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(helpers) {
  BOOST_TEST(utcDate(kT0) == "2026-03-02");
  BOOST_TEST(daysFromDate("2026-03-02") * kDay == kT0);
  BOOST_TEST(groupDigits(1234567) == "1,234,567");
  BOOST_TEST(groupDigits(999) == "999");
  BOOST_TEST(formatRate(0.05) == "5.0%");
  BOOST_TEST(formatRate(0.0012) == "0.12%");
  BOOST_TEST(parseIpState("warming").has_value());
  BOOST_TEST(!parseIpState("warm").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
