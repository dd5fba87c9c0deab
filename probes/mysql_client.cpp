// SPDX-License-Identifier: Apache-2.0
#include "probes/mysql_client.hpp"

#include <mysql.h>

#include <algorithm>
#include <memory>

namespace mxpulse::probes {

namespace {
struct MysqlCloser {
  void operator()(MYSQL* m) const { mysql_close(m); }
};
struct ResultFreer {
  void operator()(MYSQL_RES* r) const { mysql_free_result(r); }
};

std::string describe(MYSQL* m, const std::string& what) {
  return what + ": " + mysql_error(m) + " (error " + std::to_string(mysql_errno(m)) + ")";
}
}  // namespace

SqlRows mysqlQueryReadOnly(const MysqlParams& params, const std::string& query, Deadline deadline) {
  SqlRows out;
  std::unique_ptr<MYSQL, MysqlCloser> conn(mysql_init(nullptr));
  if (!conn) {
    out.error = "mysql_init failed (out of memory)";
    return out;
  }
  // Connector/C timeouts are whole seconds; at least 1 s.
  unsigned int secs = static_cast<unsigned int>(std::max(1, (deadline.remainingMs() + 999) / 1000));
  mysql_options(conn.get(), MYSQL_OPT_CONNECT_TIMEOUT, &secs);
  mysql_options(conn.get(), MYSQL_OPT_READ_TIMEOUT, &secs);
  mysql_options(conn.get(), MYSQL_OPT_WRITE_TIMEOUT, &secs);
  mysql_options(conn.get(), MYSQL_SET_CHARSET_NAME, "utf8mb4");
  // Do not read option files: behaviour must come from our config only.
  const char* sock = params.socket.empty() ? nullptr : params.socket.c_str();
  if (!mysql_real_connect(conn.get(), params.host.c_str(), params.user.c_str(),
                          params.password.c_str(), params.database.c_str(),
                          static_cast<unsigned int>(params.port), sock, 0)) {
    out.error = describe(conn.get(), "cannot connect to MySQL at " +
                                         (sock ? params.socket
                                               : params.host + ":" + std::to_string(params.port)));
    return out;
  }
  // Server-side bound (MariaDB); MySQL lacks the variable, so ignore failure.
  std::string limit = "SET SESSION max_statement_time=" + std::to_string(secs);
  if (mysql_query(conn.get(), limit.c_str()) != 0) mysql_errno(conn.get());
  if (mysql_query(conn.get(), "START TRANSACTION READ ONLY") != 0) {
    out.error = describe(conn.get(), "cannot start a read-only transaction");
    return out;
  }
  if (mysql_real_query(conn.get(), query.data(), query.size()) != 0) {
    out.error = describe(conn.get(), "query failed");
    return out;
  }
  std::unique_ptr<MYSQL_RES, ResultFreer> res(mysql_use_result(conn.get()));
  if (!res) {
    out.error = mysql_field_count(conn.get()) == 0 ? "query returned no result set (not a SELECT)"
                                                   : describe(conn.get(), "reading rows failed");
    return out;
  }
  unsigned int n = mysql_num_fields(res.get());
  MYSQL_FIELD* fields = mysql_fetch_fields(res.get());
  for (unsigned int i = 0; i < n; ++i) out.columns.emplace_back(fields[i].name);
  while (MYSQL_ROW row = mysql_fetch_row(res.get())) {
    if (out.rows.size() >= kMaxSqlRows) {
      out.error = "query returned more than " + std::to_string(kMaxSqlRows) + " rows";
      return out;
    }
    unsigned long* lengths = mysql_fetch_lengths(res.get());
    std::vector<std::optional<std::string>> values;
    for (unsigned int i = 0; i < n; ++i) {
      if (row[i])
        values.emplace_back(std::string(row[i], lengths[i]));
      else
        values.emplace_back(std::nullopt);
    }
    out.rows.push_back(std::move(values));
  }
  if (mysql_errno(conn.get()) != 0) {
    out.error = describe(conn.get(), "reading rows failed");
    return out;
  }
  mysql_query(conn.get(), "ROLLBACK");
  out.ok = true;
  return out;
}

}  // namespace mxpulse::probes
