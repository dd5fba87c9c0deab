// SPDX-License-Identifier: Apache-2.0
#include "agent/config.hpp"

#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "agent/yaml_reader.hpp"

namespace mxpulse {

const JobConfig* AgentConfig::findJob(const std::string& name) const {
  for (const auto& j : jobs)
    if (j.name == name) return &j;
  return nullptr;
}

namespace {

bool validName(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  if (!(std::islower(static_cast<unsigned char>(s[0])) || std::isdigit(static_cast<unsigned char>(s[0]))))
    return false;
  for (char c : s)
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
          c == '_' || c == '-'))
      return false;
  return true;
}

bool validIp(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

std::string resolvePath(const std::string& path, const std::string& baseDir) {
  if (path.empty() || path[0] == '/' || baseDir.empty()) return path;
  return baseDir + "/" + path;
}

/// host:port or [v6]:port with a port in 1..65535.
bool validHostPort(const std::string& s) {
  size_t colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size()) return false;
  std::string host = s.substr(0, colon);
  if (host.front() == '[') {
    if (host.back() != ']') return false;
    unsigned char buf[16];
    if (inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), buf) != 1) return false;
  } else if (host.find(':') != std::string::npos) {
    return false;  // bare IPv6 must be bracketed
  }
  std::string port = s.substr(colon + 1);
  for (char c : port)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  if (port.size() > 5) return false;
  int p = std::stoi(port);
  return p >= 1 && p <= 65535;
}

/// A read-only query: one SELECT (or WITH ... SELECT) statement.
bool looksReadOnly(const std::string& query, std::string& why) {
  size_t i = 0;
  while (i < query.size() && std::isspace(static_cast<unsigned char>(query[i]))) ++i;
  std::string word;
  while (i < query.size() && std::isalpha(static_cast<unsigned char>(query[i])))
    word += static_cast<char>(std::tolower(static_cast<unsigned char>(query[i++])));
  if (word != "select" && word != "with") {
    why = "must be a single SELECT (or WITH ... SELECT) statement";
    return false;
  }
  std::string trimmed = query;
  while (!trimmed.empty() && (std::isspace(static_cast<unsigned char>(trimmed.back())) ||
                              trimmed.back() == ';'))
    trimmed.pop_back();
  if (trimmed.find(';') != std::string::npos) {
    why = "must be one statement (no ';' inside)";
    return false;
  }
  return true;
}

class ConfigParser {
 public:
  ConfigParser(const JobRegistry& registry, const LoadOptions& options, ConfigErrors& errors)
      : registry_(registry), options_(options), errors_(errors) {}

  std::optional<AgentConfig> parse(const YAML::Node& root, const std::string& path) {
    AgentConfig config;
    config.path = path;
    MapReader top(root, "", errors_);
    if (!top.ok()) return std::nullopt;
    parseAgent(top.node("agent"), config.agent);
    parseDns(top.node("dns"), config.dns);
    parseConnections(top.node("connections"), config);
    parseInventories(top.node("inventories"), config);
    // Before the jobs: a job's `alerts:` overrides the global policy.
    parseAlertsConfig(top.node("alerts"), config.alerts, errors_, options_.resolveSecrets);
    parseJobs(top.node("jobs"), config);
    top.finish();
    if (!errors_.empty()) return std::nullopt;
    return config;
  }

 private:
  void parseAgent(const YAML::Node& node, AgentSettings& a) {
    if (!node.IsDefined() || node.IsNull()) {
      applyPaths(a);
      return;
    }
    MapReader r(node, "agent", errors_);
    a.stateDb = r.str("state_db", a.stateDb);
    a.textfile = r.str("textfile", a.textfile);
    a.workers = static_cast<int>(r.integer("workers", static_cast<long long>(a.workers), 1, 64));
    a.defaultTimeout = r.duration("default_timeout", a.defaultTimeout);
    a.maxSplay = r.duration("max_splay", a.maxSplay);
    a.historyRetention = r.duration("history_retention", a.historyRetention);
    a.shutdownGrace = r.duration("shutdown_grace", a.shutdownGrace);
    a.logLevel = r.str("log_level", a.logLevel);
    a.splaySeed = r.str("splay_seed", a.splaySeed);
    if (a.logLevel != "debug" && a.logLevel != "info" && a.logLevel != "warning" &&
        a.logLevel != "error")
      errors_.add(r.node("log_level"), "agent.log_level", "must be debug, info, warning or error");
    if (a.historyRetention < std::chrono::hours(1))
      errors_.add(r.node("history_retention"), "agent.history_retention", "must be at least 1h");
    if (a.stateDb.empty()) errors_.add(r.node("state_db"), "agent.state_db", "must not be empty");
    if (!a.textfile.empty() && (a.textfile.size() < 5 ||
                                a.textfile.compare(a.textfile.size() - 5, 5, ".prom") != 0))
      errors_.add(r.node("textfile"), "agent.textfile",
                  "must end in .prom (node_exporter's textfile collector reads only *.prom)");
    r.finish();
    applyPaths(a);
  }

