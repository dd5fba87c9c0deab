// SPDX-License-Identifier: Apache-2.0
// Deadline-bound TCP for line-based protocol clients: name resolution that
// gives up at the deadline, non-blocking connect, a byte-stream interface
// (plain socket here, TLS in tls_probe.cpp) and a line reader with caps on
// line length and line count, so a hostile or broken server can neither
// hang the probe nor make it buffer without bound.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "probes/deadline.hpp"

namespace mxpulse::probes {

/// Why a network step failed; `netErrorName` gives the stable reason used
/// in facts and metric labels.
enum class NetError {
  None,
  Dns,      ///< the name did not resolve
  Connect,  ///< refused, unreachable, reset during connect
  Timeout,  ///< the deadline passed
  Closed,   ///< the peer closed the connection
  Io,       ///< read/write failed
  TooLong,  ///< a line or reply over the caps
};
const char* netErrorName(NetError e);

/// "host:port" or "[v6]:port" split; false if malformed.
bool splitHostPort(const std::string& endpoint, std::string& host, int& port);
/// True for an IPv4 or IPv6 literal (without brackets).
bool isIpLiteral(const std::string& host);

/// Resolves `host` (A and AAAA, system resolver) by the deadline. IP
/// literals are returned as they are. On failure `error` says why.
std::vector<std::string> resolveHost(const std::string& host, Deadline deadline, NetError& err,
                                     std::string& error);

/// Connects to one of `addresses` in order; returns a non-blocking socket
/// or -1 with `err`/`error` (the last address's failure). `connected` is
/// set to the address that answered.
int connectAny(const std::vector<std::string>& addresses, int port, Deadline deadline,
               NetError& err, std::string& error, std::string& connected);

/// Waits for `events` on fd; false when the deadline passed first.
bool waitFd(int fd, short events, Deadline deadline);

/// A byte stream whose every call ends by the deadline.
class ByteStream {
 public:
  virtual ~ByteStream() = default;
  /// Reads at least one byte; returns the count, or 0 with `err` set.
  virtual size_t read(char* buf, size_t len, Deadline deadline, NetError& err,
                      std::string& error) = 0;
  /// Writes everything; false with `err` set.
  virtual bool write(const std::string& data, Deadline deadline, NetError& err,
                     std::string& error) = 0;
};

/// A connected non-blocking socket (not owned).
class PlainStream : public ByteStream {
 public:
  explicit PlainStream(int fd) : fd_(fd) {}
  size_t read(char* buf, size_t len, Deadline deadline, NetError& err, std::string& error) override;
  bool write(const std::string& data, Deadline deadline, NetError& err,
             std::string& error) override;

 private:
  int fd_;
};

struct LineLimits {
  size_t maxLineBytes = 4096;     ///< RFC 5321 allows 512; be generous, not unbounded
  size_t maxLinesPerReply = 200;  ///< EHLO lists a dozen; CAPA/CAPABILITY a few dozen
};

/// Reads CRLF (or bare LF) terminated lines from a stream. Bytes that
/// arrive beyond the current line stay buffered: `pending()` tells whether
/// the server sent more than asked for (STARTTLS injection check).
class LineReader {
 public:
  LineReader(ByteStream& stream, LineLimits limits = {}) : stream_(stream), limits_(limits) {}
  /// One line without its terminator; false with `err` on failure.
  bool readLine(std::string& line, Deadline deadline, NetError& err, std::string& error);
  size_t pending() const { return buffer_.size(); }
  const LineLimits& limits() const { return limits_; }

 private:
  ByteStream& stream_;
  LineLimits limits_;
  std::string buffer_;
};

}  // namespace mxpulse::probes
