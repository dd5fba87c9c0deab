// SPDX-License-Identifier: Apache-2.0
// http(s) URLs as our HTTP clients and config checks read them: split into
// scheme, host, port and target, and percent-encoding. Pure string code (no
// Poco, no OpenSSL), so the always-loaded agent can validate URLs in the
// config without loading the network libraries.
#pragma once

#include <string>
#include <string_view>

namespace mxpulse::probes {

struct HttpUrl {
  std::string scheme;  ///< "http" or "https"
  std::string host;    ///< without brackets
  int port = 0;
  std::string target;  ///< path and query, at least "/"
  /// host[:port] as the Host header must read (port only when not default).
  std::string hostHeader() const;
};

/// Splits an absolute http(s) URL; false with `error` otherwise. URLs
/// carrying user:password@ are refused (credentials belong in secrets).
bool parseHttpUrl(const std::string& url, HttpUrl& out, std::string& error);

/// Percent-encodes every byte but the RFC 3986 unreserved set
/// (A-Z a-z 0-9 - _ . ~), as %XX with uppercase hex; '/' stays when
/// `keepSlash`. This is what SigV4 requires and what form bodies accept.
std::string percentEncode(std::string_view s, bool keepSlash = false);

}  // namespace mxpulse::probes
