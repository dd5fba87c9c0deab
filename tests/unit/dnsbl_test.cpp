// SPDX-License-Identifier: Apache-2.0
// The dnsbl job without a network: code tables, zone health from test
// points, the three outcomes, params, targets, metrics, DQS secrecy, and
// the mox DNSBL vectors (../shared/suites/dnsbl).
#include <Poco/JSON/Parser.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <fstream>
#include <mutex>

#include "agent/yaml_reader.hpp"
#include "jobs/dnsbl.hpp"
#include "tests/support/test_support.hpp"

using namespace mxpulse;
using namespace mxpulse::jobs;
using namespace mxpulse::jobs::dnsbl;
using probes::DnsAnswer;
using probes::DnsStatus;

namespace {

DnsAnswer ok(std::vector<std::string> addresses) {
  DnsAnswer a;
  a.status = DnsStatus::Ok;
  a.rcode = 0;
  a.addresses = std::move(addresses);
  return a;
}

DnsAnswer txt(std::string text) {
  DnsAnswer a;
  a.status = DnsStatus::Ok;
  a.txt = {std::move(text)};
  return a;
}

DnsAnswer status(DnsStatus s) {
  DnsAnswer a;
  a.status = s;
  a.rcode = s == DnsStatus::NxDomain ? 3 : s == DnsStatus::ServFail ? 2 : -1;
  return a;
}

DnsblZone zone(const std::string& name, ZoneType type = ZoneType::Ip) {
  DnsblZone z;
  const ZoneProfile* known = findKnownZone(name);
  z.profile = known ? *known : genericZone(name, type);
  z.queryZone = z.profile.zone;
  return z;
}

DnsblTarget ip(const std::string& v) {
  return DnsblTarget{v, true, v.find(':') != std::string::npos};
}
DnsblTarget domain(const std::string& v) {
  return DnsblTarget{v, false, false};
}

int kind(CodeKind k) {
  return static_cast<int>(k);
}
int st(Status s) {
  return static_cast<int>(s);
}

const CheckResult* find(const JobOutput& out, const std::string& check, const std::string& target) {
  for (const auto& r : out.results)
    if (r.check == check && r.target == target) return &r;
  return nullptr;
}

const Sample* sample(const JobOutput& out, const std::string& name, const Labels& labels) {
  for (const auto& s : out.samples)
    if (s.name == name && s.labels == labels) return &s;
  return nullptr;
}

std::string factString(const CheckResult& r, const std::string& key) {
  const Json* j = r.facts.find(key);
  return j && j->asString() ? *j->asString() : "";
}

/// A resolver that answers from maps, synchronously, on the caller's thread.
class MapResolver : public probes::DnsResolver {
 public:
  std::map<std::string, DnsAnswer> a, txt;
  std::vector<std::string> asked;

  void query(const std::string& name, probes::RrType type, Deadline,
             probes::DnsCallback cb) override {
    DnsAnswer answer = status(DnsStatus::NxDomain);
    {
      std::lock_guard<std::mutex> lock(m_);
      asked.push_back(name);
      auto& map = type == probes::RrType::TXT ? txt : a;
      auto it = map.find(name);
      if (it != map.end()) answer = it->second;
    }
    cb(answer);
  }

 private:
  std::mutex m_;
};

struct Parsed {
  ConfigErrors errors;
  std::optional<DnsblParams> params;
};

std::unique_ptr<Parsed> parse(const std::string& yaml, JobBuildEnv env = JobBuildEnv()) {
  auto out = std::make_unique<Parsed>();
  YAML::Node n = YAML::Load(yaml);
  MapReader r(n, "params", out->errors);
  out->params = parseDnsblParams(r, env);
  r.finish();
  return out;
}

bool anyErrorContains(const ConfigErrors& e, const std::string& text) {
  for (const auto& s : e.errors())
    if (s.find(text) != std::string::npos) return true;
  return false;
}

const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1800000000));

}  // namespace

BOOST_AUTO_TEST_SUITE(dnsbl)

BOOST_AUTO_TEST_CASE(spamhaus_codes_and_error_range) {
  const ZoneProfile& zen = *findKnownZone("zen.spamhaus.org");
  BOOST_TEST(classifyCode(zen, "127.0.0.2").category == "sbl");
  BOOST_TEST(classifyCode(zen, "127.0.0.3").category == "css");
  BOOST_TEST(classifyCode(zen, "127.0.0.6").category == "xbl");
  BOOST_TEST(classifyCode(zen, "127.0.0.9").category == "drop");
  BOOST_TEST(classifyCode(zen, "127.0.0.10").category == "pbl_isp");
  BOOST_TEST(classifyCode(zen, "127.0.0.11").category == "pbl_spamhaus");
  for (const char* e : {"127.255.255.252", "127.255.255.254", "127.255.255.255", "127.255.255.1"})
    BOOST_TEST(kind(classifyCode(zen, e).kind) == kind(CodeKind::Error), e);
  BOOST_TEST(classifyCode(zen, "127.255.255.254").category == "public_resolver");
  // Outside 127/8: a resolver rewriting NXDOMAIN (Pi-hole, ISP), never a listing.
  BOOST_TEST(kind(classifyCode(zen, "192.0.2.1").kind) == kind(CodeKind::Error));
  BOOST_TEST(kind(classifyCode(zen, "::1").kind) == kind(CodeKind::Error));
  BOOST_TEST(kind(classifyCode(zen, "127.0.0.1").kind) == kind(CodeKind::Error));
  auto unknownCode = classifyCode(zen, "127.0.0.99");
  BOOST_TEST(kind(unknownCode.kind) == kind(CodeKind::Listed));
  BOOST_TEST(unknownCode.category == "other");
}

