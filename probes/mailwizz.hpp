// SPDX-License-Identifier: Apache-2.0
// MailWizz's delivery servers in its MySQL/MariaDB database: read the
// quota and status columns, count sends/bounces/complaints per server and
// hour, and change quotas and status in one transaction. Table names carry
// the installation's prefix (default `mw_`, `^[a-z0-9_]*$`). Columns that
// older MailWizz versions lack (warmup_plan_id before 2.1.10,
// monthly_quota before 1.3.6.2) are probed, not assumed.
// Facts: ../shared/reference/formats.md section 1. No policy here.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "probes/mysql_session.hpp"

namespace mxpulse::probes {

struct MailwizzSchema {
  bool serverTable = false;   ///< {prefix}delivery_server exists
  bool warmupPlanId = false;  ///< column delivery_server.warmup_plan_id (2.1.10+)
  bool monthlyQuota = false;
  bool lastUpdated = false;
  bool usageLog = false;     ///< {prefix}delivery_server_usage_log
  bool bounceLog = false;    ///< campaign_bounce_log joinable to campaign_delivery_log.server_id
  bool complainLog = false;  ///< campaign_complain_log, likewise
};

struct MailwizzServer {
  long long serverId = 0;
  std::string hostname, name, status;
  long long hourlyQuota = 0, dailyQuota = 0, monthlyQuota = 0;  ///< 0 = unlimited
  std::optional<long long> warmupPlanId;  ///< MailWizz's own warmup plan, if attached
};

/// Messages per server and UTC hour (hour = Unix time of the hour start).
struct MailwizzUsage {
  long long serverId = 0;
  std::int64_t hour = 0;
  long long sent = 0, bounced = 0, complaints = 0;
};

/// One server's change. `expect` is the row as read before planning: the
/// transaction re-reads it under a row lock and refuses to write if anyone
/// changed it in between.
struct MailwizzChange {
  MailwizzServer expect;
  std::optional<std::string> status;
  std::optional<long long> hourlyQuota, dailyQuota, monthlyQuota;
};

class MailwizzClient {
 public:
  MailwizzClient(MysqlParams params, std::string tablePrefix)
      : params_(std::move(params)), prefix_(std::move(tablePrefix)) {}

  /// Connects (UTC session) and probes the schema.
  bool open(Deadline deadline, std::string& error);
  const MailwizzSchema& schema() const { return schema_; }

  /// Rows of the given servers (absent ids are simply not returned).
  bool readServers(const std::vector<long long>& ids, std::vector<MailwizzServer>& out,
                   std::string& error);
  /// Sends (usage log), bounces (hard and soft) and complaints per server
  /// and hour since `sinceUnix`; parts whose tables are absent stay 0.
  bool readUsage(const std::vector<long long>& ids, std::int64_t sinceUnix,
                 std::vector<MailwizzUsage>& out, std::string& error);
  /// Applies every change in one transaction, or none (rollback). A server
  /// that gained a MailWizz warmup plan or changed since it was read makes
  /// the whole transaction roll back. `afterEach` (tests) runs after each
  /// UPDATE, before COMMIT.
  bool applyChanges(const std::vector<MailwizzChange>& changes, Deadline deadline,
                    std::string& error, const std::function<void(size_t)>& afterEach = {});

 private:
  std::string table(const char* name) const { return "`" + prefix_ + name + "`"; }
  std::string serverColumns() const;
  static std::string idList(const std::vector<long long>& ids);
  MysqlParams params_;
  std::string prefix_;
  MysqlSession session_;
  MailwizzSchema schema_;
};

/// MailWizz picks a server for sending only when its status is one of these.
bool mailwizzStatusEnabled(const std::string& status);

}  // namespace mxpulse::probes
