// SPDX-License-Identifier: Apache-2.0
// Runs a program (argv, no shell) with a deadline and a cap on captured
// output, for CLI fallbacks such as `pmta --dom show status`. The child is
// killed at the deadline; its stdin is /dev/null.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "probes/deadline.hpp"

namespace mxpulse::probes {

struct ExecResult {
  bool started = false;  ///< false: could not spawn (see error)
  bool timedOut = false;
  bool truncated = false;  ///< stdout went over the cap (the child was killed)
  int exitCode = -1;       ///< -1 when killed by a signal
  std::string out;         ///< stdout, at most the cap
  std::string err;         ///< stderr, at most 4 KiB
  std::string error;       ///< one line when something went wrong
};

ExecResult runBounded(const std::vector<std::string>& argv, Deadline deadline,
                      size_t maxOutputBytes);

}  // namespace mxpulse::probes
