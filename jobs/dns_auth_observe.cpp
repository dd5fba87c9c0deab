// SPDX-License-Identifier: Apache-2.0
// dns_auth's I/O shell. The run's DNS goes through one LookupMemo (one
// question per name and type per run), warmed by an asynchronous walk of
// the names the checks will ask (jobs/dns_auth_memo.hpp); then the checks
// run on `concurrency` threads, each lookup a memo hit or, for what the walk
// could not foresee, a blocking DnsResolver::resolve() with the run's
// deadline. An include shared by a thousand domains is one query.
#include <algorithm>
#include <atomic>
#include <exception>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "jobs/dns_auth.hpp"
#include "jobs/dns_auth_memo.hpp"
#include "probes/dmarc_record.hpp"
#include "probes/mta_sts.hpp"
#include "probes/org_domain.hpp"

namespace mxpulse::jobs {

namespace {

using probes::DnsAnswer;
using probes::RrType;

class Tasks {
 public:
  void add(std::function<void()> f) { tasks_.push_back(std::move(f)); }

  /// Runs every task on up to `threads` threads; rethrows the first
  /// exception (a bug) after all threads have stopped.
  void run(int threads) {
    std::atomic<size_t> next{0};
    std::exception_ptr error;
    std::mutex m;
    auto worker = [&] {
      for (;;) {
        size_t i = next++;
        if (i >= tasks_.size()) return;
        try {
          tasks_[i]();
        } catch (...) {
          std::lock_guard<std::mutex> lock(m);
          if (!error) error = std::current_exception();
        }
      }
    };
    size_t n = std::min(tasks_.size(), static_cast<size_t>(std::max(1, threads)));
    std::vector<std::thread> pool;
    for (size_t i = 1; i < n; ++i) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
    if (error) std::rethrow_exception(error);
  }

 private:
  std::vector<std::function<void()>> tasks_;
};

bool isV6(const std::string& ip) {
  return ip.find(':') != std::string::npos;
}

size_t labelCount(const std::string& d) {
  return std::count(d.begin(), d.end(), '.') + 1;
}

std::string parent(const std::string& d) {
  size_t dot = d.find('.');
  return dot == std::string::npos ? "" : d.substr(dot + 1);
}

class Observer {
 public:
  Observer(const DnsAuthParams& p, dnsauth::LookupMemo& memo, Deadline deadline, std::int64_t now)
      : params_(p), memo_(memo), deadline_(deadline), now_(now) {}

  DnsAnswer lookup(const std::string& name, RrType type) { return memo_.get(name, type); }

  SpfObservation spf(const DnsAuthDomain& d) {
    SpfObservation o;
    o.domain = d.domain;
    probes::spf::Lookup fn = [this](const std::string& n, RrType t) { return lookup(n, t); };
    probes::spf::Options opts;
    opts.maxVoidLookups = params_.spfVoidLimit;
    opts.now = now_;
    opts.records = records_;
    probes::spf::Request req;
    req.domain = d.domain;
    req.sender = "postmaster@" + d.domain;
    req.helo = d.helo.empty() ? d.domain : d.helo;
    probes::spf::Options audit = opts;
    audit.audit = true;
    // The worst case is an IP that matches nothing; its family decides A
    // versus AAAA lookups, so walk as the first sending IP would.
    req.ip = d.ips.empty() ? "192.0.2.1" : d.ips.front();
    o.audit = probes::spf::checkHost(req, fn, audit);
    for (const auto& ip : d.ips) {
      req.ip = ip;
      o.perIp.emplace_back(ip, probes::spf::checkHost(req, fn, opts));
    }
    return o;
  }

  DkimObservation dkim(const std::string& domain, const std::string& selector) {
    return DkimObservation{domain, selector,
                           lookup(selector + "._domainkey." + domain, RrType::TXT)};
  }

  static bool hasDmarc(const DnsAnswer& a) {
    for (const auto& t : a.txt)
      if (probes::isDmarcRecord(t)) return true;
    return false;
  }

