// SPDX-License-Identifier: Apache-2.0
// dns_auth: the job kind (see dns_auth.hpp for what it checks).
#include "jobs/dns_auth.hpp"

#include <algorithm>
#include <iterator>
#include <thread>

#include "agent/yaml_reader.hpp"
#include "jobs/dns_auth_internal.hpp"
#include "probes/ldns_resolver.hpp"

namespace mxpulse::jobs {

namespace {

/// Evaluates `items` in contiguous slices on up to `threads` threads and
/// appends the outputs in item order: the same results as one loop. (Still
/// pure: no I/O, no clock; the threads only share the CPU work of building
/// thousands of results and their facts.)
template <class T, class Fn>
void evaluateAll(const std::vector<T>& items, int threads, JobOutput& out, Fn fn) {
  size_t n = std::min<size_t>(static_cast<size_t>(std::max(1, threads)), items.size() / 64 + 1);
  std::vector<JobOutput> parts(n);
  auto slice = [&](size_t k) {
    for (size_t i = items.size() * k / n; i < items.size() * (k + 1) / n; ++i)
      fn(items[i], parts[k]);
  };
  std::vector<std::thread> pool;
  for (size_t k = 1; k < n; ++k) pool.emplace_back(slice, k);
  slice(0);
  for (auto& t : pool) t.join();
  for (auto& p : parts) {
    std::move(p.results.begin(), p.results.end(), std::back_inserter(out.results));
    std::move(p.samples.begin(), p.samples.end(), std::back_inserter(out.samples));
  }
}

}  // namespace

JobOutput evaluateDnsAuth(const DnsAuthParams& params, const DnsAuthObservations& obs) {
  JobOutput out;
  const int t = std::min(params.concurrency, static_cast<int>(std::thread::hardware_concurrency()));
  evaluateAll(obs.spf, t, out, [&](const auto& o, JobOutput& r) { evaluateSpf(params, o, r); });
  evaluateAll(obs.dkim, t, out, [&](const auto& o, JobOutput& r) { evaluateDkim(params, o, r); });
  evaluateAll(obs.dmarc, t, out, [&](const auto& o, JobOutput& r) { evaluateDmarc(params, o, r); });
  evaluateAll(obs.mx, t, out, [&](const auto& o, JobOutput& r) { evaluateMx(o, r); });
  evaluateAll(obs.ptr, t, out, [&](const auto& o, JobOutput& r) { evaluatePtr(o, r); });
  for (const auto& o : obs.mtaSts) evaluateMtaSts(params, o, out);
  for (const auto& o : obs.tlsRpt) evaluateTlsRpt(o, out);
  if (obs.dnsQuestions > 0)
    out.samples.emplace_back(dnsauth::kDnsQuestions, Labels{},
                             static_cast<double>(obs.dnsQuestions));
  return out;
}

namespace {

class DnsAuthJob : public Job {
 public:
  explicit DnsAuthJob(DnsAuthParams p) : params_(std::move(p)) {}

  JobOutput run(JobContext& ctx) override {
    DnsAuthTargets targets = collectTargets(params_, &ctx);
    probes::DnsResolverOptions options;
    options.servers = effectiveResolvers(params_);
    options.attemptTimeout = params_.dnsTimeout;
    options.attempts = params_.dnsAttempts;
    auto resolver = probes::makeDnsResolver(options);  // one per run: its cache is the run's
    std::int64_t now =
        std::chrono::duration_cast<std::chrono::seconds>(ctx.now().time_since_epoch()).count();
    DnsAuthObservations obs = observeDnsAuth(params_, targets, *resolver, ctx.deadline(), now);
    return evaluateDnsAuth(params_, obs);
  }

  std::vector<std::string> inventories() const override { return params_.inventories; }

  std::vector<std::string> plannedTargets(const JobContext& ctx) const override {
    DnsAuthTargets t = collectTargets(params_, &ctx);
    std::vector<std::string> out;
    for (const auto& d : t.domains) {
      if (params_.wants("spf")) {
        out.push_back("spf " + d.domain);
        for (const auto& ip : d.ips) out.push_back("spf " + d.domain + " " + ip);
      }
      if (params_.wants("dkim"))
        for (const auto& s : d.selectors) out.push_back("dkim " + s + "._domainkey." + d.domain);
      for (const char* c : {"dmarc", "mx", "mta_sts", "tls_rpt"})
        if (params_.wants(c)) out.push_back(std::string(c) + " " + d.domain);
    }
    if (params_.wants("ptr"))
      for (const auto& ip : t.ips) out.push_back("ptr " + ip.ip);
    return out;
  }

 private:
  DnsAuthParams params_;
};

}  // namespace

JobKind dnsAuthKind() {
  return JobKind{"dns_auth",
                 "SPF, DKIM, DMARC, MX, PTR/FCrDNS, MTA-STS and TLS-RPT of sending domains and IPs",
                 [](MapReader& params, const JobBuildEnv& env) -> std::unique_ptr<Job> {
                   auto p = parseDnsAuthParams(params, env);
                   if (!p) return nullptr;
                   return std::make_unique<DnsAuthJob>(std::move(*p));
                 }};
}

}  // namespace mxpulse::jobs
