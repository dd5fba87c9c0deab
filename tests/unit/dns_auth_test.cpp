// SPDX-License-Identifier: Apache-2.0
// dns_auth: params, targets, and the evaluators driven through the I/O
// shell with an in-memory DnsResolver (no network). MTA-STS fetch results
// are built by hand here; the real fetch runs in the integration test.
#include <yaml-cpp/yaml.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <map>
#include <mutex>

#include "agent/config_errors.hpp"
#include "agent/yaml_reader.hpp"
#include "jobs/dns_auth.hpp"
#include "tests/support/dkim_test_keys.hpp"
#include "tests/support/test_support.hpp"

using namespace mxpulse;
using namespace mxpulse::jobs;
using probes::DnsAnswer;
using probes::DnsStatus;
using probes::RrType;

namespace {

/// Answers from a map; unknown names are NXDOMAIN, known names without the
/// type NODATA. Callbacks run synchronously (allowed by the interface).
class FakeResolver : public probes::DnsResolver {
 public:
  void add(const std::string& name, RrType t, DnsAnswer a) {
    a.status = DnsStatus::Ok;
    answers_[{name, t}] = a;
    names_[name] = true;
  }
  void txt(const std::string& name, std::vector<std::string> records) {
    DnsAnswer a;
    a.txt = std::move(records);
    add(name, RrType::TXT, a);
  }
  void addr(const std::string& name, std::vector<std::string> ips) {
    DnsAnswer a4, a6;
    for (const auto& ip : ips)
      (ip.find(':') == std::string::npos ? a4 : a6).addresses.push_back(ip);
    if (!a4.addresses.empty()) add(name, RrType::A, a4);
    if (!a6.addresses.empty()) add(name, RrType::AAAA, a6);
    names_[name] = true;
  }
  void mx(const std::string& name, std::vector<probes::MxRecord> records) {
    DnsAnswer a;
    a.mx = std::move(records);
    add(name, RrType::MX, a);
  }
  void ptr(const std::string& ip, std::vector<std::string> names) {
    DnsAnswer a;
    a.names = std::move(names);
    add(probes::ptrName(ip), RrType::PTR, a);
  }
  void fail(const std::string& name, RrType t, DnsStatus s) {
    DnsAnswer a;
    a.status = s;
    a.error = "injected";
    failures_[{name, t}] = a;
  }
  void query(const std::string& name, RrType type, Deadline, probes::DnsCallback cb) override {
    ++queries;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++asked_[{name, type}];
    }
    cb(answer(name, type));
  }
  int asked(const std::string& name, RrType type) {
    std::lock_guard<std::mutex> lock(mutex_);
    return asked_[{name, type}];
  }
  DnsAnswer answer(const std::string& name, RrType type) const {
    auto f = failures_.find({name, type});
    if (f != failures_.end()) return f->second;
    auto it = answers_.find({name, type});
    if (it != answers_.end()) return it->second;
    DnsAnswer a;
    a.status = names_.count(name) ? DnsStatus::NoData : DnsStatus::NxDomain;
    return a;
  }
  std::atomic<int> queries{0};

 private:
  std::map<std::pair<std::string, RrType>, DnsAnswer> answers_, failures_;
  std::mutex mutex_;
  std::map<std::pair<std::string, RrType>, int> asked_;
  std::map<std::string, bool> names_;
};

/// A healthy example.com sending from 192.0.2.10 and 2001:db8::10.
void healthy(FakeResolver& r) {
  r.txt("example.com",
        {"v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/64 include:_spf.esp.example.net -all",
         "google-site-verification=abc"});
  r.txt("_spf.esp.example.net", {"v=spf1 ip4:198.51.100.0/24 ~all"});
  r.txt("s1._domainkey.example.com", {std::string(test::kDkimRsa2048)});
  r.txt("_dmarc.example.com", {"v=DMARC1; p=reject; rua=mailto:dmarc@example.com"});
  r.mx("example.com", {{10, "mx1.example.com"}, {20, "mx2.example.com"}});
  r.addr("mx1.example.com", {"192.0.2.25"});
  r.addr("mx2.example.com", {"192.0.2.26", "2001:db8::26"});
  r.ptr("192.0.2.10", {"mta1.example.com"});
  r.addr("mta1.example.com", {"192.0.2.10", "2001:db8::10"});
  r.ptr("2001:db8::10", {"mta1.example.com"});
}

