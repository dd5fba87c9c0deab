// SPDX-License-Identifier: Apache-2.0
// Certificate facts and chain verification (RFC 5280) with name matching
// (RFC 6125), shared by the TLS endpoint probe and the certificate-file
// reader. The served chain is always kept, whether or not it verifies;
// verification is a separate answer (peers-and-gotchas lesson 6).
//
// Verification ignores time (X509_V_FLAG_NO_CHECK_TIME): it answers "does
// this chain lead to a trusted root?" and returns the chain OpenSSL built.
// Whether that chain is valid *now* is decided by the job's evaluator from
// the not_before/not_after of each certificate, with an injected clock, so
// an expired certificate still yields its chain, and an expired cross-sign
// that the verified chain does not use is not an alarm.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

typedef struct x509_st X509;
typedef struct x509_store_st X509_STORE;
struct stack_st_X509;

namespace mxpulse::probes {

struct CertInfo {
  std::string subject;  ///< RFC 2253 one-line form
  std::string issuer;
  std::string commonName;
  std::vector<std::string> dnsNames;     ///< subjectAltName dNSName entries (capped)
  std::vector<std::string> ipAddresses;  ///< subjectAltName iPAddress entries
  std::int64_t notBefore = 0;            ///< unix seconds
  std::int64_t notAfter = 0;
  std::string serial;  ///< hex
  std::string sha256;  ///< fingerprint of the DER encoding, hex lower case
  bool selfSigned = false;
};

/// Facts of one certificate.
CertInfo certInfo(X509* cert);

/// The trust anchors: the system store (OpenSSL's default paths) or one
/// CA file (PEM bundle), which then replaces the system store. Immutable
/// after creation and safe to share between threads.
class TrustStore {
 public:
  /// nullptr with `error` when the CA file cannot be loaded.
  static std::shared_ptr<const TrustStore> create(const std::string& caFile, std::string& error);
  ~TrustStore();
  TrustStore(const TrustStore&) = delete;
  TrustStore& operator=(const TrustStore&) = delete;
  X509_STORE* raw() const { return store_; }
  const std::string& description() const { return description_; }
  bool partialChains() const { return partial_; }

 private:
  TrustStore() = default;
  X509_STORE* store_ = nullptr;
  std::string description_;
  bool partial_ = false;
};

struct ChainReport {
  std::vector<CertInfo> served;  ///< as served (or as in the file), leaf first
  bool trusted = false;          ///< a chain to a trust anchor exists (time ignored)
  std::string verifyError;       ///< OpenSSL's reason when not trusted
  int verifyErrorDepth = -1;
  std::vector<CertInfo> verified;  ///< the chain that verified, leaf to anchor
  std::string trustStore;          ///< which store was used ("system" or the CA file)
  std::string nameChecked;         ///< "" when no name was checked
  bool nameMatches = false;
};

/// Verifies `chain` (leaf first; the rest are untrusted intermediates) for
/// TLS server use and checks `name` (host name or IP literal) against the
/// leaf unless it is empty.
ChainReport examineChain(const TrustStore& trust, stack_st_X509* chain, const std::string& name);

/// Every certificate of a PEM file (other blocks, e.g. keys, are skipped).
struct CertFile {
  std::string error;        ///< "" when at least one certificate was read
  std::string errorReason;  ///< missing | permission | unreadable | no_certificate
  ChainReport chain;        ///< the file's first certificate is taken as the leaf
};
CertFile examineCertFile(const TrustStore& trust, const std::string& path);

/// True if `name` is a plausible DNS host name for SNI (not an IP literal).
bool usableAsSni(const std::string& name);

}  // namespace mxpulse::probes
