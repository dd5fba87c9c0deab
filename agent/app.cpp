// SPDX-License-Identifier: Apache-2.0
#include "agent/app.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

#include "agent/adhoc.hpp"
#include "agent/config.hpp"
#include "agent/inventory.hpp"
#include "agent/log.hpp"
#include "agent/output/result_sink.hpp"
#include "agent/report.hpp"
#include "agent/runner.hpp"
#include "agent/scheduler.hpp"
#include "agent/systemd_notify.hpp"
#include "agent/yaml_reader.hpp"
#include "jobs/warmup_cli.hpp"

#ifndef MXPULSE_VERSION
#define MXPULSE_VERSION "0.0.0-dev"
#endif

namespace mxpulse {

namespace {

constexpr const char* kDefaultConfig = "/etc/mxpulse/agent.yaml";

struct GlobalOptions {
  std::string config;
  bool json = false;
  bool verbose = false;
  std::string command;
  std::vector<std::string> args;
};

std::int64_t unixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string directoryOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

void printErrors(const ConfigErrors& errors) {
  for (const auto& w : errors.warnings()) std::cerr << "warning: " << w << "\n";
  for (const auto& e : errors.errors()) std::cerr << e << "\n";
}

std::optional<AgentConfig> loadOrReport(const GlobalOptions& opts, const JobRegistry& registry) {
  LoadResult r = loadConfigFile(opts.config, registry);
  if (!r.config) {
    printErrors(r.errors);
    std::cerr << r.errors.size() << " error(s) in " << opts.config << "\n";
    return std::nullopt;
  }
  for (const auto& w : r.errors.warnings()) log::warning(w);
  return r.config;
}

/// Problems with the places the agent writes to, each with its fix.
std::vector<std::string> checkWritablePaths(const AgentConfig& config) {
  std::vector<std::string> problems;
  std::string dbDir = directoryOf(config.agent.stateDb);
  if (access(dbDir.c_str(), W_OK) != 0)
    problems.push_back("agent.state_db: directory " + dbDir + " " +
                       (access(dbDir.c_str(), F_OK) != 0 ? "does not exist (create it; under systemd "
                                                           "StateDirectory=mxpulse does)"
                                                         : "is not writable by this user"));
  if (!config.agent.textfile.empty()) {
    std::string tDir = directoryOf(config.agent.textfile);
    if (access(tDir.c_str(), W_OK) != 0)
      problems.push_back("agent.textfile: directory " + tDir + " " +
                         (access(tDir.c_str(), F_OK) != 0
                              ? "does not exist (install prometheus-node-exporter or create it)"
                              : "is not writable by this user (add it to ReadWritePaths= and give "
                                "the mxpulse user write access)"));
  }
  return problems;
}

ResultSink::Settings sinkSettings(const AgentConfig& config) {
  ResultSink::Settings s;
  s.textfile = config.agent.textfile;
  for (const auto& j : config.jobs) s.jobs.insert(j.name);
  s.retentionSeconds =
      std::chrono::duration_cast<std::chrono::seconds>(config.agent.historyRetention).count();
  return s;
}

Runner::Clock systemClock() {
  return [] { return std::chrono::system_clock::now(); };
}

void printLines(const std::vector<ReportLine>& lines, bool json) {
  for (const auto& l : lines) std::cout << (json ? formatJsonLine(l) : formatTextLine(l)) << "\n";
  std::cout.flush();
}

// ---------------------------------------------------------------- commands

int cmdCheckConfig(const GlobalOptions& opts, const JobRegistry& registry) {
  bool online = false;
  for (const auto& a : opts.args) {
    if (a == "--online")
      online = true;
    else {
      std::cerr << "check-config: unknown argument " << a << "\n";
      return kExitUsage;
    }
  }
  LoadResult r = loadConfigFile(opts.config, registry);
  if (!r.config) {
    printErrors(r.errors);
    std::cerr << r.errors.size() << " error(s) in " << opts.config << "\n";
    return kExitConfig;
  }
  for (const auto& w : r.errors.warnings()) std::cerr << "warning: " << w << "\n";
  std::vector<std::string> problems = checkWritablePaths(*r.config);
  InventoryService inventories(*r.config);
  for (auto& p : inventories.checkQueries(online)) problems.push_back(p);
  for (const auto& p : problems) std::cerr << opts.config << ": " << p << "\n";
  if (!problems.empty()) {
    std::cerr << problems.size() << " error(s) in " << opts.config << "\n";
    return kExitConfig;
  }
  std::cout << opts.config << ": OK (" << r.config->jobs.size() << " jobs, "
            << r.config->inventories.size() << " inventories)\n";
  return 0;
}

int cmdStatus(const GlobalOptions& opts, const JobRegistry& registry) {
  auto config = loadOrReport(opts, registry);
  if (!config) return kExitConfig;
  SqliteDb db;
  std::string error;
  if (access(config->agent.stateDb.c_str(), F_OK) != 0) {
    std::cerr << "no state DB at " << config->agent.stateDb
              << " yet: run `mxpulse once` or start the daemon first\n";
    return kExitRuntime;
  }
  if (!openStateReadOnly(db, config->agent.stateDb, error)) {
    std::cerr << error << "\n";
    return kExitRuntime;
  }
  auto latest = readLatest(db, error);
  if (!error.empty()) {
    std::cerr << error << "\n";
    return kExitRuntime;
  }
  auto jobs = readJobStatuses(db, error);
  std::map<std::string, std::string> kinds;
  for (const auto& j : config->jobs) kinds[j.name] = j.kind;
  std::vector<ReportLine> lines;
  for (const auto& r : latest) {
    if (!kinds.count(r.job)) continue;
    ReportLine l;
    l.job = r.job;
    l.kind = kinds[r.job];
    l.check = r.check;
    l.target = r.target;
    l.status = r.status;
    l.summary = r.summary;
    l.factsJson = r.facts;
    l.observedAt = r.observedAt;
    l.since = r.since;
    lines.push_back(std::move(l));
  }
  if (!opts.json) {
    for (const auto& j : jobs) {
      if (!kinds.count(j.job)) continue;
      std::cout << "job " << j.job << " (" << j.kind << "): last run "
                << (j.lastRunAt ? isoTime(j.lastRunAt) : "never") << ", "
                << (j.lastSuccess ? "completed" : "FAILED") << " in " << j.lastDurationMs << " ms, "
                << j.runsTotal << " runs, " << j.failuresTotal << " failed, " << j.overrunsTotal
                << " overruns\n";
    }
    for (const auto& j : config->jobs) {
      bool seen = false;
      for (const auto& s : jobs) seen = seen || s.job == j.name;
      if (!seen) std::cout << "job " << j.name << " (" << j.kind << "): not run yet\n";
    }
  }
  printLines(lines, opts.json);
  return 0;
}

std::vector<const JobConfig*> selectJobs(const AgentConfig& config,
                                         const std::vector<std::string>& names, bool& ok) {
  ok = true;
  std::vector<const JobConfig*> out;
  if (names.empty()) {
    for (const auto& j : config.jobs) out.push_back(&j);
    return out;
  }
  for (const auto& n : names) {
    const JobConfig* j = config.findJob(n);
    if (!j) {
      std::cerr << "no job named '" << n << "' in " << config.path << "\n";
      ok = false;
    } else {
      out.push_back(j);
    }
  }
  return out;
}

/// Runs jobs concurrently (at most `workers` at once) and returns records
/// in the order of `jobs`.
std::vector<RunRecord> runJobsOnce(const std::vector<const JobConfig*>& jobs, int workers,
                                   InventoryService& inventories,
                                   const std::atomic<bool>& stopping) {
  Runner runner(inventories, systemClock(), stopping);
  std::vector<RunRecord> records(jobs.size());
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  size_t n = std::min<size_t>(static_cast<size_t>(std::max(1, workers)), jobs.size());
  for (size_t t = 0; t < n; ++t) {
    pool.emplace_back([&] {
      for (size_t i = next++; i < jobs.size(); i = next++) records[i] = runner.run(*jobs[i]);
    });
  }
  for (auto& t : pool) t.join();
  return records;
}

int cmdOnce(const GlobalOptions& opts, const JobRegistry& registry) {
  auto config = loadOrReport(opts, registry);
  if (!config) return kExitConfig;
  bool ok;
  auto jobs = selectJobs(*config, opts.args, ok);
  if (!ok) return kExitUsage;
  StateStore store;
  std::string error;
  if (!store.open(config->agent.stateDb, error)) {
    std::cerr << error << "\n";
    return kExitRuntime;
  }
  InventoryService inventories(*config);
  inventories.attachCache(config->agent.stateDb);
  std::atomic<bool> stopping{false};
  auto records = runJobsOnce(jobs, config->agent.workers, inventories, stopping);
  AgentGauges gauges{MXPULSE_VERSION, true, unixNow(), 0};
  ResultSink sink(store, sinkSettings(*config), gauges);
  std::vector<ReportLine> lines;
  bool stored = true;
  for (auto& rec : records) {
    for (auto& l : reportLines(rec)) lines.push_back(std::move(l));
    if (!store.recordRun(rec, error)) {
      std::cerr << "cannot record results: " << error << "\n";
      stored = false;
    }
  }
  printLines(lines, opts.json);
  if (!sink.writeTextfile(error)) {
    std::cerr << error << "\n";
    stored = false;
  }
  if (!stored) return kExitRuntime;
  return exitCodeFor(lines);
}

int cmdInventory(const GlobalOptions& opts, const JobRegistry& registry) {
  auto config = loadOrReport(opts, registry);
  if (!config) return kExitConfig;
  InventoryService inventories(*config);
  if (access(config->agent.stateDb.c_str(), R_OK) == 0) inventories.attachCache(config->agent.stateDb);
  std::int64_t now = unixNow();
  class PlanContext : public JobContext {
   public:
    std::map<std::string, InventorySnapshot> snaps;
    std::chrono::system_clock::time_point now() const override {
      return std::chrono::system_clock::now();
    }
    Deadline deadline() const override { return Deadline::in(std::chrono::seconds(10)); }
    bool stopRequested() const override { return false; }
    const InventorySnapshot* inventory(const std::string& name) const override {
      auto it = snaps.find(name);
      return it == snaps.end() ? nullptr : &it->second;
    }
  };
  for (const auto& job : config->jobs) {
    PlanContext ctx;
    std::cout << "job " << job.name << " (" << job.kind << ", " << job.schedule.describe()
              << ", timeout " << formatDuration(job.timeout) << ")\n";
    for (const auto& name : job.job->inventories()) {
      auto snap = inventories.snapshot(name, Deadline::in(std::chrono::seconds(10)), now);
      std::cout << "  inventory " << name << ": " << snap.items.size() << " "
                << inventoryKindName(snap.kind);
      if (!snap.error.empty()) std::cout << " (SOURCE FAILED: " << snap.error << ")";
      std::cout << "\n";
      ctx.snaps[name] = std::move(snap);
    }
    for (const auto& t : job.job->plannedTargets(ctx)) std::cout << "  " << t << "\n";
  }
  return 0;
}

int cmdCheck(const GlobalOptions& opts, const JobRegistry& registry,
             const AdHocRegistry& adhoc) {
  if (opts.args.empty() || opts.args[0] == "--help") {
    std::cout << "usage: mxpulse check NAME ARGS... [--json]\n\nad hoc checks:\n";
    for (const auto& [name, c] : adhoc.all()) std::cout << "  mxpulse check " << c.usage << "\n";
    return opts.args.empty() ? kExitUsage : 0;
  }
  const AdHocCheck* check = adhoc.find(opts.args[0]);
  if (!check) {
    std::cerr << "unknown check '" << opts.args[0] << "'; try: mxpulse check --help\n";
    return kExitUsage;
  }
  AdHocArgs args;
  std::string error;
  std::vector<std::string> rest(opts.args.begin() + 1, opts.args.end());
  YAML::Node params(YAML::NodeType::Map);
  if (!parseAdHocArgs(rest, check->switches, args, error) ||
      !check->toParams(args, params, error)) {
    std::cerr << "check " << check->name << ": " << error << "\nusage: mxpulse check "
              << check->usage << "\n";
    return kExitUsage;
  }
  const JobKind* kind = registry.find(check->kind);
  ConfigErrors errors("check " + check->name);
  MapReader reader(params, "args", errors);
  JobBuildEnv env;
  auto job = kind->create(reader, env);
  reader.finish();
  if (!job || !errors.empty()) {
    for (const auto& e : errors.errors()) std::cerr << e << "\n";
    std::cerr << "usage: mxpulse check " << check->usage << "\n";
    return kExitUsage;
  }
  JobConfig jc;
  jc.name = check->name;
  jc.kind = check->kind;
  jc.timeout = parseDuration(args.get("timeout", "30s")).value_or(std::chrono::seconds(30));
  jc.job = std::move(job);
  AgentConfig none;
  InventoryService inventories(none);
  std::atomic<bool> stopping{false};
  Runner runner(inventories, systemClock(), stopping);
  RunRecord rec = runner.run(jc);
  auto lines = reportLines(rec);
  printLines(lines, opts.json);
  return exitCodeFor(lines);
}

// The daemon. Signals are blocked before any thread starts so that only
// the main thread receives them, through sigwait.
std::atomic<int> g_fatalExit{0};

int cmdRun(const GlobalOptions& opts, const JobRegistry& registry) {
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto config = loadOrReport(opts, registry);
  if (!config) return kExitConfig;
  log::setLevel(opts.verbose ? "debug" : config->agent.logLevel);
  for (const auto& p : checkWritablePaths(*config)) log::error(p);
  StateStore store;
  std::string error;
  if (!store.open(config->agent.stateDb, error)) {
    log::error(error);
    return kExitRuntime;
  }
  std::int64_t startedAt = unixNow();
  AgentGauges gauges{MXPULSE_VERSION, true, startedAt, startedAt};
  ResultSink sink(store, sinkSettings(*config), gauges, [](const std::string& why) {
    log::error("state DB keeps failing, exiting so systemd restarts the agent: " + why);
    g_fatalExit = 1;
    kill(getpid(), SIGUSR1);
  });
  sink.start();

  auto inventories = std::make_unique<InventoryService>(*config);
  inventories->attachCache(config->agent.stateDb);
  std::mutex inventoriesMutex;
  std::atomic<bool> stopping{false};
  Scheduler::Hooks hooks;
  hooks.execute = [&](const JobConfig& job, std::shared_ptr<RunHandle> handle) {
    InventoryService* inv;
    {
      std::lock_guard<std::mutex> lock(inventoriesMutex);
      inv = inventories.get();
    }
    Runner runner(*inv, systemClock(), stopping);
    sink.submit(runner.run(job, std::move(handle)));
  };
  hooks.overrun = [&](const JobConfig& job) { sink.overrun(job.name, job.kind); };
  hooks.watchdog = [] { systemd::notify("WATCHDOG=1"); };
  Scheduler scheduler(config->agent.workers, hooks, systemClock(), systemd::watchdogInterval());
  scheduler.setJobs(config->jobs, config->agent.splaySeed, config->agent.maxSplay);
  scheduler.start();
  systemd::notify("READY=1\nSTATUS=running " + std::to_string(config->jobs.size()) + " jobs");
  log::info("mxpulse started " + log::kv("version", MXPULSE_VERSION) + " " +
            log::kv("config", opts.config) + " " +
            log::kv("jobs", static_cast<long long>(config->jobs.size())) + " " +
            log::kv("state_db", config->agent.stateDb));
  std::vector<std::unique_ptr<InventoryService>> retired;  // may still be in use by a run

  while (true) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      systemd::notify("RELOADING=1");
      LoadResult r = loadConfigFile(opts.config, registry);
      if (!r.config) {
        for (const auto& e : r.errors.errors()) log::error("reload refused: " + e);
        log::error("config reload failed; keeping the running config " +
                   log::kv("errors", static_cast<long long>(r.errors.size())));
        sink.reconfigure(sinkSettings(*config), false, 0);
      } else if (r.config->agent.stateDb != config->agent.stateDb) {
        log::error("config reload refused: agent.state_db cannot change while running; restart");
        sink.reconfigure(sinkSettings(*config), false, 0);
      } else {
        config = std::move(r.config);
        log::setLevel(opts.verbose ? "debug" : config->agent.logLevel);
        auto fresh = std::make_unique<InventoryService>(*config);
        fresh->attachCache(config->agent.stateDb);
        {
          std::lock_guard<std::mutex> lock(inventoriesMutex);
          retired.push_back(std::move(inventories));
          inventories = std::move(fresh);
        }
        scheduler.setJobs(config->jobs, config->agent.splaySeed, config->agent.maxSplay);
        sink.reconfigure(sinkSettings(*config), true, unixNow());
        log::info("config reloaded " + log::kv("jobs", static_cast<long long>(config->jobs.size())));
      }
      systemd::notify("READY=1");
      continue;
    }
    break;  // SIGTERM, SIGINT, SIGQUIT, or SIGUSR1 (fatal)
  }
  systemd::notify("STOPPING=1");
  log::info("stopping " + log::kv("grace", formatDuration(config->agent.shutdownGrace)));
  stopping = true;
  scheduler.stop(config->agent.shutdownGrace);
  sink.stop();
  log::info("stopped");
  // Abandoned job threads may still hold the inventories: leave them be.
  for (auto& r : retired) (void)r.release();
  (void)inventories.release();
  return g_fatalExit.load() ? 1 : 0;
}

}  // namespace

