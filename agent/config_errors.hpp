// SPDX-License-Identifier: Apache-2.0
// Collects every configuration error with its position so that an operator
// sees all of them at once, each as `file:line:col: path: message`.
#pragma once

#include <string>
#include <vector>

namespace YAML {
class Node;
}

namespace mxpulse {

class ConfigErrors {
 public:
  explicit ConfigErrors(std::string file = "<config>") : file_(std::move(file)) {}

  /// An error at the position of `at` (falls back to no position if `at` has none).
  void add(const YAML::Node& at, const std::string& path, const std::string& message);
  void add(int line, int col, const std::string& path, const std::string& message);
  /// An error that belongs to the file as a whole.
  void addFile(const std::string& message);
  /// Warnings are printed by check-config but do not fail it.
  void warn(const YAML::Node& at, const std::string& path, const std::string& message);

  bool empty() const { return errors_.empty(); }
  size_t size() const { return errors_.size(); }
  const std::vector<std::string>& errors() const { return errors_; }
  const std::vector<std::string>& warnings() const { return warnings_; }
  const std::string& file() const { return file_; }

 private:
  std::string format(int line, int col, const std::string& path, const std::string& message) const;
  std::string file_;
  std::vector<std::string> errors_;
  std::vector<std::string> warnings_;
};

}  // namespace mxpulse
