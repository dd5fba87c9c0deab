// SPDX-License-Identifier: Apache-2.0
// DMARC policy records (RFC 7489 6.3, 6.4) at _dmarc.<domain>, also
// accepting the np, psd and t tags of RFC 9989 (DMARCbis).
//
// Target behaviour (tests/unit/dmarc_record_test.cpp lists every vector
// that disagrees, and why):
// - v=DMARC1 first; "DMARC1" is case-sensitive, tag names and keyword
//   values are not (ABNF quoted strings);
// - p anywhere after v is accepted with a warning (RFC 7489's ABNF orders
//   it second and strict parsers such as mox reject otherwise; RFC 9989
//   allows any order);
// - p missing or invalid, or sp invalid: with at least one valid mailto:
//   rua the record is "downgraded" to p=none (RFC 7489 6.6.3), otherwise
//   no policy applies;
// - pct, rf, ri are validated per RFC 7489 (RFC 9989 removed them; many
//   receivers still read them); rf must include afrf;
// - rua/ruf: any syntactically valid URI with an optional !size; only
//   mailto: receives reports, so other schemes are a warning;
// - unknown tags are ignored with a warning; duplicates and empty tags
//   between separators are errors; a trailing ';' or whitespace is fine.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mxpulse::probes {

struct DmarcUri {
  std::string text;            ///< as written, without the !size suffix
  std::string scheme;          ///< lower case
  std::string address;         ///< mailto: the percent-decoded address
  std::string domain;          ///< mailto: the address's domain (lower case)
  std::uint64_t maxBytes = 0;  ///< !size, 0 = none
};

struct DmarcRecord {
  bool isDmarc = false;     ///< starts with v=DMARC1
  bool valid = false;       ///< no errors at all
  bool downgraded = false;  ///< applied as p=none per RFC 7489 6.6.3
  /// Receivers apply a policy: the record is valid, or downgraded.
  bool hasPolicy() const { return valid || downgraded; }
  std::vector<std::string> errors;
  std::vector<std::string> warnings;

  /// What receivers apply: p when valid, "none" when downgraded, else "".
  std::string effectivePolicy() const { return valid ? p : downgraded ? "none" : ""; }

  std::string p;   ///< as published (if a valid value): none | quarantine | reject
  std::string sp;  ///< defaults to p
  std::string np;  ///< defaults to sp (RFC 9989)
  bool pGiven = false, spGiven = false, npGiven = false;
  std::string adkim = "r", aspf = "r";
  int pct = 100;
  bool pctGiven = false;
  std::vector<std::string> fo{"0"};
  std::vector<std::string> rf{"afrf"};
  std::uint32_t ri = 86400;
  std::vector<DmarcUri> rua, ruf;
  std::string psd = "u";  ///< RFC 9989: y | n | u
  std::string t = "n";    ///< RFC 9989 testing flag: y | n
  std::vector<std::string> unknownTags;
};

/// Selection test (RFC 7489 6.6.3): does this TXT start with v=DMARC1?
bool isDmarcRecord(const std::string& txt);
DmarcRecord parseDmarcRecord(const std::string& txt);

/// Parses a comma-separated rua/ruf/TLS-RPT URI list (", " and "!size"
/// handled). False with `error` on a syntax error.
bool parseReportUris(const std::string& value, bool allowSize, std::vector<DmarcUri>& out,
                     std::string& error);

}  // namespace mxpulse::probes
