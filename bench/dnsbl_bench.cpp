// SPDX-License-Identifier: Apache-2.0
// DNSBL sweep benchmark: a local NSD on loopback serves N DNSBL zones in
// which about P% of M IPs are listed; the real dnsbl job sweeps every IP on
// every zone (rate limit off), several times, each with a fresh resolver
// (no cache between sweeps). It checks that every listing was found and
// nothing else, prints queries/s, wall time and peak RSS, runs
// `mxpulse once` on the same sweep for the agent's own peak RSS, then runs
// dnsperf on the same queries against the same server and prints our rate
// as a fraction of dnsperf's (one dnsperf pass right after each sweep, so
// both see the same load on a shared machine).
//
//   bench_dnsbl [--ips 1024] [--zones 10] [--percent 3] [--runs 5] [--rate 0]
//               [--in-flight 256] [--no-dnsperf] [--serve-only SECONDS]
// Goals (ARCHITECTURE.md, issue 4): >= 50% of dnsperf's rate, <= 30 MiB RSS,
// every listing found, no false listing. A benchmark, never a test.
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <sstream>

#include "agent/job.hpp"
#include "agent/yaml_reader.hpp"
#include "jobs/dnsbl.hpp"
#include "probes/dns.hpp"
#include "tests/support/nsd_server.hpp"

using namespace mxpulse;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  int ips = 1024, zones = 10, percent = 3, runs = 5, inFlight = 256;  // the job's default
  double rate = 0;
  bool dnsperf = true;
  int serveSeconds = 0;  ///< only serve the zones this long (for profiling by hand)
};

std::string ipOf(int i) {
  return "198.18." + std::to_string(i / 256) + "." + std::to_string(i % 256);
}
std::string zoneOf(int z) {
  return "bench" + std::to_string(z) + ".bl.test";
}

/// Deterministic "listed" choice, spread over IPs and zones.
bool listed(int ip, int zone, int percent) {
  unsigned h = static_cast<unsigned>(ip) * 2654435761u ^ static_cast<unsigned>(zone + 1) * 40503u;
  h ^= h >> 15;
  h *= 2246822519u;
  h ^= h >> 13;
  return static_cast<int>(h % 100) < percent;
}

class BenchContext : public JobContext {
 public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::now();
  }
  Deadline deadline() const override { return deadline_; }
  bool stopRequested() const override { return false; }
  const InventorySnapshot* inventory(const std::string&) const override { return nullptr; }
  Deadline deadline_ = Deadline::in(std::chrono::seconds(120));
};

