// SPDX-License-Identifier: Apache-2.0
#include "jobs/pmta.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "agent/yaml_reader.hpp"
#include "jobs/plumb_common.hpp"
#include "probes/bounded_http.hpp"

namespace mxpulse::jobs {

namespace {

const MetricDesc kUp{"mxpulse_pmta_up",
                     "Whether PowerMTA's status could be read (1) or not (0), by source.",
                     MetricType::Gauge};
const MetricDesc kQueuedRcpt{"mxpulse_pmta_queued_recipients",
                             "Recipients queued in PowerMTA over all queue kinds.",
                             MetricType::Gauge};
const MetricDesc kQueuedMsg{"mxpulse_pmta_queued_messages", "Messages queued in PowerMTA.",
                            MetricType::Gauge};
const MetricDesc kQueuedBytes{"mxpulse_pmta_queued_bytes", "Size of PowerMTA's queued messages.",
                              MetricType::Gauge};
const MetricDesc kConnections{"mxpulse_pmta_connections",
                              "Current SMTP connections of PowerMTA by direction.",
                              MetricType::Gauge};
const MetricDesc kTrafficRcpt{"mxpulse_pmta_traffic_recipients_total",
                              "Recipients PowerMTA received (in) or delivered (out) since start.",
                              MetricType::Counter};
const MetricDesc kTrafficMsg{"mxpulse_pmta_traffic_messages_total",
                             "Messages PowerMTA received (in) or delivered (out) since start.",
                             MetricType::Counter};
const MetricDesc kTrafficBytes{"mxpulse_pmta_traffic_bytes_total",
                               "Bytes PowerMTA received (in) or delivered (out) since start.",
                               MetricType::Counter};
const MetricDesc kLastHour{"mxpulse_pmta_last_hour_recipients",
                           "Recipients PowerMTA received (in) or delivered (out) in the last hour.",
                           MetricType::Gauge};
const MetricDesc kDomainQueued{"mxpulse_pmta_domain_queued_recipients",
                               "Recipients queued per destination domain (top N and other).",
                               MetricType::Gauge};
const MetricDesc kDomainOldest{
    "mxpulse_pmta_domain_oldest_message_timestamp_seconds",
    "Queue time of the oldest message per destination domain, where PowerMTA reports it.",
    MetricType::Gauge};
const MetricDesc kVmtaQueued{"mxpulse_pmta_vmta_queued_recipients",
                             "Recipients queued per VirtualMTA (top N and other).",
                             MetricType::Gauge};
const MetricDesc kVmtaBackoff{"mxpulse_pmta_vmta_backoff_queues",
                              "Queues of the VirtualMTA in backoff mode (top N and other).",
                              MetricType::Gauge};
const MetricDesc kBackoffQueues{"mxpulse_pmta_backoff_queues", "PowerMTA queues in backoff mode.",
                                MetricType::Gauge};
const MetricDesc kPausedQueues{"mxpulse_pmta_paused_queues", "Paused PowerMTA queues.",
                               MetricType::Gauge};
const MetricDesc kDisabledSources{"mxpulse_pmta_disabled_sources",
                                  "Disabled source IPs over all PowerMTA queues.",
                                  MetricType::Gauge};

constexpr size_t kReasonMax = 200;

std::string clip(const std::string& s, size_t n = kReasonMax) {
  return s.size() <= n ? s : s.substr(0, n - 3) + "...";
}

std::string mib(double kb) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", kb / 1024.0);
  return buf;
}

/// Higher-is-worse thresholds; 0 turns a tier off.
Status highIsBad(std::int64_t v, std::int64_t warn, std::int64_t crit) {
  if (crit > 0 && v >= crit) return Status::Critical;
  if (warn > 0 && v >= warn) return Status::Warning;
  return Status::Ok;
}

std::string thresholdNote(Status s, std::int64_t warn, std::int64_t crit, const char* what) {
  if (s == Status::Critical) return std::string("; ") + what + " critical at " + groupDigits(crit);
  if (s == Status::Warning) return std::string("; ") + what + " warning at " + groupDigits(warn);
  return "";
}

std::optional<Status> parseSeverity(MapReader& r, const std::string& key, Status fallback) {
  std::string v = r.str(key, fallback == Status::Critical ? "critical" : "warning");
  if (v == "warning") return Status::Warning;
  if (v == "critical") return Status::Critical;
  if (v == "off") return Status::Ok;
  r.errors().add(r.node(key), r.childPath(key), "must be warning, critical or off");
  return std::nullopt;
}

Json eventsJson(const std::vector<const probes::PmtaQueue*>& queues, size_t max) {
  Json list = Json::array();
  size_t n = 0;
  for (const auto* q : queues)
    for (const auto& e : q->events) {
      if (n++ >= max) return list;
      Json ev = Json::object();
      ev.set("queue", q->name);
      ev.set("type", e.type);
      ev.set("time", e.time);
      ev.set("text", clip(e.text));
      list.push(ev);
    }
  return list;
}

class PmtaJob : public Job {
 public:
  explicit PmtaJob(PmtaParams p) : params_(std::move(p)) {}
  JobOutput run(JobContext& ctx) override {
    auto now = std::chrono::duration_cast<std::chrono::seconds>(ctx.now().time_since_epoch());
    return evaluatePmta(params_, observePmta(params_, ctx.deadline()), now.count());
  }
  std::vector<std::string> plannedTargets(const JobContext&) const override {
    std::vector<std::string> out{"pmta_queue total"};
    for (const auto& d : params_.domains) out.push_back("pmta_domain_queue " + d);
    for (const auto& v : params_.vmtas) out.push_back("pmta_vmta " + v);
    return out;
  }

