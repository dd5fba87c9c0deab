// SPDX-License-Identifier: Apache-2.0
// tls_expiry against real servers on loopback: `openssl s_server` for
// implicit TLS (IPv4 and IPv6), aiosmtpd for SMTP STARTTLS (with a delayed
// multi-line greeting, and without STARTTLS), small IMAP/POP3 servers, a
// server that accepts and never speaks, and the `mxpulse check tls` CLI.
// Certificates are generated at start relative to the real clock; the
// margins (3 days against thresholds of 7/21) keep the outcome stable.
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <ctime>
#include <map>
#include <memory>

#include "agent/config_errors.hpp"
#include "agent/yaml_reader.hpp"
#include "jobs/tls_expiry.hpp"
#include "tests/support/test_support.hpp"
#include "tests/support/tls_certs.hpp"

using namespace mxpulse;
using namespace std::chrono_literals;

namespace mxpulse {
std::ostream& operator<<(std::ostream& os, Status s) {
  return os << statusName(s);
}
}  // namespace mxpulse

namespace {

const char* kPython = "/usr/bin/python3";  // Debian's, where python3-aiosmtpd lives

class TestContext : public JobContext {
 public:
  TestContext(std::chrono::milliseconds timeout) : deadline_(Deadline::in(timeout)) {}
  std::chrono::system_clock::time_point now() const override { return now_; }
  Deadline deadline() const override { return deadline_; }
  bool stopRequested() const override { return false; }
  const InventorySnapshot* inventory(const std::string& name) const override {
    auto it = inventories.find(name);
    return it == inventories.end() ? nullptr : &it->second;
  }
  std::map<std::string, InventorySnapshot> inventories;

 private:
  std::chrono::system_clock::time_point now_ = std::chrono::system_clock::now();
  Deadline deadline_;
};

bool canConnect(const std::string& ip, int port) {
  bool v6 = ip.find(':') != std::string::npos;
  int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
  sockaddr_storage ss{};
  socklen_t len;
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET6, ip.c_str(), &a->sin6_addr);
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, ip.c_str(), &a->sin_addr);
    len = sizeof *a;
  }
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0;
  close(fd);
  return ok;
}

bool ipv6Loopback() {
  int fd = socket(AF_INET6, SOCK_STREAM, 0);
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  bool ok = fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  if (fd >= 0) close(fd);
  return ok;
}

/// Every server and certificate the suite uses, started once.
struct World {
  test::TempDir dir;
  test::TestPki pki{static_cast<std::int64_t>(std::time(nullptr))};
  std::vector<std::unique_ptr<test::Child>> children;
  std::map<std::string, int> ports;  // server name -> port
  int hangFd = -1;
  bool haveV6 = ipv6Loopback();
  bool haveAiosmtpd = false;

  World() {
    auto valid = pki.leaf("localhost", {"DNS:localhost", "IP:127.0.0.1", "IP:::1"}, -1, 90);
    writeCert("valid", valid, {pki.intermediate});
    writeCert("expiring", pki.leaf("localhost", {"DNS:localhost", "IP:127.0.0.1"}, -80, 3),
              {pki.intermediate});
    writeCert("expired", pki.leaf("localhost", {"DNS:localhost", "IP:127.0.0.1"}, -90, -2),
              {pki.intermediate});
    writeCert("wrongname", pki.leaf("other.test", {"DNS:other.test"}, -1, 90), {pki.intermediate});
    writeCert("selfsigned", pki.selfSigned("localhost", {"DNS:localhost", "IP:127.0.0.1"}, 90), {});
    writeCert("crosssign", valid, {pki.intermediate, pki.expiredCrossSign});
    test::writeFile(dir.file("root.pem"), test::certPem(pki.root));
    // A combined key + chain file, as PowerMTA or a web server keeps it.
    test::writeFile(dir.file("combined.pem"),
                    test::keyPem(valid) + test::certPem(valid) + test::certPem(pki.intermediate));

    for (const char* name :
         {"valid", "expiring", "expired", "wrongname", "selfsigned", "crosssign"})
      startSServer(name, "127.0.0.1");
    if (haveV6) startSServer("valid", "::1", "valid6");

    haveAiosmtpd = test::runProcess({kPython, "-c", "import aiosmtpd"}).exitCode == 0;
    if (haveAiosmtpd) {
      startPython("smtp_delayed", {"--mode", "smtp", "--delay", "3"});
      startPython("smtp_notls", {"--mode", "smtp-notls"});
    }
    startPython("imap", {"--mode", "imap"});
    startPython("pop3", {"--mode", "pop3"});
    startHang();
    for (const auto& [name, port] : ports) {
      if (name == "hang") continue;
      std::string ip = name == "valid6" ? "::1" : "127.0.0.1";
      BOOST_TEST_REQUIRE(test::eventually([&, p = port] { return canConnect(ip, p); }, 20s),
                         "server " << name << " did not start; see " << dir.path());
    }
  }
  ~World() {
    if (hangFd >= 0) close(hangFd);
  }

