// SPDX-License-Identifier: Apache-2.0
// The warmup job: the thin I/O shell (state DB read-only, accounting
// files, MailWizz) around the pure planWarmup/reportWarmup.
#include "jobs/warmup.hpp"

#include <sys/stat.h>

#include <chrono>
#include <random>

#include "agent/yaml_reader.hpp"

namespace mxpulse::jobs {

namespace {

constexpr std::int64_t kHour = 3600;
constexpr std::int64_t kDay = 86400;

std::int64_t unixSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string runToken(std::int64_t now) {
  std::random_device rd;
  std::uniform_int_distribution<unsigned long long> dist;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%lld-%016llx", static_cast<long long>(now), dist(rd));
  return buf;
}

/// "jobs[3](warmup).params" -> "warmup": the job's name as the config
/// gives it (the factory receives the params only).
std::string jobNameFromPath(const std::string& path) {
  size_t open = path.find('(');
  size_t close = path.find(')', open == std::string::npos ? 0 : open);
  if (open == std::string::npos || close == std::string::npos) return "warmup";
  return path.substr(open + 1, close - open - 1);
}

/// The read position of `path`: its own cursor if it is still the same
/// file, else the cursor of the file it was renamed from (PowerMTA rotates
/// acct.csv to acct-<date>.csv: same inode, new name, already read up to
/// the offset), else its old cursor (the reader then starts over).
std::optional<probes::AcctCursor> cursorFor(const std::map<std::string, probes::AcctCursor>& all,
                                            const std::string& path) {
  struct stat st {};
  auto own = all.find(path);
  if (stat(path.c_str(), &st) != 0)
    return own == all.end() ? std::nullopt : std::optional<probes::AcctCursor>(own->second);
  auto same = [&](const probes::AcctCursor& c) {
    return c.device == static_cast<std::uint64_t>(st.st_dev) &&
           c.inode == static_cast<std::uint64_t>(st.st_ino);
  };
  if (own != all.end() && same(own->second)) return own->second;
  for (const auto& [p, c] : all)
    if (same(c)) return c;
  if (own != all.end()) return own->second;
  return std::nullopt;
}

HealthView healthFor(const WarmupParams& params, const WarmupObservations& obs,
                     const WarmupServer& srv, std::int64_t now) {
  HealthView h;
  std::map<std::int64_t, HealthCounts> hours;
  if (params.healthSource == "accounting") {
    for (const auto& f : obs.files)
      if (!f.result.ok) {
        h.known = false;
        h.error = f.result.error;
      }
    if (obs.files.empty()) {
      h.known = false;
      h.error = "no accounting file matches the configured patterns";
    }
    auto stored = obs.state.hourly.find(srv.ip);
    if (stored != obs.state.hourly.end()) hours = stored->second;
    auto delta = obs.acctDeltas.find(srv.ip);
    if (delta != obs.acctDeltas.end())
      for (const auto& [hour, c] : delta->second) {
        hours[hour].sent += c.sent;
        hours[hour].bounced += c.bounced;
        hours[hour].complaints += c.complaints;
      }
  } else {
    h.known = obs.mailwizzOk && obs.usageOk;
    if (!h.known)
      h.error = obs.mailwizzError.empty() ? "MailWizz usage not read" : obs.mailwizzError;
    for (const auto& u : obs.usage)
      if (u.serverId == srv.serverId) {
        hours[u.hour].sent += u.sent;
        hours[u.hour].bounced += u.bounced;
        hours[u.hour].complaints += u.complaints;
      }
  }
  for (const auto& [hour, c] : hours) {
    if (hour + kHour > now - params.policy.window && hour <= now) {
      h.window.sent += c.sent;
      h.window.bounced += c.bounced;
      h.window.complaints += c.complaints;
    }
    h.sentByDate[utcDate(hour)] += c.sent;
  }
  return h;
}

class WarmupJob : public Job {
 public:
  WarmupJob(WarmupParams p, std::string name) : params_(std::move(p)), name_(std::move(name)) {}

  JobOutput run(JobContext& ctx) override {
    std::int64_t now = unixSeconds(ctx.now());
    probes::MailwizzClient mailwizz(params_.mysql, params_.tablePrefix);
    WarmupObservations obs = observe(ctx, mailwizz, now);
    if (!obs.stateOk) return reportWarmup(params_, name_, obs, {}, {}, now, "");
    WarmupPlanned planned = planWarmup(params_, obs, now);
    SyncOutcome outcome = applySync(mailwizz, obs, planned, ctx.deadline());
    return reportWarmup(params_, name_, obs, planned, outcome, now, runToken(now));
  }