DnsAuthParams params(const std::string& yaml, ConfigErrors& errors) {
  YAML::Node n = YAML::Load(yaml);
  MapReader r(n, "params", errors);
  JobBuildEnv env;
  env.inventories["sending"] = InventoryKind::Domains;
  env.inventories["endpoints"] = InventoryKind::Endpoints;
  auto p = parseDnsAuthParams(r, env);
  r.finish();
  BOOST_REQUIRE_MESSAGE(p && errors.empty(), (errors.empty() ? "" : errors.errors().front()));
  return *p;
}

DnsAuthParams params(const std::string& yaml) {
  ConfigErrors errors;
  return params(yaml, errors);
}

JobOutput runWith(FakeResolver& r, const DnsAuthParams& p) {
  DnsAuthTargets t = collectTargets(p, nullptr);
  DnsAuthObservations obs =
      observeDnsAuth(p, t, r, Deadline::in(std::chrono::seconds(5)), 1700000000);
  return evaluateDnsAuth(p, obs);
}

const CheckResult& find(const JobOutput& out, const std::string& check, const std::string& target) {
  for (const auto& r : out.results)
    if (r.check == check && r.target == target) return r;
  BOOST_FAIL("no result " << check << " " << target);
  static CheckResult none;
  return none;
}

bool hasSample(const JobOutput& out, const std::string& name, double value) {
  for (const auto& s : out.samples)
    if (s.name == name && s.value == value) return true;
  return false;
}

std::string status(const CheckResult& r) {
  return statusName(r.status);
}

const char* kOne = R"(
domains:
  - domain: example.com
    dkim_selectors: [s1]
    ips: [192.0.2.10, "2001:db8::10"]
    helo: mta1.example.com
)";

}  // namespace

BOOST_AUTO_TEST_SUITE(dns_auth)

BOOST_AUTO_TEST_CASE(params_parse_and_reject) {
  DnsAuthParams p =
      params(std::string(kOne) + "resolvers: [\"127.0.0.1:5353\"]\nchecks: [spf, ptr]\n");
  BOOST_CHECK_EQUAL(p.domains.size(), 1u);
  BOOST_CHECK_EQUAL(p.domains[0].ips.size(), 2u);
  BOOST_CHECK(p.wants("spf") && p.wants("ptr") && !p.wants("dkim"));
  BOOST_CHECK_EQUAL(p.resolvers.front(), "127.0.0.1:5353");

  for (const char* bad :
       {"domains: [example.com]\nchecks: [spf, dane]\n",
        "domains: [{domain: example.com, ips: [not-an-ip]}]\n",
        "domains: [{domain: example.com, colour: red}]\n", "inventory: endpoints\n", "{}\n",
        "domains: [\"1.2.3.4\"]\n", "domains: [example.com]\ndkim_crit_bits: 4096\n"}) {
    ConfigErrors errors;
    YAML::Node n = YAML::Load(bad);
    MapReader r(n, "params", errors);
    JobBuildEnv env;
    env.inventories["endpoints"] = InventoryKind::Endpoints;
    auto parsed = parseDnsAuthParams(r, env);
    r.finish();
    BOOST_CHECK_MESSAGE(!parsed || !errors.empty(), "accepted: " << bad);
  }
}

BOOST_AUTO_TEST_CASE(resolvers_fall_back_to_resolv_conf) {
  test::TempDir dir;
  test::writeFile(
      dir.file("resolv.conf"),
      "# comment\nnameserver 192.0.2.53\nsearch example.com\nnameserver 2001:db8::53\n");
  DnsAuthParams p;
  auto r = effectiveResolvers(p, dir.file("resolv.conf"));
  BOOST_REQUIRE_EQUAL(r.size(), 2u);
  BOOST_CHECK_EQUAL(r[0], "192.0.2.53:53");
  BOOST_CHECK_EQUAL(r[1], "[2001:db8::53]:53");
  p.resolvers = {"127.0.0.1:5300"};
  BOOST_CHECK_EQUAL(effectiveResolvers(p, dir.file("resolv.conf")).front(), "127.0.0.1:5300");
}

