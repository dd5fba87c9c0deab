// SPDX-License-Identifier: Apache-2.0
#include "probes/dmarc_record.hpp"

#include <cctype>

#include <limits>
#include <map>
#include <set>
#include "probes/tag_text.hpp"

namespace mxpulse::probes {

namespace {

using tagtext::lower;
using tagtext::trim;
bool allDigits(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

std::vector<std::string> split(const std::string& v, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t pos = v.find(sep, start);
    out.push_back(
        trim(v.substr(start, pos == std::string::npos ? std::string::npos : pos - start)));
    if (pos == std::string::npos) return out;
    start = pos + 1;
  }
}

/// RFC 3986 URI: scheme ":" then URI characters (no spaces, no ',' or '!'
/// unescaped here since those separate list items and sizes).
bool validUri(const std::string& u, std::string& scheme, std::string& rest) {
  size_t colon = u.find(':');
  if (colon == std::string::npos || colon == 0) return false;
  scheme = lower(u.substr(0, colon));
  if (!std::isalpha(static_cast<unsigned char>(scheme[0]))) return false;
  for (char c : scheme)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.')
      return false;
  rest = u.substr(colon + 1);
  if (rest.empty()) return false;
  static const std::string allowed =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@$&'()*+;=%";
  for (size_t i = 0; i < rest.size(); ++i) {
    if (allowed.find(rest[i]) == std::string::npos) return false;
    if (rest[i] == '%' &&
        (i + 2 >= rest.size() || !std::isxdigit(static_cast<unsigned char>(rest[i + 1])) ||
         !std::isxdigit(static_cast<unsigned char>(rest[i + 2]))))
      return false;
  }
  return true;
}

std::string percentDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool parseSize(const std::string& s, std::uint64_t& out) {
  if (s.empty()) return false;
  std::string digits = s;
  std::uint64_t mult = 1;
  char unit = static_cast<char>(std::tolower(static_cast<unsigned char>(s.back())));
  if (!std::isdigit(static_cast<unsigned char>(s.back()))) {
    digits.pop_back();
    if (unit == 'k')
      mult = 1ULL << 10;
    else if (unit == 'm')
      mult = 1ULL << 20;
    else if (unit == 'g')
      mult = 1ULL << 30;
    else if (unit == 't')
      mult = 1ULL << 40;
    else
      return false;
  }
  if (!allDigits(digits) || digits.size() > 19) return false;
  std::uint64_t n = std::stoull(digits);
  if (n > std::numeric_limits<std::uint64_t>::max() / mult) return false;
  out = n * mult;
  return true;
}

bool policyValue(const std::string& v) {
  return v == "none" || v == "quarantine" || v == "reject";
}

bool keyword(const std::string& k) {
  if (k.empty() || !std::isalnum(static_cast<unsigned char>(k.front())) ||
      !std::isalnum(static_cast<unsigned char>(k.back())))
    return false;
  for (char c : k)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
  return true;
}

}  // namespace

bool parseReportUris(const std::string& value, bool allowSize, std::vector<DmarcUri>& out,
                     std::string& error) {
  if (trim(value).empty()) {
    error = "no URI given";
    return false;
  }
  for (const auto& item : split(value, ',')) {
    DmarcUri u;
    std::string text = item;
    size_t bang = item.find('!');
    if (bang != std::string::npos) {
      if (!allowSize || !parseSize(item.substr(bang + 1), u.maxBytes)) {
        error = "bad size in '" + item + "'";
        return false;
      }
      text = item.substr(0, bang);
    }
    std::string rest;
    if (!validUri(text, u.scheme, rest)) {
      error = "'" + item + "' is not a URI";
      return false;
    }
    u.text = text;
    if (u.scheme == "mailto") {
      std::string addr = percentDecode(rest);
      size_t q = addr.find('?');
      if (q != std::string::npos) addr.erase(q);
      size_t at = addr.rfind('@');
      if (at != std::string::npos && at > 0 && at + 1 < addr.size() &&
          addr.find('/') == std::string::npos) {
        u.address = addr;
        u.domain = lower(addr.substr(at + 1));
        if (!u.domain.empty() && u.domain.back() == '.') u.domain.pop_back();
      }
    }
    out.push_back(u);
  }
  return true;
}

bool isDmarcRecord(const std::string& txt) {
  size_t semi = txt.find(';');
  std::string first = trim(txt.substr(0, semi));
  size_t eq = first.find('=');
  if (eq == std::string::npos) return false;
  return lower(trim(first.substr(0, eq))) == "v" && trim(first.substr(eq + 1)) == "DMARC1";
}

DmarcRecord parseDmarcRecord(const std::string& txt) {
  DmarcRecord r;
  std::vector<std::string> parts = split(txt, ';');
  if (!isDmarcRecord(txt)) {
    r.errors.push_back("not a DMARC record (must start with v=DMARC1)");
    return r;
  }
  r.isDmarc = true;
  std::map<std::string, std::string> tags;
  std::vector<std::string> order;
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string& spec = parts[i];
    if (spec.empty()) {
      if (i + 1 != parts.size()) r.errors.push_back("empty tag between ';' separators");
      continue;
    }
    size_t eq = spec.find('=');
    if (eq == std::string::npos) {
      r.errors.push_back("tag '" + spec + "' has no '=' (syntax error)");
      continue;
    }
    std::string name = lower(trim(spec.substr(0, eq)));
    std::string value = trim(spec.substr(eq + 1));
    bool nameOk = !name.empty();
    for (char c : name) nameOk = nameOk && std::isalnum(static_cast<unsigned char>(c));
    if (!nameOk) {
      r.errors.push_back("invalid tag name in '" + spec + "'");
      continue;
    }
    if (name == "v" || tags.count(name)) {
      r.errors.push_back("duplicate tag " + name + "=");
      continue;
    }
    tags[name] = value;
    order.push_back(name);
  }

