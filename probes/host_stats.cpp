// SPDX-License-Identifier: Apache-2.0
#include "probes/host_stats.hpp"

#include <dirent.h>
#include <sys/statvfs.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace mxpulse::probes {

namespace {
// Small /proc files only: cap reads so a hostile or odd file cannot balloon.
bool readSmallFile(const std::string& path, std::string& out, size_t cap = 1 << 20) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.clear();
  char buf[4096];
  while (in && out.size() < cap) {
    in.read(buf, sizeof buf);
    out.append(buf, static_cast<size_t>(in.gcount()));
  }
  return true;
}
}  // namespace

DiskUsage statDisk(const std::string& path) {
  DiskUsage d;
  struct statvfs st {};
  if (statvfs(path.c_str(), &st) != 0) {
    d.error = "statvfs " + path + ": " + std::strerror(errno);
    return d;
  }
  d.sizeBytes = static_cast<std::uint64_t>(st.f_blocks) * st.f_frsize;
  // f_bavail: what an unprivileged process (our MTA) can still use.
  d.availBytes = static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
  d.inodes = st.f_files;
  d.availInodes = st.f_favail;
  return d;
}

MemoryInfo readMemory(const std::string& procRoot) {
  MemoryInfo m;
  std::string text;
  if (!readSmallFile(procRoot + "/meminfo", text)) {
    m.error = "cannot read " + procRoot + "/meminfo";
    return m;
  }
  std::istringstream in(text);
  std::string line;
  bool haveTotal = false, haveAvail = false;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string key;
    std::uint64_t kb = 0;
    if (!(ls >> key >> kb)) continue;
    if (key == "MemTotal:") {
      m.totalBytes = kb * 1024;
      haveTotal = true;
    } else if (key == "MemAvailable:") {
      m.availableBytes = kb * 1024;
      haveAvail = true;
    }
  }
  if (!haveTotal || !haveAvail || m.totalBytes == 0)
    m.error = procRoot + "/meminfo has no MemTotal/MemAvailable (kernel older than 3.14?)";
  return m;
}

LoadInfo readLoad(const std::string& procRoot) {
  LoadInfo l;
  std::string text;
  if (!readSmallFile(procRoot + "/loadavg", text)) {
    l.error = "cannot read " + procRoot + "/loadavg";
    return l;
  }
  std::istringstream in(text);
  if (!(in >> l.load1 >> l.load5 >> l.load15)) {
    l.error = procRoot + "/loadavg is malformed";
    return l;
  }
  if (!readSmallFile(procRoot + "/stat", text)) {
    l.error = "cannot read " + procRoot + "/stat";
    return l;
  }
  std::istringstream st(text);
  std::string line;
  while (std::getline(st, line)) {
    if (line.size() > 3 && line.compare(0, 3, "cpu") == 0 &&
        std::isdigit(static_cast<unsigned char>(line[3])))
      ++l.cpus;
  }
  if (l.cpus == 0) l.error = procRoot + "/stat lists no CPUs";
  return l;
}

std::vector<ProcessInfo> listProcesses(const std::string& procRoot, std::string& error) {
  std::vector<ProcessInfo> out;
  DIR* dir = opendir(procRoot.c_str());
  if (!dir) {
    error = "cannot list " + procRoot + ": " + std::strerror(errno);
    return out;
  }
  while (dirent* e = readdir(dir)) {
    const char* name = e->d_name;
    if (!std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    ProcessInfo p;
    p.pid = std::atoi(name);
    std::string base = procRoot + "/" + name;
    std::string text;
    if (readSmallFile(base + "/comm", text, 256)) {
      while (!text.empty() && (text.back() == '\n')) text.pop_back();
      p.comm = text;
    }
    if (readSmallFile(base + "/cmdline", text, 4096)) {
      std::string argv0 = text.substr(0, text.find('\0'));
      size_t slash = argv0.rfind('/');
      p.exe = slash == std::string::npos ? argv0 : argv0.substr(slash + 1);
    }
    if (!p.comm.empty() || !p.exe.empty()) out.push_back(std::move(p));  // raced exits vanish
  }
  closedir(dir);
  return out;
}

}  // namespace mxpulse::probes