std::string helpText() {
  return R"(usage: mxpulse [--config PATH] [--json] [--verbose] COMMAND [ARGS...]

Monitoring agent for mail-sending hosts. Runs the jobs in the config,
keeps every result in SQLite, and writes a node_exporter textfile.

Commands:
  run                  run as a daemon in the foreground (systemd Type=notify);
                       SIGHUP reloads the config, SIGTERM stops
  once [JOB...]        run the named jobs (default: all) once, record the
                       results, write the textfile, print the results, exit
  check-config [--online]
                       validate the config (and SQL inventory queries; with
                       --online also connect to MySQL); exit 0 or 78
  status               print the latest result of every check from the state DB
  inventory            print what each job will check (runs inventory queries)
  check NAME ARGS...   run one ad hoc check without a config; `check --help`
                       lists them
  ip list | history IP | set IP STATE --reason TEXT | plan [JOB...]
                       sending-IP lifecycle of the warmup job: show it, move an
                       IP by hand, dry-run the job; `ip --help` for details
  version              print the version

Options:
  --config PATH        config file (default: $MXPULSE_CONFIG, else
                       /etc/mxpulse/agent.yaml)
  --json               print results as JSON Lines (one object per result:
                       job, kind, check, target, status, summary, facts)
  --verbose            debug logging
  --help               this text

Exit status of once and check: 0 ok, 1 warning, 2 critical, 3 unknown
(the worst result); 64 bad usage; 70 state DB or textfile unusable;
78 invalid config.
)";
}

