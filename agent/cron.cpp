// SPDX-License-Identifier: Apache-2.0
#include "agent/cron.hpp"

#include <array>
#include <cctype>
#include <ctime>
#include <vector>

namespace mxpulse {

namespace {

constexpr std::array<const char*, 12> kMonthNames = {"jan", "feb", "mar", "apr", "may", "jun",
                                                     "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<const char*, 7> kDayNames = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

struct FieldSpec {
  const char* name;
  int min, max;
  const char* const* names;  // optional symbolic names, index 0 = `nameBase`
  int nameCount, nameBase;
};

bool parseValue(std::string_view s, const FieldSpec& spec, int& out) {
  if (s.empty()) return false;
  if (std::isalpha(static_cast<unsigned char>(s[0]))) {
    if (!spec.names || s.size() != 3) return false;
    std::string lower;
    for (char c : s) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (int i = 0; i < spec.nameCount; ++i) {
      if (lower == spec.names[i]) {
        out = i + spec.nameBase;
        return true;
      }
    }
    return false;
  }
  int v = 0;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    v = v * 10 + (c - '0');
    if (v > 1000) return false;
  }
  out = v;
  return true;
}

// Parses one field into `bits` (indexed by value). Returns false with `error`.
template <size_t N>
bool parseField(std::string_view field, const FieldSpec& spec, std::bitset<N>& bits,
                bool& restricted, std::string& error) {
  restricted = !(field == "*" || field == "?");
  size_t start = 0;
  while (start <= field.size()) {
    size_t comma = field.find(',', start);
    std::string_view item =
        field.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    int step = 1;
    size_t slash = item.find('/');
    std::string_view range = item.substr(0, slash);
    if (slash != std::string_view::npos) {
      if (!parseValue(item.substr(slash + 1), FieldSpec{"", 1, 1000, nullptr, 0, 0}, step) ||
          step == 0) {
        error = std::string(spec.name) + ": bad step in '" + std::string(item) + "'";
        return false;
      }
    }
    int lo, hi;
    if (range == "*" || range == "?") {
      lo = spec.min;
      hi = spec.max;
    } else {
      size_t dash = range.find('-');
      if (!parseValue(range.substr(0, dash), spec, lo)) {
        error = std::string(spec.name) + ": bad value '" + std::string(item) + "'";
        return false;
      }
      hi = lo;
      if (dash != std::string_view::npos) {
        if (!parseValue(range.substr(dash + 1), spec, hi)) {
          error = std::string(spec.name) + ": bad range '" + std::string(item) + "'";
          return false;
        }
      } else if (slash != std::string_view::npos) {
        hi = spec.max;  // "5/15" means 5-max/15
      }
    }
    if (lo < spec.min || hi > spec.max || lo > hi) {
      error = std::string(spec.name) + ": '" + std::string(item) + "' is outside " +
              std::to_string(spec.min) + "-" + std::to_string(spec.max);
      return false;
    }
    for (int v = lo; v <= hi; v += step) bits.set(static_cast<size_t>(v % static_cast<int>(N)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return true;
}

}  // namespace

std::optional<CronExpr> CronExpr::parse(std::string_view text, std::string& error) {
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) fields.push_back(text.substr(start, i - start));
  }
  if (fields.size() != 5) {
    error = "cron expression needs 5 fields (minute hour day-of-month month day-of-week), got " +
            std::to_string(fields.size());
    return std::nullopt;
  }
  CronExpr cron;
  cron.text_ = std::string(text);
  bool unused;
  if (!parseField(fields[0], FieldSpec{"minute", 0, 59, nullptr, 0, 0}, cron.minutes_, unused,
                  error) ||
      !parseField(fields[1], FieldSpec{"hour", 0, 23, nullptr, 0, 0}, cron.hours_, unused, error) ||
      !parseField(fields[2], FieldSpec{"day-of-month", 1, 31, nullptr, 0, 0}, cron.daysOfMonth_,
                  cron.domRestricted_, error) ||
      !parseField(fields[3], FieldSpec{"month", 1, 12, kMonthNames.data(), 12, 1}, cron.months_,
                  unused, error) ||
      // 7 is accepted as Sunday: the bitset has 7 bits and parseField folds v % 7.
      !parseField(fields[4], FieldSpec{"day-of-week", 0, 7, kDayNames.data(), 7, 0},
                  cron.daysOfWeek_, cron.dowRestricted_, error)) {
    return std::nullopt;
  }
  return cron;
}

std::optional<CronExpr::TimePoint> CronExpr::next(TimePoint after) const {
  using namespace std::chrono;
  // Start at the next whole minute after `after`.
  auto secs = duration_cast<seconds>(after.time_since_epoch()).count();
  std::time_t t = static_cast<std::time_t>((secs / 60 + 1) * 60);
  if (secs < 0 && secs % 60 != 0) t = static_cast<std::time_t>((secs / 60) * 60);
  // Eight years cover every Feb-29-and-weekday combination.
  const std::time_t limit = t + 8LL * 366 * 86400;
  while (t < limit) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    bool domMatch = daysOfMonth_.test(static_cast<size_t>(tm.tm_mday));
    bool dowMatch = daysOfWeek_.test(static_cast<size_t>(tm.tm_wday));
    bool dayMatch = (domRestricted_ && dowRestricted_) ? (domMatch || dowMatch)
                                                       : (domMatch && dowMatch);
    if (!months_.test(static_cast<size_t>(tm.tm_mon + 1)) || !dayMatch) {
      // Skip to the start of the next day.
      t += (24 - tm.tm_hour) * 3600 - tm.tm_min * 60 - tm.tm_sec;
      continue;
    }
    if (!hours_.test(static_cast<size_t>(tm.tm_hour))) {
      t += 3600 - tm.tm_min * 60 - tm.tm_sec;
      continue;
    }
    if (!minutes_.test(static_cast<size_t>(tm.tm_min))) {
      t += 60 - tm.tm_sec;
      continue;
    }
    return system_clock::from_time_t(t);
  }
  return std::nullopt;
}

}  // namespace mxpulse
