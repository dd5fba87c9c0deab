// SPDX-License-Identifier: Apache-2.0
#include "probes/tls_probe.hpp"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <mutex>

namespace mxpulse::probes {

const char* tlsProbeErrorName(TlsProbeError e) {
  switch (e) {
    case TlsProbeError::None:
      return "none";
    case TlsProbeError::Dns:
      return "dns";
    case TlsProbeError::Connect:
      return "connect";
    case TlsProbeError::Timeout:
      return "timeout";
    case TlsProbeError::GreetingRefused:
      return "greeting_refused";
    case TlsProbeError::Protocol:
      return "protocol";
    case TlsProbeError::StartTlsNotOffered:
      return "starttls_not_offered";
    case TlsProbeError::StartTlsRefused:
      return "starttls_refused";
    case TlsProbeError::Handshake:
      return "handshake";
    case TlsProbeError::NoCertificate:
      return "no_certificate";
  }
  return "protocol";
}

namespace {

// A socket BIO that writes with MSG_NOSIGNAL: a server that resets the
// connection must not kill the agent with SIGPIPE, whatever the process's
// signal disposition (tests, embedders).
int sockFd(BIO* b) {
  return static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(b)));
}

int bioWrite(BIO* b, const char* buf, int len) {
  BIO_clear_retry_flags(b);
  ssize_t n = ::send(sockFd(b), buf, static_cast<size_t>(len), MSG_NOSIGNAL);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_write(b);
  return static_cast<int>(n);
}

int bioRead(BIO* b, char* buf, int len) {
  BIO_clear_retry_flags(b);
  ssize_t n = ::recv(sockFd(b), buf, static_cast<size_t>(len), 0);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_read(b);
  // ACK at once: a server that writes each handshake message separately
  // without TCP_NODELAY (openssl s_server, many MTAs) otherwise waits for
  // our delayed ACK (Nagle) between its Certificate and the rest. The
  // kernel clears the flag again, hence after every read.
  if (n > 0) {
    int one = 1;
    setsockopt(sockFd(b), IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
  }
  return static_cast<int>(n);
}

long bioCtrl(BIO*, int cmd, long, void*) {
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

int bioCreate(BIO* b) {
  BIO_set_init(b, 1);
  return 1;
}

BIO_METHOD* socketMethod() {
  static BIO_METHOD* method = nullptr;
  static std::once_flag once;
  std::call_once(once, [] {
    method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "mxpulse nosigpipe socket");
    BIO_meth_set_write(method, bioWrite);
    BIO_meth_set_read(method, bioRead);
    BIO_meth_set_ctrl(method, bioCtrl);
    BIO_meth_set_create(method, bioCreate);
  });
  return method;
}

std::string opensslError() {
  unsigned long e = ERR_get_error();
  std::string out;
  if (e) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out = buf;
  }
  ERR_clear_error();
  return out;
}