  void applyPaths(AgentSettings& a) {
    a.stateDb = resolvePath(a.stateDb, options_.baseDir);
    a.textfile = resolvePath(a.textfile, options_.baseDir);
    if (a.splaySeed.empty()) {
      char host[256] = {0};
      if (gethostname(host, sizeof host - 1) == 0) a.splaySeed = host;
    }
  }

  void parseDns(const YAML::Node& node, DnsSettings& d) {
    if (!node.IsDefined() || node.IsNull()) return;
    MapReader r(node, "dns", errors_);
    d.resolvers = r.strings("resolvers");
    YAML::Node list = node["resolvers"];
    for (size_t i = 0; i < d.resolvers.size(); ++i) {
      if (!validHostPort(d.resolvers[i]))
        errors_.add(list.IsSequence() ? list[i] : list, indexPath("dns.resolvers", i),
                    "'" + d.resolvers[i] + "' is not host:port (IPv6 as [::1]:53)");
    }
    d.timeout = r.duration("timeout", d.timeout);
    d.attempts = static_cast<int>(r.integer("attempts", static_cast<long long>(d.attempts), 1, 10));
    r.finish();
  }

  void parseConnections(const YAML::Node& node, AgentConfig& config) {
    if (!node.IsDefined() || node.IsNull()) return;
    if (!node.IsMap()) {
      errors_.add(node, "connections", "must be a mapping of name -> connection");
      return;
    }
    for (const auto& kv : node) {
      std::string name = kv.first.Scalar();
      std::string path = "connections." + name;
      if (!validName(name)) errors_.add(kv.first, path, "name must match [a-z0-9][a-z0-9_-]*");
      if (name == "state") errors_.add(kv.first, path, "'state' is reserved for the state DB");
      MapReader r(kv.second, path, errors_);
      ConnectionConfig c;
      c.name = name;
      std::string driver = r.str("driver", "mysql");
      if (driver == "sqlite") {
        c.driver = SqlDriver::Sqlite;
        c.path = resolvePath(r.str("path", std::string()), options_.baseDir);
        if (c.path.empty()) errors_.add(kv.second, path + ".path", "is required for sqlite");
      } else if (driver == "mysql" || driver == "mariadb") {
        c.driver = SqlDriver::Mysql;
        c.host = r.str("host", c.host);
        c.port = static_cast<int>(r.integer("port", static_cast<long long>(c.port), 1, 65535));
        c.socket = r.str("socket", std::string());
        c.user = r.str("user", std::string());
        c.database = r.str("database", std::string());
        c.password = r.secret("password", false, options_.resolveSecrets).value_or("");
        if (c.database.empty()) errors_.add(kv.second, path + ".database", "is required");
      } else {
        errors_.add(r.node("driver"), path + ".driver", "must be sqlite or mysql");
      }
      c.timeout = r.duration("timeout", c.timeout);
      r.finish();
      config.connections[name] = c;
    }
  }

  void parseInventories(const YAML::Node& node, AgentConfig& config) {
    if (!node.IsDefined() || node.IsNull()) return;
    if (!node.IsMap()) {
      errors_.add(node, "inventories", "must be a mapping of name -> inventory");
      return;
    }
    for (const auto& kv : node) {
      std::string name = kv.first.Scalar();
      std::string path = "inventories." + name;
      if (!validName(name)) errors_.add(kv.first, path, "name must match [a-z0-9][a-z0-9_-]*");
      MapReader r(kv.second, path, errors_);
      InventoryConfig inv;
      inv.name = name;
      inv.line = kv.first.Mark().line + 1;
      auto kindName = r.optString("kind", true);
      if (kindName) {
        auto kind = parseInventoryKind(*kindName);
        if (!kind)
          errors_.add(r.node("kind"), path + ".kind",
                      "must be domains, ips, endpoints or delivery_servers");
        else
          inv.kind = *kind;
      }
      YAML::Node items = r.node("items");
      auto connection = r.optString("connection", false);
      auto query = r.optString("query", false);
      inv.timeout = r.duration("timeout", inv.timeout);
      bool hasItems = items.IsDefined() && !items.IsNull();
      if (hasItems && (connection || query)) {
        errors_.add(items, path, "give either items or connection+query, not both");
      } else if (!hasItems && !(connection && query)) {
        errors_.add(kv.second, path, "needs items, or connection and query");
      }
      if (connection) {
        inv.connection = *connection;
        if (*connection != "state" && !config.connections.count(*connection))
          errors_.add(r.node("connection"), path + ".connection",
                      "unknown connection '" + *connection + "' (declare it under connections)");
      }
      if (query) {
        inv.query = *query;
        std::string why;
        if (!looksReadOnly(*query, why)) errors_.add(r.node("query"), path + ".query", why);
      }
      if (hasItems && kindName) parseItems(items, path + ".items", inv);
      r.finish();
      config.inventories[name] = inv;
    }
  }

