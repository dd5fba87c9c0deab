// SPDX-License-Identifier: Apache-2.0
// What DNSBL answers mean: the built-in table of known zones (type, IPv6
// support, return codes, test points, Spamhaus DQS names) and the
// classification of one A answer into listed / not listed / error.
//
// Sources: RFC 5782; Spamhaus's zone documentation (ZEN, DBL, ZRD and the
// 127.255.255.0/24 error range, which must never count as a listing);
// SURBL's and URIBL's bitmask documentation (127.0.0.1 = query refused);
// see ../shared/reference/formats.md section 7 and peers-and-gotchas.md.
// Dead lists (SORBS, manitu, wpbl, cyberlogic, spamcannibal) are not in
// the table on purpose: a dead list either answers nothing (silently
// "clean") or everything (false listings).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mxpulse::jobs::dnsbl {

enum class ZoneType { Ip, Domain };

enum class CodeKind {
  Listed,     ///< a listing
  NotListed,  ///< an answer that is not a listing (e.g. good reputation)
  Error,      ///< the list refused or failed the query: "could not tell"
};

/// A range of return codes (IPv4 in host order, inclusive).
struct CodeRule {
  std::uint32_t from = 0, to = 0;
  CodeKind kind = CodeKind::Listed;
  std::string category;  ///< short stable name: "sbl", "xbl", "pbl_isp", "dbl_spam", ...
  std::string meaning;   ///< one line for people
};

/// One bit of the last octet of a bitmask list (SURBL, URIBL).
struct BitRule {
  std::uint32_t bit = 0;
  std::string category;
  std::string meaning;
};

struct ZoneProfile {
  std::string zone;  ///< public name, e.g. "zen.spamhaus.org"
  ZoneType type = ZoneType::Ip;
  bool ipv6 = false;  ///< answers IPv6 (nibble) queries
  std::vector<CodeRule> codes;
  std::vector<BitRule> bits;  ///< non-empty for bitmask lists
  /// Test points relative to the zone ("" = RFC 5782: 2.0.0.127 / 1.0.0.127
  /// for IP lists, "test" / "invalid" for domain lists).
  std::string canaryListed, canaryClean;
  /// Spamhaus DQS dataset name ("zen" -> KEY.zen.dq.spamhaus.net); "" = none.
  std::string dqsName;
  bool shippedDefault = false;  ///< in the default zone set
  std::string note;             ///< what to know before using it
};

/// Every zone the agent knows, in a stable order.
const std::vector<ZoneProfile>& knownZones();
/// nullptr for a zone not in the table.
const ZoneProfile* findKnownZone(const std::string& zone);
/// A profile for a zone not in the table: RFC 5782 semantics only.
ZoneProfile genericZone(const std::string& zone, ZoneType type);

struct CodeVerdict {
  CodeKind kind = CodeKind::Listed;
  std::string category;
  std::string meaning;
};

/// What one A record returned by the zone means. Checked in order: not an
/// IPv4 address or outside 127.0.0.0/8 (a resolver rewriting answers) =>
/// Error; 127.255.255.0/24 => Error; the zone's code table; the zone's
/// bitmask; 127.0.0.1 => Error (RFC 5782 reserves it as the "not listed"
/// test point; lists that answer it use it to refuse queries); any other
/// 127/8 code => Listed ("unrecognised code").
CodeVerdict classifyCode(const ZoneProfile& zone, const std::string& address);

/// The RFC 5782 test names of a zone (relative to the zone).
std::string canaryListedName(const ZoneProfile& zone);
std::string canaryCleanName(const ZoneProfile& zone);

/// "KEY.zen.dq.spamhaus.net" for a zone with a DQS name; "" otherwise.
std::string dqsQueryZone(const ZoneProfile& zone, const std::string& key);
/// A DQS key is 26 letters and digits in practice; we accept 8-64 [a-z0-9].
bool validDqsKey(const std::string& key);

}  // namespace mxpulse::jobs::dnsbl
