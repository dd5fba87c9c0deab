// SPDX-License-Identifier: Apache-2.0
// AWS Signature Version 4 (header form), as specified in the AWS General
// Reference "Signature Version 4 signing process" and checked against the
// official aws-sig-v4-test-suite (tests/unit/sigv4_test.cpp). Pure: the
// caller supplies the time, so the same inputs always give the same
// signature.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "probes/bounded_http.hpp"

namespace mxpulse::probes {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct AwsCredentials {
  std::string accessKeyId;
  std::string secretAccessKey;  ///< never logged
  std::string sessionToken;     ///< temporary credentials (STS); "" if none
  std::string source;           ///< where they came from, e.g. "environment"
  bool valid() const { return !accessKeyId.empty() && !secretAccessKey.empty(); }
};

struct SigV4Request {
  std::string method = "POST";
  std::string path = "/";                                  ///< not yet percent-encoded
  std::vector<std::pair<std::string, std::string>> query;  ///< decoded names and values
  HeaderList headers;  ///< as they will be sent; must include Host
  std::string body;
};

struct SigV4Params {
  std::string region;
  std::string service;
  std::int64_t unixTime = 0;  ///< used unless the request has an X-Amz-Date header
  /// Remove "." / ".." segments and empty segments (every service but S3).
  bool normalizePath = true;
  /// Sign X-Amz-Security-Token (SQS and most services); false adds it after
  /// signing (the suite's post-sts-header-after case).
  bool signSessionToken = true;
};

struct SigV4Signed {
  std::string canonicalRequest;
  std::string stringToSign;
  std::string signature;      ///< lowercase hex
  std::string authorization;  ///< the Authorization header value
  HeaderList headers;         ///< the request's headers plus X-Amz-Date, token, Authorization
};

SigV4Signed signV4(const SigV4Request& request, const AwsCredentials& credentials,
                   const SigV4Params& params);

/// Percent-encoding per SigV4: unreserved A-Z a-z 0-9 - _ . ~ stay, every
/// other byte becomes %XX (uppercase); '/' stays when !encodeSlash.
inline std::string awsUriEncode(std::string_view s, bool encodeSlash) {
  return percentEncode(s, !encodeSlash);
}
/// The encoded, normalised path as it must be sent on the request line.
std::string awsCanonicalPath(const std::string& path, bool normalize);
/// "YYYYMMDDTHHMMSSZ" for a Unix time.
std::string amzDate(std::int64_t unixTime);

}  // namespace mxpulse::probes