  /// RFC 9989 tree walk: the domain, then (past 8 labels) its 7-label
  /// suffix, then each shorter parent down to two labels. Public-suffix
  /// records at the TLD itself are out of scope for a sender's check.
  DmarcObservation dmarc(const std::string& domain) {
    DmarcObservation o;
    o.domain = domain;
    std::vector<std::string> names{domain};
    std::string p = domain;
    if (labelCount(p) > 8)
      while (labelCount(p) > 7) p = parent(p);
    else
      p = parent(p);
    for (; !p.empty() && labelCount(p) >= 2; p = parent(p)) names.push_back(p);
    for (const auto& n : names) {
      o.queried.push_back("_dmarc." + n);
      DnsAnswer a = lookup("_dmarc." + n, RrType::TXT);
      if (probes::isTemporaryFailure(a.status)) {
        o.dnsError = true;
        o.dnsErrorText = "TXT _dmarc." + n + ": " + std::string(probes::dnsStatusName(a.status)) +
                         (a.error.empty() ? "" : " (" + a.error + ")");
        o.answer = a;
        return o;
      }
      if (hasDmarc(a)) {
        o.recordDomain = n;
        o.answer = a;
        break;
      }
    }
    if (o.recordDomain.empty()) return o;
    std::string first;
    for (const auto& t : o.answer.txt)
      if (probes::isDmarcRecord(t) && first.empty()) first = t;
    probes::DmarcRecord rec = probes::parseDmarcRecord(first);
    std::string own = probes::organizationalDomain(o.recordDomain);
    std::vector<probes::DmarcUri> uris = rec.rua;
    uris.insert(uris.end(), rec.ruf.begin(), rec.ruf.end());
    for (const auto& u : uris) {
      if (u.domain.empty() || o.reportAuth.count(u.domain)) continue;
      if (probes::organizationalDomain(u.domain) == own) continue;
      o.reportAuth[u.domain] = lookup(o.recordDomain + "._report._dmarc." + u.domain, RrType::TXT);
    }
    return o;
  }

  MxObservation mx(const std::string& domain) {
    MxObservation o;
    o.domain = domain;
    o.mx = lookup(domain, RrType::MX);
    if (o.mx.status != probes::DnsStatus::Ok) return o;
    std::vector<probes::MxRecord> sorted = o.mx.mx;
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const auto& a, const auto& b) { return a.preference < b.preference; });
    for (const auto& m : sorted) {
      if (m.exchange.empty() || o.hosts.size() >= 20) continue;
      MxHostObservation h;
      h.name = m.exchange;
      h.preference = m.preference;
      h.a = lookup(m.exchange, RrType::A);
      h.aaaa = lookup(m.exchange, RrType::AAAA);
      o.hosts.push_back(std::move(h));
    }
    return o;
  }

  PtrObservation ptr(const DnsAuthIp& ip) {
    PtrObservation o;
    o.ip = ip.ip;
    o.helo = ip.helo;
    o.ptr = lookup(probes::ptrName(ip.ip), RrType::PTR);
    for (const auto& n : o.ptr.names) {
      if (o.forward.size() >= 10) break;
      o.forward.emplace_back(n, lookup(n, isV6(ip.ip) ? RrType::AAAA : RrType::A));
    }
    return o;
  }

  StsObservation mtaSts(const std::string& domain, const probes::HttpsClient* client,
                        const std::string& setupError) {
    StsObservation o;
    o.domain = domain;
    o.txt = lookup("_mta-sts." + domain, RrType::TXT);
    bool sts = false;
    for (const auto& t : o.txt.txt) sts = sts || probes::isStsRecord(t);
    if (!sts || probes::isTemporaryFailure(o.txt.status)) return o;
    o.mx = mx(domain);
    std::string host = "mta-sts." + domain;
    o.hostA = lookup(host, RrType::A);
    o.hostAaaa = lookup(host, RrType::AAAA);
    std::vector<std::string> addrs = o.hostA.addresses;
    addrs.insert(addrs.end(), o.hostAaaa.addresses.begin(), o.hostAaaa.addresses.end());
    if (!client) {
      o.setupError = setupError;
      return o;
    }
    if (addrs.empty()) return o;
    o.attempted = true;
    o.response = client->get(addrs, host, params_.mtaStsPort, "/.well-known/mta-sts.txt", 64 * 1024,
                             deadline_.capped(params_.mtaStsTimeout));
    return o;
  }

