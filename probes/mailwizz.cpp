// SPDX-License-Identifier: Apache-2.0
#include "probes/mailwizz.hpp"

#include <map>
#include <set>

namespace mxpulse::probes {

namespace {

long long toInt(const std::optional<std::string>& v) {
  if (!v || v->empty()) return 0;
  try {
    return std::stoll(*v);
  } catch (...) {
    return 0;
  }
}

}  // namespace

bool mailwizzStatusEnabled(const std::string& status) {
  return status == "active" || status == "in-use";
}

std::string MailwizzClient::idList(const std::vector<long long>& ids) {
  std::string out;
  for (long long id : ids) {
    if (!out.empty()) out += ',';
    out += std::to_string(id);
  }
  return out.empty() ? "NULL" : out;
}

bool MailwizzClient::open(Deadline deadline, std::string& error) {
  if (!validTablePrefix(prefix_)) {
    error = "table prefix '" + prefix_ + "' is not [a-z0-9_]*";
    return false;
  }
  if (!session_.connect(params_, deadline, error)) return false;
  std::set<std::string> names;
  for (const char* t : {"delivery_server", "delivery_server_usage_log", "campaign_bounce_log",
                        "campaign_delivery_log", "campaign_complain_log"})
    names.insert(prefix_ + t);
  std::string in;
  for (const auto& n : names) in += (in.empty() ? "" : ",") + session_.quote(n);
  SqlRows rows = session_.query(
      "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS "
      "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (" +
      in + ")");
  if (!rows.ok) {
    error = "cannot read MailWizz's schema: " + rows.error;
    return false;
  }
  std::map<std::string, std::set<std::string>> cols;
  for (const auto& r : rows.rows)
    if (r.size() == 2 && r[0] && r[1]) cols[r[0]->substr(prefix_.size())].insert(*r[1]);
  schema_ = MailwizzSchema{};
  const auto& ds = cols["delivery_server"];
  schema_.serverTable = ds.count("server_id") && ds.count("hourly_quota") &&
                        ds.count("daily_quota") && ds.count("status");
  schema_.warmupPlanId = ds.count("warmup_plan_id") > 0;
  schema_.monthlyQuota = ds.count("monthly_quota") > 0;
  schema_.lastUpdated = ds.count("last_updated") > 0;
  const auto& usage = cols["delivery_server_usage_log"];
  schema_.usageLog = usage.count("server_id") && usage.count("date_added");
  const auto& dl = cols["campaign_delivery_log"];
  bool joinable = dl.count("server_id") && dl.count("campaign_id") && dl.count("subscriber_id");
  const auto& bl = cols["campaign_bounce_log"];
  schema_.bounceLog = joinable && bl.count("campaign_id") && bl.count("subscriber_id") &&
                      bl.count("bounce_type") && bl.count("date_added");
  const auto& cl = cols["campaign_complain_log"];
  schema_.complainLog =
      joinable && cl.count("campaign_id") && cl.count("subscriber_id") && cl.count("date_added");
  if (!schema_.serverTable) {
    error = "table " + prefix_ +
            "delivery_server with server_id, hourly_quota, daily_quota and status not found in "
            "database '" +
            params_.database + "' (is table_prefix right?)";
    return false;
  }
  return true;
}

std::string MailwizzClient::serverColumns() const {
  return std::string(
             "server_id, hostname, COALESCE(name, ''), status, hourly_quota, daily_quota, ") +
         (schema_.monthlyQuota ? "monthly_quota" : "0") + ", " +
         (schema_.warmupPlanId ? "warmup_plan_id" : "NULL");
}

bool MailwizzClient::readServers(const std::vector<long long>& ids,
                                 std::vector<MailwizzServer>& out, std::string& error) {
  out.clear();
  SqlRows rows = session_.query("SELECT " + serverColumns() + " FROM " + table("delivery_server") +
                                " WHERE server_id IN (" + idList(ids) + ") ORDER BY server_id");
  if (!rows.ok) {
    error = "cannot read delivery servers: " + rows.error;
    return false;
  }
  for (const auto& r : rows.rows) {
    MailwizzServer s;
    s.serverId = toInt(r[0]);
    s.hostname = r[1].value_or("");
    s.name = r[2].value_or("");
    s.status = r[3].value_or("");
    s.hourlyQuota = toInt(r[4]);
    s.dailyQuota = toInt(r[5]);
    s.monthlyQuota = toInt(r[6]);
    if (r[7]) s.warmupPlanId = toInt(r[7]);
    out.push_back(std::move(s));
  }
  return true;
}

bool MailwizzClient::readUsage(const std::vector<long long>& ids, std::int64_t sinceUnix,
                               std::vector<MailwizzUsage>& out, std::string& error) {
  out.clear();
  std::map<std::pair<long long, std::int64_t>, MailwizzUsage> byHour;
  const std::string since = "FROM_UNIXTIME(" + std::to_string(sinceUnix) + ")";
  const std::string hourOf = "UNIX_TIMESTAMP(DATE_FORMAT(%s.date_added, '%Y-%m-%d %H:00:00'))";
  auto hourExpr = [&](const std::string& alias) {
    std::string e = hourOf;
    e.replace(e.find("%s"), 2, alias);
    return e;
  };
  struct Part {
    bool present;
    std::string sql;
    long long MailwizzUsage::*field;
  };
  std::vector<Part> parts = {
      {schema_.usageLog,
       "SELECT u.server_id, " + hourExpr("u") + " AS h, COUNT(*) FROM " +
           table("delivery_server_usage_log") + " u WHERE u.server_id IN (" + idList(ids) +
           ") AND u.date_added >= " + since + " GROUP BY u.server_id, h",
       &MailwizzUsage::sent},
      {schema_.bounceLog,
       "SELECT d.server_id, " + hourExpr("b") + " AS h, COUNT(*) FROM " +
           table("campaign_bounce_log") + " b JOIN " + table("campaign_delivery_log") +
           " d ON d.campaign_id = b.campaign_id AND d.subscriber_id = b.subscriber_id "
           "WHERE d.server_id IN (" +
           idList(ids) + ") AND b.date_added >= " + since +
           " AND b.bounce_type IN ('hard', 'soft') GROUP BY d.server_id, h",
       &MailwizzUsage::bounced},
      {schema_.complainLog,
       "SELECT d.server_id, " + hourExpr("c") + " AS h, COUNT(*) FROM " +
           table("campaign_complain_log") + " c JOIN " + table("campaign_delivery_log") +
           " d ON d.campaign_id = c.campaign_id AND d.subscriber_id = c.subscriber_id "
           "WHERE d.server_id IN (" +
           idList(ids) + ") AND c.date_added >= " + since + " GROUP BY d.server_id, h",
       &MailwizzUsage::complaints},
  };
  for (const auto& p : parts) {
    if (!p.present) continue;
    SqlRows rows = session_.query(p.sql);
    if (!rows.ok) {
      error = "cannot count MailWizz usage: " + rows.error;
      return false;
    }
    for (const auto& r : rows.rows) {
      MailwizzUsage& u = byHour[{toInt(r[0]), toInt(r[1])}];
      u.serverId = toInt(r[0]);
      u.hour = toInt(r[1]);
      u.*(p.field) += toInt(r[2]);
    }
  }
  for (auto& kv : byHour) out.push_back(kv.second);
  return true;
}

bool MailwizzClient::applyChanges(const std::vector<MailwizzChange>& changes, Deadline deadline,
                                  std::string& error,
                                  const std::function<void(size_t)>& afterEach) {
  if (changes.empty()) return true;
  auto fail = [&](const std::string& why) {
    error = why;
    session_.rollback();
    return false;
  };
  if (!session_.begin(error)) return fail("cannot start a transaction: " + error);
  for (size_t i = 0; i < changes.size(); ++i) {
    const MailwizzChange& c = changes[i];
    const std::string id = std::to_string(c.expect.serverId);
    if (deadline.expired())
      return fail("deadline reached before server " + id + "; nothing written");
    SqlRows now = session_.query("SELECT " + serverColumns() + " FROM " + table("delivery_server") +
                                 " WHERE server_id = " + id + " FOR UPDATE");
    if (!now.ok) return fail("cannot lock server " + id + ": " + now.error);
    if (now.rows.size() != 1) return fail("server " + id + " disappeared while syncing");
    const auto& r = now.rows[0];
    if (r[7]) return fail("server " + id + " got a MailWizz warmup plan while syncing");
    if (r[3].value_or("") != c.expect.status || toInt(r[4]) != c.expect.hourlyQuota ||
        toInt(r[5]) != c.expect.dailyQuota || toInt(r[6]) != c.expect.monthlyQuota)
      return fail("server " + id + " was changed by someone else while syncing");
    std::string set;
    auto add = [&](const std::string& col, const std::string& value) {
      set += (set.empty() ? "" : ", ") + col + " = " + value;
    };
    if (c.status) add("status", session_.quote(*c.status));
    if (c.hourlyQuota) add("hourly_quota", std::to_string(*c.hourlyQuota));
    if (c.dailyQuota) add("daily_quota", std::to_string(*c.dailyQuota));
    if (c.monthlyQuota && schema_.monthlyQuota)
      add("monthly_quota", std::to_string(*c.monthlyQuota));
    if (set.empty()) continue;
    if (schema_.lastUpdated) add("last_updated", "UTC_TIMESTAMP()");
    std::string sql = "UPDATE " + table("delivery_server") + " SET " + set +
                      " WHERE server_id = " + id +
                      (schema_.warmupPlanId ? " AND warmup_plan_id IS NULL" : "");
    std::uint64_t affected = 0;
    if (!session_.exec(sql, error, &affected))
      return fail("cannot update server " + id + ": " + error);
    if (affected != 1)
      return fail("server " + id + " was not updated (" + std::to_string(affected) + " rows)");
    if (afterEach) afterEach(i);
  }
  if (deadline.expired()) return fail("deadline reached before COMMIT; nothing written");
  if (!session_.commit(error)) return fail("COMMIT failed: " + error);
  return true;
}

}  // namespace mxpulse::probes