BOOST_AUTO_TEST_CASE(healthy_domain_is_ok_everywhere) {
  FakeResolver r;
  healthy(r);
  JobOutput out = runWith(r, params(kOne));
  for (const auto& res : out.results)
    BOOST_CHECK_MESSAGE(res.status == Status::Ok, res.check << " " << res.target << ": "
                                                            << status(res) << " " << res.summary);
  BOOST_CHECK_EQUAL(find(out, "spf", "example.com").summary,
                    "SPF for example.com is valid: 1 of 10 DNS lookups, 0 void, ends in -all");
  BOOST_CHECK(find(out, "spf", "example.com 192.0.2.10").summary.find("passes") !=
              std::string::npos);
  BOOST_CHECK_EQUAL(find(out, "dkim", "s1._domainkey.example.com").summary,
                    "DKIM key s1._domainkey.example.com: RSA 2048-bit");
  BOOST_CHECK_EQUAL(find(out, "ptr", "192.0.2.10").summary,
                    "192.0.2.10 has PTR mta1.example.com, forward-confirmed, matches HELO");
  BOOST_CHECK(hasSample(out, "mxpulse_spf_lookups", 1));
  BOOST_CHECK(hasSample(out, "mxpulse_dkim_key_bits", 2048));
  BOOST_CHECK(hasSample(out, "mxpulse_dmarc_policy", 2));
  BOOST_CHECK(hasSample(out, "mxpulse_ptr_fcrdns", 1));
  BOOST_CHECK(hasSample(out, "mxpulse_mx_hosts", 2));
  const Json* lookups = find(out, "spf", "example.com").facts.find("lookups");
  BOOST_REQUIRE(lookups && lookups->asInt());
  BOOST_CHECK_EQUAL(*lookups->asInt(), 1);
}

BOOST_AUTO_TEST_CASE(spf_over_ten_lookups_names_the_include) {
  FakeResolver r;
  healthy(r);
  r.txt("example.com",
        {"v=spf1 ip4:192.0.2.0/24 include:_spf.vendor.net a mx include:small.example.org -all"});
  r.txt("_spf.vendor.net", {"v=spf1 include:a.vendor.net include:b.vendor.net include:c.vendor.net "
                            "include:d.vendor.net include:e.vendor.net ~all"});
  for (const char* n : {"a", "b", "c", "d", "e"})
    r.txt(std::string(n) + ".vendor.net", {"v=spf1 ip4:198.51.100.0/24 -all"});
  r.addr("example.com", {"192.0.2.80"});
  r.txt("small.example.org", {"v=spf1 a:x.example.org a:x.example.org -all"});
  r.addr("x.example.org", {"203.0.113.1"});
  JobOutput out = runWith(r, params(kOne));
  const CheckResult& res = find(out, "spf", "example.com");
  BOOST_CHECK_EQUAL(status(res), "critical");
  BOOST_CHECK_MESSAGE(
      res.summary.rfind("SPF for example.com: uses 11 DNS lookups (limit 10): "
                        "include:_spf.vendor.net costs 6, include:small.example.org costs 3",
                        0) == 0,
      res.summary);
  // Our IP matches before the limit: it passes, and that is reported separately.
  BOOST_CHECK_EQUAL(status(find(out, "spf", "example.com 192.0.2.10")), "ok");
  BOOST_CHECK(hasSample(out, "mxpulse_spf_lookups", 11));
}

BOOST_AUTO_TEST_CASE(spf_nine_lookups_warns) {
  FakeResolver r;
  healthy(r);
  r.txt("example.com", {"v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/64 a mx a mx a mx a mx a -all"});
  r.addr("example.com", {"192.0.2.1"});
  r.mx("example.com", {{10, "mx1.example.com"}});
  JobOutput out = runWith(r, params(kOne));
  const CheckResult& res = find(out, "spf", "example.com");
  BOOST_CHECK_EQUAL(status(res), "warning");
  BOOST_CHECK_MESSAGE(
      res.summary.find("uses 9 of 10 DNS lookups, one vendor change from breaking") !=
          std::string::npos,
      res.summary);
}

