// SPDX-License-Identifier: Apache-2.0
// From the loaded config to the alert settings the store applies.
#pragma once

#include <memory>

#include "agent/config.hpp"
#include "agent/output/alert_config.hpp"

namespace mxpulse {

/// Per-job policies (with overrides), rule pseudo-jobs, chats and host.
std::shared_ptr<const AlertSettings> makeAlertSettings(const AgentConfig& config);

}  // namespace mxpulse
