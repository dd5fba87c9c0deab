// SPDX-License-Identifier: Apache-2.0
// The dnsbl job end to end: the real binary against a real NSD serving
// DNSBL zones that list, refuse (127.255.255.254 for everything), wildcard
// everything, answer outside 127/8, have no test point, or are not served
// (REFUSED); a silent responder for timeouts; the state DB history over
// two runs; the textfile through promtool.
#include <Poco/JSON/Parser.h>

#include <boost/test/unit_test.hpp>
#include <sstream>

#include "agent/store/sqlite_db.hpp"
#include "probes/dns.hpp"
#include "tests/support/fake_dns.hpp"
#include "tests/support/nsd_server.hpp"

using namespace mxpulse;
using namespace mxpulse::test;

namespace {

const std::string kV6 = "2001:db8::1";

std::string v6Owner() {
  return probes::reverseName(kV6, "");
}

/// good.bl.test lists 192.0.2.1 (SBL-like) and the IPv6 target; 192.0.2.3
/// gets the "public resolver" error code on an otherwise healthy zone.
std::string goodZone(bool listFirst) {
  std::string z =
      "2.0.0.127 A 127.0.0.2\n"
      "2.0.0.127 TXT \"test point\"\n"
      "3.2.0.192 A 127.255.255.254\n" +
      v6Owner() + " A 127.0.0.3\n" + v6Owner() + " TXT \"v6 listed\"\n" + "4.2.0.192 A 127.0.0.2\n";
  if (listFirst)
    z += "1.2.0.192 A 127.0.0.2\n1.2.0.192 TXT \"spam source, see https://bl.test/192.0.2.1\"\n";
  return z;
}

NsdServer::Zones zones(bool listFirst) {
  return {{"good.bl.test", goodZone(listFirst)},
          {"refuse.bl.test", "* A 127.255.255.254\n"},
          {"wild.bl.test", "* A 127.0.0.2\n"},
          {"outside.bl.test", "2.0.0.127 A 127.0.0.2\n1.2.0.192 A 10.9.9.9\n"},
          {"dead.bl.test", "www A 192.0.2.80\n"},
          {"dbl.test",
           "test A 127.0.1.2\nexample.com A 127.0.1.2\nexample.com TXT \"domain listed\"\n"}};
}

std::string config(const TempDir& dir, const std::string& resolver) {
  return "agent:\n"
         "  state_db: " +
         dir.file("state.db") +
         "\n"
         "  textfile: " +
         dir.file("mxpulse.prom") +
         "\n"
         "  max_splay: 0s\n"
         "dns:\n"
         "  resolvers: [\"" +
         resolver +
         "\"]\n"
         "inventories:\n"
         "  senders:\n"
         "    kind: domains\n"
         "    items:\n"
         "      - domain: example.com\n"
         "        ips: [192.0.2.1, \"" +
         kV6 +
         "\"]\n"
         "jobs:\n"
         "  - name: blocklists\n"
         "    kind: dnsbl\n"
         "    every: 1h\n"
         "    timeout: 20s\n"
         "    params:\n"
         "      inventories: [senders]\n"
         "      ips: [192.0.2.2, 192.0.2.3, 192.0.2.4]\n"
         "      domains: [example.net]\n"
         "      attempt_timeout: 300ms\n"
         "      attempts: 2\n"
         "      zones:\n"
         "        - zone: good.bl.test\n"
         "          code_severity: {127.0.0.3: warning}\n"
         "        - refuse.bl.test\n"
         "        - wild.bl.test\n"
         "        - zone: outside.bl.test\n"
         "          ipv6: false\n"
         "        - dead.bl.test\n"
         "        - notserved.test\n"
         "        - zone: dbl.test\n"
         "          type: domain\n";
}

struct Line {
  std::string status, summary;
  Poco::JSON::Object::Ptr facts;
};

/// JSON Lines by "check target".
std::map<std::string, Line> parseLines(const std::string& out) {
  std::map<std::string, Line> lines;
  std::istringstream in(out);
  std::string text;
  Poco::JSON::Parser parser;
  while (std::getline(in, text)) {
    if (text.empty() || text[0] != '{') continue;
    auto o = parser.parse(text).extract<Poco::JSON::Object::Ptr>();
    parser.reset();
    lines[o->getValue<std::string>("check") + " " + o->getValue<std::string>("target")] =
        Line{o->getValue<std::string>("status"), o->getValue<std::string>("summary"),
             o->getObject("facts")};
  }
  return lines;
}

std::string status(std::map<std::string, Line>& lines, const std::string& key) {
  auto it = lines.find(key);
  return it == lines.end() ? "<missing>" : it->second.status;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dnsbl)

BOOST_AUTO_TEST_CASE(once_against_real_zones) {
  skipUnless(NsdServer::available(), "nsd is not installed");
  NsdServer nsd(zones(true));
  TempDir dir;
  writeFile(dir.file("agent.yaml"), config(dir, nsd.address()));
  auto r = runProcess({binary(), "--config", dir.file("agent.yaml"), "once", "--json"});
  BOOST_TEST(r.exitCode == 2, r.err);  // a listing on a critical zone
  auto lines = parseLines(r.out);

  BOOST_TEST(status(lines, "dnsbl_zone good.bl.test") == "ok");
  BOOST_TEST(status(lines, "dnsbl 192.0.2.1 good.bl.test") == "critical");
  auto& listed = lines["dnsbl 192.0.2.1 good.bl.test"];
  BOOST_REQUIRE(listed.facts);
  BOOST_TEST(listed.facts->getValue<bool>("listed"));
  BOOST_TEST(listed.facts->getValue<std::string>("code") == "127.0.0.2");
  BOOST_TEST(listed.facts->getValue<std::string>("ip") == "192.0.2.1");
  BOOST_TEST(listed.facts->getValue<std::string>("zone") == "good.bl.test");
  BOOST_TEST(listed.facts->getValue<std::string>("reason") ==
             "spam source, see https://bl.test/192.0.2.1");
  BOOST_TEST(status(lines, "dnsbl 192.0.2.2 good.bl.test") == "ok");
  BOOST_TEST(!lines["dnsbl 192.0.2.2 good.bl.test"].facts->getValue<bool>("listed"));
  // 127.255.255.254 on one target of a healthy zone: could not tell.
  BOOST_TEST(status(lines, "dnsbl 192.0.2.3 good.bl.test") == "unknown");
  BOOST_TEST(lines["dnsbl 192.0.2.3 good.bl.test"].facts->isNull("listed"));
  // IPv6 (nibbles), with a per-code severity.
  BOOST_TEST(status(lines, "dnsbl " + kV6 + " good.bl.test") == "warning");
  BOOST_TEST(lines["dnsbl " + kV6 + " good.bl.test"].facts->getValue<std::string>("reason") ==
             "v6 listed");

  // A list answering 127.255.255.254 to everything: the resolver is refused.
  BOOST_TEST(status(lines, "dnsbl_zone refuse.bl.test") == "warning");
  BOOST_TEST(lines["dnsbl_zone refuse.bl.test"].facts->getValue<std::string>("cause") ==
             "public_resolver");
  BOOST_TEST(status(lines, "dnsbl 192.0.2.1 refuse.bl.test") == "unknown");
  BOOST_TEST(lines["dnsbl 192.0.2.1 refuse.bl.test"].summary.find("public or open resolver") !=
             std::string::npos);
  // A wildcard list: 127.0.0.1 is listed, so nothing it says counts.
  BOOST_TEST(status(lines, "dnsbl_zone wild.bl.test") == "warning");
  BOOST_TEST(lines["dnsbl_zone wild.bl.test"].facts->getValue<std::string>("cause") == "wildcard");
  BOOST_TEST(status(lines, "dnsbl 192.0.2.2 wild.bl.test") == "unknown");
  // An answer outside 127/8 is an error, not a listing.
  BOOST_TEST(status(lines, "dnsbl_zone outside.bl.test") == "ok");
  BOOST_TEST(status(lines, "dnsbl 192.0.2.1 outside.bl.test") == "unknown");
  BOOST_TEST(status(lines, "dnsbl 192.0.2.2 outside.bl.test") == "ok");
  BOOST_TEST(lines.count("dnsbl " + kV6 + " outside.bl.test") == 0u);  // ipv6: false
  // No test point: a dead list or a resolver hiding listings.
  BOOST_TEST(status(lines, "dnsbl_zone dead.bl.test") == "warning");
  BOOST_TEST(lines["dnsbl_zone dead.bl.test"].facts->getValue<std::string>("cause") == "dead_list");
  // Not served: REFUSED from the resolver, a resolver error.
  BOOST_TEST(status(lines, "dnsbl_zone notserved.test") == "unknown");
  BOOST_TEST(status(lines, "dnsbl 192.0.2.1 notserved.test") == "unknown");
  // Domain zone: domains only, never IPs.
  BOOST_TEST(status(lines, "dnsbl_zone dbl.test") == "ok");
  BOOST_TEST(status(lines, "dnsbl example.com dbl.test") == "critical");
  BOOST_TEST(lines["dnsbl example.com dbl.test"].facts->getValue<std::string>("domain") ==
             "example.com");
  BOOST_TEST(status(lines, "dnsbl example.net dbl.test") == "ok");
  BOOST_TEST(lines.count("dnsbl 192.0.2.1 dbl.test") == 0u);
  BOOST_TEST(lines.count("dnsbl example.com good.bl.test") == 0u);

  // Metrics: listed 1/0 for known outcomes, unknowns as their own series.
  std::string prom = readFile(dir.file("mxpulse.prom"));
  BOOST_TEST(prom.find("mxpulse_dnsbl_listed{job=\"blocklists\",target=\"192.0.2.1\",zone=\"good."
                       "bl.test\"} 1") != std::string::npos,
             prom);
  BOOST_TEST(prom.find("mxpulse_dnsbl_listed{job=\"blocklists\",target=\"192.0.2.2\",zone=\"good."
                       "bl.test\"} 0") != std::string::npos);
  BOOST_TEST(prom.find("mxpulse_dnsbl_unknown{job=\"blocklists\",target=\"192.0.2.3\",zone=\"good."
                       "bl.test\"} 1") != std::string::npos);
  BOOST_TEST(prom.find("target=\"192.0.2.3\",zone=\"good.bl.test\"} 0") == std::string::npos);
  BOOST_TEST(prom.find("mxpulse_dnsbl_zone_healthy{job=\"blocklists\",zone=\"wild.bl.test\"} 0") !=
             std::string::npos);
  BOOST_TEST(
      prom.find("mxpulse_dnsbl_zone_listed_targets{job=\"blocklists\",zone=\"good.bl.test\"} 3") !=
      std::string::npos);
  if (!system("command -v promtool >/dev/null 2>&1")) {
    auto lint = runProcess({"sh", "-c", "promtool check metrics < " + dir.file("mxpulse.prom")});
    BOOST_TEST(lint.exitCode == 0, lint.out << lint.err);
  }

  // `status` shows the listings with their start.
  auto st = runProcess({binary(), "--config", dir.file("agent.yaml"), "status"});
  BOOST_TEST(st.out.find("CRITICAL blocklists/dnsbl 192.0.2.1 good.bl.test") != std::string::npos,
             st.out);
  BOOST_TEST(st.out.find("(since ") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(listing_history_across_two_runs) {
  skipUnless(NsdServer::available(), "nsd is not installed");
  TempDir dir;
  {
    NsdServer nsd(zones(true));
    writeFile(dir.file("agent.yaml"), config(dir, nsd.address()));
    auto r = runProcess({binary(), "--config", dir.file("agent.yaml"), "once"});
    BOOST_TEST(r.exitCode == 2, r.out << r.err);
  }
  {
    NsdServer nsd(zones(false));  // 192.0.2.1 was delisted; 192.0.2.4 still listed
    writeFile(dir.file("agent.yaml"), config(dir, nsd.address()));
    auto r = runProcess({binary(), "--config", dir.file("agent.yaml"), "once"});
    BOOST_TEST(r.exitCode == 2, r.out << r.err);
  }
  SqliteDb db;
  std::string error;
  BOOST_REQUIRE(db.open(dir.file("state.db"), SqliteDb::Mode::ReadOnly, error));
  SqliteStmt q = db.prepare(
      "SELECT target, zone, listed_since, delisted_at, state, code FROM v_dnsbl_listings "
      "WHERE job = 'blocklists' ORDER BY target, zone",
      error);
  BOOST_REQUIRE_MESSAGE(static_cast<bool>(q), error);
  std::map<std::string, std::vector<std::string>> rows;
  std::int64_t firstSince = 0, delisted = 0;
  while (q.step() == SQLITE_ROW) {
    std::string key = q.text(0) + " " + q.text(1);
    rows[key] = {q.text(4), q.text(5)};
    if (key == "192.0.2.1 good.bl.test") {
      firstSince = q.int64(2);
      delisted = q.isNull(3) ? 0 : q.int64(3);
    }
  }
  BOOST_TEST(rows["192.0.2.1 good.bl.test"] == (std::vector<std::string>{"delisted", "127.0.0.2"}));
  BOOST_TEST(delisted >= firstSince);
  BOOST_TEST(firstSince > 0);
  BOOST_TEST(rows["192.0.2.4 good.bl.test"] == (std::vector<std::string>{"listed", "127.0.0.2"}));
  BOOST_TEST(rows["example.com dbl.test"] == (std::vector<std::string>{"listed", "127.0.1.2"}));
  // Unknowns (refused, wildcard zones) never open an episode.
  BOOST_TEST(rows.count("192.0.2.1 refuse.bl.test") == 0u);
  BOOST_TEST(rows.count("192.0.2.1 wild.bl.test") == 0u);
  BOOST_TEST(rows.count("192.0.2.3 good.bl.test") == 0u);
  // Exactly one episode each: the second run extended, it did not reopen.
  SqliteStmt n = db.prepare(
      "SELECT COUNT(*) FROM dnsbl_listings WHERE target = '192.0.2.4 good.bl.test'", error);
  BOOST_REQUIRE(n.step() == SQLITE_ROW);
  BOOST_TEST(n.int64(0) == 1);
}

BOOST_AUTO_TEST_CASE(adhoc_check) {
  skipUnless(NsdServer::available(), "nsd is not installed");
  NsdServer nsd(zones(true));
  auto r = runProcess({binary(), "check", "dnsbl", "192.0.2.1", "192.0.2.2", "example.com",
                       "--zone", "good.bl.test", "--domain-zone", "dbl.test", "--resolver",
                       nsd.address(), "--json"});
  BOOST_TEST(r.exitCode == 2, r.out << r.err);
  auto lines = parseLines(r.out);
  BOOST_TEST(status(lines, "dnsbl 192.0.2.1 good.bl.test") == "critical");
  BOOST_TEST(status(lines, "dnsbl 192.0.2.2 good.bl.test") == "ok");
  BOOST_TEST(status(lines, "dnsbl example.com dbl.test") == "critical");
  BOOST_TEST(status(lines, "dnsbl_zone dbl.test") == "ok");
  BOOST_TEST(lines.size() == 5u);

  auto clean = runProcess({binary(), "check", "dnsbl", "192.0.2.2", "--zone", "good.bl.test",
                           "--resolver", nsd.address()});
  BOOST_TEST(clean.exitCode == 0, clean.out << clean.err);
  BOOST_TEST(clean.out.find("192.0.2.2 is not listed on good.bl.test") != std::string::npos,
             clean.out);

  auto usage = runProcess({binary(), "check", "dnsbl"});
  BOOST_TEST(usage.exitCode == 64);
  auto badFlag = runProcess({binary(), "check", "dnsbl", "192.0.2.1", "--zonee", "x.test"});
  BOOST_TEST(badFlag.exitCode == 64);
}

BOOST_AUTO_TEST_CASE(silent_resolver_gives_unknown_not_clean) {
  FakeDnsServer silent([](const DnsQuery&) { return std::vector<FakePacket>{}; });
  BOOST_REQUIRE(!silent.address().empty());
  auto r = runProcess({binary(), "check", "dnsbl", "192.0.2.1", "--zone", "zen.spamhaus.org",
                       "--resolver", silent.address(), "--timeout", "3s", "--json"});
  BOOST_TEST(r.exitCode == 3, r.out << r.err);
  auto lines = parseLines(r.out);
  BOOST_TEST(status(lines, "dnsbl_zone zen.spamhaus.org") == "unknown");
  BOOST_TEST(status(lines, "dnsbl 192.0.2.1 zen.spamhaus.org") == "unknown");
  BOOST_TEST(lines["dnsbl_zone zen.spamhaus.org"].summary.find("timeout") != std::string::npos,
             lines["dnsbl_zone zen.spamhaus.org"].summary);
  BOOST_TEST(silent.udpQueries() >= 2);  // both test points were asked
}

BOOST_AUTO_TEST_SUITE_END()
