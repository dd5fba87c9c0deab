// SPDX-License-Identifier: Apache-2.0
#include "jobs/plumb_common.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ctime>

#include "agent/yaml_reader.hpp"
#include "probes/sqlite_query.hpp"

namespace mxpulse::jobs {

std::string SqlSourceSpec::describe() const {
  if (!mysql) return "sqlite:" + sqlitePath;
  std::string where = mysqlParams.socket.empty()
                          ? mysqlParams.host + ":" + std::to_string(mysqlParams.port)
                          : mysqlParams.socket;
  return "mysql:" + mysqlParams.user + "@" + where + "/" + mysqlParams.database;
}

std::optional<SqlSourceSpec> parseSqlSource(MapReader& r, const JobBuildEnv& env) {
  SqlSourceSpec spec;
  size_t before = r.errors().size();
  spec.sqlitePath = r.str("sqlite_path", "");
  spec.query = r.optString("query", true).value_or("");
  YAML::Node mysql = r.node("mysql");
  if (mysql.IsDefined() && !mysql.IsNull()) {
    spec.mysql = true;
    MapReader m(mysql, r.childPath("mysql"), r.errors());
    spec.mysqlParams.host = m.str("host", spec.mysqlParams.host);
    spec.mysqlParams.port = static_cast<int>(m.integer("port", 3306, 1, 65535));
    spec.mysqlParams.socket = m.str("socket", "");
    spec.mysqlParams.user = m.optString("user", true).value_or("");
    spec.mysqlParams.password = m.secret("password", false, env.resolveSecrets).value_or("");
    spec.mysqlParams.database = m.str("database", "");
    m.finish();
  }
  if (spec.mysql == !spec.sqlitePath.empty())
    r.errors().add(r.self(), r.path(), "give exactly one of sqlite_path or mysql");
  if (r.errors().size() != before) return std::nullopt;
  return spec;
}

probes::SqlRows runSqlSource(const SqlSourceSpec& spec, Deadline deadline) {
  if (spec.mysql) return probes::mysqlQueryReadOnly(spec.mysqlParams, spec.query, deadline);
  return probes::sqliteQueryReadOnly(spec.sqlitePath, spec.query, deadline);
}

std::string sqlQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "''";
    else
      out.push_back(c);
  }
  return out + "'";
}

probes::SqlRows readState(const std::string& stateDb, const std::string& query, Deadline deadline) {
  if (stateDb.empty()) {
    probes::SqlRows none;
    none.error = "no state DB (ad hoc check)";
    return none;
  }
  return probes::sqliteQueryReadOnly(stateDb, query, deadline.capped(std::chrono::seconds(5)));
}

std::string roughDuration(std::int64_t s) {
  std::string sign = s < 0 ? "-" : "";
  if (s < 0) s = -s;
  auto two = [&](std::int64_t big, const char* bu, std::int64_t small, const char* su) {
    std::string out = sign + std::to_string(s / big) + bu;
    std::int64_t rest = (s % big) / small;
    if (rest) out += std::to_string(rest) + su;
    return out;
  };
  if (s < 60) return sign + std::to_string(s) + "s";
  if (s < 3600) return sign + std::to_string(s / 60) + "m";
  if (s < 86400) return two(3600, "h", 60, "m");
  return two(86400, "d", 3600, "h");
}

std::string groupDigits(std::int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return n < 0 ? "-" + out : out;
}

std::vector<std::pair<std::string, double>> topWithOther(
    std::vector<std::pair<std::string, double>> values, size_t n, const std::string& other) {
  std::stable_sort(values.begin(), values.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  if (values.size() <= n) return values;
  double rest = 0;
  for (size_t i = n; i < values.size(); ++i) rest += values[i].second;
  values.resize(n);
  values.emplace_back(other, rest);
  return values;
}

}  // namespace mxpulse::jobs
