// SPDX-License-Identifier: Apache-2.0
// etc/agent.yaml -> typed structs. Loading is strict (unknown keys, wrong
// types, bad durations or cron expressions, duplicate names are errors) and
// reports every error at once as `file:line:col: path: message`.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/config_errors.hpp"
#include "agent/duration.hpp"
#include "agent/job.hpp"
#include "agent/output/alert_config.hpp"
#include "agent/schedule.hpp"

namespace mxpulse {

struct AgentSettings {
  std::string stateDb = "/var/lib/mxpulse/state.db";
  std::string textfile = "/var/lib/prometheus/node-exporter/mxpulse.prom";  ///< "" = off
  int workers = 4;
  Millis defaultTimeout = std::chrono::seconds(30);
  Millis maxSplay = std::chrono::seconds(60);
  Millis historyRetention = std::chrono::hours(24 * 30);
  Millis shutdownGrace = std::chrono::seconds(10);
  std::string logLevel = "info";
  std::string splaySeed;  ///< defaults to the host name
};

struct DnsSettings {
  std::vector<std::string> resolvers;  ///< host:port, [v6]:port
  Millis timeout = std::chrono::seconds(2);
  int attempts = 3;
};

enum class SqlDriver { Sqlite, Mysql };

struct ConnectionConfig {
  std::string name;
  SqlDriver driver = SqlDriver::Sqlite;
  std::string path;  ///< sqlite: file ("" = the state DB, opened read-only)
  std::string host = "127.0.0.1";
  int port = 3306;
  std::string socket;
  std::string user;
  std::string password;  ///< resolved secret; never logged
  std::string database;
  Millis timeout = std::chrono::seconds(5);
};

struct InventoryConfig {
  std::string name;
  InventoryKind kind = InventoryKind::Domains;
  std::vector<InventoryItem> items;  ///< static items (when no query)
  std::string connection;            ///< SQL source (empty for static)
  std::string query;
  Millis timeout = std::chrono::seconds(10);
  int line = 0;  ///< where it was declared, for messages
};

struct JobConfig {
  std::string name;
  std::string kind;
  Schedule schedule;
  Millis timeout{0};
  std::shared_ptr<Job> job;
  JobAlertConfig alerts;  ///< the job's optional `alerts:` overrides, merged
};

struct AgentConfig {
  std::string path;
  AgentSettings agent;
  DnsSettings dns;
  std::map<std::string, ConnectionConfig> connections;
  std::map<std::string, InventoryConfig> inventories;
  std::vector<JobConfig> jobs;
  AlertsConfig alerts;  ///< top-level `alerts:` (policy, telegram, rules)

  const JobConfig* findJob(const std::string& name) const;
};

struct LoadOptions {
  bool resolveSecrets = true;
  /// Relative state_db/textfile paths resolve against this directory
  /// (the config file's directory by default).
  std::string baseDir;
};

struct LoadResult {
  std::optional<AgentConfig> config;
  ConfigErrors errors;
};

/// Reads and validates a config file. Never throws for bad input.
LoadResult loadConfigFile(const std::string& path, const JobRegistry& registry,
                          const LoadOptions& options = {});
/// Same, from text already in memory (`name` is used in messages).
LoadResult loadConfigText(const std::string& text, const std::string& name,
                          const JobRegistry& registry, const LoadOptions& options = {});

/// Largest config file accepted; a bigger one is almost certainly a mistake.
constexpr size_t kMaxConfigBytes = 4 * 1024 * 1024;

}  // namespace mxpulse
