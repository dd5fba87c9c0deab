// SPDX-License-Identifier: Apache-2.0
#include "tests/support/fake_dns.hpp"

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

namespace mxpulse::test {

namespace {

std::string lowerNoDot(const char* text) {
  std::string s = text ? text : "";
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

bool readFull(int fd, std::uint8_t* buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 2000) != 1) return false;
    ssize_t r = read(fd, buf + got, n - got);
    if (r <= 0) return false;
    got += static_cast<size_t>(r);
  }
  return true;
}

int bindSocket(int family, int type, const std::string& host, int port) {
  int fd = socket(family, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_storage ss{};
  socklen_t len;
  if (family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, host.c_str(), &a->sin_addr);
    len = sizeof(sockaddr_in);
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET6, host.c_str(), &a->sin6_addr);
    len = sizeof(sockaddr_in6);
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int boundPort(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  return ss.ss_family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port)
                                 : ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

}  // namespace

bool parseDnsQuery(const std::vector<std::uint8_t>& wire, DnsQuery& out) {
  ldns_pkt* pkt = nullptr;
  if (ldns_wire2pkt(&pkt, wire.data(), wire.size()) != LDNS_STATUS_OK) return false;
  bool ok = ldns_rr_list_rr_count(ldns_pkt_question(pkt)) == 1;
  if (ok) {
    const ldns_rr* q = ldns_rr_list_rr(ldns_pkt_question(pkt), 0);
    char* name = ldns_rdf2str(ldns_rr_owner(q));
    out.name = lowerNoDot(name);
    std::free(name);
    out.type = ldns_rr_get_type(q);
    out.id = ldns_pkt_id(pkt);
    out.edns = ldns_pkt_edns(pkt);
    out.wire = wire;
  }
  ldns_pkt_free(pkt);
  return ok;
}

std::vector<std::uint8_t> buildDnsReply(const std::vector<std::uint8_t>& query,
                                        const DnsReplySpec& spec) {
  ldns_pkt* q = nullptr;
  if (ldns_wire2pkt(&q, query.data(), query.size()) != LDNS_STATUS_OK)
    throw std::runtime_error("buildDnsReply: the query does not parse");
  ldns_pkt* r = ldns_pkt_new();
  ldns_pkt_set_id(r, static_cast<std::uint16_t>(ldns_pkt_id(q) + spec.idDelta));
  ldns_pkt_set_qr(r, true);
  ldns_pkt_set_aa(r, true);
  ldns_pkt_set_rd(r, ldns_pkt_rd(q));
  ldns_pkt_set_ra(r, true);
  ldns_pkt_set_tc(r, spec.tc);
  ldns_pkt_set_rcode(r, static_cast<std::uint8_t>(spec.rcode));
  ldns_rr* question = ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_question(q), 0));
  if (!spec.questionName.empty()) {
    ldns_rdf_deep_free(ldns_rr_owner(question));
    ldns_rr_set_owner(question, ldns_dname_new_frm_str(spec.questionName.c_str()));
  }
  ldns_pkt_push_rr(r, LDNS_SECTION_QUESTION, question);
  auto push = [&](const std::vector<std::string>& rrs, ldns_pkt_section section) {
    for (const auto& text : rrs) {
      ldns_rr* rr = nullptr;
      if (ldns_rr_new_frm_str(&rr, text.c_str(), 300, nullptr, nullptr) != LDNS_STATUS_OK)
        throw std::runtime_error("buildDnsReply: bad record '" + text + "'");
      ldns_pkt_push_rr(r, section, rr);
    }
  };
  push(spec.answer, LDNS_SECTION_ANSWER);
  push(spec.authority, LDNS_SECTION_AUTHORITY);
  std::uint8_t* wire = nullptr;
  size_t size = 0;
  ldns_pkt2wire(&wire, r, &size);
  std::vector<std::uint8_t> out(wire, wire + size);
  std::free(wire);
  ldns_pkt_free(r);
  ldns_pkt_free(q);
  return out;
}

