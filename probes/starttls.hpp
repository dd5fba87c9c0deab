// SPDX-License-Identifier: Apache-2.0
// The plain-text part of STARTTLS: a polite client for SMTP (RFC 5321,
// RFC 3207), IMAP (RFC 3501, RFC 2595) and POP3 (RFC 1939, RFC 2449,
// RFC 2595) that brings a connection to the point where the TLS handshake
// starts, and says goodbye afterwards.
//
// Rules it follows (each one broke a peer; see peers-and-gotchas lesson 5):
// - wait for the whole greeting, however long (postscreen, greet_pause);
//   a multi-line `220-` greeting is read to its final `220 ` line;
// - read every EHLO line up to the final `250 ` (STARTTLS may be last);
// - one command at a time, never pipelined (exim rejects that);
// - STARTTLS only when offered; not offered is its own outcome;
// - bytes sent after the reply to STARTTLS are an error, never fed to TLS
//   (CVE-2011-0411-style injection);
// - QUIT/LOGOUT at the end, so the server logs a clean session.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probes/tcp_stream.hpp"

namespace mxpulse::probes {

enum class StartTlsProtocol { None, Smtp, Imap, Pop3 };
const char* startTlsName(StartTlsProtocol p);
/// "smtp" | "imap" | "pop3" | "none" (case-insensitive).
std::optional<StartTlsProtocol> parseStartTls(std::string_view name);
/// What a port conventionally speaks: 25/587 SMTP, 143 IMAP, 110 POP3,
/// anything else implicit TLS.
StartTlsProtocol defaultStartTlsForPort(int port);

enum class StartTlsFailure {
  None,
  Network,          ///< `net` says what (timeout, closed, ...)
  GreetingRefused,  ///< 4xx/5xx greeting, `* BYE`, `-ERR`: the server will not talk to us
  Protocol,         ///< a reply that breaks the protocol, or EHLO/CAPA refused
  NotOffered,       ///< the capability list lacks STARTTLS/STLS
  Refused,          ///< offered, but the STARTTLS/STLS command was refused
};
const char* startTlsFailureName(StartTlsFailure f);

struct StartTlsOutcome {
  bool ok = false;  ///< ready for the TLS handshake
  StartTlsFailure failure = StartTlsFailure::None;
  NetError net = NetError::None;
  std::string stage;                      ///< greeting | ehlo | capability | starttls
  std::string error;                      ///< human-readable, quotes the server's reply
  std::string greeting;                   ///< the greeting's first line (capped)
  std::vector<std::string> capabilities;  ///< EHLO keywords / IMAP / POP3 capabilities
  bool offered = false;
};

/// Runs the dialogue on a fresh connection up to the handshake. On failure
/// other than Network it has already said QUIT/LOGOUT.
StartTlsOutcome negotiateStartTls(ByteStream& stream, LineReader& reader, StartTlsProtocol proto,
                                  const std::string& clientName, Deadline deadline);

/// After the handshake: QUIT (SMTP, POP3) or LOGOUT (IMAP) over `tls`,
/// waiting briefly for the answer. Failures are ignored: the certificate
/// is already in hand.
void sayGoodbye(ByteStream& tls, StartTlsProtocol proto, Deadline deadline);

/// The host name to announce in EHLO when none is configured.
std::string defaultClientName();

}  // namespace mxpulse::probes
