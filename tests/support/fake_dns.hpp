// SPDX-License-Identifier: Apache-2.0
// A scriptable DNS responder on loopback for the cases a real server will
// not produce: wrong ids, replies from the wrong address, garbage and
// truncated packets, silence, TC=1 followed by a TCP answer. Replies are
// built with ldns from presentation-format records.
//
//   test::FakeDnsServer fake([](const test::DnsQuery& q) {
//     return std::vector<test::FakePacket>{{test::buildDnsReply(q.wire, {0, false, {q.name + ". 60
//     IN A 192.0.2.1"}})}};
//   });
//   options.servers = {fake.address()};
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace mxpulse::test {

struct DnsQuery {
  std::vector<std::uint8_t> wire;
  std::uint16_t id = 0;
  std::string name;  ///< lower case, no trailing dot
  int type = 0;
  bool edns = false;
  bool tcp = false;
};
/// False when `wire` is not a DNS query.
bool parseDnsQuery(const std::vector<std::uint8_t>& wire, DnsQuery& out);

struct DnsReplySpec {
  DnsReplySpec() = default;
  DnsReplySpec(int rc, bool truncated, std::vector<std::string> an = {},
               std::vector<std::string> ns = {})
      : rcode(rc), tc(truncated), answer(std::move(an)), authority(std::move(ns)) {}
  int rcode = 0;
  bool tc = false;
  std::vector<std::string> answer;     ///< e.g. "a.example. 60 IN A 192.0.2.1"
  std::vector<std::string> authority;  ///< e.g. an SOA for negative answers
  int idDelta = 0;                     ///< added to the query's id (wrong-id replies)
  std::string questionName;            ///< "" = the query's name
};
/// A reply to `query` as `spec` says (QR and AA set, RD/RA copied).
std::vector<std::uint8_t> buildDnsReply(const std::vector<std::uint8_t>& query,
                                        const DnsReplySpec& spec);

struct FakePacket {
  std::vector<std::uint8_t> bytes;
  bool fromOtherPort = false;  ///< sent from a second socket: the "wrong address"
  int delayMs = 0;
};

class FakeDnsServer {
 public:
  using UdpHandler = std::function<std::vector<FakePacket>(const DnsQuery&)>;
  /// Returns the reply message for a TCP query (empty = close the connection).
  using TcpHandler = std::function<std::vector<std::uint8_t>(const DnsQuery&)>;

  explicit FakeDnsServer(UdpHandler udp, TcpHandler tcp = nullptr,
                         const std::string& host = "127.0.0.1");
  ~FakeDnsServer();
  FakeDnsServer(const FakeDnsServer&) = delete;
  FakeDnsServer& operator=(const FakeDnsServer&) = delete;

  /// "127.0.0.1:PORT" or "[::1]:PORT"; "" if the socket could not be opened.
  const std::string& address() const { return address_; }
  int udpQueries() const { return udpQueries_.load(); }
  int tcpQueries() const { return tcpQueries_.load(); }
  /// Arrival times of UDP queries.
  std::vector<std::chrono::steady_clock::time_point> arrivals() const;
  /// Every query received so far (UDP and TCP).
  std::vector<DnsQuery> queries() const;

 private:
  void loop();
  void serveTcp(int fd);
  UdpHandler udp_;
  TcpHandler tcp_;
  int family_ = 0;
  int udpFd_ = -1, altFd_ = -1, tcpFd_ = -1, stopPipe_[2] = {-1, -1};
  std::string address_;
  std::thread thread_;
  std::atomic<int> udpQueries_{0}, tcpQueries_{0};
  mutable std::mutex mutex_;
  std::vector<std::chrono::steady_clock::time_point> arrivals_;
  std::vector<DnsQuery> queries_;
};

}  // namespace mxpulse::test
