// SPDX-License-Identifier: Apache-2.0
// SPF record syntax (RFC 7208 4.5, 4.6.1, 5, 6, 12 ABNF). The whole record
// is checked before anything is evaluated (4.6: a syntax error anywhere is
// a permerror, even after a matching mechanism).
#include <arpa/inet.h>

#include <string>

#include "probes/spf.hpp"
#include "probes/spf_internal.hpp"

namespace mxpulse::probes::spf {

bool isSpfRecord(const std::string& txt) {
  static const char* kVersion = "v=spf1";
  if (txt.size() < 6) return false;
  for (size_t i = 0; i < 6; ++i) {
    char c = txt[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kVersion[i]) return false;
  }
  return txt.size() == 6 || txt[6] == ' ';
}

namespace {

bool allDigits(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

/// "0" or a number without leading zeros, at most `max`.
bool parseCidr(const std::string& digits, int max, int& out) {
  if (!allDigits(digits) || digits.size() > 3) return false;
  if (digits.size() > 1 && digits[0] == '0') return false;
  out = std::stoi(digits);
  return out <= max;
}

bool isModifierName(const std::string& term, size_t& eq) {
  eq = term.find('=');
  if (eq == std::string::npos || eq == 0) return false;
  char first = term[0];
  if (!((first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z'))) return false;
  for (size_t i = 1; i < eq; ++i) {
    char c = term[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

bool parseModifier(const std::string& term, size_t eq, Record& rec, std::string& error) {
  std::string name = asciiLower(term.substr(0, eq));
  std::string value = term.substr(eq + 1);
  if (name == "redirect" || name == "exp") {
    std::optional<std::string>& slot = name == "redirect" ? rec.redirect : rec.exp;
    if (slot) {
      error = name + "= appears more than once";
      return false;
    }
    std::string why;
    if (!checkDomainSpec(value, why)) {
      error = "bad " + name + "=: " + why;
      return false;
    }
    slot = value;
    if (name == "redirect") rec.redirectText = term;
    return true;
  }
  std::string why;
  if (!checkMacroString(value, MacroMode::Modifier, why)) {
    error = "bad modifier '" + term + "': " + why;
    return false;
  }
  return true;  // unknown modifiers are ignored (6)
}

/// Splits "[:domain-spec][/cidr4][//cidr6]" for a and mx.
bool parseDomainAndCidr(const std::string& rest, bool dual, Directive& d, std::string& error) {
  std::string s = rest;
  if (dual) {
    size_t dd = s.rfind("//");
    if (dd != std::string::npos && allDigits(s.substr(dd + 2))) {
      if (!parseCidr(s.substr(dd + 2), 128, d.cidr6)) {
        error = "bad IPv6 prefix length in '" + d.text + "'";
        return false;
      }
      s.erase(dd);
    }
    size_t sl = s.rfind('/');
    if (sl != std::string::npos && allDigits(s.substr(sl + 1)) && (sl == 0 || s[sl - 1] != '/')) {
      if (!parseCidr(s.substr(sl + 1), 32, d.cidr4)) {
        error = "bad IPv4 prefix length in '" + d.text + "'";
        return false;
      }
      s.erase(sl);
    }
  }
  if (s.empty()) return true;
  if (s[0] != ':') {
    error = "unexpected '" + s + "' in '" + d.text + "'";
    return false;
  }
  d.domainSpec = s.substr(1);
  std::string why;
  if (!checkDomainSpec(d.domainSpec, why)) {
    error = "bad target in '" + d.text + "': " + why;
    return false;
  }
  return true;
}

bool parseIpMechanism(const std::string& rest, bool v6, Directive& d, std::string& error) {
  if (rest.empty() || rest[0] != ':') {
    error = "'" + d.text + "' needs ':' and a network";
    return false;
  }
  std::string net = rest.substr(1), cidr;
  size_t slash = net.find('/');
  if (slash != std::string::npos) {
    cidr = net.substr(slash + 1);
    net.erase(slash);
    if (!parseCidr(cidr, v6 ? 128 : 32, v6 ? d.cidr6 : d.cidr4)) {
      error = "bad prefix length in '" + d.text + "'";
      return false;
    }
  }
  if (v6) {
    if (inet_pton(AF_INET6, net.c_str(), d.network) != 1) {
      error = "'" + net + "' is not an IPv6 address";
      return false;
    }
  } else if (!parseIp4Network(net, d.network)) {
    error = "'" + net + "' is not an IPv4 address";
    return false;
  }
  return true;
}

bool parseDirective(const std::string& term, Directive& d, std::string& error) {
  d.text = term;
  size_t pos = 0;
  if (pos < term.size() &&
      (term[pos] == '+' || term[pos] == '-' || term[pos] == '?' || term[pos] == '~'))
    d.qualifier = term[pos++];
  size_t start = pos;
  while (pos < term.size() && term[pos] != ':' && term[pos] != '/') ++pos;
  std::string name = asciiLower(term.substr(start, pos - start));
  std::string rest = term.substr(pos);
  if (name == "all") {
    d.mechanism = Mechanism::All;
    if (!rest.empty()) {
      error = "'all' takes no argument: '" + term + "'";
      return false;
    }
    return true;
  }
  if (name == "include" || name == "exists") {
    d.mechanism = name == "include" ? Mechanism::Include : Mechanism::Exists;
    if (rest.size() < 2 || rest[0] != ':') {
      error = "'" + name + "' needs ':' and a domain: '" + term + "'";
      return false;
    }
    d.domainSpec = rest.substr(1);
    std::string why;
    if (!checkDomainSpec(d.domainSpec, why)) {
      error = "bad target in '" + term + "': " + why;
      return false;
    }
    return true;
  }
  if (name == "a" || name == "mx") {
    d.mechanism = name == "a" ? Mechanism::A : Mechanism::Mx;
    return parseDomainAndCidr(rest, true, d, error);
  }
  if (name == "ptr") {
    d.mechanism = Mechanism::Ptr;
    return parseDomainAndCidr(rest, false, d, error);
  }
  if (name == "ip4" || name == "ip6") {
    d.mechanism = name == "ip4" ? Mechanism::Ip4 : Mechanism::Ip6;
    return parseIpMechanism(rest, name == "ip6", d, error);
  }
  error = "unknown mechanism '" + term + "'";
  return false;
}

}  // namespace

bool parseRecord(const std::string& text, Record& out, std::string& error) {
  out = Record{};
  if (!isSpfRecord(text)) {
    error = "not an SPF record";
    return false;
  }
  size_t pos = 6;
  while (pos < text.size()) {
    if (text[pos] == ' ') {
      ++pos;
      continue;
    }
    size_t end = text.find(' ', pos);
    if (end == std::string::npos) end = text.size();
    std::string term = text.substr(pos, end - pos);
    pos = end;
    size_t eq;
    if (isModifierName(term, eq)) {
      if (!parseModifier(term, eq, out, error)) return false;
      continue;
    }
    Directive d;
    if (!parseDirective(term, d, error)) return false;
    if (d.mechanism == Mechanism::All) out.hasAll = true;
    out.directives.push_back(std::move(d));
  }
  return true;
}

}  // namespace mxpulse::probes::spf