BOOST_AUTO_TEST_CASE(domain_lists_and_bitmasks) {
  const ZoneProfile& dbl = *findKnownZone("dbl.spamhaus.org");
  BOOST_TEST((dbl.type == ZoneType::Domain));
  BOOST_TEST(classifyCode(dbl, "127.0.1.2").category == "dbl_spam");
  BOOST_TEST(classifyCode(dbl, "127.0.1.104").category == "dbl_abused_phish");
  BOOST_TEST(kind(classifyCode(dbl, "127.0.1.255").kind) == kind(CodeKind::Error));
  const ZoneProfile& surbl = *findKnownZone("multi.surbl.org");
  auto both = classifyCode(surbl, "127.0.0.80");  // 16 + 64
  BOOST_TEST(kind(both.kind) == kind(CodeKind::Listed));
  BOOST_TEST(both.category == "surbl_mw+surbl_abuse");
  BOOST_TEST(kind(classifyCode(surbl, "127.0.0.1").kind) == kind(CodeKind::Error));
  const ZoneProfile& uribl = *findKnownZone("multi.uribl.com");
  BOOST_TEST(classifyCode(uribl, "127.0.0.2").category == "uribl_black");
  BOOST_TEST(classifyCode(uribl, "127.0.0.14").category == "uribl_black+uribl_grey+uribl_red");
  BOOST_TEST(classifyCode(uribl, "127.0.0.1").category == "uribl_refused");
  const ZoneProfile& rep = *findKnownZone("rep.mailspike.net");
  BOOST_TEST(kind(classifyCode(rep, "127.0.0.17").kind) == kind(CodeKind::NotListed));
  BOOST_TEST(kind(classifyCode(rep, "127.0.0.11").kind) == kind(CodeKind::Listed));
}

BOOST_AUTO_TEST_CASE(shipped_defaults_are_alive_and_not_mixed_up) {
  std::set<std::string> defaults;
  for (const auto& z : knownZones())
    if (z.shippedDefault) defaults.insert(z.zone);
  BOOST_TEST(defaults.count("zen.spamhaus.org") == 1u);
  BOOST_TEST(defaults.count("dbl.spamhaus.org") == 1u);
  for (const auto& z : knownZones()) {
    // Dead lists must not come back: SORBS, manitu, wpbl, cyberlogic, spamcannibal.
    for (const char* dead : {"sorbs", "manitu", "wpbl", "cyberlogic", "spamcannibal"})
      BOOST_TEST(z.zone.find(dead) == std::string::npos, z.zone);
  }
  BOOST_TEST((findKnownZone("zen.spamhaus.org")->type == ZoneType::Ip));
  BOOST_TEST((findKnownZone("dbl.spamhaus.org")->type == ZoneType::Domain));
  BOOST_TEST(findKnownZone("ZEN.Spamhaus.org.") != nullptr);
}

BOOST_AUTO_TEST_CASE(test_points_and_dqs_names) {
  BOOST_TEST(canaryListedName(*findKnownZone("zen.spamhaus.org")) == "2.0.0.127");
  BOOST_TEST(canaryCleanName(*findKnownZone("zen.spamhaus.org")) == "1.0.0.127");
  BOOST_TEST(canaryListedName(*findKnownZone("dbl.spamhaus.org")) == "test");
  BOOST_TEST(canaryCleanName(*findKnownZone("dbl.spamhaus.org")) == "invalid");
  BOOST_TEST(dqsQueryZone(*findKnownZone("zen.spamhaus.org"), "abcdefghijklmnopqrstuvwxyz") ==
             "abcdefghijklmnopqrstuvwxyz.zen.dq.spamhaus.net");
  BOOST_TEST(dqsQueryZone(*findKnownZone("dbl.spamhaus.org"), "k3y0000000") ==
             "k3y0000000.dbl.dq.spamhaus.net");
  BOOST_TEST(dqsQueryZone(*findKnownZone("bl.spamcop.net"), "k3y0000000") == "");
  BOOST_TEST(validDqsKey("abcdefghijklmnopqrstuvwxyz"));
  BOOST_TEST(!validDqsKey("short"));
  BOOST_TEST(!validDqsKey("evil.zone.example.net.xxxx"));
}

