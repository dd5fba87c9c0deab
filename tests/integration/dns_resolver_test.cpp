// SPDX-License-Identifier: Apache-2.0
// The DNS engine against a real NSD on loopback, and against a scripted
// responder for what NSD will never do (wrong ids, strangers, garbage,
// silence, TC=1 then TCP, SERVFAIL, FORMERR to EDNS).
#include <boost/test/unit_test.hpp>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "probes/ldns_resolver.hpp"
#include "tests/support/fake_dns.hpp"
#include "tests/support/nsd_server.hpp"

using namespace mxpulse;
using namespace mxpulse::probes;
using namespace std::chrono_literals;

namespace {

/// Collects callbacks from the I/O thread.
struct Collector {
  std::mutex m;
  std::condition_variable cv;
  std::vector<DnsAnswer> answers;
  std::map<std::string, DnsAnswer> byName;

  DnsCallback callback(const std::string& tag = "") {
    return [this, tag](const DnsAnswer& a) {
      std::lock_guard<std::mutex> lock(m);
      answers.push_back(a);
      if (!tag.empty()) byName[tag] = a;
      cv.notify_all();
    };
  }
  bool waitFor(size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(m);
    return cv.wait_for(lock, timeout, [&] { return answers.size() >= n; });
  }
  size_t count() {
    std::lock_guard<std::mutex> lock(m);
    return answers.size();
  }
};

DnsResolverOptions optionsFor(std::vector<std::string> servers) {
  DnsResolverOptions o;
  o.servers = std::move(servers);
  o.attemptTimeout = 300ms;
  o.attempts = 3;
  return o;
}

int st(DnsStatus s) {
  return static_cast<int>(s);
}

std::vector<test::FakePacket> one(std::vector<std::uint8_t> bytes) {
  std::vector<test::FakePacket> v;
  v.push_back(test::FakePacket{std::move(bytes), false, 0});
  return v;
}

test::DnsReplySpec aRecord(const std::string& name, const std::string& ip) {
  return test::DnsReplySpec(0, false, {name + ". 60 IN A " + ip});
}

const char* kZone = R"(
www      IN A     192.0.2.10
www      IN AAAA  2001:db8::10
@        IN MX    10 mx1
mx1      IN A     192.0.2.25
@        IN TXT   "v=spf1 ip4:192.0.2.0/24 " "include:_spf.example.test " "-all"
alias    IN CNAME www
alias2   IN CNAME alias
away     IN CNAME host.other.test.
)";

}  // namespace

BOOST_AUTO_TEST_SUITE(dns_resolver)

BOOST_AUTO_TEST_CASE(records_from_a_real_nsd) {
  test::skipUnless(test::NsdServer::available(), "nsd is not installed");
  test::NsdServer nsd({{"example.test", kZone},
                       {"other.test", "host IN A 192.0.2.99\n"},
                       {"2.0.192.in-addr.arpa", "10 IN PTR www.example.test.\n"}});
  auto r = makeDnsResolver(optionsFor({nsd.address()}));
  auto dl = Deadline::in(5s);

  DnsAnswer a = r->resolve("www.example.test", RrType::A, dl);
  BOOST_TEST(st(a.status) == st(DnsStatus::Ok));
  BOOST_TEST(a.addresses == std::vector<std::string>{"192.0.2.10"});
  BOOST_TEST(a.ttl == 300u);
  BOOST_TEST(a.server == nsd.address());

  DnsAnswer aaaa = r->resolve("WWW.Example.Test.", RrType::AAAA, dl);
  BOOST_TEST(aaaa.addresses == std::vector<std::string>{"2001:db8::10"});

  DnsAnswer txt = r->resolve("example.test", RrType::TXT, dl);
  BOOST_REQUIRE(txt.txt.size() == 1);
  BOOST_TEST(txt.txt[0] == "v=spf1 ip4:192.0.2.0/24 include:_spf.example.test -all");

  DnsAnswer mx = r->resolve("example.test", RrType::MX, dl);
  BOOST_REQUIRE(mx.mx.size() == 1);
  BOOST_TEST(mx.mx[0].exchange == "mx1.example.test");

  DnsAnswer ptr = r->resolve(ptrName("192.0.2.10"), RrType::PTR, dl);
  BOOST_TEST(ptr.names == std::vector<std::string>{"www.example.test"});

  DnsAnswer chain = r->resolve("alias2.example.test", RrType::A, dl);
  BOOST_TEST(st(chain.status) == st(DnsStatus::Ok));
  BOOST_TEST(chain.cnameChain ==
             (std::vector<std::string>{"alias.example.test", "www.example.test"}));
  BOOST_TEST(chain.addresses == std::vector<std::string>{"192.0.2.10"});

  // NSD does not chase a CNAME into another zone: the engine asks again.
  DnsAnswer away = r->resolve("away.example.test", RrType::A, dl);
  BOOST_TEST(st(away.status) == st(DnsStatus::Ok));
  BOOST_TEST(away.cnameChain == std::vector<std::string>{"host.other.test"});
  BOOST_TEST(away.addresses == std::vector<std::string>{"192.0.2.99"});

  DnsAnswer nx = r->resolve("nope.example.test", RrType::A, dl);
  BOOST_TEST(st(nx.status) == st(DnsStatus::NxDomain));
  BOOST_TEST(nx.rcode == 3);
  DnsAnswer nodata = r->resolve("mx1.example.test", RrType::TXT, dl);
  BOOST_TEST(st(nodata.status) == st(DnsStatus::NoData));
  // NSD is not authoritative for this name: it refuses.
  DnsAnswer refused = r->resolve("example.org", RrType::A, dl);
  BOOST_TEST(st(refused.status) == st(DnsStatus::Refused));
}

