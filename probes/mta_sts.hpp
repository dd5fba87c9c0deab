// SPDX-License-Identifier: Apache-2.0
// MTA-STS (RFC 8461): the _mta-sts TXT record, the policy file served at
// https://mta-sts.<domain>/.well-known/mta-sts.txt, and MX pattern matching.
// TLS-RPT (RFC 8460): the _smtp._tls TXT record.
#pragma once

#include <string>
#include <vector>

#include "probes/dmarc_record.hpp"

namespace mxpulse::probes {

struct StsRecord {
  bool valid = false;
  std::string error;
  std::string id;  ///< 1-32 alphanumerics; changes when the policy changes
};

/// Selection (3.1): a TXT starting "v=STSv1" then ';', whitespace or end.
bool isStsRecord(const std::string& txt);
StsRecord parseStsRecord(const std::string& txt);

struct StsPolicy {
  bool valid = false;
  std::vector<std::string> errors;
  std::vector<std::string> warnings;
  std::string version, mode;    ///< mode: enforce | testing | none
  long long maxAge = -1;        ///< seconds, -1 = absent or invalid
  std::vector<std::string> mx;  ///< patterns, lower case, e.g. "*.example.com"
};

/// Policy body (3.2): "key: value" lines ending in LF or CRLF. For fields
/// other than mx only the first occurrence counts.
StsPolicy parseStsPolicy(const std::string& body);

/// Does `host` (an MX name) match `pattern`? "*.example.com" matches one
/// extra leftmost label only (4.1). Case-insensitive, trailing dots ignored.
bool stsMxMatches(const std::string& pattern, const std::string& host);

struct TlsRptRecord {
  bool valid = false;
  std::vector<std::string> errors;
  std::vector<DmarcUri> rua;  ///< mailto: or https:
};

/// Selection: a TXT starting "v=TLSRPTv1" then ';', whitespace or end.
bool isTlsRptRecord(const std::string& txt);
TlsRptRecord parseTlsRptRecord(const std::string& txt);

}  // namespace mxpulse::probes