BOOST_AUTO_TEST_CASE(query_names) {
  DnsblZone zen = zone("zen.spamhaus.org");
  BOOST_TEST(dnsblQueryName(ip("192.0.2.99"), zen) == "99.2.0.192.zen.spamhaus.org");
  BOOST_TEST(dnsblQueryName(ip("2001:db8::1"), zen) ==
             "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.zen.spamhaus.org");
  DnsblZone dbl = zone("dbl.spamhaus.org");
  BOOST_TEST(dnsblQueryName(domain("example.com"), dbl) == "example.com.dbl.spamhaus.org");
  // Never an IP on a domain list, never a domain on an IP list, IPv6 only where answered.
  BOOST_TEST(!dnsblApplies(ip("192.0.2.1"), dbl));
  BOOST_TEST(!dnsblApplies(domain("example.com"), zen));
  BOOST_TEST(dnsblApplies(ip("2001:db8::1"), zen));
  BOOST_TEST(!dnsblApplies(ip("2001:db8::1"), zone("bl.spamcop.net")));
}

BOOST_AUTO_TEST_CASE(zone_health_from_test_points) {
  DnsblZone zen = zone("zen.spamhaus.org");
  DnsblZoneObservation o;
  o.queried = true;
  o.listedProbe = ok({"127.0.0.2", "127.0.0.4", "127.0.0.10"});
  o.cleanProbe = status(DnsStatus::NxDomain);
  BOOST_TEST(static_cast<int>(assessDnsblZone(zen, o).state) ==
             static_cast<int>(ZoneHealthState::Healthy));

  auto check = [&](DnsAnswer listedProbe, DnsAnswer cleanProbe, ZoneHealthState want,
                   const std::string& cause) {
    DnsblZoneObservation x;
    x.queried = true;
    x.listedProbe = std::move(listedProbe);
    x.cleanProbe = std::move(cleanProbe);
    ZoneHealth h = assessDnsblZone(zen, x);
    BOOST_TEST(static_cast<int>(h.state) == static_cast<int>(want), cause << ": " << h.reason);
    BOOST_TEST(h.cause == cause);
    BOOST_TEST(!h.reason.empty());
  };
  // A public resolver: Spamhaus answers everything with 127.255.255.254.
  check(ok({"127.255.255.254"}), ok({"127.255.255.254"}), ZoneHealthState::Unhealthy,
        "public_resolver");
  // A public resolver that hides listings (silent NXDOMAIN), or a dead list.
  check(status(DnsStatus::NxDomain), status(DnsStatus::NxDomain), ZoneHealthState::Unhealthy,
        "dead_list");
  // A dead list answering everything.
  check(ok({"127.0.0.2"}), ok({"127.0.0.2"}), ZoneHealthState::Unhealthy, "wildcard");
  // A resolver that rewrites NXDOMAIN to its own address.
  check(ok({"127.0.0.2"}), ok({"192.0.2.53"}), ZoneHealthState::Unhealthy, "rewriting");
  // The test queries failed: could not tell.
  check(status(DnsStatus::ServFail), status(DnsStatus::NxDomain), ZoneHealthState::Unknown,
        "resolver_error");
  check(ok({"127.0.0.2"}), status(DnsStatus::Timeout), ZoneHealthState::Unknown, "resolver_error");
  DnsblZoneObservation never;
  BOOST_TEST(static_cast<int>(assessDnsblZone(zen, never).state) ==
             static_cast<int>(ZoneHealthState::Unknown));
  // URIBL refuses big resolvers with 127.0.0.1 on every name.
  DnsblZone uribl = zone("multi.uribl.com");
  DnsblZoneObservation u;
  u.queried = true;
  u.listedProbe = ok({"127.0.0.1"});
  u.cleanProbe = ok({"127.0.0.1"});
  BOOST_TEST(assessDnsblZone(uribl, u).cause == "public_resolver");
}

