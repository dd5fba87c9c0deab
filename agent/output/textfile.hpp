// SPDX-License-Identifier: Apache-2.0
// The node_exporter textfile: rendered from the state DB (so a restart
// rewrites the same file) and written atomically (temp file in the same
// directory, fsync, rename) so the collector never reads half a file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/store/alert_store.hpp"
#include "agent/store/state_store.hpp"

namespace mxpulse {

struct AgentGauges {
  std::string version;
  bool configReloadOk = true;
  std::int64_t configReloadSuccessAt = 0;
  std::int64_t startedAt = 0;
};

/// Renders every family. `kinds` maps configured job -> kind; jobs not in
/// it (removed from the config) are left out. With `alerts`, the alerting
/// families (firing alerts, outbox depth, Telegram sends) are added.
std::string renderTextfile(const std::vector<JobStatusRow>& jobs,
                           const std::vector<LatestRow>& latest,
                           const std::vector<StoredSample>& samples, const AgentGauges& agent,
                           const AlertFigures* alerts = nullptr);

/// Writes `content` to `path` atomically; on failure the old file stays and
/// `error` names the file and the fix.
bool writeFileAtomically(const std::string& path, const std::string& content, std::string& error);

}  // namespace mxpulse
