// SPDX-License-Identifier: Apache-2.0
// AWS SQS GetQueueAttributes, SigV4-signed, in both wire forms
// (reference/formats.md §5): the JSON protocol current SDKs send
// (X-Amz-Target: AmazonSQS.GetQueueAttributes, application/x-amz-json-1.0)
// and the older query protocol (Action=GetQueueAttributes, XML replies).
// Credentials come from configuration, the environment, or a shared
// credentials file profile; a session token is signed and sent.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "probes/deadline.hpp"
#include "probes/sigv4.hpp"

namespace mxpulse::probes {

enum class SqsProtocol { Json, Query };

struct SqsQueueRef {
  std::string queueUrl;
  std::string endpoint;  ///< "" = scheme://host[:port] of the queue URL
  std::string region;    ///< "" = from the host (sqs.<region>.…), else us-east-1
  SqsProtocol protocol = SqsProtocol::Json;
};

/// The endpoint and region a request for `ref` goes to.
std::string sqsEndpoint(const SqsQueueRef& ref);
std::string sqsRegion(const SqsQueueRef& ref);

struct SqsAttributes {
  bool ok = false;
  std::string error;      ///< one line; never contains credentials
  std::string errorCode;  ///< e.g. "QueueDoesNotExist", "InvalidClientTokenId"
  int httpStatus = 0;
  std::map<std::string, std::string> attributes;  ///< as returned (strings)
  std::optional<std::int64_t> visible;            ///< ApproximateNumberOfMessages
  std::optional<std::int64_t> notVisible;         ///< ...NotVisible (in flight)
  std::optional<std::int64_t> delayed;            ///< ...Delayed
};

/// Asks for ApproximateNumberOfMessages, ...NotVisible and ...Delayed.
/// `unixNow` is the signing time.
SqsAttributes sqsGetQueueAttributes(const SqsQueueRef& ref, const AwsCredentials& credentials,
                                    std::int64_t unixNow, Deadline deadline);

/// What the operator configured; empty fields fall back to the chain.
struct AwsCredentialSettings {
  std::string accessKeyId;
  std::string secretAccessKey;
  std::string sessionToken;
  std::string profile;          ///< "" = $AWS_PROFILE, else "default"
  std::string credentialsFile;  ///< "" = $AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials
};

/// Configured keys, else AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
/// (/ AWS_SESSION_TOKEN), else the credentials file's profile. !valid()
/// with `error` when none is complete.
AwsCredentials resolveAwsCredentials(const AwsCredentialSettings& settings, std::string& error);
/// Reads `profile` from the INI text of a credentials file.
bool parseAwsCredentialsFile(const std::string& text, const std::string& profile,
                             AwsCredentials& out, std::string& error);

}  // namespace mxpulse::probes
