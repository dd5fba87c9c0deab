// SPDX-License-Identifier: Apache-2.0
// `mxpulse ip ...`: the operator's view of and hand on the IP lifecycle.
//   ip list                         every IP's state, plan day and reason
//   ip history IP                   its transitions (time, from, to, actor, reason)
//   ip set IP STATE --reason TEXT [--plan NAME]
//                                   move an IP by hand (recorded as the operator,
//                                   $SUDO_USER or $USER); the agent's rules go on
//                                   from there (an operator QUARANTINE is never
//                                   released by rule)
//   ip plan [JOB...]                run the warmup job(s) as a dry run: what would
//                                   change in the lifecycle and in MailWizz; writes
//                                   nothing (neither SQLite nor MySQL)
#pragma once

#include <string>
#include <vector>

namespace mxpulse::jobs {

/// Returns the process exit code (0 ok, 64 usage, 70 runtime, 78 config).
int ipCommand(const std::string& configPath, const std::vector<std::string>& args, bool json);

/// Usage lines for `mxpulse --help`.
const char* ipCommandHelp();

}  // namespace mxpulse::jobs
