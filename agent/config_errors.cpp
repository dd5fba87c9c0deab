// SPDX-License-Identifier: Apache-2.0
#include "agent/config_errors.hpp"

#include <yaml-cpp/yaml.h>

namespace mxpulse {

namespace {
void position(const YAML::Node& at, int& line, int& col) {
  line = col = 0;
  if (!at.IsDefined() && !at.IsNull()) return;
  const YAML::Mark mark = at.Mark();
  if (mark.is_null()) return;
  line = mark.line + 1;  // yaml-cpp counts from 0
  col = mark.column + 1;
}
}  // namespace

std::string ConfigErrors::format(int line, int col, const std::string& path,
                                 const std::string& message) const {
  std::string out = file_;
  if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(col);
  out += ": ";
  if (!path.empty()) out += path + ": ";
  out += message;
  return out;
}

void ConfigErrors::add(const YAML::Node& at, const std::string& path, const std::string& message) {
  int line, col;
  position(at, line, col);
  errors_.push_back(format(line, col, path, message));
}

void ConfigErrors::add(int line, int col, const std::string& path, const std::string& message) {
  errors_.push_back(format(line, col, path, message));
}

void ConfigErrors::addFile(const std::string& message) {
  errors_.push_back(format(0, 0, "", message));
}

void ConfigErrors::warn(const YAML::Node& at, const std::string& path,
                        const std::string& message) {
  int line, col;
  position(at, line, col);
  warnings_.push_back(format(line, col, path, message));
}

}  // namespace mxpulse
