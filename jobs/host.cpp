// SPDX-License-Identifier: Apache-2.0
#include "jobs/host.hpp"

#include <cstdio>

#include "agent/yaml_reader.hpp"

namespace mxpulse::jobs {

namespace {

const MetricDesc kDiskSize{"mxpulse_host_disk_size_bytes", "Size of the file system.",
                           MetricType::Gauge};
const MetricDesc kDiskAvail{"mxpulse_host_disk_available_bytes",
                            "Bytes available to unprivileged users on the file system.",
                            MetricType::Gauge};
const MetricDesc kInodesAvail{"mxpulse_host_disk_available_inodes_ratio",
                              "Share of inodes available on the file system (0-1).",
                              MetricType::Gauge};
const MetricDesc kMemAvail{"mxpulse_host_memory_available_bytes", "MemAvailable from /proc/meminfo.",
                           MetricType::Gauge};
const MetricDesc kMemTotal{"mxpulse_host_memory_total_bytes", "MemTotal from /proc/meminfo.",
                           MetricType::Gauge};
const MetricDesc kLoad{"mxpulse_host_load15_per_cpu", "15-minute load average divided by CPUs.",
                       MetricType::Gauge};
const MetricDesc kProcesses{"mxpulse_host_processes",
                            "Number of running processes with the configured name.",
                            MetricType::Gauge};

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string humanBytes(std::uint64_t b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024 && u < 5) {
    v /= 1024;
    ++u;
  }
  return fmt(u == 0 ? "%.0f" : "%.1f", v) + " " + units[u];
}

/// Lower-is-worse thresholds (free space, available memory).
Status lowIsBad(double value, double warn, double crit) {
  if (value < crit) return Status::Critical;
  if (value < warn) return Status::Warning;
  return Status::Ok;
}

class HostJob : public Job {
 public:
  explicit HostJob(HostParams p) : params_(std::move(p)) {}
  JobOutput run(JobContext&) override { return evaluateHost(params_, observeHost(params_)); }
  std::vector<std::string> plannedTargets(const JobContext&) const override {
    std::vector<std::string> out;
    for (const auto& d : params_.disks) out.push_back("disk_free " + d.path);
    out.push_back("memory memory");
    out.push_back("load load");
    for (const auto& p : params_.processes) out.push_back("process " + p);
    return out;
  }

 private:
  HostParams params_;
};

}  // namespace

std::optional<HostParams> parseHostParams(MapReader& r) {
  HostParams p;
  size_t before = r.errors().size();
  double defWarn = r.percent("disk_warn_free", 15);
  double defCrit = r.percent("disk_crit_free", 5);
  YAML::Node disks = r.node("disks");
  if (disks.IsDefined() && !disks.IsNull()) {
    if (!disks.IsSequence()) {
      r.errors().add(disks, r.childPath("disks"), "must be a list of mounts");
    } else {
      for (size_t i = 0; i < disks.size(); ++i) {
        DiskRule rule;
        std::string path = indexPath(r.childPath("disks"), i);
        if (disks[i].IsScalar()) {
          rule.path = disks[i].Scalar();
          rule.warnFreePercent = defWarn;
          rule.critFreePercent = defCrit;
        } else {
          MapReader d(disks[i], path, r.errors());
          rule.path = d.optString("path", true).value_or("");
          rule.warnFreePercent = d.percent("warn_free", defWarn);
          rule.critFreePercent = d.percent("crit_free", defCrit);
          d.finish();
        }
        if (!rule.path.empty() && rule.path[0] != '/')
          r.errors().add(disks[i], path + ".path", "must be an absolute path");
        if (rule.critFreePercent > rule.warnFreePercent)
          r.errors().add(disks[i], path, "crit_free must not be above warn_free");
        p.disks.push_back(rule);
      }
    }
  } else {
    p.disks.push_back(DiskRule{"/", defWarn, defCrit});
  }
  p.memoryWarnPercent = r.percent("memory_warn_available", p.memoryWarnPercent);
  p.memoryCritPercent = r.percent("memory_crit_available", p.memoryCritPercent);
  if (p.memoryCritPercent > p.memoryWarnPercent)
    r.errors().add(r.node("memory_crit_available"), r.childPath("memory_crit_available"),
                   "must not be above memory_warn_available");
  p.loadWarnPerCpu = r.number("load_warn_per_cpu", p.loadWarnPerCpu, 0, 1000);
  p.loadCritPerCpu = r.number("load_crit_per_cpu", p.loadCritPerCpu, 0, 1000);
  if (p.loadCritPerCpu < p.loadWarnPerCpu)
    r.errors().add(r.node("load_crit_per_cpu"), r.childPath("load_crit_per_cpu"),
                   "must not be below load_warn_per_cpu");
  p.processes = r.strings("processes");
  p.procRoot = r.str("proc_root", p.procRoot);
  if (r.errors().size() != before) return std::nullopt;
  return p;
}

HostObservations observeHost(const HostParams& params) {
  HostObservations obs;
  for (const auto& d : params.disks) obs.disks.emplace_back(d.path, probes::statDisk(d.path));
  obs.memory = probes::readMemory(params.procRoot);
  obs.load = probes::readLoad(params.procRoot);
  if (!params.processes.empty()) obs.processes = probes::listProcesses(params.procRoot, obs.processError);
  return obs;
}