BOOST_AUTO_TEST_CASE(spf_weak_all_and_failing_ip) {
  FakeResolver r;
  healthy(r);
  r.txt("example.com", {"v=spf1 ip4:198.51.100.7 ?all"});
  JobOutput out = runWith(r, params(kOne));
  BOOST_CHECK_EQUAL(status(find(out, "spf", "example.com")), "critical");
  BOOST_CHECK(find(out, "spf", "example.com").summary.find("?all") != std::string::npos);
  const CheckResult& ip = find(out, "spf", "example.com 192.0.2.10");
  BOOST_CHECK_EQUAL(status(ip), "critical");
  BOOST_CHECK_MESSAGE(
      ip.summary.find("does not pass SPF for example.com: neutral") != std::string::npos,
      ip.summary);
  BOOST_CHECK(hasSample(out, "mxpulse_spf_pass", 0));

  r.txt("example.com", {"v=spf1 include:_spf.esp.example.net +all"});
  out = runWith(r, params(kOne));
  BOOST_CHECK(find(out, "spf", "example.com").summary.find("+all: every IP") != std::string::npos);

  r.txt("example.com", {"v=spf1 include:bad.example.net -all"});
  r.txt("bad.example.net", {"v=spf1 +all"});
  out = runWith(r, params(kOne));
  BOOST_CHECK_EQUAL(status(find(out, "spf", "example.com")), "critical");
  BOOST_CHECK_MESSAGE(
      find(out, "spf", "example.com").summary.find("bad.example.net ends in +all") !=
          std::string::npos,
      find(out, "spf", "example.com").summary);
}

BOOST_AUTO_TEST_CASE(dns_failures_are_unknown_never_missing) {
  FakeResolver r;
  healthy(r);
  r.fail("example.com", RrType::TXT, DnsStatus::ServFail);
  r.fail("s1._domainkey.example.com", RrType::TXT, DnsStatus::Timeout);
  r.fail("_dmarc.example.com", RrType::TXT, DnsStatus::ServFail);
  r.fail("example.com", RrType::MX, DnsStatus::Refused);
  r.fail(probes::ptrName("192.0.2.10"), RrType::PTR, DnsStatus::Timeout);
  r.fail("_mta-sts.example.com", RrType::TXT, DnsStatus::ServFail);
  r.fail("_smtp._tls.example.com", RrType::TXT, DnsStatus::ServFail);
  JobOutput out = runWith(r, params(kOne));
  for (const auto& res : out.results) {
    if (res.target == "2001:db8::10") continue;  // its PTR still answers
    BOOST_CHECK_MESSAGE(res.status == Status::Unknown, res.check << " " << res.target << ": "
                                                                 << status(res) << " "
                                                                 << res.summary);
    BOOST_CHECK_MESSAGE(
        res.summary.find("no ") != 0 && res.summary.find("missing") == std::string::npos,
        res.summary);
  }
  BOOST_CHECK(!hasSample(out, "mxpulse_spf_lookups", 0));
  BOOST_CHECK(find(out, "dmarc", "example.com").summary.find("servfail") != std::string::npos);
  // An include that fails makes the per-IP verdict unknown, not fail.
  FakeResolver r2;
  healthy(r2);
  r2.txt("example.com", {"v=spf1 include:_spf.esp.example.net ip4:192.0.2.0/24 -all"});
  r2.fail("_spf.esp.example.net", RrType::TXT, DnsStatus::Timeout);
  out = runWith(r2, params(kOne));
  BOOST_CHECK_EQUAL(status(find(out, "spf", "example.com 192.0.2.10")), "unknown");
  BOOST_CHECK_EQUAL(status(find(out, "spf", "example.com")), "unknown");
}

