// SPDX-License-Identifier: Apache-2.0
// Strict reading of YAML mappings. yaml-cpp accepts any key; every mapping
// in our config is read through MapReader, which remembers which keys were
// asked for and reports the rest as "unknown key" errors in finish().
// Type errors are recorded, never thrown, so one pass finds every error.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/config_errors.hpp"
#include "agent/duration.hpp"

namespace mxpulse {

class MapReader {
 public:
  /// `path` is the dotted location used in messages, e.g. "jobs[2].params".
  MapReader(const YAML::Node& node, std::string path, ConfigErrors& errors);

  /// False if the node was not a mapping (already reported).
  bool ok() const { return ok_; }
  bool has(const std::string& key) const;
  const std::string& path() const { return path_; }
  std::string childPath(const std::string& key) const;
  ConfigErrors& errors() { return errors_; }
  const YAML::Node& self() const { return node_; }

  /// The raw child node (marks the key as known). Undefined if absent.
  YAML::Node node(const std::string& key);

  std::optional<std::string> optString(const std::string& key, bool required = false);
  std::string str(const std::string& key, const std::string& fallback);
  std::optional<long long> optInteger(const std::string& key, long long min, long long max,
                                      bool required = false);
  long long integer(const std::string& key, long long fallback, long long min, long long max);
  std::optional<double> optNumber(const std::string& key, double min, double max,
                                  bool required = false);
  double number(const std::string& key, double fallback, double min, double max);
  bool boolean(const std::string& key, bool fallback);
  std::optional<Millis> optDuration(const std::string& key, bool required = false);
  Millis duration(const std::string& key, Millis fallback);
  /// A percentage written "15%" or 15; returns the number (0..100).
  double percent(const std::string& key, double fallback);
  /// A scalar or a sequence of scalars.
  std::vector<std::string> strings(const std::string& key);
  /// A secret: `key: ${ENV}` (or a literal, with a warning), or `key_file: PATH`
  /// whose content (trailing newline stripped) is the secret. Paths may use
  /// ${CREDENTIALS_DIRECTORY}. `resolve` false only validates the shape.
  std::optional<std::string> secret(const std::string& key, bool required, bool resolve = true);

  /// Reports every key that no accessor asked for.
  void finish();

 private:
  YAML::Node scalarNode(const std::string& key, bool required, const char* what);
  YAML::Node node_;
  std::string path_;
  ConfigErrors& errors_;
  std::set<std::string> known_;
  bool ok_ = true;
  bool finished_ = false;
};

/// Expands ${NAME} references from the environment. Returns nullopt and sets
/// `missing` to the name when a variable is unset.
std::optional<std::string> expandEnv(const std::string& text, std::string& missing);

/// "a.b" + "[3]" helpers for building config paths.
std::string indexPath(const std::string& base, size_t index);

}  // namespace mxpulse
