// SPDX-License-Identifier: Apache-2.0
// A small JSON value used for result facts and JSON Lines output. Objects
// keep insertion order so that facts read in the order a job wrote them.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace mxpulse {

class Json {
 public:
  using Array = std::vector<Json>;
  using Object = std::vector<std::pair<std::string, Json>>;

  Json() = default;  // null
  Json(std::nullptr_t) {}
  Json(bool v) : value_(v) {}
  Json(int v) : value_(static_cast<std::int64_t>(v)) {}
  Json(long v) : value_(static_cast<std::int64_t>(v)) {}
  Json(long long v) : value_(static_cast<std::int64_t>(v)) {}
  Json(unsigned v) : value_(static_cast<std::int64_t>(v)) {}
  Json(unsigned long v) : value_(static_cast<std::int64_t>(v)) {}
  Json(unsigned long long v) : value_(static_cast<std::int64_t>(v)) {}
  Json(double v) : value_(v) {}
  Json(const char* v) : value_(std::string(v)) {}
  Json(std::string v) : value_(std::move(v)) {}
  Json(std::string_view v) : value_(std::string(v)) {}
  Json(Array v) : value_(std::move(v)) {}
  Json(Object v) : value_(std::move(v)) {}

  static Json object() { return Json(Object{}); }
  static Json array() { return Json(Array{}); }
  /// Text that is already serialised JSON (e.g. facts read back from SQLite).
  static Json raw(std::string serialised);

  bool isNull() const { return std::holds_alternative<std::monostate>(value_); }
  bool isObject() const { return std::holds_alternative<Object>(value_); }
  bool isArray() const { return std::holds_alternative<Array>(value_); }

  /// Object access: sets or replaces `key` (turns a null into an object).
  Json& set(const std::string& key, Json value);
  /// Array access: appends (turns a null into an array).
  Json& push(Json value);
  /// Object lookup; nullptr if absent or not an object.
  const Json* find(const std::string& key) const;

  const std::string* asString() const { return std::get_if<std::string>(&value_); }
  const std::int64_t* asInt() const { return std::get_if<std::int64_t>(&value_); }
  const double* asDouble() const { return std::get_if<double>(&value_); }
  const bool* asBool() const { return std::get_if<bool>(&value_); }
  const Array* asArray() const { return std::get_if<Array>(&value_); }
  const Object* asObject() const { return std::get_if<Object>(&value_); }

  std::string dump() const;
  void dumpTo(std::string& out) const;

 private:
  struct Raw {
    std::string text;
  };
  std::variant<std::monostate, bool, std::int64_t, double, std::string, Array, Object, Raw> value_;
};

/// Appends `s` as a quoted JSON string (escapes control characters, quotes,
/// backslashes; invalid UTF-8 bytes become U+FFFD so output always parses).
void appendJsonString(std::string& out, std::string_view s);

}  // namespace mxpulse