BOOST_AUTO_TEST_CASE(dkim_findings) {
  struct Case {
    std::string record, want, text;
  };
  std::vector<Case> cases = {
      {std::string(test::kDkimRsa1024), "warning", "RSA 1024-bit key; 2048 bits is recommended"},
      {std::string(test::kDkimRsa512), "critical", "RSA 512-bit key is below 1024 bits"},
      {"v=DKIM1; k=rsa; p=", "critical", "revoked"},
      {std::string(test::kDkimRsa2048) + "; t=y", "warning", "t=y: testing mode"},
      {"v=DKIM1; k=foo; p=abc=", "critical", "invalid: unknown key type k=foo"},
      {"v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", "ok", "ed25519"},
  };
  for (const auto& c : cases) {
    FakeResolver r;
    healthy(r);
    r.txt("s1._domainkey.example.com", {c.record});
    JobOutput out = runWith(r, params(kOne));
    const CheckResult& res = find(out, "dkim", "s1._domainkey.example.com");
    BOOST_CHECK_MESSAGE(status(res) == c.want && res.summary.find(c.text) != std::string::npos,
                        c.record.substr(0, 40) << ": " << status(res) << " " << res.summary);
  }
  // CNAME delegation (e.g. an ESP-hosted selector) and a missing key.
  FakeResolver r;
  healthy(r);
  DnsAnswer viaCname;
  viaCname.txt = {std::string(test::kDkimRsa2048)};
  viaCname.cnameChain = {"s1._domainkey.example.com", "s1.dkim.esp.example.net"};
  r.add("s1._domainkey.example.com", RrType::TXT, viaCname);
  DnsAuthParams p = params(kOne);
  p.domains[0].selectors.push_back("gone");
  JobOutput out = runWith(r, p);
  BOOST_CHECK_EQUAL(
      find(out, "dkim", "s1._domainkey.example.com").summary,
      "DKIM key s1._domainkey.example.com (via CNAME s1.dkim.esp.example.net): RSA 2048-bit");
  const CheckResult& gone = find(out, "dkim", "gone._domainkey.example.com");
  BOOST_CHECK_EQUAL(status(gone), "critical");
  BOOST_CHECK_EQUAL(gone.summary, "no DKIM key at gone._domainkey.example.com (NXDOMAIN)");
}

BOOST_AUTO_TEST_CASE(dmarc_findings) {
  FakeResolver r;
  healthy(r);
  r.txt("_dmarc.example.com", {"v=DMARC1; p=none; pct=50"});
  JobOutput out = runWith(r, params(kOne));
  const CheckResult& res = find(out, "dmarc", "example.com");
  BOOST_CHECK_EQUAL(status(res), "warning");
  BOOST_CHECK(res.summary.find("p=none: monitoring only") != std::string::npos);
  BOOST_CHECK(res.summary.find("pct=50") != std::string::npos);
  BOOST_CHECK(res.summary.find("no rua=") != std::string::npos);

  r.txt("_dmarc.example.com", {"v=DMARC1; p=reject", "v=DMARC1; p=none"});
  out = runWith(r, params(kOne));
  BOOST_CHECK_EQUAL(status(find(out, "dmarc", "example.com")), "critical");

  // A subdomain without its own record: the organisational domain's sp applies.
  FakeResolver sub;
  healthy(sub);
  sub.txt("news.example.com", {"v=spf1 -all"});
  sub.txt("_dmarc.example.com", {"v=DMARC1; p=reject; sp=quarantine; rua=mailto:d@example.com"});
  out = runWith(sub, params("domains: [news.example.com]\nchecks: [dmarc]\n"));
  const CheckResult& s = find(out, "dmarc", "news.example.com");
  BOOST_CHECK_EQUAL(status(s), "ok");
  BOOST_CHECK_MESSAGE(s.summary.find("sp=quarantine") != std::string::npos, s.summary);
  BOOST_CHECK(hasSample(out, "mxpulse_dmarc_policy", 1));

  // No record anywhere.
  FakeResolver none;
  out = runWith(none, params("domains: [a.b.example.com]\nchecks: [dmarc]\n"));
  const CheckResult& n = find(out, "dmarc", "a.b.example.com");
  BOOST_CHECK_EQUAL(status(n), "critical");
  BOOST_CHECK_EQUAL(n.summary,
                    "no DMARC record at _dmarc.a.b.example.com nor at any parent domain");
  BOOST_CHECK_EQUAL(n.facts.find("queried")->asArray()->size(), 3u);
}

