// SPDX-License-Identifier: Apache-2.0
// The alert policy: a pure function from (previous alert state, new result,
// now, policy) to (next state, at most one notification). No I/O and no
// clock, so every fire / resolve / remind / escalate / flap sequence is a
// unit test with hand-made times.
//
// One alert exists per (job, check, target). Its lifecycle:
//   ok --bad--> pending --N bad in a row--> firing --M ok in a row--> ok
// N is per status class (fail_after_critical / _warning / _unknown); a
// firing alert whose status changes class (warning -> critical, critical ->
// warning, anything -> unknown) announces the change once the new class has
// held for its own N. `unknown` ("could not check") is a class of its own:
// it never counts as critical and never as ok.
//
// Flapping: every change of the observed status is remembered for
// flap_window. When more than flap_threshold changes fall in the window
// (and the alert has been announced, so there is something to flap), one
// "flapping" notification goes out and further notifications are held; once
// the changes in the window fall to half the threshold, one "stopped
// flapping" notification says where the alert ended up.
//
// Invariant outside flapping: `announced` (what the chats were last told)
// equals the firing severity, or ok when not firing.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "agent/status.hpp"

namespace mxpulse {

enum class AlertPhase { Ok, Pending, Firing };
const char* alertPhaseName(AlertPhase phase);
std::optional<AlertPhase> parseAlertPhase(std::string_view name);

struct AlertPolicy {
  int failAfterCritical = 1;  ///< consecutive critical results before firing
  int failAfterWarning = 2;
  int failAfterUnknown = 2;
  int recoverAfter = 1;                        ///< consecutive ok results before resolving
  std::int64_t remindEverySeconds = 6 * 3600;  ///< 0 = no reminders
  std::int64_t flapWindowSeconds = 3600;
  int flapThreshold = 6;  ///< status changes in the window beyond which we hold; 0 = off

  int failAfter(Status s) const;
};

struct AlertState {
  AlertPhase phase = AlertPhase::Ok;
  Status severity = Status::Ok;    ///< firing (or pending) class; ok when phase is ok
  Status lastStatus = Status::Ok;  ///< last observed status
  int sameCount = 0;               ///< consecutive results equal to lastStatus
  int badCount = 0;                ///< consecutive non-ok results
  std::int64_t since = 0;          ///< when the current bad spell began (pending/firing)
  std::int64_t lastNotifiedAt = 0;
  Status announced = Status::Ok;  ///< what the chats were last told (ok = nothing open)
  bool flapping = false;
  std::vector<std::int64_t> changes;  ///< times of status changes inside the flap window
};

enum class NotificationKind { Firing, Changed, Resolved, Reminder, Flapping, FlapEnded };
const char* notificationKindName(NotificationKind kind);
std::optional<NotificationKind> parseNotificationKind(std::string_view name);

struct AlertNotification {
  NotificationKind kind = NotificationKind::Firing;
  Status severity = Status::Ok;  ///< what is announced now (ok for resolved)
  Status previous = Status::Ok;  ///< what was announced before
  std::int64_t since = 0;        ///< start of the bad spell this is about
  int changes = 0;               ///< status changes in the window (flapping)
};

struct AlertStep {
  AlertState state;
  std::optional<AlertNotification> notification;
};

/// One new result for the alert.
AlertStep stepAlert(const AlertState& previous, Status status, std::int64_t now,
                    const AlertPolicy& policy);

/// The alert's target is gone (removed from the inventory or config): it
/// resolves at once if anything was announced. The caller forgets the state.
std::optional<AlertNotification> vanishAlert(const AlertState& previous);

}  // namespace mxpulse
