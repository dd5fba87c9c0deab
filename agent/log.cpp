// SPDX-License-Identifier: Apache-2.0
#include "agent/log.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <string>

namespace mxpulse::log {

namespace {
std::atomic<int> g_level{static_cast<int>(Level::Info)};
std::mutex g_writeMutex;

bool underJournal() {
  // systemd sets JOURNAL_STREAM when stderr is connected to the journal.
  static const bool journal = std::getenv("JOURNAL_STREAM") != nullptr;
  return journal;
}

const char* levelWord(Level l) {
  switch (l) {
    case Level::Debug:
      return "debug";
    case Level::Info:
      return "info";
    case Level::Warning:
      return "warning";
    case Level::Error:
      return "error";
  }
  return "info";
}
}  // namespace

void setLevel(Level level) { g_level = static_cast<int>(level); }

bool setLevel(std::string_view name) {
  if (name == "debug")
    setLevel(Level::Debug);
  else if (name == "info")
    setLevel(Level::Info);
  else if (name == "warning")
    setLevel(Level::Warning);
  else if (name == "error")
    setLevel(Level::Error);
  else
    return false;
  return true;
}

bool enabled(Level level) { return static_cast<int>(level) <= g_level.load(); }

void write(Level level, std::string_view message) {
  if (!enabled(level)) return;
  std::string line;
  if (underJournal()) {
    line = "<" + std::to_string(static_cast<int>(level)) + ">";
  } else {
    line = std::string(levelWord(level)) + ": ";
  }
  for (char c : message) line += (c == '\n' ? ' ' : c);  // one event, one line
  line += '\n';
  std::lock_guard<std::mutex> lock(g_writeMutex);
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

std::string kv(std::string_view key, std::string_view value) {
  bool quote = value.empty() || value.find_first_of(" \"=\t") != std::string_view::npos;
  std::string out(key);
  out += '=';
  if (!quote) return out += value;
  out += '"';
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out += '"';
}

std::string kv(std::string_view key, long long value) { return kv(key, std::to_string(value)); }

}  // namespace mxpulse::log
