// SPDX-License-Identifier: Apache-2.0
// DKIM key records (RFC 6376 3.6.1, Ed25519 per RFC 8463) as published at
// <selector>._domainkey.<domain>. Parses the tag list, checks every tag a
// verifier looks at and decodes the key (RSA size via OpenSSL).
//
// Choices where verifiers disagree (tests/unit/dkim_record_test.cpp lists
// the vectors):
// - whitespace after the final ';' breaks RFC 6376's ABNF and mox rejects
//   it, but OpenDKIM, dkimpy and Mail::DKIM accept it: accepted, with a
//   warning;
// - g= (RFC 4871) was removed by RFC 6376: ignored like any unknown tag;
// - a bare PKCS#1 RSAPublicKey in p= is accepted by some verifiers and
//   rejected by others (mox): accepted, with a warning;
// - h= listing only sha1: usable by the letter of RFC 6376, but RFC 8301
//   forbids sha1 signatures: accepted, with a warning.
#pragma once

#include <string>
#include <vector>

namespace mxpulse::probes {

struct DkimKeyRecord {
  /// No errors: a verifier can use this key for email (a revoked key is
  /// "valid" here; see `revoked`).
  bool valid = false;
  std::vector<std::string> errors;    ///< why verifiers reject it
  std::vector<std::string> warnings;  ///< usable, but worth a look
  bool hasVersion = false;            ///< v=DKIM1 present
  std::string keyType = "rsa";        ///< k=
  std::vector<std::string> hashes;    ///< h= (empty = any)
  std::vector<std::string> services;  ///< s= (empty = *)
  std::vector<std::string> flags;     ///< t=
  bool testing = false;               ///< t=y
  bool strict = false;                ///< t=s: i= must equal d=
  bool revoked = false;               ///< empty p=
  std::string notes;                  ///< n=
  std::string keyFormat;              ///< "spki", "pkcs1" (RSA) or "raw" (ed25519)
  int keyBits = 0;                    ///< RSA modulus size; 256 for ed25519
  std::vector<std::string> unknownTags;
};

/// Parses one key record (the TXT strings already concatenated).
DkimKeyRecord parseDkimKeyRecord(const std::string& txt);

/// Strict base64 (RFC 4648, padding required, whitespace skipped); false on
/// any other character or bad padding.
bool decodeBase64(const std::string& in, std::string& out);

}  // namespace mxpulse::probes
