// SPDX-License-Identifier: Apache-2.0
// dns_auth end to end: NSD serves generated zones on loopback (a healthy
// domain, a broken one, one whose MTA-STS certificate does not match, and
// reverse zones for IPv4 and IPv6), `openssl s_server -WWW` serves the
// MTA-STS policy over HTTPS with a certificate from a CA generated here,
// and the job runs through its JobKind exactly as the scheduler runs it;
// then the same through `mxpulse check ...` (the CLI).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <boost/test/unit_test.hpp>
#include <ctime>
#include <map>

#include "agent/config_errors.hpp"
#include "agent/yaml_reader.hpp"
#include "jobs/dns_auth.hpp"
#include "tests/support/dkim_test_keys.hpp"
#include "tests/support/nsd_server.hpp"
#include "tests/support/test_support.hpp"
#include "tests/support/tls_certs.hpp"

using namespace mxpulse;
using namespace std::chrono_literals;

namespace {

/// A zone-file TXT value: long strings split into 255-byte character-strings.
std::string txt(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); i += 200)
    out += (out.empty() ? "\"" : " \"") + s.substr(i, 200) + "\"";
  return "TXT " + out + "\n";
}

test::NsdServer::Zones zones() {
  std::string example =
      "@ " + txt("v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/64 include:_spf.shared.example.net -all") +
      "s1._domainkey " + txt(std::string(test::kDkimRsa2048)) +
      "esp._domainkey CNAME s1.dkim.example.net.\n"
      "_dmarc " +
      txt("v=DMARC1; p=reject; rua=mailto:dmarc@example.com,mailto:agg@reports.example.net") +
      "@ MX 10 mx1\n"
      "mx1 A 192.0.2.25\n"
      "mta1 A 192.0.2.10\n"
      "mta1 AAAA 2001:db8::10\n"
      "_mta-sts " +
      txt("v=STSv1; id=20240601") +
      "mta-sts A 127.0.0.1\n"
      "_smtp._tls " +
      txt("v=TLSRPTv1; rua=mailto:tls@example.com") + "news " +
      txt("v=spf1 include:example.com -all");  // no _dmarc: inherits sp
  std::string net = "_spf.shared " + txt("v=spf1 ip4:198.51.100.0/24 -all") + "s1.dkim " +
                    txt(std::string(test::kDkimRsa2048)) + "example.com._report._dmarc.reports " +
                    txt("v=DMARC1");
  std::string costly = "v=spf1";
  for (int i = 1; i <= 6; ++i) costly += " include:inc" + std::to_string(i) + ".example.net";
  for (int i = 1; i <= 6; ++i)
    net += "inc" + std::to_string(i) + " " +
           txt("v=spf1 a:host" + std::to_string(i) + ".example.net -all");
  for (int i = 1; i <= 6; ++i)
    net += "host" + std::to_string(i) + " A 198.51.100." + std::to_string(i) + "\n";
  std::string broken = "@ " + txt(costly + " ip4:192.0.2.11 -all") + "s1._domainkey " +
                       txt(std::string(test::kDkimRsa512)) + "_dmarc " +
                       txt("v=DMARC1; p=none; pct=50") +
                       "@ MX 10 mx\n"  // mx.broken.example has no address
                       "_mta-sts " +
                       txt("v=STSv1; id=1") + "mta-sts A 127.0.0.1\n";
  std::string wrong = "@ " + txt("v=spf1 -all") + "_mta-sts " + txt("v=STSv1; id=1") +
                      "mta-sts A 127.0.0.1\n@ MX 10 mx1.example.com.\n";
  std::string rev4 = "10 PTR mta1.example.com.\n11 PTR nowhere.example.com.\n";
  // 2001:db8::10 under 0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa (a /64)
  std::string rev6 = "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0 PTR mta1.example.com.\n";
  return {{"example.com", example},       {"example.net", net},
          {"broken.example", broken},     {"wrongcert.example", wrong},
          {"2.0.192.in-addr.arpa", rev4}, {"0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", rev6}};
}

bool canConnect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

/// HTTPS on 127.0.0.1 serving ./.well-known/mta-sts.txt (openssl s_server -WWW)
/// with a leaf for mta-sts.example.com and mta-sts.broken.example.
struct PolicyServer {
  test::TempDir dir;
  std::unique_ptr<test::Child> child;
  int port = 0;

