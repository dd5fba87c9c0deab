// SPDX-License-Identifier: Apache-2.0
#include "jobs/dns_auth_memo.hpp"

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <set>

#include "probes/mta_sts.hpp"
#include "probes/spf.hpp"

namespace mxpulse::jobs::dnsauth {

using probes::DnsAnswer;
using probes::RrType;

std::string normalName(const std::string& name) {
  std::string n = name;
  for (auto& c : n)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  if (!n.empty() && n.back() == '.') n.pop_back();
  return n;
}

namespace {
std::string keyOf(const std::string& name, RrType type) {
  return std::to_string(static_cast<int>(type)) + "/" + name;
}
}  // namespace

DnsAnswer LookupMemo::get(const std::string& rawName, RrType type) {
  std::string name = normalName(rawName);
  std::string key = keyOf(name, type);
  Shard& s = shard(key);
  std::promise<DnsAnswer> promise;
  std::shared_future<DnsAnswer> future;
  bool mine = false;
  {
    std::lock_guard<std::mutex> lock(s.mutex);
    auto it = s.answers.find(key);
    if (it == s.answers.end()) {
      future = promise.get_future().share();
      s.answers.emplace(key, future);
      mine = true;
    } else {
      future = it->second;
    }
  }
  if (mine) {
    {
      std::lock_guard<std::mutex> lock(askedMutex_);
      ++asked_;
    }
    try {
      promise.set_value(resolver_.resolve(name, type, deadline_));
    } catch (...) {
      promise.set_exception(std::current_exception());
    }
  }
  return future.get();
}

std::optional<DnsAnswer> LookupMemo::peek(const std::string& rawName, RrType type) {
  std::string key = keyOf(normalName(rawName), type);
  Shard& s = shard(key);
  std::shared_future<DnsAnswer> future;
  {
    std::lock_guard<std::mutex> lock(s.mutex);
    auto it = s.answers.find(key);
    if (it == s.answers.end()) return std::nullopt;
    future = it->second;
  }
  if (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return std::nullopt;
  return future.get();
}

size_t LookupMemo::asked() const {
  std::lock_guard<std::mutex> lock(askedMutex_);
  return asked_;
}

void LookupMemo::prefetch(const std::vector<Question>& questions) {
  // What the batch shares with the resolver's callbacks: each question's
  // promise, set exactly once (by its answer, or by the give-up below).
  struct Batch {
    std::vector<std::promise<DnsAnswer>> promises;
    std::unique_ptr<std::atomic<bool>[]> settled;
    std::atomic<size_t> pending{0};
    std::mutex m;
    std::condition_variable cv;
    bool settle(size_t i, const DnsAnswer& a) {
      if (settled[i].exchange(true)) return false;
      promises[i].set_value(a);
      return true;
    }
  };
  auto batch = std::make_shared<Batch>();
  std::vector<probes::DnsQuestion> mine;
  for (const auto& [rawName, type] : questions) {
    std::string name = normalName(rawName);
    std::string key = keyOf(name, type);
    Shard& s = shard(key);
    std::promise<DnsAnswer> promise;
    {
      std::lock_guard<std::mutex> lock(s.mutex);
      if (s.answers.count(key)) continue;
      s.answers.emplace(key, promise.get_future().share());
    }
    batch->promises.push_back(std::move(promise));
    mine.push_back(probes::DnsQuestion{name, type});
  }
  if (mine.empty()) return;
  {
    std::lock_guard<std::mutex> lock(askedMutex_);
    asked_ += mine.size();
  }
  batch->settled.reset(new std::atomic<bool>[mine.size()]);
  for (size_t i = 0; i < mine.size(); ++i) batch->settled[i] = false;
  batch->pending = mine.size();
  // The whole wave in one hand-off: the resolver paces it (maxInFlight).
  // Its callbacks run on the I/O thread; only the last one wakes us.
  resolver_.queryMany(mine, deadline_, [batch](size_t i, const DnsAnswer& a) {
    if (!batch->settle(i, a)) return;
    if (--batch->pending == 0) {
      std::lock_guard<std::mutex> lock(batch->m);
      batch->cv.notify_all();
    }
  });
  std::unique_lock<std::mutex> lock(batch->m);
  // The resolver answers every query by the deadline; the extra second only
  // guards against a broken one: then the rest read as timed out, so no
  // check waits on them forever.
  if (batch->cv.wait_until(lock, deadline_.at() + std::chrono::seconds(1),
                           [&] { return batch->pending == 0; }))
    return;
  lock.unlock();
  DnsAnswer timeout;
  timeout.status = probes::DnsStatus::Timeout;
  timeout.error = "no answer before the deadline";
  for (size_t i = 0; i < mine.size(); ++i) batch->settle(i, timeout);
}

namespace {

/// Which address types an SPF walk for these IPs asks (A for IPv4, AAAA
/// for IPv6; the audit walks as the first IP, or IPv4 without IPs).
struct Families {
  bool v4 = false, v6 = false;
};

void addAddresses(std::vector<Question>& out, const std::string& name, Families f) {
  if (f.v4) out.emplace_back(name, RrType::A);
  if (f.v6) out.emplace_back(name, RrType::AAAA);
}

class Walker {
 public:
  Walker(LookupMemo& memo, const DnsAuthParams& params) : memo_(memo), params_(params) {}

  void run(const DnsAuthTargets& targets) {
    std::vector<Question> wave;
    for (const auto& d : targets.domains) {
      Families f;
      for (const auto& ip : d.ips) (ip.find(':') == std::string::npos ? f.v4 : f.v6) = true;
      if (d.ips.empty() || d.ips.front().find(':') == std::string::npos) f.v4 = true;
      if (params_.wants("spf")) spf(d.domain, f, wave);
      if (params_.wants("dkim"))
        for (const auto& s : d.selectors)
          wave.emplace_back(s + "._domainkey." + d.domain, RrType::TXT);
      if (params_.wants("dmarc")) wave.emplace_back("_dmarc." + d.domain, RrType::TXT);
      if (params_.wants("mx") || params_.wants("mta_sts")) mx(d.domain, Families{true, true}, wave);
      if (params_.wants("mta_sts") || params_.wants("tls_rpt")) {
        wave.emplace_back("_mta-sts." + d.domain, RrType::TXT);
        stsHosts_.push_back(d.domain);
      }
      if (params_.wants("tls_rpt")) wave.emplace_back("_smtp._tls." + d.domain, RrType::TXT);
    }
    if (params_.wants("ptr"))
      for (const auto& ip : targets.ips) {
        wave.emplace_back(probes::ptrName(ip.ip), RrType::PTR);
        ptrs_.emplace_back(probes::ptrName(ip.ip), ip.ip.find(':') == std::string::npos
                                                       ? Families{true, false}
                                                       : Families{false, true});
      }
    // Each wave's answers name the next wave's questions; 12 waves cover
    // any record within the 10-lookup limit.
    for (int i = 0; i < 12 && !wave.empty(); ++i) {
      memo_.prefetch(wave);
      wave = next();
    }
  }

 private:
  void spf(const std::string& domain, Families f, std::vector<Question>& out) {
    auto key = std::make_pair(domain, f.v4 * 2 + f.v6);
    if (!spfSeen_.insert(key).second) return;
    out.emplace_back(domain, RrType::TXT);
    spfPending_.emplace_back(domain, f);
  }

  void mx(const std::string& domain, Families f, std::vector<Question>& out) {
    out.emplace_back(domain, RrType::MX);
    mxPending_.emplace_back(domain, f);
  }

  std::vector<Question> next() {
    std::vector<Question> out;
    auto spfNow = std::move(spfPending_);
    auto mxNow = std::move(mxPending_);
    auto ptrNow = std::move(ptrs_);
    auto stsNow = std::move(stsHosts_);
    for (const auto& [domain, f] : spfNow) {
      auto a = memo_.peek(domain, RrType::TXT);
      if (!a) continue;
      std::vector<std::string> records;
      for (const auto& t : a->txt)
        if (probes::spf::isSpfRecord(t)) records.push_back(t);
      probes::spf::Record rec;
      std::string error;
      if (records.size() != 1 || !probes::spf::parseRecord(records[0], rec, error)) continue;
      auto target = [&](const std::string& spec) -> std::string {
        if (spec.find('%') != std::string::npos) return "";  // macros: known only per IP
        return spec.empty() ? domain : normalName(spec);
      };
      for (const auto& d : rec.directives) {
        std::string t = target(d.domainSpec);
        if (t.empty()) continue;
        switch (d.mechanism) {
          case probes::spf::Mechanism::Include:
            spf(t, f, out);
            break;
          case probes::spf::Mechanism::A:
            addAddresses(out, t, f);
            break;
          case probes::spf::Mechanism::Mx:
            mx(t, f, out);
            break;
          case probes::spf::Mechanism::Exists:
            out.emplace_back(t, RrType::A);
            break;
          default:
            break;
        }
      }
      if (rec.redirect && !rec.hasAll) {
        std::string t = target(*rec.redirect);
        if (!t.empty()) spf(t, f, out);
      }
    }
    for (const auto& [domain, f] : mxNow) {
      auto a = memo_.peek(domain, RrType::MX);
      if (!a) continue;
      for (const auto& m : a->mx)
        if (!m.exchange.empty()) addAddresses(out, m.exchange, f);
    }
    for (const auto& [name, f] : ptrNow) {
      auto a = memo_.peek(name, RrType::PTR);
      if (!a) continue;
      for (const auto& n : a->names) addAddresses(out, n, f);
    }
    for (const auto& domain : stsNow) {
      auto a = memo_.peek("_mta-sts." + domain, RrType::TXT);
      if (!a) continue;
      for (const auto& t : a->txt)
        if (probes::isStsRecord(t)) {
          addAddresses(out, "mta-sts." + domain, Families{true, true});
          break;
        }
    }
    return out;
  }

  LookupMemo& memo_;
  const DnsAuthParams& params_;
  std::set<std::pair<std::string, int>> spfSeen_;
  std::vector<std::pair<std::string, Families>> spfPending_, mxPending_, ptrs_;
  std::vector<std::string> stsHosts_;
};

}  // namespace

void prefetchRun(LookupMemo& memo, const DnsAuthParams& params, const DnsAuthTargets& targets) {
  Walker(memo, params).run(targets);
}

}  // namespace mxpulse::jobs::dnsauth
