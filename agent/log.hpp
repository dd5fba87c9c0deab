// SPDX-License-Identifier: Apache-2.0
// Logging to stderr in a journald-friendly form: no timestamps (journald
// adds them), `<N>` syslog priority prefixes when stderr is the journal,
// and key=value fields after the message.
#pragma once

#include <string>
#include <string_view>

namespace mxpulse::log {

enum class Level { Debug = 7, Info = 6, Warning = 4, Error = 3 };

void setLevel(Level level);
bool setLevel(std::string_view name);
bool enabled(Level level);
void write(Level level, std::string_view message);

inline void debug(std::string_view m) { write(Level::Debug, m); }
inline void info(std::string_view m) { write(Level::Info, m); }
inline void warning(std::string_view m) { write(Level::Warning, m); }
inline void error(std::string_view m) { write(Level::Error, m); }

/// `key=value`, quoting the value when it has spaces, quotes or '='.
std::string kv(std::string_view key, std::string_view value);
std::string kv(std::string_view key, long long value);

}  // namespace mxpulse::log