BOOST_AUTO_TEST_CASE(dmarc_external_report_authorisation) {
  FakeResolver r;
  healthy(r);
  r.txt("_dmarc.example.com",
        {"v=DMARC1; p=reject; rua=mailto:a@reports.vendor.net,mailto:b@other.example.org; "
         "ruf=mailto:f@example.com"});
  r.txt("example.com._report._dmarc.reports.vendor.net", {"v=DMARC1"});
  JobOutput out = runWith(r, params(kOne));
  BOOST_CHECK_EQUAL(status(find(out, "dmarc_report_auth", "example.com reports.vendor.net")), "ok");
  const CheckResult& no = find(out, "dmarc_report_auth", "example.com other.example.org");
  BOOST_CHECK_EQUAL(status(no), "warning");
  BOOST_CHECK(no.summary.find("example.com._report._dmarc.other.example.org") != std::string::npos);
  for (const auto& res : out.results)  // same-organisation addresses need no authorisation
    BOOST_CHECK(res.target != "example.com example.com");
}

BOOST_AUTO_TEST_CASE(mx_and_ptr_findings) {
  FakeResolver r;
  healthy(r);
  r.mx("example.com",
       {{10, "mx1.example.com"}, {20, "alias.example.com"}, {30, "gone.example.com"}});
  DnsAnswer cname;
  cname.addresses = {"192.0.2.27"};
  cname.cnameChain = {"alias.example.com", "mx1.example.com"};
  r.add("alias.example.com", RrType::A, cname);
  r.ptr("192.0.2.10", {"mail.other.example"});
  r.addr("mail.other.example", {"198.51.100.1"});
  JobOutput out = runWith(r, params(kOne));
  const CheckResult& mx = find(out, "mx", "example.com");
  BOOST_CHECK_EQUAL(status(mx), "critical");
  BOOST_CHECK(mx.summary.find("MX gone.example.com has no A or AAAA record") != std::string::npos);
  BOOST_CHECK(mx.summary.find("alias.example.com is a CNAME") != std::string::npos);
  const CheckResult& ptr = find(out, "ptr", "192.0.2.10");
  BOOST_CHECK_EQUAL(status(ptr), "critical");
  BOOST_CHECK_EQUAL(
      ptr.summary,
      "192.0.2.10 has PTR mail.other.example: mail.other.example does not resolve back "
      "to 192.0.2.10 (no FCrDNS)");
  BOOST_CHECK(hasSample(out, "mxpulse_ptr_fcrdns", 0));

  FakeResolver n;
  healthy(n);
  n.mx("example.com", {{0, ""}});
  n.ptr("2001:db8::10", {"mta6.example.com"});
  n.addr("mta6.example.com", {"2001:db8::10"});
  out = runWith(n, params(kOne));
  BOOST_CHECK_EQUAL(find(out, "mx", "example.com").summary,
                    "example.com publishes a null MX (RFC 7505): it accepts no mail");
  const CheckResult& v6 = find(out, "ptr", "2001:db8::10");
  BOOST_CHECK_EQUAL(status(v6), "warning");
  BOOST_CHECK(v6.summary.find("differs from the HELO name mta1.example.com") != std::string::npos);

  // ptr alone for an IP without a domain (mxpulse check ptr IP).
  FakeResolver p;
  out = runWith(p, params("ips: [192.0.2.99]\nchecks: [ptr]\n"));
  BOOST_CHECK_EQUAL(find(out, "ptr", "192.0.2.99").summary, "192.0.2.99 has no PTR record");
}