  std::vector<std::string> inventories() const override {
    if (params_.serversInventory.empty()) return {};
    return {params_.serversInventory};
  }

  std::vector<std::string> plannedTargets(const JobContext& ctx) const override {
    std::vector<std::string> out;
    for (const auto& s : servers(ctx)) {
      out.push_back("warmup " + s.ip + " (server " + std::to_string(s.serverId) + ")");
      out.push_back("ip_transition " + s.ip);
      if (params_.sync) {
        out.push_back("mailwizz_sync " + s.ip);
        out.push_back("mailwizz_warmup_conflict " + s.ip);
      }
    }
    if (params_.healthSource == "accounting") out.push_back("accounting pmta");
    return out;
  }

  const WarmupParams& params() const { return params_; }
  WarmupParams& params() { return params_; }
  const std::string& name() const { return name_; }
  std::function<void(size_t)> hook;

 private:
  std::vector<WarmupServer> servers(const JobContext& ctx) const {
    if (params_.serversInventory.empty()) return params_.servers;
    std::vector<WarmupServer> out = params_.servers;
    const InventorySnapshot* snap = ctx.inventory(params_.serversInventory);
    if (!snap) return out;
    for (const auto& item : snap->items) {
      WarmupServer s;
      s.ip = canonicalIp(item.first("ip"));
      try {
        s.serverId = std::stoll(item.first("server_id"));
      } catch (...) {
        continue;
      }
      if (s.ip.empty() || s.serverId <= 0) continue;
      bool dup = false;
      for (const auto& o : out) dup = dup || o.ip == s.ip || o.serverId == s.serverId;
      if (dup) continue;
      s.plan = params_.defaultPlan;
      s.initialState = params_.initialState;
      out.push_back(s);
    }
    return out;
  }

  WarmupObservations observe(JobContext& ctx, probes::MailwizzClient& mailwizz, std::int64_t now) {
    WarmupObservations obs;
    obs.servers = servers(ctx);
    std::int64_t since = warmupLookbackStart(params_, now);
    obs.stateOk = loadWarmupState(params_.stateDb, name_, params_.healthSource, since, obs.state,
                                  obs.stateError);
    if (!obs.stateOk) return obs;
    std::map<std::string, bool> managed;
    for (const auto& s : obs.servers) managed[s.ip] = true;

    if (params_.healthSource == "accounting") {
      std::uint64_t budget = params_.maxReadBytes;
      probes::AcctReadOptions opts;
      opts.fields = {params_.ipField, params_.timeField};
      for (const auto& path : probes::globFiles(params_.accountingFiles)) {
        if (ctx.stopRequested() || ctx.deadline().expired()) break;
        opts.maxBytes = std::max<std::uint64_t>(budget, 4096);
        std::optional<probes::AcctCursor> from = cursorFor(obs.state.cursors, path);
        auto result =
            probes::readAccountingFile(path, from, opts, [&](const probes::AcctRecord& r) {
              if (r.kind == probes::AcctKind::Other) return;
              std::string ip = canonicalIp(r.values[0]);
              if (ip.empty() || !managed.count(ip)) {
                ++obs.acctOtherIps;
                return;
              }
              std::int64_t t = probes::parseAcctTime(r.values[1]).value_or(now);
              if (t > now) t = now;
              if (t < now - 35 * kDay) return;  // older than any window or plan day we use
              HealthCounts& c = obs.acctDeltas[ip][t - t % kHour];
              if (r.kind == probes::AcctKind::Complaint) {
                ++c.complaints;
              } else {
                ++c.sent;
                if (r.kind == probes::AcctKind::Bounced) ++c.bounced;
              }
            });
        std::uint64_t start = from && result.restarted.empty() ? from->offset : 0;
        std::uint64_t used = result.cursor.offset > start ? result.cursor.offset - start : 0;
        budget = used >= budget ? 0 : budget - used;
        obs.files.push_back({path, std::move(result)});
      }
    }

    bool needMailwizz = params_.sync || params_.healthSource == "mailwizz";
    if (needMailwizz) {
      std::vector<long long> ids;
      for (const auto& s : obs.servers) ids.push_back(s.serverId);
      std::vector<probes::MailwizzServer> rows;
      obs.mailwizzOk = mailwizz.open(ctx.deadline(), obs.mailwizzError) &&
                       mailwizz.readServers(ids, rows, obs.mailwizzError);
      obs.schema = mailwizz.schema();
      for (auto& r : rows) obs.rows[r.serverId] = std::move(r);
      if (obs.mailwizzOk && params_.healthSource == "mailwizz")
        obs.usageOk = mailwizz.readUsage(ids, since, obs.usage, obs.mailwizzError);
    }
    return obs;
  }

