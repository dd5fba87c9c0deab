// SPDX-License-Identifier: Apache-2.0
// Fetches a TLS server's certificate chain: implicit TLS (465, 993, 995,
// 443, any port) or STARTTLS for SMTP/IMAP/POP3 (probes/starttls.hpp).
// OpenSSL directly, non-blocking sockets and poll(), so resolving,
// connecting, the plain-text dialogue and the handshake all end by the
// deadline. The handshake never fails on verification (SSL_VERIFY_NONE):
// the chain is collected first and verified afterwards (x509_chain.hpp).
#pragma once

#include <memory>
#include <string>

#include "probes/deadline.hpp"
#include "probes/starttls.hpp"
#include "probes/x509_chain.hpp"

typedef struct ssl_ctx_st SSL_CTX;

namespace mxpulse::probes {

struct TlsTarget {
  std::string host;  ///< name or IP literal (IPv6 without brackets)
  int port = 0;
  StartTlsProtocol starttls = StartTlsProtocol::None;
  /// SNI and the name the certificate must match; "" = host. An IP literal
  /// is matched against iPAddress SANs and sent without SNI (RFC 6066 3).
  std::string serverName;
  std::string clientName;  ///< EHLO name; "" = this host's name
};

/// Why no certificate was collected. Names are stable metric label values.
enum class TlsProbeError {
  None,
  Dns,
  Connect,
  Timeout,
  GreetingRefused,
  Protocol,
  StartTlsNotOffered,
  StartTlsRefused,
  Handshake,
  NoCertificate,
};
const char* tlsProbeErrorName(TlsProbeError e);

struct TlsProbeResult {
  TlsProbeError error = TlsProbeError::None;
  std::string errorText;  ///< human-readable, "" on success
  std::string stage;      ///< where it failed: resolve, connect, greeting, ehlo, ..., handshake
  std::string address;    ///< the IP that was connected to
  StartTlsOutcome starttls;
  std::string tlsVersion, cipher;
  ChainReport chain;  ///< filled whenever a handshake completed
  long long elapsedMs = 0;
};

/// One per job run; thread-safe: probes may run concurrently.
class TlsProber {
 public:
  /// nullptr with `error` if OpenSSL cannot be set up.
  static std::unique_ptr<TlsProber> create(std::shared_ptr<const TrustStore> trust,
                                           std::string& error);
  ~TlsProber();
  TlsProber(const TlsProber&) = delete;
  TlsProber& operator=(const TlsProber&) = delete;

  TlsProbeResult probe(const TlsTarget& target, Deadline deadline) const;

 private:
  TlsProber() = default;
  SSL_CTX* ctx_ = nullptr;
  std::shared_ptr<const TrustStore> trust_;
};

}  // namespace mxpulse::probes
