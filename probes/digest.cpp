// SPDX-License-Identifier: Apache-2.0
#include "probes/digest.hpp"

#include <Poco/SHA2Engine.h>

namespace mxpulse::probes {

std::string sha256(std::string_view data) {
  Poco::SHA2Engine engine(Poco::SHA2Engine::SHA_256);
  engine.update(data.data(), static_cast<unsigned>(data.size()));
  const Poco::DigestEngine::Digest& d = engine.digest();
  return std::string(d.begin(), d.end());
}

std::string hmacSha256(std::string_view key, std::string_view data) {
  // Poco 1.11's SHA2Engine lacks the BLOCK_SIZE that HMACEngine needs, so
  // HMAC is spelled out here (RFC 2104, block size 64 for SHA-256).
  constexpr size_t kBlock = 64;
  std::string k = key.size() > kBlock ? sha256(key) : std::string(key);
  k.resize(kBlock, '\0');
  std::string inner(kBlock, '\0'), outer(kBlock, '\0');
  for (size_t i = 0; i < kBlock; ++i) {
    inner[i] = static_cast<char>(k[i] ^ 0x36);
    outer[i] = static_cast<char>(k[i] ^ 0x5c);
  }
  inner.append(data.data(), data.size());
  return sha256(outer + sha256(inner));
}

std::string toHex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

}  // namespace mxpulse::probes
