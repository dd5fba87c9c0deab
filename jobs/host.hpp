// SPDX-License-Identifier: Apache-2.0
// host: health of the mail host itself.
//
// What it checks
//   disk_free   per configured mount: free space and free inodes (a
//               PowerMTA spool of small files runs out of inodes first)
//   memory      MemAvailable as a share of MemTotal
//   load        15-minute load average per CPU
//   process     each named process (pmtad, mariadbd, ...) is running,
//               matched on /proc/PID/comm or the basename of argv[0]
// Standard: none; thresholds follow common Nagios plugin defaults.
//
// Severity
//   free space/inodes below warn_free -> warning, below crit_free -> critical
//   memory available below warn/crit  -> warning/critical
//   load per core above warn/crit     -> warning/critical
//   a named process not running       -> critical
//   any reading that fails            -> unknown, with the reason
//
// Metrics (all gauges; `job` label added by the framework)
//   mxpulse_host_disk_size_bytes{path}, mxpulse_host_disk_available_bytes{path},
//   mxpulse_host_disk_available_inodes_ratio{path}, mxpulse_host_memory_available_bytes,
//   mxpulse_host_memory_total_bytes, mxpulse_host_load15_per_cpu,
//   mxpulse_host_processes{name} (number of matching processes)
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "agent/job.hpp"
#include "probes/host_stats.hpp"

namespace mxpulse::jobs {

struct DiskRule {
  std::string path;
  double warnFreePercent = 15;
  double critFreePercent = 5;
};

struct HostParams {
  std::vector<DiskRule> disks;
  double memoryWarnPercent = 10;
  double memoryCritPercent = 5;
  double loadWarnPerCpu = 2.0;
  double loadCritPerCpu = 4.0;
  std::vector<std::string> processes;
  std::string procRoot = "/proc";
};

/// What the I/O shell read; the evaluator sees nothing else.
struct HostObservations {
  std::vector<std::pair<std::string, probes::DiskUsage>> disks;  ///< in rule order
  probes::MemoryInfo memory;
  probes::LoadInfo load;
  std::vector<probes::ProcessInfo> processes;
  std::string processError;
};

/// Parses `params`; errors go to the reader. nullopt when invalid.
std::optional<HostParams> parseHostParams(MapReader& params);
/// Pure: observations -> results and samples.
JobOutput evaluateHost(const HostParams& params, const HostObservations& obs);
/// Reads the observations (the thin I/O shell).
HostObservations observeHost(const HostParams& params);

JobKind hostKind();

}  // namespace mxpulse::jobs
