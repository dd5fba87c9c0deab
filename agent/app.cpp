// SPDX-License-Identifier: Apache-2.0
#include "agent/app.hpp"

#include <malloc.h>
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
#include "agent/output/alert_rules.hpp"
#include "agent/output/alert_setup.hpp"
#include "agent/output/result_sink.hpp"
#include "agent/output/telegram_notifier.hpp"
#include "agent/report.hpp"
#include "agent/runner.hpp"
#include "agent/scheduler.hpp"
#include "agent/store/alert_store.hpp"
#include "agent/systemd_notify.hpp"
#include "agent/yaml_reader.hpp"
#include "agent/extension.hpp"
#include "jobs/kinds.hpp"
#include "probes/telegram.hpp"

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
  for (const auto& r : config.alerts.rules) s.jobs.insert(ruleJobName(r.name));
  s.retentionSeconds =
      std::chrono::duration_cast<std::chrono::seconds>(config.agent.historyRetention).count();
  s.alerts = makeAlertSettings(config);
  s.rules = config.alerts.rules;
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
  for (auto& p : checkRules(r.config->alerts.rules)) problems.push_back(p);
  for (const auto& p : problems) std::cerr << opts.config << ": " << p << "\n";
  if (!problems.empty()) {
    std::cerr << problems.size() << " error(s) in " << opts.config << "\n";
    return kExitConfig;
  }
  std::cout << opts.config << ": OK (" << r.config->jobs.size() << " jobs, "
            << r.config->inventories.size() << " inventories, " << r.config->alerts.rules.size()
            << " alert rules, "
            << (r.config->alerts.telegram.enabled
                    ? std::to_string(r.config->alerts.telegram.chats.size()) + " Telegram chats"
                    : std::string("no Telegram"))
            << ")\n";
  return 0;
}

