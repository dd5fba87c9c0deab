// SPDX-License-Identifier: Apache-2.0
#include "probes/http_url.hpp"

#include <cctype>

namespace mxpulse::probes {

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string HttpUrl::hostHeader() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  bool defaultPort = (scheme == "http" && port == 80) || (scheme == "https" && port == 443);
  return defaultPort ? h : h + ":" + std::to_string(port);
}

bool parseHttpUrl(const std::string& url, HttpUrl& out, std::string& error) {
  size_t sep = url.find("://");
  if (sep == std::string::npos) {
    error = "not an absolute URL";
    return false;
  }
  out.scheme = lower(url.substr(0, sep));
  if (out.scheme != "http" && out.scheme != "https") {
    error = "scheme must be http or https";
    return false;
  }
  size_t start = sep + 3;
  size_t slash = url.find_first_of("/?#", start);
  std::string authority =
      url.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
  if (authority.find('@') != std::string::npos) {
    error = "credentials in the URL are not accepted; use the auth settings";
    return false;
  }
  out.target = slash == std::string::npos ? "/" : url.substr(slash);
  size_t hash = out.target.find('#');
  if (hash != std::string::npos) out.target.erase(hash);
  if (out.target.empty() || out.target[0] != '/') out.target = "/" + out.target;
  out.port = out.scheme == "https" ? 443 : 80;
  std::string portText;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string::npos) {
      error = "unclosed [ in host";
      return false;
    }
    out.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') {
        error = "bad host";
        return false;
      }
      portText = authority.substr(close + 2);
    }
  } else {
    size_t colon = authority.rfind(':');
    out.host = authority.substr(0, colon);
    if (colon != std::string::npos) portText = authority.substr(colon + 1);
  }
  if (out.host.empty()) {
    error = "no host";
    return false;
  }
  if (!portText.empty()) {
    int port = 0;
    for (char c : portText) {
      if (!std::isdigit(static_cast<unsigned char>(c)) || port > 65535) {
        error = "bad port";
        return false;
      }
      port = port * 10 + (c - '0');
    }
    if (port < 1 || port > 65535) {
      error = "bad port";
      return false;
    }
    out.port = port;
  }
  return true;
}

std::string percentEncode(std::string_view s, bool keepSlash) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (c == '/' && keepSlash)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

}  // namespace mxpulse::probes
