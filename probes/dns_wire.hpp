// SPDX-License-Identifier: Apache-2.0
// The pure parts of the DNS engine, kept apart so unit tests reach them
// without sockets: resolver addresses, query packets (built with ldns),
// reply parsing into a DnsAnswer (question check, CNAME chains, caps on
// hostile answers), the per-zone token bucket and the zone matcher.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "probes/dns.hpp"

namespace mxpulse::probes::dnswire {

/// A resolver address: "192.0.2.1:53", "[2001:db8::1]:53", or a bare IP
/// (port 53). Host names are refused: resolving the resolver is circular.
struct ServerAddress {
  sockaddr_storage addr{};
  socklen_t len = 0;
  int family = 0;
  std::string text;  ///< normalised host:port, e.g. "[::1]:5300"
};
bool parseServerAddress(const std::string& hostPort, ServerAddress& out, std::string& error);
/// True if `from` (as returned by recvfrom) is exactly this server's address and port.
bool sameAddress(const sockaddr_storage& from, socklen_t len, const ServerAddress& server);

/// Lower case, no trailing dot ("" is the root).
std::string normalizeName(const std::string& name);

/// A question as sent: the normalised text and the name in wire form
/// (lower case) for comparisons with the question and owners of a reply.
struct Question {
  std::string name;
  std::string wire;
  RrType type = RrType::A;
};
/// False with `error` when the name is not a valid domain name.
bool makeQuestion(const std::string& name, RrType type, Question& out, std::string& error);

/// The query packet: RD set, one question, EDNS0 (1232 bytes) when `edns`.
std::vector<std::uint8_t> buildQuery(const Question& q, std::uint16_t id, bool edns);
/// The same packet through ldns_pkt_query_new() and ldns_pkt2wire(): the
/// reference buildQuery() is tested against (and slower: see the .cpp).
std::vector<std::uint8_t> buildQueryWithLdnsPacket(const Question& q, std::uint16_t id, bool edns);

/// Limits for hostile answers. Packets are at most 64 KiB, so bytes are
/// bounded anyway; the caps keep one answer from costing megabytes of
/// strings or thousands of allocations.
struct ReplyLimits {
  size_t maxRecords = 256;      ///< records of the asked type kept
  size_t maxBytes = 64 * 1024;  ///< text bytes kept (addresses, names, TXT)
  int maxCnameHops = 8;
};

enum class ReplyKind {
  Answer,       ///< `answer` holds Ok / NxDomain / NoData
  FollowCname,  ///< only a CNAME chain came back: ask again for `followName`
  Truncated,    ///< TC bit: retry over TCP
  ServFail,
  Refused,
  FormErr,     ///< FORMERR: the server may not speak EDNS
  OtherRcode,  ///< NOTIMP and other rcodes
  Malformed,   ///< does not parse, or does not answer our question
};

struct Reply {
  ReplyKind kind = ReplyKind::Malformed;
  DnsAnswer answer;        ///< filled for every kind (status, rcode, error)
  std::string followName;  ///< FollowCname: the last name of the chain
  /// Seconds a negative answer may be cached (SOA TTL/minimum), 0 = do not.
  std::uint32_t negativeTtl = 0;
};

/// Parses a reply to `q` sent with `id`. Never throws.
Reply parseReply(const std::uint8_t* data, size_t len, std::uint16_t id, const Question& q,
                 const ReplyLimits& limits = ReplyLimits());

/// Token bucket: `rate` tokens per second, at most `burst` stored.
class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;
  TokenBucket(double rate, double burst, Clock::time_point now);
  /// Takes one token if one is available at `now`.
  bool take(Clock::time_point now);
  /// When the next token will be available (now if one is).
  Clock::time_point nextAvailable(Clock::time_point now) const;
  double rate() const { return rate_; }

 private:
  void refill(Clock::time_point now);
  double rate_, burst_, tokens_;
  Clock::time_point last_;
};

/// The longest of `zones` that `name` equals or ends with on a label
/// boundary; "" if none. Names and zones are normalised.
std::string matchZone(const std::string& name, const std::vector<std::string>& zones);

}  // namespace mxpulse::probes::dnswire
