// SPDX-License-Identifier: Apache-2.0
// The SPF macro language (RFC 7208 7) and the address helpers it needs.
#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "probes/spf_internal.hpp"

namespace mxpulse::probes::spf {

std::string asciiLower(std::string s) {
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

bool iequals(const std::string& a, const std::string& b) {
  return asciiLower(a) == asciiLower(b);
}

bool parseIp(const std::string& text, Ip& out) {
  unsigned char buf[16];
  if (inet_pton(AF_INET, text.c_str(), buf) == 1) {
    out.v6 = false;
    std::memset(out.bytes, 0, sizeof out.bytes);
    std::memcpy(out.bytes, buf, 4);
    return true;
  }
  if (inet_pton(AF_INET6, text.c_str(), buf) != 1) return false;
  static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  std::memset(out.bytes, 0, sizeof out.bytes);
  if (std::memcmp(buf, mapped, 12) == 0) {
    out.v6 = false;
    std::memcpy(out.bytes, buf + 12, 4);
  } else {
    out.v6 = true;
    std::memcpy(out.bytes, buf, 16);
  }
  return true;
}

bool parseIp4Network(const std::string& text, unsigned char out[4]) {
  size_t pos = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (pos >= text.size() || text[pos] != '.') return false;
      ++pos;
    }
    size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9' && pos - start < 4) ++pos;
    size_t len = pos - start;
    if (len == 0 || len > 3) return false;
    if (len > 1 && text[start] == '0') return false;  // qnum has no leading zeros
    int v = std::stoi(text.substr(start, len));
    if (v > 255) return false;
    out[part] = static_cast<unsigned char>(v);
  }
  return pos == text.size();
}

bool prefixMatch(const unsigned char* ip, const unsigned char* network, int bits) {
  int full = bits / 8;
  if (std::memcmp(ip, network, static_cast<size_t>(full)) != 0) return false;
  int rest = bits % 8;
  if (rest == 0) return true;
  unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (ip[full] & mask) == (network[full] & mask);
}

bool addressMatches(const Ip& ip, const std::string& address, int cidr4, int cidr6) {
  Ip other;
  if (!parseIp(address, other) || other.v6 != ip.v6) return false;
  return prefixMatch(ip.bytes, other.bytes, ip.v6 ? cidr6 : cidr4);
}

std::string ipDotFormat(const Ip& ip) {
  std::string out;
  if (!ip.v6) {
    for (int i = 0; i < 4; ++i) out += (i ? "." : "") + std::to_string(ip.bytes[i]);
    return out;
  }
  static const char* hex = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) {
    if (i) out += '.';
    out += hex[ip.bytes[i] >> 4];
    out += '.';
    out += hex[ip.bytes[i] & 0xf];
  }
  return out;
}

std::string ipReadable(const Ip& ip) {
  if (!ip.v6) return ipDotFormat(ip);
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, ip.bytes, buf, sizeof buf);
  return buf;
}

namespace {

bool isDelimiter(char c) {
  return c == '.' || c == '-' || c == '+' || c == ',' || c == '/' || c == '_' || c == '=';
}

bool isAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool isDigit(char c) {
  return c >= '0' && c <= '9';
}
bool isAlnum(char c) {
  return isAlpha(c) || isDigit(c);
}

/// One parsed "%{...}" expression.
struct MacroExpr {
  char letter = 0;  ///< as written (upper case = URL-escape)
  int keep = 0;     ///< 0 = all parts
  bool reverse = false;
  std::string delimiters;
};

/// Parses the expression starting after "%{" at text[pos]; leaves pos after '}'.
bool parseExpr(const std::string& text, size_t& pos, MacroMode mode, MacroExpr& expr,
               std::string& error) {
  if (pos >= text.size()) {
    error = "unterminated macro in '" + text + "'";
    return false;
  }
  char letter = text[pos];
  char lower = static_cast<char>(letter | 0x20);
  const char* allowed = mode == MacroMode::DomainSpec ? "slodipvh" : "slodipvhcrt";
  if (!isAlpha(letter) || !std::strchr(allowed, lower)) {
    if (std::strchr("crt", lower) && isAlpha(letter))
      error = std::string("macro %{") + letter + "} is allowed only in exp= text";
    else
      error = std::string("unknown macro letter '") + letter + "' in '" + text + "'";
    return false;
  }
  expr.letter = letter;
  ++pos;
  size_t digits = pos;
  while (pos < text.size() && isDigit(text[pos])) ++pos;
  if (pos > digits) {
    std::string n = text.substr(digits, pos - digits);
    if (n.size() > 3) n = "999";  // more parts than any name has
    expr.keep = std::stoi(n);
    if (expr.keep == 0) {
      error = "macro transformer digit must be nonzero in '" + text + "'";
      return false;
    }
  }
  if (pos < text.size() && (text[pos] == 'r' || text[pos] == 'R')) {
    expr.reverse = true;
    ++pos;
  }
  while (pos < text.size() && isDelimiter(text[pos])) expr.delimiters += text[pos++];
  if (pos >= text.size() || text[pos] != '}') {
    error = "malformed macro in '" + text + "'";
    return false;
  }
  ++pos;
  return true;
}

/// Walks a macro-string, calling literal(c) and macro(expr) in order.
template <class Literal, class Macro>
bool walk(const std::string& text, MacroMode mode, std::string& error, Literal literal,
          Macro macro) {
  for (size_t pos = 0; pos < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[pos]);
    if (c == '%') {
      if (pos + 1 >= text.size()) {
        error = "'%' at the end of '" + text + "'";
        return false;
      }
      char next = text[pos + 1];
      pos += 2;
      if (next == '%') {
        literal("%");
      } else if (next == '_') {
        literal(" ");
      } else if (next == '-') {
        literal("%20");
      } else if (next == '{') {
        MacroExpr expr;
        if (!parseExpr(text, pos, mode, expr, error)) return false;
        macro(expr);
      } else {
        error = std::string("'%") + next + "' is not a macro (use %% for a percent sign)";
        return false;
      }
      continue;
    }
    bool ok = (c >= 0x21 && c <= 0x7e) || (c == ' ' && mode == MacroMode::Explanation);
    if (!ok) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "0x%02x", c);
      error = std::string("character ") + buf + " not allowed in '" + text + "'";
      return false;
    }
    literal(std::string(1, static_cast<char>(c)));
    ++pos;
  }
  return true;
}