BOOST_AUTO_TEST_CASE(hundreds_in_flight_against_nsd) {
  test::skipUnless(test::NsdServer::available(), "nsd is not installed");
  std::string zone;
  for (int i = 0; i < 700; ++i)
    zone += "h" + std::to_string(i) + " IN A 10.1." + std::to_string(i / 256) + "." +
            std::to_string(i % 256) + "\n";
  test::NsdServer nsd({{"bulk.test", zone}});
  auto r = makeDnsResolver(optionsFor({nsd.address()}));
  Collector c;
  for (int i = 0; i < 700; ++i)
    r->query("h" + std::to_string(i) + ".bulk.test", RrType::A, Deadline::in(10s),
             c.callback(std::to_string(i)));
  BOOST_REQUIRE(c.waitFor(700, 15s));
  for (int i = 0; i < 700; ++i) {
    const DnsAnswer& a = c.byName[std::to_string(i)];
    BOOST_TEST(st(a.status) == st(DnsStatus::Ok), "h" << i << ": " << a.error);
    BOOST_TEST(a.addresses == std::vector<std::string>{"10.1." + std::to_string(i / 256) + "." +
                                                       std::to_string(i % 256)});
  }
}

BOOST_AUTO_TEST_CASE(a_batch_is_answered_once_per_question) {
  test::skipUnless(test::NsdServer::available(), "nsd is not installed");
  std::string zone;
  for (int i = 0; i < 600; ++i)
    zone += "h" + std::to_string(i) + " IN A 10.2.0." + std::to_string(i % 256) + "\n";
  test::NsdServer nsd({{"batch.test", zone}});
  DnsResolverOptions o = optionsFor({nsd.address()});
  o.maxInFlight = 50;  // the batch is twelve times that: the engine paces it
  auto r = makeDnsResolver(o);
  std::vector<DnsQuestion> qs;
  for (int i = 0; i < 600; ++i) qs.push_back({"h" + std::to_string(i) + ".batch.test", RrType::A});
  qs.push_back({"missing.batch.test", RrType::A});
  qs.push_back({std::string(70, 'a') + ".batch.test", RrType::A});  // a label over 63 bytes
  qs.push_back({"h1.batch.test", RrType::A});                       // asked twice in one batch
  std::mutex m;
  std::condition_variable cv;
  std::vector<int> calls(qs.size(), 0);
  std::vector<DnsAnswer> answers(qs.size());
  size_t done = 0;
  r->queryMany(qs, Deadline::in(10s), [&](size_t i, const DnsAnswer& a) {
    std::lock_guard<std::mutex> lock(m);
    ++calls.at(i);
    answers[i] = a;
    ++done;
    cv.notify_all();
  });
  {
    std::unique_lock<std::mutex> lock(m);
    BOOST_REQUIRE(cv.wait_for(lock, 15s, [&] { return done >= qs.size(); }));
  }
  std::this_thread::sleep_for(100ms);  // a second call for any index would land by now
  std::lock_guard<std::mutex> lock(m);
  BOOST_TEST(done == qs.size());
  for (size_t i = 0; i < qs.size(); ++i) BOOST_TEST(calls[i] == 1, "question " << i);
  for (int i = 0; i < 600; ++i) {
    BOOST_TEST(st(answers[i].status) == st(DnsStatus::Ok), "h" << i << ": " << answers[i].error);
    BOOST_TEST(answers[i].addresses ==
               std::vector<std::string>{"10.2.0." + std::to_string(i % 256)});
  }
  BOOST_TEST(st(answers[600].status) == st(DnsStatus::NxDomain));
  BOOST_TEST(st(answers[601].status) == st(DnsStatus::Malformed));
  BOOST_TEST(answers[602].addresses == std::vector<std::string>{"10.2.0.1"});
}

