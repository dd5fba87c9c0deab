// SPDX-License-Identifier: Apache-2.0
// Durations as operators write them: "500ms", "30s", "5m", "1h30m", "30d".
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace mxpulse {

using Millis = std::chrono::milliseconds;

/// Parses a sequence of <number><unit> with units ms, s, m, h, d, w.
/// Rejects empty strings, bare numbers, negative values and overflow.
std::optional<Millis> parseDuration(std::string_view text);

/// The shortest exact rendering, e.g. 90s -> "1m30s", 0 -> "0s".
std::string formatDuration(Millis d);

}  // namespace mxpulse