BOOST_AUTO_TEST_CASE(three_outcomes_and_severity) {
  DnsblZone zen = zone("zen.spamhaus.org");
  zen.codeSeverity["pbl_isp"] = Status::Warning;
  zen.codeSeverity["127.0.0.11"] = Status::Warning;
  auto sbl = classifyDnsblAnswer(zen, ok({"127.0.0.2"}));
  BOOST_TEST(static_cast<int>(sbl.kind) == static_cast<int>(DnsblOutcome::Listed));
  BOOST_TEST(st(sbl.status) == st(Status::Critical));
  auto pbl = classifyDnsblAnswer(zen, ok({"127.0.0.10"}));
  BOOST_TEST(st(pbl.status) == st(Status::Warning));
  BOOST_TEST(st(classifyDnsblAnswer(zen, ok({"127.0.0.11"})).status) == st(Status::Warning));
  auto both = classifyDnsblAnswer(zen, ok({"127.0.0.10", "127.0.0.4"}));
  BOOST_TEST(st(both.status) == st(Status::Critical));
  BOOST_TEST(both.code == "127.0.0.4");
  BOOST_TEST(both.codes == (std::vector<std::string>{"127.0.0.4", "127.0.0.10"}));
  BOOST_TEST(both.category == "xbl+pbl_isp");
  BOOST_TEST(static_cast<int>(classifyDnsblAnswer(zen, status(DnsStatus::NxDomain)).kind) ==
             static_cast<int>(DnsblOutcome::Clean));
  BOOST_TEST(static_cast<int>(classifyDnsblAnswer(zen, status(DnsStatus::NoData)).kind) ==
             static_cast<int>(DnsblOutcome::Clean));
  for (auto s : {DnsStatus::Timeout, DnsStatus::ServFail, DnsStatus::Refused, DnsStatus::Malformed,
                 DnsStatus::NetworkError}) {
    auto o = classifyDnsblAnswer(zen, status(s));
    BOOST_TEST(static_cast<int>(o.kind) == static_cast<int>(DnsblOutcome::Unknown));
    BOOST_TEST(st(o.status) == st(Status::Unknown));
  }
  // An error code next to a listing code: still "could not tell".
  auto mixed = classifyDnsblAnswer(zen, ok({"127.0.0.2", "127.255.255.254"}));
  BOOST_TEST(static_cast<int>(mixed.kind) == static_cast<int>(DnsblOutcome::Unknown));
  auto outside = classifyDnsblAnswer(zen, ok({"10.0.0.1"}));
  BOOST_TEST(static_cast<int>(outside.kind) == static_cast<int>(DnsblOutcome::Unknown));
  DnsblZone dbl = zone("dbl.spamhaus.org");
  BOOST_TEST(static_cast<int>(classifyDnsblAnswer(dbl, ok({"127.0.1.255"})).kind) ==
             static_cast<int>(DnsblOutcome::Unknown));
  DnsblZone rep = zone("rep.mailspike.net");
  BOOST_TEST(static_cast<int>(classifyDnsblAnswer(rep, ok({"127.0.0.18"})).kind) ==
             static_cast<int>(DnsblOutcome::Clean));
}