  void parseItems(const YAML::Node& items, const std::string& path, InventoryConfig& inv) {
    if (!items.IsSequence()) {
      errors_.add(items, path, "must be a list");
      return;
    }
    const std::string keyField = inventoryKeyField(inv.kind);
    std::set<std::string> seen;
    for (size_t i = 0; i < items.size(); ++i) {
      std::string ipath = indexPath(path, i);
      InventoryItem item;
      const YAML::Node& n = items[i];
      if (n.IsScalar()) {
        item.fields[keyField] = {n.Scalar()};  // "- example.com" shorthand
      } else {
        MapReader r(n, ipath, errors_);
        if (!r.ok()) continue;
        for (const auto& field : inventoryFields(inv.kind)) {
          auto values = r.strings(field);
          if (!values.empty()) item.fields[field] = values;
        }
        r.finish();
      }
      const std::string& key = item.first(keyField);
      if (key.empty()) {
        errors_.add(n, ipath + "." + keyField, "is required");
        continue;
      }
      if (!seen.insert(key).second) errors_.add(n, ipath, "duplicate " + keyField + " '" + key + "'");
      for (const char* ipField : {"ip", "ips"}) {
        for (const auto& ip : item.all(ipField))
          if (!validIp(ip)) errors_.add(n, ipath + "." + ipField, "'" + ip + "' is not an IP address");
      }
      if (inv.kind == InventoryKind::Endpoints && !validHostPort(key))
        errors_.add(n, ipath + ".endpoint", "'" + key + "' is not host:port");
      inv.items.push_back(std::move(item));
    }
  }

  void parseJobs(const YAML::Node& node, AgentConfig& config) {
    if (!node.IsDefined() || node.IsNull()) {
      errors_.add(node.IsDefined() ? node : YAML::Node(), "jobs", "no jobs configured");
      return;
    }
    if (!node.IsSequence()) {
      errors_.add(node, "jobs", "must be a list of jobs");
      return;
    }
    if (node.size() == 0) {
      errors_.add(node, "jobs", "no jobs configured");
      return;
    }
    JobBuildEnv env;
    for (const auto& kv : config.inventories) env.inventories[kv.first] = kv.second.kind;
    env.resolvers = config.dns.resolvers;
    env.resolveSecrets = options_.resolveSecrets;
    env.stateDb = config.agent.stateDb;
    std::map<std::string, int> names;
    for (size_t i = 0; i < node.size(); ++i) {
      std::string path = indexPath("jobs", i);
      // Name the job in every message about it: "jobs[3](dnsbl).every".
      if (node[i].IsMap() && node[i]["name"].IsScalar()) path += "(" + node[i]["name"].Scalar() + ")";
      MapReader r(node[i], path, errors_);
      if (!r.ok()) continue;
      JobConfig job;
      auto name = r.optString("name", true);
      auto kind = r.optString("kind", true);
      if (name) {
        job.name = *name;
        if (!validName(*name))
          errors_.add(r.node("name"), path + ".name", "must match [a-z0-9][a-z0-9_-]* (max 64)");
        int line = node[i]["name"].Mark().line + 1;
        auto [it, inserted] = names.emplace(*name, line);
        if (!inserted)
          errors_.add(r.node("name"), path + ".name",
                      "duplicate job name (first used on line " + std::to_string(it->second) + ")");
      }
      auto every = r.optDuration("every", false);
      auto cronText = r.optString("cron", false);
      if (every && cronText) {
        errors_.add(r.node("cron"), path, "give either every or cron, not both");
      } else if (every) {
        if (every->count() < 1000)
          errors_.add(r.node("every"), path + ".every", "must be at least 1s");
        job.schedule.every = every;
      } else if (cronText) {
        std::string error;
        job.schedule.cron = CronExpr::parse(*cronText, error);
        if (!job.schedule.cron) errors_.add(r.node("cron"), path + ".cron", error);
      } else if (!r.has("every")) {
        errors_.add(node[i], path, "needs a schedule: every: 5m or cron: \"0 6 * * *\"");
      }
      job.timeout = r.duration("timeout", config.agent.defaultTimeout);
      if (every && job.timeout >= *every && r.has("timeout"))
        errors_.add(r.node("timeout"), path + ".timeout", "must be shorter than every");
      if (every && job.timeout >= *every && !r.has("timeout"))
        job.timeout = *every / 2;  // the default must not exceed a short interval
      if (job.timeout.count() <= 0) errors_.add(r.node("timeout"), path + ".timeout", "must be > 0");
      job.alerts = parseJobAlerts(r.node("alerts"), path + ".alerts", config.alerts.policy, errors_);
      YAML::Node params = r.node("params");
      if (kind) {
        job.kind = *kind;
        const JobKind* jk = registry_.find(*kind);
        if (!jk) {
          std::string known;
          for (const auto& k : registry_.names()) known += (known.empty() ? "" : ", ") + k;
          errors_.add(r.node("kind"), path + ".kind",
                      "unknown job kind '" + *kind + "' (known: " + known + ")");
        } else {
          YAML::Node p = params.IsDefined() && !params.IsNull() ? params : YAML::Node(YAML::NodeType::Map);
          MapReader pr(p, path + ".params", errors_);
          if (pr.ok()) {
            size_t before = errors_.size();
            auto created = jk->create(pr, env);
            pr.finish();
            if (created && errors_.size() == before) job.job = std::move(created);
            if (job.job) {
              for (const auto& inv : job.job->inventories())
                if (!config.inventories.count(inv))
                  errors_.add(p, path + ".params", "unknown inventory '" + inv + "'");
            }
          }
        }
      }
      r.finish();
      config.jobs.push_back(std::move(job));
    }
  }

