// SPDX-License-Identifier: Apache-2.0
// Five-field cron expressions (minute hour day-of-month month day-of-week),
// evaluated in UTC. Supports `*`, numbers, ranges `a-b`, steps `*/n` and
// `a-b/n`, lists, month and weekday names (jan, mon) and 7 as Sunday.
// As in Vixie cron, when both day fields are restricted a day matches if
// either field matches.
#pragma once

#include <bitset>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace mxpulse {

class CronExpr {
 public:
  using TimePoint = std::chrono::system_clock::time_point;

  /// Parses `text`; on failure returns nullopt and describes why in `error`.
  static std::optional<CronExpr> parse(std::string_view text, std::string& error);

  /// The first matching minute strictly after `after` (UTC). nullopt only for
  /// expressions that can never match (e.g. "0 0 30 2 *").
  std::optional<TimePoint> next(TimePoint after) const;

  const std::string& text() const { return text_; }

 private:
  std::string text_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> daysOfMonth_;  // 1..31
  std::bitset<13> months_;       // 1..12
  std::bitset<7> daysOfWeek_;    // 0..6, Sunday = 0
  bool domRestricted_ = false;
  bool dowRestricted_ = false;
};

}  // namespace mxpulse
