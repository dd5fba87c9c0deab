// SPDX-License-Identifier: Apache-2.0
// One HTTP(S) request that ends by the caller's deadline, whatever the peer
// does (stalls, trickles, never closes), and never buffers more than a cap.
// Poco's per-operation timeouts alone would let a trickling peer hold us
// for ever, so a watchdog shuts the socket down at the deadline.
// Transport failures are values (`ok == false`), never exceptions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "probes/deadline.hpp"
#include "probes/http_url.hpp"

namespace mxpulse::probes {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string basicUser;      ///< HTTP basic auth when non-empty
  std::string basicPassword;  ///< never logged
  size_t maxBodyBytes = 4u << 20;
};

enum class HttpError { None, Url, Connect, Timeout, TooLarge, Tls, Protocol };
const char* httpErrorName(HttpError e);

struct HttpResponse {
  bool ok = false;  ///< a complete response arrived (any status code)
  HttpError errorKind = HttpError::None;
  std::string error;  ///< one line, when !ok; never contains credentials
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;  ///< names as sent
  std::string body;
  /// The first header named `name` (case-insensitive), or "".
  std::string header(const std::string& name) const;
};

HttpResponse httpRequest(const HttpRequest& request, Deadline deadline);


}  // namespace mxpulse::probes