  bool pValid = false, spValid = true;
  if (tags.count("p")) {
    r.pGiven = true;
    std::string v = lower(tags["p"]);
    pValid = policyValue(v);
    if (pValid)
      r.p = v;
    else
      r.errors.push_back("p=" + tags["p"] + " is not none, quarantine or reject");
    if (order.front() != "p")
      r.warnings.push_back(
          "p= is not directly after v= (RFC 7489 ABNF order; strict parsers reject it)");
  } else {
    r.errors.push_back("p= (the policy) is missing");
  }
  if (tags.count("sp")) {
    r.spGiven = true;
    std::string v = lower(tags["sp"]);
    spValid = policyValue(v);
    if (spValid)
      r.sp = v;
    else
      r.errors.push_back("sp=" + tags["sp"] + " is not none, quarantine or reject");
  }
  if (tags.count("np")) {
    r.npGiven = true;
    std::string v = lower(tags["np"]);
    if (policyValue(v))
      r.np = v;
    else
      r.errors.push_back("np=" + tags["np"] + " is not none, quarantine or reject");
  }
  for (const char* name : {"adkim", "aspf"}) {
    if (!tags.count(name)) continue;
    std::string v = lower(tags[name]);
    if (v == "r" || v == "s")
      (std::string(name) == "adkim" ? r.adkim : r.aspf) = v;
    else
      r.errors.push_back(std::string(name) + "=" + tags[name] + " is not r or s");
  }
  if (tags.count("pct")) {
    r.pctGiven = true;
    const std::string& v = tags["pct"];
    if (allDigits(v) && v.size() <= 3 && std::stoi(v) <= 100)
      r.pct = std::stoi(v);
    else
      r.errors.push_back("pct=" + v + " is not a number from 0 to 100");
  }
  if (tags.count("ri")) {
    const std::string& v = tags["ri"];
    if (allDigits(v) && v.size() <= 10 && std::stoull(v) <= 0xffffffffULL)
      r.ri = static_cast<std::uint32_t>(std::stoull(v));
    else
      r.errors.push_back("ri=" + v + " is not a number of seconds");
  }
  if (tags.count("fo")) {
    r.fo = split(tags["fo"], ':');
    for (const auto& f : r.fo) {
      if (f != "0" && f != "1" && lower(f) != "d" && lower(f) != "s") {
        r.errors.push_back("fo=" + tags["fo"] + " must be 0, 1, d or s (colon-separated)");
        break;
      }
    }
  }
  if (tags.count("rf")) {
    r.rf = split(tags["rf"], ':');
    bool syntax = true, afrf = false;
    for (const auto& f : r.rf) {
      syntax = syntax && keyword(f);
      afrf = afrf || lower(f) == "afrf";
    }
    if (!syntax)
      r.errors.push_back("rf=" + tags["rf"] + " is not a list of report formats");
    else if (!afrf)
      r.errors.push_back("rf=" + tags["rf"] + " names no supported format (afrf)");
  }
  for (const char* name : {"rua", "ruf"}) {
    if (!tags.count(name)) continue;
    std::vector<DmarcUri>& list = std::string(name) == "rua" ? r.rua : r.ruf;
    std::string error;
    if (!parseReportUris(tags[name], true, list, error)) {
      r.errors.push_back(std::string(name) + "=: " + error);
      list.clear();
      continue;
    }
    for (const auto& u : list) {
      if (u.scheme != "mailto")
        r.warnings.push_back(std::string(name) + "=" + u.text +
                             ": only mailto: URIs receive reports");
      else if (u.address.empty())
        r.warnings.push_back(std::string(name) + "=" + u.text + " is not a mail address");
    }
  }
  if (tags.count("psd")) {
    std::string v = lower(tags["psd"]);
    if (v == "y" || v == "n" || v == "u")
      r.psd = v;
    else
      r.errors.push_back("psd=" + tags["psd"] + " is not y, n or u");
  }
  if (tags.count("t")) {
    std::string v = lower(tags["t"]);
    if (v == "y" || v == "n")
      r.t = v;
    else
      r.errors.push_back("t=" + tags["t"] + " is not y or n");
  }
  static const std::set<std::string> known = {"p",  "sp", "np",  "adkim", "aspf", "pct", "ri",
                                              "fo", "rf", "rua", "ruf",   "psd",  "t"};
  for (const auto& name : order) {
    if (known.count(name)) continue;
    r.unknownTags.push_back(name);
    r.warnings.push_back("unknown tag " + name + "= ignored");
  }

  r.valid = r.errors.empty();
  if (pValid) {
    if (r.sp.empty()) r.sp = r.p;
    if (r.np.empty()) r.np = r.sp;
  }
  // RFC 7489 6.6.3: a bad or missing p/sp with a usable rua means p=none.
  bool mailtoRua = false;
  for (const auto& u : r.rua)
    if (u.scheme == "mailto" && !u.address.empty()) mailtoRua = true;
  r.downgraded = (!pValid || !spValid) && mailtoRua;
  return r;
}

}  // namespace mxpulse::probes
