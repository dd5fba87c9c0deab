// SPDX-License-Identifier: Apache-2.0
// Test certificates made with the OpenSSL API: a CA hierarchy, leaves with
// chosen names and validity (relative to a given base time, so unit tests
// use a fixed clock and integration tests the real one), expired
// cross-signs. EC P-256 keys, so generating a set takes milliseconds.
// Header-only: only the TLS tests include it.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdint>
#include <ctime>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace mxpulse::test {

using KeyPtr = std::shared_ptr<EVP_PKEY>;
using CertPtr = std::shared_ptr<X509>;

inline KeyPtr makeKey() {
  EVP_PKEY* k = EVP_EC_gen("P-256");
  if (!k) throw std::runtime_error("EVP_EC_gen failed");
  return KeyPtr(k, EVP_PKEY_free);
}

struct TestCert {
  CertPtr cert;
  KeyPtr key;
};

struct CertSpec {
  std::string cn;
  std::vector<std::string> sans;  ///< "DNS:x" / "IP:1.2.3.4"
  std::int64_t notBefore = 0;     ///< unix seconds
  std::int64_t notAfter = 0;
  bool ca = false;
  KeyPtr key;  ///< reuse a key (cross-signs); null = new key
};

inline void addExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) throw std::runtime_error("bad extension " + value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

/// Issues `spec`, signed by `issuer` (null = self-signed).
inline TestCert issue(const CertSpec& spec, const TestCert* issuer) {
  static long serial = 1000;
  TestCert out;
  out.key = spec.key ? spec.key : makeKey();
  X509* x = X509_new();
  out.cert = CertPtr(x, X509_free);
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), ++serial);
  ASN1_TIME_set(X509_getm_notBefore(x), static_cast<time_t>(spec.notBefore));
  ASN1_TIME_set(X509_getm_notAfter(x), static_cast<time_t>(spec.notAfter));
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(spec.cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer->cert.get()) : name);
  X509_set_pubkey(x, out.key.get());
  X509* signer = issuer ? issuer->cert.get() : x;
  if (spec.ca) {
    addExt(x, signer, NID_basic_constraints, "critical,CA:TRUE");
    addExt(x, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    addExt(x, signer, NID_basic_constraints, "critical,CA:FALSE");
    addExt(x, signer, NID_ext_key_usage, "serverAuth");
  }
  addExt(x, signer, NID_subject_key_identifier, "hash");
  if (issuer) addExt(x, signer, NID_authority_key_identifier, "keyid");
  if (!spec.sans.empty()) {
    std::string sans;
    for (const auto& s : spec.sans) sans += (sans.empty() ? "" : ",") + s;
    addExt(x, signer, NID_subject_alt_name, sans);
  }
  EVP_PKEY* signKey = issuer ? issuer->key.get() : out.key.get();
  if (X509_sign(x, signKey, EVP_sha256()) == 0) throw std::runtime_error("X509_sign failed");
  return out;
}

inline std::string certPem(const TestCert& c) {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(b, c.cert.get());
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(b);
  return out;
}

inline std::string keyPem(const TestCert& c) {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(b, c.key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(b);
  return out;
}

/// A stack of certificates (leaf first) that owns references.
inline std::shared_ptr<STACK_OF(X509)> stackOf(const std::vector<TestCert>& certs) {
  STACK_OF(X509)* s = sk_X509_new_null();
  for (const auto& c : certs) {
    X509_up_ref(c.cert.get());
    sk_X509_push(s, c.cert.get());
  }
  return std::shared_ptr<STACK_OF(X509)>(
      s, [](STACK_OF(X509) * p) { sk_X509_pop_free(p, X509_free); });
}

constexpr std::int64_t kDaySeconds = 86400;

/// The hierarchy every TLS test uses, relative to `base` (unix seconds):
/// root (trusted via a CA file) -> intermediate -> leaves; an old root and
/// an expired cross-sign of the root by it; a self-signed leaf.
struct TestPki {
  std::int64_t base;
  TestCert root, intermediate, oldRoot, expiredCrossSign, expiredIntermediate;
  explicit TestPki(std::int64_t b) : base(b) {
    const std::int64_t d = kDaySeconds;
    root = issue({"mxpulse Test Root", {}, b - 3650 * d, b + 3650 * d, true, nullptr}, nullptr);
    intermediate =
        issue({"mxpulse Test Intermediate", {}, b - 365 * d, b + 1825 * d, true, nullptr}, &root);
    oldRoot = issue({"mxpulse Old Root", {}, b - 7300 * d, b + 3650 * d, true, nullptr}, nullptr);
    // The root's name and key, signed by the old root, expired a day ago:
    // served for old clients, not needed by anyone who trusts the root.
    expiredCrossSign =
        issue({"mxpulse Test Root", {}, b - 3650 * d, b - 1 * d, true, root.key}, &oldRoot);
    expiredIntermediate = issue(
        {"mxpulse Test Intermediate", {}, b - 365 * d, b - 2 * d, true, intermediate.key}, &root);
  }
  /// A leaf under the intermediate valid from `fromDays` to `toDays` around base.
  TestCert leaf(const std::string& cn, std::vector<std::string> sans, double fromDays,
                double toDays) const {
    return issue({cn, std::move(sans), base + static_cast<std::int64_t>(fromDays * kDaySeconds),
                  base + static_cast<std::int64_t>(toDays * kDaySeconds), false, nullptr},
                 &intermediate);
  }
  TestCert selfSigned(const std::string& cn, std::vector<std::string> sans, double toDays) const {
    return issue({cn, std::move(sans), base - kDaySeconds,
                  base + static_cast<std::int64_t>(toDays * kDaySeconds), false, nullptr},
                 nullptr);
  }
};

}  // namespace mxpulse::test