  PolicyServer() {
    std::time_t now = std::time(nullptr);
    test::TestCert ca =
        test::issue({"mxpulse test CA", {}, now - 3600, now + 86400 * 30, true, nullptr}, nullptr);
    test::TestCert leaf = test::issue({"mta-sts.example.com",
                                       {"DNS:mta-sts.example.com", "DNS:mta-sts.broken.example"},
                                       now - 3600,
                                       now + 86400 * 30,
                                       false,
                                       nullptr},
                                      &ca);
    test::writeFile(dir.file("ca.pem"), test::certPem(ca));
    test::writeFile(dir.file("leaf.crt"), test::certPem(leaf));
    test::writeFile(dir.file("leaf.key"), test::keyPem(leaf));
    std::string www = dir.file("www");
    test::runProcess({"mkdir", "-p", www + "/.well-known"});
    // CRLF line endings (RFC 8461 allows LF or CRLF).
    test::writeFile(
        www + "/.well-known/mta-sts.txt",
        "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.com\r\nmax_age: 604800\r\n");
    port = test::freePort();
    child = std::make_unique<test::Child>(
        std::vector<std::string>{
            "sh", "-c",
            "cd '" + www +
                "' && exec openssl s_server -quiet -WWW -accept 127.0.0.1:" + std::to_string(port) +
                " -cert '" + dir.file("leaf.crt") + "' -key '" + dir.file("leaf.key") + "'"},
        dir.file("s_server.log"));
    bool up = test::eventually([&] { return !child->running() ? false : canConnect(port); }, 10s);
    if (!up)
      throw std::runtime_error("s_server did not start: " +
                               test::readFile(dir.file("s_server.log")));
  }
  std::string caFile() const { return dir.file("ca.pem"); }
};

struct Ctx : JobContext {
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::now();
  }
  Deadline deadline() const override { return deadline_; }
  bool stopRequested() const override { return false; }
  const InventorySnapshot* inventory(const std::string&) const override { return nullptr; }
  Deadline deadline_ = Deadline::in(60s);
};

JobOutput runJob(const std::string& yaml) {
  ConfigErrors errors;
  YAML::Node n = YAML::Load(yaml);
  MapReader r(n, "params", errors);
  JobBuildEnv env;
  auto job = jobs::dnsAuthKind().create(r, env);
  r.finish();
  BOOST_REQUIRE_MESSAGE(job && errors.empty(), (errors.empty() ? "" : errors.errors().front()));
  Ctx ctx;
  return job->run(ctx);
}

const CheckResult& find(const JobOutput& out, const std::string& check, const std::string& target) {
  for (const auto& r : out.results)
    if (r.check == check && r.target == target) return r;
  BOOST_FAIL("no result " << check << " " << target);
  static CheckResult none;
  return none;
}

void expect(const JobOutput& out, const std::string& check, const std::string& target, Status want,
            const std::string& fragment) {
  const CheckResult& r = find(out, check, target);
  BOOST_CHECK_MESSAGE(r.status == want && r.summary.find(fragment) != std::string::npos,
                      check << " " << target << ": " << statusName(r.status) << " (want "
                            << statusName(want) << ") " << r.summary);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dns_auth)

BOOST_AUTO_TEST_CASE(job_against_nsd_and_https) {
  test::skipUnless(test::NsdServer::available(), "nsd is not installed");
  test::skipUnless(test::runProcess({"openssl", "version"}).exitCode == 0,
                   "openssl is not installed");
  test::NsdServer nsd(zones());
  PolicyServer https;
  std::string params = "resolvers: [\"" + nsd.address() + "\"]\n" +
                       "mta_sts_port: " + std::to_string(https.port) + "\n" +
                       "mta_sts_ca_file: " + https.caFile() + "\n" +
                       "dns_timeout: 1s\n"
                       "domains:\n"
                       "  - domain: example.com\n"
                       "    dkim_selectors: [s1, esp, missing]\n"
                       "    ips: [192.0.2.10, \"2001:db8::10\"]\n"
                       "    helo: mta1.example.com\n"
                       "  - domain: broken.example\n"
                       "    dkim_selectors: [s1]\n"
                       "    ips: [192.0.2.11]\n"
                       "  - domain: wrongcert.example\n"
                       "  - domain: news.example.com\n";
  JobOutput out = runJob(params);

  expect(out, "spf", "example.com", Status::Ok,
         "is valid: 1 of 10 DNS lookups, 0 void, ends in -all");
  expect(out, "spf", "example.com 192.0.2.10", Status::Ok, "passes SPF");
  expect(out, "spf", "example.com 2001:db8::10", Status::Ok, "passes SPF");
  expect(out, "dkim", "s1._domainkey.example.com", Status::Ok,
         "RSA 2048-bit");  // split TXT strings
  expect(out, "dkim", "esp._domainkey.example.com", Status::Ok, "via CNAME");
  expect(out, "dkim", "missing._domainkey.example.com", Status::Critical, "no DKIM key");
  expect(out, "dmarc", "example.com", Status::Ok, "p=reject");
  expect(out, "dmarc_report_auth", "example.com reports.example.net", Status::Ok,
         "accepts DMARC reports");
  expect(out, "dmarc", "news.example.com", Status::Ok,
         "the record of example.com applies (sp=reject)");
  expect(out, "mx", "example.com", Status::Ok, "1 MX host, all resolvable");
  expect(out, "ptr", "192.0.2.10", Status::Ok, "forward-confirmed, matches HELO");
  expect(out, "ptr", "2001:db8::10", Status::Ok, "forward-confirmed");
  expect(out, "ptr", "192.0.2.11", Status::Critical, "nowhere.example.com does not resolve back");
  expect(out, "mta_sts", "example.com", Status::Ok, "mode enforce, covers every MX");
  expect(out, "tls_rpt", "example.com", Status::Ok, "reports to mailto:tls@example.com");

  expect(out, "spf", "broken.example", Status::Critical,
         "uses 12 DNS lookups (limit 10): include:inc1.example.net costs 2, "
         "include:inc2.example.net costs 2");
  expect(out, "spf", "broken.example 192.0.2.11", Status::Critical, "permerror");
  expect(out, "dkim", "s1._domainkey.broken.example", Status::Critical, "RSA 512-bit");
  expect(out, "dmarc", "broken.example", Status::Warning, "p=none");
  expect(out, "mx", "broken.example", Status::Critical, "mx.broken.example has no A or AAAA");
  expect(out, "mta_sts", "broken.example", Status::Critical, "MX mx.broken.example not covered");
  expect(out, "tls_rpt", "broken.example", Status::Warning, "publishes MTA-STS but no TLS-RPT");
  expect(out, "mta_sts", "wrongcert.example", Status::Critical,
         "certificate for mta-sts.wrongcert.example not valid");

  bool sawLookups = false;
  for (const auto& s : out.samples)
    if (s.name == "mxpulse_spf_lookups" && s.labels.at(0).second == "broken.example")
      sawLookups = s.value == 12;
  BOOST_CHECK(sawLookups);
}