  TlsRptObservation tlsRpt(const std::string& domain) {
    TlsRptObservation o;
    o.domain = domain;
    o.txt = lookup("_smtp._tls." + domain, RrType::TXT);
    DnsAnswer sts = lookup("_mta-sts." + domain, RrType::TXT);  // cached when mta_sts ran
    for (const auto& t : sts.txt) o.stsPublished = o.stsPublished || probes::isStsRecord(t);
    return o;
  }

 private:
  const DnsAuthParams& params_;
  dnsauth::LookupMemo& memo_;
  std::shared_ptr<probes::spf::RecordCache> records_ = std::make_shared<probes::spf::RecordCache>();
  Deadline deadline_;
  std::int64_t now_;
};

}  // namespace

DnsAuthObservations observeDnsAuth(const DnsAuthParams& params, const DnsAuthTargets& targets,
                                   probes::DnsResolver& resolver, Deadline deadline,
                                   std::int64_t now) {
  DnsAuthObservations obs;
  dnsauth::LookupMemo memo(resolver, deadline);
  dnsauth::prefetchRun(memo, params, targets);
  Observer o(params, memo, deadline, now);
  Tasks tasks;
  const auto& domains = targets.domains;
  // Slots are sized up front; each task writes only its own.
  if (params.wants("spf")) {
    obs.spf.resize(domains.size());
    for (size_t i = 0; i < domains.size(); ++i)
      tasks.add([&, i] { obs.spf[i] = o.spf(domains[i]); });
  }
  if (params.wants("dkim")) {
    for (const auto& d : domains)
      for (const auto& s : d.selectors) obs.dkim.push_back(DkimObservation{d.domain, s, {}});
    for (size_t i = 0; i < obs.dkim.size(); ++i)
      tasks.add([&, i] { obs.dkim[i] = o.dkim(obs.dkim[i].domain, obs.dkim[i].selector); });
  }
  if (params.wants("dmarc")) {
    obs.dmarc.resize(domains.size());
    for (size_t i = 0; i < domains.size(); ++i)
      tasks.add([&, i] { obs.dmarc[i] = o.dmarc(domains[i].domain); });
  }
  if (params.wants("mx")) {
    obs.mx.resize(domains.size());
    for (size_t i = 0; i < domains.size(); ++i)
      tasks.add([&, i] { obs.mx[i] = o.mx(domains[i].domain); });
  }
  if (params.wants("ptr")) {
    obs.ptr.resize(targets.ips.size());
    for (size_t i = 0; i < targets.ips.size(); ++i)
      tasks.add([&, i] { obs.ptr[i] = o.ptr(targets.ips[i]); });
  }
  std::unique_ptr<probes::HttpsClient> client;
  std::string setupError;
  if (params.wants("mta_sts") && !domains.empty()) {
    client = probes::HttpsClient::create(params.mtaStsCaFile, setupError);
    obs.mtaSts.resize(domains.size());
    for (size_t i = 0; i < domains.size(); ++i)
      tasks.add([&, i] { obs.mtaSts[i] = o.mtaSts(domains[i].domain, client.get(), setupError); });
  }
  if (params.wants("tls_rpt")) {
    obs.tlsRpt.resize(domains.size());
    for (size_t i = 0; i < domains.size(); ++i)
      tasks.add([&, i] { obs.tlsRpt[i] = o.tlsRpt(domains[i].domain); });
  }
  tasks.run(params.concurrency);
  obs.dnsQuestions = memo.asked();
  return obs;
}

}  // namespace mxpulse::jobs
