// SPDX-License-Identifier: Apache-2.0
// A read-write MySQL/MariaDB session (MariaDB Connector/C) for jobs that
// change a database, such as the warmup job syncing MailWizz quotas. Every
// call is bounded: client connect/read/write timeouts come from the
// caller's deadline, and server-side max_statement_time and
// innodb_lock_wait_timeout stop a statement that waits on a lock. The
// session runs in UTC (SET time_zone='+00:00', like MailWizz itself), with
// autocommit off: nothing is kept unless commit() succeeds, and a session
// closed or lost before that is rolled back by the server.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "probes/deadline.hpp"
#include "probes/mysql_client.hpp"
#include "probes/sql_rows.hpp"

typedef struct st_mysql MYSQL;

namespace mxpulse::probes {

class MysqlSession {
 public:
  MysqlSession();
  ~MysqlSession();
  MysqlSession(const MysqlSession&) = delete;
  MysqlSession& operator=(const MysqlSession&) = delete;

  /// Connects and prepares the session. False with `error` (never holding
  /// the password) when the server is down, slow or refuses us.
  bool connect(const MysqlParams& params, Deadline deadline, std::string& error);
  bool connected() const { return conn_ != nullptr; }

  /// Runs a statement that returns no rows; `affected` gets the row count.
  bool exec(const std::string& sql, std::string& error, std::uint64_t* affected = nullptr);
  /// Runs a SELECT (or SHOW) and returns its rows.
  SqlRows query(const std::string& sql);

  bool begin(std::string& error) { return exec("START TRANSACTION", error); }
  bool commit(std::string& error) { return exec("COMMIT", error); }
  /// Best effort; a lost connection rolls back by itself.
  void rollback();
  void close();

  /// `value` as a quoted, escaped SQL string literal.
  std::string quote(const std::string& value) const;

 private:
  std::string describe(const std::string& what) const;
  MYSQL* conn_ = nullptr;
};

/// `^[a-z0-9_]*$`, the table prefixes MailWizz's installer accepts.
bool validTablePrefix(const std::string& prefix);

}  // namespace mxpulse::probes
