// SPDX-License-Identifier: Apache-2.0
#include "probes/mta_sts.hpp"

#include <cctype>

#include "probes/tag_text.hpp"

namespace mxpulse::probes {

namespace {

using tagtext::isSpace;
using tagtext::lower;
using tagtext::trim;
/// "v=<version>" then *WSP ";" ... : true when the record starts with it.
bool startsWithVersion(const std::string& txt, const std::string& version) {
  std::string head = "v=" + version;
  if (txt.compare(0, head.size(), head) != 0) return false;
  return txt.size() == head.size() || txt[head.size()] == ';' || isSpace(txt[head.size()]);
}

/// Splits "v=X; a=b; c=d" into fields after the version; false on a
/// malformed field. Empty trailing field allowed.
bool fields(const std::string& txt, std::vector<std::pair<std::string, std::string>>& out,
            std::string& error) {
  size_t start = txt.find(';');
  if (start == std::string::npos) return true;
  std::string rest = txt.substr(start + 1);
  size_t pos = 0;
  while (pos <= rest.size()) {
    size_t semi = rest.find(';', pos);
    bool last = semi == std::string::npos;
    std::string f = trim(rest.substr(pos, last ? std::string::npos : semi - pos));
    pos = last ? rest.size() + 1 : semi + 1;
    if (f.empty()) {
      if (!last) {
        error = "empty field between ';' separators";
        return false;
      }
      continue;
    }
    size_t eq = f.find('=');
    if (eq == std::string::npos || eq == 0) {
      error = "field '" + f + "' is not name=value";
      return false;
    }
    out.emplace_back(f.substr(0, eq), f.substr(eq + 1));
  }
  return true;
}

}  // namespace

bool isStsRecord(const std::string& txt) {
  return startsWithVersion(txt, "STSv1");
}

StsRecord parseStsRecord(const std::string& txt) {
  StsRecord r;
  if (!isStsRecord(txt)) {
    r.error = "does not start with v=STSv1";
    return r;
  }
  std::string head = trim(txt.substr(0, txt.find(';')));
  if (head != "v=STSv1") {
    r.error = "unexpected text after v=STSv1";
    return r;
  }
  std::vector<std::pair<std::string, std::string>> fs;
  if (!fields(txt, fs, r.error)) return r;
  bool haveId = false;
  for (const auto& [name, value] : fs) {
    if (name != "id") continue;  // extensions are ignored (3.1)
    if (haveId) {
      r.error = "id= appears twice";
      return r;
    }
    haveId = true;
    bool ok = !value.empty() && value.size() <= 32;
    for (char c : value) ok = ok && std::isalnum(static_cast<unsigned char>(c));
    if (!ok) {
      r.error = "id=" + value + " must be 1-32 letters and digits";
      return r;
    }
    r.id = value;
  }
  if (!haveId) {
    r.error = "id= is missing";
    return r;
  }
  r.valid = true;
  return r;
}

StsPolicy parseStsPolicy(const std::string& body) {
  StsPolicy p;
  bool haveVersion = false, haveMode = false, haveMaxAge = false;
  size_t pos = 0;
  int lineNo = 0;
  while (pos < body.size()) {
    size_t nl = body.find('\n', pos);
    std::string line = body.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? body.size() : nl + 1;
    ++lineNo;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (trim(line).empty()) continue;
    size_t colon = line.find(':');
    if (colon == std::string::npos) {
      p.errors.push_back("line " + std::to_string(lineNo) + " is not 'key: value'");
      continue;
    }
    std::string key = trim(line.substr(0, colon));
    std::string value = trim(line.substr(colon + 1));
    if (key == "version") {
      if (haveVersion) continue;
      haveVersion = true;
      p.version = value;
    } else if (key == "mode") {
      if (haveMode) continue;
      haveMode = true;
      p.mode = value;
    } else if (key == "max_age") {
      if (haveMaxAge) continue;
      haveMaxAge = true;
      bool digits = !value.empty() && value.size() <= 10;
      for (char c : value) digits = digits && std::isdigit(static_cast<unsigned char>(c));
      if (digits && std::stoll(value) <= 31557600)
        p.maxAge = std::stoll(value);
      else
        p.errors.push_back("max_age: " + value + " is not 0-31557600 seconds");
    } else if (key == "mx") {
      p.mx.push_back(tagtext::dnsName(value));
    }
  }
  if (!haveVersion)
    p.errors.push_back("version: is missing");
  else if (p.version != "STSv1")
    p.errors.push_back("version: " + p.version + " is not STSv1");
  if (!haveMode)
    p.errors.push_back("mode: is missing");
  else if (p.mode != "enforce" && p.mode != "testing" && p.mode != "none")
    p.errors.push_back("mode: " + p.mode + " is not enforce, testing or none");
  if (!haveMaxAge) p.errors.push_back("max_age: is missing");
  if (p.mx.empty() && p.mode != "none")
    p.errors.push_back("no mx: lines (required unless mode: none)");
  p.valid = p.errors.empty();
  return p;
}

bool stsMxMatches(const std::string& pattern, const std::string& host) {
  std::string pat = tagtext::dnsName(pattern), h = tagtext::dnsName(host);
  if (pat.rfind("*.", 0) != 0) return pat == h;
  std::string suffix = pat.substr(1);  // ".example.com"
  if (h.size() <= suffix.size() || h.compare(h.size() - suffix.size(), suffix.size(), suffix) != 0)
    return false;
  std::string label = h.substr(0, h.size() - suffix.size());
  return !label.empty() && label.find('.') == std::string::npos;
}

bool isTlsRptRecord(const std::string& txt) {
  return startsWithVersion(txt, "TLSRPTv1");
}

TlsRptRecord parseTlsRptRecord(const std::string& txt) {
  TlsRptRecord r;
  if (!isTlsRptRecord(txt)) {
    r.errors.push_back("does not start with v=TLSRPTv1");
    return r;
  }
  if (trim(txt.substr(0, txt.find(';'))) != "v=TLSRPTv1") {
    r.errors.push_back("unexpected text after v=TLSRPTv1");
    return r;
  }
  std::vector<std::pair<std::string, std::string>> fs;
  std::string error;
  if (!fields(txt, fs, error)) {
    r.errors.push_back(error);
    return r;
  }
  for (const auto& [name, value] : fs) {
    if (name != "rua") continue;
    std::vector<DmarcUri> uris;
    if (!parseReportUris(value, false, uris, error)) {
      r.errors.push_back("rua=: " + error);
      continue;
    }
    for (const auto& u : uris) {
      if (u.scheme != "mailto" && u.scheme != "https")
        r.errors.push_back("rua=" + u.text + ": only mailto: and https: are allowed");
      else if (u.scheme == "mailto" && u.address.empty())
        r.errors.push_back("rua=" + u.text + " is not a mail address");
      r.rua.push_back(u);
    }
  }
  if (r.rua.empty() && r.errors.empty()) r.errors.push_back("rua= is missing");
  r.valid = r.errors.empty();
  return r;
}

}  // namespace mxpulse::probes