BOOST_AUTO_TEST_CASE(evaluation_results_facts_and_metrics) {
  DnsblParams p;
  p.zones = {zone("zen.spamhaus.org"), zone("bl.spamcop.net"), zone("dbl.spamhaus.org")};
  DnsblObservations obs;
  obs.targets = {ip("192.0.2.1"), ip("192.0.2.2"), ip("2001:db8::1"), domain("example.com")};
  obs.zones.resize(3);
  for (auto& z : obs.zones) z.queried = true;
  obs.zones[0].listedProbe = ok({"127.0.0.2"});
  obs.zones[0].cleanProbe = status(DnsStatus::NxDomain);
  obs.zones[1].listedProbe = ok({"127.255.255.254"});  // spamcop behind a refused resolver
  obs.zones[1].cleanProbe = ok({"127.255.255.254"});
  obs.zones[2].listedProbe = ok({"127.0.1.2"});
  obs.zones[2].cleanProbe = status(DnsStatus::NxDomain);
  DnsblLookup listed{0, 0, ok({"127.0.0.4", "127.0.0.2"}), true,
                     std::make_shared<const DnsAnswer>(
                         txt("https://check.spamhaus.org/listed/?searchterm=192.0.2.1"))};
  DnsblLookup clean{1, 0, status(DnsStatus::NxDomain), false, nullptr};
  DnsblLookup timeout{2, 0, status(DnsStatus::Timeout), false, nullptr};
  DnsblLookup dom{3, 2, status(DnsStatus::NxDomain), false, nullptr};
  obs.lookups = {listed, clean, timeout, dom};

  JobOutput out = evaluateDnsbl(p, obs, kNow);

  const CheckResult* zenZone = find(out, "dnsbl_zone", "zen.spamhaus.org");
  BOOST_REQUIRE(zenZone);
  BOOST_TEST(st(zenZone->status) == st(Status::Ok));
  const CheckResult* spamcopZone = find(out, "dnsbl_zone", "bl.spamcop.net");
  BOOST_REQUIRE(spamcopZone);
  BOOST_TEST(st(spamcopZone->status) == st(Status::Warning));
  BOOST_TEST(factString(*spamcopZone, "cause") == "public_resolver");
  BOOST_TEST(spamcopZone->summary.find("public or open resolver") != std::string::npos);

  const CheckResult* l = find(out, "dnsbl", "192.0.2.1 zen.spamhaus.org");
  BOOST_REQUIRE(l);
  BOOST_TEST(st(l->status) == st(Status::Critical));
  BOOST_TEST(l->facts.find("listed")->asBool() != nullptr);
  BOOST_TEST(*l->facts.find("listed")->asBool());
  BOOST_TEST(factString(*l, "ip") == "192.0.2.1");
  BOOST_TEST(factString(*l, "zone") == "zen.spamhaus.org");
  BOOST_TEST(factString(*l, "code") == "127.0.0.2");
  BOOST_TEST(factString(*l, "meaning").find("SBL") != std::string::npos);
  BOOST_TEST(factString(*l, "meaning").find("XBL") != std::string::npos);
  BOOST_TEST(factString(*l, "reason") == "https://check.spamhaus.org/listed/?searchterm=192.0.2.1");
  BOOST_TEST(l->summary.find("192.0.2.1 is listed on zen.spamhaus.org") == 0u);

  const CheckResult* c = find(out, "dnsbl", "192.0.2.2 zen.spamhaus.org");
  BOOST_REQUIRE(c);
  BOOST_TEST(st(c->status) == st(Status::Ok));
  BOOST_TEST(!*c->facts.find("listed")->asBool());

  const CheckResult* u = find(out, "dnsbl", "2001:db8::1 zen.spamhaus.org");
  BOOST_REQUIRE(u);
  BOOST_TEST(st(u->status) == st(Status::Unknown));
  BOOST_TEST(u->facts.find("listed")->isNull());

  // Every result of the unhealthy zone is unknown, saying why.
  for (const char* t : {"192.0.2.1 bl.spamcop.net", "192.0.2.2 bl.spamcop.net"}) {
    const CheckResult* r = find(out, "dnsbl", t);
    BOOST_REQUIRE(r);
    BOOST_TEST(st(r->status) == st(Status::Unknown));
    BOOST_TEST(r->summary.find("failed its test points") != std::string::npos);
  }
  BOOST_TEST(!find(out, "dnsbl", "2001:db8::1 bl.spamcop.net"));  // spamcop: no IPv6
  BOOST_TEST(!find(out, "dnsbl", "example.com zen.spamhaus.org"));
  BOOST_TEST(!find(out, "dnsbl", "192.0.2.1 dbl.spamhaus.org"));
  BOOST_REQUIRE(find(out, "dnsbl", "example.com dbl.spamhaus.org"));
  BOOST_TEST(factString(*find(out, "dnsbl", "example.com dbl.spamhaus.org"), "domain") ==
             "example.com");

  auto value = [&](const std::string& name, const Labels& labels) {
    const Sample* s = sample(out, name, labels);
    return s ? s->value : -1.0;
  };
  BOOST_TEST(
      value("mxpulse_dnsbl_listed", {{"target", "192.0.2.1"}, {"zone", "zen.spamhaus.org"}}) == 1);
  BOOST_TEST(
      value("mxpulse_dnsbl_listed", {{"target", "192.0.2.2"}, {"zone", "zen.spamhaus.org"}}) == 0);
  // Unknowns are their own series, never a zero of the listed series.
  BOOST_TEST(value("mxpulse_dnsbl_listed",
                   {{"target", "2001:db8::1"}, {"zone", "zen.spamhaus.org"}}) == -1);
  BOOST_TEST(value("mxpulse_dnsbl_unknown",
                   {{"target", "2001:db8::1"}, {"zone", "zen.spamhaus.org"}}) == 1);
  BOOST_TEST(
      value("mxpulse_dnsbl_unknown", {{"target", "192.0.2.1"}, {"zone", "bl.spamcop.net"}}) == 1);
  BOOST_TEST(value("mxpulse_dnsbl_zone_healthy", {{"zone", "zen.spamhaus.org"}}) == 1);
  BOOST_TEST(value("mxpulse_dnsbl_zone_healthy", {{"zone", "bl.spamcop.net"}}) == 0);
  BOOST_TEST(value("mxpulse_dnsbl_zone_listed_targets", {{"zone", "zen.spamhaus.org"}}) == 1);
  BOOST_TEST(value("mxpulse_dnsbl_zone_listed_targets", {{"zone", "bl.spamcop.net"}}) == -1);
  BOOST_TEST(value("mxpulse_dnsbl_return_code_info", {{"target", "192.0.2.1"},
                                                      {"zone", "zen.spamhaus.org"},
                                                      {"code", "127.0.0.4"},
                                                      {"category", "xbl"}}) == 1);
}

