// SPDX-License-Identifier: Apache-2.0
// Small text helpers shared by the tag=value record parsers (DKIM, DMARC,
// MTA-STS, TLS-RPT). ASCII only: these records are ASCII by definition.
#pragma once

#include <string>

namespace mxpulse::probes::tagtext {

/// WSP (space, tab); with `fws`, also CR and LF (RFC 6376 folding whitespace).
inline bool isSpace(char c, bool fws = false) {
  return c == ' ' || c == '\t' || (fws && (c == '\r' || c == '\n'));
}

inline std::string trim(const std::string& s, bool fws = false) {
  size_t b = 0, e = s.size();
  while (b < e && isSpace(s[b], fws)) ++b;
  while (e > b && isSpace(s[e - 1], fws)) --e;
  return s.substr(b, e - b);
}

inline std::string lower(std::string s) {
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

/// Lower case without one trailing dot: a DNS name as compared.
inline std::string dnsName(std::string s) {
  s = lower(std::move(s));
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

}  // namespace mxpulse::probes::tagtext