 private:
  PmtaParams params_;
};

}  // namespace

std::optional<PmtaParams> parsePmtaParams(MapReader& r, const JobBuildEnv& env) {
  PmtaParams p;
  size_t before = r.errors().size();
  p.http.baseUrl = r.str("url", p.http.baseUrl);
  probes::HttpUrl url;
  std::string error;
  if (!probes::parseHttpUrl(p.http.baseUrl, url, error))
    r.errors().add(r.node("url"), r.childPath("url"), error);
  p.http.user = r.str("user", "");
  p.http.password = r.secret("password", false, env.resolveSecrets).value_or("");
  if (p.http.user.empty() && (r.has("password") || r.has("password_file")))
    r.errors().add(r.self(), r.childPath("password"), "needs `user` as well");
  long long cap = r.integer("max_response_bytes", 16 << 20, 1024, 1LL << 30);
  p.http.maxBytes = p.cli.maxBytes = static_cast<size_t>(cap);
  p.http.maxQueues = p.cli.maxQueues = static_cast<int>(r.integer("max_queues", 10000, 1, 1000000));
  p.cliFallback = r.boolean("cli_fallback", true);
  if (r.has("pmta_command")) p.cli.command = r.strings("pmta_command");
  if (p.cli.command.empty() || p.cli.command[0].empty() || p.cli.command[0][0] != '/')
    r.errors().add(r.node("pmta_command"), r.childPath("pmta_command"),
                   "must start with an absolute path (no shell is used)");
  p.queueWarn = r.integer("queue_warn", p.queueWarn, 0, 1LL << 40);
  p.queueCrit = r.integer("queue_crit", p.queueCrit, 0, 1LL << 40);
  p.domainQueueWarn = r.integer("domain_queue_warn", p.domainQueueWarn, 0, 1LL << 40);
  p.domainQueueCrit = r.integer("domain_queue_crit", p.domainQueueCrit, 0, 1LL << 40);
  p.oldestWarnSeconds =
      r.duration("oldest_warn", std::chrono::seconds(p.oldestWarnSeconds)).count() / 1000;
  p.oldestCritSeconds =
      r.duration("oldest_crit", std::chrono::seconds(p.oldestCritSeconds)).count() / 1000;
  auto checkOrder = [&](std::int64_t warn, std::int64_t crit, const char* critKey) {
    if (warn > 0 && crit > 0 && crit < warn)
      r.errors().add(r.node(critKey), r.childPath(critKey), "must not be below the warning tier");
  };
  checkOrder(p.queueWarn, p.queueCrit, "queue_crit");
  checkOrder(p.domainQueueWarn, p.domainQueueCrit, "domain_queue_crit");
  checkOrder(p.oldestWarnSeconds, p.oldestCritSeconds, "oldest_crit");
  if (auto s = parseSeverity(r, "backoff", Status::Warning)) p.backoffStatus = *s;
  if (auto s = parseSeverity(r, "disabled_source", Status::Warning)) p.disabledSourceStatus = *s;
  p.topDomains = static_cast<size_t>(r.integer("top_domains", 10, 1, 1000));
  p.topVmtas = static_cast<size_t>(r.integer("top_vmtas", 20, 1, 1000));
  p.domains = r.strings("domains");
  p.vmtas = r.strings("vmtas");
  if (r.errors().size() != before) return std::nullopt;
  return p;
}