BOOST_AUTO_TEST_CASE(unreachable_or_refused_dns_is_unknown) {
  test::skipUnless(test::NsdServer::available(), "nsd is not installed");
  test::NsdServer nsd(zones());
  // NSD is authoritative only: it refuses names outside its zones.
  JobOutput out = runJob("resolvers: [\"" + nsd.address() +
                         "\"]\ndns_timeout: 500ms\ndomains:\n  - domain: elsewhere.test\n"
                         "    dkim_selectors: [s1]\n    ips: [198.51.100.77]\n");
  BOOST_REQUIRE(!out.results.empty());
  for (const auto& r : out.results)
    BOOST_CHECK_MESSAGE(r.status == Status::Unknown, r.check << " " << r.target << ": "
                                                             << statusName(r.status) << " "
                                                             << r.summary);
  // A resolver that does not answer at all: unknown too, by the deadline.
  int silent = test::freePort();
  out = runJob(
      "resolvers: [\"127.0.0.1:" + std::to_string(silent) +
      "\"]\ndns_timeout: 200ms\ndns_attempts: 1\nchecks: [spf, dmarc]\ndomains: [example.com]\n");
  for (const auto& r : out.results) BOOST_CHECK_EQUAL(statusName(r.status), "unknown");
}

BOOST_AUTO_TEST_CASE(cli_ad_hoc_checks) {
  test::skipUnless(test::NsdServer::available(), "nsd is not installed");
  test::NsdServer nsd(zones());
  std::string bin = MXPULSE_BINARY;
  auto run = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {bin, "check"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--resolver");
    argv.push_back(nsd.address());
    return test::runProcess(argv, {}, 30s);
  };
  test::ProcessResult r = run({"spf", "example.com", "--ip", "192.0.2.10", "--json"});
  BOOST_CHECK_EQUAL(r.exitCode, 0);
  BOOST_CHECK_MESSAGE(
      r.out.find("\"check\":\"spf\",\"target\":\"example.com 192.0.2.10\",\"status\":\"ok\"") !=
          std::string::npos,
      r.out << r.err);
  r = run({"spf", "broken.example", "--ip", "192.0.2.11"});
  BOOST_CHECK_EQUAL(r.exitCode, 2);
  BOOST_CHECK_MESSAGE(r.out.find("uses 12 DNS lookups (limit 10)") != std::string::npos, r.out);
  r = run({"dkim", "broken.example", "--selector", "s1"});
  BOOST_CHECK_EQUAL(r.exitCode, 2);
  r = run({"dmarc", "broken.example"});
  BOOST_CHECK_EQUAL(r.exitCode, 1);
  r = run({"mx", "example.com"});
  BOOST_CHECK_EQUAL(r.exitCode, 0);
  r = run({"ptr", "192.0.2.10", "--helo", "other.example.com"});
  BOOST_CHECK_EQUAL(r.exitCode, 1);
  BOOST_CHECK_MESSAGE(
      r.out.find("differs from the HELO name other.example.com") != std::string::npos, r.out);
  r = run({"mta-sts", "example.com", "--port", "1"});  // nothing listens on port 1
  BOOST_CHECK_EQUAL(r.exitCode, 2);
  r = run({"spf", "example.com", "--bogus", "x"});
  BOOST_CHECK_NE(r.exitCode, 0);
  BOOST_CHECK(r.err.find("unknown option --bogus") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