BOOST_AUTO_TEST_CASE(cache_outlives_the_server) {
  test::skipUnless(test::NsdServer::available(), "nsd is not installed");
  auto nsd = std::make_unique<test::NsdServer>(test::NsdServer::Zones{{"example.test", kZone}});
  auto r = makeDnsResolver(optionsFor({nsd->address()}));
  BOOST_TEST(st(r->resolve("www.example.test", RrType::A, Deadline::in(5s)).status) ==
             st(DnsStatus::Ok));
  BOOST_TEST(st(r->resolve("gone.example.test", RrType::A, Deadline::in(5s)).status) ==
             st(DnsStatus::NxDomain));
  nsd.reset();  // the server is gone: only the cache can answer now
  DnsAnswer cached = r->resolve("www.example.test", RrType::A, Deadline::in(5s));
  BOOST_TEST(st(cached.status) == st(DnsStatus::Ok));
  BOOST_TEST(cached.addresses == std::vector<std::string>{"192.0.2.10"});
  BOOST_TEST(cached.ttl <= 300u);
  // Negative answers are cached for the SOA's negative TTL (60 s here).
  BOOST_TEST(st(r->resolve("gone.example.test", RrType::A, Deadline::in(5s)).status) ==
             st(DnsStatus::NxDomain));
  DnsAnswer uncached = r->resolve("mx1.example.test", RrType::A, Deadline::in(3s));
  BOOST_TEST(isTemporaryFailure(uncached.status));
}

BOOST_AUTO_TEST_CASE(wrong_id_and_wrong_address_are_ignored) {
  test::FakeDnsServer fake([](const test::DnsQuery& q) {
    std::vector<test::FakePacket> out;
    auto wrongId = aRecord(q.name, "6.6.6.6");
    wrongId.idDelta = 1;
    out.push_back({test::buildDnsReply(q.wire, wrongId), false, 0});
    // The right id and question, but from another port: a stranger.
    out.push_back({test::buildDnsReply(q.wire, aRecord(q.name, "6.6.6.7")), true, 10});
    out.push_back({test::buildDnsReply(q.wire, aRecord(q.name, "192.0.2.1")), false, 60});
    return out;
  });
  BOOST_REQUIRE(!fake.address().empty());
  auto r = makeDnsResolver(optionsFor({fake.address()}));
  DnsAnswer a = r->resolve("spoof.test", RrType::A, Deadline::in(5s));
  BOOST_TEST(st(a.status) == st(DnsStatus::Ok));
  BOOST_TEST(a.addresses == std::vector<std::string>{"192.0.2.1"});
  BOOST_TEST(fake.udpQueries() == 1);
}

BOOST_AUTO_TEST_CASE(reply_to_another_question_is_malformed) {
  test::FakeDnsServer fake([](const test::DnsQuery& q) {
    auto spec = aRecord("other.test", "6.6.6.6");
    spec.questionName = "other.test.";
    return one(test::buildDnsReply(q.wire, spec));
  });
  auto r = makeDnsResolver(optionsFor({fake.address()}));
  DnsAnswer a = r->resolve("asked.test", RrType::A, Deadline::in(5s));
  BOOST_TEST(st(a.status) == st(DnsStatus::Malformed));
  BOOST_TEST(a.addresses.empty());
  BOOST_TEST(fake.udpQueries() == 3);  // every attempt got the same bad reply
}

