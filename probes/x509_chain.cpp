// SPDX-License-Identifier: Apache-2.0
#include "probes/x509_chain.hpp"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <ctime>

namespace mxpulse::probes {

namespace {

constexpr size_t kMaxSans = 100;  // a multi-domain cert may list hundreds; facts stay small

std::string nameText(const X509_NAME* name) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (!bio) return "";
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data ? data : "", static_cast<size_t>(len > 0 ? len : 0));
  BIO_free(bio);
  return out;
}

std::string commonName(const X509_NAME* name) {
  int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (idx < 0) return "";
  ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, s);
  if (len < 0) return "";
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

std::int64_t unixTime(const ASN1_TIME* t) {
  struct tm tm {};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<std::int64_t>(timegm(&tm));
}

std::string hex(const unsigned char* p, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
  return out;
}

void readSans(X509* cert, CertInfo& info) {
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (!names) return;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    if (info.dnsNames.size() + info.ipAddresses.size() >= kMaxSans) break;
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
    if (gn->type == GEN_DNS) {
      const ASN1_STRING* s = gn->d.dNSName;
      info.dnsNames.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                 static_cast<size_t>(ASN1_STRING_length(s)));
    } else if (gn->type == GEN_IPADD) {
      const ASN1_STRING* s = gn->d.iPAddress;
      char text[INET6_ADDRSTRLEN] = "";
      int len = ASN1_STRING_length(s);
      if (len == 4 || len == 16)
        inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(s), text, sizeof text);
      if (*text) info.ipAddresses.emplace_back(text);
    }
  }
  GENERAL_NAMES_free(names);
}

std::vector<CertInfo> infos(STACK_OF(X509) * chain) {
  std::vector<CertInfo> out;
  for (int i = 0; chain && i < sk_X509_num(chain); ++i)
    out.push_back(certInfo(sk_X509_value(chain, i)));
  return out;
}

}  // namespace

CertInfo certInfo(X509* cert) {
  CertInfo info;
  info.subject = nameText(X509_get_subject_name(cert));
  info.issuer = nameText(X509_get_issuer_name(cert));
  info.commonName = commonName(X509_get_subject_name(cert));
  info.notBefore = unixTime(X509_get0_notBefore(cert));
  info.notAfter = unixTime(X509_get0_notAfter(cert));
  if (BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr)) {
    if (char* h = BN_bn2hex(bn)) {
      info.serial = h;
      OPENSSL_free(h);
    }
    BN_free(bn);
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(cert, EVP_sha256(), md, &n) == 1) info.sha256 = hex(md, n);
  info.selfSigned = X509_check_issued(cert, cert) == X509_V_OK;
  readSans(cert, info);
  return info;
}

std::shared_ptr<const TrustStore> TrustStore::create(const std::string& caFile,
                                                     std::string& error) {
  std::shared_ptr<TrustStore> t(new TrustStore());
  t->store_ = X509_STORE_new();
  if (!t->store_) {
    error = "out of memory";
    return nullptr;
  }
  if (caFile.empty()) {
    X509_STORE_set_default_paths(t->store_);
    ERR_clear_error();  // a missing default directory is not an error here
    t->description_ = "system";
  } else {
    if (X509_STORE_load_locations(t->store_, caFile.c_str(), nullptr) != 1) {
      unsigned long e = ERR_get_error();
      char buf[256];
      ERR_error_string_n(e, buf, sizeof buf);
      ERR_clear_error();
      error = "cannot load CA file " + caFile + ": " + buf;
      return nullptr;
    }
    t->description_ = caFile;
    // A configured CA file may pin an intermediate or the server's own
    // certificate; accept a chain that ends at any certificate in it.
    t->partial_ = true;
  }
  return t;
}

TrustStore::~TrustStore() {
  if (store_) X509_STORE_free(store_);
}

bool usableAsSni(const std::string& name) {
  unsigned char buf[16];
  if (name.empty() || inet_pton(AF_INET, name.c_str(), buf) == 1 ||
      inet_pton(AF_INET6, name.c_str(), buf) == 1)
    return false;
  return true;
}

ChainReport examineChain(const TrustStore& trust, STACK_OF(X509) * chain, const std::string& name) {
  ChainReport r;
  r.trustStore = trust.description();
  r.served = infos(chain);
  if (!chain || sk_X509_num(chain) == 0) {
    r.verifyError = "no certificate";
    return r;
  }
  X509* leaf = sk_X509_value(chain, 0);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  if (ctx && X509_STORE_CTX_init(ctx, trust.raw(), leaf, chain) == 1) {
    X509_STORE_CTX_set_default(ctx, "ssl_server");  // purpose: TLS server
    unsigned long flags = X509_V_FLAG_NO_CHECK_TIME;
    if (trust.partialChains()) flags |= X509_V_FLAG_PARTIAL_CHAIN;
    X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx), flags);
    r.trusted = X509_verify_cert(ctx) == 1;
    if (r.trusted) {
      STACK_OF(X509)* built = X509_STORE_CTX_get1_chain(ctx);
      r.verified = infos(built);
      sk_X509_pop_free(built, X509_free);
    } else {
      int err = X509_STORE_CTX_get_error(ctx);
      r.verifyError = X509_verify_cert_error_string(err);
      r.verifyErrorDepth = X509_STORE_CTX_get_error_depth(ctx);
    }
  } else {
    r.verifyError = "cannot set up verification";
  }
  if (ctx) X509_STORE_CTX_free(ctx);
  ERR_clear_error();
  if (!name.empty()) {
    r.nameChecked = name;
    if (usableAsSni(name))
      r.nameMatches = X509_check_host(leaf, name.c_str(), name.size(),
                                      X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, nullptr) == 1;
    else
      r.nameMatches = X509_check_ip_asc(leaf, name.c_str(), 0) == 1;
  }
  return r;
}

CertFile examineCertFile(const TrustStore& trust, const std::string& path) {
  CertFile out;
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) {
    int e = errno;
    out.errorReason = e == ENOENT ? "missing" : e == EACCES ? "permission" : "unreadable";
    out.error = "cannot open " + path + ": " + std::strerror(e);
    return out;
  }
  STACK_OF(X509)* certs = sk_X509_new_null();
  // PEM_read_X509 skips blocks of other types (keys, parameters).
  while (X509* c = PEM_read_X509(f, nullptr, nullptr, nullptr)) sk_X509_push(certs, c);
  std::fclose(f);
  ERR_clear_error();
  if (sk_X509_num(certs) == 0) {
    out.errorReason = "no_certificate";
    out.error = path + " holds no PEM certificate";
  } else {
    out.chain = examineChain(trust, certs, "");
  }
  sk_X509_pop_free(certs, X509_free);
  return out;
}

}  // namespace mxpulse::probes
