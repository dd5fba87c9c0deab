// SPDX-License-Identifier: Apache-2.0
#include "probes/https_fetch.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <unistd.h>

#include <cctype>

#include "probes/tcp_stream.hpp"

namespace mxpulse::probes {

const char* httpsErrorName(HttpsError e) {
  switch (e) {
    case HttpsError::None:
      return "none";
    case HttpsError::Connect:
      return "connect";
    case HttpsError::Timeout:
      return "timeout";
    case HttpsError::Certificate:
      return "certificate";
    case HttpsError::Tls:
      return "tls";
    case HttpsError::Protocol:
      return "protocol";
    case HttpsError::TooLarge:
      return "too_large";
  }
  return "?";
}

namespace {

constexpr size_t kMaxHeaderBytes = 16 * 1024;

std::string lastSslError() {
  unsigned long e = ERR_get_error();
  if (!e) return "connection closed";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// Waits for what OpenSSL asked for; false when the deadline passed.
bool waitFor(SSL* ssl, int fd, int rc, Deadline deadline) {
  int e = SSL_get_error(ssl, rc);
  if (e == SSL_ERROR_WANT_READ) return waitFd(fd, POLLIN, deadline);
  if (e == SSL_ERROR_WANT_WRITE) return waitFd(fd, POLLOUT, deadline);
  return false;
}

struct Conn {
  int fd = -1;
  SSL* ssl = nullptr;
  ~Conn() {
    if (ssl) SSL_free(ssl);
    if (fd >= 0) close(fd);
  }
};

/// Decodes a chunked body; false on malformed input.
bool dechunk(const std::string& in, std::string& out, size_t maxBody, bool& tooLarge) {
  size_t pos = 0;
  for (;;) {
    size_t eol = in.find("\r\n", pos);
    if (eol == std::string::npos) return false;
    std::string sizeText = in.substr(pos, eol - pos);
    size_t semi = sizeText.find(';');
    if (semi != std::string::npos) sizeText.erase(semi);
    if (sizeText.empty() || sizeText.size() > 8) return false;
    for (char c : sizeText)
      if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
    size_t n = std::stoul(sizeText, nullptr, 16);
    pos = eol + 2;
    if (n == 0) return true;
    if (out.size() + n > maxBody) {
      tooLarge = true;
      return false;
    }
    if (pos + n + 2 > in.size()) return false;
    out.append(in, pos, n);
    pos += n + 2;
  }
}

}  // namespace

std::unique_ptr<HttpsClient> HttpsClient::create(const std::string& caFile, std::string& error) {
  std::unique_ptr<HttpsClient> c(new HttpsClient());
  c->ctx_ = SSL_CTX_new(TLS_client_method());
  if (!c->ctx_) {
    error = "SSL_CTX_new: " + lastSslError();
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(c->ctx_, TLS1_2_VERSION);
  SSL_CTX_set_options(c->ctx_, SSL_OP_IGNORE_UNEXPECTED_EOF);
  int ok = caFile.empty() ? SSL_CTX_set_default_verify_paths(c->ctx_)
                          : SSL_CTX_load_verify_locations(c->ctx_, caFile.c_str(), nullptr);
  if (ok != 1) {
    error = "cannot load CA certificates" + (caFile.empty() ? "" : " from " + caFile) + ": " +
            lastSslError();
    return nullptr;
  }
  SSL_CTX_set_verify(c->ctx_, SSL_VERIFY_PEER, nullptr);
  return c;
}

HttpsClient::~HttpsClient() {
  if (ctx_) SSL_CTX_free(ctx_);
}

HttpsResponse HttpsClient::get(const std::vector<std::string>& addresses, const std::string& host,
                               int port, const std::string& path, size_t maxBody,
                               Deadline deadline) const {
  HttpsResponse r;
  NetError netErr;
  std::string error;
  Conn c;
  c.fd = connectAny(addresses, port, deadline, netErr, error, r.address);
  if (c.fd < 0) {
    r.error = netErr == NetError::Timeout ? HttpsError::Timeout : HttpsError::Connect;
    r.errorText = error;
    return r;
  }
  c.ssl = SSL_new(ctx_);
  SSL_set_fd(c.ssl, c.fd);
  SSL_set_tlsext_host_name(c.ssl, host.c_str());
  SSL_set_hostflags(c.ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  SSL_set1_host(c.ssl, host.c_str());
  for (;;) {
    int rc = SSL_connect(c.ssl);
    if (rc == 1) break;
    if (waitFor(c.ssl, c.fd, rc, deadline)) continue;
    if (deadline.expired()) {
      r.error = HttpsError::Timeout;
      r.errorText = "TLS handshake with " + r.address + " timed out";
      return r;
    }
    long verify = SSL_get_verify_result(c.ssl);
    if (verify != X509_V_OK) {
      r.error = HttpsError::Certificate;
      r.errorText = std::string("certificate for ") + host +
                    " not valid: " + X509_verify_cert_error_string(verify);
    } else {
      r.error = HttpsError::Tls;
      r.errorText = "TLS handshake with " + r.address + " failed: " + lastSslError();
    }
    return r;
  }

  std::string request =
      "GET " + path + " HTTP/1.1\r\nHost: " + host +
      "\r\nUser-Agent: mxpulse\r\nAccept: text/plain\r\nConnection: close\r\n\r\n";
  size_t sent = 0;
  while (sent < request.size()) {
    int rc = SSL_write(c.ssl, request.data() + sent, static_cast<int>(request.size() - sent));
    if (rc > 0) {
      sent += static_cast<size_t>(rc);
      continue;
    }
    if (waitFor(c.ssl, c.fd, rc, deadline)) continue;
    r.error = deadline.expired() ? HttpsError::Timeout : HttpsError::Tls;
    r.errorText = "sending the request failed: " + lastSslError();
    return r;
  }

  // Read headers and body until EOF or the caps (+1 byte to detect overflow).
  std::string data;
  size_t cap = kMaxHeaderBytes + maxBody + 64;  // chunk framing slack
  char buf[16384];
  bool eof = false;
  while (!eof && data.size() <= cap) {
    int rc = SSL_read(c.ssl, buf, sizeof buf);
    if (rc > 0) {
      data.append(buf, static_cast<size_t>(rc));
      // Stop early when a Content-Length body is complete.
      size_t hdrEnd = data.find("\r\n\r\n");
      if (hdrEnd != std::string::npos) {
        std::string head = lower(data.substr(0, hdrEnd));
        size_t cl = head.find("\r\ncontent-length:");
        if (cl != std::string::npos) {
          size_t n = std::strtoul(head.c_str() + cl + 17, nullptr, 10);
          if (data.size() >= hdrEnd + 4 + n) break;
        }
      }
      continue;
    }
    int e = SSL_get_error(c.ssl, rc);
    if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) {
      eof = true;
      break;
    }
    if (waitFor(c.ssl, c.fd, rc, deadline)) continue;
    if (deadline.expired()) {
      r.error = HttpsError::Timeout;
      r.errorText = "reading the response timed out";
      return r;
    }
    if (e == SSL_ERROR_SSL) {
      r.error = HttpsError::Tls;
      r.errorText = "reading the response failed: " + lastSslError();
      return r;
    }
    eof = true;
  }

  size_t hdrEnd = data.find("\r\n\r\n");
  if (hdrEnd == std::string::npos || hdrEnd > kMaxHeaderBytes) {
    r.error = data.size() > cap ? HttpsError::TooLarge : HttpsError::Protocol;
    r.errorText = "no complete HTTP response header";
    return r;
  }
  std::string head = data.substr(0, hdrEnd);
  std::string rawBody = data.substr(hdrEnd + 4);
  size_t lineEnd = head.find("\r\n");
  std::string statusLine = head.substr(0, lineEnd);
  if (statusLine.rfind("HTTP/1.", 0) != 0 || statusLine.size() < 12) {
    r.error = HttpsError::Protocol;
    r.errorText = "not an HTTP response: '" + statusLine.substr(0, 60) + "'";
    return r;
  }
  r.status = std::atoi(statusLine.c_str() + 9);
  bool chunked = false;
  long long contentLength = -1;
  size_t pos = lineEnd == std::string::npos ? head.size() : lineEnd + 2;
  while (pos < head.size()) {
    size_t eol = head.find("\r\n", pos);
    std::string line = head.substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
    pos = eol == std::string::npos ? head.size() : eol + 2;
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = lower(line.substr(0, colon));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.erase(0, 1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
    if (name == "content-type")
      r.contentType = value;
    else if (name == "location")
      r.location = value;
    else if (name == "transfer-encoding")
      chunked = lower(value).find("chunked") != std::string::npos;
    else if (name == "content-length")
      contentLength = std::atoll(value.c_str());
  }
  if (chunked) {
    bool tooLarge = false;
    if (!dechunk(rawBody, r.body, maxBody, tooLarge)) {
      r.error = tooLarge ? HttpsError::TooLarge : HttpsError::Protocol;
      r.errorText =
          tooLarge ? "body over " + std::to_string(maxBody) + " bytes" : "malformed chunked body";
      r.body.clear();
    }
    return r;
  }
  if (contentLength >= 0) {
    if (static_cast<size_t>(contentLength) > maxBody) {
      r.error = HttpsError::TooLarge;
      r.errorText = "body of " + std::to_string(contentLength) + " bytes, over the " +
                    std::to_string(maxBody) + "-byte cap";
      return r;
    }
    if (rawBody.size() < static_cast<size_t>(contentLength)) {
      r.error = HttpsError::Protocol;
      r.errorText = "body shorter than Content-Length";
      return r;
    }
    rawBody.resize(static_cast<size_t>(contentLength));
  } else if (rawBody.size() > maxBody) {
    r.error = HttpsError::TooLarge;
    r.errorText = "body over " + std::to_string(maxBody) + " bytes";
    return r;
  }
  r.body = rawBody;
  if (c.ssl) SSL_shutdown(c.ssl);  // best effort, non-blocking
  return r;
}

}  // namespace mxpulse::probes
