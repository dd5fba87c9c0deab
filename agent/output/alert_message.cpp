// SPDX-License-Identifier: Apache-2.0
#include "agent/output/alert_message.hpp"

#include <algorithm>

namespace mxpulse {

namespace {

constexpr size_t kMaxSummary = 600;
constexpr size_t kMaxTarget = 200;
constexpr size_t kMaxName = 80;
constexpr size_t kHeaderReserve = 100;  ///< room for the header line and part numbers

/// Builds the HTML and the plain text of the same visible text together.
struct Rich {
  std::string html, plain;
  void text(std::string_view t) {
    html += escapeHtml(t);
    plain += t;
  }
  void bold(std::string_view t) {
    html += "<b>" + escapeHtml(t) + "</b>";
    plain += t;
  }
  void code(std::string_view t) {
    html += "<code>" + escapeHtml(t) + "</code>";
    plain += t;
  }
  void append(const Rich& o) {
    html += o.html;
    plain += o.plain;
  }
};

bool accepts(const TelegramChat& chat, Status s) {
  if (s == Status::Ok) return false;
  if (s == Status::Unknown) return chat.includeUnknown;
  return severityRank(s) >= severityRank(chat.minSeverity);
}

const char* icon(Status s) {
  switch (s) {
    case Status::Critical:
      return "\xF0\x9F\x94\xB4";  // red circle
    case Status::Warning:
      return "\xF0\x9F\x9F\xA0";  // orange circle
    case Status::Unknown:
      return "\xE2\x9D\x94";  // white question mark
    case Status::Ok:
      return "\xE2\x9C\x85";  // check mark
  }
  return "";
}

std::string upperName(Status s) {
  switch (s) {
    case Status::Critical:
      return "CRITICAL";
    case Status::Warning:
      return "WARNING";
    case Status::Unknown:
      return "COULD NOT CHECK";
    case Status::Ok:
      return "OK";
  }
  return "";
}

Rich alertBlock(const AlertEvent& e) {
  const AlertNotification& n = e.notification;
  Rich r;
  std::int64_t age = e.at > n.since && n.since > 0 ? e.at - n.since : 0;
  switch (n.kind) {
    case NotificationKind::Firing:
      r.text(std::string(icon(n.severity)) + " ");
      r.bold(upperName(n.severity));
      break;
    case NotificationKind::Changed:
      if (n.severity == Status::Unknown) {
        r.text(std::string(icon(n.severity)) + " ");
        r.bold("COULD NOT CHECK");
      } else {
        r.text(std::string(severityRank(n.severity) > severityRank(n.previous) ? "\xE2\xAC\x86 "
                                                                               : "\xE2\xAC\x87 "));
        r.bold((severityRank(n.severity) > severityRank(n.previous) ? "ESCALATED to " : "NOW ") +
               upperName(n.severity));
      }
      r.text(" (was " + std::string(statusName(n.previous)) + ")");
      break;
    case NotificationKind::Resolved:
      r.text(std::string(icon(Status::Ok)) + " ");
      r.bold("RESOLVED");
      if (n.previous != Status::Ok)
        r.text(" (was " + std::string(statusName(n.previous)) +
               (age ? " for " + formatAge(age) : std::string()) + ")");
      break;
    case NotificationKind::Reminder:
      r.text("\xF0\x9F\x94\x81 ");  // repeat arrows
      r.bold("STILL " + upperName(n.severity));
      if (age) r.text(" (for " + formatAge(age) + ")");
      break;
    case NotificationKind::Flapping:
      r.text("\xE3\x80\xB0 ");  // wavy dash
      r.bold("FLAPPING");
      r.text(" (" + std::to_string(n.changes) +
             " status changes; notifications held until it settles)");
      break;
    case NotificationKind::FlapEnded:
      r.text("\xE3\x80\xB0 ");
      r.bold("STOPPED FLAPPING");
      r.text(", now ");
      r.bold(upperName(n.severity));
      break;
  }
  r.text(" ");
  r.text(truncateText(e.job, kMaxName));
  r.text(" \xC2\xB7 ");  // middle dot
  r.text(truncateText(e.check, kMaxName));
  if (!e.target.empty()) {
    r.text(" ");
    r.code(truncateText(e.target, kMaxTarget));
  }
  if (!e.summary.empty()) {
    r.text("\n");
    r.text(truncateText(e.summary, kMaxSummary));
  }
  return r;
}

/// Order inside a message: the most serious news first, good news last.
int orderKey(const AlertEvent& e) {
  if (e.notification.kind == NotificationKind::Resolved) return 10;
  return -severityRank(e.notification.severity == Status::Ok ? e.notification.previous
                                                             : e.notification.severity);
}

Status mentioned(const AlertNotification& n) {
  return severityRank(n.severity) >= severityRank(n.previous) ? n.severity : n.previous;
}

}  // namespace

bool chatWants(const TelegramChat& chat, const AlertNotification& n) {
  return accepts(chat, n.severity) || accepts(chat, n.previous);
}

std::vector<MessageText> buildAlertMessages(const std::string& host,
                                            const std::vector<AlertEvent>& events, size_t limit,
                                            bool silenced) {
  std::vector<const AlertEvent*> ordered;
  for (const auto& e : events) ordered.push_back(&e);
  std::stable_sort(ordered.begin(), ordered.end(), [](const AlertEvent* a, const AlertEvent* b) {
    return orderKey(*a) < orderKey(*b);
  });
  size_t budget = limit > kHeaderReserve + 200 ? limit - kHeaderReserve : 200;

  struct Part {
    Rich body;
    size_t length = 0;
    int alerts = 0;
    Status worst = Status::Ok;
  };
  std::vector<Part> parts;
  for (const AlertEvent* e : ordered) {
    Rich block = alertBlock(*e);
    size_t len = telegramLength(block.plain);
    if (parts.empty() || parts.back().length + 2 + len > budget) parts.emplace_back();
    Part& p = parts.back();
    if (p.alerts > 0) {
      p.body.text("\n\n");
      p.length += 2;
    }
    p.body.append(block);
    p.length += len;
    ++p.alerts;
    Status m = mentioned(e->notification);
    if (severityRank(m) > severityRank(p.worst)) p.worst = m;
  }

  int total = 0;
  for (const auto& p : parts) total += p.alerts;
  std::vector<MessageText> out;
  for (size_t i = 0; i < parts.size(); ++i) {
    Rich msg;
    if (silenced) msg.text("\xF0\x9F\x94\x95 silenced \xC2\xB7 ");  // bell with slash
    msg.bold("mxpulse @ " + truncateText(host, 60));
    if (total > 1) msg.text(" \xC2\xB7 " + std::to_string(total) + " alerts");
    if (parts.size() > 1)
      msg.text(" (" + std::to_string(i + 1) + "/" + std::to_string(parts.size()) + ")");
    msg.text("\n");
    msg.append(parts[i].body);
    out.push_back(MessageText{msg.html, msg.plain, parts[i].alerts, parts[i].worst});
  }
  return out;
}

MessageText buildTestMessage(const std::string& host, std::int64_t now) {
  Rich msg;
  msg.bold("mxpulse @ " + truncateText(host, 60));
  msg.text("\nTest message (mxpulse alert test, unix time " + std::to_string(now) +
           "): alerts from this host reach this chat.");
  return MessageText{msg.html, msg.plain, 0, Status::Ok};
}

MessageText prependRepeatNote(const MessageText& message) {
  Rich note;
  note.text("\xE2\x86\xBB ");  // clockwise arrow
  note.bold("possibly repeated");
  note.text(" (an earlier attempt to send this was interrupted and may have arrived)\n");
  return MessageText{note.html + message.html, note.plain + message.plain, message.alerts,
                     message.worst};
}

std::string escapeHtml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {
/// Length in bytes of the UTF-8 sequence at `i` (1 for an invalid byte).
size_t sequenceLength(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80             ? 1
             : (c & 0xE0) == 0xC0 ? 2
             : (c & 0xF0) == 0xE0 ? 3
             : (c & 0xF8) == 0xF0 ? 4
                                  : 1;
  if (i + n > s.size()) return 1;
  for (size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 1;
  return n;
}
}  // namespace

size_t telegramLength(std::string_view utf8) {
  size_t units = 0;
  for (size_t i = 0; i < utf8.size();) {
    size_t n = sequenceLength(utf8, i);
    units += n == 4 ? 2 : 1;  // astral code points are surrogate pairs
    i += n;
  }
  return units;
}

std::string truncateText(std::string_view utf8, size_t maxUnits) {
  std::string out;
  size_t units = 0;
  const std::string ellipsis = "\xE2\x80\xA6";
  bool cut = telegramLength(utf8) > maxUnits;
  size_t budget = cut && maxUnits > 0 ? maxUnits - 1 : maxUnits;
  for (size_t i = 0; i < utf8.size();) {
    unsigned char c = static_cast<unsigned char>(utf8[i]);
    size_t n = sequenceLength(utf8, i);
    size_t u = n == 4 ? 2 : 1;
    if (units + u > budget) break;
    if (n == 1 && c < 0x20 && c != '\n')
      out += ' ';
    else if (n == 1 && c >= 0x80)
      out += "\xEF\xBF\xBD";  // invalid byte -> U+FFFD; Telegram needs UTF-8
    else
      out.append(utf8.substr(i, n));
    units += u;
    i += n;
  }
  if (cut) out += ellipsis;
  return out;
}

std::string formatAge(std::int64_t seconds) {
  if (seconds < 0) seconds = 0;
  if (seconds < 60) return std::to_string(seconds) + "s";
  if (seconds < 3600)
    return std::to_string(seconds / 60) + "m" +
           (seconds % 60 ? std::to_string(seconds % 60) + "s" : std::string());
  if (seconds < 86400)
    return std::to_string(seconds / 3600) + "h" +
           (seconds % 3600 / 60 ? std::to_string(seconds % 3600 / 60) + "m" : std::string());
  return std::to_string(seconds / 86400) + "d" +
         (seconds % 86400 / 3600 ? std::to_string(seconds % 86400 / 3600) + "h" : std::string());
}

}  // namespace mxpulse