BOOST_AUTO_TEST_CASE(resolver_error_on_test_points_makes_the_zone_unknown) {
  DnsblParams p;
  p.zones = {zone("zen.spamhaus.org")};
  DnsblObservations obs;
  obs.targets = {ip("192.0.2.1")};
  obs.zones.resize(1);
  obs.zones[0].queried = true;
  obs.zones[0].listedProbe = status(DnsStatus::ServFail);
  obs.zones[0].cleanProbe = status(DnsStatus::ServFail);
  JobOutput out = evaluateDnsbl(p, obs, kNow);
  BOOST_TEST(st(find(out, "dnsbl_zone", "zen.spamhaus.org")->status) == st(Status::Unknown));
  BOOST_TEST(st(find(out, "dnsbl", "192.0.2.1 zen.spamhaus.org")->status) == st(Status::Unknown));
  BOOST_TEST(sample(out, "mxpulse_dnsbl_zone_unknown", {{"zone", "zen.spamhaus.org"}}) != nullptr);
  BOOST_TEST(sample(out, "mxpulse_dnsbl_zone_healthy", {{"zone", "zen.spamhaus.org"}}) == nullptr);
}

BOOST_AUTO_TEST_CASE(params_defaults_and_errors) {
  auto ok1 = parse("ips: [192.0.2.1, '::ffff:192.0.2.2']\ndomains: [Example.COM.]\n");
  BOOST_REQUIRE(ok1->params);
  BOOST_TEST(ok1->params->ips == (std::vector<std::string>{"192.0.2.1", "192.0.2.2"}));
  BOOST_TEST(ok1->params->domains == std::vector<std::string>{"example.com"});
  BOOST_TEST(ok1->params->rateLimit == 50);
  size_t defaults = 0;
  for (const auto& z : knownZones()) defaults += z.shippedDefault;
  BOOST_TEST(ok1->params->zones.size() == defaults);
  BOOST_TEST(ok1->params->resolvers.empty());

  auto full = parse(R"(
ips: [192.0.2.1]
zones:
  - zen.spamhaus.org
  - zone: dbl.spamhaus.org
    severity: warning
  - zone: bl.example.net
    type: ip
    ipv6: false
    rate_limit: 5
    canary_listed: 2.0.0.127
  - zone: rhsbl.example.org
    type: domain
    code_severity: {127.0.0.3: warning}
resolvers: ['127.0.0.1:5353']
rate_limit: 0
attempt_timeout: 500ms
attempts: 2
max_in_flight: 100
fetch_reason: false
)");
  BOOST_REQUIRE(full->params);
  const DnsblParams& p = *full->params;
  BOOST_TEST(p.zones.size() == 4u);
  BOOST_TEST(st(p.zones[1].severity) == st(Status::Warning));
  BOOST_TEST((p.zones[2].profile.type == ZoneType::Ip));
  BOOST_TEST(*p.zones[2].rateLimit == 5);
  BOOST_TEST((p.zones[3].profile.type == ZoneType::Domain));
  BOOST_TEST(st(p.zones[3].codeSeverity.at("127.0.0.3")) == st(Status::Warning));
  BOOST_TEST(p.rateLimit == 0);
  BOOST_TEST(p.attemptTimeout.count() == 500);
  BOOST_TEST(!p.fetchReason);

  BOOST_TEST(!parse("zones: [zen.spamhaus.org]\n")->params);  // nothing to check
  auto bad = parse(R"(
ips: [192.0.2.300]
domains: ["not a domain"]
zones:
  - zone: zen.spamhaus.org
    code_severity: {pbl_isp: warning, nonsense: critical}
  - zen.spamhaus.org
  - zone: x.example
    type: sideways
resolvers: [dns.example.com:53]
inventories: [missing, endpoints]
colour: blue
)",
                   [] {
                     JobBuildEnv env;
                     env.inventories["endpoints"] = InventoryKind::Endpoints;
                     return env;
                   }());
  BOOST_TEST(!bad->params);
  for (const char* e : {"'192.0.2.300' is not an IP", "is not a domain name", "nonsense",
                        "listed twice", "'ip' or 'domain'", "need IP addresses",
                        "'missing' is not declared", "holds endpoints", "colour"})
    BOOST_TEST(anyErrorContains(bad->errors, e), e);

  // Global resolvers by host name cannot serve a DNS job.
  JobBuildEnv env;
  env.resolvers = {"localhost:53"};
  BOOST_TEST(!parse("ips: [192.0.2.1]\n", env)->params);
  env.resolvers = {"127.0.0.1:53", "[::1]:53"};
  auto inherited = parse("ips: [192.0.2.1]\n", env);
  BOOST_REQUIRE(inherited->params);
  BOOST_TEST(inherited->params->resolvers == env.resolvers);
}

