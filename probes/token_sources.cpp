// SPDX-License-Identifier: Apache-2.0
#include "probes/token_sources.hpp"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <fstream>
#include <iterator>

#include "probes/bounded_http.hpp"
#include "probes/digest.hpp"
#include "probes/time_text.hpp"

namespace mxpulse::probes {

namespace {

bool readCapped(const std::string& path, size_t cap, std::string& out, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot read " + path;
    return false;
  }
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (out.size() > cap) {
    error = path + " is larger than " + std::to_string(cap) + " bytes";
    return false;
  }
  return true;
}

Poco::JSON::Object::Ptr parseObject(const std::string& text, std::string& error) {
  try {
    Poco::JSON::Parser parser;
    Poco::Dynamic::Var v = parser.parse(text);
    auto obj = v.extract<Poco::JSON::Object::Ptr>();
    if (!obj) error = "not a JSON object";
    return obj;
  } catch (const Poco::Exception&) {
    error = "not valid JSON";  // Poco's message may quote the text: leave it out
  } catch (const std::exception&) {
    error = "not a JSON object";
  }
  return nullptr;
}

std::string str(const Poco::JSON::Object::Ptr& o, const std::string& key) {
  if (!o || !o->has(key) || o->isNull(key)) return "";
  try {
    return o->getValue<std::string>(key);
  } catch (const Poco::Exception&) {
    return "";
  }
}

std::optional<double> num(const Poco::JSON::Object::Ptr& o, const std::string& key) {
  if (!o || !o->has(key) || o->isNull(key)) return std::nullopt;
  try {
    Poco::Dynamic::Var v = o->get(key);
    if (v.isString()) {
      std::string s = v.convert<std::string>();
      size_t used = 0;
      double d = std::stod(s, &used);
      if (used != s.size()) return std::nullopt;
      return d;
    }
    if (v.isNumeric()) return v.convert<double>();
  } catch (const std::exception&) {  // Poco::Exception included
  }
  return std::nullopt;
}

std::string clip(const std::string& s, size_t n) {
  return s.size() <= n ? s : s.substr(0, n - 3) + "...";
}

}  // namespace

GoogleTokenFile parseGoogleTokenJson(const std::string& text) {
  GoogleTokenFile t;
  auto obj = parseObject(text, t.error);
  if (!obj) {
    t.error = "token.json: " + t.error;
    return t;
  }
  t.refreshToken = str(obj, "refresh_token");
  t.clientId = str(obj, "client_id");
  t.clientSecret = str(obj, "client_secret");
  t.tokenUri = str(obj, "token_uri");
  t.account = str(obj, "account");
  t.expiryText = str(obj, "expiry");
  if (!t.expiryText.empty()) t.expiry = parseTimestamp(t.expiryText);
  if (!t.expiryText.empty() && !t.expiry) {
    t.error = "token.json: expiry '" + clip(t.expiryText, 40) + "' is not a time";
    return t;
  }
  try {
    if (obj->has("scopes") && obj->isArray("scopes")) {
      auto arr = obj->getArray("scopes");
      for (size_t i = 0; i < arr->size() && i < 64; ++i)
        t.scopes.push_back(arr->getElement<std::string>(static_cast<unsigned>(i)));
    }
  } catch (const Poco::Exception&) {
  }
  if (t.refreshToken.empty() && str(obj, "token").empty()) {
    t.error = "token.json has neither token nor refresh_token";
    return t;
  }
  t.ok = true;
  return t;
}

GoogleTokenFile readGoogleTokenJson(const std::string& path) {
  std::string text, error;
  if (!readCapped(path, 1u << 20, text, error)) {
    GoogleTokenFile t;
    t.error = error;
    return t;
  }
  return parseGoogleTokenJson(text);
}

bool base64UrlDecode(const std::string& in, std::string& out) {
  out.clear();
  unsigned buffer = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '-')
      v = 62;
    else if (c == '_')
      v = 63;
    else if (c == '=')
      break;
    else
      return false;
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  return true;
}

std::string base64UrlEncode(const std::string& in) {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (unsigned char c : in) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(alphabet[(buffer >> bits) & 63]);
    }
  }
  if (bits) out.push_back(alphabet[(buffer << (6 - bits)) & 63]);
  return out;
}

