// SPDX-License-Identifier: Apache-2.0
// Lets BOOST_TEST print a Status ("ok", "critical", ...) when a comparison
// fails. Include it instead of defining the operator in each test file.
#pragma once

#include <ostream>

#include "agent/status.hpp"

namespace mxpulse {
inline std::ostream& operator<<(std::ostream& o, Status s) {
  return o << statusName(s);
}
}  // namespace mxpulse