BOOST_AUTO_TEST_CASE(targets_from_inventories) {
  DnsblParams p;
  p.ips = {"192.0.2.1"};
  p.domains = {"example.com"};
  InventorySnapshot ips;
  ips.kind = InventoryKind::Ips;
  ips.items.resize(2);
  ips.items[0].fields["ip"] = {"192.0.2.1"};  // duplicate of a literal
  ips.items[1].fields["ip"] = {"2001:DB8::7"};
  InventorySnapshot domains;
  domains.kind = InventoryKind::Domains;
  domains.items.resize(1);
  domains.items[0].fields["domain"] = {"Mail.Example.org"};
  domains.items[0].fields["ips"] = {"203.0.113.7", "::ffff:203.0.113.8"};
  InventorySnapshot servers;
  servers.kind = InventoryKind::DeliveryServers;
  servers.items.resize(2);
  servers.items[0].fields["ip"] = {"198.51.100.1"};
  servers.items[1].fields["ip"] = {"not-an-ip"};
  auto targets = collectDnsblTargets(p, {&ips, &domains, &servers, nullptr});
  std::vector<std::string> values;
  for (const auto& t : targets) values.push_back(t.value);
  BOOST_TEST(values == (std::vector<std::string>{"192.0.2.1", "example.com", "2001:db8::7",
                                                 "mail.example.org", "203.0.113.7", "203.0.113.8",
                                                 "198.51.100.1"}));
  BOOST_TEST(targets[2].v6);
  BOOST_TEST(!targets[5].v6);
  p.checkDomains = false;
  auto onlyIps = collectDnsblTargets(p, {&domains});
  BOOST_TEST(onlyIps.size() == 3u);  // literal IP + two from the domain's ips
}

BOOST_AUTO_TEST_CASE(dqs_key_never_leaves_the_query_names) {
  const std::string key = "abcdefghijklmnopqrstuvwxyz";
  setenv("MXPULSE_TEST_DQS_KEY", key.c_str(), 1);
  auto parsed = parse(R"(
ips: [192.0.2.1, 192.0.2.2]
domains: [example.com]
zones: [zen.spamhaus.org, dbl.spamhaus.org, bl.spamcop.net]
dqs_key: ${MXPULSE_TEST_DQS_KEY}
)");
  BOOST_REQUIRE(parsed->params);
  const DnsblParams& p = *parsed->params;
  BOOST_TEST(p.zones[0].queryZone == key + ".zen.dq.spamhaus.net");
  BOOST_TEST(p.zones[1].queryZone == key + ".dbl.dq.spamhaus.net");
  BOOST_TEST(p.zones[2].queryZone == "bl.spamcop.net");

  MapResolver r;
  std::string zen = key + ".zen.dq.spamhaus.net", dbl = key + ".dbl.dq.spamhaus.net";
  r.a["2.0.0.127." + zen] = ok({"127.0.0.2"});
  r.a["test." + dbl] = ok({"127.0.1.2"});
  r.a["2.0.0.127.bl.spamcop.net"] = ok({"127.0.0.2"});
  r.a["1.2.0.192." + zen] = ok({"127.0.0.3"});
  // A hostile TXT that echoes the query name, key included.
  r.txt["1.2.0.192." + zen] = txt("see https://example/" + std::string("1.2.0.192.") + zen);
  r.a["2.2.0.192." + zen] = ok({"127.255.255.254"});
  auto obs =
      observeDnsbl(p, collectDnsblTargets(p, {}), r, Deadline::in(std::chrono::seconds(5)), {});
  JobOutput out = evaluateDnsbl(p, obs, kNow);
  BOOST_TEST(st(find(out, "dnsbl", "192.0.2.1 zen.spamhaus.org")->status) == st(Status::Critical));
  BOOST_TEST(st(find(out, "dnsbl", "192.0.2.2 zen.spamhaus.org")->status) == st(Status::Unknown));
  std::string everything;
  for (const auto& res : out.results)
    everything += res.check + res.target + res.summary + res.facts.dump();
  for (const auto& s : out.samples)
    for (const auto& [k, v] : s.labels) everything += k + v;
  BOOST_TEST(everything.find(key) == std::string::npos);
  BOOST_TEST(everything.find("zen.spamhaus.org") != std::string::npos);
  bool askedDqs = false;
  for (const auto& name : r.asked) askedDqs = askedDqs || name.find(zen) != std::string::npos;
  BOOST_TEST(askedDqs);

  // A key that is not letters and digits could inject labels: refused.
  setenv("MXPULSE_TEST_DQS_KEY", "evil.example.net.zzzz", 1);
  BOOST_TEST(!parse("ips: [192.0.2.1]\ndqs_key: ${MXPULSE_TEST_DQS_KEY}\n")->params);
  unsetenv("MXPULSE_TEST_DQS_KEY");
}

