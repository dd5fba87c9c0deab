// SPDX-License-Identifier: Apache-2.0
#include "agent/output/alert_setup.hpp"

#include "agent/output/alert_rules.hpp"

namespace mxpulse {

std::shared_ptr<const AlertSettings> makeAlertSettings(const AgentConfig& config) {
  auto s = std::make_shared<AlertSettings>();
  s->host = config.alerts.host;
  s->defaults = config.alerts.policy;
  for (const auto& j : config.jobs) s->jobs[j.name] = j.alerts;
  for (const auto& r : config.alerts.rules) {
    JobAlertConfig rule;
    rule.policy = rulePolicy(config.alerts.policy);
    s->jobs[ruleJobName(r.name)] = rule;
  }
  if (config.alerts.telegram.enabled) s->chats = config.alerts.telegram.chats;
  return s;
}

}  // namespace mxpulse