PmtaObservations observePmta(const PmtaParams& params, Deadline deadline) {
  PmtaObservations obs;
  // Leave the CLI a share of the time when HTTP hangs.
  Deadline httpDeadline =
      params.cliFallback ? deadline.capped(deadline.remaining() * 6 / 10) : deadline;
  obs.snapshot = probes::readPmtaHttp(params.http, httpDeadline);
  if (!obs.snapshot.ok && params.cliFallback) {
    obs.httpError = obs.snapshot.error;
    obs.snapshot = probes::readPmtaCli(params.cli, deadline);
  }
  return obs;
}

JobOutput evaluatePmta(const PmtaParams& params, const PmtaObservations& obs, std::int64_t now) {
  JobOutput out;
  const probes::PmtaSnapshot& s = obs.snapshot;

  if (!s.ok) {
    std::string why =
        obs.httpError.empty() ? s.error : "HTTP: " + obs.httpError + "; CLI: " + s.error;
    CheckResult r("pmta_queue", "total", Status::Unknown,
                  "PowerMTA status could not be read: " + why);
    r.facts.set("error", why);
    out.results.push_back(std::move(r));
    for (const auto& d : params.domains)
      out.results.emplace_back("pmta_domain_queue", d, Status::Unknown,
                               d + ": PowerMTA status could not be read");
    for (const auto& v : params.vmtas)
      out.results.emplace_back("pmta_vmta", v, Status::Unknown,
                               v + ": PowerMTA status could not be read");
    out.samples.emplace_back(kUp, Labels{{"source", "none"}}, 0);
    return out;
  }

  // Totals.
  Status total = highIsBad(s.queuedRecipients, params.queueWarn, params.queueCrit);
  std::string summary = groupDigits(s.queuedRecipients) + " recipients queued";
  summary += s.queuedMessages
                 ? " (" + groupDigits(*s.queuedMessages) + " messages, " + mib(s.queuedKb) + ")"
                 : " (" + mib(s.queuedKb) + ")";
  summary += "; " + groupDigits(s.connectionsOut) + " connections out, " +
             groupDigits(s.connectionsIn) + " in; " +
             groupDigits(static_cast<std::int64_t>(s.lastHour.outRcp)) +
             " recipients delivered in the last hour";
  summary += thresholdNote(total, params.queueWarn, params.queueCrit, "queue");
  if (!obs.httpError.empty()) summary += " (via pmta CLI; HTTP: " + clip(obs.httpError, 80) + ")";
  CheckResult tr("pmta_queue", "total", total, summary);
  tr.facts.set("source", s.source);
  tr.facts.set("recipients", s.queuedRecipients);
  tr.facts.set("messages", s.queuedMessages ? Json(*s.queuedMessages) : Json());
  tr.facts.set("kb", s.queuedKb);
  Json kinds = Json::object();
  for (const auto& [k, v] : s.queuedByKind) kinds.set(k, v);
  tr.facts.set("recipients_by_kind", kinds);
  tr.facts.set("connections_in", s.connectionsIn);
  tr.facts.set("connections_out", s.connectionsOut);
  tr.facts.set("last_hour_in_recipients", static_cast<long long>(s.lastHour.inRcp));
  tr.facts.set("last_hour_out_recipients", static_cast<long long>(s.lastHour.outRcp));
  tr.facts.set("last_minute_out_recipients", static_cast<long long>(s.lastMinute.outRcp));
  tr.facts.set("total_out_recipients", static_cast<long long>(s.total.outRcp));
  if (!obs.httpError.empty()) tr.facts.set("http_error", obs.httpError);
  if (!s.problems.empty()) {
    Json problems = Json::array();
    for (const auto& p : s.problems) problems.push(p);
    tr.facts.set("problems", problems);
  }

  out.samples.emplace_back(kUp, Labels{{"source", s.source}}, 1);
  out.samples.emplace_back(kQueuedRcpt, Labels{}, static_cast<double>(s.queuedRecipients));
  if (s.queuedMessages)
    out.samples.emplace_back(kQueuedMsg, Labels{}, static_cast<double>(*s.queuedMessages));
  out.samples.emplace_back(kQueuedBytes, Labels{}, s.queuedKb * 1024);
  out.samples.emplace_back(kConnections, Labels{{"direction", "in"}},
                           static_cast<double>(s.connectionsIn));
  out.samples.emplace_back(kConnections, Labels{{"direction", "out"}},
                           static_cast<double>(s.connectionsOut));
  for (const auto& [dir, rcp, msg, kb] :
       {std::make_tuple("in", s.total.inRcp, s.total.inMsg, s.total.inKb),
        std::make_tuple("out", s.total.outRcp, s.total.outMsg, s.total.outKb)}) {
    out.samples.emplace_back(kTrafficRcpt, Labels{{"direction", dir}}, rcp);
    out.samples.emplace_back(kTrafficMsg, Labels{{"direction", dir}}, msg);
    out.samples.emplace_back(kTrafficBytes, Labels{{"direction", dir}}, kb * 1024);
  }
  out.samples.emplace_back(kLastHour, Labels{{"direction", "in"}}, s.lastHour.inRcp);
  out.samples.emplace_back(kLastHour, Labels{{"direction", "out"}}, s.lastHour.outRcp);

  // Queues grouped by domain and by VMTA (for reasons and last errors).
  std::map<std::string, std::vector<const probes::PmtaQueue*>> byDomain, byVmta;
  size_t backoffQueues = 0, pausedQueues = 0, disabledSources = 0;
  for (const auto& q : s.queues) {
    byDomain[q.domain].push_back(&q);
    byVmta[q.vmta].push_back(&q);
    backoffQueues += q.backoff();
    pausedQueues += q.paused;
    disabledSources += q.disabledSources.size();
  }

  // Domains.
  std::set<std::string> watchedDomains(params.domains.begin(), params.domains.end());
  std::set<std::string> reported;
  std::vector<std::pair<std::string, double>> domainDepths;
  std::vector<std::pair<std::string, std::int64_t>> domainOldest;
  for (const auto& d : s.domains) {
    domainDepths.emplace_back(d.name, static_cast<double>(d.recipients));
    if (d.oldestTime) domainOldest.emplace_back(d.name, *d.oldestTime);
    Status depth = highIsBad(d.recipients, params.domainQueueWarn, params.domainQueueCrit);
    std::optional<std::int64_t> age;
    if (d.oldestTime) age = std::max<std::int64_t>(0, now - *d.oldestTime);
    Status ageStatus =
        age ? highIsBad(*age, params.oldestWarnSeconds, params.oldestCritSeconds) : Status::Ok;
    Status st = worse(depth, ageStatus);
    if (st == Status::Ok && !watchedDomains.count(d.name)) continue;
    reported.insert(d.name);
    std::string sum = d.name + ": " + groupDigits(d.recipients) + " recipients queued";
    if (age) sum += ", oldest " + roughDuration(*age);
    sum += thresholdNote(depth, params.domainQueueWarn, params.domainQueueCrit, "queue");
    if (ageStatus != Status::Ok)
      sum += std::string("; age ") +
             (ageStatus == Status::Critical ? "critical at " : "warning at ") +
             roughDuration(ageStatus == Status::Critical ? params.oldestCritSeconds
                                                         : params.oldestWarnSeconds);
    const auto& queues = byDomain[d.name];
    std::vector<std::string> backoffVmtas;
    for (const auto* q : queues)
      if (q->backoff()) backoffVmtas.push_back(q->vmta);
    if (!backoffVmtas.empty())
      sum += "; " + std::to_string(backoffVmtas.size()) + " queue(s) in backoff";
    CheckResult r("pmta_domain_queue", d.name, st, sum);
    r.facts.set("domain", d.name);
    r.facts.set("recipients", d.recipients);
    r.facts.set("kb", d.kb);
    r.facts.set("connections", d.connections);
    r.facts.set("oldest_age_seconds", age ? Json(*age) : Json());
    Json vm = Json::array();
    for (const auto& v : backoffVmtas) vm.push(v);
    r.facts.set("backoff_vmtas", vm);
    r.facts.set("last_errors", eventsJson(queues, 5));
    out.results.push_back(std::move(r));
  }
  for (const auto& d : params.domains) {
    if (reported.count(d)) continue;
    if (!s.haveDomains) {
      out.results.emplace_back("pmta_domain_queue", d, Status::Unknown,
                               d + ": PowerMTA's domain list could not be read");
      continue;
    }
    CheckResult r("pmta_domain_queue", d, Status::Ok, d + ": nothing queued");
    r.facts.set("domain", d);
    r.facts.set("recipients", 0);
    out.results.push_back(std::move(r));
  }
  if (s.haveDomains) {
    auto top = topWithOther(domainDepths, params.topDomains);
    std::set<std::string> labelled;
    for (const auto& [name, v] : top) {
      out.samples.emplace_back(kDomainQueued, Labels{{"domain", name}}, v);
      labelled.insert(name);
    }
    for (const auto& [name, t] : domainOldest)
      if (labelled.count(name))
        out.samples.emplace_back(kDomainOldest, Labels{{"domain", name}}, static_cast<double>(t));
  }

  // VMTAs.
  if (!s.haveQueues) {
    std::string why = s.problems.empty() ? "not served" : s.problems.front();
    CheckResult r("pmta_queues", "queues", Status::Unknown,
                  "PowerMTA's queue list could not be read, backoff state unknown: " + why);
    r.facts.set("error", why);
    out.results.push_back(std::move(r));
    for (const auto& v : params.vmtas)
      out.results.emplace_back("pmta_vmta", v, Status::Unknown,
                               v + ": PowerMTA's queue list could not be read");
  } else {
    std::map<std::string, std::int64_t> vmtaDepth;
    for (const auto& v : s.vmtas) vmtaDepth[v.name] = v.recipients;
    std::set<std::string> watched(params.vmtas.begin(), params.vmtas.end());
    std::set<std::string> names = watched;
    for (const auto& [name, queues] : byVmta)
      if (!name.empty()) names.insert(name);
    std::vector<std::pair<std::string, double>> depthSeries, backoffSeries;
    for (const auto& name : names) {
      const auto& queues = byVmta[name];
      std::vector<const probes::PmtaQueue*> inBackoff;
      for (const auto* q : queues)
        if (q->backoff()) inBackoff.push_back(q);
      if (!name.empty()) backoffSeries.emplace_back(name, static_cast<double>(inBackoff.size()));
      bool alarm = !inBackoff.empty() && params.backoffStatus != Status::Ok;
      if (!alarm && !watched.count(name)) continue;
      std::int64_t depth = vmtaDepth.count(name) ? vmtaDepth[name] : 0;
      if (!vmtaDepth.count(name))
        for (const auto* q : queues) depth += q->recipients;
      std::string sum = name + ": ";
      if (inBackoff.empty()) {
        sum += "no queue in backoff; " + groupDigits(depth) + " recipients queued";
      } else {
        sum += std::to_string(inBackoff.size()) + " queue(s) in backoff (";
        for (size_t i = 0; i < inBackoff.size() && i < 5; ++i)
          sum +=
              (i ? ", " : "") + inBackoff[i]->domain + " " + groupDigits(inBackoff[i]->recipients);
        if (inBackoff.size() > 5) sum += ", ...";
        sum += ")";
        if (!inBackoff.front()->backoffReason.empty())
          sum += ": " + clip(inBackoff.front()->backoffReason, 120);
      }
      CheckResult r("pmta_vmta", name, alarm ? params.backoffStatus : Status::Ok, sum);
      r.facts.set("vmta", name);
      r.facts.set("recipients", depth);
      Json list = Json::array();
      for (const auto* q : inBackoff) {
        Json j = Json::object();
        j.set("queue", q->name);
        j.set("recipients", q->recipients);
        j.set("reason", clip(q->backoffReason));
        j.set("retry_time", q->retryTime);
        list.push(j);
      }
      r.facts.set("backoff_queues", list);
      r.facts.set("last_errors", eventsJson(queues, 5));
      out.results.push_back(std::move(r));
    }
    for (const auto& v : s.vmtas)
      depthSeries.emplace_back(v.name, static_cast<double>(v.recipients));
    // Label the VMTAs in backoff first, then the deepest; fold the rest.
    std::map<std::string, double> backoffCount(backoffSeries.begin(), backoffSeries.end());
    std::stable_sort(depthSeries.begin(), depthSeries.end(), [&](const auto& a, const auto& b) {
      bool ba = backoffCount[a.first] > 0, bb = backoffCount[b.first] > 0;
      return ba != bb ? ba : a.second > b.second;
    });
    std::set<std::string> keep;
    for (size_t i = 0; i < depthSeries.size() && i < params.topVmtas; ++i)
      keep.insert(depthSeries[i].first);
    double otherDepth = 0, otherBackoff = 0;
    bool folded = false;
    for (const auto& [n, v] : depthSeries) {
      if (keep.count(n)) {
        out.samples.emplace_back(kVmtaQueued, Labels{{"vmta", n}}, v);
      } else {
        otherDepth += v;
        folded = true;
      }
    }
    for (const auto& [n, c] : backoffSeries) {
      if (keep.count(n))
        out.samples.emplace_back(kVmtaBackoff, Labels{{"vmta", n}}, c);
      else {
        otherBackoff += c;
        folded = true;
      }
    }
    if (folded) {
      out.samples.emplace_back(kVmtaQueued, Labels{{"vmta", "other"}}, otherDepth);
      out.samples.emplace_back(kVmtaBackoff, Labels{{"vmta", "other"}}, otherBackoff);
    }
    out.samples.emplace_back(kBackoffQueues, Labels{}, static_cast<double>(backoffQueues));
    out.samples.emplace_back(kPausedQueues, Labels{}, static_cast<double>(pausedQueues));
    out.samples.emplace_back(kDisabledSources, Labels{}, static_cast<double>(disabledSources));
    tr.facts.set("backoff_queues", static_cast<long long>(backoffQueues));
    tr.facts.set("paused_queues", static_cast<long long>(pausedQueues));

    if (params.disabledSourceStatus != Status::Ok) {
      for (const auto& q : s.queues) {
        if (q.disabledSources.empty()) continue;
        std::string list;
        for (size_t i = 0; i < q.disabledSources.size(); ++i)
          list += (i ? ", " : "") + q.disabledSources[i];
        std::string sum = q.name + ": source " + list + " disabled";
        if (!q.events.empty()) sum += "; last error: " + clip(q.events.front().text, 120);
        CheckResult r("pmta_disabled_source", q.name, params.disabledSourceStatus, sum);
        Json src = Json::array();
        for (const auto& d : q.disabledSources) src.push(d);
        r.facts.set("queue", q.name);
        r.facts.set("sources", src);
        r.facts.set("last_errors", eventsJson({&q}, 5));
        out.results.push_back(std::move(r));
      }
    }
  }
  out.results.insert(out.results.begin(), std::move(tr));
  return out;
}

JobKind pmtaKind() {
  return JobKind{"pmta", "PowerMTA queue depth and age per domain/VMTA, backoff, traffic",
                 [](MapReader& params, const JobBuildEnv& env) -> std::unique_ptr<Job> {
                   auto p = parsePmtaParams(params, env);
                   if (!p) return nullptr;
                   return std::make_unique<PmtaJob>(std::move(*p));
                 }};
}

}  // namespace mxpulse::jobs
