// SPDX-License-Identifier: Apache-2.0
#include "jobs/tls_expiry.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <set>
#include <thread>

#include "agent/report.hpp"
#include "agent/yaml_reader.hpp"

namespace mxpulse::jobs {

namespace {

const MetricDesc kNotAfter{"mxpulse_tls_not_after_timestamp_seconds",
                           "not_after of the leaf certificate served by the endpoint.",
                           MetricType::Gauge};
const MetricDesc kVerifiedNotAfter{
    "mxpulse_tls_verified_chain_not_after_timestamp_seconds",
    "Earliest not_after among the certificates of the chain that verified.", MetricType::Gauge};
const MetricDesc kVerified{"mxpulse_tls_verified",
                           "1 if the served chain verifies to a trusted root (time not checked).",
                           MetricType::Gauge};
const MetricDesc kNameMatch{"mxpulse_tls_name_match",
                            "1 if the leaf certificate is valid for the endpoint's name.",
                            MetricType::Gauge};
const MetricDesc kProbeError{"mxpulse_tls_probe_error",
                             "1 when no certificate could be collected, by reason.",
                             MetricType::Gauge};
const MetricDesc kFileNotAfter{"mxpulse_tls_file_not_after_timestamp_seconds",
                               "not_after of the first certificate in the file.",
                               MetricType::Gauge};
const MetricDesc kFileVerifiedNotAfter{
    "mxpulse_tls_file_verified_chain_not_after_timestamp_seconds",
    "Earliest not_after in the chain that verified from the file's certificate.",
    MetricType::Gauge};
const MetricDesc kFileError{"mxpulse_tls_file_error",
                            "1 when the certificate file could not be read, by reason.",
                            MetricType::Gauge};

constexpr double kDay = 86400.0;

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

/// "in 5 days", "in 20 hours", "3 days ago".
std::string relative(std::int64_t at, std::int64_t now) {
  double secs = static_cast<double>(at - now);
  double a = std::fabs(secs);
  std::string amount = a < kDay ? fmt("%.0f", std::floor(a / 3600)) + " hours"
                                : fmt("%.0f", std::floor(a / kDay)) + " days";
  if (amount == "1 hours") amount = "1 hour";
  if (amount == "1 days") amount = "1 day";
  return secs >= 0 ? "in " + amount : amount + " ago";
}

std::string dateOf(std::int64_t t) {
  return isoTime(t).substr(0, 10);
}

/// A short name for a certificate in a summary: its CN, else its subject.
std::string shortName(const probes::CertInfo& c) {
  return c.commonName.empty() ? c.subject : c.commonName;
}

Json certJson(const probes::CertInfo& c) {
  Json j = Json::object();
  j.set("subject", c.subject);
  j.set("issuer", c.issuer);
  j.set("not_before", isoTime(c.notBefore));
  j.set("not_after", isoTime(c.notAfter));
  return j;
}

Json stringsJson(const std::vector<std::string>& v) {
  Json j = Json::array();
  for (const auto& s : v) j.push(s);
  return j;
}

/// Earliest not_after among the certificates of the chain that verified
/// (call only when chain.trusted).
std::int64_t verifiedChainNotAfter(const probes::ChainReport& chain) {
  std::int64_t earliest =
      chain.verified.empty() ? chain.served.front().notAfter : chain.verified.front().notAfter;
  for (const auto& c : chain.verified) earliest = std::min(earliest, c.notAfter);
  return earliest;
}

/// The expiry verdict of a collected chain; shared by endpoints and files.
struct ChainVerdict {
  Status status = Status::Ok;
  std::vector<std::string> problems;  ///< most serious first
  std::int64_t decidingNotAfter = 0;
  const probes::CertInfo* decidingCert = nullptr;
  double daysLeft = 0;
};

ChainVerdict judgeExpiry(const probes::ChainReport& chain, const TlsExpiryParams& p,
                         std::int64_t now) {
  ChainVerdict v;
  const auto& leaf = chain.served.front();
  // When the chain verifies, the chain that verified decides (leaf to
  // anchor); certificates served but not used do not count.
  std::vector<const probes::CertInfo*> deciding;
  if (chain.trusted && !chain.verified.empty())
    for (const auto& c : chain.verified) deciding.push_back(&c);
  else
    deciding.push_back(&leaf);
  v.decidingCert = deciding.front();
  for (const auto* c : deciding)
    if (c->notAfter < v.decidingCert->notAfter) v.decidingCert = c;
  v.decidingNotAfter = v.decidingCert->notAfter;
  v.daysLeft = static_cast<double>(v.decidingNotAfter - now) / kDay;
  bool isLeaf = v.decidingCert->sha256 == leaf.sha256;
  std::string what = isLeaf ? "certificate" : "chain certificate " + shortName(*v.decidingCert);
  for (const auto* c : deciding) {
    if (c->notBefore > now) {
      v.status = Status::Critical;
      v.problems.push_back((c->sha256 == leaf.sha256 ? std::string("certificate")
                                                     : "chain certificate " + shortName(*c)) +
                           " is not valid before " + isoTime(c->notBefore));
    }
  }
  if (v.decidingNotAfter <= now) {
    v.status = Status::Critical;
    v.problems.insert(v.problems.begin(), what + " expired " + relative(v.decidingNotAfter, now) +
                                              " (" + dateOf(v.decidingNotAfter) + ")");
  } else if (v.daysLeft < p.critDays || v.daysLeft < p.warnDays) {
    v.status = worse(v.status, v.daysLeft < p.critDays ? Status::Critical : Status::Warning);
    v.problems.push_back(what + " expires " + relative(v.decidingNotAfter, now) + " (" +
                         dateOf(v.decidingNotAfter) + ")");
  }
  return v;
}

void chainFacts(Json& facts, const probes::ChainReport& chain, const ChainVerdict& v) {
  const auto& leaf = chain.served.front();
  facts.set("subject", leaf.subject);
  facts.set("issuer", leaf.issuer);
  facts.set("common_name", leaf.commonName);
  facts.set("dns_names", stringsJson(leaf.dnsNames));
  facts.set("ip_addresses", stringsJson(leaf.ipAddresses));
  facts.set("serial", leaf.serial);
  facts.set("sha256", leaf.sha256);
  facts.set("not_before", isoTime(leaf.notBefore));
  facts.set("not_after", isoTime(leaf.notAfter));
  facts.set("self_signed", leaf.selfSigned);
  facts.set("days_left", std::floor(v.daysLeft * 10) / 10);
  facts.set("deciding_not_after", isoTime(v.decidingNotAfter));
  facts.set("deciding_subject", v.decidingCert->subject);
  facts.set("verified", chain.trusted);
  facts.set("trust_store", chain.trustStore);
  if (!chain.trusted) {
    facts.set("verify_error", chain.verifyError);
    facts.set("verify_error_depth", chain.verifyErrorDepth);
  } else {
    facts.set("verified_chain_not_after", isoTime(verifiedChainNotAfter(chain)));
  }
  std::int64_t servedEarliest = leaf.notAfter;
  Json served = Json::array();
  for (const auto& c : chain.served) {
    served.push(certJson(c));
    servedEarliest = std::min(servedEarliest, c.notAfter);
  }
  // What blackbox's probe_ssl_earliest_cert_expiry would say, for contrast.
  facts.set("served_chain_earliest_not_after", isoTime(servedEarliest));
  facts.set("served_chain", served);
  Json verified = Json::array();
  for (const auto& c : chain.verified) verified.push(certJson(c));
  facts.set("verified_chain", verified);
}

std::string leafDescription(const probes::ChainReport& chain) {
  const auto& leaf = chain.served.front();
  std::string issuerName = leaf.issuer;
  size_t cn = issuerName.find("CN=");
  if (cn != std::string::npos) {
    issuerName = issuerName.substr(cn + 3);
    size_t comma = issuerName.find(',');
    if (comma != std::string::npos) issuerName = issuerName.substr(0, comma);
  }
  return "issued by " + issuerName;
}

std::string joinProblems(const std::vector<std::string>& problems) {
  std::string out;
  for (const auto& p : problems) out += (out.empty() ? "" : "; ") + p;
  return out;
}

CheckResult evaluateEndpoint(const TlsExpiryParams& p, const TlsEndpointObservation& o,
                             std::int64_t now, std::vector<Sample>& samples) {
  const std::string key = o.spec.key();
  Labels labels{{"endpoint", key}};
  auto errorResult = [&](Status s, const std::string& reason, const std::string& text) {
    CheckResult r("tls_endpoint", key, s, text);
    r.facts.set("endpoint", o.spec.endpoint);
    r.facts.set("starttls", probes::startTlsName(o.spec.starttls));
    r.facts.set("error", reason);
    r.facts.set("error_text", text);
    samples.emplace_back(kProbeError, Labels{{"endpoint", key}, {"reason", reason}}, 1);
    return r;
  };
  if (!o.specError.empty()) return errorResult(Status::Unknown, "setup", o.specError);
  if (!o.probed)
    return errorResult(Status::Unknown, o.notRunWhy.rfind("setup:", 0) == 0 ? "setup" : "not_run",
                       "not checked: " + o.notRunWhy);
  const auto& pr = o.probe;
  if (pr.error != probes::TlsProbeError::None) {
    std::string reason = probes::tlsProbeErrorName(pr.error);
    bool finding = pr.error == probes::TlsProbeError::StartTlsNotOffered ||
                   pr.error == probes::TlsProbeError::StartTlsRefused;
    std::string text = finding ? pr.errorText + " (" + probes::startTlsName(o.spec.starttls) +
                                     " on port " + std::to_string(o.spec.port) + ")"
                               : "cannot check the certificate: " + pr.errorText;
    CheckResult r = errorResult(finding ? Status::Critical : Status::Unknown, reason, text);
    r.facts.set("stage", pr.stage);
    if (!pr.address.empty()) r.facts.set("address", pr.address);
    if (!pr.starttls.greeting.empty()) r.facts.set("greeting", pr.starttls.greeting);
    if (!pr.starttls.capabilities.empty())
      r.facts.set("capabilities", stringsJson(pr.starttls.capabilities));
    r.facts.set("elapsed_ms", pr.elapsedMs);
    return r;
  }

  const auto& chain = pr.chain;
  ChainVerdict v = judgeExpiry(chain, p, now);
  Status status = v.status;
  std::vector<std::string> problems = v.problems;
  if (!chain.trusted) {
    if (p.requireTrusted) status = worse(status, Status::Critical);
    problems.push_back("chain does not verify (" + chain.verifyError + ")");
  }
  if (!chain.nameMatches) {
    if (p.requireNameMatch) status = worse(status, Status::Critical);
    const auto& leaf = chain.served.front();
    std::string names;
    for (const auto& n : leaf.dnsNames) names += (names.empty() ? "" : ", ") + n;
    for (const auto& n : leaf.ipAddresses) names += (names.empty() ? "" : ", ") + n;
    if (names.empty()) names = "CN " + leaf.commonName;
    if (names.size() > 120) names = names.substr(0, 117) + "...";
    problems.push_back("certificate is not valid for " + chain.nameChecked + " (it names " + names +
                       ")");
  }
  std::string summary;
  if (!problems.empty()) {
    summary = joinProblems(problems);
    if (v.decidingNotAfter > now && v.daysLeft >= p.warnDays)
      summary += "; expires " + relative(v.decidingNotAfter, now) + " (" +
                 dateOf(v.decidingNotAfter) + ")";
  } else {
    summary = "certificate valid for " + chain.nameChecked + ", expires " +
              relative(v.decidingNotAfter, now) + " (" + dateOf(v.decidingNotAfter) + ")";
  }
  summary += ", " + leafDescription(chain);

  CheckResult r("tls_endpoint", key, status, summary);
  r.facts.set("endpoint", o.spec.endpoint);
  r.facts.set("starttls", probes::startTlsName(o.spec.starttls));
  r.facts.set("address", pr.address);
  r.facts.set("name_checked", chain.nameChecked);
  r.facts.set("name_matches", chain.nameMatches);
  r.facts.set("tls_version", pr.tlsVersion);
  r.facts.set("cipher", pr.cipher);
  r.facts.set("elapsed_ms", pr.elapsedMs);
  chainFacts(r.facts, chain, v);

  samples.emplace_back(kNotAfter, labels, static_cast<double>(chain.served.front().notAfter));
  if (chain.trusted)
    samples.emplace_back(kVerifiedNotAfter, labels,
                         static_cast<double>(verifiedChainNotAfter(chain)));
  samples.emplace_back(kVerified, labels, chain.trusted ? 1 : 0);
  samples.emplace_back(kNameMatch, labels, chain.nameMatches ? 1 : 0);
  return r;
}

CheckResult evaluateFile(const TlsExpiryParams& p, const TlsFileObservation& o,
                         const std::string& setupError, std::int64_t now,
                         std::vector<Sample>& samples) {
  Labels labels{{"path", o.path}};
  std::string reason = setupError.empty() ? o.file.errorReason : "setup";
  std::string error = setupError.empty() ? o.file.error : setupError;
  if (!error.empty()) {
    CheckResult r("tls_file", o.path, Status::Unknown, "cannot check " + o.path + ": " + error);
    r.facts.set("error", reason);
    r.facts.set("error_text", error);
    samples.emplace_back(kFileError, Labels{{"path", o.path}, {"reason", reason}}, 1);
    return r;
  }
  const auto& chain = o.file.chain;
  ChainVerdict v = judgeExpiry(chain, p, now);
  std::string summary = v.problems.empty() ? shortName(chain.served.front()) + " expires " +
                                                 relative(v.decidingNotAfter, now) + " (" +
                                                 dateOf(v.decidingNotAfter) + ")"
                                           : joinProblems(v.problems);
  summary += ", " + leafDescription(chain);
  if (!chain.trusted) summary += "; chain does not verify (" + chain.verifyError + ")";
  CheckResult r("tls_file", o.path, v.status, summary);
  r.facts.set("path", o.path);
  r.facts.set("certificates", static_cast<long long>(chain.served.size()));
  chainFacts(r.facts, chain, v);
  samples.emplace_back(kFileNotAfter, labels, static_cast<double>(chain.served.front().notAfter));
  if (chain.trusted)
    samples.emplace_back(kFileVerifiedNotAfter, labels,
                         static_cast<double>(verifiedChainNotAfter(chain)));
  return r;
}

/// Endpoints from params and the inventory, deduplicated by key.
std::vector<TlsEndpointObservation> plannedEndpoints(const TlsExpiryParams& p,
                                                     const JobContext& ctx) {
  std::vector<TlsEndpointObservation> out;
  std::set<std::string> seen;
  for (const auto& s : p.endpoints) {
    if (!seen.insert(s.key()).second) continue;
    TlsEndpointObservation o;
    o.spec = s;
    out.push_back(std::move(o));
  }
  if (p.inventory.empty()) return out;
  const InventorySnapshot* inv = ctx.inventory(p.inventory);
  if (!inv) return out;
  for (const auto& item : inv->items) {
    TlsEndpointObservation o;
    std::string error;
    if (!makeEndpointSpec(item.first("endpoint"), item.first("starttls"), item.first("sni"), o.spec,
                          error)) {
      o.spec.endpoint = item.first("endpoint");
      o.specError = "inventory " + p.inventory + ": " + error;
    }
    std::string key = o.specError.empty() ? o.spec.key() : o.spec.endpoint;
    if (!seen.insert(key).second) continue;
    out.push_back(std::move(o));
  }
  return out;
}

class TlsExpiryJob : public Job {
 public:
  explicit TlsExpiryJob(TlsExpiryParams p) : params_(std::move(p)) {}

