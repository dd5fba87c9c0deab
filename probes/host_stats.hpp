// SPDX-License-Identifier: Apache-2.0
// Reads host health from the kernel: statvfs for file systems, /proc for
// memory, load and processes. No shell-outs. The /proc root is a parameter
// so tests can point it at a fixture tree.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mxpulse::probes {

struct DiskUsage {
  std::string error;  ///< non-empty if statvfs failed
  std::uint64_t sizeBytes = 0, availBytes = 0;
  std::uint64_t inodes = 0, availInodes = 0;  ///< inodes 0 = fs has no inode limit
};
DiskUsage statDisk(const std::string& path);

struct MemoryInfo {
  std::string error;
  std::uint64_t totalBytes = 0, availableBytes = 0;
};
MemoryInfo readMemory(const std::string& procRoot);

struct LoadInfo {
  std::string error;
  double load1 = 0, load5 = 0, load15 = 0;
  int cpus = 0;
};
/// `cpus` from /proc/stat (cpuN lines) so a fixture tree controls it too.
LoadInfo readLoad(const std::string& procRoot);

struct ProcessInfo {
  int pid = 0;
  std::string comm;   ///< /proc/PID/comm (kernel truncates to 15 chars)
  std::string exe;    ///< basename of argv[0]
};
/// Every process visible in procRoot; `error` set if procRoot is unreadable.
std::vector<ProcessInfo> listProcesses(const std::string& procRoot, std::string& error);

}  // namespace mxpulse::probes
