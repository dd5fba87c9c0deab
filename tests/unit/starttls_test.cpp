// SPDX-License-Identifier: Apache-2.0
// The STARTTLS dialogue against scripted servers: multi-line greetings,
// STARTTLS as the last EHLO line, no pipelining, hostile servers.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <deque>
#include <ostream>

#include "probes/starttls.hpp"
#include "probes/tcp_stream.hpp"

using namespace mxpulse;
using namespace mxpulse::probes;

namespace mxpulse::probes {
std::ostream& operator<<(std::ostream& os, StartTlsFailure f) {
  return os << startTlsFailureName(f);
}
std::ostream& operator<<(std::ostream& os, NetError e) {
  return os << netErrorName(e);
}
std::ostream& operator<<(std::ostream& os, StartTlsProtocol p) {
  return os << startTlsName(p);
}
}  // namespace mxpulse::probes

namespace {

/// A server that answers each expected command with canned bytes, one
/// byte per read (so the client must reassemble lines), and that fails the
/// test if the client sends a command before reading the previous reply.
class ScriptedServer : public ByteStream {
 public:
  ScriptedServer(std::string greeting, std::vector<std::pair<std::string, std::string>> steps)
      : pending_(std::move(greeting)), steps_(steps.begin(), steps.end()) {}

  size_t read(char* buf, size_t len, Deadline, NetError& err, std::string& error) override {
    if (pending_.empty()) {
      err = NetError::Timeout;  // a silent server: the deadline passes
      error = "no answer before the deadline";
      return 0;
    }
    size_t n = std::min({len, chunk, pending_.size()});
    pending_.copy(buf, n);
    pending_.erase(0, n);
    return n;
  }

  bool write(const std::string& data, Deadline, NetError&, std::string&) override {
    if (!pending_.empty()) pipelined = true;
    std::string command = data.substr(0, data.size() - 2);
    BOOST_TEST(data.substr(data.size() - 2) == "\r\n");
    commands.push_back(command);
    if (!steps_.empty() && steps_.front().first == command) {
      pending_ += steps_.front().second;
      steps_.pop_front();
    }
    return true;
  }

  std::vector<std::string> commands;
  bool pipelined = false;
  size_t chunk = 1;  ///< bytes per read: 1 forces reassembly, more models one TCP segment

 private:
  std::string pending_;
  std::deque<std::pair<std::string, std::string>> steps_;
};

StartTlsOutcome run(ScriptedServer& s, StartTlsProtocol p, LineLimits limits = {}) {
  LineReader reader(s, limits);
  return negotiateStartTls(s, reader, p, "client.test", Deadline::in(std::chrono::seconds(5)));
}

const std::string kEhloWithStartTlsLast =
    "250-mx.test greets client.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
    "250-8BITMIME\r\n250 STARTTLS\r\n";

}  // namespace

BOOST_AUTO_TEST_SUITE(starttls)

BOOST_AUTO_TEST_CASE(smtp_multiline_greeting_and_starttls_on_last_ehlo_line) {
  ScriptedServer s("220-mx.test ESMTP\r\n220-postscreen was here\r\n220 ready\r\n",
                   {{"EHLO client.test", kEhloWithStartTlsLast},
                    {"STARTTLS", "220 2.0.0 Ready to start TLS\r\n"}});
  auto o = run(s, StartTlsProtocol::Smtp);
  BOOST_TEST(o.ok, o.error);
  BOOST_TEST(o.offered);
  BOOST_TEST(o.greeting == "220-mx.test ESMTP");
  BOOST_TEST((s.commands == std::vector<std::string>{"EHLO client.test", "STARTTLS"}));
  BOOST_TEST(!s.pipelined);
  BOOST_TEST(
      (o.capabilities == std::vector<std::string>{"PIPELINING", "SIZE", "8BITMIME", "STARTTLS"}));
}

BOOST_AUTO_TEST_CASE(smtp_bare_lf_and_lower_case_keyword) {
  ScriptedServer s("220 mx.test\n",
                   {{"EHLO client.test", "250-mx.test\n250 starttls\n"}, {"STARTTLS", "220 go\n"}});
  auto o = run(s, StartTlsProtocol::Smtp);
  BOOST_TEST(o.ok, o.error);
}

