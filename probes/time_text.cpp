// SPDX-License-Identifier: Apache-2.0
#include "probes/time_text.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ctime>

namespace mxpulse::probes {

std::optional<std::int64_t> parseTimestamp(const std::string& textIn) {
  std::string t = textIn;
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.erase(0, 1);
  if (t.empty()) return std::nullopt;
  char* end = nullptr;
  double num = std::strtod(t.c_str(), &end);
  if (end && *end == '\0' && t.find_first_of("-:") == std::string::npos)
    return static_cast<std::int64_t>(num);
  std::tm tm{};
  const char* rest = strptime(t.c_str(), "%Y-%m-%d", &tm);
  if (!rest) return std::nullopt;
  if (*rest == 'T' || *rest == ' ') {
    rest = strptime(rest + 1, "%H:%M:%S", &tm);
    if (!rest) return std::nullopt;
  }
  if (*rest == '.')
    while (std::isdigit(static_cast<unsigned char>(*++rest))) {
    }
  std::string zone(rest);
  std::int64_t offset = 0;
  if (zone == "Z" || zone == "z" || zone == " UTC" || zone.empty()) {
    offset = 0;
  } else if ((zone[0] == '+' || zone[0] == '-') &&
             (zone.size() == 3 || zone.size() == 5 || (zone.size() == 6 && zone[3] == ':'))) {
    std::string digits;
    for (char c : zone.substr(1))
      if (c != ':') digits.push_back(c);
    if (!std::all_of(digits.begin(), digits.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
      return std::nullopt;
    int hh = std::stoi(digits.substr(0, 2));
    int mm = digits.size() > 2 ? std::stoi(digits.substr(2, 2)) : 0;
    offset = (zone[0] == '-' ? -1 : 1) * (hh * 3600 + mm * 60);
  } else {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(timegm(&tm)) - offset;
}

std::string formatUtc(std::int64_t unixTime, const char* format) {
  std::time_t t = static_cast<std::time_t>(unixTime);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  return std::string(buf, std::strftime(buf, sizeof buf, format, &tm));
}

std::string formatUtc(std::int64_t unixTime) {
  return formatUtc(unixTime, "%Y-%m-%d %H:%M:%S UTC");
}

}  // namespace mxpulse::probes