JobOutput evaluateHost(const HostParams& params, const HostObservations& obs) {
  JobOutput out;
  for (size_t i = 0; i < params.disks.size() && i < obs.disks.size(); ++i) {
    const DiskRule& rule = params.disks[i];
    const probes::DiskUsage& u = obs.disks[i].second;
    if (!u.error.empty()) {
      CheckResult r("disk_free", rule.path, Status::Unknown, "cannot read " + rule.path + ": " + u.error);
      r.facts.set("error", u.error);
      out.results.push_back(std::move(r));
      continue;
    }
    double freePct = u.sizeBytes ? 100.0 * static_cast<double>(u.availBytes) /
                                       static_cast<double>(u.sizeBytes)
                                 : 100.0;
    double inodePct = u.inodes ? 100.0 * static_cast<double>(u.availInodes) /
                                     static_cast<double>(u.inodes)
                               : 100.0;
    Status spaceStatus = lowIsBad(freePct, rule.warnFreePercent, rule.critFreePercent);
    Status inodeStatus = lowIsBad(inodePct, rule.warnFreePercent, rule.critFreePercent);
    Status status = worse(spaceStatus, inodeStatus);
    std::string summary = rule.path + " has " + humanBytes(u.availBytes) + " free (" +
                          fmt("%.1f", freePct) + "%) of " + humanBytes(u.sizeBytes);
    if (u.inodes) summary += ", " + fmt("%.1f", inodePct) + "% inodes free";
    if (status != Status::Ok) {
      summary += inodeStatus > spaceStatus && inodeStatus != Status::Ok ? "; inodes below "
                                                                        : "; below ";
      summary += fmt("%g", status == Status::Critical ? rule.critFreePercent : rule.warnFreePercent) + "%";
    }
    CheckResult r("disk_free", rule.path, status, summary);
    r.facts.set("size_bytes", static_cast<long long>(u.sizeBytes));
    r.facts.set("available_bytes", static_cast<long long>(u.availBytes));
    r.facts.set("free_percent", freePct);
    r.facts.set("inodes_free_percent", inodePct);
    out.results.push_back(std::move(r));
    out.samples.emplace_back(kDiskSize, Labels{{"path", rule.path}}, static_cast<double>(u.sizeBytes));
    out.samples.emplace_back(kDiskAvail, Labels{{"path", rule.path}}, static_cast<double>(u.availBytes));
    out.samples.emplace_back(kInodesAvail, Labels{{"path", rule.path}}, inodePct / 100.0);
  }

  if (!obs.memory.error.empty()) {
    out.results.emplace_back("memory", "memory", Status::Unknown, obs.memory.error);
  } else {
    double pct = 100.0 * static_cast<double>(obs.memory.availableBytes) /
                 static_cast<double>(obs.memory.totalBytes);
    Status s = lowIsBad(pct, params.memoryWarnPercent, params.memoryCritPercent);
    CheckResult r("memory", "memory", s,
                  humanBytes(obs.memory.availableBytes) + " of " + humanBytes(obs.memory.totalBytes) +
                      " memory available (" + fmt("%.1f", pct) + "%)");
    r.facts.set("available_bytes", static_cast<long long>(obs.memory.availableBytes));
    r.facts.set("total_bytes", static_cast<long long>(obs.memory.totalBytes));
    r.facts.set("available_percent", pct);
    out.results.push_back(std::move(r));
    out.samples.emplace_back(kMemAvail, Labels{}, static_cast<double>(obs.memory.availableBytes));
    out.samples.emplace_back(kMemTotal, Labels{}, static_cast<double>(obs.memory.totalBytes));
  }

  if (!obs.load.error.empty()) {
    out.results.emplace_back("load", "load", Status::Unknown, obs.load.error);
  } else {
    double perCpu = obs.load.load15 / obs.load.cpus;
    Status s = perCpu > params.loadCritPerCpu   ? Status::Critical
               : perCpu > params.loadWarnPerCpu ? Status::Warning
                                                : Status::Ok;
    CheckResult r("load", "load", s,
                  "load " + fmt("%.2f", obs.load.load1) + " " + fmt("%.2f", obs.load.load5) + " " +
                      fmt("%.2f", obs.load.load15) + " on " + std::to_string(obs.load.cpus) +
                      " CPUs (" + fmt("%.2f", perCpu) + " per CPU over 15 min)");
    r.facts.set("load1", obs.load.load1);
    r.facts.set("load5", obs.load.load5);
    r.facts.set("load15", obs.load.load15);
    r.facts.set("cpus", obs.load.cpus);
    out.results.push_back(std::move(r));
    out.samples.emplace_back(kLoad, Labels{}, perCpu);
  }

  for (const auto& name : params.processes) {
    if (!obs.processError.empty()) {
      out.results.emplace_back("process", name, Status::Unknown,
                               "cannot list processes: " + obs.processError);
      continue;
    }
    std::vector<int> pids;
    // comm is cut at 15 characters by the kernel; compare the same prefix.
    std::string commName = name.substr(0, 15);
    for (const auto& p : obs.processes)
      if (p.comm == commName || p.exe == name) pids.push_back(p.pid);
    Status s = pids.empty() ? Status::Critical : Status::Ok;
    CheckResult r("process", name, s,
                  pids.empty() ? name + " is not running"
                               : name + " is running (" + std::to_string(pids.size()) +
                                     (pids.size() == 1 ? " process)" : " processes)"));
    Json list = Json::array();
    for (size_t i = 0; i < pids.size() && i < 20; ++i) list.push(pids[i]);
    r.facts.set("pids", list);
    r.facts.set("count", static_cast<long long>(pids.size()));
    out.results.push_back(std::move(r));
    out.samples.emplace_back(kProcesses, Labels{{"name", name}}, static_cast<double>(pids.size()));
  }
  return out;
}

JobKind hostKind() {
  return JobKind{"host", "disk space and inodes, memory, load and processes of this host",
                 [](MapReader& params, const JobBuildEnv&) -> std::unique_ptr<Job> {
                   auto p = parseHostParams(params);
                   if (!p) return nullptr;
                   return std::make_unique<HostJob>(std::move(*p));
                 }};
}

}  // namespace mxpulse::jobs
