// SPDX-License-Identifier: Apache-2.0
// The tls_expiry evaluator on hand-built observations with a fixed clock,
// and its params parser.
#include <boost/test/unit_test.hpp>

#include <yaml-cpp/yaml.h>

#include "agent/config_errors.hpp"
#include "agent/yaml_reader.hpp"
#include "jobs/tls_expiry.hpp"

using namespace mxpulse;
using namespace mxpulse::jobs;
using namespace mxpulse::probes;

namespace mxpulse {
std::ostream& operator<<(std::ostream& os, Status s) {
  return os << statusName(s);
}
}  // namespace mxpulse

namespace {

constexpr std::int64_t kNow = 1800000000;
constexpr std::int64_t kDay = 86400;
const auto kNowTp = std::chrono::system_clock::time_point(std::chrono::seconds(kNow));

CertInfo cert(const std::string& cn, const std::string& issuerCn, double fromDays, double toDays) {
  CertInfo c;
  c.commonName = cn;
  c.subject = "CN=" + cn;
  c.issuer = "CN=" + issuerCn;
  c.dnsNames = {cn};
  c.notBefore = kNow + static_cast<std::int64_t>(fromDays * kDay);
  c.notAfter = kNow + static_cast<std::int64_t>(toDays * kDay);
  c.sha256 = cn + "-" + std::to_string(c.notAfter);  // unique enough for the evaluator
  return c;
}

const CertInfo kRoot = cert("Root", "Root", -3650, 3650);
const CertInfo kInter = cert("Inter", "Root", -365, 1000);

TlsEndpointObservation endpoint(const std::string& ep, std::vector<CertInfo> served, bool trusted,
                                bool nameMatches = true) {
  TlsEndpointObservation o;
  std::string error;
  BOOST_REQUIRE(makeEndpointSpec(ep, "", "", o.spec, error));
  o.probed = true;
  o.probe.address = "127.0.0.1";
  o.probe.tlsVersion = "TLSv1.3";
  auto& c = o.probe.chain;
  c.served = std::move(served);
  c.trusted = trusted;
  c.trustStore = "system";
  if (trusted) {
    c.verified = {c.served[0], kInter, kRoot};
  } else {
    c.verifyError = "self-signed certificate";
  }
  c.nameChecked = o.spec.host;
  c.nameMatches = nameMatches;
  return o;
}

JobOutput evaluateOne(const TlsEndpointObservation& o, TlsExpiryParams p = {}) {
  TlsExpiryObservations obs;
  obs.endpoints.push_back(o);
  return evaluateTlsExpiry(p, obs, kNowTp);
}

const Sample* sample(const JobOutput& out, const std::string& name) {
  for (const auto& s : out.samples)
    if (s.name == name) return &s;
  return nullptr;
}

std::optional<TlsExpiryParams> parse(const std::string& yaml, ConfigErrors& errors,
                                     JobBuildEnv env = {}) {
  YAML::Node node = YAML::Load(yaml);
  MapReader r(node, "params", errors);
  auto p = parseTlsExpiryParams(r, env);
  r.finish();
  return errors.empty() ? p : std::nullopt;
}

std::string allErrors(const ConfigErrors& e) {
  std::string out;
  for (const auto& s : e.errors()) out += s + "\n";
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tls_expiry)

BOOST_AUTO_TEST_CASE(valid_endpoint_is_ok_with_timestamps) {
  auto o = endpoint("mx1.test:465", {cert("mx1.test", "Inter", -10, 60), kInter}, true);
  auto out = evaluateOne(o);
  BOOST_TEST_REQUIRE(out.results.size() == 1u);
  const auto& r = out.results[0];
  BOOST_TEST(r.check == "tls_endpoint");
  BOOST_TEST(r.target == "mx1.test:465");
  BOOST_TEST(r.status == Status::Ok);
  BOOST_TEST(r.summary ==
             "certificate valid for mx1.test, expires in 60 days (2027-03-16), issued by Inter");
  const Sample* na = sample(out, "mxpulse_tls_not_after_timestamp_seconds");
  BOOST_TEST_REQUIRE(na);
  BOOST_TEST(na->value == static_cast<double>(kNow + 60 * kDay));
  BOOST_TEST((na->labels == Labels{{"endpoint", "mx1.test:465"}}));
  BOOST_TEST(sample(out, "mxpulse_tls_verified_chain_not_after_timestamp_seconds")->value ==
             static_cast<double>(kNow + 60 * kDay));
  BOOST_TEST(sample(out, "mxpulse_tls_verified")->value == 1);
  BOOST_TEST(sample(out, "mxpulse_tls_name_match")->value == 1);
  BOOST_TEST(!sample(out, "mxpulse_tls_probe_error"));
  BOOST_TEST(r.facts.find("days_left") != nullptr);
}

BOOST_AUTO_TEST_CASE(thresholds_in_days) {
  auto at = [](double days) {
    return evaluateOne(endpoint("mx1.test:465", {cert("mx1.test", "Inter", -10, days)}, true))
        .results[0];
  };
  BOOST_TEST(at(21.5).status == Status::Ok);
  BOOST_TEST(at(20).status == Status::Warning);
  BOOST_TEST(at(20).summary.rfind("certificate expires in 20 days (2027-02-04)", 0) == 0,
             at(20).summary);
  BOOST_TEST(at(8).status == Status::Warning);
  BOOST_TEST(at(3).status == Status::Critical);
  BOOST_TEST(at(0.5).summary.rfind("certificate expires in 12 hours", 0) == 0, at(0.5).summary);
  BOOST_TEST(at(-2).status == Status::Critical);
  BOOST_TEST(at(-2).summary.rfind("certificate expired 2 days ago (2027-01-13)", 0) == 0,
             at(-2).summary);

  TlsExpiryParams p;
  p.warnDays = 30;
  p.critDays = 10;
  auto o = endpoint("mx1.test:465", {cert("mx1.test", "Inter", -10, 25)}, true);
  BOOST_TEST(evaluateOne(o, p).results[0].status == Status::Warning);
}

BOOST_AUTO_TEST_CASE(not_yet_valid_is_critical) {
  auto o = endpoint("mx1.test:465", {cert("mx1.test", "Inter", 2, 90)}, true);
  auto r = evaluateOne(o).results[0];
  BOOST_TEST(r.status == Status::Critical);
  BOOST_TEST(r.summary.find("not valid before") != std::string::npos, r.summary);
}

BOOST_AUTO_TEST_CASE(unverifiable_chain_keeps_expiry_and_is_critical) {
  auto o = endpoint("mx1.test:465", {cert("mx1.test", "mx1.test", -10, 60)}, false);
  auto out = evaluateOne(o);
  BOOST_TEST(out.results[0].status == Status::Critical);
  BOOST_TEST(
      out.results[0].summary.rfind("chain does not verify (self-signed certificate)", 0) == 0,
      out.results[0].summary);
  BOOST_TEST(sample(out, "mxpulse_tls_not_after_timestamp_seconds"));  // lesson 6
  BOOST_TEST(sample(out, "mxpulse_tls_verified")->value == 0);
  BOOST_TEST(!sample(out, "mxpulse_tls_verified_chain_not_after_timestamp_seconds"));

  TlsExpiryParams lenient;
  lenient.requireTrusted = false;
  auto r = evaluateOne(o, lenient).results[0];
  BOOST_TEST(r.status == Status::Ok);
  BOOST_TEST(r.summary.find("chain does not verify") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(name_mismatch_is_critical_and_names_what_the_cert_covers) {
  auto o = endpoint("mx2.test:465", {cert("mx1.test", "Inter", -10, 60)}, true, false);
  o.probe.chain.nameChecked = "mx2.test";
  auto out = evaluateOne(o);
  BOOST_TEST(out.results[0].status == Status::Critical);
  BOOST_TEST(
      out.results[0].summary.rfind(
          "certificate is not valid for mx2.test (it names mx1.test); expires in 60 days", 0) == 0,
      out.results[0].summary);
  BOOST_TEST(sample(out, "mxpulse_tls_name_match")->value == 0);
  TlsExpiryParams lenient;
  lenient.requireNameMatch = false;
  BOOST_TEST(evaluateOne(o, lenient).results[0].status == Status::Ok);
}

BOOST_AUTO_TEST_CASE(expired_cross_sign_outside_the_verified_chain_is_no_alarm) {
  CertInfo cross = cert("Root", "Old Root", -3650, -1);
  auto o = endpoint("mx1.test:465", {cert("mx1.test", "Inter", -10, 60), kInter, cross}, true);
  auto out = evaluateOne(o);
  BOOST_TEST(out.results[0].status == Status::Ok, out.results[0].summary);
  const Json* served = out.results[0].facts.find("served_chain_earliest_not_after");
  BOOST_TEST_REQUIRE(served);
  BOOST_TEST(*served->asString() == "2027-01-14T08:00:00Z");  // what blackbox would alarm on
}

BOOST_AUTO_TEST_CASE(needed_intermediate_expiring_first_decides) {
  auto o = endpoint("mx1.test:465", {cert("mx1.test", "Inter", -10, 60)}, true);
  CertInfo shortInter = cert("Inter", "Root", -365, 5);
  o.probe.chain.verified = {o.probe.chain.served[0], shortInter, kRoot};
  auto out = evaluateOne(o);
  BOOST_TEST(out.results[0].status == Status::Critical);
  BOOST_TEST(out.results[0].summary.rfind("chain certificate Inter expires in 5 days", 0) == 0,
             out.results[0].summary);
  BOOST_TEST(sample(out, "mxpulse_tls_not_after_timestamp_seconds")->value ==
             static_cast<double>(kNow + 60 * kDay));
  BOOST_TEST(sample(out, "mxpulse_tls_verified_chain_not_after_timestamp_seconds")->value ==
             static_cast<double>(kNow + 5 * kDay));
}

BOOST_AUTO_TEST_CASE(starttls_missing_is_critical_network_failures_unknown) {
  TlsEndpointObservation o;
  std::string error;
  BOOST_REQUIRE(makeEndpointSpec("mx1.test:587", "", "", o.spec, error));
  o.probed = true;
  o.probe.error = TlsProbeError::StartTlsNotOffered;
  o.probe.errorText = "server does not offer STARTTLS in its EHLO reply";
  auto out = evaluateOne(o);
  BOOST_TEST(out.results[0].status == Status::Critical);
  BOOST_TEST(out.results[0].summary ==
             "server does not offer STARTTLS in its EHLO reply (smtp on port 587)");
  const Sample* e = sample(out, "mxpulse_tls_probe_error");
  BOOST_TEST_REQUIRE(e);
  BOOST_TEST(
      (e->labels == Labels{{"endpoint", "mx1.test:587"}, {"reason", "starttls_not_offered"}}));
  BOOST_TEST(!sample(out, "mxpulse_tls_not_after_timestamp_seconds"));

  o.probe.error = TlsProbeError::Timeout;
  o.probe.errorText = "during greeting: no answer before the deadline";
  out = evaluateOne(o);
  BOOST_TEST(out.results[0].status == Status::Unknown);
  BOOST_TEST(out.results[0].summary ==
             "cannot check the certificate: during greeting: no answer before the deadline");
  BOOST_TEST(sample(out, "mxpulse_tls_probe_error")->labels[1].second == "timeout");

  o.probed = false;
  o.notRunWhy = "the run's deadline passed before this endpoint's turn";
  out = evaluateOne(o);
  BOOST_TEST(out.results[0].status == Status::Unknown);
  BOOST_TEST(sample(out, "mxpulse_tls_probe_error")->labels[1].second == "not_run");
}

BOOST_AUTO_TEST_CASE(files_expiry_and_read_errors) {
  TlsExpiryObservations obs;
  TlsFileObservation ok;
  ok.path = "/etc/pmta/cert.pem";
  ok.file.chain.served = {cert("mx1.test", "Inter", -10, 5), kInter};
  ok.file.chain.trusted = true;
  ok.file.chain.verified = {ok.file.chain.served[0], kInter, kRoot};
  obs.files.push_back(ok);
  TlsFileObservation missing;
  missing.path = "/etc/pmta/gone.pem";
  missing.file.error = "cannot open /etc/pmta/gone.pem: No such file or directory";
  missing.file.errorReason = "missing";
  obs.files.push_back(missing);
  auto out = evaluateTlsExpiry(TlsExpiryParams{}, obs, kNowTp);
  BOOST_TEST_REQUIRE(out.results.size() == 2u);
  BOOST_TEST(out.results[0].check == "tls_file");
  BOOST_TEST(out.results[0].status == Status::Critical);
  BOOST_TEST(out.results[0].summary.rfind("certificate expires in 5 days", 0) == 0,
             out.results[0].summary);
  BOOST_TEST(out.results[1].status == Status::Unknown);
  BOOST_TEST(sample(out, "mxpulse_tls_file_not_after_timestamp_seconds")->value ==
             static_cast<double>(kNow + 5 * kDay));
  const Sample* e = sample(out, "mxpulse_tls_file_error");
  BOOST_TEST_REQUIRE(e);
  BOOST_TEST((e->labels == Labels{{"path", "/etc/pmta/gone.pem"}, {"reason", "missing"}}));
}

BOOST_AUTO_TEST_CASE(params_defaults_and_starttls_by_port) {
  ConfigErrors errors;
  auto p = parse(R"(
endpoints:
  - mx1.test:25
  - endpoint: mx1.test:587
  - endpoint: imap.test:143
  - endpoint: pop.test:110
  - endpoint: "[::1]:465"
    sni: mx1.test
  - endpoint: mx1.test:2525
    starttls: smtp
  - endpoint: mx1.test:25
    starttls: none
    sni: other.test
files: [/etc/ssl/a.pem]
)",
                 errors);
  BOOST_TEST_REQUIRE(p.has_value(), allErrors(errors));
  BOOST_TEST_REQUIRE(p->endpoints.size() == 7u);
  BOOST_TEST(startTlsName(p->endpoints[0].starttls) == std::string("smtp"));
  BOOST_TEST(startTlsName(p->endpoints[1].starttls) == std::string("smtp"));
  BOOST_TEST(startTlsName(p->endpoints[2].starttls) == std::string("imap"));
  BOOST_TEST(startTlsName(p->endpoints[3].starttls) == std::string("pop3"));
  BOOST_TEST(startTlsName(p->endpoints[4].starttls) == std::string("none"));
  BOOST_TEST(p->endpoints[4].host == "::1");
  BOOST_TEST(p->endpoints[4].key() == "[::1]:465 (sni mx1.test)");
  BOOST_TEST(startTlsName(p->endpoints[5].starttls) == std::string("smtp"));
  BOOST_TEST(startTlsName(p->endpoints[6].starttls) == std::string("none"));
  BOOST_TEST(p->warnDays == 21);
  BOOST_TEST(p->critDays == 7);
  BOOST_TEST(p->concurrency == 16);
  BOOST_TEST(p->endpointTimeout.count() == 30000);
  BOOST_TEST(p->requireTrusted);
}

BOOST_AUTO_TEST_CASE(params_errors) {
  auto fails = [](const std::string& yaml, const std::string& needle, JobBuildEnv env = {}) {
    ConfigErrors errors;
    auto p = parse(yaml, errors, env);
    std::string all = allErrors(errors);
    BOOST_TEST(!p.has_value(), yaml);
    BOOST_TEST(all.find(needle) != std::string::npos, all);
  };
  fails("warn_days: 21\n", "nothing to check");
  fails("endpoints: [mx1.test]\n", "is not host:port");
  fails("endpoints: ['::1:465']\n", "is not host:port");
  fails("endpoints: [{endpoint: 'mx1.test:25', starttls: ftp}]\n", "not one of smtp");
  fails("endpoints: [{endpoint: 'mx1.test:25', sni: 127.0.0.1}]\n", "must be a host name");
  fails("endpoints: [mx1.test:25, mx1.test:25]\n", "duplicate endpoint");
  fails("endpoints: [mx1.test:25]\nwarn_days: 5\ncrit_days: 7\n", "must not be above warn_days");
  fails("files: [relative.pem]\n", "not an absolute path");
  fails("endpoints: [mx1.test:25]\nconcurrency: 0\n", "concurrency");
  fails("endpoints: [mx1.test:25]\nbogus: 1\n", "bogus");
  fails("endpoints: [{endpoint: 'mx1.test:25', bogus: 1}]\n", "bogus");
  JobBuildEnv env;
  env.inventories["sending_domains"] = InventoryKind::Domains;
  fails("inventory: sending_domains\n", "not endpoints", env);
}

BOOST_AUTO_TEST_CASE(endpoint_keys) {
  TlsEndpointSpec s;
  std::string error;
  BOOST_REQUIRE(makeEndpointSpec("mx1.test:25", "", "mx1.test", s, error));
  BOOST_TEST(s.key() == "mx1.test:25");  // the same name adds nothing
  BOOST_REQUIRE(makeEndpointSpec("10.0.0.1:993", "", "mail.test", s, error));
  BOOST_TEST(s.key() == "10.0.0.1:993 (sni mail.test)");
}

BOOST_AUTO_TEST_SUITE_END()
