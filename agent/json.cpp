// SPDX-License-Identifier: Apache-2.0
#include "agent/json.hpp"

#include <cmath>
#include <cstdlib>
#include <cstdio>

namespace mxpulse {

Json Json::raw(std::string serialised) {
  Json j;
  j.value_ = Raw{std::move(serialised)};
  return j;
}

Json& Json::set(const std::string& key, Json value) {
  if (isNull()) value_ = Object{};
  auto& obj = std::get<Object>(value_);
  for (auto& kv : obj) {
    if (kv.first == key) {
      kv.second = std::move(value);
      return kv.second;
    }
  }
  obj.emplace_back(key, std::move(value));
  return obj.back().second;
}

Json& Json::push(Json value) {
  if (isNull()) value_ = Array{};
  auto& arr = std::get<Array>(value_);
  arr.push_back(std::move(value));
  return arr.back();
}

const Json* Json::find(const std::string& key) const {
  const auto* obj = std::get_if<Object>(&value_);
  if (!obj) return nullptr;
  for (const auto& kv : *obj)
    if (kv.first == key) return &kv.second;
  return nullptr;
}

std::string Json::dump() const {
  std::string out;
  dumpTo(out);
  return out;
}

namespace {
// Length of a valid UTF-8 sequence starting at s[i], or 0 if invalid.
size_t utf8SequenceLength(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  return len;
}
}  // namespace

void appendJsonString(std::string& out, std::string_view s) {
  out += '"';
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else if (c >= 0x80) {
      size_t len = utf8SequenceLength(s, i);
      if (len == 0) {
        out += "\\ufffd";
        ++i;
        continue;
      }
      out.append(s.substr(i, len));
      i += len;
      continue;
    } else {
      out += static_cast<char>(c);
    }
    ++i;
  }
  out += '"';
}

void Json::dumpTo(std::string& out) const {
  struct Visitor {
    std::string& out;
    void operator()(std::monostate) const { out += "null"; }
    void operator()(bool b) const { out += b ? "true" : "false"; }
    void operator()(std::int64_t v) const { out += std::to_string(v); }
    void operator()(double v) const {
      if (!std::isfinite(v)) {
        out += "null";  // JSON has no NaN/Inf
        return;
      }
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", v);
      // Shortest form that round-trips is nicer to read; try fewer digits first.
      for (int prec = 6; prec < 17; ++prec) {
        char shorter[32];
        std::snprintf(shorter, sizeof shorter, "%.*g", prec, v);
        if (std::strtod(shorter, nullptr) == v) {
          out += shorter;
          return;
        }
      }
      out += buf;
    }
    void operator()(const std::string& s) const { appendJsonString(out, s); }
    void operator()(const Array& a) const {
      out += '[';
      for (size_t i = 0; i < a.size(); ++i) {
        if (i) out += ',';
        a[i].dumpTo(out);
      }
      out += ']';
    }
    void operator()(const Object& o) const {
      out += '{';
      for (size_t i = 0; i < o.size(); ++i) {
        if (i) out += ',';
        appendJsonString(out, o[i].first);
        out += ':';
        o[i].second.dumpTo(out);
      }
      out += '}';
    }
    void operator()(const Raw& r) const { out += r.text.empty() ? "null" : r.text; }
  };
  std::visit(Visitor{out}, value_);
}

}  // namespace mxpulse
