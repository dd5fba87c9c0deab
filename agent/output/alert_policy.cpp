// SPDX-License-Identifier: Apache-2.0
#include "agent/output/alert_policy.hpp"

#include <algorithm>

namespace mxpulse {

const char* alertPhaseName(AlertPhase phase) {
  switch (phase) {
    case AlertPhase::Ok:
      return "ok";
    case AlertPhase::Pending:
      return "pending";
    case AlertPhase::Firing:
      return "firing";
  }
  return "ok";
}

std::optional<AlertPhase> parseAlertPhase(std::string_view name) {
  if (name == "ok") return AlertPhase::Ok;
  if (name == "pending") return AlertPhase::Pending;
  if (name == "firing") return AlertPhase::Firing;
  return std::nullopt;
}

const char* notificationKindName(NotificationKind kind) {
  switch (kind) {
    case NotificationKind::Firing:
      return "firing";
    case NotificationKind::Changed:
      return "changed";
    case NotificationKind::Resolved:
      return "resolved";
    case NotificationKind::Reminder:
      return "reminder";
    case NotificationKind::Flapping:
      return "flapping";
    case NotificationKind::FlapEnded:
      return "flap_ended";
  }
  return "firing";
}

std::optional<NotificationKind> parseNotificationKind(std::string_view name) {
  for (auto k :
       {NotificationKind::Firing, NotificationKind::Changed, NotificationKind::Resolved,
        NotificationKind::Reminder, NotificationKind::Flapping, NotificationKind::FlapEnded})
    if (name == notificationKindName(k)) return k;
  return std::nullopt;
}

int AlertPolicy::failAfter(Status s) const {
  switch (s) {
    case Status::Critical:
      return std::max(1, failAfterCritical);
    case Status::Warning:
      return std::max(1, failAfterWarning);
    case Status::Unknown:
      return std::max(1, failAfterUnknown);
    case Status::Ok:
      return 1;
  }
  return 1;
}

namespace {

Status effective(const AlertState& s) {
  return s.phase == AlertPhase::Firing ? s.severity : Status::Ok;
}

/// Keeps only changes inside the window (and never more than needed to
/// decide, so the stored list stays short).
void pruneChanges(AlertState& s, std::int64_t now, const AlertPolicy& p) {
  if (p.flapThreshold <= 0 || p.flapWindowSeconds <= 0) {
    s.changes.clear();
    return;
  }
  std::int64_t oldest = now - p.flapWindowSeconds;
  s.changes.erase(std::remove_if(s.changes.begin(), s.changes.end(),
                                 [&](std::int64_t t) { return t <= oldest; }),
                  s.changes.end());
  size_t keep = static_cast<size_t>(p.flapThreshold) + 1;
  if (s.changes.size() > keep) s.changes.erase(s.changes.begin(), s.changes.end() - keep);
}

}  // namespace

AlertStep stepAlert(const AlertState& previous, Status status, std::int64_t now,
                    const AlertPolicy& policy) {
  AlertState s = previous;
  std::optional<NotificationKind> event;

  // What was observed.
  if (status == s.lastStatus && s.sameCount > 0) {
    ++s.sameCount;
  } else {
    if (status != s.lastStatus) s.changes.push_back(now);
    s.lastStatus = status;
    s.sameCount = 1;
  }
  s.badCount = status == Status::Ok ? 0 : s.badCount + 1;
  pruneChanges(s, now, policy);

  // The alert's own state machine.
  if (status == Status::Ok) {
    if (s.phase == AlertPhase::Pending) {
      s.phase = AlertPhase::Ok;
      s.severity = Status::Ok;
    } else if (s.phase == AlertPhase::Firing && s.sameCount >= std::max(1, policy.recoverAfter)) {
      s.phase = AlertPhase::Ok;
      s.severity = Status::Ok;
      event = NotificationKind::Resolved;
    }
  } else {
    if (s.phase == AlertPhase::Ok) {
      s.phase = AlertPhase::Pending;
      s.since = now;
    }
    if (s.phase == AlertPhase::Pending) {
      s.severity = status;
      if (s.badCount >= policy.failAfter(status)) {
        s.phase = AlertPhase::Firing;
        event = NotificationKind::Firing;
      }
    } else if (status != s.severity && s.sameCount >= policy.failAfter(status)) {
      s.severity = status;
      event = NotificationKind::Changed;
    }
  }

  AlertStep out;
  auto notify = [&](NotificationKind kind, Status severity) {
    AlertNotification n;
    n.kind = kind;
    n.severity = severity;
    n.previous = s.announced;
    n.since = s.since;
    n.changes = static_cast<int>(s.changes.size());
    out.notification = n;
    s.lastNotifiedAt = now;
  };

  int changes = static_cast<int>(s.changes.size());
  bool flapOn = policy.flapThreshold > 0 && policy.flapWindowSeconds > 0;
  if (!s.flapping && flapOn && changes > policy.flapThreshold &&
      (s.phase == AlertPhase::Firing || s.announced != Status::Ok)) {
    s.flapping = true;
    notify(NotificationKind::Flapping, effective(s));
    // Whoever heard of the flapping must hear how it ends: the announced
    // severity becomes the worse of what was announced and what is now.
    if (severityRank(effective(s)) > severityRank(s.announced)) s.announced = effective(s);
  } else if (s.flapping && (!flapOn || changes <= policy.flapThreshold / 2)) {
    s.flapping = false;
    notify(NotificationKind::FlapEnded, effective(s));
    s.announced = effective(s);
  } else if (s.flapping) {
    // Held: the state moves on silently until the flapping stops.
  } else if (event) {
    notify(*event, effective(s));
    s.announced = effective(s);
  } else if (s.phase == AlertPhase::Firing && status != Status::Ok &&
             policy.remindEverySeconds > 0 && now - s.lastNotifiedAt >= policy.remindEverySeconds) {
    notify(NotificationKind::Reminder, s.severity);
  }
  out.state = std::move(s);
  return out;
}

std::optional<AlertNotification> vanishAlert(const AlertState& previous) {
  // Something was announced (a firing alert, or a "flapping" notice) and
  // now nothing will ever follow it: close it.
  if (previous.announced == Status::Ok && !previous.flapping) return std::nullopt;
  AlertNotification n;
  n.kind = NotificationKind::Resolved;
  n.severity = Status::Ok;
  n.previous = previous.announced != Status::Ok ? previous.announced : previous.severity;
  n.since = previous.since;
  return n;
}

}  // namespace mxpulse
