// SPDX-License-Identifier: Apache-2.0
#include "tests/support/fake_http.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <stdexcept>

namespace mxpulse::test {

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool sendAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

const char* reasonFor(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

}  // namespace

std::string FakeHttpRequest::header(const std::string& name) const {
  std::string want = lower(name);
  for (const auto& [n, v] : headers)
    if (lower(n) == want) return v;
  return "";
}

FakeHttpServer::FakeHttpServer(Handler handler) : handler_(std::move(handler)) {
  listenFd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(listenFd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;  // the kernel picks a free port
  if (::bind(listenFd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listenFd_, 16) != 0)
    throw std::runtime_error("fake http: cannot listen on 127.0.0.1");
  socklen_t len = sizeof addr;
  getsockname(listenFd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { acceptLoop(); });
}

FakeHttpServer::~FakeHttpServer() {
  stop_ = true;
  acceptor_.join();
  for (auto& t : connections_) t.join();
  ::close(listenFd_);
}

std::string FakeHttpServer::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

std::vector<FakeHttpRequest> FakeHttpServer::requests() {
  std::lock_guard<std::mutex> lock(mutex_);
  return requests_;
}

void FakeHttpServer::acceptLoop() {
  while (!stop_) {
    pollfd p{listenFd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept(listenFd_, nullptr, nullptr);
    if (fd < 0) continue;
    std::lock_guard<std::mutex> lock(mutex_);
    connections_.emplace_back([this, fd] {
      serve(fd);
      ::close(fd);
    });
  }
}

void FakeHttpServer::serve(int fd) {
  // Read the request head and a Content-Length body (bounded, 5 s).
  std::string data;
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  size_t headEnd = std::string::npos;
  size_t want = 0;
  while (!stop_ && std::chrono::steady_clock::now() < end) {
    if (headEnd != std::string::npos && data.size() >= headEnd + 4 + want) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    char buf[8192];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    data.append(buf, static_cast<size_t>(n));
    if (data.size() > (8u << 20)) return;
    if (headEnd == std::string::npos && (headEnd = data.find("\r\n\r\n")) != std::string::npos) {
      std::string head = lower(data.substr(0, headEnd));
      size_t cl = head.find("\r\ncontent-length:");
      if (cl != std::string::npos) want = std::stoul(head.substr(cl + 17));
    }
  }
  if (headEnd == std::string::npos) return;
  FakeHttpRequest req;
  std::string head = data.substr(0, headEnd);
  size_t eol = head.find("\r\n");
  std::string line = head.substr(0, eol);
  size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
  req.method = line.substr(0, sp1);
  req.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  size_t pos = eol == std::string::npos ? head.size() : eol + 2;
  while (pos < head.size()) {
    size_t e = head.find("\r\n", pos);
    if (e == std::string::npos) e = head.size();
    std::string h = head.substr(pos, e - pos);
    size_t colon = h.find(':');
    if (colon != std::string::npos) {
      std::string v = h.substr(colon + 1);
      while (!v.empty() && v.front() == ' ') v.erase(0, 1);
      req.headers.emplace_back(h.substr(0, colon), v);
    }
    pos = e + 2;
  }
  req.body = data.substr(headEnd + 4, want);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    requests_.push_back(req);
  }
  FakeHttpResponse resp = handler_(req);
  using Mode = FakeHttpResponse::Mode;
  if (resp.mode == Mode::Stall) {
    while (!stop_) ::usleep(20000);
    return;
  }
  std::string out = "HTTP/1.1 " + std::to_string(resp.status) + " " + reasonFor(resp.status) +
                    "\r\nContent-Type: " + resp.contentType +
                    "\r\nContent-Length: " + std::to_string(resp.body.size()) +
                    "\r\nConnection: close\r\n";
  for (const auto& [n, v] : resp.headers) out += n + ": " + v + "\r\n";
  out += "\r\n";
  if (!sendAll(fd, out)) return;
  if (resp.mode == Mode::Truncate) {
    sendAll(fd, resp.body.substr(0, resp.body.size() / 2));
    return;
  }
  if (resp.mode == Mode::Trickle) {
    for (size_t off = 0; off < resp.body.size() && !stop_; off += resp.trickleBytes) {
      if (!sendAll(fd, resp.body.substr(off, resp.trickleBytes))) return;
      ::usleep(static_cast<useconds_t>(resp.trickleMs) * 1000);
    }
    return;
  }
  sendAll(fd, resp.body);
  ::shutdown(fd, SHUT_WR);
}

}  // namespace mxpulse::test