FakeDnsServer::FakeDnsServer(UdpHandler udp, TcpHandler tcp, const std::string& host)
    : udp_(std::move(udp)), tcp_(std::move(tcp)) {
  family_ = host.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  // UDP and TCP on the same port; a second UDP socket plays the stranger.
  for (int tries = 0; tries < 20 && tcpFd_ < 0; ++tries) {
    udpFd_ = bindSocket(family_, SOCK_DGRAM, host, 0);
    if (udpFd_ < 0) return;
    tcpFd_ = bindSocket(family_, SOCK_STREAM, host, boundPort(udpFd_));
    if (tcpFd_ < 0) close(udpFd_), udpFd_ = -1;
  }
  if (tcpFd_ < 0) return;
  listen(tcpFd_, 16);
  altFd_ = bindSocket(family_, SOCK_DGRAM, host, 0);
  if (pipe(stopPipe_) != 0) throw std::runtime_error("pipe failed");
  int port = boundPort(udpFd_);
  address_ = family_ == AF_INET ? host + ":" + std::to_string(port)
                                : "[" + host + "]:" + std::to_string(port);
  thread_ = std::thread([this] { loop(); });
}

FakeDnsServer::~FakeDnsServer() {
  if (thread_.joinable()) {
    char c = 'x';
    ssize_t n = write(stopPipe_[1], &c, 1);
    (void)n;
    thread_.join();
  }
  for (int fd : {udpFd_, altFd_, tcpFd_, stopPipe_[0], stopPipe_[1]})
    if (fd >= 0) close(fd);
}

std::vector<std::chrono::steady_clock::time_point> FakeDnsServer::arrivals() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return arrivals_;
}

std::vector<DnsQuery> FakeDnsServer::queries() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queries_;
}

void FakeDnsServer::loop() {
  struct Pending {
    std::chrono::steady_clock::time_point due;
    std::vector<std::uint8_t> bytes;
    bool alt;
    sockaddr_storage to;
    socklen_t toLen;
  };
  std::vector<Pending> pending;
  for (;;) {
    auto now = std::chrono::steady_clock::now();
    for (auto it = pending.begin(); it != pending.end();) {
      if (it->due <= now) {
        sendto(it->alt ? altFd_ : udpFd_, it->bytes.data(), it->bytes.size(), 0,
               reinterpret_cast<sockaddr*>(&it->to), it->toLen);
        it = pending.erase(it);
      } else {
        ++it;
      }
    }
    int timeout = -1;
    for (const auto& p : pending) {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(p.due - now).count() + 1;
      timeout = timeout < 0 ? static_cast<int>(ms) : std::min(timeout, static_cast<int>(ms));
    }
    pollfd fds[3] = {{udpFd_, POLLIN, 0}, {tcpFd_, POLLIN, 0}, {stopPipe_[0], POLLIN, 0}};
    if (poll(fds, 3, timeout) < 0) continue;
    if (fds[2].revents) return;
    if (fds[0].revents & POLLIN) {
      std::vector<std::uint8_t> buf(65536);
      sockaddr_storage from{};
      socklen_t fromLen = sizeof from;
      ssize_t n =
          recvfrom(udpFd_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &fromLen);
      if (n > 0) {
        buf.resize(static_cast<size_t>(n));
        DnsQuery q;
        if (parseDnsQuery(buf, q)) {
          ++udpQueries_;
          {
            std::lock_guard<std::mutex> lock(mutex_);
            arrivals_.push_back(std::chrono::steady_clock::now());
            queries_.push_back(q);
          }
          for (auto& p : udp_(q))
            pending.push_back(
                Pending{std::chrono::steady_clock::now() + std::chrono::milliseconds(p.delayMs),
                        std::move(p.bytes), p.fromOtherPort, from, fromLen});
        }
      }
    }
    if (fds[1].revents & POLLIN) {
      int fd = accept(tcpFd_, nullptr, nullptr);
      if (fd >= 0) {
        serveTcp(fd);
        close(fd);
      }
    }
  }
}

void FakeDnsServer::serveTcp(int fd) {
  std::uint8_t len[2];
  if (!readFull(fd, len, 2)) return;
  std::vector<std::uint8_t> msg(static_cast<size_t>(len[0] << 8 | len[1]));
  if (!readFull(fd, msg.data(), msg.size())) return;
  DnsQuery q;
  if (!parseDnsQuery(msg, q)) return;
  q.tcp = true;
  ++tcpQueries_;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queries_.push_back(q);
  }
  if (!tcp_) return;
  std::vector<std::uint8_t> reply = tcp_(q);
  if (reply.empty()) return;
  std::vector<std::uint8_t> out{static_cast<std::uint8_t>(reply.size() >> 8),
                                static_cast<std::uint8_t>(reply.size() & 0xff)};
  out.insert(out.end(), reply.begin(), reply.end());
  size_t off = 0;
  while (off < out.size()) {
    ssize_t n = write(fd, out.data() + off, out.size() - off);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

}  // namespace mxpulse::test
