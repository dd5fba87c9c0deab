// SPDX-License-Identifier: Apache-2.0
// A deliberately small HTTPS GET for policy files (MTA-STS): connects to
// addresses the caller resolved (through the job's DNS resolver), verifies
// the certificate chain and the host name, follows no redirects, caps the
// body, and ends by the deadline. OpenSSL directly, so verification cannot
// be loosened by a process-wide certificate handler installed elsewhere.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "probes/deadline.hpp"

typedef struct ssl_ctx_st SSL_CTX;

namespace mxpulse::probes {

enum class HttpsError {
  None,
  Connect,      ///< refused, unreachable
  Timeout,      ///< the deadline passed
  Certificate,  ///< chain or name verification failed
  Tls,          ///< other handshake or TLS I/O failure
  Protocol,     ///< not an HTTP response
  TooLarge,     ///< body over the cap
};
const char* httpsErrorName(HttpsError e);

struct HttpsResponse {
  HttpsError error = HttpsError::None;
  std::string errorText;
  std::string address;  ///< the IP that was connected to
  int status = 0;
  std::string contentType;
  std::string location;  ///< for 3xx answers (reported, never followed)
  std::string body;
};

class HttpsClient {
 public:
  /// `caFile` "" = the system trust store. nullptr with `error` on failure.
  static std::unique_ptr<HttpsClient> create(const std::string& caFile, std::string& error);
  ~HttpsClient();
  HttpsClient(const HttpsClient&) = delete;
  HttpsClient& operator=(const HttpsClient&) = delete;

  /// GET https://host:port/path, connecting to `addresses` in order.
  /// Thread-safe.
  HttpsResponse get(const std::vector<std::string>& addresses, const std::string& host, int port,
                    const std::string& path, size_t maxBody, Deadline deadline) const;

 private:
  HttpsClient() = default;
  SSL_CTX* ctx_ = nullptr;
};

}  // namespace mxpulse::probes
