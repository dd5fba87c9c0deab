// SPDX-License-Identifier: Apache-2.0
// SQS emulators from the npm registry, started on 127.0.0.1 for the
// dlq_depth tests (reference/formats.md §5): sqslite speaks the query
// protocol, fauxqs the JSON protocol. They are installed by
// scripts/deps.sh --test into tests/node/node_modules; a test program
// calls skipUnlessSqsEmulators() first.
#pragma once

#include <memory>
#include <string>

#include "tests/support/test_support.hpp"

namespace mxpulse::test {

/// Exits 77 (skipped) when node or the emulators are not installed.
void skipUnlessSqsEmulators();

class SqsEmulator {
 public:
  enum class Kind { Sqslite, Fauxqs };
  explicit SqsEmulator(Kind kind);
  ~SqsEmulator();
  SqsEmulator(const SqsEmulator&) = delete;
  SqsEmulator& operator=(const SqsEmulator&) = delete;

  int port() const { return port_; }
  /// Where clients send requests: sqslite needs "localhost" in the Host
  /// header (its queue URLs), fauxqs is addressed by IP.
  std::string endpoint() const;
  /// Creates a queue and returns its URL as the emulator spells it.
  std::string createQueue(const std::string& name);
  void sendMessage(const std::string& queueUrl, const std::string& body, int delaySeconds = 0);
  /// Receives one message (it becomes in flight for `visibility` seconds).
  void receiveMessage(const std::string& queueUrl, int visibility = 300);

 private:
  std::string call(const std::string& action, const std::string& body);
  Kind kind_;
  int port_ = 0;
  TempDir dir_;
  std::unique_ptr<Child> child_;
};

}  // namespace mxpulse::test