BOOST_AUTO_TEST_CASE(smtp_starttls_not_offered_is_its_own_outcome_and_quits) {
  ScriptedServer s("220 mx.test ESMTP\r\n",
                   {{"EHLO client.test", "250-mx.test\r\n250-SIZE 1000\r\n250 HELP\r\n"},
                    {"QUIT", "221 bye\r\n"}});
  auto o = run(s, StartTlsProtocol::Smtp);
  BOOST_TEST(!o.ok);
  BOOST_TEST(o.failure == StartTlsFailure::NotOffered);
  BOOST_TEST(!o.offered);
  BOOST_TEST((s.commands == std::vector<std::string>{"EHLO client.test", "QUIT"}));
}

BOOST_AUTO_TEST_CASE(smtp_starttls_refused) {
  ScriptedServer s("220 mx.test\r\n", {{"EHLO client.test", kEhloWithStartTlsLast},
                                       {"STARTTLS", "454 4.7.0 TLS not available\r\n"},
                                       {"QUIT", "221 bye\r\n"}});
  auto o = run(s, StartTlsProtocol::Smtp);
  BOOST_TEST(o.failure == StartTlsFailure::Refused);
  BOOST_TEST(o.error.find("454 4.7.0 TLS not available") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(smtp_refused_greeting_sends_nothing) {
  ScriptedServer s("554 5.7.1 no thanks\r\n", {});
  auto o = run(s, StartTlsProtocol::Smtp);
  BOOST_TEST(o.failure == StartTlsFailure::GreetingRefused);
  BOOST_TEST(s.commands.empty());
}

BOOST_AUTO_TEST_CASE(smtp_silent_server_is_a_network_timeout) {
  ScriptedServer s("", {});
  auto o = run(s, StartTlsProtocol::Smtp);
  BOOST_TEST(o.failure == StartTlsFailure::Network);
  BOOST_TEST(o.net == NetError::Timeout);
  BOOST_TEST(o.stage == "greeting");
}

BOOST_AUTO_TEST_CASE(smtp_greeting_cut_mid_reply_waits_for_the_last_line) {
  // Only "220-" lines arrive, then silence: not a greeting yet.
  ScriptedServer s("220-mx.test\r\n220-still thinking\r\n", {});
  auto o = run(s, StartTlsProtocol::Smtp);
  BOOST_TEST(o.failure == StartTlsFailure::Network);
  BOOST_TEST(s.commands.empty());
}

BOOST_AUTO_TEST_CASE(smtp_data_after_starttls_reply_is_refused) {
  ScriptedServer s("220 mx.test\r\n", {{"EHLO client.test", kEhloWithStartTlsLast},
                                       {"STARTTLS", "220 go\r\n250 injected\r\n"}});
  s.chunk = 4096;  // the injected line arrives with the reply, in one segment
  auto o = run(s, StartTlsProtocol::Smtp);
  BOOST_TEST(!o.ok);
  BOOST_TEST(o.failure == StartTlsFailure::Protocol);
}

BOOST_AUTO_TEST_CASE(smtp_overlong_line_and_endless_reply_are_capped) {
  ScriptedServer longLine("220 " + std::string(10000, 'x') + "\r\n", {});
  auto a = run(longLine, StartTlsProtocol::Smtp, LineLimits{512, 50});
  BOOST_TEST(a.failure == StartTlsFailure::Protocol);
  BOOST_TEST(a.net == NetError::TooLong);

  std::string endless;
  for (int i = 0; i < 100; ++i) endless += "220-more\r\n";
  ScriptedServer many(endless, {});
  auto b = run(many, StartTlsProtocol::Smtp, LineLimits{512, 50});
  BOOST_TEST(b.failure == StartTlsFailure::Protocol);
  BOOST_TEST(b.error.find("more than 50 lines") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(smtp_garbage_and_changing_codes_are_protocol_errors) {
  ScriptedServer garbage("HTTP/1.1 400 Bad Request\r\n", {});
  BOOST_TEST(run(garbage, StartTlsProtocol::Smtp).failure == StartTlsFailure::Protocol);
  ScriptedServer mixed("220-mx.test\r\n250 what\r\n", {});
  BOOST_TEST(run(mixed, StartTlsProtocol::Smtp).failure == StartTlsFailure::Protocol);
}

BOOST_AUTO_TEST_CASE(imap_capability_then_starttls) {
  ScriptedServer s(
      "* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n",
      {{"A001 CAPABILITY", "* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\nA001 OK done\r\n"},
       {"A002 STARTTLS", "A002 OK Begin TLS negotiation now\r\n"}});
  auto o = run(s, StartTlsProtocol::Imap);
  BOOST_TEST(o.ok, o.error);
  BOOST_TEST(!s.pipelined);
}

BOOST_AUTO_TEST_CASE(imap_without_starttls_and_preauth) {
  ScriptedServer none("* OK ready\r\n",
                      {{"A001 CAPABILITY", "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nA001 OK\r\n"}});
  BOOST_TEST(run(none, StartTlsProtocol::Imap).failure == StartTlsFailure::NotOffered);
  ScriptedServer preauth("* PREAUTH welcome\r\n", {});
  BOOST_TEST(run(preauth, StartTlsProtocol::Imap).failure == StartTlsFailure::NotOffered);
  ScriptedServer bye("* BYE too many connections\r\n", {});
  BOOST_TEST(run(bye, StartTlsProtocol::Imap).failure == StartTlsFailure::GreetingRefused);
}

BOOST_AUTO_TEST_CASE(pop3_capa_then_stls) {
  ScriptedServer s("+OK POP3 ready\r\n",
                   {{"CAPA", "+OK\r\nTOP\r\nUIDL\r\nSTLS\r\n.\r\n"}, {"STLS", "+OK go\r\n"}});
  auto o = run(s, StartTlsProtocol::Pop3);
  BOOST_TEST(o.ok, o.error);
}

BOOST_AUTO_TEST_CASE(pop3_without_capa_cannot_offer_stls) {
  ScriptedServer s("+OK POP3 ready\r\n",
                   {{"CAPA", "-ERR unknown command\r\n"}, {"QUIT", "+OK\r\n"}});
  auto o = run(s, StartTlsProtocol::Pop3);
  BOOST_TEST(o.failure == StartTlsFailure::NotOffered);
  BOOST_TEST((s.commands == std::vector<std::string>{"CAPA", "QUIT"}));
}

BOOST_AUTO_TEST_CASE(names_ports_and_endpoints) {
  BOOST_TEST(*parseStartTls("SMTP") == StartTlsProtocol::Smtp);
  BOOST_TEST(*parseStartTls("none") == StartTlsProtocol::None);
  BOOST_TEST(!parseStartTls("ftp").has_value());
  BOOST_TEST(defaultStartTlsForPort(25) == StartTlsProtocol::Smtp);
  BOOST_TEST(defaultStartTlsForPort(587) == StartTlsProtocol::Smtp);
  BOOST_TEST(defaultStartTlsForPort(143) == StartTlsProtocol::Imap);
  BOOST_TEST(defaultStartTlsForPort(110) == StartTlsProtocol::Pop3);
  BOOST_TEST(defaultStartTlsForPort(465) == StartTlsProtocol::None);
  BOOST_TEST(defaultStartTlsForPort(993) == StartTlsProtocol::None);

  std::string host;
  int port = 0;
  BOOST_TEST(splitHostPort("[::1]:465", host, port));
  BOOST_TEST(host == "::1");
  BOOST_TEST(port == 465);
  BOOST_TEST(splitHostPort("mx.example.com:25", host, port));
  BOOST_TEST(host == "mx.example.com");
  BOOST_TEST(!splitHostPort("::1:465", host, port));
  BOOST_TEST(!splitHostPort("mx.example.com", host, port));
  BOOST_TEST(!splitHostPort("mx.example.com:0", host, port));
  BOOST_TEST(!splitHostPort("mx.example.com:70000", host, port));
  BOOST_TEST(!splitHostPort("[mx]:25", host, port));
}

BOOST_AUTO_TEST_SUITE_END()
