// SPDX-License-Identifier: Apache-2.0
// Pieces shared by the SPF parser (spf_record.cpp), the macro language
// (spf_macro.cpp) and check_host() (spf_eval.cpp). Not a public interface.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace mxpulse::probes::spf {

/// A client IP. IPv4-mapped IPv6 (::ffff:a.b.c.d) is stored as IPv4
/// (RFC 7208 5: such connections MUST be treated as IPv4).
struct Ip {
  bool v6 = false;
  unsigned char bytes[16] = {};
};
bool parseIp(const std::string& text, Ip& out);
/// Strict RFC 7208 ip4-network: four dec-octets without leading zeros.
bool parseIp4Network(const std::string& text, unsigned char out[4]);
/// True when the first `bits` bits of `ip` equal those of `network`.
bool prefixMatch(const unsigned char* ip, const unsigned char* network, int bits);
/// Address text from DNS compared with the client IP (family must match).
bool addressMatches(const Ip& ip, const std::string& address, int cidr4, int cidr6);
std::string ipDotFormat(const Ip& ip);  ///< %{i}: dotted quad or 32 dotted nibbles
std::string ipReadable(const Ip& ip);   ///< %{c}: dotted quad or RFC 5952 text

/// Where a macro-string appears: in a domain-spec (c, r, t forbidden), in
/// exp= TXT text (spaces allowed, every letter), or in an unknown modifier.
enum class MacroMode { DomainSpec, Explanation, Modifier };

struct MacroContext {
  std::string sender, local, senderDomain, domain, helo, receiver;
  Ip ip;
  std::int64_t now = 0;
  /// %{p}: computed on first use (it costs DNS lookups).
  std::function<std::string()> validatedName;
};

/// Syntax check only (7.1). `error` names the problem.
bool checkMacroString(const std::string& text, MacroMode mode, std::string& error);
/// Expands a macro-string that passed checkMacroString().
std::string expandMacroString(const std::string& text, const MacroContext& ctx);
/// A domain-spec: a macro-string ending in a macro-expand or "." toplabel.
bool checkDomainSpec(const std::string& spec, std::string& error);
/// After expansion: drop one trailing dot and, past 253 characters, whole
/// labels from the left (7.3).
std::string finishDomain(std::string name);
/// Usable as a DNS name: no empty label, none over 63 characters.
bool queryableName(const std::string& name);

std::string asciiLower(std::string s);
bool iequals(const std::string& a, const std::string& b);

}  // namespace mxpulse::probes::spf