BOOST_AUTO_TEST_CASE(shell_skips_failing_zones_and_fetches_reasons) {
  auto parsed = parse(R"(
ips: [192.0.2.1]
domains: [example.com]
zones: [zen.spamhaus.org, bl.spamcop.net, dbl.spamhaus.org]
)");
  BOOST_REQUIRE(parsed->params);
  MapResolver r;
  r.a["2.0.0.127.zen.spamhaus.org"] = ok({"127.0.0.2"});
  r.a["1.2.0.192.zen.spamhaus.org"] = ok({"127.0.0.10"});
  r.txt["1.2.0.192.zen.spamhaus.org"] = txt("PBL listed");
  r.a["test.dbl.spamhaus.org"] = ok({"127.0.1.2"});
  // spamcop's test point is missing: a dead list or a hiding resolver.
  auto obs = observeDnsbl(*parsed->params, collectDnsblTargets(*parsed->params, {}), r,
                          Deadline::in(std::chrono::seconds(5)), {});
  for (const auto& name : r.asked)
    BOOST_TEST(name != "1.2.0.192.bl.spamcop.net", "queried a zone that failed its test points");
  JobOutput out = evaluateDnsbl(*parsed->params, obs, kNow);
  const CheckResult* pbl = find(out, "dnsbl", "192.0.2.1 zen.spamhaus.org");
  BOOST_REQUIRE(pbl);
  BOOST_TEST(factString(*pbl, "reason") == "PBL listed");
  BOOST_TEST(factString(*pbl, "category") == "pbl_isp");
  BOOST_TEST(st(find(out, "dnsbl", "192.0.2.1 bl.spamcop.net")->status) == st(Status::Unknown));
  BOOST_TEST(find(out, "dnsbl_zone", "bl.spamcop.net")->summary.find("dead list") !=
             std::string::npos);
  BOOST_TEST(st(find(out, "dnsbl", "example.com dbl.spamhaus.org")->status) == st(Status::Ok));
}

BOOST_AUTO_TEST_CASE(mox_vectors) {
  std::string dir = test::suitesDir();
  test::skipUnless(!dir.empty() && test::fileExists(dir + "/dnsbl/mox_dnsbl_vectors.json"),
                   "the DNSBL vectors (../shared/suites/dnsbl) are absent");
  Poco::JSON::Parser parser;
  auto root = parser.parse(test::readFile(dir + "/dnsbl/mox_dnsbl_vectors.json"))
                  .extract<Poco::JSON::Object::Ptr>();
  auto cases = root->getArray("cases");
  int lookups = 0, health = 0;
  for (size_t i = 0; i < cases->size(); ++i) {
    auto c = cases->getObject(static_cast<unsigned>(i));
    std::string zoneName = c->getValue<std::string>("zone");
    std::string expect = c->getValue<std::string>("expect");
    DnsblZone z = zone(zoneName);
    if (c->has("health")) {
      ++health;
      auto present = c->getObject("A_present");
      DnsblZoneObservation o;
      o.queried = true;
      auto answerFor = [&](const std::string& name) {
        if (!present->has(name)) return status(DnsStatus::NxDomain);
        std::vector<std::string> addrs;
        auto arr = present->getArray(name);
        for (size_t k = 0; k < arr->size(); ++k)
          addrs.push_back(arr->getElement<std::string>(static_cast<unsigned>(k)));
        return ok(addrs);
      };
      o.listedProbe = answerFor(canaryListedName(z.profile) + "." + zoneName + ".");
      o.cleanProbe = answerFor(canaryCleanName(z.profile) + "." + zoneName + ".");
      bool healthy = assessDnsblZone(z, o).state == ZoneHealthState::Healthy;
      BOOST_TEST(healthy == (expect.rfind("healthy", 0) == 0), expect);
      continue;
    }
    ++lookups;
    DnsblTarget t = ip(c->getValue<std::string>("ip"));
    std::string query = c->getValue<std::string>("query");
    BOOST_TEST(dnsblQueryName(t, z) + "." == query);
    // Run the shell and evaluator on a resolver holding the case's records.
    DnsblParams p;
    z.canary = false;  // the vectors hold no test points for lookups
    p.zones = {z};
    p.ips = {t.value};
    MapResolver r;
    std::string name = query.substr(0, query.size() - 1);
    auto a = c->getArray("A");
    std::vector<std::string> addrs;
    for (size_t k = 0; k < a->size(); ++k)
      addrs.push_back(a->getElement<std::string>(static_cast<unsigned>(k)));
    if (!addrs.empty()) r.a[name] = ok(addrs);
    if (c->has("TXT")) r.txt[name] = txt(c->getArray("TXT")->getElement<std::string>(0));
    auto obs =
        observeDnsbl(p, collectDnsblTargets(p, {}), r, Deadline::in(std::chrono::seconds(5)), {});
    JobOutput out = evaluateDnsbl(p, obs, kNow);
    const CheckResult* res = find(out, "dnsbl", t.value + " " + zoneName);
    BOOST_REQUIRE(res);
    if (expect.rfind("listed", 0) == 0) {
      BOOST_TEST(st(res->status) == st(Status::Critical), expect);
      size_t q1 = expect.find('\''), q2 = expect.rfind('\'');
      BOOST_TEST(factString(*res, "reason") == expect.substr(q1 + 1, q2 - q1 - 1));
    } else {
      BOOST_TEST(st(res->status) == st(Status::Ok), expect);
    }
  }
  BOOST_TEST(lookups == 3);
  BOOST_TEST(health == 3);
}

BOOST_AUTO_TEST_SUITE_END()
