// SPDX-License-Identifier: Apache-2.0
// What the warmup job would change on a MailWizz delivery server (pure).
#include <boost/test/unit_test.hpp>

#include "jobs/warmup_sync.hpp"

using namespace mxpulse;
using namespace mxpulse::jobs;

namespace {

probes::MailwizzServer row(const std::string& status, long long hourly, long long daily,
                           long long monthly = 0) {
  probes::MailwizzServer s;
  s.serverId = 7;
  s.hostname = "mta1.example.com";
  s.status = status;
  s.hourlyQuota = hourly;
  s.dailyQuota = daily;
  s.monthlyQuota = monthly;
  return s;
}

SyncTarget warming(long long daily, long long hourly) {
  SyncTarget t;
  t.ip = "192.0.2.7";
  t.serverId = 7;
  t.state = IpState::Warming;
  t.sends = true;
  t.quota = PlanDay{daily, hourly};
  return t;
}

SyncTarget stopped(IpState s) {
  SyncTarget t;
  t.ip = "192.0.2.7";
  t.serverId = 7;
  t.state = s;
  t.sends = false;
  return t;
}

std::string changes(const ServerSyncPlan& p) {
  std::string out;
  for (const auto& c : p.changes) out += c.field + ":" + c.from + "->" + c.to + " ";
  return out;
}

const std::map<std::string, std::string> kNothingWritten;

}  // namespace

BOOST_AUTO_TEST_SUITE(warmup_sync)

BOOST_AUTO_TEST_CASE(writes_quotas_and_enables_a_warming_server) {
  auto p = planServerSync(warming(500, 63), row("inactive", 0, 0), kNothingWritten,
                          DriftPolicy::Report, true);
  BOOST_TEST(syncActionName(p.action) == std::string("update"));
  BOOST_TEST(changes(p) == "daily_quota:0->500 hourly_quota:0->63 status:inactive->active ");
  auto c = toMailwizzChange(p);
  BOOST_TEST(*c.dailyQuota == 500);
  BOOST_TEST(*c.hourlyQuota == 63);
  BOOST_TEST(*c.status == "active");
  BOOST_TEST(!c.monthlyQuota.has_value());
  BOOST_TEST(c.expect.status == "inactive");
}

BOOST_AUTO_TEST_CASE(in_use_counts_as_enabled_and_nothing_differs) {
  auto p = planServerSync(warming(500, 63), row("in-use", 63, 500), kNothingWritten,
                          DriftPolicy::Report, true);
  BOOST_TEST(syncActionName(p.action) == std::string("in_sync"));
  BOOST_TEST(p.changes.empty());
}

BOOST_AUTO_TEST_CASE(monthly_quota_only_when_configured_and_present) {
  SyncTarget t = warming(500, 63);
  t.writeMonthly = true;
  auto p = planServerSync(t, row("active", 63, 500, 0), kNothingWritten, DriftPolicy::Report, true);
  BOOST_TEST(changes(p) == "monthly_quota:0->15000 ");
  p = planServerSync(t, row("active", 63, 500, 0), kNothingWritten, DriftPolicy::Report, false);
  BOOST_TEST(p.changes.empty());
}

BOOST_AUTO_TEST_CASE(stopped_states_disable_and_leave_quotas_alone) {
  for (IpState s : {IpState::Quarantine, IpState::Resting, IpState::Standby}) {
    auto p = planServerSync(stopped(s), row("active", 63, 500), kNothingWritten,
                            DriftPolicy::Report, true);
    BOOST_TEST(changes(p) == "status:active->inactive ");
  }
  // Already not sending (disabled by MailWizz or a person): nothing to do.
  auto p = planServerSync(stopped(IpState::Quarantine), row("disabled", 63, 500), kNothingWritten,
                          DriftPolicy::Report, true);
  BOOST_TEST(syncActionName(p.action) == std::string("in_sync"));
}

BOOST_AUTO_TEST_CASE(mailwizz_warmup_plan_means_hands_off) {
  auto r = row("active", 10, 100);
  r.warmupPlanId = 3;
  auto p = planServerSync(warming(500, 63), r, kNothingWritten, DriftPolicy::Overwrite, true);
  BOOST_TEST(syncActionName(p.action) == std::string("mailwizz_warmup_plan"));
  BOOST_TEST(p.changes.empty());
}

BOOST_AUTO_TEST_CASE(missing_server_and_foreign_status) {
  auto p =
      planServerSync(warming(500, 63), std::nullopt, kNothingWritten, DriftPolicy::Report, true);
  BOOST_TEST(syncActionName(p.action) == std::string("missing"));
  p = planServerSync(warming(500, 63), row("pending-delete", 0, 0), kNothingWritten,
                     DriftPolicy::Overwrite, true);
  BOOST_TEST(syncActionName(p.action) == std::string("foreign_status"));
  BOOST_TEST(p.changes.empty());
}

BOOST_AUTO_TEST_CASE(hand_edit_is_drift_reported_or_overwritten) {
  std::map<std::string, std::string> last = {
      {"daily_quota", "400"}, {"hourly_quota", "50"}, {"status", "active"}};
  // Someone raised daily_quota to 9000 by hand; we now want 500.
  auto p =
      planServerSync(warming(500, 63), row("active", 50, 9000), last, DriftPolicy::Report, true);
  BOOST_TEST(syncActionName(p.action) == std::string("drift"));
  BOOST_TEST(p.changes.empty());
  BOOST_REQUIRE_EQUAL(p.drift.size(), 1u);
  BOOST_TEST(p.drift[0] == "daily_quota is 9,000 but we last wrote 400");

  p = planServerSync(warming(500, 63), row("active", 50, 9000), last, DriftPolicy::Overwrite, true);
  BOOST_TEST(syncActionName(p.action) == std::string("update"));
  BOOST_TEST(changes(p) == "daily_quota:9000->500 hourly_quota:50->63 ");
  BOOST_TEST(p.drift.size() == 1u);

  // Our own earlier write (the ramp moved on) is not drift.
  p = planServerSync(warming(500, 63), row("active", 50, 400), last, DriftPolicy::Report, true);
  BOOST_TEST(p.drift.empty());
  BOOST_TEST(syncActionName(p.action) == std::string("update"));

  // A hand edit that happens to equal what we want now is no conflict.
  p = planServerSync(warming(500, 63), row("active", 63, 500), last, DriftPolicy::Report, true);
  BOOST_TEST(syncActionName(p.action) == std::string("in_sync"));

  // Someone re-enabled a quarantined server by hand.
  std::map<std::string, std::string> off = {{"status", "inactive"}};
  p = planServerSync(stopped(IpState::Quarantine), row("in-use", 50, 400), off, DriftPolicy::Report,
                     true);
  BOOST_TEST(syncActionName(p.action) == std::string("drift"));
  BOOST_TEST(p.drift[0] == "status is 'in-use' but we last wrote 'inactive'");
}

BOOST_AUTO_TEST_SUITE_END()
