// SPDX-License-Identifier: Apache-2.0
// The alert policy as sequences of (time, status) with an injected clock.
#include <boost/test/unit_test.hpp>

#include <ostream>
#include <random>

#include "agent/output/alert_policy.hpp"

using namespace mxpulse;

namespace mxpulse {
std::ostream& operator<<(std::ostream& o, AlertPhase p) {
  return o << alertPhaseName(p);
}
std::ostream& operator<<(std::ostream& o, NotificationKind k) {
  return o << notificationKindName(k);
}
}  // namespace mxpulse

namespace {

constexpr std::int64_t T0 = 1800000000;  // an arbitrary fixed "now"
constexpr Status O = Status::Ok, W = Status::Warning, C = Status::Critical, U = Status::Unknown;

/// Feeds statuses one minute apart; returns the notifications by index.
struct Run {
  AlertPolicy policy;
  AlertState state;
  std::int64_t now = T0;
  std::vector<std::pair<size_t, AlertNotification>> notes;
  size_t steps = 0;

  std::optional<AlertNotification> step(Status s, std::int64_t advance = 60) {
    now += advance;
    AlertStep r = stepAlert(state, s, now, policy);
    state = r.state;
    if (r.notification) notes.emplace_back(steps, *r.notification);
    ++steps;
    checkInvariant();
    return r.notification;
  }
  void feed(std::initializer_list<Status> seq) {
    for (Status s : seq) step(s);
  }
  void checkInvariant() const {
    if (state.flapping) return;
    Status effective = state.phase == AlertPhase::Firing ? state.severity : Status::Ok;
    BOOST_TEST(static_cast<int>(state.announced) == static_cast<int>(effective));
  }
  std::vector<NotificationKind> kinds() const {
    std::vector<NotificationKind> out;
    for (const auto& n : notes) out.push_back(n.second.kind);
    return out;
  }
};

std::string str(const std::vector<NotificationKind>& kinds) {
  std::string out;
  for (auto k : kinds) out += std::string(out.empty() ? "" : ",") + notificationKindName(k);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(alert_policy)

BOOST_AUTO_TEST_CASE(critical_fires_at_once_and_resolves_after_one_ok) {
  Run r;
  auto n = r.step(C);
  BOOST_REQUIRE(n);
  BOOST_TEST(str({n->kind}) == "firing");
  BOOST_TEST(static_cast<int>(n->severity) == static_cast<int>(C));
  BOOST_TEST(static_cast<int>(n->previous) == static_cast<int>(O));
  BOOST_TEST(n->since == T0 + 60);
  BOOST_TEST(!r.step(C));  // no repeat while it stays critical
  BOOST_TEST(!r.step(C));
  n = r.step(O);
  BOOST_REQUIRE(n);
  BOOST_TEST(str({n->kind}) == "resolved");
  BOOST_TEST(static_cast<int>(n->previous) == static_cast<int>(C));
  BOOST_TEST(n->since == T0 + 60);  // the spell began with the first critical
  BOOST_TEST(!r.step(O));
}

BOOST_AUTO_TEST_CASE(warning_needs_two_in_a_row) {
  Run r;
  BOOST_TEST(!r.step(W));
  BOOST_TEST(r.state.phase == AlertPhase::Pending);
  BOOST_TEST(!r.step(O));  // streak broken: never fired, nothing to resolve
  BOOST_TEST(r.state.phase == AlertPhase::Ok);
  BOOST_TEST(!r.step(W));
  auto n = r.step(W);
  BOOST_REQUIRE(n);
  BOOST_TEST(str({n->kind}) == "firing");
  BOOST_TEST(static_cast<int>(n->severity) == static_cast<int>(W));
  BOOST_TEST(n->since == T0 + 180);  // when the second spell began
}

BOOST_AUTO_TEST_CASE(thresholds_are_configurable) {
  Run r;
  r.policy.failAfterCritical = 3;
  r.policy.recoverAfter = 2;
  r.feed({C, C});
  BOOST_TEST(r.notes.empty());
  r.feed({C});
  BOOST_TEST(str(r.kinds()) == "firing");
  r.feed({O, C, O});  // one ok is not enough to recover, and does not re-fire
  BOOST_TEST(str(r.kinds()) == "firing");
  r.feed({O});
  BOOST_TEST(str(r.kinds()) == "firing,resolved");
}

BOOST_AUTO_TEST_CASE(warning_escalates_to_critical_and_back) {
  Run r;
  r.feed({W, W});
  BOOST_TEST(str(r.kinds()) == "firing");
  auto n = r.step(C);
  BOOST_REQUIRE(n);
  BOOST_TEST(str({n->kind}) == "changed");
  BOOST_TEST(static_cast<int>(n->severity) == static_cast<int>(C));
  BOOST_TEST(static_cast<int>(n->previous) == static_cast<int>(W));
  BOOST_TEST(n->since == T0 + 60);  // still the same problem
  BOOST_TEST(!r.step(W));           // one warning is not yet a change (fail_after_warning 2)
  n = r.step(W);
  BOOST_REQUIRE(n);
  BOOST_TEST(str({n->kind}) == "changed");
  BOOST_TEST(static_cast<int>(n->severity) == static_cast<int>(W));
  BOOST_TEST(static_cast<int>(n->previous) == static_cast<int>(C));
  n = r.step(O);
  BOOST_REQUIRE(n);
  BOOST_TEST(static_cast<int>(n->previous) == static_cast<int>(W));
}

BOOST_AUTO_TEST_CASE(unknown_is_its_own_class) {
  Run r;
  BOOST_TEST(!r.step(U));
  auto n = r.step(U);
  BOOST_REQUIRE(n);
  BOOST_TEST(str({n->kind}) == "firing");
  BOOST_TEST(static_cast<int>(n->severity) == static_cast<int>(U));  // not critical
  // A known problem replaces "could not check" as soon as it is known.
  n = r.step(C);
  BOOST_REQUIRE(n);
  BOOST_TEST(str({n->kind}) == "changed");
  BOOST_TEST(static_cast<int>(n->severity) == static_cast<int>(C));
  // Critical that can no longer be checked: announced as unknown, not as resolved.
  BOOST_TEST(!r.step(U));
  n = r.step(U);
  BOOST_REQUIRE(n);
  BOOST_TEST(str({n->kind}) == "changed");
  BOOST_TEST(static_cast<int>(n->severity) == static_cast<int>(U));
  BOOST_TEST(static_cast<int>(n->previous) == static_cast<int>(C));
  BOOST_TEST(r.state.phase == AlertPhase::Firing);
}

BOOST_AUTO_TEST_CASE(reminders_every_interval_while_firing) {
  Run r;
  r.policy.remindEverySeconds = 6 * 3600;
  r.step(C);                         // fires at T0+60
  BOOST_TEST(!r.step(C, 3600));      // +1h
  BOOST_TEST(!r.step(C, 4 * 3600));  // +5h
  auto n = r.step(C, 3600);          // +6h
  BOOST_REQUIRE(n);
  BOOST_TEST(str({n->kind}) == "reminder");
  BOOST_TEST(static_cast<int>(n->severity) == static_cast<int>(C));
  BOOST_TEST(n->since == T0 + 60);
  BOOST_TEST(!r.step(C, 3600));  // the interval restarts at the reminder
  BOOST_TEST(!r.step(C, 4 * 3600));
  BOOST_TEST(r.step(C, 3600).has_value());
  n = r.step(O, 60);
  BOOST_REQUIRE(n);
  BOOST_TEST(str({n->kind}) == "resolved");
}

BOOST_AUTO_TEST_CASE(no_reminders_when_disabled_or_while_recovering) {
  Run r;
  r.policy.remindEverySeconds = 0;
  r.step(C);
  BOOST_TEST(!r.step(C, 30 * 86400));
  Run s;
  s.policy.recoverAfter = 3;
  s.step(C);
  BOOST_TEST(!s.step(O, 7 * 3600));  // ok but not yet recovered: no "still critical"
}

BOOST_AUTO_TEST_CASE(flapping_holds_notifications_then_reports_where_it_settled) {
  Run r;
  r.policy.flapThreshold = 4;
  r.policy.flapWindowSeconds = 3600;
  r.policy.remindEverySeconds = 0;
  r.feed({C, O, C, O});  // four changes: still announced one by one
  BOOST_TEST(str(r.kinds()) == "firing,resolved,firing,resolved");
  r.feed({C});  // the fifth change in the hour: flapping, announced once
  BOOST_TEST(str(r.kinds()) == "firing,resolved,firing,resolved,flapping");
  BOOST_TEST(r.state.flapping);
  BOOST_TEST(r.notes.back().second.changes == 5);
  r.feed({O, C, O, C, O, C});  // held
  BOOST_TEST(r.notes.size() == 5u);
  // It settles on critical; once the changes age out of the window (down to
  // half the threshold), one notification says where it ended up.
  for (int i = 0; i < 50 && r.state.flapping; ++i) r.step(C, 120);
  BOOST_TEST(!r.state.flapping);
  BOOST_TEST(str(r.kinds()) == "firing,resolved,firing,resolved,flapping,flap_ended");
  BOOST_TEST(static_cast<int>(r.notes.back().second.severity) == static_cast<int>(C));
  BOOST_TEST(static_cast<int>(r.state.announced) == static_cast<int>(C));
  auto n = r.step(O);  // and from then on, normal notifications again
  BOOST_REQUIRE(n);
  BOOST_TEST(str({n->kind}) == "resolved");
}

BOOST_AUTO_TEST_CASE(flapping_that_settles_ok_says_so) {
  Run r;
  r.policy.flapThreshold = 2;
  r.feed({C, O, C});
  BOOST_TEST(str(r.kinds()) == "firing,resolved,flapping");
  for (int i = 0; i < 100 && r.state.flapping; ++i) r.step(O, 300);
  BOOST_TEST(str(r.kinds()) == "firing,resolved,flapping,flap_ended");
  BOOST_TEST(static_cast<int>(r.notes.back().second.severity) == static_cast<int>(O));
  BOOST_TEST(static_cast<int>(r.notes.back().second.previous) == static_cast<int>(C));
}

BOOST_AUTO_TEST_CASE(a_warning_that_never_fires_does_not_flap_into_chat) {
  Run r;
  r.policy.flapThreshold = 2;
  r.feed({W, O, W, O, W, O, W, O});  // fail_after_warning 2 is exactly for this
  BOOST_TEST(r.notes.empty());
  BOOST_TEST(!r.state.flapping);
}

BOOST_AUTO_TEST_CASE(changes_outside_the_window_do_not_count) {
  Run r;
  r.policy.flapThreshold = 3;
  r.policy.flapWindowSeconds = 600;
  for (int i = 0; i < 10; ++i) r.step(i % 2 ? O : C, 601);  // one change per 10 min
  BOOST_TEST(!r.state.flapping);
  BOOST_TEST(r.notes.size() == 10u);  // every change announced
  BOOST_TEST(r.state.changes.size() <= 1u);
}

BOOST_AUTO_TEST_CASE(vanished_target_resolves_only_what_was_announced) {
  Run r;
  r.step(C);
  auto n = vanishAlert(r.state);
  BOOST_REQUIRE(n);
  BOOST_TEST(str({n->kind}) == "resolved");
  BOOST_TEST(static_cast<int>(n->previous) == static_cast<int>(C));
  Run quiet;
  quiet.step(W);  // pending, never announced
  BOOST_TEST(!vanishAlert(quiet.state));
  BOOST_TEST(!vanishAlert(AlertState{}));
}

BOOST_AUTO_TEST_CASE(random_sequences_keep_the_invariants) {
  // Whatever the sequence: announced matches the state outside flapping
  // (checked in every step), and every firing is eventually closed by a
  // resolve, a change, or a flapping notice; never two firings in a row.
  std::mt19937 rng(12345);
  const Status all[] = {O, W, C, U};
  for (int trial = 0; trial < 200; ++trial) {
    Run r;
    r.policy.failAfterWarning = 1 + static_cast<int>(rng() % 3);
    r.policy.failAfterUnknown = 1 + static_cast<int>(rng() % 3);
    r.policy.recoverAfter = 1 + static_cast<int>(rng() % 3);
    r.policy.flapThreshold = static_cast<int>(rng() % 8);
    for (int i = 0; i < 200; ++i)
      r.step(all[rng() % 4], 30 + static_cast<std::int64_t>(rng() % 600));
    NotificationKind last = NotificationKind::Resolved;
    for (const auto& [at, n] : r.notes) {
      (void)at;
      if (n.kind == NotificationKind::Firing)
        BOOST_TEST(last != NotificationKind::Firing, "two firings without anything between");
      if (n.kind != NotificationKind::Changed && n.kind != NotificationKind::Reminder)
        last = n.kind;
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
