// SPDX-License-Identifier: Apache-2.0
// The command line: `mxpulse [--config PATH] [--json] COMMAND ...`.
// Commands: run, once, check-config, status, inventory, check, version.
#pragma once

#include <string>
#include <vector>

namespace mxpulse {

/// Exit codes besides the 0/1/2/3 of results.
constexpr int kExitUsage = 64;    ///< EX_USAGE: bad command line
constexpr int kExitConfig = 78;   ///< EX_CONFIG: invalid configuration
constexpr int kExitRuntime = 70;  ///< EX_SOFTWARE-ish: state DB or textfile unusable

/// Entry point used by main(); returns the process exit code.
int runCommandLine(const std::vector<std::string>& args);

/// The text of --help (kept next to the parser so they cannot drift).
std::string helpText();

}  // namespace mxpulse