  const JobRegistry& registry_;
  const LoadOptions& options_;
  ConfigErrors& errors_;
};

std::string directoryOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

LoadResult loadConfigText(const std::string& text, const std::string& name,
                          const JobRegistry& registry, const LoadOptions& options) {
  LoadResult result{std::nullopt, ConfigErrors(name)};
  if (text.size() > kMaxConfigBytes) {
    result.errors.addFile("config is " + std::to_string(text.size() / 1024) +
                          " KiB; the limit is " + std::to_string(kMaxConfigBytes / 1024 / 1024) +
                          " MiB (is this the right file?)");
    return result;
  }
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    result.errors.add(e.mark.is_null() ? 0 : e.mark.line + 1, e.mark.is_null() ? 0 : e.mark.column + 1,
                      "", "YAML syntax error: " + e.msg);
    return result;
  }
  if (!root.IsMap()) {
    result.errors.addFile(root.IsNull() ? "config is empty"
                                        : "config must be a YAML mapping with agent:, jobs: ... "
                                          "at the top level (found a " +
                                              std::string(root.IsSequence() ? "list" : "scalar") +
                                              ")");
    return result;
  }
  ConfigParser parser(registry, options, result.errors);
  try {
    result.config = parser.parse(root, name);
  } catch (const YAML::Exception& e) {
    // yaml-cpp throws on some malformed inputs (e.g. aliases to nothing).
    result.errors.add(e.mark.is_null() ? 0 : e.mark.line + 1, e.mark.is_null() ? 0 : e.mark.column + 1,
                      "", e.msg);
    result.config.reset();
  }
  return result;
}

LoadResult loadConfigFile(const std::string& path, const JobRegistry& registry,
                          const LoadOptions& options) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    LoadResult r{std::nullopt, ConfigErrors(path)};
    r.errors.addFile("cannot open config: " + std::string(strerror(errno)) +
                     " (give the path with --config or set MXPULSE_CONFIG)");
    return r;
  }
  if (!S_ISREG(st.st_mode)) {
    LoadResult r{std::nullopt, ConfigErrors(path)};
    r.errors.addFile("config is not a regular file");
    return r;
  }
  if (static_cast<size_t>(st.st_size) > kMaxConfigBytes) {
    LoadResult r{std::nullopt, ConfigErrors(path)};
    r.errors.addFile("config is " + std::to_string(st.st_size / 1024) + " KiB; the limit is " +
                     std::to_string(kMaxConfigBytes / 1024 / 1024) + " MiB (is this the right file?)");
    return r;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadResult r{std::nullopt, ConfigErrors(path)};
    r.errors.addFile("cannot read config: " + std::string(strerror(errno)) +
                     " (check the file's permissions for the mxpulse user)");
    return r;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  LoadOptions opts = options;
  if (opts.baseDir.empty()) opts.baseDir = directoryOf(path);
  return loadConfigText(buffer.str(), path, registry, opts);
}

}  // namespace mxpulse