  void writeCert(const std::string& name, const test::TestCert& leaf,
                 const std::vector<test::TestCert>& chain) {
    test::writeFile(dir.file(name + ".crt"), test::certPem(leaf));
    test::writeFile(dir.file(name + ".key"), test::keyPem(leaf));
    std::string c;
    for (const auto& x : chain) c += test::certPem(x);
    test::writeFile(dir.file(name + ".chain"), c);
    test::writeFile(dir.file(name + ".full"), test::certPem(leaf) + c);
  }

  void startSServer(const std::string& cert, const std::string& ip, std::string name = "") {
    if (name.empty()) name = cert;
    int port = test::freePort();
    std::string accept = ip.find(':') != std::string::npos ? "[" + ip + "]:" + std::to_string(port)
                                                           : ip + ":" + std::to_string(port);
    std::vector<std::string> argv = {"openssl",
                                     "s_server",
                                     "-quiet",
                                     "-accept",
                                     accept,
                                     "-cert",
                                     dir.file(cert + ".crt"),
                                     "-key",
                                     dir.file(cert + ".key")};
    if (ip.find(':') != std::string::npos) argv.push_back("-6");
    if (!test::readFile(dir.file(cert + ".chain")).empty()) {
      argv.push_back("-cert_chain");
      argv.push_back(dir.file(cert + ".chain"));
    }
    children.push_back(std::make_unique<test::Child>(argv, dir.file(name + ".log")));
    ports[name] = port;
  }

  void startPython(const std::string& name, std::vector<std::string> args) {
    int port = test::freePort();
    std::vector<std::string> argv = {
        kPython,  test::sourceDir() + "/tests/integration/starttls_server.py",
        "--port", std::to_string(port),
        "--cert", dir.file("valid.full"),
        "--key",  dir.file("valid.key")};
    argv.insert(argv.end(), args.begin(), args.end());
    children.push_back(std::make_unique<test::Child>(argv, dir.file(name + ".log")));
    ports[name] = port;
  }