  SyncOutcome applySync(probes::MailwizzClient& mailwizz, const WarmupObservations& obs,
                        const WarmupPlanned& planned, Deadline deadline) {
    SyncOutcome out;
    std::vector<probes::MailwizzChange> changes;
    for (const auto& p : planned.sync)
      if (p.action == SyncAction::Update) changes.push_back(toMailwizzChange(p));
    if (changes.empty() || params_.dryRun || !params_.sync || !obs.mailwizzOk) return out;
    out.attempted = true;
    out.ok = mailwizz.applyChanges(changes, deadline, out.error, hook);
    return out;
  }

  WarmupParams params_;
  std::string name_;
};

}  // namespace

std::int64_t warmupLookbackStart(const WarmupParams& params, std::int64_t now) {
  std::int64_t back = std::max<std::int64_t>(params.policy.window, 8 * kDay);
  std::int64_t since = now - back;
  return since - since % kHour;
}

WarmupPlanned planWarmup(const WarmupParams& params, const WarmupObservations& obs,
                         std::int64_t now) {
  WarmupPlanned out;
  std::vector<IpInput> inputs;
  for (const auto& srv : obs.servers) {
    IpInput in;
    in.ip = srv.ip;
    in.plan = srv.plan.empty() ? params.defaultPlan : srv.plan;
    in.initialState = srv.initialState;
    auto rec = obs.state.ips.find(srv.ip);
    if (rec != obs.state.ips.end()) in.record = rec->second;
    auto prog = obs.state.progress.find(srv.ip);
    if (prog != obs.state.progress.end()) in.progress = prog->second;
    in.health = healthFor(params, obs, srv, now);
    auto bl = obs.state.dnsbl.find(srv.ip);
    if (bl != obs.state.dnsbl.end()) in.dnsbl = bl->second;
    for (const auto& t : obs.state.newTransitions)
      if (t.ip == srv.ip && t.actor == "operator" && t.from == "ACTIVE" && t.to == "QUARANTINE")
        in.quarantinedFromActiveByOperator = true;
    inputs.push_back(std::move(in));
  }
  out.decisions = evaluateLifecycle(params.policy, params.plans, inputs, now);
  if (!params.sync || !obs.mailwizzOk) return out;
  static const std::map<std::string, std::string> kNone;
  for (size_t i = 0; i < obs.servers.size(); ++i) {
    const IpDecision& d = out.decisions[i];
    SyncTarget t;
    t.ip = d.ip;
    t.serverId = obs.servers[i].serverId;
    t.state = d.record.state;
    t.sends = d.sends;
    t.quota = d.quota;
    t.writeMonthly = params.monthlyQuota;
    auto row = obs.rows.find(t.serverId);
    std::optional<probes::MailwizzServer> current;
    if (row != obs.rows.end()) current = row->second;
    auto last = obs.state.lastWritten.find(t.serverId);
    out.sync.push_back(planServerSync(t, current,
                                      last == obs.state.lastWritten.end() ? kNone : last->second,
                                      params.onDrift, obs.schema.monthlyQuota));
  }
  return out;
}

void setWarmupSyncHook(Job& job, std::function<void(size_t)> hook) {
  if (auto* w = dynamic_cast<WarmupJob*>(&job)) w->hook = std::move(hook);
}

std::shared_ptr<Job> warmupDryRunCopy(const Job& job) {
  const auto* w = dynamic_cast<const WarmupJob*>(&job);
  if (!w) return nullptr;
  WarmupParams p = w->params();
  p.dryRun = true;
  return std::make_shared<WarmupJob>(std::move(p), w->name());
}

const WarmupParams* warmupParamsOf(const Job& job) {
  const auto* w = dynamic_cast<const WarmupJob*>(&job);
  return w ? &w->params() : nullptr;
}

JobKind warmupKind() {
  return JobKind{
      "warmup", "sending-IP lifecycle and warmup plans, synced to MailWizz delivery server quotas",
      [](MapReader& params, const JobBuildEnv& env) -> std::unique_ptr<Job> {
        auto p = parseWarmupParams(params, env);
        params.finish();
        if (!p) return nullptr;
        return std::make_unique<WarmupJob>(std::move(*p), jobNameFromPath(params.path()));
      }};
}

}  // namespace mxpulse::jobs
