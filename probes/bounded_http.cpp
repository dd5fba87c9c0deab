// SPDX-License-Identifier: Apache-2.0
#include "probes/bounded_http.hpp"

#include <Poco/Net/AcceptCertificateHandler.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPBasicCredentials.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/RejectCertificateHandler.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Timespan.h>
#include <sys/socket.h>

#include <cctype>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

namespace mxpulse::probes {

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// One TLS client context for the process: system CAs, peer verified,
/// failures rejected (no prompt, no fallback).
Poco::Net::Context::Ptr tlsContext() {
  static std::once_flag once;
  static Poco::Net::Context::Ptr ctx;
  std::call_once(once, [] {
    Poco::Net::initializeSSL();
    ctx = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "", "",
                                 Poco::Net::Context::VERIFY_RELAXED, 9, true,
                                 "ALL:!ADH:!LOW:!EXP:!MD5:@STRENGTH");
    Poco::Net::SSLManager::InvalidCertificateHandlerPtr reject(
        new Poco::Net::RejectCertificateHandler(false));
    Poco::Net::SSLManager::instance().initializeClient(nullptr, reject, ctx);
  });
  return ctx;
}

/// Shuts the session's socket down when the deadline passes, which wakes a
/// blocked connect/recv in the requesting thread (shutdown(2) is safe to
/// call from another thread; the fd stays open until the session dies).
class Watchdog {
 public:
  Watchdog(Poco::Net::HTTPClientSession& session, Deadline deadline)
      : thread_([this, &session, deadline] {
          std::unique_lock<std::mutex> lock(mutex_);
          if (cv_.wait_until(lock, deadline.at(), [this] { return done_; })) return;
          fired_ = true;
          auto fd = session.socket().impl()->sockfd();
          if (fd != POCO_INVALID_SOCKET) ::shutdown(fd, SHUT_RDWR);
        }) {}
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  bool fired() {
    std::lock_guard<std::mutex> lock(mutex_);
    return fired_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  bool fired_ = false;
  std::thread thread_;
};

Poco::Timespan timespan(const Deadline& d) {
  long long ms = std::max(1, d.remainingMs());
  return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(ms) * 1000);
}

HttpResponse fail(HttpError kind, std::string error) {
  HttpResponse r;
  r.errorKind = kind;
  r.error = std::move(error);
  return r;
}

}  // namespace

const char* httpErrorName(HttpError e) {
  switch (e) {
    case HttpError::None:
      return "none";
    case HttpError::Url:
      return "url";
    case HttpError::Connect:
      return "connect";
    case HttpError::Timeout:
      return "timeout";
    case HttpError::TooLarge:
      return "too_large";
    case HttpError::Tls:
      return "tls";
    case HttpError::Protocol:
      return "protocol";
  }
  return "unknown";
}


std::string HttpResponse::header(const std::string& name) const {
  std::string want = lower(name);
  for (const auto& [n, v] : headers)
    if (lower(n) == want) return v;
  return "";
}