  JobOutput run(JobContext& ctx) override {
    // An empty ehlo_name is filled in by the probe (this host's FQDN).
    auto endpoints = plannedEndpoints(params_, ctx);
    auto obs = observeTlsExpiry(params_, endpoints, ctx.deadline(),
                                [&ctx] { return ctx.stopRequested(); });
    return evaluateTlsExpiry(params_, obs, ctx.now());
  }

  std::vector<std::string> inventories() const override {
    if (params_.inventory.empty()) return {};
    return {params_.inventory};
  }

  std::vector<std::string> plannedTargets(const JobContext& ctx) const override {
    std::vector<std::string> out;
    for (const auto& o : plannedEndpoints(params_, ctx))
      out.push_back("tls_endpoint " + (o.specError.empty() ? o.spec.key() : o.spec.endpoint));
    for (const auto& f : params_.files) out.push_back("tls_file " + f);
    return out;
  }

 private:
  TlsExpiryParams params_;
};

}  // namespace

std::string TlsEndpointSpec::key() const {
  if (sni.empty() || sni == host) return endpoint;
  return endpoint + " (sni " + sni + ")";
}

bool makeEndpointSpec(const std::string& endpoint, const std::string& starttls,
                      const std::string& sni, TlsEndpointSpec& spec, std::string& error) {
  spec = TlsEndpointSpec{};
  spec.endpoint = endpoint;
  if (!probes::splitHostPort(endpoint, spec.host, spec.port)) {
    error = "'" + endpoint + "' is not host:port (IPv6 as [::1]:465)";
    return false;
  }
  if (starttls.empty()) {
    spec.starttls = probes::defaultStartTlsForPort(spec.port);
  } else if (auto s = probes::parseStartTls(starttls)) {
    spec.starttls = *s;
  } else {
    error = "starttls '" + starttls + "' is not one of smtp, imap, pop3, none";
    return false;
  }
  if (!sni.empty() && !probes::usableAsSni(sni)) {
    error = "sni '" + sni + "' must be a host name, not an IP address";
    return false;
  }
  spec.sni = sni;
  return true;
}

std::optional<TlsExpiryParams> parseTlsExpiryParams(MapReader& r, const JobBuildEnv& env) {
  TlsExpiryParams p;
  size_t before = r.errors().size();
  YAML::Node list = r.node("endpoints");
  if (list.IsDefined() && !list.IsNull()) {
    if (!list.IsSequence()) {
      r.errors().add(list, r.childPath("endpoints"), "must be a list of endpoints");
    } else {
      std::set<std::string> seen;
      for (size_t i = 0; i < list.size(); ++i) {
        std::string path = indexPath(r.childPath("endpoints"), i);
        std::string endpoint, starttls, sni;
        if (list[i].IsScalar()) {
          endpoint = list[i].Scalar();
        } else {
          MapReader e(list[i], path, r.errors());
          if (!e.ok()) continue;
          endpoint = e.optString("endpoint", true).value_or("");
          starttls = e.str("starttls", "");
          sni = e.str("sni", "");
          e.finish();
        }
        if (endpoint.empty()) continue;
        TlsEndpointSpec spec;
        std::string error;
        if (!makeEndpointSpec(endpoint, starttls, sni, spec, error)) {
          r.errors().add(list[i], path, error);
          continue;
        }
        if (!seen.insert(spec.key()).second) {
          r.errors().add(list[i], path, "duplicate endpoint '" + spec.key() + "'");
          continue;
        }
        p.endpoints.push_back(spec);
      }
    }
  }
  if (auto inv = r.optString("inventory")) {
    p.inventory = *inv;
    auto it = env.inventories.find(*inv);
    if (it != env.inventories.end() && it->second != InventoryKind::Endpoints)
      r.errors().add(r.node("inventory"), r.childPath("inventory"),
                     "inventory '" + *inv + "' is of kind " + inventoryKindName(it->second) +
                         ", not endpoints");
  }
  p.files = r.strings("files");
  for (const auto& f : p.files)
    if (f.empty() || f[0] != '/')
      r.errors().add(r.node("files"), r.childPath("files"), "'" + f + "' is not an absolute path");
  p.warnDays = r.number("warn_days", p.warnDays, 0, 3650);
  p.critDays = r.number("crit_days", p.critDays, 0, 3650);
  if (p.critDays > p.warnDays)
    r.errors().add(r.node("crit_days"), r.childPath("crit_days"), "must not be above warn_days");
  p.caFile = r.str("ca_file", "");
  p.endpointTimeout = r.duration("endpoint_timeout", p.endpointTimeout);
  if (p.endpointTimeout.count() < 100)
    r.errors().add(r.node("endpoint_timeout"), r.childPath("endpoint_timeout"),
                   "must be at least 100ms");
  p.concurrency = static_cast<int>(r.integer("concurrency", p.concurrency, 1, 256));
  p.ehloName = r.str("ehlo_name", "");
  p.requireTrusted = r.boolean("require_trusted", p.requireTrusted);
  p.requireNameMatch = r.boolean("require_name_match", p.requireNameMatch);
  if (p.endpoints.empty() && p.inventory.empty() && p.files.empty() && r.errors().size() == before)
    r.errors().add(r.self(), r.path(), "nothing to check: give endpoints, inventory or files");
  if (r.errors().size() != before) return std::nullopt;
  return p;
}

TlsExpiryObservations observeTlsExpiry(const TlsExpiryParams& params,
                                       const std::vector<TlsEndpointObservation>& endpoints,
                                       Deadline deadline, const std::function<bool()>& stop) {
  TlsExpiryObservations obs;
  obs.endpoints = endpoints;
  std::string error;
  auto trust = probes::TrustStore::create(params.caFile, error);
  std::unique_ptr<probes::TlsProber> prober;
  if (trust) prober = probes::TlsProber::create(trust, error);
  if (!prober) {
    obs.setupError = error;
    for (auto& o : obs.endpoints) o.notRunWhy = "setup: " + error;
    for (const auto& f : params.files) obs.files.push_back(TlsFileObservation{f, {}});
    return obs;
  }
  for (const auto& f : params.files)
    obs.files.push_back(TlsFileObservation{f, probes::examineCertFile(*trust, f)});

  // Leave a little of the run's time for evaluation and reporting, so the
  // runner never has to give up on the job as a whole.
  auto margin = std::min<Deadline::Clock::duration>(std::chrono::milliseconds(250),
                                                    deadline.remaining() / 10);
  Deadline runEnd(deadline.at() - margin);
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < obs.endpoints.size(); i = next++) {
      auto& o = obs.endpoints[i];
      if (!o.specError.empty()) continue;
      if (stop && stop()) {
        o.notRunWhy = "the agent is stopping";
        continue;
      }
      if (runEnd.expired()) {
        o.notRunWhy = "the run's deadline passed before this endpoint's turn";
        continue;
      }
      probes::TlsTarget t;
      t.host = o.spec.host;
      t.port = o.spec.port;
      t.starttls = o.spec.starttls;
      t.serverName = o.spec.sni;
      t.clientName = params.ehloName;
      o.probe = prober->probe(t, runEnd.capped(params.endpointTimeout));
      o.probed = true;
    }
  };
  size_t n = std::min<size_t>(static_cast<size_t>(params.concurrency), obs.endpoints.size());
  std::vector<std::thread> threads;
  for (size_t i = 1; i < n; ++i) {
    try {
      threads.emplace_back(worker);
    } catch (const std::system_error&) {
      break;  // fewer workers, same work
    }
  }
  if (n > 0) worker();
  for (auto& t : threads) t.join();
  return obs;
}

JobOutput evaluateTlsExpiry(const TlsExpiryParams& params, const TlsExpiryObservations& obs,
                            std::chrono::system_clock::time_point now) {
  std::int64_t t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  JobOutput out;
  for (const auto& o : obs.endpoints)
    out.results.push_back(evaluateEndpoint(params, o, t, out.samples));
  for (const auto& f : obs.files)
    out.results.push_back(evaluateFile(params, f, obs.setupError, t, out.samples));
  return out;
}

JobKind tlsExpiryKind() {
  return JobKind{"tls_expiry",
                 "certificate expiry, chain verification and name match of TLS endpoints "
                 "(implicit TLS and SMTP/IMAP/POP3 STARTTLS) and certificate files",
                 [](MapReader& params, const JobBuildEnv& env) -> std::unique_ptr<Job> {
                   auto p = parseTlsExpiryParams(params, env);
                   if (!p) return nullptr;
                   return std::make_unique<TlsExpiryJob>(std::move(*p));
                 }};
}

}  // namespace mxpulse::jobs