long peakRssKiB(int who) {
  rusage ru{};
  getrusage(who, &ru);
  return ru.ru_maxrss;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

std::string paramsYaml(const Options& o, const std::string& resolver) {
  std::ostringstream y;
  y << "resolvers: [\"" << resolver << "\"]\n"
    << "rate_limit: " << o.rate << "\nmax_in_flight: " << o.inFlight << "\nzones:\n";
  for (int z = 0; z < o.zones; ++z) y << "  - " << zoneOf(z) << "\n";
  y << "ips:\n";
  for (int i = 0; i < o.ips; ++i) y << "  - " << ipOf(i) << "\n";
  return y.str();
}

/// One dnsperf pass over `file`; its queries/s, or 0 (with a message) on failure.
double runDnsperf(int port, const std::string& file, int inFlight, std::string& lost) {
  auto r = test::runProcess({"dnsperf", "-s", "127.0.0.1", "-p", std::to_string(port), "-d", file,
                             "-n", "1", "-q", std::to_string(inFlight), "-e"},
                            {}, std::chrono::minutes(3));
  size_t at = r.out.find("Queries per second:");
  if (r.exitCode != 0 || at == std::string::npos) {
    std::printf("dnsperf failed (exit %d): %s%s\n", r.exitCode, r.out.c_str(), r.err.c_str());
    return 0;
  }
  size_t l = r.out.find("Queries lost:");
  lost = l == std::string::npos ? "" : r.out.substr(l + 13, r.out.find('\n', l) - l - 13);
  lost.erase(0, lost.find_first_not_of(' '));
  return std::atof(r.out.c_str() + at + std::strlen("Queries per second:"));
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string("0"); };
    if (a == "--ips")
      o.ips = std::stoi(next());
    else if (a == "--zones")
      o.zones = std::stoi(next());
    else if (a == "--percent")
      o.percent = std::stoi(next());
    else if (a == "--runs")
      o.runs = std::max(1, std::stoi(next()));
    else if (a == "--rate")
      o.rate = std::stod(next());
    else if (a == "--in-flight")
      o.inFlight = std::stoi(next());
    else if (a == "--no-dnsperf")
      o.dnsperf = false;
    else if (a == "--serve-only")
      o.serveSeconds = std::stoi(next());
    else {
      std::cerr << "usage: bench_dnsbl [--ips N] [--zones N] [--percent P] [--runs N] [--rate QPS] "
                   "[--in-flight N] [--no-dnsperf] [--serve-only SECONDS]\n";
      return 64;
    }
  }
  if (!test::NsdServer::available()) {
    std::cerr << "bench_dnsbl: nsd is not installed (scripts/deps.sh --test)\n";
    return 77;
  }

  // Zones, the expected listings, and the query list dnsperf replays.
  test::NsdServer::Zones zones;
  std::vector<std::string> queries;
  int expectedListings = 0;
  for (int z = 0; z < o.zones; ++z) {
    std::string text = "2.0.0.127 A 127.0.0.2\n2.0.0.127 TXT \"test point\"\n";
    queries.push_back("2.0.0.127." + zoneOf(z) + " A");
    queries.push_back("1.0.0.127." + zoneOf(z) + " A");
    for (int i = 0; i < o.ips; ++i) {
      std::string owner = probes::reverseName(ipOf(i), "");
      queries.push_back(owner + "." + zoneOf(z) + " A");
      if (!listed(i, z, o.percent)) continue;
      ++expectedListings;
      text += owner + " A 127.0.0.2\n" + owner + " TXT \"listed by " + zoneOf(z) + "\"\n";
      queries.push_back(owner + "." + zoneOf(z) + " TXT");
    }
    zones.emplace_back(zoneOf(z), text);
  }
  test::NsdServer nsd(zones);
  std::printf("NSD %s: %d zones, %d IPs, %d listings (%.1f%%), %zu queries per sweep\n",
              nsd.address().c_str(), o.zones, o.ips, expectedListings,
              100.0 * expectedListings / (o.ips * o.zones), queries.size());

  if (o.serveSeconds > 0) {
    // Until the time is up or SIGINT/SIGTERM: either way NSD is stopped.
    std::fflush(stdout);
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);
    timespec wait{o.serveSeconds, 0};
    sigtimedwait(&stop, nullptr, &wait);
    return 0;
  }

  // dnsperf replays the same queries; it runs right after each of our
  // sweeps so that both see the same load on this shared machine.
  test::TempDir perfDir;
  {
    std::string data;
    for (const auto& q : queries) data += q + "\n";
    test::writeFile(perfDir.file("queries.txt"), data);
  }
  JobRegistry registry;
  registerBuiltinJobs(registry);
  std::vector<double> rates, walls, theirs, ratios;
  long rssBefore = peakRssKiB(RUSAGE_SELF);
  bool correct = true;
  for (int run = 0; run < o.runs; ++run) {
    YAML::Node params = YAML::Load(paramsYaml(o, nsd.address()));
    ConfigErrors errors("bench");
    MapReader reader(params, "params", errors);
    auto job = registry.find("dnsbl")->create(reader, JobBuildEnv());
    reader.finish();
    if (!job || !errors.empty()) {
      for (const auto& e : errors.errors()) std::cerr << e << "\n";
      return 1;
    }
    BenchContext ctx;
    auto start = Clock::now();
    JobOutput out = job->run(ctx);
    double wall = std::chrono::duration<double>(Clock::now() - start).count();

    int found = 0, falseListings = 0, missed = 0, unknown = 0, unhealthy = 0;
    for (const auto& r : out.results) {
      if (r.check == "dnsbl_zone") {
        unhealthy += r.status != Status::Ok;
        continue;
      }
      size_t space = r.target.find(' ');
      std::string ip = r.target.substr(0, space), zone = r.target.substr(space + 1);
      int i = 0, z = std::stoi(zone.substr(5));
      {
        int a, b, c, d;
        std::sscanf(ip.c_str(), "%d.%d.%d.%d", &a, &b, &c, &d);
        i = c * 256 + d;
      }
      bool expect = listed(i, z, o.percent);
      if (r.status == Status::Unknown)
        ++unknown;
      else if (r.status == Status::Critical)
        (expect ? found : falseListings)++;
      else if (expect)
        ++missed;
    }
    bool ok = found == expectedListings && falseListings == 0 && missed == 0 && unknown == 0 &&
              unhealthy == 0;
    correct = correct && ok;
    double rate = static_cast<double>(queries.size()) / wall;
    rates.push_back(rate);
    walls.push_back(wall);
    std::printf(
        "sweep %d: %.3f s, %.0f queries/s; listings found %d/%d, false %d, missed %d, "
        "unknown %d, unhealthy zones %d%s",
        run + 1, wall, rate, found, expectedListings, falseListings, missed, unknown, unhealthy,
        ok ? "" : "  <-- WRONG");
    if (o.dnsperf) {
      std::string lost;
      double t = runDnsperf(nsd.port(), perfDir.file("queries.txt"), o.inFlight, lost);
      if (t > 0) {
        theirs.push_back(t);
        ratios.push_back(rate / t);
        std::printf(" | dnsperf %.0f queries/s (lost %s) | ours/dnsperf %.0f%%", t, lost.c_str(),
                    100.0 * rate / t);
      }
    }
    std::printf("\n");
  }
  double ours = median(rates);
  long rss = peakRssKiB(RUSAGE_SELF);
  std::printf(
      "ours: median %.0f queries/s (best %.0f), median wall %.3f s; peak RSS %.1f MiB "
      "(%.1f MiB before the sweeps)\n",
      ours, *std::max_element(rates.begin(), rates.end()), median(walls), rss / 1024.0,
      rssBefore / 1024.0);

  // The agent itself: `mxpulse once` on the same sweep, no textfile.
  {
    test::TempDir dir;
    std::string cfg = "agent: {state_db: " + dir.file("state.db") +
                      ", textfile: \"\", max_splay: 0s}\n"
                      "jobs:\n  - name: dnsbl\n    kind: dnsbl\n    every: 1h\n    timeout: 2m\n"
                      "    params:\n";
    std::istringstream in(paramsYaml(o, nsd.address()));
    for (std::string line; std::getline(in, line);) cfg += "      " + line + "\n";
    test::writeFile(dir.file("agent.yaml"), cfg);
    auto start = Clock::now();
    auto r = test::runProcess({test::binary(), "--config", dir.file("agent.yaml"), "once"}, {},
                              std::chrono::minutes(3));
    double wall = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf(
        "mxpulse once (sweep + SQLite store of %d results): exit %d, %.3f s, peak RSS "
        "%.1f MiB\n",
        o.ips * o.zones + o.zones, r.exitCode, wall, peakRssKiB(RUSAGE_CHILDREN) / 1024.0);
  }

  if (!ratios.empty())
    std::printf(
        "dnsperf (-q %d -e, one pass after each sweep): median %.0f queries/s; ours / dnsperf: "
        "median %.0f%%, best %.0f%% (goal >= 50%%)\n",
        o.inFlight, median(theirs), 100.0 * median(ratios),
        100.0 * *std::max_element(ratios.begin(), ratios.end()));
  std::printf("correct: %s; peak RSS goal <= 30 MiB: %s\n", correct ? "yes" : "NO",
              rss <= 30 * 1024 ? "met" : "MISSED");
  return correct ? 0 : 1;
}