int runCommandLine(const std::vector<std::string>& argv) {
  signal(SIGPIPE, SIG_IGN);
  GlobalOptions opts;
  const char* env = std::getenv("MXPULSE_CONFIG");
  opts.config = env && *env ? env : kDefaultConfig;
  size_t i = 0;
  for (; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--config" || a == "-c") {
      if (i + 1 >= argv.size()) {
        std::cerr << "--config needs a path\n";
        return kExitUsage;
      }
      opts.config = argv[++i];
    } else if (a.rfind("--config=", 0) == 0) {
      opts.config = a.substr(9);
    } else if (a == "--json") {
      opts.json = true;
    } else if (a == "--verbose" || a == "-v") {
      opts.verbose = true;
    } else if (a == "--help" || a == "-h" || a == "help") {
      std::cout << helpText();
      return 0;
    } else if (a == "--version") {
      opts.command = "version";
    } else if (!a.empty() && a[0] == '-') {
      std::cerr << "unknown option " << a << "\n" << "try: mxpulse --help\n";
      return kExitUsage;
    } else {
      if (opts.command.empty()) opts.command = a;
      ++i;
      break;
    }
  }
  // Options may also follow the command (e.g. `mxpulse status --json`).
  for (; i < argv.size(); ++i) {
    if (argv[i] == "--json")
      opts.json = true;
    else if (argv[i] == "--verbose")
      opts.verbose = true;
    else if (argv[i] == "--config" && i + 1 < argv.size() && opts.command != "check")
      opts.config = argv[++i];
    else
      opts.args.push_back(argv[i]);
  }
  if (opts.verbose) log::setLevel(log::Level::Debug);
  if (opts.command.empty()) {
    std::cerr << helpText();
    return kExitUsage;
  }
  JobRegistry registry;
  registerBuiltinJobs(registry);
  if (opts.command == "version") {
    std::cout << "mxpulse " << MXPULSE_VERSION << "\n";
    return 0;
  }
  if (opts.command == "run") return cmdRun(opts, registry);
  if (opts.command == "once") return cmdOnce(opts, registry);
  if (opts.command == "check-config") return cmdCheckConfig(opts, registry);
  if (opts.command == "status") return cmdStatus(opts, registry);
  if (opts.command == "inventory") return cmdInventory(opts, registry);
  if (opts.command == "ip") return jobs::ipCommand(opts.config, opts.args, opts.json);
  if (opts.command == "check") {
    AdHocRegistry adhoc;
    registerBuiltinAdHocChecks(adhoc);
    return cmdCheck(opts, registry, adhoc);
  }
  std::cerr << "unknown command '" << opts.command << "'; try: mxpulse --help\n";
  return kExitUsage;
}

}  // namespace mxpulse
