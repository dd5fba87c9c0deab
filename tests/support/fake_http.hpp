// SPDX-License-Identifier: Apache-2.0
// A small HTTP/1.1 server on 127.0.0.1 for services that cannot run here
// (PowerMTA's management interface, an OAuth token endpoint). It serves
// whatever the test's handler returns and can misbehave on purpose:
// trickle the body, stall, close early, or announce a length it never sends.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace mxpulse::test {

struct FakeHttpRequest {
  std::string method;
  std::string target;  ///< path and query as sent
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  /// First header named `name` (case-insensitive), or "".
  std::string header(const std::string& name) const;
};

struct FakeHttpResponse {
  enum class Mode {
    Normal,    ///< status line, headers, Content-Length, body, close
    Trickle,   ///< body sent in `trickleBytes` pieces every `trickleMs`
    Stall,     ///< reads the request, then says nothing until stopped
    Truncate,  ///< announces the full length, sends half the body, closes
  };
  int status = 200;
  std::string contentType = "text/xml";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  Mode mode = Mode::Normal;
  int trickleMs = 50;
  size_t trickleBytes = 1;
};

class FakeHttpServer {
 public:
  using Handler = std::function<FakeHttpResponse(const FakeHttpRequest&)>;
  explicit FakeHttpServer(Handler handler);
  ~FakeHttpServer();
  FakeHttpServer(const FakeHttpServer&) = delete;
  FakeHttpServer& operator=(const FakeHttpServer&) = delete;

  int port() const { return port_; }
  std::string url(const std::string& path = "") const;
  /// Every request received so far.
  std::vector<FakeHttpRequest> requests();

 private:
  void acceptLoop();
  void serve(int fd);
  Handler handler_;
  int listenFd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<FakeHttpRequest> requests_;
  std::vector<std::thread> connections_;
  std::thread acceptor_;
};

}  // namespace mxpulse::test
