// SPDX-License-Identifier: Apache-2.0
#include "probes/tcp_stream.hpp"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>

namespace mxpulse::probes {

const char* netErrorName(NetError e) {
  switch (e) {
    case NetError::None:
      return "none";
    case NetError::Dns:
      return "dns";
    case NetError::Connect:
      return "connect";
    case NetError::Timeout:
      return "timeout";
    case NetError::Closed:
      return "closed";
    case NetError::Io:
      return "io";
    case NetError::TooLong:
      return "too_long";
  }
  return "io";
}

bool isIpLiteral(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

bool splitHostPort(const std::string& endpoint, std::string& host, int& port) {
  size_t colon = endpoint.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == endpoint.size()) return false;
  host = endpoint.substr(0, colon);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return false;
    host = host.substr(1, host.size() - 2);
    unsigned char buf[16];
    if (inet_pton(AF_INET6, host.c_str(), buf) != 1) return false;
  } else if (host.find(':') != std::string::npos) {
    return false;  // a bare IPv6 literal must be bracketed
  }
  std::string p = endpoint.substr(colon + 1);
  if (p.size() > 5) return false;
  for (char c : p)
    if (c < '0' || c > '9') return false;
  port = std::stoi(p);
  return port >= 1 && port <= 65535;
}

namespace {

// getaddrinfo() cannot be interrupted, so it runs on a helper thread that
// the caller stops waiting for at the deadline; the thread finishes on its
// own (bounded by the resolver's timeouts in resolv.conf) and frees its
// state through the shared pointer.
struct Lookup {
  std::mutex mutex;
  std::condition_variable done;
  bool finished = false;
  int rc = 0;
  std::vector<std::string> addresses;
};

void runLookup(std::shared_ptr<Lookup> lookup, std::string host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
  std::vector<std::string> out;
  for (addrinfo* ai = res; rc == 0 && ai; ai = ai->ai_next) {
    char text[INET6_ADDRSTRLEN] = "";
    if (ai->ai_family == AF_INET)
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr, text, sizeof text);
    else if (ai->ai_family == AF_INET6)
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr, text,
                sizeof text);
    else
      continue;
    bool seen = false;
    for (const auto& a : out) seen = seen || a == text;
    if (!seen) out.emplace_back(text);
  }
  if (res) freeaddrinfo(res);
  std::lock_guard<std::mutex> lock(lookup->mutex);
  lookup->rc = rc;
  lookup->addresses = std::move(out);
  lookup->finished = true;
  lookup->done.notify_all();
}

bool fillSockaddr(const std::string& ip, int port, sockaddr_storage& ss, socklen_t& len) {
  std::memset(&ss, 0, sizeof ss);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    len = sizeof(sockaddr_in);
    return true;
  }
  if (inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

}  // namespace

std::vector<std::string> resolveHost(const std::string& host, Deadline deadline, NetError& err,
                                     std::string& error) {
  if (isIpLiteral(host)) return {host};
  auto lookup = std::make_shared<Lookup>();
  try {
    std::thread(runLookup, lookup, host).detach();
  } catch (const std::system_error& e) {
    err = NetError::Dns;
    error = std::string("cannot start resolver thread: ") + e.what();
    return {};
  }
  std::unique_lock<std::mutex> lock(lookup->mutex);
  if (!lookup->done.wait_until(lock, deadline.at(), [&] { return lookup->finished; })) {
    err = NetError::Timeout;
    error = "resolving " + host + " did not finish before the deadline";
    return {};
  }
  if (lookup->rc != 0 || lookup->addresses.empty()) {
    err = NetError::Dns;
    error = "cannot resolve " + host + ": " +
            (lookup->rc ? gai_strerror(lookup->rc) : "no IPv4 or IPv6 address");
    return {};
  }
  return lookup->addresses;
}

bool waitFd(int fd, short events, Deadline deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int ms = deadline.remainingMs();
    int rc = poll(&p, 1, ms);
    if (rc > 0) return true;
    if (rc == 0) return false;
    if (errno != EINTR) return true;  // let the following call report the error
  }
}

int connectAny(const std::vector<std::string>& addresses, int port, Deadline deadline,
               NetError& err, std::string& error, std::string& connected) {
  err = NetError::Connect;
  error = "no address to connect to";
  for (size_t i = 0; i < addresses.size(); ++i) {
    if (deadline.expired()) {
      err = NetError::Timeout;
      error = "connect to " + addresses[i] + " did not finish before the deadline";
      return -1;
    }
    sockaddr_storage ss;
    socklen_t len = 0;
    if (!fillSockaddr(addresses[i], port, ss, len)) continue;
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      error = std::string("socket: ") + std::strerror(errno);
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // Later addresses keep a share of the time: a black-holed first address
    // must not use the whole deadline.
    Deadline attempt =
        i + 1 < addresses.size() ? deadline.capped(deadline.remaining() / 2) : deadline;
    int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&ss), len);
    if (rc != 0 && errno == EINPROGRESS) {
      if (!waitFd(fd, POLLOUT, attempt)) {
        close(fd);
        err = NetError::Timeout;
        error = "connect to " + addresses[i] + " timed out";
        continue;
      }
      int soerr = 0;
      socklen_t sl = sizeof soerr;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
      rc = soerr == 0 ? 0 : -1;
      errno = soerr;
    }
    if (rc != 0) {
      err = NetError::Connect;
      error = "connect to " + addresses[i] + ": " + std::strerror(errno);
      close(fd);
      continue;
    }
    err = NetError::None;
    error.clear();
    connected = addresses[i];
    return fd;
  }
  return -1;
}

size_t PlainStream::read(char* buf, size_t len, Deadline deadline, NetError& err,
                         std::string& error) {
  for (;;) {
    ssize_t n = ::recv(fd_, buf, len, 0);
    if (n > 0) return static_cast<size_t>(n);
    if (n == 0) {
      err = NetError::Closed;
      error = "connection closed by the server";
      return 0;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      err = NetError::Io;
      error = std::string("read: ") + std::strerror(errno);
      return 0;
    }
    if (!waitFd(fd_, POLLIN, deadline)) {
      err = NetError::Timeout;
      error = "no answer before the deadline";
      return 0;
    }
  }
}

bool PlainStream::write(const std::string& data, Deadline deadline, NetError& err,
                        std::string& error) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!waitFd(fd_, POLLOUT, deadline)) {
        err = NetError::Timeout;
        error = "write did not finish before the deadline";
        return false;
      }
      continue;
    }
    err = NetError::Io;
    error = std::string("write: ") + std::strerror(errno);
    return false;
  }
  return true;
}

bool LineReader::readLine(std::string& line, Deadline deadline, NetError& err, std::string& error) {
  for (;;) {
    size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      if (nl > limits_.maxLineBytes) break;
      line.assign(buffer_, 0, nl);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      buffer_.erase(0, nl + 1);
      return true;
    }
    if (buffer_.size() > limits_.maxLineBytes) break;
    char buf[2048];
    size_t n = stream_.read(buf, sizeof buf, deadline, err, error);
    if (n == 0) return false;
    buffer_.append(buf, n);
  }
  err = NetError::TooLong;
  error = "server sent a line longer than " + std::to_string(limits_.maxLineBytes) + " bytes";
  return false;
}

}  // namespace mxpulse::probes
