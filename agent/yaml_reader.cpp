// SPDX-License-Identifier: Apache-2.0
#include "agent/yaml_reader.hpp"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace mxpulse {

std::string indexPath(const std::string& base, size_t index) {
  return base + "[" + std::to_string(index) + "]";
}

std::optional<std::string> expandEnv(const std::string& text, std::string& missing) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '{') {
      size_t close = text.find('}', i + 2);
      if (close == std::string::npos) {
        missing = text.substr(i);
        return std::nullopt;
      }
      std::string name = text.substr(i + 2, close - i - 2);
      const char* value = std::getenv(name.c_str());
      if (!value) {
        missing = name;
        return std::nullopt;
      }
      out += value;
      i = close;
    } else {
      out += text[i];
    }
  }
  return out;
}

MapReader::MapReader(const YAML::Node& node, std::string path, ConfigErrors& errors)
    : node_(node), path_(std::move(path)), errors_(errors) {
  if (!node_.IsMap()) {
    ok_ = false;
    errors_.add(node_, path_, node_.IsDefined() && !node_.IsNull() ? "must be a mapping"
                                                                    : "must be a non-empty mapping");
  }
}

bool MapReader::has(const std::string& key) const { return ok_ && node_[key].IsDefined(); }

std::string MapReader::childPath(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

YAML::Node MapReader::node(const std::string& key) {
  known_.insert(key);
  if (!ok_) return YAML::Node(YAML::NodeType::Undefined);
  return node_[key];
}

YAML::Node MapReader::scalarNode(const std::string& key, bool required, const char* what) {
  YAML::Node n = node(key);
  if (!ok_) return YAML::Node(YAML::NodeType::Undefined);
  if (!n.IsDefined() || n.IsNull()) {
    if (required) errors_.add(n.IsDefined() ? n : node_, childPath(key), "is required");
    return YAML::Node(YAML::NodeType::Undefined);
  }
  if (!n.IsScalar()) {
    errors_.add(n, childPath(key), std::string("must be ") + what);
    return YAML::Node(YAML::NodeType::Undefined);
  }
  return n;
}

std::optional<std::string> MapReader::optString(const std::string& key, bool required) {
  YAML::Node n = scalarNode(key, required, "a string");
  if (!n.IsDefined()) return std::nullopt;
  return n.Scalar();
}

std::string MapReader::str(const std::string& key, const std::string& fallback) {
  return optString(key, false).value_or(fallback);
}

std::optional<long long> MapReader::optInteger(const std::string& key, long long min,
                                               long long max, bool required) {
  YAML::Node n = scalarNode(key, required, "an integer");
  if (!n.IsDefined()) return std::nullopt;
  const std::string& s = n.Scalar();
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno == ERANGE) {
    errors_.add(n, childPath(key), "must be an integer, got '" + s + "'");
    return std::nullopt;
  }
  if (v < min || v > max) {
    errors_.add(n, childPath(key),
                "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return std::nullopt;
  }
  return v;
}

long long MapReader::integer(const std::string& key, long long fallback, long long min,
                             long long max) {
  return optInteger(key, min, max, false).value_or(fallback);
}

std::optional<double> MapReader::optNumber(const std::string& key, double min, double max,
                                           bool required) {
  YAML::Node n = scalarNode(key, required, "a number");
  if (!n.IsDefined()) return std::nullopt;
  const std::string& s = n.Scalar();
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !std::isfinite(v)) {
    errors_.add(n, childPath(key), "must be a number, got '" + s + "'");
    return std::nullopt;
  }
  if (v < min || v > max) {
    std::ostringstream msg;
    msg << "must be between " << min << " and " << max;
    errors_.add(n, childPath(key), msg.str());
    return std::nullopt;
  }
  return v;
}

double MapReader::number(const std::string& key, double fallback, double min, double max) {
  return optNumber(key, min, max, false).value_or(fallback);
}

bool MapReader::boolean(const std::string& key, bool fallback) {
  YAML::Node n = scalarNode(key, false, "true or false");
  if (!n.IsDefined()) return fallback;
  const std::string& s = n.Scalar();
  if (s == "true" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "no" || s == "off") return false;
  errors_.add(n, childPath(key), "must be true or false, got '" + s + "'");
  return fallback;
}