  /// Listens and never accepts: the kernel completes the TCP handshake,
  /// then nothing is ever said (a stuck postscreen, a tarpit).
  void startHang() {
    hangFd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(hangFd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    listen(hangFd, 16);
    socklen_t len = sizeof a;
    getsockname(hangFd, reinterpret_cast<sockaddr*>(&a), &len);
    ports["hang"] = ntohs(a.sin_port);
  }

  std::string ep(const std::string& name) const {
    return (name == "valid6" ? "[::1]:" : "127.0.0.1:") + std::to_string(ports.at(name));
  }
};

World& world() {
  static World w;
  return w;
}

JobOutput runJob(const std::string& paramsYaml, std::chrono::milliseconds timeout = 30s,
                 TestContext* ctx = nullptr) {
  ConfigErrors errors;
  YAML::Node node = YAML::Load(paramsYaml);
  MapReader r(node, "params", errors);
  JobBuildEnv env;
  env.inventories["eps"] = InventoryKind::Endpoints;
  auto job = jobs::tlsExpiryKind().create(r, env);
  r.finish();
  std::string all;
  for (const auto& e : errors.errors()) all += e + "\n";
  BOOST_TEST_REQUIRE((job != nullptr && errors.empty()), all);
  TestContext own(timeout);
  return job->run(ctx ? *ctx : own);
}

const CheckResult& find(const JobOutput& out, const std::string& target) {
  for (const auto& r : out.results)
    if (r.target == target) return r;
  BOOST_FAIL("no result for " + target);
  throw std::logic_error("unreachable");
}

std::string fact(const CheckResult& r, const std::string& key) {
  const Json* j = r.facts.find(key);
  if (!j) return "";
  if (auto s = j->asString()) return *s;
  if (auto b = j->asBool()) return *b ? "true" : "false";
  return j->dump();
}

bool hasSample(const JobOutput& out, const std::string& name, const std::string& endpoint) {
  for (const auto& s : out.samples)
    if (s.name == name && !s.labels.empty() && s.labels[0].second == endpoint) return true;
  return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tls_expiry)

BOOST_AUTO_TEST_CASE(implicit_tls_cases_in_one_concurrent_run) {
  World& w = world();
  std::string yaml = "ca_file: " + w.dir.file("root.pem") + "\nconcurrency: 4\nendpoints:\n";
  for (const char* n : {"valid", "expiring", "expired", "wrongname", "selfsigned", "crosssign"})
    yaml += "  - " + w.ep(n) + "\n";
  auto out = runJob(yaml);
  BOOST_TEST_REQUIRE(out.results.size() == 6u);

  const auto& valid = find(out, w.ep("valid"));
  BOOST_TEST(valid.status == Status::Ok, valid.summary);
  BOOST_TEST(fact(valid, "name_matches") == "true");
  BOOST_TEST(fact(valid, "verified") == "true");
  BOOST_TEST(
      hasSample(out, "mxpulse_tls_verified_chain_not_after_timestamp_seconds", w.ep("valid")));

  const auto& expiring = find(out, w.ep("expiring"));
  BOOST_TEST(expiring.status == Status::Critical, expiring.summary);
  // Generated to expire about 3 days from now; whole days round down, so
  // the summary says 2 or 3 depending on the second the run happens in.
  BOOST_TEST((expiring.summary.find("certificate expires in 2 days") == 0 ||
              expiring.summary.find("certificate expires in 3 days") == 0),
             expiring.summary);

  const auto& expired = find(out, w.ep("expired"));
  BOOST_TEST(expired.status == Status::Critical);
  BOOST_TEST((expired.summary.find("certificate expired 2 days ago") == 0 ||
              expired.summary.find("certificate expired 3 days ago") == 0),
             expired.summary);
  BOOST_TEST(fact(expired, "verified") == "true");  // the chain is fine, the date is not
  BOOST_TEST(hasSample(out, "mxpulse_tls_not_after_timestamp_seconds", w.ep("expired")));

  const auto& wrong = find(out, w.ep("wrongname"));
  BOOST_TEST(wrong.status == Status::Critical);
  BOOST_TEST(
      wrong.summary.find("certificate is not valid for 127.0.0.1 (it names other.test)") == 0,
      wrong.summary);

  const auto& self = find(out, w.ep("selfsigned"));
  BOOST_TEST(self.status == Status::Critical);
  BOOST_TEST(fact(self, "verify_error") == "self-signed certificate");
  BOOST_TEST(hasSample(out, "mxpulse_tls_not_after_timestamp_seconds", w.ep("selfsigned")));
  BOOST_TEST(!hasSample(out, "mxpulse_tls_verified_chain_not_after_timestamp_seconds",
                        w.ep("selfsigned")));

  const auto& cross = find(out, w.ep("crosssign"));
  BOOST_TEST(cross.status == Status::Ok, cross.summary);
  // blackbox's earliest-in-served-chain would be the expired cross-sign.
  BOOST_TEST(fact(cross, "served_chain_earliest_not_after") <
             fact(cross, "verified_chain_not_after"));
}

BOOST_AUTO_TEST_CASE(sni_name_and_ipv6) {
  World& w = world();
  int port = w.ports.at("valid");
  std::string yaml = "ca_file: " + w.dir.file("root.pem") + "\nendpoints:\n" +
                     "  - endpoint: localhost:" + std::to_string(port) + "\n" +
                     "  - endpoint: 127.0.0.1:" + std::to_string(port) + "\n    sni: other.test\n";
  if (w.haveV6) yaml += "  - \"" + w.ep("valid6") + "\"\n";  // [ starts a YAML list
  auto out = runJob(yaml);
  const auto& byName = find(out, "localhost:" + std::to_string(port));
  BOOST_TEST(byName.status == Status::Ok, byName.summary);
  BOOST_TEST(fact(byName, "name_checked") == "localhost");
  const auto& sni = find(out, "127.0.0.1:" + std::to_string(port) + " (sni other.test)");
  BOOST_TEST(sni.status == Status::Critical);
  BOOST_TEST(fact(sni, "name_checked") == "other.test");
  if (w.haveV6) {
    const auto& v6 = find(out, w.ep("valid6"));
    BOOST_TEST(v6.status == Status::Ok, v6.summary);
    BOOST_TEST(fact(v6, "address") == "::1");
  } else {
    BOOST_TEST_MESSAGE("no IPv6 loopback: [::1] case not run");
  }
}

BOOST_AUTO_TEST_CASE(smtp_starttls_waits_for_a_delayed_multiline_greeting) {
  World& w = world();
  test::skipUnless(w.haveAiosmtpd, "python3-aiosmtpd is not installed");
  auto out = runJob("ca_file: " + w.dir.file("root.pem") + "\nendpoints:\n  - endpoint: " +
                    w.ep("smtp_delayed") + "\n    starttls: smtp\n    sni: localhost\n");
  const auto& r = out.results.at(0);
  BOOST_TEST(r.status == Status::Ok, r.summary);
  BOOST_TEST(fact(r, "starttls") == "smtp");
  BOOST_TEST(std::stoll(fact(r, "elapsed_ms")) >= 2900);  // it did wait out the 3 s greeting delay
}

BOOST_AUTO_TEST_CASE(smtp_without_starttls_is_critical) {
  World& w = world();
  test::skipUnless(w.haveAiosmtpd, "python3-aiosmtpd is not installed");
  auto out = runJob("endpoints:\n  - endpoint: " + w.ep("smtp_notls") + "\n    starttls: smtp\n");
  const auto& r = out.results.at(0);
  BOOST_TEST(r.status == Status::Critical);
  BOOST_TEST(fact(r, "error") == "starttls_not_offered");
  BOOST_TEST(fact(r, "greeting").rfind("220-", 0) == 0, fact(r, "greeting"));
  BOOST_TEST(hasSample(out, "mxpulse_tls_probe_error", r.target));
}

BOOST_AUTO_TEST_CASE(imap_and_pop3_starttls) {
  World& w = world();
  auto out =
      runJob("ca_file: " + w.dir.file("root.pem") + "\nendpoints:\n  - endpoint: " + w.ep("imap") +
             "\n    starttls: imap\n  - endpoint: " + w.ep("pop3") + "\n    starttls: pop3\n");
  for (const auto& r : out.results) {
    BOOST_TEST(r.status == Status::Ok, r.target << ": " << r.summary);
    BOOST_TEST(fact(r, "tls_version").rfind("TLSv1.", 0) == 0);
  }
  BOOST_TEST(out.results.size() == 2u);
}

BOOST_AUTO_TEST_CASE(server_that_never_speaks_ends_as_unknown_timeout) {
  World& w = world();
  auto out = runJob("endpoint_timeout: 2s\nendpoints:\n  - endpoint: " + w.ep("hang") +
                    "\n    starttls: smtp\n  - endpoint: " + w.ep("hang") + "\n    sni: x.test\n");
  BOOST_TEST_REQUIRE(out.results.size() == 2u);
  for (const auto& r : out.results) {
    BOOST_TEST(r.status == Status::Unknown, r.summary);
    BOOST_TEST(fact(r, "error") == "timeout", r.summary);
  }
  BOOST_TEST(fact(out.results[0], "stage") == "greeting");
  BOOST_TEST(fact(out.results[1], "stage") == "handshake");
}

BOOST_AUTO_TEST_CASE(run_deadline_bounds_every_endpoint) {
  // One worker, three silent endpoints, a 3 s run: the first probe ends at
  // the run's deadline, the others are reported as not run.
  World& w = world();
  std::string yaml = "concurrency: 1\nendpoint_timeout: 60s\nendpoints:\n";
  for (const char* sni : {"a.test", "b.test", "c.test"})
    yaml += "  - endpoint: " + w.ep("hang") + "\n    sni: " + std::string(sni) + "\n";
  auto out = runJob(yaml, 3s);
  BOOST_TEST_REQUIRE(out.results.size() == 3u);
  BOOST_TEST(fact(out.results[0], "error") == "timeout");
  // The worker may pick up the next endpoint in the last milliseconds before
  // the run's deadline (a loaded machine): that one then ends as a timeout.
  // Either way nothing runs past the deadline and nothing is called ok.
  for (size_t i = 1; i < 3; ++i) {
    const std::string e = fact(out.results[i], "error");
    BOOST_TEST((e == "not_run" || e == "timeout"), "endpoint " << i << ": " << e);
    BOOST_TEST(out.results[i].status == Status::Unknown);
  }
  BOOST_TEST(fact(out.results[2], "error") == "not_run");
}

BOOST_AUTO_TEST_CASE(inventory_endpoints_and_files) {
  World& w = world();
  TestContext ctx(30s);
  InventorySnapshot snap;
  snap.name = "eps";
  snap.kind = InventoryKind::Endpoints;
  InventoryItem good, bad, dup;
  good.fields["endpoint"] = {w.ep("valid")};
  good.fields["starttls"] = {"none"};
  bad.fields["endpoint"] = {w.ep("imap")};
  bad.fields["starttls"] = {"ftp"};
  dup.fields["endpoint"] = {w.ep("valid")};
  snap.items = {good, bad, dup};
  ctx.inventories["eps"] = snap;
  auto out = runJob("ca_file: " + w.dir.file("root.pem") + "\ninventory: eps\nendpoints: [" +
                        w.ep("valid") + "]\nfiles: [" + w.dir.file("combined.pem") + ", " +
                        w.dir.file("absent.pem") + "]\n",
                    30s, &ctx);
  BOOST_TEST_REQUIRE(out.results.size() == 4u);  // the duplicate is checked once
  BOOST_TEST(find(out, w.ep("valid")).status == Status::Ok);
  BOOST_TEST(find(out, w.ep("imap")).status == Status::Unknown);
  const auto& file = find(out, w.dir.file("combined.pem"));
  BOOST_TEST(file.check == "tls_file");
  BOOST_TEST(file.status == Status::Ok, file.summary);
  BOOST_TEST(fact(file, "verified") == "true");
  const auto& absent = find(out, w.dir.file("absent.pem"));
  BOOST_TEST(absent.status == Status::Unknown);
  BOOST_TEST(fact(absent, "error") == "missing");
}

BOOST_AUTO_TEST_CASE(cli_check_tls) {
  World& w = world();
  auto ok = test::runProcess({MXPULSE_BINARY, "check", "tls", w.ep("valid"), "--cafile",
                              w.dir.file("root.pem"), "--json"});
  BOOST_TEST(ok.exitCode == 0, ok.out << ok.err);
  BOOST_TEST(ok.out.find("\"status\":\"ok\"") != std::string::npos, ok.out);
  BOOST_TEST(ok.out.find("\"check\":\"tls_endpoint\"") != std::string::npos);

  auto expired = test::runProcess(
      {MXPULSE_BINARY, "check", "tls", w.ep("expired"), "--cafile", w.dir.file("root.pem")});
  BOOST_TEST(expired.exitCode == 2, expired.out << expired.err);
  BOOST_TEST(expired.out.find("CRITICAL") == 0, expired.out);

  auto starttls =
      test::runProcess({MXPULSE_BINARY, "check", "tls", w.ep("pop3"), "--starttls", "pop3", "--sni",
                        "localhost", "--cafile", w.dir.file("root.pem")});
  BOOST_TEST(starttls.exitCode == 0, starttls.out << starttls.err);

  auto usage = test::runProcess({MXPULSE_BINARY, "check", "tls", w.ep("valid"), "--bogus", "1"});
  BOOST_TEST(usage.exitCode != 0);
  BOOST_TEST(usage.err.find("unknown option --bogus") != std::string::npos, usage.err);
}

BOOST_AUTO_TEST_SUITE_END()