HttpResponse httpRequest(const HttpRequest& request, Deadline deadline) {
  deadline = deadline.capped(std::chrono::hours(24));  // a real bound for the watchdog
  HttpUrl url;
  std::string error;
  if (!parseHttpUrl(request.url, url, error)) return fail(HttpError::Url, error);
  if (deadline.expired()) return fail(HttpError::Timeout, "deadline passed before the request");

  std::unique_ptr<Poco::Net::HTTPClientSession> session;
  try {
    if (url.scheme == "https")
      session = std::make_unique<Poco::Net::HTTPSClientSession>(url.host, url.port, tlsContext());
    else
      session = std::make_unique<Poco::Net::HTTPClientSession>(url.host, url.port);
  } catch (const Poco::Exception& e) {
    return fail(HttpError::Tls, "TLS setup failed: " + e.displayText());
  }
  session->setKeepAlive(false);
  session->setTimeout(timespan(deadline), timespan(deadline), timespan(deadline));

  HttpResponse out;
  Watchdog watchdog(*session, deadline);
  auto failure = [&](HttpError kind, const std::string& what) {
    if (watchdog.fired() || deadline.expired())
      return fail(HttpError::Timeout, "no complete response by the deadline");
    return fail(kind, what);
  };
  try {
    Poco::Net::HTTPRequest req(request.method, url.target, Poco::Net::HTTPMessage::HTTP_1_1);
    req.setHost(url.hostHeader());
    req.set("Connection", "close");
    req.set("User-Agent", "mxpulse/" MXPULSE_VERSION);
    for (const auto& [n, v] : request.headers) req.set(n, v);
    if (!request.basicUser.empty())
      Poco::Net::HTTPBasicCredentials(request.basicUser, request.basicPassword).authenticate(req);
    if (!request.body.empty() || request.method == "POST" || request.method == "PUT")
      req.setContentLength(static_cast<std::streamsize>(request.body.size()));
    std::ostream& os = session->sendRequest(req);
    os << request.body;
    os.flush();

    Poco::Net::HTTPResponse resp;
    session->socket().setReceiveTimeout(timespan(deadline));
    std::istream& rs = session->receiveResponse(resp);
    out.status = static_cast<int>(resp.getStatus());
    out.reason = resp.getReason();
    for (const auto& [n, v] : resp) out.headers.emplace_back(n, v);
    if (resp.hasContentLength() && resp.getContentLength64() >= 0 &&
        static_cast<unsigned long long>(resp.getContentLength64()) > request.maxBodyBytes)
      return fail(HttpError::TooLarge,
                  "response body of " + std::to_string(resp.getContentLength64()) +
                      " bytes is over the cap of " + std::to_string(request.maxBodyBytes));
    // Read what each recv brings, so the deadline and the cap are checked
    // between reads (istream::read would block for a full buffer).
    std::streambuf* sb = rs.rdbuf();
    char buf[16384];
    while (true) {
      if (deadline.expired() || watchdog.fired())
        return fail(HttpError::Timeout, "response body not complete by the deadline (" +
                                            std::to_string(out.body.size()) + " bytes read)");
      std::streamsize avail = sb->in_avail();
      if (avail > 0) {
        std::streamsize n = sb->sgetn(buf, std::min<std::streamsize>(avail, sizeof buf));
        out.body.append(buf, static_cast<size_t>(n));
      } else {
        session->socket().setReceiveTimeout(timespan(deadline));
        int c = sb->sbumpc();
        if (c == std::char_traits<char>::eof()) break;
        out.body.push_back(static_cast<char>(c));
      }
      if (out.body.size() > request.maxBodyBytes)
        return fail(HttpError::TooLarge, "response body over the cap of " +
                                             std::to_string(request.maxBodyBytes) + " bytes");
    }
    if (watchdog.fired())
      return fail(HttpError::Timeout, "response body not complete by the deadline");
    // A short body (the peer closed before Content-Length) is truncated.
    if (resp.hasContentLength() && resp.getContentLength64() >= 0 &&
        out.body.size() != static_cast<size_t>(resp.getContentLength64()))
      return fail(HttpError::Protocol, "response truncated: " + std::to_string(out.body.size()) +
                                           " of " + std::to_string(resp.getContentLength64()) +
                                           " bytes");
    out.ok = true;
    return out;
  } catch (const Poco::TimeoutException&) {
    return fail(HttpError::Timeout, "no complete response by the deadline");
  } catch (const Poco::Net::SSLException& e) {
    return failure(HttpError::Tls, "TLS: " + e.displayText());
  } catch (const Poco::Net::ConnectionRefusedException&) {
    return failure(HttpError::Connect, "connection refused by " + url.hostHeader());
  } catch (const Poco::Net::HostNotFoundException&) {
    return failure(HttpError::Connect, "host " + url.host + " not found");
  } catch (const Poco::Net::NoAddressFoundException&) {
    return failure(HttpError::Connect, "host " + url.host + " has no address");
  } catch (const Poco::Net::MessageException& e) {
    return failure(HttpError::Protocol, "malformed HTTP response: " + e.message());
  } catch (const Poco::Net::NetException& e) {
    return failure(HttpError::Connect, e.displayText());
  } catch (const Poco::IOException& e) {
    return failure(HttpError::Connect, e.displayText());
  } catch (const Poco::Exception& e) {
    return failure(HttpError::Protocol, e.displayText());
  } catch (const std::exception& e) {
    return failure(HttpError::Protocol, e.what());
  }
}

}  // namespace mxpulse::probes
