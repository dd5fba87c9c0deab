// SPDX-License-Identifier: Apache-2.0
// The `alerts:` section of etc/agent.yaml as typed values (parsed in
// agent/config.cpp), and the runtime settings derived from it that the
// store applies inside each run's transaction.
#pragma once

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "agent/duration.hpp"
#include "agent/output/alert_policy.hpp"
#include "agent/status.hpp"

namespace mxpulse {

/// Where a Telegram message goes and which alerts it wants.
struct TelegramChat {
  std::string chatId;                    ///< int64 as text, or @channelname
  Status minSeverity = Status::Warning;  ///< warning or critical
  bool includeUnknown = true;            ///< "could not check" alerts too
};

struct TelegramConfig {
  bool enabled = false;  ///< a telegram: section is present
  std::string apiBaseUrl = "https://api.telegram.org";
  std::string botToken;  ///< resolved secret; never logged, never stored
  Millis timeout = std::chrono::seconds(10);
  Millis retryMin = std::chrono::seconds(5);   ///< first backoff, doubled per attempt
  Millis retryMax = std::chrono::minutes(10);  ///< backoff cap
  Millis expireAfter{0};  ///< undelivered this long -> 'failed'; 0 = retry forever
  Millis sendInterval = std::chrono::seconds(1);  ///< pause between messages (flood limits)
  std::vector<TelegramChat> chats;
};

/// An operator's alert rule: a read-only query over the state DB; every row
/// it returns is a firing alert labelled by its columns.
struct AlertRuleConfig {
  std::string name;
  std::string query;
  Status severity = Status::Warning;
  Millis every = std::chrono::minutes(1);  ///< evaluated after runs, at most this often
  Millis timeout = std::chrono::seconds(5);
  int line = 0;
};

struct JobAlertConfig {
  bool enabled = true;
  AlertPolicy policy;  ///< the global policy with the job's overrides applied
};

struct AlertsConfig {
  std::string host;  ///< shown in every message; defaults to the host name
  AlertPolicy policy;
  TelegramConfig telegram;
  std::vector<AlertRuleConfig> rules;
};

/// Prefix of the pseudo-job under which a rule's rows are recorded.
constexpr const char* kRuleJobPrefix = "rule:";
inline std::string ruleJobName(const std::string& rule) {
  return kRuleJobPrefix + rule;
}
inline bool isRuleJob(const std::string& job) {
  return job.rfind(kRuleJobPrefix, 0) == 0;
}

/// What the store needs to turn results into alert state and outbox rows.
struct AlertSettings {
  std::string host;
  AlertPolicy defaults;
  std::map<std::string, JobAlertConfig> jobs;  ///< per job (and per rule pseudo-job)
  std::vector<TelegramChat> chats;             ///< empty: alerts are tracked, not sent
  size_t messageLimit = 4000;                  ///< visible characters per message (Telegram: 4096)

  const AlertPolicy& policyFor(const std::string& job) const {
    auto it = jobs.find(job);
    return it == jobs.end() ? defaults : it->second.policy;
  }
  bool enabledFor(const std::string& job) const {
    auto it = jobs.find(job);
    return it == jobs.end() || it->second.enabled;
  }
};

}  // namespace mxpulse

namespace YAML {
class Node;
}

namespace mxpulse {

class ConfigErrors;

/// Parses the top-level `alerts:` mapping (absent: defaults, no Telegram).
/// `resolveSecrets` false only checks the bot token's shape.
void parseAlertsConfig(const YAML::Node& node, AlertsConfig& out, ConfigErrors& errors,
                       bool resolveSecrets);

/// Parses a job's optional `alerts:` mapping (overrides of the global policy).
JobAlertConfig parseJobAlerts(const YAML::Node& node, const std::string& path,
                              const AlertPolicy& defaults, ConfigErrors& errors);

}  // namespace mxpulse