std::optional<Millis> MapReader::optDuration(const std::string& key, bool required) {
  YAML::Node n = scalarNode(key, required, "a duration such as 30s, 5m, 1h");
  if (!n.IsDefined()) return std::nullopt;
  auto d = parseDuration(n.Scalar());
  if (!d) {
    errors_.add(n, childPath(key),
                "bad duration '" + n.Scalar() + "' (use e.g. 500ms, 30s, 5m, 1h30m, 7d)");
  }
  return d;
}

Millis MapReader::duration(const std::string& key, Millis fallback) {
  return optDuration(key, false).value_or(fallback);
}

double MapReader::percent(const std::string& key, double fallback) {
  YAML::Node n = scalarNode(key, false, "a percentage such as 15%");
  if (!n.IsDefined()) return fallback;
  std::string s = n.Scalar();
  if (!s.empty() && s.back() == '%') s.pop_back();
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !(v >= 0 && v <= 100)) {
    errors_.add(n, childPath(key), "must be a percentage between 0% and 100%, got '" +
                                       n.Scalar() + "'");
    return fallback;
  }
  return v;
}

std::vector<std::string> MapReader::strings(const std::string& key) {
  YAML::Node n = node(key);
  std::vector<std::string> out;
  if (!n.IsDefined() || n.IsNull()) return out;
  if (n.IsScalar()) {
    out.push_back(n.Scalar());
    return out;
  }
  if (!n.IsSequence()) {
    errors_.add(n, childPath(key), "must be a string or a list of strings");
    return out;
  }
  for (size_t i = 0; i < n.size(); ++i) {
    if (!n[i].IsScalar()) {
      errors_.add(n[i], indexPath(childPath(key), i), "must be a string");
      continue;
    }
    out.push_back(n[i].Scalar());
  }
  return out;
}

std::optional<std::string> MapReader::secret(const std::string& key, bool required,
                                             bool resolve) {
  const std::string fileKey = key + "_file";
  YAML::Node inlineNode = node(key);
  YAML::Node fileNode = node(fileKey);
  if (!ok_) return std::nullopt;
  bool hasInline = inlineNode.IsDefined() && !inlineNode.IsNull();
  bool hasFile = fileNode.IsDefined() && !fileNode.IsNull();
  if (hasInline && hasFile) {
    errors_.add(fileNode, childPath(fileKey), "give either " + key + " or " + fileKey + ", not both");
    return std::nullopt;
  }
  if (!hasInline && !hasFile) {
    if (required)
      errors_.add(node_, childPath(key),
                  "is required (as " + key + ": ${ENV_VAR} or " + fileKey + ": /path)");
    return std::nullopt;
  }
  const YAML::Node& n = hasInline ? inlineNode : fileNode;
  const std::string p = childPath(hasInline ? key : fileKey);
  if (!n.IsScalar()) {
    errors_.add(n, p, "must be a string");
    return std::nullopt;
  }
  if (hasInline && n.Scalar().find("${") == std::string::npos) {
    errors_.warn(n, p,
                 "secret is written inline; prefer ${ENV_VAR} or " + fileKey +
                     " (systemd LoadCredential=)");
  }
  if (!resolve) return std::string();
  std::string missing;
  auto expanded = expandEnv(n.Scalar(), missing);
  if (!expanded) {
    errors_.add(n, p, "environment variable '" + missing + "' is not set");
    return std::nullopt;
  }
  if (hasInline) return expanded;
  std::ifstream in(*expanded, std::ios::binary);
  if (!in) {
    errors_.add(n, p, "cannot read secret file '" + *expanded + "'");
    return std::nullopt;
  }
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!content.empty() && (content.back() == '\n' || content.back() == '\r'))
    content.pop_back();
  if (content.empty()) {
    errors_.add(n, p, "secret file '" + *expanded + "' is empty");
    return std::nullopt;
  }
  return content;
}

void MapReader::finish() {
  if (!ok_ || finished_) return;
  finished_ = true;
  for (const auto& kv : node_) {
    const std::string key = kv.first.Scalar();
    if (!known_.count(key)) {
      std::string hint;
      for (const auto& k : known_) {
        // Suggest a known key that differs only by case or one character (typos).
        if (k.size() + 1 >= key.size() && key.size() + 1 >= k.size()) {
          size_t diff = 0;
          for (size_t i = 0; i < std::min(k.size(), key.size()); ++i) diff += k[i] != key[i];
          if (diff + (k.size() > key.size() ? k.size() - key.size() : key.size() - k.size()) <= 1) {
            hint = " (did you mean '" + k + "'?)";
            break;
          }
        }
      }
      errors_.add(kv.first, childPath(key), "unknown key" + hint);
    }
  }
}

}  // namespace mxpulse
