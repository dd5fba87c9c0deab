// SPDX-License-Identifier: Apache-2.0
// dns_auth: the job kind (see dns_auth.hpp for what it checks).
#include "jobs/dns_auth.hpp"

#include "agent/yaml_reader.hpp"
#include "jobs/dns_auth_internal.hpp"
#include "probes/ldns_resolver.hpp"

namespace mxpulse::jobs {

JobOutput evaluateDnsAuth(const DnsAuthParams& params, const DnsAuthObservations& obs) {
  JobOutput out;
  for (const auto& o : obs.spf) evaluateSpf(params, o, out);
  for (const auto& o : obs.dkim) evaluateDkim(params, o, out);
  for (const auto& o : obs.dmarc) evaluateDmarc(params, o, out);
  for (const auto& o : obs.mx) evaluateMx(o, out);
  for (const auto& o : obs.ptr) evaluatePtr(o, out);
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