BOOST_AUTO_TEST_CASE(garbage_and_truncated_packets_are_malformed) {
  test::FakeDnsServer fake([](const test::DnsQuery& q) {
    auto good = test::buildDnsReply(q.wire, aRecord(q.name, "192.0.2.1"));
    std::vector<test::FakePacket> out;
    if (q.name == "garbage.test") {
      std::vector<std::uint8_t> junk(40, 0xff);
      junk[0] = good[0];
      junk[1] = good[1];  // the right id, so it is matched and parsed
      out.push_back({junk, false, 0});
    } else {
      good.resize(good.size() - 3);
      out.push_back({good, false, 0});
    }
    return out;
  });
  auto r = makeDnsResolver(optionsFor({fake.address()}));
  DnsAnswer garbage = r->resolve("garbage.test", RrType::A, Deadline::in(5s));
  BOOST_TEST(st(garbage.status) == st(DnsStatus::Malformed));
  DnsAnswer cut = r->resolve("cut.test", RrType::A, Deadline::in(5s));
  BOOST_TEST(st(cut.status) == st(DnsStatus::Malformed));
  BOOST_TEST(cut.error.find("does not parse") != std::string::npos, cut.error);
}

BOOST_AUTO_TEST_CASE(silent_server_times_out_once_by_the_deadline) {
  test::FakeDnsServer fake([](const test::DnsQuery&) { return std::vector<test::FakePacket>{}; });
  DnsResolverOptions o = optionsFor({fake.address()});
  o.attemptTimeout = 200ms;
  o.attempts = 5;
  auto r = makeDnsResolver(o);
  Collector c;
  auto start = std::chrono::steady_clock::now();
  r->query("silent.test", RrType::A, Deadline::in(1s), c.callback());
  BOOST_REQUIRE(c.waitFor(1, 5s));
  auto took = std::chrono::steady_clock::now() - start;
  BOOST_TEST(st(c.answers[0].status) == st(DnsStatus::Timeout));
  BOOST_TEST((took >= 1s));  // not before the deadline ...
  // ... and exactly once, even after the remaining attempts would have run.
  std::this_thread::sleep_for(800ms);
  BOOST_TEST(c.count() == 1u);
  // Retries backed off: 200 ms, 400 ms, then 800 ms (cut by the deadline).
  BOOST_TEST(fake.udpQueries() == 3);
}

BOOST_AUTO_TEST_CASE(all_attempts_time_out_before_a_long_deadline) {
  test::FakeDnsServer fake([](const test::DnsQuery&) { return std::vector<test::FakePacket>{}; });
  DnsResolverOptions o = optionsFor({fake.address()});
  o.attemptTimeout = 100ms;
  o.attempts = 2;
  auto r = makeDnsResolver(o);
  DnsAnswer a = r->resolve("silent.test", RrType::A, Deadline::in(30s));
  BOOST_TEST(st(a.status) == st(DnsStatus::Timeout));
  BOOST_TEST(a.server == fake.address());
  BOOST_TEST(fake.udpQueries() == 2);
}

BOOST_AUTO_TEST_CASE(truncated_udp_reply_moves_to_tcp) {
  auto bigTxt = [](const test::DnsQuery& q) {
    std::vector<std::string> rrs;
    for (int i = 0; i < 40; ++i)
      rrs.push_back(q.name + ". 60 IN TXT \"record " + std::to_string(i) + " " +
                    std::string(200, 'x') + "\"");
    return test::buildDnsReply(q.wire, test::DnsReplySpec(0, false, rrs));
  };
  test::FakeDnsServer fake(
      [](const test::DnsQuery& q) {
        return one(test::buildDnsReply(q.wire, test::DnsReplySpec(0, true)));
      },
      bigTxt);
  auto r = makeDnsResolver(optionsFor({fake.address()}));
  DnsAnswer a = r->resolve("big.test", RrType::TXT, Deadline::in(5s));
  BOOST_TEST(st(a.status) == st(DnsStatus::Ok), a.error);
  BOOST_TEST(a.txt.size() == 40u);
  BOOST_TEST(fake.udpQueries() == 1);
  BOOST_TEST(fake.tcpQueries() == 1);
}

BOOST_AUTO_TEST_CASE(tcp_that_closes_early_is_a_network_error) {
  test::FakeDnsServer fake(
      [](const test::DnsQuery& q) {
        return one(test::buildDnsReply(q.wire, test::DnsReplySpec(0, true)));
      },
      [](const test::DnsQuery&) { return std::vector<std::uint8_t>{}; });
  DnsResolverOptions o = optionsFor({fake.address()});
  o.attempts = 2;
  auto r = makeDnsResolver(o);
  DnsAnswer a = r->resolve("big.test", RrType::TXT, Deadline::in(5s));
  BOOST_TEST(st(a.status) == st(DnsStatus::NetworkError));
  BOOST_TEST(fake.tcpQueries() == 2);
}

