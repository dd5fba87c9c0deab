// SPDX-License-Identifier: Apache-2.0
#include "jobs/warmup_cli.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <set>

#include "agent/app.hpp"
#include "agent/config.hpp"
#include "agent/inventory.hpp"
#include "agent/report.hpp"
#include "agent/runner.hpp"
#include "agent/store/sqlite_db.hpp"
#include "jobs/warmup.hpp"

namespace mxpulse::jobs {

namespace {

std::int64_t unixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string operatorName() {
  for (const char* var : {"SUDO_USER", "USER", "LOGNAME"})
    if (const char* v = std::getenv(var); v && *v) return v;
  return "uid " + std::to_string(getuid());
}

std::string pad(std::string s, size_t n) {
  if (s.size() < n) s.resize(n, ' ');
  return s + " ";
}

std::string jsonLine(const std::vector<std::pair<std::string, Json>>& fields) {
  Json o = Json::object();
  for (const auto& [k, v] : fields) o.set(k, v);
  return o.dump();
}

/// The IPs configured in warmup jobs (static servers lists), canonical.
std::map<std::string, std::string> configuredIps(const AgentConfig& config) {
  std::map<std::string, std::string> ips;  // ip -> job
  for (const auto& j : config.jobs)
    if (const WarmupParams* p = j.job ? warmupParamsOf(*j.job) : nullptr)
      for (const auto& s : p->servers) ips.emplace(s.ip, j.name);
  return ips;
}

bool openReadOnly(const AgentConfig& config, SqliteDb& db) {
  std::string error;
  if (access(config.agent.stateDb.c_str(), F_OK) != 0) {
    std::cerr << "no state DB at " << config.agent.stateDb
              << " yet: run `mxpulse once` or start the daemon first\n";
    return false;
  }
  if (!db.open(config.agent.stateDb, SqliteDb::Mode::ReadOnly, error)) {
    std::cerr << error << "\n";
    return false;
  }
  return true;
}

int cmdList(const AgentConfig& config, bool json) {
  SqliteDb db;
  if (!openReadOnly(config, db)) return kExitRuntime;
  std::string error;
  SqliteStmt st = db.prepare(
      "SELECT ip, state, since, cause, reason, actor, COALESCE(plan, ''), COALESCE(day, 0) "
      "FROM v_warmup_ips ORDER BY ip",
      error);
  if (!st) {
    std::cerr << "cannot read IP states: " << error << "\n";
    return kExitRuntime;
  }
  auto configured = configuredIps(config);
  std::set<std::string> seen;
  if (!json)
    std::cout << pad("IP", 39) << pad("STATE", 10) << pad("SINCE", 20) << pad("PLAN DAY", 14)
              << "REASON\n";
  while (st.step() == SQLITE_ROW) {
    std::string ip = st.text(0);
    seen.insert(ip);
    std::string plan = st.text(6);
    long long day = st.int64(7);
    if (json) {
      std::cout << jsonLine({{"ip", ip},
                             {"state", st.text(1)},
                             {"since", static_cast<long long>(st.int64(2))},
                             {"cause", st.text(3)},
                             {"reason", st.text(4)},
                             {"actor", st.text(5)},
                             {"plan", plan.empty() ? Json() : Json(plan)},
                             {"plan_day", plan.empty() ? Json() : Json(day)},
                             {"configured", configured.count(ip) > 0}})
                << "\n";
    } else {
      std::cout << pad(ip, 39) << pad(st.text(1), 10) << pad(isoTime(st.int64(2)), 20)
                << pad(plan.empty() ? "-" : plan + " " + std::to_string(day), 14) << st.text(4)
                << (st.text(5) == "operator" ? " (operator)" : "")
                << (configured.count(ip) ? "" : " [not in config]") << "\n";
    }
  }
  for (const auto& [ip, job] : configured) {
    if (seen.count(ip)) continue;
    if (json)
      std::cout << jsonLine({{"ip", ip}, {"state", Json()}, {"configured", true}}) << "\n";
    else
      std::cout << pad(ip, 39) << pad("-", 10) << pad("-", 20) << pad("-", 14)
                << "not evaluated yet (job " << job << " has not run)\n";
  }
  return 0;
}

int cmdHistory(const AgentConfig& config, const std::vector<std::string>& args, bool json) {
  if (args.size() != 1) {
    std::cerr << "usage: mxpulse ip history IP\n";
    return kExitUsage;
  }
  std::string ip = canonicalIp(args[0]);
  if (ip.empty()) {
    std::cerr << "'" << args[0] << "' is not an IP address\n";
    return kExitUsage;
  }
  SqliteDb db;
  if (!openReadOnly(config, db)) return kExitRuntime;
  std::string error;
  SqliteStmt st = db.prepare(
      "SELECT at, COALESCE(from_state, ''), to_state, cause, reason, actor, actor_name "
      "FROM warmup_ip_transitions WHERE ip = ? ORDER BY id",
      error);
  if (!st) {
    std::cerr << "cannot read transitions: " << error << "\n";
    return kExitRuntime;
  }
  st.bind(1, ip);
  while (st.step() == SQLITE_ROW) {
    if (json) {
      std::string from = st.text(1);
      std::cout << jsonLine({{"ip", ip},
                             {"at", static_cast<long long>(st.int64(0))},
                             {"from", from.empty() ? Json() : Json(from)},
                             {"to", st.text(2)},
                             {"cause", st.text(3)},
                             {"reason", st.text(4)},
                             {"actor", st.text(5)},
                             {"actor_name", st.text(6)}})
                << "\n";
    } else {
      std::string from = st.text(1).empty() ? "(new)" : st.text(1);
      std::cout << isoTime(st.int64(0)) << "  " << pad(from, 10) << "-> " << pad(st.text(2), 10)
                << st.text(5) << (st.text(6).empty() ? "" : " " + st.text(6)) << ": " << st.text(4)
                << "\n";
    }
  }
  return 0;
}

int cmdSet(const AgentConfig& config, const std::vector<std::string>& args) {
  std::vector<std::string> pos;
  std::string reason, plan;
  for (size_t i = 0; i < args.size(); ++i) {
    if ((args[i] == "--reason" || args[i] == "--plan") && i + 1 < args.size()) {
      (args[i] == "--reason" ? reason : plan) = args[i + 1];
      ++i;
    } else if (args[i].rfind("--reason=", 0) == 0) {
      reason = args[i].substr(9);
    } else if (args[i].rfind("--plan=", 0) == 0) {
      plan = args[i].substr(7);
    } else if (!args[i].empty() && args[i][0] == '-') {
      std::cerr << "ip set: unknown option " << args[i] << "\n";
      return kExitUsage;
    } else {
      pos.push_back(args[i]);
    }
  }
  if (pos.size() != 2 || reason.empty()) {
    std::cerr << "usage: mxpulse ip set IP STATE --reason TEXT [--plan NAME]\n"
                 "  STATE: active, retiring, resting, warming, quarantine, standby\n";
    return kExitUsage;
  }
  std::string ip = canonicalIp(pos[0]);
  if (ip.empty()) {
    std::cerr << "'" << pos[0] << "' is not an IP address\n";
    return kExitUsage;
  }
  auto state = parseIpState(pos[1]);
  if (!state) {
    std::cerr << "unknown state '" << pos[1]
              << "' (active, retiring, resting, warming, quarantine, standby)\n";
    return kExitUsage;
  }
  // The plan for WARMING: --plan, else the IP's plan in the config.
  const WarmupParams* params = nullptr;
  for (const auto& j : config.jobs)
    if (const WarmupParams* p = j.job ? warmupParamsOf(*j.job) : nullptr)
      for (const auto& s : p->servers)
        if (s.ip == ip) {
          params = p;
          if (plan.empty()) plan = s.plan;
        }
  if (!params) std::cerr << "warning: " << ip << " is not in the servers list of any warmup job\n";
  if (plan.empty()) plan = params ? params->defaultPlan : "default";
  if (params && !params->plans.count(plan)) {
    std::cerr << "no plan named '" << plan << "' in the warmup job\n";
    return kExitUsage;
  }
  std::string previous, error;
  if (!operatorSetIpState(config.agent.stateDb, ip, *state, reason, operatorName(), plan, unixNow(),
                          previous, error)) {
    std::cerr << "cannot set the state of " << ip << ": " << error << "\n";
    return kExitRuntime;
  }
  std::cout << ip << ": " << (previous.empty() ? "(new)" : previous) << " -> "
            << ipStateName(*state) << " (operator " << operatorName() << "): " << reason << "\n";
  std::cout << "MailWizz follows at the next run of the warmup job";
  if (*state == IpState::Warming) std::cout << " (plan " << plan << ", day 1)";
  std::cout << "; quota changes take effect within about 5 minutes (MailWizz's cache)\n";
  return 0;
}

int cmdPlan(const AgentConfig& config, const std::vector<std::string>& names, bool json) {
  std::vector<JobConfig> jobs;
  for (const auto& j : config.jobs) {
    if (!j.job || !warmupParamsOf(*j.job)) continue;
    if (!names.empty() && std::find(names.begin(), names.end(), j.name) == names.end()) continue;
    JobConfig copy = j;
    copy.job = warmupDryRunCopy(*j.job);
    jobs.push_back(std::move(copy));
  }
  for (const auto& n : names)
    if (!config.findJob(n) || !warmupParamsOf(*config.findJob(n)->job)) {
      std::cerr << "no warmup job named '" << n << "' in " << config.path << "\n";
      return kExitUsage;
    }
  if (jobs.empty()) {
    std::cerr << "no warmup job in " << config.path << "\n";
    return kExitConfig;
  }
  InventoryService inventories(config);
  if (access(config.agent.stateDb.c_str(), R_OK) == 0)
    inventories.attachCache(config.agent.stateDb);
  std::atomic<bool> stopping{false};
  Runner runner(
      inventories, [] { return std::chrono::system_clock::now(); }, stopping);
  std::vector<ReportLine> all;
  for (const auto& j : jobs) {
    RunRecord rec = runner.run(j);
    for (auto& l : reportLines(rec)) {
      std::cout << (json ? formatJsonLine(l) : formatTextLine(l)) << "\n";
      all.push_back(std::move(l));
    }
  }
  if (!json) std::cout << "(dry run: nothing was written to the state DB or to MailWizz)\n";
  return exitCodeFor(all);
}

}  // namespace

const char* ipCommandHelp() {
  return "  ip list              every sending IP's lifecycle state, plan day and reason\n"
         "  ip history IP        the IP's transitions (time, from, to, actor, reason)\n"
         "  ip set IP STATE --reason TEXT [--plan NAME]\n"
         "                       move an IP by hand (active, retiring, resting, warming,\n"
         "                       quarantine, standby); recorded as the operator\n"
         "  ip plan [JOB...]     dry run of the warmup job(s): what would change in the\n"
         "                       lifecycle and in MailWizz; writes nothing\n";
}

int ipCommand(const std::string& configPath, const std::vector<std::string>& args, bool json) {
  if (args.empty() || args[0] == "--help" || args[0] == "help") {
    std::cout << "usage: mxpulse [--config PATH] [--json] ip COMMAND\n\n" << ipCommandHelp();
    return args.empty() ? kExitUsage : 0;
  }
  JobRegistry registry;
  registerBuiltinJobs(registry);
  LoadResult r = loadConfigFile(configPath, registry);
  if (!r.config) {
    for (const auto& e : r.errors.errors()) std::cerr << e << "\n";
    std::cerr << r.errors.size() << " error(s) in " << configPath << "\n";
    return kExitConfig;
  }
  std::vector<std::string> rest(args.begin() + 1, args.end());
  const std::string& sub = args[0];
  if (sub == "list") return cmdList(*r.config, json);
  if (sub == "history") return cmdHistory(*r.config, rest, json);
  if (sub == "set") return cmdSet(*r.config, rest);
  if (sub == "plan") return cmdPlan(*r.config, rest, json);
  std::cerr << "unknown ip command '" << sub << "'; try: mxpulse ip --help\n";
  return kExitUsage;
}

}  // namespace mxpulse::jobs
