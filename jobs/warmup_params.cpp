// SPDX-License-Identifier: Apache-2.0
// parseWarmupParams: the warmup job's YAML params (documented in
// etc/agent.yaml). Every key goes through MapReader; unknown keys are errors.
#include <set>

#include "agent/yaml_reader.hpp"
#include "jobs/warmup.hpp"

namespace mxpulse::jobs {

namespace {

std::int64_t seconds(Millis m) {
  return std::chrono::duration_cast<std::chrono::seconds>(m).count();
}

std::optional<IpState> readState(MapReader& r, const std::string& key, IpState fallback) {
  std::string text = r.str(key, "");
  if (text.empty()) return fallback;
  auto s = parseIpState(text);
  if (!s || *s == IpState::Retiring || *s == IpState::Resting) {
    r.errors().add(r.node(key), r.childPath(key),
                   "must be warming, active, standby or quarantine, got '" + text + "'");
    return std::nullopt;
  }
  return s;
}

void parseServers(MapReader& r, WarmupParams& p) {
  YAML::Node n = r.node("servers");
  if (!n.IsDefined() || n.IsNull()) return;
  if (!n.IsSequence()) {
    r.errors().add(n, r.childPath("servers"), "must be a list of {ip, server_id}");
    return;
  }
  std::set<std::string> ips;
  std::set<long long> ids;
  for (size_t i = 0; i < n.size(); ++i) {
    std::string path = indexPath(r.childPath("servers"), i);
    MapReader s(n[i], path, r.errors());
    if (!s.ok()) continue;
    WarmupServer srv;
    std::string ip = s.optString("ip", true).value_or("");
    srv.ip = canonicalIp(ip);
    if (!ip.empty() && srv.ip.empty())
      r.errors().add(n[i]["ip"], path + ".ip", "'" + ip + "' is not an IP address");
    srv.serverId = s.optInteger("server_id", 1, 99999999999LL, true).value_or(0);
    srv.plan = s.str("plan", p.defaultPlan);
    if (auto st = readState(s, "initial_state", p.initialState)) srv.initialState = *st;
    s.finish();
    if (!srv.ip.empty() && !ips.insert(srv.ip).second)
      r.errors().add(n[i], path + ".ip", "IP " + srv.ip + " is listed twice");
    if (srv.serverId && !ids.insert(srv.serverId).second)
      r.errors().add(n[i], path + ".server_id",
                     "server " + std::to_string(srv.serverId) + " is listed twice");
    if (!p.plans.count(srv.plan))
      r.errors().add(n[i], path + ".plan", "no plan named '" + srv.plan + "'");
    p.servers.push_back(srv);
  }
}

void parseLifecycle(MapReader& top, LifecyclePolicy& pol) {
  YAML::Node n = top.node("lifecycle");
  if (!n.IsDefined() || n.IsNull()) return;
  MapReader r(n, top.childPath("lifecycle"), top.errors());
  if (!r.ok()) return;
  pol.activeFor = seconds(r.duration("retire_after", std::chrono::seconds(pol.activeFor)));
  pol.retireFor = seconds(r.duration("retire_for", std::chrono::seconds(pol.retireFor)));
  pol.restFor = seconds(r.duration("rest_for", std::chrono::seconds(pol.restFor)));
  pol.releaseAfter = seconds(r.duration("release_after", std::chrono::seconds(pol.releaseAfter)));
  pol.standbyColdAfter =
      seconds(r.duration("standby_cold_after", std::chrono::seconds(pol.standbyColdAfter)));
  r.finish();
}

void parseHealth(MapReader& top, WarmupParams& p) {
  LifecyclePolicy& pol = p.policy;
  YAML::Node n = top.node("health");
  if (!n.IsDefined() || n.IsNull()) return;
  MapReader r(n, top.childPath("health"), top.errors());
  if (!r.ok()) return;
  p.healthSource = r.str("source", p.healthSource);
  if (p.healthSource != "accounting" && p.healthSource != "mailwizz")
    r.errors().add(r.node("source"), r.childPath("source"), "must be accounting or mailwizz");
  pol.window = seconds(r.duration("window", std::chrono::seconds(pol.window)));
  if (pol.window < 3600)
    r.errors().add(r.node("window"), r.childPath("window"), "must be at least 1h");
  pol.minVolume = r.integer("min_volume", pol.minVolume, 1, 1000000000);
  pol.bounceLimit = r.percent("bounce_rate", pol.bounceLimit * 100) / 100;
  pol.complaintLimit = r.percent("complaint_rate", pol.complaintLimit * 100) / 100;
  pol.severeFactor = r.number("severe_factor", pol.severeFactor, 1, 100);
  std::string onSevere = r.str("on_severe", "rollback");
  if (onSevere == "quarantine")
    pol.severeQuarantines = true;
  else if (onSevere != "rollback")
    r.errors().add(r.node("on_severe"), r.childPath("on_severe"), "must be rollback or quarantine");
  pol.rollbackDays = static_cast<int>(r.integer("rollback_days", pol.rollbackDays, 1, 365));
  r.finish();
}

void parseAccounting(MapReader& top, WarmupParams& p) {
  YAML::Node n = top.node("accounting");
  if (!n.IsDefined() || n.IsNull()) return;
  MapReader r(n, top.childPath("accounting"), top.errors());
  if (!r.ok()) return;
  p.accountingFiles = r.strings("files");
  for (const auto& f : p.accountingFiles)
    if (f.empty() || f[0] != '/')
      r.errors().add(r.node("files"), r.childPath("files"), "'" + f + "' must be an absolute path");
  p.ipField = r.str("ip_field", p.ipField);
  p.timeField = r.str("time_field", p.timeField);
  p.maxReadBytes = static_cast<std::uint64_t>(
      r.integer("max_read_bytes", static_cast<long long>(p.maxReadBytes), 4096, 1LL << 34));
  r.finish();
}

void parseMailwizz(MapReader& top, WarmupParams& p, const JobBuildEnv& env) {
  YAML::Node n = top.node("mailwizz");
  if (!n.IsDefined() || n.IsNull()) {
    top.errors().add(top.self(), top.childPath("mailwizz"),
                     "is required (the MailWizz database; sync: false to keep it read-only)");
    return;
  }
  MapReader r(n, top.childPath("mailwizz"), top.errors());
  if (!r.ok()) return;
  p.sync = r.boolean("sync", p.sync);
  p.mysql.host = r.str("host", p.mysql.host);
  p.mysql.port = static_cast<int>(r.integer("port", p.mysql.port, 1, 65535));
  p.mysql.socket = r.str("socket", "");
  p.mysql.user = r.optString("user", true).value_or("");
  p.mysql.password = r.secret("password", false, env.resolveSecrets).value_or("");
  p.mysql.database = r.optString("database", true).value_or("");
  p.tablePrefix = r.str("table_prefix", p.tablePrefix);
  if (!probes::validTablePrefix(p.tablePrefix))
    r.errors().add(r.node("table_prefix"), r.childPath("table_prefix"),
                   "must match ^[a-z0-9_]*$ (like MailWizz's installer)");
  std::string drift = r.str("on_drift", "report");
  if (drift == "overwrite")
    p.onDrift = DriftPolicy::Overwrite;
  else if (drift != "report")
    r.errors().add(r.node("on_drift"), r.childPath("on_drift"), "must be report or overwrite");
  r.finish();
}

}  // namespace

std::optional<WarmupParams> parseWarmupParams(MapReader& r, const JobBuildEnv& env) {
  size_t before = r.errors().size();
  WarmupParams p;
  p.stateDb = r.str("state_db", env.stateDb);
  p.dryRun = r.boolean("dry_run", false);
  p.plans = parseWarmupPlans(r, "plans");
  p.defaultPlan = r.str("default_plan", p.defaultPlan);
  if (!p.plans.count(p.defaultPlan))
    r.errors().add(r.node("default_plan"), r.childPath("default_plan"),
                   "no plan named '" + p.defaultPlan + "'");
  if (auto s = readState(r, "initial_state", p.initialState)) p.initialState = *s;
  parseServers(r, p);
  p.serversInventory = r.str("servers_inventory", "");
  if (!p.serversInventory.empty()) {
    auto it = env.inventories.find(p.serversInventory);
    if (it == env.inventories.end())
      r.errors().add(r.node("servers_inventory"), r.childPath("servers_inventory"),
                     "no inventory named '" + p.serversInventory + "'");
    else if (it->second != InventoryKind::DeliveryServers)
      r.errors().add(r.node("servers_inventory"), r.childPath("servers_inventory"),
                     "inventory '" + p.serversInventory + "' must be of kind delivery_servers");
  }
  if (p.servers.empty() && p.serversInventory.empty())
    r.errors().add(r.self(), r.path(), "give servers (ip, server_id) or servers_inventory");
  YAML::Node aq = r.node("active_quota");
  if (aq.IsDefined() && !aq.IsNull()) {
    MapReader q(aq, r.childPath("active_quota"), r.errors());
    PlanDay d;
    d.daily = q.integer("daily", 0, 0, 99999999999LL);
    d.hourly = q.integer("hourly", 0, 0, 99999999999LL);
    q.finish();
    p.policy.activeQuota = d;
  }
  p.monthlyQuota = r.boolean("monthly_quota", false);
  parseLifecycle(r, p.policy);
  parseHealth(r, p);
  parseAccounting(r, p);
  if (p.healthSource == "accounting" && p.accountingFiles.empty())
    r.errors().add(r.self(), r.childPath("accounting.files"),
                   "health.source is accounting: list the PowerMTA accounting files "
                   "(e.g. /var/log/pmta/acct*.csv), or use health.source: mailwizz");
  parseMailwizz(r, p, env);
  if (p.stateDb.empty())
    r.errors().add(r.self(), r.childPath("state_db"), "the agent's state DB path is unknown");
  if (r.errors().size() != before) return std::nullopt;
  return p;
}

}  // namespace mxpulse::jobs