BOOST_AUTO_TEST_CASE(mta_sts_verdicts) {
  DnsAuthParams p = params(kOne);
  auto base = [] {
    StsObservation o;
    o.domain = "example.com";
    o.txt.status = DnsStatus::Ok;
    o.txt.txt = {"v=STSv1; id=20240101T000000"};
    o.hostA.status = DnsStatus::Ok;
    o.hostA.addresses = {"192.0.2.80"};
    o.hostAaaa.status = DnsStatus::NoData;
    o.attempted = true;
    o.response.status = 200;
    o.response.contentType = "text/plain";
    o.response.body =
        "version: STSv1\nmode: enforce\nmx: mx1.example.com\nmx: *.example.net\nmax_age: 604800\n";
    o.mx.domain = "example.com";
    o.mx.mx.status = DnsStatus::Ok;
    o.mx.hosts = {{"mx1.example.com", 10, {}, {}}, {"mx.example.net", 20, {}, {}}};
    return o;
  };
  auto run = [&](const StsObservation& o) {
    JobOutput out;
    evaluateMtaSts(p, o, out);
    return out.results.at(0);
  };
  StsObservation o = base();
  CheckResult r = run(o);
  BOOST_CHECK_EQUAL(r.summary, "MTA-STS for example.com: mode enforce, covers every MX");

  o = base();  // CRLF line endings are fine too
  o.response.body =
      "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.com\r\nmx: *.example.net\r\nmax_age: "
      "604800\r\n";
  BOOST_CHECK_EQUAL(status(run(o)), "ok");

  o = base();
  o.mx.hosts.push_back({"backup.example.org", 30, {}, {}});
  r = run(o);
  BOOST_CHECK_EQUAL(status(r), "critical");
  BOOST_CHECK(r.summary.find("MX backup.example.org not covered") != std::string::npos);

  o.response.body = "version: STSv1\nmode: testing\nmx: mx1.example.com\nmax_age: 3600\n";
  r = run(o);
  BOOST_CHECK_EQUAL(status(r), "warning");
  BOOST_CHECK(r.summary.find("max_age 3600 s") != std::string::npos);

  o = base();
  o.response.status = 301;
  o.response.location = "https://www.example.com/";
  r = run(o);
  BOOST_CHECK_EQUAL(status(r), "critical");
  BOOST_CHECK(r.summary.find("redirects are not allowed") != std::string::npos);

  o = base();
  o.response.error = probes::HttpsError::Certificate;
  o.response.errorText = "certificate for mta-sts.example.com not valid: certificate has expired";
  BOOST_CHECK_EQUAL(status(run(o)), "critical");

  o = base();
  o.response.error = probes::HttpsError::Timeout;
  o.response.errorText = "TLS handshake timed out";
  BOOST_CHECK_EQUAL(status(run(o)), "unknown");

  o = base();
  o.txt.txt = {"v=STSv1; id=a", "v=STSv1; id=b"};
  BOOST_CHECK_EQUAL(status(run(o)), "critical");

  o = base();
  o.txt.txt = {"v=spf1 -all"};
  BOOST_CHECK_EQUAL(run(o).summary, "example.com publishes no MTA-STS policy");
}

BOOST_AUTO_TEST_CASE(tls_rpt_verdicts) {
  auto run = [](std::vector<std::string> txt, bool sts) {
    TlsRptObservation o;
    o.domain = "example.com";
    o.txt.status = txt.empty() ? DnsStatus::NxDomain : DnsStatus::Ok;
    o.txt.txt = std::move(txt);
    o.stsPublished = sts;
    JobOutput out;
    evaluateTlsRpt(o, out);
    return out.results.at(0);
  };
  BOOST_CHECK_EQUAL(
      status(run({"v=TLSRPTv1; rua=mailto:tls@example.com,https://r.example.net/x"}, true)), "ok");
  BOOST_CHECK_EQUAL(status(run({"v=TLSRPTv1; rua=ftp://r.example.net"}, true)), "critical");
  BOOST_CHECK_EQUAL(status(run({"v=TLSRPTv1;"}, true)), "critical");
  BOOST_CHECK_EQUAL(status(run({}, true)), "warning");
  BOOST_CHECK_EQUAL(status(run({}, false)), "ok");
}