BOOST_AUTO_TEST_CASE(servfail_moves_on_to_the_next_server) {
  test::FakeDnsServer failing([](const test::DnsQuery& q) {
    return one(test::buildDnsReply(q.wire, test::DnsReplySpec(2, false)));
  });
  test::FakeDnsServer working([](const test::DnsQuery& q) {
    return one(test::buildDnsReply(q.wire, aRecord(q.name, "192.0.2.2")));
  });
  auto r = makeDnsResolver(optionsFor({failing.address(), working.address()}));
  DnsAnswer a = r->resolve("x.test", RrType::A, Deadline::in(5s));
  BOOST_TEST(st(a.status) == st(DnsStatus::Ok));
  BOOST_TEST(a.server == working.address());

  auto only = makeDnsResolver(optionsFor({failing.address()}));
  DnsAnswer sf = only->resolve("y.test", RrType::A, Deadline::in(5s));
  BOOST_TEST(st(sf.status) == st(DnsStatus::ServFail));
  BOOST_TEST(sf.rcode == 2);
}

BOOST_AUTO_TEST_CASE(refused_is_final_with_one_server) {
  test::FakeDnsServer refusing([](const test::DnsQuery& q) {
    return one(test::buildDnsReply(q.wire, test::DnsReplySpec(5, false)));
  });
  auto r = makeDnsResolver(optionsFor({refusing.address()}));
  DnsAnswer a = r->resolve("x.test", RrType::A, Deadline::in(5s));
  BOOST_TEST(st(a.status) == st(DnsStatus::Refused));
  BOOST_TEST(refusing.udpQueries() == 1);
}

BOOST_AUTO_TEST_CASE(second_server_after_a_silent_first) {
  test::FakeDnsServer silent([](const test::DnsQuery&) { return std::vector<test::FakePacket>{}; });
  test::FakeDnsServer working([](const test::DnsQuery& q) {
    return one(test::buildDnsReply(q.wire, aRecord(q.name, "192.0.2.3")));
  });
  DnsResolverOptions o = optionsFor({silent.address(), working.address()});
  o.attemptTimeout = 100ms;
  auto r = makeDnsResolver(o);
  DnsAnswer a = r->resolve("x.test", RrType::A, Deadline::in(5s));
  BOOST_TEST(st(a.status) == st(DnsStatus::Ok));
  BOOST_TEST(a.server == working.address());
}

BOOST_AUTO_TEST_CASE(identical_questions_share_one_query) {
  test::FakeDnsServer slow([](const test::DnsQuery& q) {
    std::vector<test::FakePacket> out;
    out.push_back({test::buildDnsReply(q.wire, aRecord(q.name, "192.0.2.4")), false, 200});
    return out;
  });
  DnsResolverOptions o = optionsFor({slow.address()});
  o.attemptTimeout = 2s;
  auto r = makeDnsResolver(o);
  Collector c;
  for (int i = 0; i < 50; ++i)
    r->query(i % 2 ? "Same.Test" : "same.test.", RrType::A, Deadline::in(5s), c.callback());
  BOOST_REQUIRE(c.waitFor(50, 5s));
  for (const auto& a : c.answers) BOOST_TEST(a.addresses == std::vector<std::string>{"192.0.2.4"});
  BOOST_TEST(slow.udpQueries() == 1);
}

BOOST_AUTO_TEST_CASE(cname_follow_ups_are_bounded) {
  test::FakeDnsServer fake([](const test::DnsQuery& q) {
    std::string target = q.name == "start.test"    ? "middle.test"
                         : q.name == "middle.test" ? ""
                         : q.name == "loop1.test"  ? "loop2.test"
                         : q.name == "loop2.test"  ? "loop1.test"
                                                   : "";
    if (target.empty()) return one(test::buildDnsReply(q.wire, aRecord(q.name, "192.0.2.5")));
    return one(test::buildDnsReply(
        q.wire, test::DnsReplySpec(0, false, {q.name + ". 60 IN CNAME " + target + "."})));
  });
  auto r = makeDnsResolver(optionsFor({fake.address()}));
  DnsAnswer a = r->resolve("start.test", RrType::A, Deadline::in(5s));
  BOOST_TEST(st(a.status) == st(DnsStatus::Ok));
  BOOST_TEST(a.cnameChain == std::vector<std::string>{"middle.test"});
  BOOST_TEST(a.addresses == std::vector<std::string>{"192.0.2.5"});
  int before = fake.udpQueries();
  DnsAnswer loop = r->resolve("loop1.test", RrType::A, Deadline::in(5s));
  BOOST_TEST(st(loop.status) == st(DnsStatus::Malformed));
  BOOST_TEST(fake.udpQueries() - before == 9);  // the question, then 8 follow-ups
}