/// Waits for what OpenSSL asked for; false at the deadline.
bool waitFor(SSL* ssl, int rc, int fd, Deadline deadline, bool& retry) {
  int e = SSL_get_error(ssl, rc);
  retry = e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
  if (!retry) return true;
  return waitFd(fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
}

class TlsStream : public ByteStream {
 public:
  TlsStream(SSL* ssl, int fd) : ssl_(ssl), fd_(fd) {}
  size_t read(char* buf, size_t len, Deadline deadline, NetError& err,
              std::string& error) override {
    for (;;) {
      int rc = SSL_read(ssl_, buf, static_cast<int>(len));
      if (rc > 0) return static_cast<size_t>(rc);
      bool retry = false;
      if (!waitFor(ssl_, rc, fd_, deadline, retry)) return fail(NetError::Timeout, err, error);
      if (!retry) return fail(NetError::Closed, err, error);
    }
  }
  bool write(const std::string& data, Deadline deadline, NetError& err,
             std::string& error) override {
    size_t off = 0;
    while (off < data.size()) {
      int rc = SSL_write(ssl_, data.data() + off, static_cast<int>(data.size() - off));
      if (rc > 0) {
        off += static_cast<size_t>(rc);
        continue;
      }
      bool retry = false;
      if (!waitFor(ssl_, rc, fd_, deadline, retry)) return fail(NetError::Timeout, err, error) != 0;
      if (!retry) return fail(NetError::Io, err, error) != 0;
    }
    return true;
  }

 private:
  static size_t fail(NetError e, NetError& err, std::string& error) {
    err = e;
    error = e == NetError::Timeout ? "no answer before the deadline" : "TLS connection ended";
    ERR_clear_error();
    return 0;
  }
  SSL* ssl_;
  int fd_;
};

TlsProbeError fromNet(NetError e) {
  return e == NetError::Timeout ? TlsProbeError::Timeout
         : e == NetError::Dns   ? TlsProbeError::Dns
                                : TlsProbeError::Connect;
}

TlsProbeError fromStartTls(const StartTlsOutcome& o) {
  switch (o.failure) {
    case StartTlsFailure::Network:
      return o.net == NetError::Timeout ? TlsProbeError::Timeout : TlsProbeError::Protocol;
    case StartTlsFailure::GreetingRefused:
      return TlsProbeError::GreetingRefused;
    case StartTlsFailure::NotOffered:
      return TlsProbeError::StartTlsNotOffered;
    case StartTlsFailure::Refused:
      return TlsProbeError::StartTlsRefused;
    default:
      return TlsProbeError::Protocol;
  }
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

}  // namespace

std::unique_ptr<TlsProber> TlsProber::create(std::shared_ptr<const TrustStore> trust,
                                             std::string& error) {
  std::unique_ptr<TlsProber> p(new TlsProber());
  p->trust_ = std::move(trust);
  p->ctx_ = SSL_CTX_new(TLS_client_method());
  if (!p->ctx_ || !socketMethod()) {
    error = "cannot create a TLS context: " + opensslError();
    return nullptr;
  }
  // Collect the certificate first, judge it afterwards: never abort the
  // handshake on verification, and accept old protocol versions and weak
  // keys so a legacy server's certificate is still seen (and reported).
  SSL_CTX_set_verify(p->ctx_, SSL_VERIFY_NONE, nullptr);
  SSL_CTX_set_security_level(p->ctx_, 0);
  SSL_CTX_set_min_proto_version(p->ctx_, TLS1_VERSION);
  SSL_CTX_set_session_cache_mode(p->ctx_, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_read_ahead(p->ctx_, 1);  // whole records per recv(), not header then body
  return p;
}

TlsProber::~TlsProber() {
  if (ctx_) SSL_CTX_free(ctx_);
}

TlsProbeResult TlsProber::probe(const TlsTarget& target, Deadline deadline) const {
  auto start = std::chrono::steady_clock::now();
  TlsProbeResult r;
  auto finish = [&](TlsProbeError e, std::string stage, std::string text) {
    r.error = e;
    r.stage = std::move(stage);
    r.errorText = std::move(text);
    r.elapsedMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
    return r;
  };

  NetError nerr = NetError::None;
  std::string error;
  auto addresses = resolveHost(target.host, deadline, nerr, error);
  if (addresses.empty()) return finish(fromNet(nerr), "resolve", error);
  Fd sock;
  sock.fd = connectAny(addresses, target.port, deadline, nerr, error, r.address);
  if (sock.fd < 0) return finish(fromNet(nerr), "connect", error);

  if (target.starttls != StartTlsProtocol::None) {
    PlainStream plain(sock.fd);
    LineReader reader(plain);
    std::string client = target.clientName.empty() && target.starttls == StartTlsProtocol::Smtp
                             ? defaultClientName()
                             : target.clientName;
    r.starttls = negotiateStartTls(plain, reader, target.starttls, client, deadline);
    if (!r.starttls.ok) return finish(fromStartTls(r.starttls), r.starttls.stage, r.starttls.error);
  }

  SSL* ssl = SSL_new(ctx_);
  BIO* bio = ssl ? BIO_new(socketMethod()) : nullptr;
  if (!bio) {
    if (ssl) SSL_free(ssl);
    return finish(TlsProbeError::Handshake, "handshake",
                  "cannot create TLS state: " + opensslError());
  }
  BIO_set_data(bio, reinterpret_cast<void*>(static_cast<intptr_t>(sock.fd)));
  SSL_set_bio(ssl, bio, bio);  // the SSL owns the BIO now
  std::unique_ptr<SSL, void (*)(SSL*)> guard(ssl, SSL_free);
  const std::string name = target.serverName.empty() ? target.host : target.serverName;
  if (usableAsSni(name)) SSL_set_tlsext_host_name(ssl, name.c_str());
  SSL_set_connect_state(ssl);
  for (;;) {
    int rc = SSL_connect(ssl);
    if (rc == 1) break;
    bool retry = false;
    if (!waitFor(ssl, rc, sock.fd, deadline, retry)) {
      ERR_clear_error();
      return finish(TlsProbeError::Timeout, "handshake",
                    "TLS handshake did not finish before the deadline");
    }
    if (!retry) {
      std::string why = opensslError();
      if (why.empty()) why = "connection closed during the handshake";
      if (why.find("wrong version number") != std::string::npos)
        why += " (the server did not answer in TLS: does this port speak STARTTLS?)";
      return finish(TlsProbeError::Handshake, "handshake", "TLS handshake failed: " + why);
    }
  }
  r.tlsVersion = SSL_get_version(ssl);
  r.cipher = SSL_get_cipher_name(ssl);
  STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl);  // client side: leaf included
  if (!chain || sk_X509_num(chain) == 0)
    return finish(TlsProbeError::NoCertificate, "handshake", "server sent no certificate");
  r.chain = examineChain(*trust_, chain, name);

  // Politeness: QUIT/LOGOUT over TLS, then close_notify. The certificate is
  // already in hand, so none of this can change the result.
  TlsStream tls(ssl, sock.fd);
  sayGoodbye(tls, target.starttls, deadline);
  SSL_shutdown(ssl);
  ERR_clear_error();
  return finish(TlsProbeError::None, "done", "");
}

}  // namespace mxpulse::probes
