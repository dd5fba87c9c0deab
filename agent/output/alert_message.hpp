// SPDX-License-Identifier: Apache-2.0
// Alert notifications -> Telegram message text. Pure.
//
// Every message is built twice from the same pieces: HTML (parse_mode=HTML,
// with &, < and > escaped as the Bot API requires) and plain text (the
// fallback when Telegram answers "can't parse entities"). The plain text is
// exactly the visible text of the HTML, so its length is what Telegram
// counts against the 4096-character limit (in UTF-16 code units).
// Truncation happens on the raw text of one alert's fields before escaping,
// so it can never cut a tag or an entity. Many alerts of one run are packed
// into as few messages as fit the limit, each message numbered when split.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agent/output/alert_config.hpp"
#include "agent/output/alert_policy.hpp"

namespace mxpulse {

/// One notification with what it is about.
struct AlertEvent {
  std::string job, check, target, summary;
  AlertNotification notification;
  std::int64_t at = 0;  ///< when it was produced
};

struct MessageText {
  std::string html;
  std::string plain;
  int alerts = 0;
  Status worst = Status::Ok;  ///< most serious severity mentioned
};

/// Whether `chat` wants this notification: it accepts the new severity, or
/// it accepted the one announced before (so it hears how its alert ended).
bool chatWants(const TelegramChat& chat, const AlertNotification& n);

/// Packs the events for one chat into messages of at most `limit` visible
/// characters. `silenced` marks the text as recorded but not sent.
std::vector<MessageText> buildAlertMessages(const std::string& host,
                                            const std::vector<AlertEvent>& events, size_t limit,
                                            bool silenced = false);

/// The `mxpulse alert test` message.
MessageText buildTestMessage(const std::string& host, std::int64_t now);

/// A line put in front of a message that may already have been delivered
/// (the agent died, or the connection broke, while sending it).
MessageText prependRepeatNote(const MessageText& message);

/// Escapes &, < and > (the only characters the Bot API's HTML mode needs).
std::string escapeHtml(std::string_view text);
/// Length as Telegram counts it: UTF-16 code units.
size_t telegramLength(std::string_view utf8);
/// At most `maxUnits` UTF-16 units, cut on a code point and ending in "…"
/// when cut. Control characters other than newline become spaces.
std::string truncateText(std::string_view utf8, size_t maxUnits);
/// 90 -> "1m30s", 7500 -> "2h5m", 200000 -> "2d7h"
std::string formatAge(std::int64_t seconds);

}  // namespace mxpulse