/// Firing alerts and the outbox, for `mxpulse status`.
void printAlertStatus(SqliteDb& db) {
  std::string error;
  auto firing = readFiringAlerts(db, error);
  auto figures = readAlertFigures(db, error);
  if (!error.empty()) {
    std::cout << "alerts: cannot read (" << error << ")\n";
    return;
  }
  std::cout << "alerts: "
            << (firing.empty() ? "none firing" : std::to_string(firing.size()) + " firing") << "\n";
  for (const auto& a : firing)
    std::cout << "  " << (a.flapping ? "FLAPPING " : "") << statusName(a.severity) << " " << a.job
              << " " << a.check << (a.target.empty() ? "" : " " + a.target) << " since "
              << isoTime(a.since) << ": " << a.summary << "\n";
  std::cout << "outbox: " << figures.outboxDepth["pending"] << " pending, "
            << figures.outboxDepth["sending"] << " sending, " << figures.outboxDepth["failed"]
            << " failed; " << figures.sends << " sent, " << figures.sendErrors
            << " send errors in total\n";
  for (const char* state : {"pending", "failed"})
    for (const auto& m : readOutbox(db, state, 20, error))
      std::cout << "  " << state << " #" << m.id << " chat " << m.chatId << " " << m.alerts
                << " alert(s) from " << (m.job.empty() ? "-" : m.job) << ", created "
                << isoTime(m.createdAt) << ", " << m.attempts << " attempt(s)"
                << (m.lastError.empty() ? "" : ", last error: " + m.lastError) << "\n";
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
  for (const auto& r : config->alerts.rules) kinds[ruleJobName(r.name)] = "rule";
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
  if (!opts.json) printAlertStatus(db);
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
  ResultSink::Settings settings = sinkSettings(*config);
  ResultSink sink(store, settings, gauges);
  std::vector<ReportLine> lines;
  bool stored = true;
  for (auto& rec : records) {
    for (auto& l : reportLines(rec)) lines.push_back(std::move(l));
    if (!store.recordRun(rec, error, settings.alerts.get())) {
      std::cerr << "cannot record results: " << error << "\n";
      stored = false;
    }
  }
  if (!sink.runRules(true, error)) {
    std::cerr << "cannot record alert rules: " << error << "\n";
    stored = false;
  }
  printLines(lines, opts.json);
  if (config->alerts.telegram.enabled) {
    // One short attempt to deliver what this run enqueued; what is left
    // stays in the outbox for the daemon or the next `once`.
    TelegramNotifier notifier(config->agent.stateDb, config->alerts.telegram);
    if (!notifier.open(error)) {
      std::cerr << "cannot open the outbox: " << error << "\n";
    } else {
      auto budget = std::min<Millis>(config->alerts.telegram.timeout * 2, std::chrono::seconds(20));
      auto pass = notifier.drainOnce(Deadline::in(budget));
      if (pass.retrying || pass.failed)
        std::cerr << "telegram: " << pass.sent << " sent, " << pass.retrying << " to retry later, "
                  << pass.failed << " failed (see mxpulse status)\n";
    }
  }
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
  // Every inventory once, with its source's health and its items.
  std::map<std::string, InventorySnapshot> snapshots;
  for (const auto& [name, inv] : config->inventories) {
    auto snap = inventories.snapshot(name, Deadline::in(std::chrono::seconds(10)), now);
    std::cout << "inventory " << name << " (" << inventoryKindName(inv.kind) << ", "
              << (inv.query.empty() ? "static" : "SQL on " + inv.connection) << "): "
              << snap.items.size() << " items";
    if (!snap.error.empty())
      std::cout << " (SOURCE FAILED: " << snap.error << "; showing the last good list from "
                << (snap.fetchedAt ? isoTime(snap.fetchedAt) : std::string("never")) << ")";
    std::cout << "\n";
    const std::string key = inventoryKeyField(inv.kind);
    for (const auto& item : snap.items) {
      std::cout << "  " << item.first(key);
      for (const auto& [field, values] : item.fields) {
        if (field == key || values.empty()) continue;
        std::cout << " " << field << "=";
        for (size_t i = 0; i < values.size(); ++i) std::cout << (i ? "," : "") << values[i];
      }
      std::cout << "\n";
    }
    snapshots[name] = std::move(snap);
  }
  for (const auto& job : config->jobs) {
    PlanContext ctx;
    std::cout << "job " << job.name << " (" << job.kind << ", " << job.schedule.describe()
              << ", timeout " << formatDuration(job.timeout) << ")\n";
    for (const auto& name : job.job->inventories()) {
      std::cout << "  uses inventory " << name << "\n";
      ctx.snaps[name] = snapshots[name];
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
  // glibc gives every thread its own malloc arena (64 MiB reserved, pages
  // kept after use). The daemon's threads mostly sleep: two arenas suffice.
  mallopt(M_ARENA_MAX, 2);

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
  for (const auto& p : checkRules(config->alerts.rules)) log::error(p);

  // The notifier drains the outbox on its own thread and connection; the
  // sink wakes it after every commit. Replaced on reload when Telegram is
  // switched on or off.
  std::mutex notifierMutex;
  std::shared_ptr<TelegramNotifier> notifier;
  auto startNotifier = [&](const TelegramConfig& telegram) {
    auto n = std::make_shared<TelegramNotifier>(config->agent.stateDb, telegram);
    std::string why;
    if (!n->open(why)) {
      log::error("alerts will not be sent: cannot open the outbox: " + why);
      return;
    }
    n->onChange([&sink] { sink.touch(); });
    n->start();
    std::lock_guard<std::mutex> lock(notifierMutex);
    notifier = std::move(n);
  };
  auto stopNotifier = [&] {
    std::shared_ptr<TelegramNotifier> n;
    {
      std::lock_guard<std::mutex> lock(notifierMutex);
      n = std::move(notifier);
    }
    if (n) n->stop();
  };
  if (config->alerts.telegram.enabled) startNotifier(config->alerts.telegram);
  sink.onCommitted([&] {
    std::shared_ptr<TelegramNotifier> n;
    {
      std::lock_guard<std::mutex> lock(notifierMutex);
      n = notifier;
    }
    if (n) n->wake();
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
    // A run's buffers (DNS answers, TLS chains, parsed XML) are freed now;
    // hand the pages back so the idle daemon stays small between runs.
    malloc_trim(0);
  };
  hooks.overrun = [&](const JobConfig& job) { sink.overrun(job.name, job.kind); };
  hooks.watchdog = [] { systemd::notify("WATCHDOG=1"); };
  Scheduler scheduler(config->agent.workers, hooks, systemClock(), systemd::watchdogInterval());
  scheduler.setJobs(config->jobs, config->agent.splaySeed, config->agent.maxSplay);
  scheduler.start();
  malloc_trim(0);  // the config parse trees are gone
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
        for (const auto& p : checkRules(config->alerts.rules)) log::error(p);
        sink.reconfigure(sinkSettings(*config), true, unixNow());
        if (!config->alerts.telegram.enabled) {
          stopNotifier();
        } else {
          std::shared_ptr<TelegramNotifier> n;
          {
            std::lock_guard<std::mutex> lock(notifierMutex);
            n = notifier;
          }
          if (n)
            n->reconfigure(config->alerts.telegram);
          else
            startNotifier(config->alerts.telegram);
        }
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
  stopNotifier();  // after the sink: its last commits may have woken it
  log::info("stopped");
  // Abandoned job threads may still hold the inventories: leave them be.
  for (auto& r : retired) (void)r.release();
  (void)inventories.release();
  return g_fatalExit.load() ? 1 : 0;
}

/// Opens the state DB for a CLI command that writes (silences, retries).
/// SQLite serialises it with the daemon's writes; each is one short statement.
bool openForCli(const AgentConfig& config, StateStore& store) {
  std::string error;
  if (!store.open(config.agent.stateDb, error)) {
    std::cerr << error << "\n";
    return false;
  }
  return true;
}

int cmdSilence(const GlobalOptions& opts, const JobRegistry& registry) {
  const char* usage =
      "usage: mxpulse silence add CHECK_OR_TARGET --for DURATION [--reason TEXT]\n"
      "       mxpulse silence list [--all]\n"
      "       mxpulse silence remove ID\n";
  if (opts.args.empty()) {
    std::cerr << usage;
    return kExitUsage;
  }
  const std::string& sub = opts.args[0];
  if (sub == "--help") {
    std::cout << usage;
    return 0;
  }
  auto config = loadOrReport(opts, registry);
  if (!config) return kExitConfig;
  StateStore store;
  std::string error;
  std::int64_t now = unixNow();
  if (sub == "add") {
    std::string matcher, reason;
    std::optional<Millis> length;
    for (size_t i = 1; i < opts.args.size(); ++i) {
      const std::string& a = opts.args[i];
      if (a == "--for" && i + 1 < opts.args.size()) {
        length = parseDuration(opts.args[++i]);
        if (!length || length->count() <= 0) {
          std::cerr << "silence add: bad duration '" << opts.args[i] << "' (e.g. 30m, 2h, 1d)\n";
          return kExitUsage;
        }
      } else if (a == "--reason" && i + 1 < opts.args.size()) {
        reason = opts.args[++i];
      } else if (matcher.empty() && !a.empty() && a[0] != '-') {
        matcher = a;
      } else {
        std::cerr << "silence add: unexpected argument '" << a << "'\n" << usage;
        return kExitUsage;
      }
    }
    if (matcher.empty() || !length) {
      std::cerr << "silence add: needs what to silence and --for\n" << usage;
      return kExitUsage;
    }
    if (!openForCli(*config, store)) return kExitRuntime;
    std::int64_t id = 0;
    std::int64_t until = now + std::chrono::duration_cast<std::chrono::seconds>(*length).count();
    if (!addSilence(store.db(), matcher, now, until, reason, id, error)) {
      std::cerr << error << "\n";
      return kExitRuntime;
    }
    std::cout << "silence " << id << ": alerts matching '" << matcher
              << "' are recorded, not sent, until " << isoTime(until) << "\n";
    return 0;
  }
  if (sub == "list") {
    bool all = opts.args.size() > 1 && opts.args[1] == "--all";
    if (!openForCli(*config, store)) return kExitRuntime;
    auto rows = listSilences(store.db(), now, all, error);
    if (!error.empty()) {
      std::cerr << error << "\n";
      return kExitRuntime;
    }
    if (rows.empty()) std::cout << "no " << (all ? "" : "active ") << "silences\n";
    for (const auto& r : rows) {
      if (opts.json) {
        std::string line = "{\"id\":" + std::to_string(r.id) + ",\"matcher\":";
        appendJsonString(line, r.matcher);
        line += ",\"reason\":";
        appendJsonString(line, r.reason);
        line += ",\"created_at\":" + std::to_string(r.createdAt) +
                ",\"expires_at\":" + std::to_string(r.expiresAt) +
                ",\"removed_at\":" + std::to_string(r.removedAt) + "}";
        std::cout << line << "\n";
        continue;
      }
      std::string state = r.removedAt ? "removed" : r.expiresAt <= now ? "expired" : "active";
      std::cout << r.id << "  " << r.matcher << "  " << state << " until " << isoTime(r.expiresAt)
                << (r.reason.empty() ? "" : "  " + r.reason) << "\n";
    }
    return 0;
  }
  if (sub == "remove" && opts.args.size() == 2) {
    char* end = nullptr;
    long long id = std::strtoll(opts.args[1].c_str(), &end, 10);
    if (!end || *end || id <= 0) {
      std::cerr << "silence remove: '" << opts.args[1] << "' is not a silence id\n";
      return kExitUsage;
    }
    if (!openForCli(*config, store)) return kExitRuntime;
    if (!removeSilence(store.db(), id, now, error)) {
      std::cerr << error << "\n";
      return kExitRuntime;
    }
    std::cout << "silence " << id << " removed\n";
    return 0;
  }
  std::cerr << usage;
  return kExitUsage;
}

int cmdAlert(const GlobalOptions& opts, const JobRegistry& registry) {
  const char* usage =
      "usage: mxpulse alert test      send a test message to every configured chat\n"
      "       mxpulse alert retry [ID]  queue failed messages (or one) for delivery again\n";
  if (opts.args.empty() || opts.args[0] == "--help") {
    (opts.args.empty() ? std::cerr : std::cout) << usage;
    return opts.args.empty() ? kExitUsage : 0;
  }
  auto config = loadOrReport(opts, registry);
  if (!config) return kExitConfig;
  const std::string& sub = opts.args[0];
  if (sub == "test" && opts.args.size() == 1) {
    const TelegramConfig& t = config->alerts.telegram;
    if (!t.enabled) {
      std::cerr << "no alerts.telegram section in " << opts.config << "\n";
      return kExitConfig;
    }
    MessageText msg = buildTestMessage(config->alerts.host, unixNow());
    int failures = 0;
    for (const auto& chat : t.chats) {
      auto r = ext::telegramSendMessage({t.apiBaseUrl, t.botToken}, chat.chatId, msg.html,
                                           "HTML", Deadline::in(t.timeout));
      if (r.outcome == probes::TelegramSend::Outcome::Sent) {
        std::cout << "chat " << chat.chatId << ": sent\n";
      } else {
        ++failures;
        std::cout << "chat " << chat.chatId
                  << ": FAILED: " << probes::maskToken(r.description, t.botToken) << "\n";
      }
    }
    return failures ? kExitRuntime : 0;
  }
  if (sub == "retry" && opts.args.size() <= 2) {
    long long id = 0;
    if (opts.args.size() == 2) {
      char* end = nullptr;
      id = std::strtoll(opts.args[1].c_str(), &end, 10);
      if (!end || *end || id <= 0) {
        std::cerr << "alert retry: '" << opts.args[1] << "' is not a message id\n";
        return kExitUsage;
      }
    }
    StateStore store;
    if (!openForCli(*config, store)) return kExitRuntime;
    std::string error;
    int n = retryFailedOutbox(store.db(), id, unixNow(), error);
    if (n < 0) {
      std::cerr << error << "\n";
      return kExitRuntime;
    }
    std::cout << n << " failed message(s) queued again\n";
    return n == 0 && id ? kExitRuntime : 0;
  }
  std::cerr << usage;
  return kExitUsage;
}

}  // namespace

std::string helpText() {
  return R"(usage: mxpulse [--config PATH] [--json] [--verbose] COMMAND [ARGS...]

Monitoring agent for mail-sending hosts. Runs the jobs in the config,
keeps every result in SQLite, sends alerts to Telegram, and writes a
node_exporter textfile.

Commands:
  run                  run as a daemon in the foreground (systemd Type=notify);
                       SIGHUP reloads the config, SIGTERM stops
  once [JOB...]        run the named jobs (default: all) once, record the
                       results and alerts, try once to deliver the alerts,
                       write the textfile, print the results, exit
  check-config [--online]
                       validate the config (and SQL inventory queries and
                       alert rules; with --online also connect to MySQL);
                       exit 0 or 78
  status               print the latest result of every check from the state DB,
                       the firing alerts and the undelivered messages
  inventory            print what each job will check (runs inventory queries)
  check NAME ARGS...   run one ad hoc check without a config; `check --help`
                       lists them
  silence add CHECK_OR_TARGET --for DURATION [--reason TEXT]
                       record matching alerts without sending them (glob on
                       job, check, target or a word of the target)
  silence list [--all] active silences (--all: also expired and removed)
  silence remove ID    end a silence now
  alert test           send a test message to every configured Telegram chat
  alert retry [ID]     queue failed messages (or one) for delivery again
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
  registerJobKinds(registry);
  if (opts.command == "version") {
    std::cout << "mxpulse " << MXPULSE_VERSION << "\n";
    return 0;
  }
  if (opts.command == "run") return cmdRun(opts, registry);
  if (opts.command == "once") return cmdOnce(opts, registry);
  if (opts.command == "check-config") return cmdCheckConfig(opts, registry);
  if (opts.command == "status") return cmdStatus(opts, registry);
  if (opts.command == "inventory") return cmdInventory(opts, registry);
  if (opts.command == "ip" || opts.command == "check") {
    // Both live in mxpulse-ext.so (the warmup job; the DNS, TLS and HTTP
    // probes behind the ad hoc checks).
    std::string error;
    const ExtensionApi* ext = loadExtension(error);
    if (!ext) {
      std::cerr << "mxpulse " << opts.command << ": " << error << "\n";
      return kExitRuntime;
    }
    if (opts.command == "ip") return ext->ipCommand(opts.config, opts.args, opts.json);
    AdHocRegistry adhoc;
    ext->registerAdHocChecks(adhoc);
    return cmdCheck(opts, registry, adhoc);
  }
  if (opts.command == "silence") return cmdSilence(opts, registry);
  if (opts.command == "alert") return cmdAlert(opts, registry);
  std::cerr << "unknown command '" << opts.command << "'; try: mxpulse --help\n";
  return kExitUsage;
}

}  // namespace mxpulse