std::string urlEscape(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (isAlnum(static_cast<char>(c)) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0xf];
    }
  }
  return out;
}

std::string macroValue(char lower, const MacroContext& ctx) {
  switch (lower) {
    case 's':
      return ctx.sender;
    case 'l':
      return ctx.local;
    case 'o':
      return ctx.senderDomain;
    case 'd':
      return ctx.domain;
    case 'i':
      return ipDotFormat(ctx.ip);
    case 'p':
      return ctx.validatedName ? ctx.validatedName() : "unknown";
    case 'v':
      return ctx.ip.v6 ? "ip6" : "in-addr";
    case 'h':
      return ctx.helo;
    case 'c':
      return ipReadable(ctx.ip);
    case 'r':
      return ctx.receiver;
    case 't':
      return std::to_string(ctx.now);
  }
  return "";
}

std::string transform(const std::string& value, const MacroExpr& expr) {
  std::string delims = expr.delimiters.empty() ? "." : expr.delimiters;
  std::vector<std::string> parts(1);
  for (char c : value) {
    if (delims.find(c) != std::string::npos)
      parts.emplace_back();
    else
      parts.back() += c;
  }
  if (expr.reverse) std::reverse(parts.begin(), parts.end());
  size_t from = 0;
  if (expr.keep > 0 && static_cast<size_t>(expr.keep) < parts.size())
    from = parts.size() - static_cast<size_t>(expr.keep);
  std::string out;
  for (size_t i = from; i < parts.size(); ++i) out += (i > from ? "." : "") + parts[i];
  return out;
}

bool validTopLabel(const std::string& label) {
  if (label.empty()) return false;
  bool hasDash = false, hasAlpha = false;
  for (char c : label) {
    if (c == '-')
      hasDash = true;
    else if (isAlpha(c))
      hasAlpha = true;
    else if (!isDigit(c))
      return false;
  }
  if (!hasDash) return hasAlpha;
  return isAlnum(label.front()) && isAlnum(label.back());
}

}  // namespace

bool checkMacroString(const std::string& text, MacroMode mode, std::string& error) {
  return walk(
      text, mode, error, [](const std::string&) {}, [](const MacroExpr&) {});
}

std::string expandMacroString(const std::string& text, const MacroContext& ctx) {
  std::string out, error;
  // The mode only matters for validation, which the caller already did.
  walk(
      text, MacroMode::Explanation, error, [&](const std::string& s) { out += s; },
      [&](const MacroExpr& expr) {
        char lower = static_cast<char>(expr.letter | 0x20);
        std::string v = transform(macroValue(lower, ctx), expr);
        out += expr.letter == lower ? v : urlEscape(v);
      });
  return out;
}

bool checkDomainSpec(const std::string& spec, std::string& error) {
  if (spec.empty()) {
    error = "empty domain-spec";
    return false;
  }
  if (!checkMacroString(spec, MacroMode::DomainSpec, error)) return false;
  // domain-end: a macro-expand, or "." toplabel [ "." ].
  if (spec.back() == '}') return true;
  size_t n = spec.size();
  if (n >= 2 && spec[n - 2] == '%' &&
      (spec[n - 1] == '%' || spec[n - 1] == '_' || spec[n - 1] == '-')) {
    // "%%" could also be the tail of "%%%" ... count the run of '%'.
    size_t run = 0;
    for (size_t i = n - 1; i-- > 0 && spec[i] == '%';) ++run;
    if (run % 2 == 1) return true;
  }
  std::string s = spec;
  if (s.back() == '.') s.pop_back();
  size_t dot = s.rfind('.');
  if (dot == std::string::npos || !validTopLabel(s.substr(dot + 1))) {
    error = "'" + spec + "' does not end in a valid top-level label";
    return false;
  }
  return true;
}

std::string finishDomain(std::string name) {
  if (!name.empty() && name.back() == '.') name.pop_back();
  while (name.size() > 253) {
    size_t dot = name.find('.');
    if (dot == std::string::npos) break;
    name.erase(0, dot + 1);
  }
  return name;
}

bool queryableName(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = name.find('.', start);
    size_t len = (dot == std::string::npos ? name.size() : dot) - start;
    if (len == 0 || len > 63) return false;
    if (dot == std::string::npos) return true;
    start = dot + 1;
  }
}

}  // namespace mxpulse::probes::spf
