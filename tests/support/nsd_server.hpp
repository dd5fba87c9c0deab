// SPDX-License-Identifier: Apache-2.0
// A real authoritative DNS server for integration tests: NSD (Debian
// `nsd`) on a free 127.0.0.1 port with a throwaway directory, serving the
// zones you give it.
//
//   test::skipUnless(test::NsdServer::available(), "nsd is not installed");
//   test::NsdServer nsd({{"example.com", "www A 192.0.2.1\n"}});
//   resolverOptions.servers = {nsd.address()};   // "127.0.0.1:PORT"
//
// A zone text is written below `$ORIGIN <zone>.` and `$TTL 300`; when it has
// no SOA record, a default SOA and NS (negative TTL 60 s) are added, so a
// text of plain records is enough. The constructor returns once NSD
// answers, or throws std::runtime_error with NSD's log; the destructor
// stops NSD (SIGTERM, then SIGKILL) and removes the directory.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/test_support.hpp"

namespace mxpulse::test {

class NsdServer {
 public:
  using Zones = std::vector<std::pair<std::string, std::string>>;  ///< zone name, zone text

  explicit NsdServer(const Zones& zones);
  ~NsdServer();
  NsdServer(const NsdServer&) = delete;
  NsdServer& operator=(const NsdServer&) = delete;

  /// True when the nsd binary is installed.
  static bool available();

  /// "127.0.0.1:PORT", ready for DnsResolverOptions::servers or --resolver.
  const std::string& address() const { return address_; }
  int port() const { return port_; }
  /// NSD's log so far (for failure messages).
  std::string log() const;

 private:
  bool tryStart(const Zones& zones, std::string& error);
  void stop();

  TempDir dir_;
  std::unique_ptr<Child> child_;
  int port_ = 0;
  std::string address_;
};

/// True when a DNS server on 127.0.0.1:port answers a SOA query for `zone`
/// within `timeout` (any reply counts).
bool dnsAnswers(int port, const std::string& zone, std::chrono::milliseconds timeout);

}  // namespace mxpulse::test
