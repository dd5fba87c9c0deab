// SPDX-License-Identifier: Apache-2.0
#include "probes/mysql_session.hpp"

#include <mysql.h>

#include <algorithm>

namespace mxpulse::probes {

MysqlSession::MysqlSession() = default;
MysqlSession::~MysqlSession() {
  close();
}

void MysqlSession::close() {
  if (conn_) mysql_close(conn_);
  conn_ = nullptr;
}

std::string MysqlSession::describe(const std::string& what) const {
  return what + ": " + mysql_error(conn_) + " (error " + std::to_string(mysql_errno(conn_)) + ")";
}

bool MysqlSession::connect(const MysqlParams& params, Deadline deadline, std::string& error) {
  close();
  conn_ = mysql_init(nullptr);
  if (!conn_) {
    error = "mysql_init failed (out of memory)";
    return false;
  }
  // Connector/C timeouts are whole seconds; at least 1 s.
  unsigned int secs = static_cast<unsigned int>(std::max(1, (deadline.remainingMs() + 999) / 1000));
  mysql_options(conn_, MYSQL_OPT_CONNECT_TIMEOUT, &secs);
  mysql_options(conn_, MYSQL_OPT_READ_TIMEOUT, &secs);
  mysql_options(conn_, MYSQL_OPT_WRITE_TIMEOUT, &secs);
  mysql_options(conn_, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  const char* sock = params.socket.empty() ? nullptr : params.socket.c_str();
  if (!mysql_real_connect(conn_, params.host.c_str(), params.user.c_str(), params.password.c_str(),
                          params.database.c_str(), static_cast<unsigned int>(params.port), sock,
                          0)) {
    error = describe("cannot connect to MySQL at " +
                     (sock ? params.socket : params.host + ":" + std::to_string(params.port)));
    close();
    return false;
  }
  if (!exec("SET time_zone = '+00:00'", error) || !exec("SET autocommit = 0", error)) {
    close();
    return false;
  }
  // Server-side bounds: MariaDB has max_statement_time (MySQL does not: ignore).
  std::string ignored;
  exec("SET SESSION max_statement_time = " + std::to_string(secs), ignored);
  exec("SET SESSION innodb_lock_wait_timeout = " + std::to_string(std::min(secs, 50u)), ignored);
  return true;
}

bool MysqlSession::exec(const std::string& sql, std::string& error, std::uint64_t* affected) {
  if (!conn_) {
    error = "not connected";
    return false;
  }
  if (mysql_real_query(conn_, sql.data(), sql.size()) != 0) {
    error = describe("statement failed");
    return false;
  }
  if (MYSQL_RES* res = mysql_store_result(conn_)) mysql_free_result(res);
  if (mysql_errno(conn_) != 0) {
    error = describe("statement failed");
    return false;
  }
  if (affected) *affected = mysql_affected_rows(conn_);
  return true;
}

SqlRows MysqlSession::query(const std::string& sql) {
  SqlRows out;
  if (!conn_) {
    out.error = "not connected";
    return out;
  }
  if (mysql_real_query(conn_, sql.data(), sql.size()) != 0) {
    out.error = describe("query failed");
    return out;
  }
  MYSQL_RES* res = mysql_store_result(conn_);
  if (!res) {
    out.error = mysql_field_count(conn_) == 0 ? "query returned no result set"
                                              : describe("reading rows failed");
    return out;
  }
  unsigned int n = mysql_num_fields(res);
  MYSQL_FIELD* fields = mysql_fetch_fields(res);
  for (unsigned int i = 0; i < n; ++i) out.columns.emplace_back(fields[i].name);
  while (MYSQL_ROW row = mysql_fetch_row(res)) {
    if (out.rows.size() >= kMaxSqlRows) {
      out.error = "query returned more than " + std::to_string(kMaxSqlRows) + " rows";
      mysql_free_result(res);
      return out;
    }
    unsigned long* lengths = mysql_fetch_lengths(res);
    std::vector<std::optional<std::string>> values;
    for (unsigned int i = 0; i < n; ++i)
      values.emplace_back(row[i] ? std::optional<std::string>(std::string(row[i], lengths[i]))
                                 : std::nullopt);
    out.rows.push_back(std::move(values));
  }
  mysql_free_result(res);
  out.ok = true;
  return out;
}

void MysqlSession::rollback() {
  if (!conn_) return;
  std::string ignored;
  exec("ROLLBACK", ignored);
}

std::string MysqlSession::quote(const std::string& value) const {
  std::string out(value.size() * 2 + 3, '\0');
  out[0] = '\'';
  unsigned long n = mysql_real_escape_string(conn_, &out[1], value.data(), value.size());
  out.resize(n + 1);
  out += '\'';
  return out;
}

bool validTablePrefix(const std::string& prefix) {
  return std::all_of(prefix.begin(), prefix.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

}  // namespace mxpulse::probes
