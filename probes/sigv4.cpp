// SPDX-License-Identifier: Apache-2.0
#include "probes/sigv4.hpp"

#include <algorithm>
#include <cctype>
#include <map>

#include "probes/digest.hpp"
#include "probes/time_text.hpp"

namespace mxpulse::probes {

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool iequals(const std::string& a, const char* b) {
  return lower(a) == b;
}

/// Trims and collapses runs of whitespace into one space (the suite's
/// get-header-value-trim case collapses inside quotes too).
std::string canonicalValue(const std::string& v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::string awsCanonicalPath(const std::string& path, bool normalize) {
  if (!normalize) return path.empty() ? "/" : awsUriEncode(path, false);
  // RFC 3986 remove_dot_segments, plus dropping empty segments ("//").
  std::vector<std::string> segments;
  std::string last;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string seg = path.substr(i, j - i);
    last = seg;
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!seg.empty() && seg != ".") {
      segments.push_back(seg);
    }
    i = j + 1;
  }
  std::string out;
  for (const auto& s : segments) out += "/" + awsUriEncode(s, true);
  bool trailing = last.empty() || last == "." || last == "..";
  if (out.empty() || trailing) out += "/";
  return out;
}

std::string amzDate(std::int64_t unixTime) {
  return formatUtc(unixTime, "%Y%m%dT%H%M%SZ");
}

SigV4Signed signV4(const SigV4Request& request, const AwsCredentials& credentials,
                   const SigV4Params& params) {
  SigV4Signed out;
  out.headers = request.headers;
  std::string date;
  bool hasToken = false;
  for (const auto& [name, value] : request.headers) {
    if (iequals(name, "x-amz-date")) date = canonicalValue(value);
    if (iequals(name, "x-amz-security-token")) hasToken = true;
  }
  if (date.empty()) {
    date = amzDate(params.unixTime);
    out.headers.emplace_back("X-Amz-Date", date);
  }
  bool addTokenAfter = false;
  if (!credentials.sessionToken.empty() && !hasToken) {
    if (params.signSessionToken)
      out.headers.emplace_back("X-Amz-Security-Token", credentials.sessionToken);
    else
      addTokenAfter = true;
  }

  // Canonical headers: lowercase names, sorted; repeated headers joined
  // with commas in the order they appear.
  std::map<std::string, std::string> canon;
  for (const auto& [name, value] : out.headers) {
    std::string key = lower(name);
    auto it = canon.find(key);
    if (it == canon.end())
      canon.emplace(key, canonicalValue(value));
    else
      it->second += "," + canonicalValue(value);
  }
  std::string canonicalHeaders, signedHeaders;
  for (const auto& [name, value] : canon) {
    canonicalHeaders += name + ":" + value + "\n";
    if (!signedHeaders.empty()) signedHeaders += ";";
    signedHeaders += name;
  }

  std::vector<std::pair<std::string, std::string>> query;
  for (const auto& [k, v] : request.query)
    query.emplace_back(awsUriEncode(k, true), awsUriEncode(v, true));
  std::sort(query.begin(), query.end());
  std::string canonicalQuery;
  for (const auto& [k, v] : query) {
    if (!canonicalQuery.empty()) canonicalQuery += "&";
    canonicalQuery += k + "=" + v;
  }

  out.canonicalRequest = request.method + "\n" +
                         awsCanonicalPath(request.path, params.normalizePath) + "\n" +
                         canonicalQuery + "\n" + canonicalHeaders + "\n" + signedHeaders + "\n" +
                         sha256Hex(request.body);

  std::string day = date.substr(0, 8);
  std::string scope = day + "/" + params.region + "/" + params.service + "/aws4_request";
  out.stringToSign =
      "AWS4-HMAC-SHA256\n" + date + "\n" + scope + "\n" + sha256Hex(out.canonicalRequest);

  std::string key = hmacSha256("AWS4" + credentials.secretAccessKey, day);
  key = hmacSha256(key, params.region);
  key = hmacSha256(key, params.service);
  key = hmacSha256(key, "aws4_request");
  out.signature = toHex(hmacSha256(key, out.stringToSign));
  out.authorization = "AWS4-HMAC-SHA256 Credential=" + credentials.accessKeyId + "/" + scope +
                      ", SignedHeaders=" + signedHeaders + ", Signature=" + out.signature;
  if (addTokenAfter) out.headers.emplace_back("X-Amz-Security-Token", credentials.sessionToken);
  out.headers.emplace_back("Authorization", out.authorization);
  return out;
}

}  // namespace mxpulse::probes
