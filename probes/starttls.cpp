// SPDX-License-Identifier: Apache-2.0
#include "probes/starttls.hpp"

#include <netdb.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>

namespace mxpulse::probes {

const char* startTlsName(StartTlsProtocol p) {
  switch (p) {
    case StartTlsProtocol::None:
      return "none";
    case StartTlsProtocol::Smtp:
      return "smtp";
    case StartTlsProtocol::Imap:
      return "imap";
    case StartTlsProtocol::Pop3:
      return "pop3";
  }
  return "none";
}

std::optional<StartTlsProtocol> parseStartTls(std::string_view name) {
  std::string n;
  for (char c : name) n += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (n == "none") return StartTlsProtocol::None;
  if (n == "smtp") return StartTlsProtocol::Smtp;
  if (n == "imap") return StartTlsProtocol::Imap;
  if (n == "pop3") return StartTlsProtocol::Pop3;
  return std::nullopt;
}

StartTlsProtocol defaultStartTlsForPort(int port) {
  switch (port) {
    case 25:
    case 587:
      return StartTlsProtocol::Smtp;
    case 143:
      return StartTlsProtocol::Imap;
    case 110:
      return StartTlsProtocol::Pop3;
    default:
      return StartTlsProtocol::None;
  }
}

const char* startTlsFailureName(StartTlsFailure f) {
  switch (f) {
    case StartTlsFailure::None:
      return "none";
    case StartTlsFailure::Network:
      return "network";
    case StartTlsFailure::GreetingRefused:
      return "greeting_refused";
    case StartTlsFailure::Protocol:
      return "protocol";
    case StartTlsFailure::NotOffered:
      return "starttls_not_offered";
    case StartTlsFailure::Refused:
      return "starttls_refused";
  }
  return "protocol";
}

std::string defaultClientName() {
  // Computed once per process. The canonical-name lookup may reach DNS, so
  // it runs on a helper thread and is given two seconds: a broken resolver
  // must not eat a run's deadline before the first probe.
  static std::mutex mutex;
  static std::string cached;
  std::lock_guard<std::mutex> lock(mutex);
  if (!cached.empty()) return cached;
  char host[256] = "";
  if (gethostname(host, sizeof host - 1) != 0 || !*host) return cached = "localhost";
  std::string name = host;
  if (name.find('.') != std::string::npos) return cached = name;
  struct Lookup {
    std::mutex m;
    std::condition_variable cv;
    bool done = false;
    std::string canon;
  };
  auto lookup = std::make_shared<Lookup>();
  try {
    std::thread([lookup, name] {
      addrinfo hints{};
      hints.ai_flags = AI_CANONNAME;
      addrinfo* res = nullptr;
      std::string canon;
      if (getaddrinfo(name.c_str(), nullptr, &hints, &res) == 0 && res) {
        if (res->ai_canonname) canon = res->ai_canonname;
        freeaddrinfo(res);
      }
      std::lock_guard<std::mutex> l(lookup->m);
      lookup->canon = canon;
      lookup->done = true;
      lookup->cv.notify_all();
    }).detach();
  } catch (const std::system_error&) {
    return name;  // no thread: the short name will do, try again next time
  }
  std::unique_lock<std::mutex> l(lookup->m);
  if (!lookup->cv.wait_for(l, std::chrono::seconds(2), [&] { return lookup->done; }))
    return name;  // not cached: the resolver may be back next run
  if (lookup->canon.find('.') != std::string::npos) name = lookup->canon;
  return cached = name;
}

namespace {

constexpr size_t kShownReply = 200;  // how much of a server reply we quote

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

bool startsWithNoCase(const std::string& s, const char* prefix) {
  size_t n = std::strlen(prefix);
  return s.size() >= n && upper(s.substr(0, n)) == prefix;
}

/// Printable, capped copy of a server line for messages and facts.
std::string shown(const std::string& line) {
  std::string out;
  for (char c : line.substr(0, kShownReply))
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  if (line.size() > kShownReply) out += "...";
  return out;
}

std::vector<std::string> words(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

/// The dialogue state shared by the three protocols.
class Dialogue {
 public:
  Dialogue(ByteStream& stream, LineReader& reader, Deadline deadline, StartTlsOutcome& out)
      : stream_(stream), reader_(reader), deadline_(deadline), out_(out) {}

  bool send(const std::string& command) {
    std::string error;
    NetError err = NetError::None;
    if (stream_.write(command + "\r\n", deadline_, err, error)) return true;
    return netFail(err, error);
  }

  bool line(std::string& l) {
    std::string error;
    NetError err = NetError::None;
    if (reader_.readLine(l, deadline_, err, error)) return true;
    return netFail(err, error);
  }

  bool fail(StartTlsFailure f, std::string error) {
    out_.failure = f;
    out_.error = std::move(error);
    return false;
  }

  bool netFail(NetError err, const std::string& error) {
    out_.net = err;
    if (err == NetError::TooLong) return fail(StartTlsFailure::Protocol, error);
    return fail(StartTlsFailure::Network, "during " + out_.stage + ": " + error);
  }

  bool tooManyLines() {
    return fail(StartTlsFailure::Protocol, "server sent more than " +
                                               std::to_string(reader_.limits().maxLinesPerReply) +
                                               " lines in one reply during " + out_.stage);
  }

  /// No byte may follow the go-ahead for the handshake.
  bool nothingPending() {
    if (reader_.pending() == 0) return true;
    return fail(StartTlsFailure::Protocol,
                "server sent data after accepting STARTTLS; refusing to start TLS on it");
  }

  /// A short, failure-tolerant goodbye on the plain connection.
  void quit(const std::string& command) {
    Deadline brief = deadline_.capped(std::chrono::seconds(2));
    std::string error, l;
    NetError err = NetError::None;
    if (stream_.write(command + "\r\n", brief, err, error)) reader_.readLine(l, brief, err, error);
  }

  size_t maxLines() const { return reader_.limits().maxLinesPerReply; }

 private:
  ByteStream& stream_;
  LineReader& reader_;
  Deadline deadline_;
  StartTlsOutcome& out_;
};

// ----------------------------------------------------------------- SMTP

struct SmtpReply {
  int code = 0;
  std::vector<std::string> lines;  ///< text after "NNN-" / "NNN "
  std::string first;               ///< the first raw line
};

/// Reads one (possibly multi-line) reply: every line "NNN-text" until
/// "NNN text" or a bare "NNN", all with the same code (RFC 5321 4.2).
bool readSmtpReply(Dialogue& d, SmtpReply& reply) {
  std::string l;
  for (size_t n = 0; n < d.maxLines(); ++n) {
    if (!d.line(l)) return false;
    if (n == 0) reply.first = l;
    bool digits = l.size() >= 3 && std::isdigit(static_cast<unsigned char>(l[0])) &&
                  std::isdigit(static_cast<unsigned char>(l[1])) &&
                  std::isdigit(static_cast<unsigned char>(l[2]));
    if (!digits || (l.size() > 3 && l[3] != '-' && l[3] != ' '))
      return d.fail(StartTlsFailure::Protocol, "not an SMTP reply: \"" + shown(l) + "\"");
    int code = std::stoi(l.substr(0, 3));
    if (n > 0 && code != reply.code)
      return d.fail(StartTlsFailure::Protocol,
                    "reply code changed inside a multi-line reply: \"" + shown(l) + "\"");
    reply.code = code;
    reply.lines.push_back(l.size() > 4 ? l.substr(4) : "");
    if (l.size() == 3 || l[3] == ' ') return true;
  }
  return d.tooManyLines();
}

bool smtp(Dialogue& d, StartTlsOutcome& out, const std::string& clientName) {
  SmtpReply greeting;
  out.stage = "greeting";
  if (!readSmtpReply(d, greeting)) return false;
  out.greeting = shown(greeting.first);
  if (greeting.code != 220) {
    // 554 or 421 at connect: the server will not talk to us now (policy,
    // overload, too many connections); say nothing more (RFC 5321 3.1).
    if (greeting.code >= 400)
      return d.fail(StartTlsFailure::GreetingRefused,
                    "server refused the session: \"" + shown(greeting.first) + "\"");
    return d.fail(StartTlsFailure::Protocol,
                  "unexpected greeting \"" + shown(greeting.first) + "\"");
  }
  out.stage = "ehlo";
  SmtpReply ehlo;
  if (!d.send("EHLO " + clientName) || !readSmtpReply(d, ehlo)) return false;
  if (ehlo.code != 250) {
    d.quit("QUIT");
    return d.fail(StartTlsFailure::Protocol, "EHLO refused: \"" + shown(ehlo.first) + "\"");
  }
  // The first line is the server's name; keywords follow (RFC 5321 4.1.1.1).
  for (size_t i = 1; i < ehlo.lines.size(); ++i) {
    auto w = words(ehlo.lines[i]);
    if (w.empty()) continue;
    out.capabilities.push_back(upper(w[0]));
    if (upper(w[0]) == "STARTTLS") out.offered = true;
  }
  if (!out.offered) {
    d.quit("QUIT");
    return d.fail(StartTlsFailure::NotOffered, "server does not offer STARTTLS in its EHLO reply");
  }
  out.stage = "starttls";
  SmtpReply go;
  if (!d.send("STARTTLS") || !readSmtpReply(d, go)) return false;
  if (go.code != 220) {
    d.quit("QUIT");
    return d.fail(StartTlsFailure::Refused, "STARTTLS refused: \"" + shown(go.first) + "\"");
  }
  return d.nothingPending();
}

// ----------------------------------------------------------------- IMAP

/// Reads untagged lines until the tagged one; returns its status word.
bool imapTagged(Dialogue& d, StartTlsOutcome& out, const std::string& tag, std::string& status,
                std::string& tagged) {
  std::string l;
  for (size_t n = 0; n < d.maxLines(); ++n) {
    if (!d.line(l)) return false;
    if (startsWithNoCase(l, (tag + " ").c_str())) {
      auto w = words(l);
      status = w.size() > 1 ? upper(w[1]) : "";
      tagged = l;
      return true;
    }
    if (startsWithNoCase(l, "* CAPABILITY ")) {
      auto w = words(l);
      for (size_t i = 2; i < w.size(); ++i) {
        out.capabilities.push_back(upper(w[i]));
        if (upper(w[i]) == "STARTTLS") out.offered = true;
      }
    } else if (startsWithNoCase(l, "* BYE")) {
      return d.fail(StartTlsFailure::Protocol, "server closed the session: \"" + shown(l) + "\"");
    }
  }
  return d.tooManyLines();
}

bool imap(Dialogue& d, StartTlsOutcome& out) {
  std::string l;
  out.stage = "greeting";
  if (!d.line(l)) return false;
  out.greeting = shown(l);
  if (startsWithNoCase(l, "* BYE"))
    return d.fail(StartTlsFailure::GreetingRefused,
                  "server refused the session: \"" + shown(l) + "\"");
  if (startsWithNoCase(l, "* PREAUTH")) {
    d.quit("A002 LOGOUT");
    return d.fail(StartTlsFailure::NotOffered,
                  "server pre-authenticated the session, so STARTTLS is not possible");
  }
  if (!startsWithNoCase(l, "* OK"))
    return d.fail(StartTlsFailure::Protocol, "unexpected IMAP greeting \"" + shown(l) + "\"");
  out.stage = "capability";
  std::string status, tagged;
  if (!d.send("A001 CAPABILITY") || !imapTagged(d, out, "A001", status, tagged)) return false;
  if (status != "OK") {
    d.quit("A002 LOGOUT");
    return d.fail(StartTlsFailure::Protocol, "CAPABILITY refused: \"" + shown(tagged) + "\"");
  }
  if (!out.offered) {
    d.quit("A002 LOGOUT");
    return d.fail(StartTlsFailure::NotOffered, "server does not list STARTTLS in CAPABILITY");
  }
  out.stage = "starttls";
  if (!d.send("A002 STARTTLS") || !imapTagged(d, out, "A002", status, tagged)) return false;
  if (status != "OK") {
    d.quit("A003 LOGOUT");
    return d.fail(StartTlsFailure::Refused, "STARTTLS refused: \"" + shown(tagged) + "\"");
  }
  return d.nothingPending();
}

// ----------------------------------------------------------------- POP3

bool pop3(Dialogue& d, StartTlsOutcome& out) {
  std::string l;
  out.stage = "greeting";
  if (!d.line(l)) return false;
  out.greeting = shown(l);
  if (startsWithNoCase(l, "-ERR"))
    return d.fail(StartTlsFailure::GreetingRefused,
                  "server refused the session: \"" + shown(l) + "\"");
  if (!startsWithNoCase(l, "+OK"))
    return d.fail(StartTlsFailure::Protocol, "unexpected POP3 greeting \"" + shown(l) + "\"");
  out.stage = "capability";
  if (!d.send("CAPA") || !d.line(l)) return false;
  if (startsWithNoCase(l, "+OK")) {
    size_t n = 0;
    for (;; ++n) {
      if (n >= d.maxLines()) return d.tooManyLines();
      if (!d.line(l)) return false;
      if (l == ".") break;
      auto w = words(l);
      if (w.empty()) continue;
      out.capabilities.push_back(upper(w[0]));
      if (upper(w[0]) == "STLS") out.offered = true;
    }
  } else if (!startsWithNoCase(l, "-ERR")) {
    return d.fail(StartTlsFailure::Protocol, "unexpected reply to CAPA \"" + shown(l) + "\"");
  }
  // A server without CAPA (RFC 1939 only) cannot announce STLS (RFC 2595 4).
  if (!out.offered) {
    d.quit("QUIT");
    return d.fail(StartTlsFailure::NotOffered, "server does not list STLS in CAPA");
  }
  out.stage = "starttls";
  if (!d.send("STLS") || !d.line(l)) return false;
  if (!startsWithNoCase(l, "+OK")) {
    d.quit("QUIT");
    return d.fail(StartTlsFailure::Refused, "STLS refused: \"" + shown(l) + "\"");
  }
  return d.nothingPending();
}

}  // namespace

StartTlsOutcome negotiateStartTls(ByteStream& stream, LineReader& reader, StartTlsProtocol proto,
                                  const std::string& clientName, Deadline deadline) {
  StartTlsOutcome out;
  Dialogue d(stream, reader, deadline, out);
  switch (proto) {
    case StartTlsProtocol::None:
      out.ok = true;
      break;
    case StartTlsProtocol::Smtp:
      out.ok = smtp(d, out, clientName);
      break;
    case StartTlsProtocol::Imap:
      out.ok = imap(d, out);
      break;
    case StartTlsProtocol::Pop3:
      out.ok = pop3(d, out);
      break;
  }
  return out;
}

void sayGoodbye(ByteStream& tls, StartTlsProtocol proto, Deadline deadline) {
  const char* command = proto == StartTlsProtocol::Imap ? "A003 LOGOUT" : "QUIT";
  if (proto == StartTlsProtocol::None) return;
  Deadline brief = deadline.capped(std::chrono::seconds(2));
  LineReader reader(tls);
  std::string error, l;
  NetError err = NetError::None;
  if (!tls.write(std::string(command) + "\r\n", brief, err, error)) return;
  // SMTP/POP3 answer with one line; IMAP with "* BYE" then the tagged OK.
  for (int i = 0; i < 3 && reader.readLine(l, brief, err, error); ++i)
    if (proto != StartTlsProtocol::Imap || startsWithNoCase(l, "A003 ")) break;
}

}  // namespace mxpulse::probes