BOOST_AUTO_TEST_CASE(formerr_to_edns_retries_without_it) {
  test::FakeDnsServer old([](const test::DnsQuery& q) {
    if (q.edns) return one(test::buildDnsReply(q.wire, test::DnsReplySpec(1, false)));
    return one(test::buildDnsReply(q.wire, aRecord(q.name, "192.0.2.6")));
  });
  auto r = makeDnsResolver(optionsFor({old.address()}));
  DnsAnswer a = r->resolve("old.test", RrType::A, Deadline::in(5s));
  BOOST_TEST(st(a.status) == st(DnsStatus::Ok));
  auto qs = old.queries();
  BOOST_REQUIRE(qs.size() == 2u);
  BOOST_TEST(qs[0].edns);
  BOOST_TEST(!qs[1].edns);
}

BOOST_AUTO_TEST_CASE(rate_limit_spaces_queries_to_a_zone) {
  test::FakeDnsServer fake([](const test::DnsQuery& q) {
    return one(test::buildDnsReply(q.wire, aRecord(q.name, "127.0.0.2")));
  });
  DnsResolverOptions o = optionsFor({fake.address()});
  o.ratePerZone = 20;
  o.rateLimitedZones = {"bl.test"};
  auto r = makeDnsResolver(o);
  Collector c;
  for (int i = 0; i < 24; ++i)
    r->query(std::to_string(i) + ".bl.test", RrType::A, Deadline::in(10s), c.callback());
  BOOST_REQUIRE(c.waitFor(24, 10s));
  for (const auto& a : c.answers) BOOST_TEST(st(a.status) == st(DnsStatus::Ok));
  auto arrivals = fake.arrivals();
  BOOST_REQUIRE(arrivals.size() == 24u);
  // A burst of 4 (a fifth of a second), then 20 more at 20/s: at least ~1 s.
  // Only a lower bound: a slow machine cannot make this fail.
  BOOST_TEST((arrivals.back() - arrivals.front() >= 950ms));
}

BOOST_AUTO_TEST_CASE(ipv6_server) {
  test::FakeDnsServer fake(
      [](const test::DnsQuery& q) {
        return one(test::buildDnsReply(q.wire, aRecord(q.name, "192.0.2.8")));
      },
      nullptr, "::1");
  test::skipUnless(!fake.address().empty(), "no IPv6 loopback");
  auto r = makeDnsResolver(optionsFor({fake.address()}));
  DnsAnswer a = r->resolve("v6.test", RrType::A, Deadline::in(5s));
  BOOST_TEST(st(a.status) == st(DnsStatus::Ok));
  BOOST_TEST(a.server == fake.address());
}

BOOST_AUTO_TEST_CASE(destroying_the_resolver_answers_every_waiter) {
  test::FakeDnsServer silent([](const test::DnsQuery&) { return std::vector<test::FakePacket>{}; });
  Collector c;
  {
    auto r = makeDnsResolver(optionsFor({silent.address()}));
    for (int i = 0; i < 10; ++i)
      r->query("q" + std::to_string(i) + ".test", RrType::A, Deadline::in(60s), c.callback());
    BOOST_REQUIRE(test::eventually([&] { return silent.udpQueries() >= 10; }, 5s));
  }
  BOOST_TEST(c.count() == 10u);
  for (const auto& a : c.answers) BOOST_TEST(st(a.status) == st(DnsStatus::Timeout));
}

BOOST_AUTO_TEST_CASE(bad_input_fails_fast) {
  auto broken = makeDnsResolver(optionsFor({"resolver.example:53"}));
  DnsAnswer a = broken->resolve("x.test", RrType::A, Deadline::in(2s));
  BOOST_TEST(st(a.status) == st(DnsStatus::NetworkError));
  BOOST_TEST(checkResolverAddress("resolver.example:53") != "");
  BOOST_TEST(checkResolverAddress("[::1]:5353") == "");
  auto r = makeDnsResolver(optionsFor({"127.0.0.1:9"}));
  DnsAnswer bad = r->resolve(std::string(70, 'a') + ".test", RrType::A, Deadline::in(2s));
  BOOST_TEST(st(bad.status) == st(DnsStatus::Malformed));
  DnsAnswer late = r->resolve("x.test", RrType::A, Deadline::in(-1s));
  BOOST_TEST(st(late.status) == st(DnsStatus::Timeout));
}

BOOST_AUTO_TEST_SUITE_END()
