// SPDX-License-Identifier: Apache-2.0
// SHA-256, HMAC-SHA-256 (RFC 2104) and hex, for SigV4 signing and for
// token fingerprints (a prefix of a token's hash stands in for the token in
// facts and state, so the token itself is never stored).
#pragma once

#include <string>
#include <string_view>

namespace mxpulse::probes {

/// Raw 32-byte SHA-256 digest.
std::string sha256(std::string_view data);
/// Raw 32-byte HMAC-SHA-256 of `data` under `key`.
std::string hmacSha256(std::string_view key, std::string_view data);
/// Lowercase hex of raw bytes.
std::string toHex(std::string_view bytes);
inline std::string sha256Hex(std::string_view data) {
  return toHex(sha256(data));
}

}  // namespace mxpulse::probes
