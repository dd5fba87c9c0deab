// SPDX-License-Identifier: Apache-2.0
// The pure parts of the DNS engine: addresses, query packets, reply
// parsing (question check, CNAME chains, hostile answers), token bucket.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <boost/test/unit_test.hpp>

#include "probes/dns_wire.hpp"
#include "tests/support/fake_dns.hpp"

using namespace mxpulse;
using namespace mxpulse::probes;
using namespace mxpulse::probes::dnswire;

namespace {

struct Asked {
  Question q;
  std::uint16_t id = 0x4242;
  std::vector<std::uint8_t> wire;
};

Asked ask(const std::string& name, RrType type) {
  Asked a;
  std::string error;
  BOOST_REQUIRE(makeQuestion(name, type, a.q, error));
  a.wire = buildQuery(a.q, a.id, true);
  BOOST_REQUIRE(!a.wire.empty());
  return a;
}

Reply answer(const Asked& a, const test::DnsReplySpec& spec) {
  auto bytes = test::buildDnsReply(a.wire, spec);
  return parseReply(bytes.data(), bytes.size(), a.id, a.q);
}

const char* kSoa = "example.com. 300 IN SOA ns.example.com. h.example.com. 1 3600 600 86400 60";

}  // namespace

BOOST_AUTO_TEST_SUITE(dns_wire)

BOOST_AUTO_TEST_CASE(server_addresses) {
  ServerAddress s;
  std::string error;
  BOOST_TEST(parseServerAddress("127.0.0.1:5300", s, error));
  BOOST_TEST(s.text == "127.0.0.1:5300");
  BOOST_TEST(s.family == AF_INET);
  BOOST_TEST(parseServerAddress("192.0.2.1", s, error));
  BOOST_TEST(s.text == "192.0.2.1:53");
  BOOST_TEST(parseServerAddress("[::1]:53", s, error));
  BOOST_TEST(s.text == "[::1]:53");
  BOOST_TEST(s.family == AF_INET6);
  BOOST_TEST(parseServerAddress("2001:db8::1", s, error));
  BOOST_TEST(s.text == "[2001:db8::1]:53");
  BOOST_TEST(!parseServerAddress("dns.example.com:53", s, error));
  BOOST_TEST(!parseServerAddress("127.0.0.1:0", s, error));
  BOOST_TEST(!parseServerAddress("127.0.0.1:65536", s, error));
  BOOST_TEST(!parseServerAddress("[::1", s, error));
  BOOST_TEST(!parseServerAddress("", s, error));
}

BOOST_AUTO_TEST_CASE(same_address_needs_address_and_port) {
  ServerAddress s;
  std::string error;
  BOOST_REQUIRE(parseServerAddress("127.0.0.1:5300", s, error));
  sockaddr_storage from{};
  auto* a = reinterpret_cast<sockaddr_in*>(&from);
  a->sin_family = AF_INET;
  a->sin_port = htons(5300);
  inet_pton(AF_INET, "127.0.0.1", &a->sin_addr);
  BOOST_TEST(sameAddress(from, sizeof(sockaddr_in), s));
  a->sin_port = htons(5301);
  BOOST_TEST(!sameAddress(from, sizeof(sockaddr_in), s));
  a->sin_port = htons(5300);
  inet_pton(AF_INET, "127.0.0.2", &a->sin_addr);
  BOOST_TEST(!sameAddress(from, sizeof(sockaddr_in), s));
}

BOOST_AUTO_TEST_CASE(names_are_normalised) {
  BOOST_TEST(normalizeName("WWW.Example.COM.") == "www.example.com");
  BOOST_TEST(normalizeName("example.com") == "example.com");
  BOOST_TEST(normalizeName(".") == "");
  Question q;
  std::string error;
  BOOST_TEST(!makeQuestion(std::string(64, 'a') + ".example.com", RrType::A, q, error));
  BOOST_TEST(makeQuestion(std::string(63, 'a') + ".example.com", RrType::A, q, error));
}

BOOST_AUTO_TEST_CASE(query_packet_has_one_question_and_edns) {
  Asked a = ask("Mail.Example.com.", RrType::TXT);
  test::DnsQuery parsed;
  BOOST_REQUIRE(test::parseDnsQuery(a.wire, parsed));
  BOOST_TEST(parsed.name == "mail.example.com");
  BOOST_TEST(parsed.type == 16);
  BOOST_TEST(parsed.id == 0x4242);
  BOOST_TEST(parsed.edns);
  auto plain = buildQuery(a.q, 7, false);
  BOOST_REQUIRE(test::parseDnsQuery(plain, parsed));
  BOOST_TEST(!parsed.edns);
  BOOST_TEST(parsed.id == 7);
}

