// SPDX-License-Identifier: Apache-2.0
// The string half of probes/telegram.hpp: checking the configured base URL
// and masking the token. No Poco here: config validation and error messages
// run in the always-loaded agent, the HTTP client only when a message goes.
#include "probes/http_url.hpp"
#include "probes/telegram.hpp"

namespace mxpulse::probes {

std::string maskToken(const std::string& text, const std::string& token) {
  if (token.empty()) return text;
  std::string out = text;
  auto replaceAll = [&](const std::string& needle) {
    if (needle.size() < 6) return;
    for (size_t pos = out.find(needle); pos != std::string::npos; pos = out.find(needle, pos + 7))
      out.replace(pos, needle.size(), "<token>");
  };
  replaceAll(token);
  size_t colon = token.find(':');
  if (colon != std::string::npos) replaceAll(token.substr(colon + 1));
  return out;
}

std::string checkTelegramBaseUrl(const std::string& url) {
  size_t sep = url.find("://");
  if (sep == std::string::npos) return "is not a URL (no scheme://)";
  std::string scheme = url.substr(0, sep);
  if (scheme != "https" && scheme != "http")
    return "must start with https:// (or http:// for a local Bot API server)";
  size_t end = url.find_first_of("/?#", sep + 3);
  std::string authority = url.substr(sep + 3, end == std::string::npos ? end : end - sep - 3);
  if (authority.find('@') != std::string::npos) return "must not contain user:password@";
  if (url.find_first_of("?#") != std::string::npos) return "must not have a query or fragment";
  HttpUrl parsed;
  std::string error;
  if (!parseHttpUrl(url, parsed, error))
    return error == "no host" ? "has no host" : "is not a URL (" + error + ")";
  return "";
}

}  // namespace mxpulse::probes