JwtInfo decodeJwt(const std::string& tokenIn) {
  JwtInfo j;
  std::string token = tokenIn;
  if (token.compare(0, 7, "Bearer ") == 0) token = token.substr(7);
  size_t d1 = token.find('.');
  size_t d2 = d1 == std::string::npos ? d1 : token.find('.', d1 + 1);
  if (d1 == std::string::npos || d2 == std::string::npos ||
      token.find('.', d2 + 1) != std::string::npos) {
    j.error = "not a JWT (want three dot-separated segments)";
    return j;
  }
  std::string header, payload;
  if (!base64UrlDecode(token.substr(0, d1), header) ||
      !base64UrlDecode(token.substr(d1 + 1, d2 - d1 - 1), payload)) {
    j.error = "JWT segment is not base64url";
    return j;
  }
  std::string error;
  auto h = parseObject(header, error);
  if (!h) {
    j.error = "JWT header: " + error;
    return j;
  }
  j.alg = str(h, "alg");
  auto p = parseObject(payload, error);
  if (!p) {
    j.error = "JWT payload: " + error;
    return j;
  }
  j.exp = num(p, "exp");
  j.iat = num(p, "iat");
  if (p->has("exp") && !j.exp) {
    j.error = "JWT exp is not a NumericDate";
    return j;
  }
  j.ok = true;
  return j;
}

std::string tokenFingerprint(const std::string& secret) {
  return sha256Hex(secret).substr(0, 16);
}

std::string redactSecrets(std::string text, const std::vector<std::string>& secrets) {
  for (const auto& s : secrets) {
    if (s.size() < 4) continue;  // too short to be a token; would mangle text
    size_t pos = 0;
    while ((pos = text.find(s, pos)) != std::string::npos) {
      text.replace(pos, s.size(), "[redacted]");
      pos += 10;
    }
  }
  return text;
}

bool readTokenFile(const std::string& path, std::string& token, std::string& error) {
  if (!readCapped(path, 64u << 10, token, error)) return false;
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.front())))
    token.erase(0, 1);
  if (token.empty()) {
    error = path + " is empty";
    return false;
  }
  return true;
}

const char* refreshOutcomeName(RefreshProbe::Outcome o) {
  switch (o) {
    case RefreshProbe::Outcome::Accepted:
      return "accepted";
    case RefreshProbe::Outcome::InvalidGrant:
      return "invalid_grant";
    case RefreshProbe::Outcome::ClientError:
      return "client_error";
    case RefreshProbe::Outcome::ServerError:
      return "server_error";
    case RefreshProbe::Outcome::Unreachable:
      return "unreachable";
  }
  return "unknown";
}

RefreshProbe probeRefreshToken(const std::string& endpoint, const std::string& clientId,
                               const std::string& clientSecret, const std::string& refreshToken,
                               Deadline deadline) {
  RefreshProbe r;
  const std::vector<std::string> secrets{refreshToken, clientSecret};
  HttpRequest req;
  req.method = "POST";
  req.url = endpoint;
  req.maxBodyBytes = 64u << 10;
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                 {"Accept", "application/json"}};
  req.body = "grant_type=refresh_token&client_id=" + percentEncode(clientId) +
             "&client_secret=" + percentEncode(clientSecret) +
             "&refresh_token=" + percentEncode(refreshToken);
  HttpResponse resp = httpRequest(req, deadline);
  req.body.assign(req.body.size(), '\0');  // do not leave the secrets lying around
  if (!resp.ok) {
    r.outcome = RefreshProbe::Outcome::Unreachable;
    r.error = redactSecrets(resp.error, secrets);
    return r;
  }
  r.httpStatus = resp.status;
  std::string parseError;
  auto obj = parseObject(resp.body, parseError);
  resp.body.assign(resp.body.size(), '\0');
  if (resp.status == 200) {
    if (obj && !str(obj, "access_token").empty()) {
      r.outcome = RefreshProbe::Outcome::Accepted;
      if (auto e = num(obj, "expires_in")) r.expiresIn = static_cast<std::int64_t>(*e);
    } else {
      r.outcome = RefreshProbe::Outcome::ServerError;
      r.error = "HTTP 200 without access_token";
    }
    return r;
  }
  r.error = obj ? str(obj, "error") : "";
  r.description = redactSecrets(clip(obj ? str(obj, "error_description") : "", 200), secrets);
  if (r.error == "invalid_grant")
    r.outcome = RefreshProbe::Outcome::InvalidGrant;
  else if (resp.status >= 400 && resp.status < 500 && !r.error.empty())
    r.outcome = RefreshProbe::Outcome::ClientError;
  else
    r.outcome = RefreshProbe::Outcome::ServerError;
  if (r.error.empty()) r.error = "HTTP " + std::to_string(resp.status);
  r.error = redactSecrets(clip(r.error, 80), secrets);
  return r;
}

}  // namespace mxpulse::probes
