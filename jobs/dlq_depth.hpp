// SPDX-License-Identifier: Apache-2.0
// dlq_depth: how many messages wait in each dead-letter queue.
//
// What it checks
//   dlq_depth  per configured queue:
//     - AWS SQS: GetQueueAttributes (ApproximateNumberOfMessages, ...NotVisible,
//       ...Delayed) over the JSON protocol (default, what current SDKs send) or
//       the query protocol, SigV4-signed; any endpoint URL (emulators, VPC
//       endpoints). Credentials: configured secrets, else AWS_ACCESS_KEY_ID /
//       AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, else a credentials-file
//       profile. SQS does not report message age through this call.
//     - SQL: a read-only query returning the count, and optionally the time
//       of the oldest message as a second column (Unix seconds or ISO 8601).
//   The depth is compared with the previous run's (kept per queue in the
//   state DB table dlq_depth_last) to detect growth.
// Standards: AWS SQS API (GetQueueAttributes, JSON 1.0 and query protocols),
//   AWS Signature Version 4 (reference/formats.md §5).
//
// Severity (depth = visible + in flight + delayed)
//   depth >= crit_messages (when set)                -> critical
//   depth grew by >= crit_growth since the last run  -> critical
//   oldest message older than crit_age (when known)  -> critical
//   depth >= warn_messages (default 1: any message)  -> warning
//   empty                                            -> ok
//   unreadable (network, auth, missing queue, SQL error, no credentials)
//                                                    -> unknown, with the reason
//
// Metrics (gauges; `job` label added by the framework; `queue` is the
//   configured name)
//   mxpulse_dlq_messages{queue}                      depth as above
//   mxpulse_dlq_sqs_messages{queue,state}            visible | in_flight | delayed
//   mxpulse_dlq_oldest_message_timestamp_seconds{queue}   where the source gives it
//   mxpulse_dlq_read_error{queue} = 1                when the queue could not be read
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/job.hpp"
#include "jobs/plumb_common.hpp"
#include "probes/sqs_client.hpp"

namespace mxpulse::jobs {

struct DlqQueueSpec {
  std::string name;
  bool sqs = true;  ///< else SQL
  probes::SqsQueueRef queue;
  probes::AwsCredentialSettings credentials;  ///< secrets resolved; never logged
  SqlSourceSpec sql;
  /// Stable id of the queue for the state table (hash of URL or SQL source).
  std::string sourceId;
};

struct DlqDepthParams {
  std::int64_t warnMessages = 1;       ///< 0 = off
  std::int64_t critMessages = 0;       ///< 0 = off
  std::int64_t critGrowth = 1;         ///< 0 = off
  std::int64_t critAgeSeconds = 3600;  ///< 0 = off
  std::vector<DlqQueueSpec> queues;
  std::string stateDb;
};

struct DlqObservation {
  const DlqQueueSpec* spec = nullptr;
  bool ok = false;
  std::string error;
  std::string errorCode;
  std::int64_t depth = 0;
  std::optional<std::int64_t> visible, inFlight, delayed;  ///< SQS
  std::optional<std::int64_t> oldest;                      ///< Unix time, where known
  std::optional<std::int64_t> previous;                    ///< last run's depth
  std::optional<std::int64_t> previousAt;
  std::string credentialSource;  ///< e.g. "environment" (never the keys)
};

std::optional<DlqDepthParams> parseDlqDepthParams(MapReader& params, const JobBuildEnv& env);
/// Pure: results, samples and the state writes recording this run's depths.
JobOutput evaluateDlqDepth(const DlqDepthParams& params, const std::vector<DlqObservation>& obs,
                           std::int64_t now);
std::vector<DlqObservation> observeDlqDepth(const DlqDepthParams& params, std::int64_t now,
                                            Deadline deadline);

JobKind dlqDepthKind();

}  // namespace mxpulse::jobs