BOOST_AUTO_TEST_CASE(query_bytes_equal_ldns_pkt2wire) {
  for (const char* name : {"example.com", "2.0.0.127.zen.spamhaus.org", ".", "a",
                           "_dmarc.Example.ORG.", "x.y.z.w.v.u.t.s.r.q.p.example"}) {
    for (RrType type : {RrType::A, RrType::TXT, RrType::AAAA, RrType::MX, RrType::PTR}) {
      for (bool edns : {true, false}) {
        Question q;
        std::string error;
        BOOST_REQUIRE(makeQuestion(name, type, q, error));
        for (std::uint16_t id : {0, 1, 0x1234, 0xffff})
          BOOST_TEST(buildQuery(q, id, edns) == buildQueryWithLdnsPacket(q, id, edns),
                     name << " " << rrTypeName(type) << " edns=" << edns << " id=" << id);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(a_records_and_smallest_ttl) {
  Asked a = ask("mx.example.com", RrType::A);
  Reply r = answer(a, {0,
                       false,
                       {"mx.example.com. 300 IN A 192.0.2.1", "mx.example.com. 60 IN A 192.0.2.2",
                        "other.example.com. 5 IN A 192.0.2.9"}});
  BOOST_TEST(static_cast<int>(r.kind) == static_cast<int>(ReplyKind::Answer));
  BOOST_TEST(static_cast<int>(r.answer.status) == static_cast<int>(DnsStatus::Ok));
  BOOST_TEST(r.answer.addresses == (std::vector<std::string>{"192.0.2.1", "192.0.2.2"}));
  BOOST_TEST(r.answer.ttl == 60u);  // the unrelated record's TTL does not count
  BOOST_TEST(r.answer.rcode == 0);
}

BOOST_AUTO_TEST_CASE(txt_strings_are_concatenated) {
  Asked a = ask("example.com", RrType::TXT);
  Reply r = answer(a, {0,
                       false,
                       {"example.com. 60 IN TXT \"v=spf1 ip4:192.0.2.0/24 \" \"-all\"",
                        "example.com. 60 IN TXT \"second\""}});
  BOOST_REQUIRE(r.answer.txt.size() == 2);
  BOOST_TEST(r.answer.txt[0] == "v=spf1 ip4:192.0.2.0/24 -all");
  BOOST_TEST(r.answer.txt[1] == "second");
}

BOOST_AUTO_TEST_CASE(mx_and_null_mx) {
  Asked a = ask("example.com", RrType::MX);
  Reply r = answer(
      a, {0, false, {"example.com. 60 IN MX 10 MX1.Example.com.", "example.com. 60 IN MX 0 ."}});
  BOOST_REQUIRE(r.answer.mx.size() == 2);
  BOOST_TEST(r.answer.mx[0].preference == 10);
  BOOST_TEST(r.answer.mx[0].exchange == "mx1.example.com");
  BOOST_TEST(r.answer.mx[1].exchange == "");
}

BOOST_AUTO_TEST_CASE(cname_chain_inside_the_answer) {
  Asked a = ask("www.example.com", RrType::A);
  Reply r = answer(a, {0,
                       false,
                       {"www.example.com. 300 IN CNAME web.example.com.",
                        "web.example.com. 120 IN CNAME host.example.net.",
                        "host.example.net. 200 IN A 192.0.2.7"}});
  BOOST_TEST(static_cast<int>(r.answer.status) == static_cast<int>(DnsStatus::Ok));
  BOOST_TEST(r.answer.cnameChain ==
             (std::vector<std::string>{"web.example.com", "host.example.net"}));
  BOOST_TEST(r.answer.addresses == std::vector<std::string>{"192.0.2.7"});
  BOOST_TEST(r.answer.ttl == 120u);
}

BOOST_AUTO_TEST_CASE(cname_alone_asks_for_a_follow_up) {
  Asked a = ask("www.example.com", RrType::A);
  Reply r = answer(a, {0, false, {"www.example.com. 300 IN CNAME host.example.net."}});
  BOOST_TEST(static_cast<int>(r.kind) == static_cast<int>(ReplyKind::FollowCname));
  BOOST_TEST(r.followName == "host.example.net");
  // With a negative proof (SOA) the chain ends in NODATA instead.
  Reply nodata = answer(a, {0, false, {"www.example.com. 300 IN CNAME host.example.com."}, {kSoa}});
  BOOST_TEST(static_cast<int>(nodata.answer.status) == static_cast<int>(DnsStatus::NoData));
  Reply nx = answer(a, {3, false, {"www.example.com. 300 IN CNAME host.example.com."}, {kSoa}});
  BOOST_TEST(static_cast<int>(nx.answer.status) == static_cast<int>(DnsStatus::NxDomain));
  BOOST_TEST(nx.answer.cnameChain == std::vector<std::string>{"host.example.com"});
}

BOOST_AUTO_TEST_CASE(cname_loops_and_long_chains_are_malformed) {
  Asked a = ask("a.example.com", RrType::A);
  Reply loop = answer(a, {0,
                          false,
                          {"a.example.com. 60 IN CNAME b.example.com.",
                           "b.example.com. 60 IN CNAME a.example.com."}});
  BOOST_TEST(static_cast<int>(loop.kind) == static_cast<int>(ReplyKind::Malformed));
  BOOST_TEST(loop.answer.error == "CNAME loop");
  std::vector<std::string> chain;
  for (int i = 0; i < 10; ++i)
    chain.push_back((i == 0 ? std::string("a") : "c" + std::to_string(i)) +
                    ".example.com. 60 IN CNAME c" + std::to_string(i + 1) + ".example.com.");
  Reply longChain = answer(a, {0, false, chain});
  BOOST_TEST(static_cast<int>(longChain.kind) == static_cast<int>(ReplyKind::Malformed));
}

BOOST_AUTO_TEST_CASE(negative_answers_and_their_ttl) {
  Asked a = ask("nope.example.com", RrType::A);
  Reply nx = answer(a, {3, false, {}, {kSoa}});
  BOOST_TEST(static_cast<int>(nx.answer.status) == static_cast<int>(DnsStatus::NxDomain));
  BOOST_TEST(nx.negativeTtl == 60u);  // min(SOA TTL 300, minimum 60)
  Reply nodata = answer(a, {0, false, {}, {kSoa}});
  BOOST_TEST(static_cast<int>(nodata.answer.status) == static_cast<int>(DnsStatus::NoData));
  Reply bare = answer(a, {0, false, {}, {}});
  BOOST_TEST(static_cast<int>(bare.answer.status) == static_cast<int>(DnsStatus::NoData));
  BOOST_TEST(bare.negativeTtl == 0u);
}

BOOST_AUTO_TEST_CASE(error_rcodes_and_truncation) {
  Asked a = ask("example.com", RrType::A);
  BOOST_TEST(static_cast<int>(answer(a, {2, false, {}, {}}).kind) ==
             static_cast<int>(ReplyKind::ServFail));
  BOOST_TEST(static_cast<int>(answer(a, {5, false, {}, {}}).kind) ==
             static_cast<int>(ReplyKind::Refused));
  BOOST_TEST(static_cast<int>(answer(a, {1, false, {}, {}}).kind) ==
             static_cast<int>(ReplyKind::FormErr));
  BOOST_TEST(static_cast<int>(answer(a, {4, false, {}, {}}).kind) ==
             static_cast<int>(ReplyKind::OtherRcode));
  Reply tc = answer(a, {0, true, {}, {}});
  BOOST_TEST(static_cast<int>(tc.kind) == static_cast<int>(ReplyKind::Truncated));
  BOOST_TEST(static_cast<int>(answer(a, {5, false, {}, {}}).answer.status) ==
             static_cast<int>(DnsStatus::Refused));
}

BOOST_AUTO_TEST_CASE(replies_to_another_question_are_malformed) {
  Asked a = ask("example.com", RrType::A);
  test::DnsReplySpec wrongId{0, false, {"example.com. 60 IN A 192.0.2.1"}};
  wrongId.idDelta = 1;
  BOOST_TEST(static_cast<int>(answer(a, wrongId).kind) == static_cast<int>(ReplyKind::Malformed));
  test::DnsReplySpec wrongName{0, false, {"example.org. 60 IN A 192.0.2.1"}};
  wrongName.questionName = "example.org.";
  BOOST_TEST(static_cast<int>(answer(a, wrongName).kind) == static_cast<int>(ReplyKind::Malformed));
  // The same name in other letter case is the same question.
  test::DnsReplySpec upper{0, false, {"EXAMPLE.com. 60 IN A 192.0.2.1"}};
  upper.questionName = "EXAMPLE.COM.";
  BOOST_TEST(static_cast<int>(answer(a, upper).answer.status) == static_cast<int>(DnsStatus::Ok));
  // Another type: ask A, get a reply to MX.
  Asked mx = ask("example.com", RrType::MX);
  auto bytes = test::buildDnsReply(mx.wire, {0, false, {}});
  Reply r = parseReply(bytes.data(), bytes.size(), mx.id, a.q);
  BOOST_TEST(static_cast<int>(r.kind) == static_cast<int>(ReplyKind::Malformed));
  // The query itself (QR clear) is not a reply.
  Reply self = parseReply(a.wire.data(), a.wire.size(), a.id, a.q);
  BOOST_TEST(static_cast<int>(self.kind) == static_cast<int>(ReplyKind::Malformed));
}

BOOST_AUTO_TEST_CASE(garbage_truncated_and_compression_loops_are_malformed) {
  Asked a = ask("example.com", RrType::A);
  auto bytes = test::buildDnsReply(a.wire, {0, false, {"example.com. 60 IN A 192.0.2.1"}});
  for (size_t cut : {size_t(0), size_t(5), size_t(12), bytes.size() / 2, bytes.size() - 1}) {
    Reply r = parseReply(bytes.data(), cut, a.id, a.q);
    BOOST_TEST(static_cast<int>(r.kind) == static_cast<int>(ReplyKind::Malformed),
               "cut at " << cut);
    BOOST_TEST(static_cast<int>(r.answer.status) == static_cast<int>(DnsStatus::Malformed));
  }
  // Question "a.", then an answer whose owner is a pointer to itself.
  Asked la = ask("a", RrType::A);
  std::vector<std::uint8_t> loop = {0x42, 0x42, 0x81, 0x80, 0,  1, 0, 1,    0,  0, 0, 0,
                                    1,    'a',  0,    0,    1,  0, 1, 0xC0, 19, 0, 1, 0,
                                    1,    0,    0,    0,    60, 0, 4, 127,  0,  0, 2};
  Reply r = parseReply(loop.data(), loop.size(), la.id, la.q);
  BOOST_TEST(static_cast<int>(r.kind) == static_cast<int>(ReplyKind::Malformed));
}

BOOST_AUTO_TEST_CASE(huge_rrsets_are_capped) {
  Asked a = ask("big.example.com", RrType::A);
  std::vector<std::string> rrs;
  for (int i = 0; i < 600; ++i)
    rrs.push_back("big.example.com. 60 IN A 10.0." + std::to_string(i / 256) + "." +
                  std::to_string(i % 256));
  auto bytes = test::buildDnsReply(a.wire, {0, false, rrs});
  Reply r = parseReply(bytes.data(), bytes.size(), a.id, a.q);
  BOOST_TEST(static_cast<int>(r.answer.status) == static_cast<int>(DnsStatus::Ok));
  BOOST_TEST(r.answer.addresses.size() == 256u);
  BOOST_TEST(r.answer.error.find("cut to 256") != std::string::npos);
  ReplyLimits tight;
  tight.maxBytes = 100;
  Reply small = parseReply(bytes.data(), bytes.size(), a.id, a.q, tight);
  BOOST_TEST(small.answer.addresses.size() < 15u);
}

BOOST_AUTO_TEST_CASE(token_bucket_refills_at_its_rate) {
  using Clock = std::chrono::steady_clock;
  Clock::time_point t0{};
  TokenBucket b(10, 2, t0);
  BOOST_TEST(b.take(t0));
  BOOST_TEST(b.take(t0));
  BOOST_TEST(!b.take(t0));
  auto next = b.nextAvailable(t0);
  BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(next - t0).count() >= 99);
  BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(next - t0).count() <= 101);
  BOOST_TEST(!b.take(t0 + std::chrono::milliseconds(50)));
  BOOST_TEST(b.take(t0 + std::chrono::milliseconds(101)));
  // Idle time fills the bucket only up to its burst.
  Clock::time_point later = t0 + std::chrono::seconds(10);
  int taken = 0;
  while (b.take(later)) ++taken;
  BOOST_TEST(taken == 2);
}

BOOST_AUTO_TEST_CASE(zone_matching_on_label_boundaries) {
  std::vector<std::string> zones = {"zen.spamhaus.org", "spamhaus.org", "dbl.spamhaus.org"};
  BOOST_TEST(matchZone("2.0.0.127.zen.spamhaus.org", zones) == "zen.spamhaus.org");
  BOOST_TEST(matchZone("example.com.dbl.spamhaus.org", zones) == "dbl.spamhaus.org");
  BOOST_TEST(matchZone("x.sbl.spamhaus.org", zones) == "spamhaus.org");
  BOOST_TEST(matchZone("zen.spamhaus.org", zones) == "zen.spamhaus.org");
  BOOST_TEST(matchZone("notzen.spamhaus.org.evil", zones) == "");
  BOOST_TEST(matchZone("xzen.spamhaus.org", zones) == "spamhaus.org");
  BOOST_TEST(matchZone("anything", {}) == "");
}

BOOST_AUTO_TEST_CASE(reverse_names_for_dnsbl_queries) {
  BOOST_TEST(reverseName("192.0.2.99", "zen.spamhaus.org") == "99.2.0.192.zen.spamhaus.org");
  BOOST_TEST(reverseName("2001:db8::1", "zone") ==
             "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.zone");
  BOOST_TEST(reverseName("not-an-ip", "zone") == "");
}

BOOST_AUTO_TEST_SUITE_END()
