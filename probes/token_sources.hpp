// SPDX-License-Identifier: Apache-2.0
// Where OAuth token expiry comes from (reference/formats.md §4):
//   - google-auth's token.json (`expiry` = access-token expiry, naive UTC
//     with a literal Z, with or without microseconds; `refresh_token`),
//   - JWTs (three base64url segments; `exp` is a NumericDate, maybe
//     fractional; the signature is not checked, only read),
//   - and a live refresh at the token endpoint (RFC 6749 §6), whose
//     `invalid_grant` means a human must consent again.
// Token values stay in memory for the probe and the fingerprint only;
// nothing here logs them, and error texts are scrubbed of them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "probes/deadline.hpp"

namespace mxpulse::probes {

struct GoogleTokenFile {
  bool ok = false;
  std::string error;                   ///< why !ok (never contains a token)
  std::optional<std::int64_t> expiry;  ///< access token expiry (nullopt: absent or unparsable)
  std::string expiryText;              ///< as written, for facts
  std::string refreshToken;            ///< secret: fingerprint and live probe only
  std::string clientId;
  std::string clientSecret;  ///< secret: live probe only
  std::string tokenUri;
  std::vector<std::string> scopes;
  std::string account;
};

/// Parses token.json text.
GoogleTokenFile parseGoogleTokenJson(const std::string& text);
/// Reads and parses the file (at most 1 MiB).
GoogleTokenFile readGoogleTokenJson(const std::string& path);

struct JwtInfo {
  bool ok = false;
  std::string error;
  std::optional<double> exp;  ///< NumericDate
  std::optional<double> iat;
  std::string alg;
};

/// Decodes header and payload of a compact JWT (no signature check).
JwtInfo decodeJwt(const std::string& token);
/// base64url (RFC 4648 §5) without padding (padding tolerated); false on
/// characters outside the alphabet.
bool base64UrlDecode(const std::string& in, std::string& out);
/// base64url without padding (for building JWTs in tests and tools).
std::string base64UrlEncode(const std::string& in);

/// First 16 hex digits of SHA-256(secret): identifies a token in state and
/// facts without revealing it.
std::string tokenFingerprint(const std::string& secret);
/// Replaces every occurrence of each non-empty secret with "[redacted]".
std::string redactSecrets(std::string text, const std::vector<std::string>& secrets);

/// Reads a file holding one token (trailing whitespace stripped; at most 64 KiB).
bool readTokenFile(const std::string& path, std::string& token, std::string& error);

struct RefreshProbe {
  enum class Outcome {
    Accepted,      ///< 200 with an access_token: the refresh token works
    InvalidGrant,  ///< expired or revoked: re-consent needed
    ClientError,   ///< invalid_client, unauthorized_client, ...: config broken
    ServerError,   ///< 5xx or an unexpected reply
    Unreachable,   ///< transport failure or timeout
  };
  Outcome outcome = Outcome::Unreachable;
  int httpStatus = 0;
  std::string error;                      ///< RFC 6749 error code, or the transport error
  std::string description;                ///< error_description, scrubbed and clipped
  std::optional<std::int64_t> expiresIn;  ///< of the new access token (discarded)
};
const char* refreshOutcomeName(RefreshProbe::Outcome o);

/// POSTs grant_type=refresh_token to `endpoint`. The access token in the
/// answer is dropped at once; nothing is written anywhere.
RefreshProbe probeRefreshToken(const std::string& endpoint, const std::string& clientId,
                               const std::string& clientSecret, const std::string& refreshToken,
                               Deadline deadline);

}  // namespace mxpulse::probes