// One question per (name, type) per run, however many domains, IPs and
// walks (audit plus one per IP) need it: the shared include is asked once.
BOOST_AUTO_TEST_CASE(shared_include_is_asked_once) {
  FakeResolver r;
  r.txt("_spf.esp.example.net",
        {"v=spf1 include:_nb.esp.example.net a:relay.esp.example.net ~all"});
  r.txt("_nb.esp.example.net", {"v=spf1 ip4:198.51.100.0/24 ~all"});
  r.addr("relay.esp.example.net", {"198.51.100.1", "2001:db8:e5::1"});
  std::string yaml = "checks: [spf]\nconcurrency: 8\ndomains:\n";
  for (int i = 0; i < 50; ++i) {
    std::string d = "d" + std::to_string(i) + ".example.com";
    r.txt(d, {"v=spf1 ip4:192.0.2." + std::to_string(i) + " include:_spf.esp.example.net -all"});
    yaml += "  - {domain: " + d + ", ips: [192.0.2." + std::to_string(i) +
            ", \"2001:db8::" + std::to_string(i + 1) + "\"]}\n";
  }
  JobOutput out = runWith(r, params(yaml));
  BOOST_CHECK_EQUAL(out.results.size(), 150u);
  BOOST_CHECK_EQUAL(r.asked("_spf.esp.example.net", RrType::TXT), 1);
  BOOST_CHECK_EQUAL(r.asked("_nb.esp.example.net", RrType::TXT), 1);
  BOOST_CHECK_EQUAL(r.asked("relay.esp.example.net", RrType::A), 1);
  BOOST_CHECK_EQUAL(r.asked("relay.esp.example.net", RrType::AAAA), 1);
  BOOST_CHECK(hasSample(out, "mxpulse_dns_auth_dns_questions", 54));  // 50 + 4
  BOOST_CHECK_EQUAL(status(find(out, "spf", "d7.example.com 192.0.2.7")), "ok");
  BOOST_CHECK_EQUAL(status(find(out, "spf", "d7.example.com 2001:db8::8")),
                    "critical");  // softfail
}

// Evaluation splits large inputs over threads; the output must be the one
// a single thread gives, in the same order.
BOOST_AUTO_TEST_CASE(sliced_evaluation_equals_sequential) {
  DnsAuthObservations obs;
  for (int i = 0; i < 700; ++i) {
    PtrObservation p;
    p.ip = "10." + std::to_string(i / 250) + ".0." + std::to_string(i % 250);
    p.ptr.status = i % 7 ? DnsStatus::Ok : DnsStatus::NxDomain;
    if (i % 7) p.ptr.names = {"h" + std::to_string(i) + ".example.com"};
    DnsAnswer fwd;
    fwd.status = DnsStatus::Ok;
    fwd.addresses = {i % 3 ? p.ip : "10.9.9.9"};
    if (i % 7) p.forward.emplace_back(p.ptr.names[0], fwd);
    obs.ptr.push_back(p);
  }
  DnsAuthParams one, many;
  one.concurrency = 1;
  many.concurrency = 16;
  JobOutput a = evaluateDnsAuth(one, obs), b = evaluateDnsAuth(many, obs);
  BOOST_REQUIRE_EQUAL(a.results.size(), 700u);
  BOOST_REQUIRE_EQUAL(a.results.size(), b.results.size());
  BOOST_REQUIRE_EQUAL(a.samples.size(), b.samples.size());
  for (size_t i = 0; i < a.results.size(); ++i) {
    BOOST_CHECK_EQUAL(a.results[i].target, b.results[i].target);
    BOOST_CHECK_EQUAL(a.results[i].summary, b.results[i].summary);
    BOOST_CHECK(a.results[i].status == b.results[i].status);
  }
}

BOOST_AUTO_TEST_CASE(targets_merge_params_and_inventories) {
  struct Ctx : JobContext {
    std::map<std::string, InventorySnapshot> snaps;
    std::chrono::system_clock::time_point now() const override { return {}; }
    Deadline deadline() const override { return Deadline::in(std::chrono::seconds(5)); }
    bool stopRequested() const override { return false; }
    const InventorySnapshot* inventory(const std::string& n) const override {
      auto it = snaps.find(n);
      return it == snaps.end() ? nullptr : &it->second;
    }
  } ctx;
  InventorySnapshot s;
  s.kind = InventoryKind::Domains;
  InventoryItem item;
  item.fields = {{"domain", {"Example.COM."}}, {"dkim_selectors", {"s2"}}, {"ips", {"192.0.2.11"}}};
  s.items.push_back(item);
  ctx.snaps["sending"] = s;
  DnsAuthParams p = params(std::string(kOne) + "inventory: sending\n");
  DnsAuthTargets t = collectTargets(p, &ctx);
  BOOST_REQUIRE_EQUAL(t.domains.size(), 1u);
  BOOST_CHECK_EQUAL(t.domains[0].selectors.size(), 2u);
  BOOST_CHECK_EQUAL(t.domains[0].ips.size(), 3u);
  BOOST_CHECK_EQUAL(t.ips.size(), 3u);
  BOOST_CHECK_EQUAL(t.ips[0].helo, "mta1.example.com");
}

BOOST_AUTO_TEST_SUITE_END()
