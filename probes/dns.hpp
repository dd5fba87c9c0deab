// SPDX-License-Identifier: Apache-2.0
// The DNS client interface every DNS job uses. One implementation
// (ldns_resolver) talks to real resolvers asynchronously; tests plug in
// their own. Expected failures are values (DnsStatus), never exceptions:
// a job must tell "no such record" (NxDomain/NoData) from "could not tell"
// (ServFail/Refused/Timeout/Malformed/NetworkError).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "probes/deadline.hpp"

namespace mxpulse::probes {

enum class RrType : std::uint16_t {
  A = 1,
  NS = 2,
  CNAME = 5,
  SOA = 6,
  PTR = 12,
  MX = 15,
  TXT = 16,
  AAAA = 28,
  SPF = 99,
};
const char* rrTypeName(RrType type);

enum class DnsStatus {
  Ok,            ///< at least one record of the asked type (after CNAMEs)
  NxDomain,      ///< the name does not exist (RCODE 3)
  NoData,        ///< the name exists but has no record of this type
  ServFail,      ///< RCODE 2: the resolver could not get an answer
  Refused,       ///< RCODE 5: the resolver will not answer us
  Timeout,       ///< no answer from any resolver before the deadline
  Malformed,     ///< an answer that does not parse or does not match the question
  NetworkError,  ///< sockets failed (no route, connection refused on TCP, ...)
};
const char* dnsStatusName(DnsStatus status);
/// True for the statuses that mean "could not tell" (SPF temperror, DNSBL unknown).
bool isTemporaryFailure(DnsStatus status);

struct MxRecord {
  std::uint16_t preference = 0;
  std::string exchange;  ///< lower case, no trailing dot; "" for a null MX (RFC 7505)
};

struct DnsAnswer {
  DnsStatus status = DnsStatus::Timeout;
  std::vector<std::string> addresses;  ///< A / AAAA in text form
  std::vector<std::string> names;      ///< PTR / NS / CNAME targets: lower case, no trailing dot
  std::vector<MxRecord> mx;
  /// One entry per TXT (or SPF) RR, its character-strings concatenated with
  /// no separator (RFC 7208 3.3). Bytes are kept as received.
  std::vector<std::string> txt;
  std::vector<std::string> cnameChain;  ///< names followed to reach the answer
  std::uint32_t ttl = 0;                ///< smallest TTL of the answer RRset
  int rcode = -1;                       ///< raw RCODE, -1 if no answer
  std::string error;                    ///< detail when status is not Ok/NxDomain/NoData
  std::string server;                   ///< resolver that answered, host:port
};

using DnsCallback = std::function<void(const DnsAnswer&)>;

/// One question of a batch (DnsResolver::queryMany).
struct DnsQuestion {
  std::string name;
  RrType type;
};
/// Called once per question of a batch with the question's index.
using DnsBatchCallback = std::function<void(size_t index, const DnsAnswer&)>;

class DnsResolver {
 public:
  virtual ~DnsResolver() = default;
  /// Starts a query. Thread-safe. The callback runs exactly once, on the
  /// resolver's I/O thread, and must not block; it may start more queries.
  virtual void query(const std::string& name, RrType type, Deadline deadline,
                     DnsCallback callback) = 0;
  /// Starts many queries at once: `callback(i, answer)` runs exactly once
  /// per question, on the I/O thread (the same rules as query()). The
  /// default calls query() per question; the engine takes the whole batch
  /// in one hand-off, which matters when a job asks thousands of names.
  virtual void queryMany(const std::vector<DnsQuestion>& questions, Deadline deadline,
                         DnsBatchCallback callback);
  /// Blocking form for code that reads best sequentially (e.g. one SPF
  /// evaluation). Never call it from inside a callback.
  virtual DnsAnswer resolve(const std::string& name, RrType type, Deadline deadline);
};

/// Reverse names: 203.0.113.7 -> 7.113.0.203, 2001:db8::1 -> 32 nibbles.
/// Returns "" for something that is not an IP. `suffix` is appended with a
/// dot (e.g. "in-addr.arpa", "ip6.arpa" or a DNSBL zone).
std::string reverseName(const std::string& ip, const std::string& suffix);
/// The PTR owner name for an IP (in-addr.arpa or ip6.arpa).
std::string ptrName(const std::string& ip);

}  // namespace mxpulse::probes
